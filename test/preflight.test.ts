// The preflight (`npm run check`) against a fake `pulumi` CLI and fake Kubernetes, GitHub, Cloudflare and chart
// registry APIs on 127.0.0.1: a healthy world passes line by line, and each way a new user's setup goes wrong fails
// with one line that says what to do, within the time bound, without printing a secret.
// Speed: the fake CLI answers in-process through the preflight's runner seam (a few tests run the real spawn path);
// the bound is generous everywhere except where a fake never answers, so no result depends on the machine's speed.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";
import { renderLine, runPreflight, type CheckResult } from "../preflight";
import { chartCheck, MANIFEST_ACCEPT } from "../preflight/charts";
import { apiBase, testBase } from "../preflight/http";
import { parsePulumiVersion } from "../preflight/pulumi";
import { scrub } from "../preflight/result";
import { ownStack } from "../preflight/stack-config";
import { parseCheckArgs } from "../scripts/check";
import { closedPort } from "./fake-apis";
import { anonymousToken, SECRETS, world, type World } from "./preflight-fixture";
import { TEST_AGE_KEY, testKubeconfig } from "./harness";
import { FIXTURES } from "./gitops-fixtures";

let w: World;
const worlds: World[] = [];

async function fresh(): Promise<World> {
    w = await world();
    worlds.push(w);
    return w;
}

afterAll(async () => {
    await Promise.all(worlds.map((x) => x.close()));
});

/** A bound no healthy loopback call comes near, however busy the machine: only a fake that never answers reaches it. */
const GENEROUS_MS = 60_000;

/** Runs the preflight on the world; `spawn` runs the real `pulumi` path (the fake CLI script on PATH) instead of in-process. */
async function check(extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = GENEROUS_MS, opts: { spawn?: boolean } = {}) {
    w.save();
    const report = await runPreflight({ stack: w.scenario.stack, env: w.env(extraEnv), timeoutMs, ...(opts.spawn ? {} : { pulumi: w.pulumi }) });
    const results = report.sections.flatMap((s) => s.results);
    const lines = results.map(renderLine);
    // Whatever happened, no secret is printed.
    for (const secret of [...Object.values(SECRETS), TEST_AGE_KEY]) expect(lines.join("\n")).not.toContain(secret);
    return { report, results, lines, find: (title: string) => results.find((r) => r.title === title) };
}

const statuses = (results: CheckResult[]) => results.map((r) => `${r.status} ${r.title}`);

describe("a healthy setup", () => {
    beforeEach(fresh);

    it("passes every check, in order, one line each", async () => {
        const { report, results, lines } = await check();
        expect(report.failures, lines.join("\n")).toBe(0);
        expect(statuses(results)).toEqual([
            "ok Node.js", "ok Pulumi CLI", "ok Pulumi login", "ok Pulumi stack infra",
            "ok Secret cluster-bootstrap:sopsAgeKey", "ok Secret cloudflare:apiToken", "ok Secret github:token", "ok Stack secrets", "ok Stack config",
            "ok Cluster Mesh",
            "ok Kubernetes API", "ok Kubernetes cluster identity", "ok Kubernetes nodes",
            "ok GitHub token", "ok GitHub repository monosense/k8s-ops", "ok GitHub branch main", "ok GitHub path clusters/infra/flux",
            // The committed stack's platform releases: the directories the program reads from the repository.
            "ok GitHub path kubernetes/apps/kube-system/cilium/app", "ok GitHub path kubernetes/apps/kube-system/coredns/app",
            "ok GitHub path kubernetes/apps/kube-system/spegel/app",
            "ok GitHub .sops.yaml", "ok GitHub deploy keys", "ok GitHub webhooks",
            "ok Cloudflare token", "ok Cloudflare zone monosense.dev", "ok Cloudflare R2", "ok Cloudflare Tunnel", "ok Cloudflare permission groups",
            // What exists already: nothing, in a new account, so each object the program manages is created.
            "ok Cloudflare R2 bucket infra-volsync", "ok Cloudflare R2 bucket infra-cnpg", "ok Cloudflare tunnel infra",
            "ok Cloudflare tunnel configuration infra", "ok Cloudflare DNS record external.monosense.dev", "ok Cloudflare DNS record flux-webhook.monosense.dev",
            // The committed infra stack's hub routes and its Access: each object the run would create, one line each.
            "ok Cloudflare DNS record vm.monosense.dev", "ok Cloudflare DNS record logs.monosense.dev",
            ...["grafana", "alertmanager", "vmui", "hubble", "vm", "logs"].map((h) => `ok Cloudflare Access application ${h}.monosense.dev`),
            "ok Cloudflare Access policy infra: allow", "ok Cloudflare Access policy infra: service token apps-to-hub",
            // Each chart the run installs, in install order: the platform releases', then the Flux Operator's.
            "ok Chart cilium 1.18.4 (oci://127.0.0.1:5000/cilium/charts/cilium)", "ok Chart coredns 1.45.0 (oci://127.0.0.1:5000/coredns/charts/coredns)",
            "ok Chart spegel 0.4.0 (spegel in https://127.0.0.1:8443/spegel-org/charts)",
            "ok Chart flux-operator 0.60.0 (oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator)",
        ]);
        expect(report.sections.map((s) => s.name)).toEqual([
            "This machine and Pulumi", "Stack infra: config and secrets", "Kubernetes", "GitHub", "Cloudflare", "What exists already (cluster-bootstrap:adopt)", "Helm charts",
        ]);
        expect(lines).toContain("✓ Cloudflare R2 bucket infra-volsync: created (none exists)");
        expect(lines).toContain("✓ Pulumi CLI: 3.259.0 (3.238.0 or later needed)");
        expect(lines).toContain("✓ Kubernetes nodes: 2 nodes, 2 Ready");
        expect(lines).toContain('✓ Cloudflare permission groups: found: "Workers R2 Storage Bucket Item Write", "Workers R2 Storage Bucket Item Read", '
            + '"Zone Read", "DNS Write"');
        expect(lines.find((l) => l.startsWith("✓ Stack secrets"))).toBe("✓ Stack secrets: 4 decrypted with `pulumi config get` (cloudflare:apiToken, "
            + "cluster-bootstrap:kubeconfig, cluster-bootstrap:sopsAgeKey, github:token), held in memory only and never printed");
    });

    it("reads secrets one key at a time with `pulumi config get`, never with a value on a command line", async () => {
        // The real spawn path: the fake CLI runs as a process, and its log is what the command lines were.
        const { report, lines } = await check({}, GENEROUS_MS, { spawn: true });
        expect(report.failures, lines.join("\n")).toBe(0);
        const calls = w.pulumiCalls();
        const gets = (stack: string) => calls.filter((c) => c[1] === "get" && c[c.indexOf("--stack") + 1] === stack).map((c) => c[3]).sort();
        expect(gets("infra")).toEqual(["cloudflare:apiToken", "cluster-bootstrap:kubeconfig", "cluster-bootstrap:sopsAgeKey", "github:token"]);
        // Of the project's other stack only its plain cluster setting, for the Cluster Mesh line.
        expect(gets("apps")).toEqual(["cluster-bootstrap:cluster"]);
        expect(calls.some((c) => c.includes("--show-secrets"))).toBe(false);
        for (const secret of Object.values(SECRETS)) expect(JSON.stringify(calls)).not.toContain(secret);
    });

    it("warns when another stack of the project has the same cluster id or an overlapping pod CIDR (Cluster Mesh)", async () => {
        expect((await check()).find("Cluster Mesh")).toEqual({
            status: "ok", title: "Cluster Mesh", detail: "cluster.id 1 and the pod CIDR are this stack's alone among apps",
        });
        w.scenario.config["cluster-bootstrap:cluster"] = { value: { name: "infra", id: 1, domain: "monosense.dev", cidr: "10.42.0.0/16" } };
        w.scenario.others!.apps["cluster-bootstrap:cluster"] = { value: { name: "apps", id: 1, domain: "monosense.io", cidr: "10.42.128.0/17" } };
        const { report, find } = await check();
        expect(find("Cluster Mesh")).toEqual({
            status: "warn", title: "Cluster Mesh",
            detail: "stacks infra and apps both have cluster.id 1; the cluster.cidr of stacks infra (10.42.0.0/16) and apps (10.42.128.0/17) overlap",
            fix: "give each cluster its own cluster.id (1..255) and a pod CIDR apart from the others' before joining them in a Cluster Mesh",
        });
        expect(report.failures).toBe(0);
    });

    it("asks each API only what the program would need to know, with the token as a bearer header", async () => {
        await check();
        expect(w.github.requests.every((r) => r.method === "GET" && r.authorization === `Bearer ${SECRETS.github}`)).toBe(true);
        expect(w.cloudflare.requests.every((r) => r.method === "GET" && r.authorization === `Bearer ${SECRETS.cloudflare}`)).toBe(true);
        // As the program asks: plain names, the DNS token's within the zone scope.
        expect(w.cloudflare.requests.filter((r) => r.path.endsWith("/permission_groups")).map((r) => `${r.query}`)).toEqual([
            "name=Workers+R2+Storage+Bucket+Item+Write", "name=Workers+R2+Storage+Bucket+Item+Read",
            "name=Zone+Read&scope=com.cloudflare.api.account.zone", "name=DNS+Write&scope=com.cloudflare.api.account.zone",
        ]);
    });
});

describe("the Pulumi side", () => {
    beforeEach(fresh);

    it("says the CLI is missing, checks nothing that needs it, and lists every check still ahead", async () => {
        // The real spawn path, with no `pulumi` to find.
        const { results, lines, report } = await check({ PATH: "/nonexistent" }, GENEROUS_MS, { spawn: true });
        expect(lines.slice(0, 2)).toEqual([
            expect.stringMatching(/^✓ Node\.js/),
            "✗ Pulumi CLI: the pulumi CLI is not on PATH → install or upgrade it: https://www.pulumi.com/docs/install/, then open a new shell",
        ]);
        expect(report.failures).toBe(1);
        // Every section, every check in it, not checked, with the reason.
        const why = "not checked: the stack's config could not be read (the Pulumi CLI is missing)";
        expect(report.sections.map((s) => `${s.name}: ${s.results.length}`)).toEqual([
            "This machine and Pulumi: 4", "Stack infra: config and secrets: 5", "Kubernetes: 3", "GitHub: 7", "Cloudflare: 5",
            "What exists already (cluster-bootstrap:adopt): 1", "Helm charts: 1",
        ]);
        expect(lines.slice(2)).toEqual([
            "- Pulumi login: not checked: the Pulumi CLI is missing", "- Pulumi stack infra: not checked: the Pulumi CLI is missing",
            ...["Secret cluster-bootstrap:sopsAgeKey", "Secret cloudflare:apiToken", "Secret github:token", "Stack secrets", "Stack config",
                "Kubernetes API", "Kubernetes cluster identity", "Kubernetes nodes",
                "GitHub token", "GitHub repository", "GitHub branch", "GitHub paths", "GitHub .sops.yaml", "GitHub deploy keys", "GitHub webhooks",
                "Cloudflare token", "Cloudflare zone", "Cloudflare R2", "Cloudflare Tunnel", "Cloudflare permission groups", "What exists", "Helm charts",
            ].map((title) => `- ${title}: ${why}`),
        ]);
        expect(results.filter((r) => r.status !== "skip").map((r) => r.title)).toEqual(["Node.js", "Pulumi CLI"]);
    });

    it("refuses a CLI older than the minimum", async () => {
        w.scenario.version = "v3.237.0";
        expect((await check()).lines[1]).toBe("✗ Pulumi CLI: 3.237.0 is older than 3.238.0, the first whose failing resource hooks stop `pulumi up` "
            + "(the Flux waits rely on it) → install or upgrade it: https://www.pulumi.com/docs/install/, then open a new shell");
        expect(parsePulumiVersion("v3.259.0\n")).toBe("3.259.0");
        expect(parsePulumiVersion("v3.260.1-dev.0")).toBe("3.260.1-dev.0");
        expect(parsePulumiVersion("warning: something\nv3.1.0")).toBeUndefined();
    });

    it("tells a failed command from a missing CLI: the login", async () => {
        w.scenario.fail = { whoami: { code: 255, stderr: "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions" } };
        expect((await check()).find("Pulumi login")).toEqual({
            status: "fail", title: "Pulumi login",
            detail: "`pulumi whoami` failed (exit code 255): error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
            fix: "log in to the backend that holds the state: `pulumi login` (docs/operations.md: Where the state lives)",
        });
    });

    it("lists the stacks there are when the stack is not one of them", async () => {
        w.scenario.stacks = ["apps", "monosense/cluster-bootstrap/edge"];
        const { lines } = await check();
        expect(lines.find((l) => l.includes("Pulumi stack infra"))).toBe("✗ Pulumi stack infra: not in this backend (stacks of this project there: apps, monosense/cluster-bootstrap/edge) "
            + "→ create it with `pulumi stack init infra`, or log in to the backend that has it (docs/configuration.md: Adapting the project to your own cluster)");
        // The rest is listed, not checked.
        expect(lines.at(-1)).toBe("- Helm charts: not checked: the stack's config could not be read (no stack infra in this backend)");
    });

    it("gives up on a command that does not finish, within the bound", async () => {
        // The fake never answers whoami: only the bound ends the call, whatever the machine's speed.
        w.scenario.hang = ["whoami"];
        const { find } = await check({}, 500);
        expect(find("Pulumi login")?.detail).toBe("`pulumi whoami` did not finish within 0.5 s");
        expect(w.pulumiCalls().map((c) => c[0])).toEqual(["version", "whoami"]);
    });
});

describe("the stack's config and secrets", () => {
    beforeEach(fresh);

    it("names a missing secret and how to pipe it in", async () => {
        delete w.scenario.config["cluster-bootstrap:sopsAgeKey"];
        const { find, lines } = await check();
        expect(find("Secret cluster-bootstrap:sopsAgeKey")).toEqual({
            status: "fail", title: "Secret cluster-bootstrap:sopsAgeKey", detail: "not set",
            fix: "grep AGE-SECRET-KEY age.agekey | pulumi config set --secret sopsAgeKey --stack infra",
        });
        expect(lines).toContain("✗ Stack config: cluster-bootstrap:sopsAgeKey: is required");
    });

    it("takes a token from the environment the provider reads, and refuses one stored in plain text", async () => {
        delete w.scenario.config["github:token"];
        w.scenario.config["cloudflare:apiToken"].secret = false;
        const { find } = await check({ GITHUB_TOKEN: SECRETS.github });
        expect(find("Secret github:token")).toMatchObject({ status: "ok", detail: "not set; GITHUB_TOKEN is, and is used instead" });
        expect(find("GitHub token")?.detail).toBe("accepted (fine-grained), from GITHUB_TOKEN");
        expect(find("Secret cloudflare:apiToken")).toMatchObject({ status: "fail", detail: "set in plain text: the stack file would hold it readable" });
    });

    it("says when the secrets cannot be decrypted, and stops there", async () => {
        w.scenario.noPassphrase = true;
        const { results, find } = await check();
        expect(find("Stack secrets")).toMatchObject({
            status: "fail",
            detail: expect.stringMatching(/^cannot be decrypted: `pulumi config get cloudflare:apiToken` failed \(exit code 255\): error: getting secrets manager: passphrase must be set/),
        });
        // Nothing after it is checked; each check is listed with the reason.
        const later = results.filter((r) => /^(Kubernetes|GitHub|Cloudflare|Chart|Helm)/.test(r.title));
        expect(later.length).toBeGreaterThan(0);
        expect(later.every((r) => r.status === "skip" && r.detail === "not checked: the stack's secrets could not be decrypted")).toBe(true);
        expect(find("Stack config")).toMatchObject({ status: "skip", detail: "not checked: the stack's secrets could not be decrypted" });
    });

    it("validates secret zero set as one secret JSON list, as the program reads it, and prints none of it", async () => {
        const data = { token: "op-connect-SENTINEL-0005-not-real" };
        w.scenario.config["cluster-bootstrap:bootstrapSecrets"] = { value: JSON.stringify([{ namespace: "external-secrets", name: "onepassword-connect", data }]), secret: true };
        const ok = await check();
        expect(ok.find("Stack config")).toMatchObject({ status: "ok" });
        w.scenario.config["cluster-bootstrap:bootstrapSecrets"] = { value: JSON.stringify([{ namespace: "Bad_NS", name: "x", data }]), secret: true };
        const bad = await check();
        expect(bad.lines.find((l) => l.startsWith("✗ Stack config: cluster-bootstrap:bootstrapSecrets[0].namespace"))).toBeDefined();
        for (const r of [ok, bad]) expect(r.lines.join("\n")).not.toContain("op-connect-SENTINEL-0005");
    });

    it("lists every check of every section when the config is invalid, with the reason for each one not checked", async () => {
        w.scenario.config["cluster-bootstrap:gitops"].value = { repository: "not a repository", branch: "main", path: "clusters/infra/flux" };
        delete w.scenario.config["cluster-bootstrap:cloudflareAccountId"];
        const { report, lines } = await check();
        expect(report.sections.map((s) => s.name)).toEqual([
            "This machine and Pulumi", "Stack infra: config and secrets", "Kubernetes", "GitHub", "Cloudflare", "What exists already (cluster-bootstrap:adopt)", "Helm charts",
        ]);
        const section = (name: string) => report.sections.find((s) => s.name === name)!.results.map(renderLine);
        const gitops = "not checked: cluster-bootstrap:gitops has no usable repository, branch and path (see the Stack config lines)";
        expect(section("GitHub")).toEqual(["GitHub token", "GitHub repository", "GitHub branch", "GitHub paths", "GitHub .sops.yaml", "GitHub deploy keys",
            "GitHub webhooks"].map((t) => `- ${t}: ${gitops}`));
        const account = "not checked: cluster-bootstrap:cloudflareAccountId is not usable (see the Stack config lines)";
        expect(section("Cloudflare")).toEqual(["Cloudflare token", "Cloudflare zone monosense.dev", "Cloudflare R2", "Cloudflare Tunnel", "Cloudflare permission groups"]
            .map((t) => `- ${t}: ${account}`));
        expect(section("What exists already (cluster-bootstrap:adopt)")).toEqual(["- What exists: not checked: the stack config is not valid (see the Stack config lines)"]);
        expect(section("Helm charts")).toEqual(["kubernetes/apps/kube-system/cilium/app", "kubernetes/apps/kube-system/coredns/app", "kubernetes/apps/kube-system/spegel/app"]
            .map((p) => `- Chart of ${p}: not checked: the stack config is not valid (see the Stack config lines)`));
        // The cluster is checked with what is usable.
        expect(section("Kubernetes")[0]).toMatch(/^✓ Kubernetes API/);
        expect(lines.filter((l) => l.startsWith("✗ Stack config")).length).toBeGreaterThan(0);
    });

    it("runs the program's own validation, with the real age key", async () => {
        w.scenario.config["cluster-bootstrap:sops"].value = { recipient: "age1j3hsfptdfsfwvkf504etjkrtmajny9csrfh5s24uqh6fchmg5dgqg087ek" };
        const { lines } = await check();
        expect(lines).toContain("✗ Stack config: cluster-bootstrap:sopsAgeKey: derives to age14tvph3kh8klm7spxe3k8t9gta6372503r5q4x26sv8vul2cjncvs97pqe5, "
            + 'not to cluster-bootstrap:sops.recipient "age1j3hsfptdfsfwvkf504etjkrtmajny9csrfh5s24uqh6fchmg5dgqg087ek"');
    });
});

describe("the cluster", () => {
    beforeEach(fresh);

    it("refuses another stack's cluster with the identity rule the program applies", async () => {
        w.cluster.clusterName = "apps";
        const { find } = await check();
        expect(find("Kubernetes cluster identity")).toMatchObject({ status: "fail", detail: expect.stringContaining('belongs to "apps" (CLUSTER_NAME in flux-system/cluster-vars), not to this stack\'s cluster.name "infra"') });
    });

    it("accepts its own cluster and a new one", async () => {
        w.cluster.clusterName = "infra";
        expect((await check()).find("Kubernetes cluster identity")?.detail).toBe('this stack\'s: CLUSTER_NAME "infra"');
        w.cluster.clusterName = undefined;
        expect((await check()).find("Kubernetes cluster identity")?.detail).toBe("a cluster not bootstrapped yet (no flux-system/cluster-vars)");
    });

    it("reports NotReady nodes as a warning naming the CNI, or as expected when platform releases install it", async () => {
        w.cluster.nodes = [false, false, true];
        delete w.scenario.config["cluster-bootstrap:platform"];
        expect((await check()).lines).toContain("! Kubernetes nodes: 3 nodes, 1 Ready: pods cannot start until a CNI runs → install the CNI with the cluster, "
            + "or list its app directory in cluster-bootstrap:platform.releases");
        w.scenario.config["cluster-bootstrap:platform"] = { value: { releases: [{ path: "clusters/infra/flux", namespace: "kube-system" }] } };
        expect((await check()).lines).toContain("✓ Kubernetes nodes: 3 nodes, 1 Ready: expected before a CNI runs; cluster-bootstrap:platform.releases installs it first");
    });

    it("says when the API refuses the stack's credentials, without showing them", async () => {
        w.kube.handler = () => ({ status: 401, body: { kind: "Status", code: 401 } });
        const { find } = await check();
        expect(find("Kubernetes API")?.detail).toMatch(/it refused the credentials \(HTTP 401\).*\(kubeconfig: cluster-bootstrap:kubeconfig\)$/);
    });

    it("gives up on an API server that does not answer, within the bound", async () => {
        w.kube.handler = () => "hang";
        const { find } = await check({}, 400);
        expect(find("Kubernetes API")?.detail).toMatch(/the API server did not answer within 0.4 s/);
    });
});

describe("GitHub", () => {
    beforeEach(fresh);
    const repo = "/repos/monosense/k8s-ops";

    it("says a token was rejected", async () => {
        w.githubRoutes["/rate_limit"] = { status: 401, body: { message: "Bad credentials" } };
        const { find, results } = await check();
        expect(find("GitHub token")).toMatchObject({ status: "fail", detail: "rejected (HTTP 401: Bad credentials), from github:token" });
        expect(results.filter((r) => r.title.startsWith("GitHub"))).toHaveLength(1);
    });

    it("says a repository is missing or invisible to the token", async () => {
        w.githubRoutes[repo] = { status: 404, body: { message: "Not Found" } };
        expect((await check()).find("GitHub repository monosense/k8s-ops")?.detail).toBe(
            "not found, or the token cannot see it (a fine-grained token sees only the repositories it was given)");
    });

    it("names a missing branch, a missing path and a missing platform release path with the key to fix", async () => {
        w.scenario.config["cluster-bootstrap:gitops"].value = { repository: "monosense/k8s-ops", branch: "release", path: "clusters/infra/flux" };
        const first = await check();
        expect(first.find("GitHub branch release")).toMatchObject({ status: "fail", detail: "does not exist on monosense/k8s-ops", fix: "push the branch, or fix cluster-bootstrap:gitops.branch" });
        w.scenario.config["cluster-bootstrap:gitops"].value = { repository: "monosense/k8s-ops", branch: "main", path: "./clusters/nope/" };
        w.scenario.config["cluster-bootstrap:platform"] = { value: { releases: [{ path: "kubernetes/apps/kube-system/cilum/app", namespace: "kube-system" }] } };
        const { lines } = await check();
        expect(lines).toContain("✗ GitHub path clusters/nope: does not exist on main → create it, or fix cluster-bootstrap:gitops.path");
        expect(lines).toContain("✗ GitHub path kubernetes/apps/kube-system/cilum/app: does not exist on main → create it, or fix cluster-bootstrap:platform.releases[0].path");
    });

    it("warns when the token may not read contents, and fails when platform releases need them", async () => {
        const denied = { status: 403, body: { message: "Resource not accessible by personal access token" }, headers: { "x-accepted-github-permissions": "contents=read" } };
        w.githubRoutes[`${repo}/branches/main`] = denied;
        const platform = w.scenario.config["cluster-bootstrap:platform"];
        delete w.scenario.config["cluster-bootstrap:platform"];
        expect((await check()).lines).toContain("! GitHub branch main: not checked: the token may not read the repository's contents (HTTP 403) "
            + "(GitHub says it needs contents=read) → give the token Contents: Read on the repository");
        w.scenario.config["cluster-bootstrap:platform"] = platform;
        expect((await check()).find("GitHub branch main")?.status).toBe("fail");
    });

    it("infers missing permissions from what the API refuses", async () => {
        w.githubRoutes[`${repo}/hooks`] = { status: 403, body: { message: "Resource not accessible by personal access token" }, headers: { "x-accepted-github-permissions": "repository_hooks=read" } };
        expect((await check()).lines).toContain("✗ GitHub webhooks: the token may not list them (HTTP 403: Resource not accessible by personal access token) "
            + "(GitHub says it needs repository_hooks=read) → give the token Webhooks: Read and write on monosense/k8s-ops");
    });

    it("checks that the repository encrypts for the stack's recipient", async () => {
        const other = Buffer.from("creation_rules:\n  - age: age1j3hsfptdfsfwvkf504etjkrtmajny9csrfh5s24uqh6fchmg5dgqg087ek\n").toString("base64");
        w.githubRoutes[`${repo}/contents/.sops.yaml`] = { status: 200, body: { encoding: "base64", content: other } };
        expect((await check()).find("GitHub .sops.yaml")).toMatchObject({
            status: "fail", detail: expect.stringMatching(/^names age1j3hsf\w+, not cluster-bootstrap:sops\.recipient age14tvph/),
        });
    });

    it("over HTTPS (gitops.transport: https), checks that the repository is public, and asks for no deploy-key permission", async () => {
        w.scenario.config["cluster-bootstrap:gitops"].value = { repository: "monosense/k8s-ops", branch: "main", path: "clusters/infra/flux", transport: "https" };
        w.githubRoutes[repo] = { status: 200, body: { full_name: "monosense/k8s-ops", private: false } };
        const { find, report, lines } = await check();
        expect(report.failures, lines.join("\n")).toBe(0);
        expect(find("GitHub repository visibility")).toMatchObject({ status: "ok", detail: "public: Flux fetches it over HTTPS with no credential" });
        expect(find("GitHub deploy keys")).toMatchObject({ status: "skip" });
        expect(w.github.requests.map((r) => r.path)).not.toContain(`${repo}/keys`);

        w.githubRoutes[repo] = { status: 200, body: { full_name: "monosense/k8s-ops", private: true } };
        expect((await check()).lines).toContain("✗ GitHub repository visibility: monosense/k8s-ops is private, but Flux fetches it over HTTPS with no " +
            "credential: its GitRepository would fail with \"authentication required\" → make the repository public, or fetch it over SSH: " +
            "cluster-bootstrap:gitops.transport \"ssh\" (with flux.managedBy \"repository\": an ssh://git@github.com/… sync.url with a pullSecret), " +
            "and the program creates a deploy key");
        // Over SSH (the default) visibility does not matter, and the deploy keys are checked as before.
        w.scenario.config["cluster-bootstrap:gitops"].value = { repository: "monosense/k8s-ops", branch: "main", path: "clusters/infra/flux" };
        const ssh = await check();
        expect(ssh.find("GitHub repository visibility")).toBeUndefined();
        expect(ssh.find("GitHub deploy keys")?.status).toBe("ok");
    });

    it("when the repository runs Flux, reads its FluxInstance's sync as the program does, and checks visibility for an HTTPS sync", async () => {
        const fixture = FIXTURES.gitops;
        const apps = ["flux-operator", "flux-instance"].map((n) => `kubernetes/apps/flux-system/${n}/app`);
        const serve = (instance: (text: string) => string) => {
            for (const dir of apps) {
                for (const f of ["kustomization.yaml", "helmrelease.yaml", "ocirepository.yaml"]) {
                    let text = fs.readFileSync(path.join(fixture, dir, f), "utf8");
                    if (dir.endsWith("flux-instance/app") && f === "helmrelease.yaml") text = instance(text);
                    w.githubRoutes[`${repo}/contents/${dir}/${f}`] = { status: 200, text, headers: { "content-type": "application/vnd.github.raw+json; charset=utf-8" } };
                }
            }
        };
        w.scenario.config["cluster-bootstrap:gitops"].value = { repository: "monosense/k8s-ops", branch: "main", path: "kubernetes/flux/cluster" };
        w.scenario.config["cluster-bootstrap:flux"].value = { managedBy: "repository" };
        w.scenario.config["cluster-bootstrap:platform"] = { value: { releases: apps.map((p) => ({ path: p, namespace: "flux-system" })) } };
        w.directories = ["kubernetes/flux/cluster", ...apps];
        const https = (t: string) => t.replace("url: ssh://git@github.com/monosense/k8s-ops", "url: https://github.com/monosense/k8s-ops").replace(/\n +pullSecret: .*/, "");
        serve(https);
        w.githubRoutes[repo] = { status: 200, body: { full_name: "monosense/k8s-ops", private: true } };
        const found = await check();
        expect(found.find("GitHub flux-instance sync")).toMatchObject({ status: "ok", detail: "over HTTPS, with no pull secret" });
        expect(found.find("GitHub repository visibility")?.status).toBe("fail");
        expect(found.find("GitHub deploy keys")?.status).toBe("skip");
        // The files were read as the program reads them: raw, at the branch, with the token, one request each.
        // (The directories themselves are the "GitHub path" lines' requests.)
        const reads = w.github.requests.filter((r) => r.path.includes("/contents/kubernetes/apps/") && !apps.some((d) => r.path.endsWith(d)));
        expect(reads.map((r) => r.path.replace(`${repo}/contents/`, "")).sort()).toEqual(
            apps.flatMap((d) => ["kustomization.yaml", "helmrelease.yaml", "ocirepository.yaml"].map((f) => `${d}/${f}`)).sort());
        expect(reads.every((r) => r.headers.accept === "application/vnd.github.raw+json" && r.query.get("ref") === "main")).toBe(true);

        // Over SSH with its pull secret: no visibility line, the deploy keys checked.
        serve((t) => t);
        w.github.requests.length = 0;
        const ssh = await check();
        expect(ssh.find("GitHub flux-instance sync")).toMatchObject({ status: "ok", detail: "over SSH, with the program's deploy key" });
        expect(ssh.find("GitHub repository visibility")).toBeUndefined();
        expect(ssh.find("GitHub deploy keys")?.status).toBe("ok");

        // An HTTPS sync with a pull secret is refused here as in the program.
        serve((t) => t.replace("url: ssh://git@github.com/monosense/k8s-ops", "url: https://github.com/monosense/k8s-ops"));
        expect((await check()).find("GitHub flux-instance sync")).toMatchObject({
            status: "fail", detail: expect.stringContaining('spec.values.instance.sync.pullSecret "github-deploy-key" is set with an HTTPS sync.url'),
        });
    });

    it("gives up on an API that does not answer, within the bound", async () => {
        // The fake never answers: only the bound ends the call, whatever the machine's speed.
        w.github.handler = () => "hang";
        expect((await check({}, 300)).find("GitHub token")?.detail).toBe("the GitHub API: timed out after 0.3 s");
        expect(w.github.requests.map((r) => r.path)).toEqual(["/rate_limit"]);
    });
});

describe("Cloudflare", () => {
    beforeEach(fresh);
    const account = "/accounts/eca0833f608b5745af030307a99bdbb4";
    const error = (status: number, code: number, message: string) => ({ status, body: { success: false, errors: [{ code, message }], messages: [], result: null } });

    it("says a token is invalid", async () => {
        w.scenario.config["cloudflare:apiToken"].value = "wrong-token-value-SENTINEL";
        const { find, lines } = await check();
        expect(find("Cloudflare token")).toMatchObject({ status: "fail", detail: "not valid (code 1000: Invalid API Token), from cloudflare:apiToken" });
        expect(lines.join("\n")).not.toContain("wrong-token-value-SENTINEL");
    });

    it("verifies an account-owned token at the account's endpoint", async () => {
        w.cloudflareRoutes["/user/tokens/verify"] = error(401, 1000, "Invalid API Token");
        w.cloudflareRoutes[`${account}/tokens/verify`] = { status: 200, body: { success: true, errors: [], result: { id: "t", status: "active" } } };
        expect((await check()).find("Cloudflare token")?.detail).toBe("active (account-owned token), from cloudflare:apiToken");
    });

    it("says an expired token is expired", async () => {
        w.cloudflareRoutes["/user/tokens/verify"] = { status: 200, body: { success: true, errors: [], result: { id: "t", status: "expired" } } };
        expect((await check()).find("Cloudflare token")?.detail).toBe("expired (user token), from cloudflare:apiToken");
    });

    it("says the zone is not in the account", async () => {
        w.scenario.config["cluster-bootstrap:cluster"].value = { name: "infra", id: 1, domain: "example.org" };
        expect((await check()).find("Cloudflare zone example.org")).toMatchObject({ status: "fail", detail: "not in account eca0833f608b5745af030307a99bdbb4, or the token may not read it" });
    });

    it("says R2 is not enabled, by Cloudflare's error code", async () => {
        w.cloudflareRoutes[`${account}/r2/buckets`] = error(403, 10042, "Please enable R2 through the Cloudflare Dashboard.");
        expect((await check()).lines).toContain("✗ Cloudflare R2: not enabled on the account (code 10042: Please enable R2 through the Cloudflare Dashboard.) "
            + "→ enable R2 once in the dashboard (R2 Object Storage); it asks for a payment method");
    });

    it("names a permission group cloudflare:apiToken cannot grant (is_selectable false), as the program's lookup would", async () => {
        w.unselectable = ["DNS Write"];
        expect((await check()).lines).toContain('✗ Cloudflare permission groups: Cloudflare permission group "DNS Write": cloudflare:apiToken cannot grant it '
            + "(the account's list says isSelectable: false), so creating the token that needs it would fail; give cloudflare:apiToken this permission itself "
            + "(docs/configuration.md: Tokens and their minimal permissions): the program's lookup would fail the same way");
    });

    it("names a permission group the account does not list, as the program's lookup would", async () => {
        w.cloudflareRoutes[`${account}/tokens/permission_groups?name=Workers+R2+Storage+Bucket+Item+Read`] = { status: 200, body: { success: true, errors: [], result: [] } };
        expect((await check()).lines).toContain('✗ Cloudflare permission groups: Cloudflare permission group "Workers R2 Storage Bucket Item Read": '
            + "expected exactly one, found 0 (groups returned: none): the program's lookup would fail the same way");
    });
});

describe("an API that cannot be reached", () => {
    beforeEach(fresh);

    it("names a refused connection for every API, the cluster's and the chart registries' included", async () => {
        const [githubPort, cloudflarePort, kubePort, chartsPort] = await Promise.all([closedPort(), closedPort(), closedPort(), closedPort()]);
        w.scenario.config["cluster-bootstrap:kubeconfig"].value = testKubeconfig({ server: `https://127.0.0.1:${kubePort}`, token: SECRETS.kubeToken, caData: w.kube.caData });
        const { find, lines } = await check({
            CLUSTER_BOOTSTRAP_TEST_GITHUB_API: `http://127.0.0.1:${githubPort}`,
            CLUSTER_BOOTSTRAP_TEST_CLOUDFLARE_API: `http://127.0.0.1:${cloudflarePort}`,
            CLUSTER_BOOTSTRAP_TEST_CHARTS: `http://127.0.0.1:${chartsPort}`,
        });
        expect(find("GitHub token")?.detail).toBe("the GitHub API: connection refused");
        expect(find("Cloudflare token")?.detail).toBe("the Cloudflare API: connection refused");
        expect(find("Kubernetes API")?.detail).toBe(`https://127.0.0.1:${kubePort} (context "admin@infra"): connection refused (kubeconfig: cluster-bootstrap:kubeconfig)`);
        expect(lines).toContain("✗ Chart flux-operator 0.60.0 (oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator): the registry: connection refused");
        // Without GitHub, the app directories cannot be read: their charts are listed, not checked.
        expect(lines).toContain("- Chart of kubernetes/apps/kube-system/cilium/app: not checked: its app directory cannot be read (the GitHub API: connection refused)");
        expect(lines.join("\n")).not.toMatch(/fetch failed|TypeError/);
    });

    it("names a TLS failure of the Kubernetes API, by the verification code", async () => {
        // The fake's certificate is self-signed, and this kubeconfig does not vouch for it.
        w.scenario.config["cluster-bootstrap:kubeconfig"].value = testKubeconfig({ server: w.kube.url, token: SECRETS.kubeToken });
        expect((await check()).find("Kubernetes API")?.detail).toBe(`${w.kube.url} (context "admin@infra"): TLS failure (DEPTH_ZERO_SELF_SIGNED_CERT) (kubeconfig: cluster-bootstrap:kubeconfig)`);
    });

    it("names the bound for a Cloudflare API that never answers", async () => {
        // The fake never answers: only the bound ends the call, whatever the machine's speed.
        w.cloudflare.handler = () => "hang";
        expect((await check({}, 300)).find("Cloudflare token")?.detail).toBe("the Cloudflare API: timed out after 0.3 s");
    });
});

describe("Helm charts", () => {
    beforeEach(fresh);
    const cilium = "Chart cilium 1.18.4 (oci://127.0.0.1:5000/cilium/charts/cilium)";

    it("asks an OCI registry as Helm does: an anonymous token from the challenge's realm, then the manifest by tag", async () => {
        await check();
        const asked = w.registry.requests.filter((r) => r.path.startsWith("/v2/cilium/") || r.path === "/token" && r.query.get("scope") === "repository:cilium/charts/cilium:pull");
        expect(asked.map((r) => `${r.method} ${r.path}${r.query.size ? `?${r.query}` : ""} ${r.authorization ?? "-"}`)).toEqual([
            "HEAD /v2/cilium/charts/cilium/manifests/1.18.4 -",
            "GET /token?service=fake-registry&scope=repository%3Acilium%2Fcharts%2Fcilium%3Apull -",
            `HEAD /v2/cilium/charts/cilium/manifests/1.18.4 Bearer ${anonymousToken("cilium/charts/cilium")}`,
        ]);
        expect(asked[2].accept).toBe(MANIFEST_ACCEPT);
        expect(w.registry.requests.filter((r) => r.path.endsWith("/index.yaml")).map((r) => `${r.method} ${r.path}`)).toEqual(["GET /spegel-org/charts/index.yaml"]);
    });

    it("fails a platform release whose chart tag the registry does not have, naming where to fix it", async () => {
        w.charts["cilium/charts/cilium"] = ["1.18.3"];
        const { lines, report } = await check();
        expect(lines).toContain(`✗ ${cilium}: not in the registry (HTTP 404): \`pulumi preview\` would fail at the Helm provider's check `
            + "→ fix the chart's version in kubernetes/apps/kube-system/cilium/app (the OCIRepository's spec.ref.tag, or the HelmRelease's spec.chart.spec.version)");
        expect(report.failures).toBe(1);
    });

    it("fails a chart version missing from a Helm repository's index.yaml", async () => {
        w.helmIndexes["spegel-org/charts"].spegel = ["0.3.0", "0.5.0"];
        expect((await check()).find("Chart spegel 0.4.0 (spegel in https://127.0.0.1:8443/spegel-org/charts)")).toMatchObject({
            status: "fail", detail: "not in the repository: `pulumi preview` would fail at the Helm provider's check",
        });
    });

    it("checks the chart of each CRD entry too, whose CRDs the run renders before the first release", async () => {
        const SPEGEL = "kubernetes/apps/kube-system/spegel/app";
        w.scenario.config["cluster-bootstrap:platform"].value = {
            ...(w.scenario.config["cluster-bootstrap:platform"].value as object), crds: [{ path: SPEGEL, namespace: "kube-system" }],
        };
        const healthy = await check();
        expect(healthy.lines).toContain(`✓ GitHub path ${SPEGEL}: a directory on main`);
        expect(healthy.find("CRD chart spegel 0.4.0 (spegel in https://127.0.0.1:8443/spegel-org/charts)")).toMatchObject({ status: "ok" });
        w.helmIndexes["spegel-org/charts"].spegel = ["0.3.0", "0.5.0"];
        expect((await check()).find("CRD chart spegel 0.4.0 (spegel in https://127.0.0.1:8443/spegel-org/charts)")).toMatchObject({
            status: "fail", detail: "not in the repository: `pulumi preview` would fail at the Helm provider's check",
        });
    });

    it("fails the Flux Operator chart at a flux.operatorChartVersion the registry does not have, in program mode only", async () => {
        w.scenario.config["cluster-bootstrap:flux"].value = { version: "2.7.x", operatorChartVersion: "0.61.0" };
        expect((await check()).lines).toContain("✗ Chart flux-operator 0.61.0 (oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator): not in the registry (HTTP 404): "
            + "`pulumi preview` would fail at the Helm provider's check → set cluster-bootstrap:flux.operatorChartVersion to a version the registry has");
    });

    it("fails an app directory the program would refuse, with the program's message", async () => {
        const file = "kubernetes/apps/kube-system/cilium/app/helmrelease.yaml";
        const text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: cilium\nspec:\n  chartRef:\n    kind: OCIRepository\n    name: cilium\n"
            + "  valuesFrom:\n    - kind: ConfigMap\n      name: cilium-values\n";
        // As GitHub answers the program's reader, which asks for the raw media type.
        w.githubRoutes[`/repos/monosense/k8s-ops/contents/${file}`] = { status: 200, text, headers: { "content-type": "application/vnd.github.raw+json; charset=utf-8" } };
        expect((await check()).find("Chart of kubernetes/apps/kube-system/cilium/app")).toMatchObject({
            status: "fail", detail: `cluster-bootstrap:platform.releases[0]: ${file}: spec.valuesFrom is not supported: bootstrap values come from spec.values only`,
        });
    });

    it("fails a registry that refuses anonymous pulls, and takes a range as Helm does: the highest matching tag", async () => {
        const opts = { env: w.env(), timeoutMs: GENEROUS_MS, fix: "fix it" };
        expect(await chartCheck({ chart: "oci://127.0.0.1:5000/cilium/charts/cilium", version: "1.18.x" }, opts))
            .toEqual({ status: "ok", title: "Chart cilium 1.18.x (oci://127.0.0.1:5000/cilium/charts/cilium)", detail: "in the registry as 1.18.4" });
        expect(await chartCheck({ chart: "spegel", version: "~0.3", repositoryUrl: "https://127.0.0.1:8443/spegel-org/charts" }, opts))
            .toMatchObject({ status: "ok", detail: "in the repository as 0.3.0" });
        w.registry.handler = () => ({ status: 401, headers: { "www-authenticate": 'Basic realm="private"' } });
        expect(await chartCheck({ chart: "oci://127.0.0.1:5000/private/chart", version: "1.0.0" }, opts)).toMatchObject({
            status: "fail", detail: "the registry asks for credentials (basic); the bootstrap pulls charts anonymously",
        });
    });
});

describe("what exists already (cluster-bootstrap:adopt)", () => {
    beforeEach(fresh);
    const account = "/accounts/eca0833f608b5745af030307a99bdbb4";
    const TUNNEL = "c4f1a3e2-6b7d-4e8f-9a0b-1c2d3e4f5a6b";
    const fine = (result: unknown) => ({ status: 200, body: { success: true, errors: [], messages: [], result } });
    /** An account that holds a bucket with rules of its own, the tunnel and one CNAME of the infra stack. */
    const existing = () => {
        w.cloudflareRoutes[`${account}/r2/buckets`] = fine({ buckets: [{ name: "infra-volsync", location: "WEUR", storage_class: "Standard", jurisdiction: "default" }] });
        w.cloudflareRoutes[`${account}/r2/buckets/infra-volsync/lifecycle`] = fine({
            rules: [{ id: "expire-90", enabled: true, conditions: { prefix: "" }, deleteObjectsTransition: { condition: { type: "Age", maxAge: 90 * 86400 } } }],
        });
        w.cloudflareRoutes[`${account}/cfd_tunnel`] = fine([{ id: TUNNEL, name: "infra", config_src: "cloudflare", deleted_at: null }]);
        w.cloudflareRoutes[`${account}/cfd_tunnel/${TUNNEL}/configurations`] = fine({ tunnel_id: TUNNEL, source: "cloudflare", config: { ingress: [] }, version: 3 });
        w.cloudflareRoutes["/zones/z/dns_records?name.exact=flux-webhook.monosense.dev"] = fine([
            { id: "rec-webhook", name: "flux-webhook.monosense.dev", type: "CNAME", content: `${TUNNEL}.cfargotunnel.com`, proxied: true },
        ]);
    };

    it("warns, with adopt off, of each object that exists but is not in the state, and shows the rules a bucket would lose", async () => {
        existing();
        const { report, lines, find } = await check();
        expect(report.failures, lines.join("\n")).toBe(0);
        expect(find("Cloudflare R2 bucket infra-volsync")).toEqual({
            status: "warn",
            title: "Cloudflare R2 bucket infra-volsync",
            detail: "exists (import ID eca0833f608b5745af030307a99bdbb4/infra-volsync/default) but is not in this stack's state: `pulumi up` would "
                + "create it again, and fail or duplicate it",
            fix: "adopt it for one run: pulumi config set adopt true --stack infra (docs/operations.md: Bringing an existing setup under the program)",
        });
        expect(find("Cloudflare tunnel infra")?.status).toBe("warn");
        expect(find("Cloudflare tunnel configuration infra")?.status).toBe("warn");
        expect(find("Cloudflare DNS record flux-webhook.monosense.dev")?.status).toBe("warn");
        expect(lines).toContain("✓ Cloudflare R2 bucket infra-cnpg: created (none exists)");
        expect(lines).toContain("✓ Cloudflare DNS record external.monosense.dev: created (none exists)");
        expect(find("Cloudflare R2 bucket infra-volsync lifecycle")).toMatchObject({
            status: "warn",
            detail: "has expire-90 (delete objects after 90 d); would be written over with abort-incomplete-multipart-uploads (abort multipart uploads after 7 d)",
        });
        // Read-only, with the jurisdiction the buckets live in.
        expect(w.cloudflare.requests.every((r) => r.method === "GET")).toBe(true);
        expect(w.cloudflare.requests.filter((r) => r.path.endsWith("/lifecycle")).map((r) => r.headers["cf-r2-jurisdiction"])).toEqual(["default"]);
    });

    it("says, with adopt on, what is adopted and with which import ID, one line each", async () => {
        existing();
        w.scenario.config["cluster-bootstrap:adopt"] = { value: true };
        const { report, lines } = await check();
        expect(report.failures, lines.join("\n")).toBe(0);
        expect(lines).toContain(`✓ Cloudflare tunnel infra: adopted, import ID eca0833f608b5745af030307a99bdbb4/${TUNNEL} (id ${TUNNEL}, remotely managed)`);
        expect(lines).toContain("✓ Cloudflare DNS record flux-webhook.monosense.dev: adopted, import ID z/rec-webhook "
            + `(CNAME, id rec-webhook, to ${TUNNEL}.cfargotunnel.com, proxied)`);
        expect(lines).toContain("✓ Cloudflare R2 bucket infra-cnpg: created (none exists)");
    });

    it("is quiet about what the stack's state already holds, as its last outputs record it", async () => {
        existing();
        w.scenario.outputs = {
            cloudflareImportIds: {
                value: {
                    "R2 bucket infra-volsync": "eca0833f608b5745af030307a99bdbb4/infra-volsync/default",
                    "tunnel infra": `eca0833f608b5745af030307a99bdbb4/${TUNNEL}`,
                    "tunnel configuration infra": `eca0833f608b5745af030307a99bdbb4/${TUNNEL}`,
                    "DNS record flux-webhook.monosense.dev": "z/rec-webhook",
                },
            },
            credentialDigests: { value: ["0".repeat(64)], secret: true },
        };
        const { results, lines } = await check();
        expect(results.filter((r) => r.status === "warn"), lines.join("\n")).toEqual([]);
        expect(lines).toContain("✓ Cloudflare tunnel infra: already in this stack's state");
        expect(w.pulumiCalls()).toContainEqual(["stack", "output", "--json", "--stack", "infra"]);
    });

    it("compares nothing with a stack whose last run predates the record, and fails with adopt on, as the run refuses", async () => {
        existing();
        w.scenario.outputs = { cluster: { value: "infra" }, tunnelId: { value: TUNNEL } };
        const off = await check();
        expect(off.report.sections.find((s) => s.name === "What exists already (cluster-bootstrap:adopt)")!.results.map(renderLine)).toEqual([
            "- Cloudflare: what exists: not checked: this stack's state cannot be compared with the account: its last run did not record "
            + "cloudflareImportIds (a version of the program before adopt): `pulumi up` records them",
        ]);
        expect(off.report.failures).toBe(0);
        w.scenario.config["cluster-bootstrap:adopt"] = { value: true };
        expect((await check()).find("Cloudflare: what exists")).toMatchObject({ status: "fail", fix: "run `pulumi up --stack infra` once without adopt, then with it" });
    });

    it("fails, with adopt on, on what the run would refuse: two tunnels of the name", async () => {
        existing();
        w.scenario.config["cluster-bootstrap:adopt"] = { value: true };
        w.cloudflareRoutes[`${account}/cfd_tunnel`] = fine([{ id: TUNNEL, name: "infra" }, { id: "t-2", name: "infra" }]);
        const { find } = await check();
        expect(find("Cloudflare: what exists")).toMatchObject({ status: "fail", detail: expect.stringMatching(/^cluster-bootstrap:adopt: 2 tunnels are named "infra" \(ids /) });
    });
});

describe("guards", () => {
    it("lets the API base URLs be overridden for tests only, and only to loopback", () => {
        expect(apiBase("github", {})).toBe("https://api.github.com");
        expect(apiBase("cloudflare", { CLUSTER_BOOTSTRAP_TEST_CLOUDFLARE_API: "http://127.0.0.1:1234/" })).toBe("http://127.0.0.1:1234");
        expect(() => apiBase("github", { CLUSTER_BOOTSTRAP_TEST_GITHUB_API: "https://collector.example" })).toThrow(/tests only and must name a loopback address/);
        expect(testBase("charts", {})).toBeUndefined();
        expect(testBase("charts", { CLUSTER_BOOTSTRAP_TEST_CHARTS: "http://127.0.0.1:5000/" })).toBe("http://127.0.0.1:5000");
        expect(() => testBase("charts", { CLUSTER_BOOTSTRAP_TEST_CHARTS: "https://registry.example" })).toThrow(/CLUSTER_BOOTSTRAP_TEST_CHARTS is for tests only and must name a loopback address/);
    });

    it("scrubs secrets, whole and line by line, from anything passed on", () => {
        const kubeconfig = "apiVersion: v1\nusers:\n- user:\n    token: abcdefghijklmnop-secret\n";
        expect(scrub("error: token: abcdefghijklmnop-secret is bad", [kubeconfig])).toBe("error: [secret] is bad");
        expect(scrub("x github_pat_ABCDEF123456 y", ["github_pat_ABCDEF123456"])).toBe("x [secret] y");
    });
});

describe("npm run check", () => {
    // Asynchronous: the fake APIs answer from this process, which must keep running meanwhile.
    const runCheck = (env: NodeJS.ProcessEnv, ...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "./scripts/register.mjs", "scripts/check.ts", ...args], { cwd: ROOT, env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

    // Two processes at once, each loading the SDKs: slow on a busy machine, so the test may take long; nothing in it
    // depends on how long (each call's bound is far above what a loopback answer takes).
    const SPAWNS_MS = 180_000;

    it("prints one line per check and exits 0 when nothing failed, 1 when something did", async () => {
        const healthy = await fresh();
        const broken = await fresh();
        broken.cloudflareRoutes["/accounts/eca0833f608b5745af030307a99bdbb4/r2/buckets"] = {
            status: 403, body: { success: false, errors: [{ code: 10042, message: "Please enable R2 through the Cloudflare Dashboard." }] },
        };
        healthy.save();
        broken.save();
        const [good, bad] = await Promise.all([
            runCheck(healthy.env(), "infra", "--timeout", "120"),
            runCheck(broken.env(), "infra", "--timeout", "120"),
        ]);
        expect(good.status, good.stdout + good.stderr).toBe(0);
        expect(good.stdout).toMatch(/^Preflight of stack infra \(each call bounded to 120 s;/);
        expect(good.stdout).toContain("\n  ✓ Cloudflare R2: enabled on the account\n");
        expect(good.stdout).toMatch(/Nothing failed: `pulumi up --stack infra` has what it needs\.\n$/);
        expect(bad.status).toBe(1);
        expect(bad.stdout).toMatch(/1 check failed: fix it and run `npm run check -- infra` again\.\n$/);
        for (const r of [good, bad]) {
            for (const secret of [...Object.values(SECRETS), TEST_AGE_KEY]) expect(r.stdout + r.stderr).not.toContain(secret);
            expect(r.stderr).toBe("");
        }
    }, SPAWNS_MS);

    it("explains itself with --help and refuses usage mistakes with exit 2", async () => {
        const [help, wrong] = await Promise.all([runCheck(process.env, "--help"), runCheck(process.env, "infra", "--force")]);
        expect(help.status).toBe(0);
        expect(help.stdout).toContain("--timeout SECONDS");
        expect(wrong.status).toBe(2);
        expect(wrong.stderr.split("\n")[0]).toBe("unknown option --force");
        for (const [args, message] of [[[], "name the stack to check"], [["infra", "--timeout", "0"], '--timeout "0": give a number of seconds above 0, at most 600'],
            [["infra", "--timeout"], "--timeout needs a number of seconds"], [["infra", "apps"], "name one stack, not 2"]] as const) {
            expect(() => parseCheckArgs([...args]), String(args)).toThrow(message);
        }
        expect(parseCheckArgs(["org/infra", "--timeout=2.5"])).toEqual({ stack: "org/infra", timeoutMs: 2500 });
    }, SPAWNS_MS);
});

describe("a hub that is this stack itself", () => {
    beforeEach(fresh);

    it("is refused in the Stack config line, as the program refuses it", async () => {
        w.scenario.config["cluster-bootstrap:hub"] = { value: { stack: "infra", hostnames: ["vm.monosense.dev"] } };
        expect((await check()).lines).toContain('✗ Stack config: cluster-bootstrap:hub.stack: "infra" is this stack itself: name the hub\'s stack '
            + "(the one whose cluster-bootstrap:access.serviceTokens issues this cluster's token), or remove cluster-bootstrap:hub on the hub");
    });

    it("knows the stack's organization only from a qualified --stack", () => {
        expect(ownStack("infra")).toEqual({ organization: undefined, project: "cluster-bootstrap", stack: "infra" });
        expect(ownStack("monosense/infra")).toEqual({ organization: "monosense", project: "cluster-bootstrap", stack: "infra" });
        expect(ownStack("monosense/cluster-bootstrap/infra")).toEqual({ organization: "monosense", project: "cluster-bootstrap", stack: "infra" });
    });
});
