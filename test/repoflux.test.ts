// Flux managed by the repository itself (`flux.managedBy: repository`), end to end: the config rules of the mode, the
// program on the fixture repository (its flux-operator and flux-instance app directories, served as `--gitops-dir`
// does), what it creates and what it leaves to the FluxInstance, the order before the flux-instance release, the wait,
// the refusals, and the offline plan of both modes.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError, validateConfig } from "../config";
import { toPlanJson } from "../offline/runtime";
import { ROOT } from "../config/keys";
import {
    isWireSecret, plainAt, redact, reveal, runStack, TEST_AGE_KEY, TEST_AGE_RECIPIENT, waitsFor, type StackRun, type Values,
} from "./harness";
import { runPlan } from "./plan-command";
import { app, FIXTURES } from "./gitops-fixtures";
import { RELEASE, FLUX_INSTANCE, PATCH, GIT_REPOSITORY, KUSTOMIZATION, RECEIVER, DEPLOY_KEY, WEBHOOK } from "./resource-types";

const FIXTURE = FIXTURES.gitops;
const INSTANCE_FILE = "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml";
const CILIUM = app("kube-system", "cilium");
const COREDNS = app("kube-system", "coredns");
const OPERATOR = app("flux-system", "flux-operator");
const INSTANCE = app("flux-system", "flux-instance");

/** The stack in repository mode: the fixture's sync path, the two releases after the CNI. */
function repositoryMode(releases: unknown[] = [CILIUM, COREDNS, OPERATOR, INSTANCE], flux: Values = {}, gitops: Values = {}) {
    return (v: Values) => ({
        ...v,
        cluster: { ...(v.cluster as object), cidr: "10.42.0.0/16" },
        gitops: { repository: "monosense/k8s-ops", branch: "main", path: "kubernetes/flux/cluster", ...gitops },
        flux: { managedBy: "repository", ...flux },
        platform: { releases },
    });
}

/** A copy of the fixture whose flux-instance HelmRelease is changed by `edit` (on its parsed YAML document). */
function fixtureWith(edit: (values: ReturnType<typeof parseDocument>) => void): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-"));
    fs.cpSync(FIXTURE, dir, { recursive: true });
    const file = path.join(dir, INSTANCE_FILE);
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    edit(doc);
    fs.writeFileSync(file, doc.toString());
    return dir;
}

const platformReleases = (run: StackRun) => run.ofType(RELEASE).filter((r) => r.parent.endsWith("PlatformReleases::platform"));
const release = (run: StackRun, name: string) => run.one(RELEASE, `platform-flux-system-${name}`);
const named = (run: StackRun, type: string, name: string) => {
    const found = run.ofType(type).filter((r) => plainAt(r, "metadata.name") === name);
    expect(found, `${type} ${name}`).toHaveLength(1);
    return found[0];
};


describe("cluster-bootstrap:flux.managedBy in the stack config", () => {
    const base = (): Record<string, any> => ({
        cluster: { name: "infra", id: 1, domain: "monosense.dev" },
        kubeContext: "admin@infra",
        gitops: { repository: "monosense/k8s-ops", branch: "main", path: "kubernetes/flux/cluster" },
        flux: { managedBy: "repository" },
        tunnel: { gateway: "https://envoy-external.networking.svc.cluster.local" },
        r2: { buckets: [{ name: "infra-volsync", purpose: "volsync" }] },
        sops: { recipient: TEST_AGE_RECIPIENT },
        sopsAgeKey: TEST_AGE_KEY,
        cloudflareAccountId: "eca0833f608b5745af030307a99bdbb4",
        platform: { releases: [OPERATOR, INSTANCE] },
    });
    const check = async (edit: (v: Record<string, any>) => void) => {
        const values = base();
        edit(values);
        return validateConfig({ values });
    };

    it("defaults to program, which needs flux.version", async () => {
        const program = await check((v) => { v.flux = { version: "2.7.x" }; });
        expect(program.problems).toEqual([]);
        expect(program.config?.flux).toEqual({ managedBy: "program", version: "2.7.x", imageAutomation: false, operatorChartVersion: "0.60.0" });
        expect((await check((v) => { v.flux = { imageAutomation: true }; })).problems).toEqual(["cluster-bootstrap:flux.version: is required"]);
        expect((await check((v) => { v.flux = { managedBy: "helm" }; })).problems).toEqual(["cluster-bootstrap:flux.managedBy: must be one of program, repository"]);
    });

    it("with repository, takes only managedBy and imageAutomation", async () => {
        const r = await check(() => undefined);
        expect(r.problems).toEqual([]);
        expect(r.config?.flux).toEqual({ managedBy: "repository", imageAutomation: false });
        expect((await check((v) => { v.flux.imageAutomation = true; })).config?.flux).toEqual({ managedBy: "repository", imageAutomation: true });
        expect(r.config?.gitops).toMatchObject({ timeout: "10m", timeoutSeconds: 600, wait: true });
    });

    it("with repository, refuses every setting the repository's files decide, and a stack without platform releases", async () => {
        const r = await check((v) => {
            v.flux = { managedBy: "repository", version: "2.7.x", operatorChartVersion: "0.60.0" };
            v.gitops = { ...v.gitops, name: "k8s-ops", interval: "1m", wait: false, timeout: "20m" };
            delete v.platform;
        });
        const mode = 'with cluster-bootstrap:flux.managedBy "repository"';
        expect(r.problems).toEqual([
            `cluster-bootstrap:flux.version: must not be set ${mode}: the repository's flux-instance HelmRelease decides the Flux version (spec.values.instance.distribution.version)`,
            `cluster-bootstrap:flux.operatorChartVersion: must not be set ${mode}: the repository's flux-operator HelmRelease and its chart source decide the operator's version`,
            `cluster-bootstrap:gitops.name: must not be set ${mode}: the FluxInstance names its GitRepository and Kustomization (spec.values.instance.sync.name, else flux-system)`,
            `cluster-bootstrap:gitops.interval: must not be set ${mode}: the FluxInstance's spec.values.instance.sync.interval decides how often Flux fetches`,
            `cluster-bootstrap:gitops.wait: must not be false ${mode}: the Flux Operator reports the FluxInstance Ready only once its GitRepository ` +
                "and Kustomization are ready, and nothing else tells that Flux's CRDs exist for the Receiver; use gitops.timeout to bound the wait",
            `cluster-bootstrap:platform: is required ${mode}: list the app directories of the repository's flux-operator and flux-instance ` +
                "HelmReleases (after the CNI and what else Flux needs to run)",
        ]);
    });
});

describe("a stack whose repository runs Flux", () => {
    let cached: StackRun | undefined;
    const setup = async () => {
        cached ??= await runStack({ edit: repositoryMode(), gitopsDir: FIXTURE });
        expect(cached.error).toBeUndefined();
        return cached;
    };

    it("installs the repository's flux-operator and flux-instance as platform releases, in list order", async () => {
        const run = await setup();
        const releases = platformReleases(run);
        expect(releases.map((r) => plainAt(r, "name"))).toEqual(["cilium", "coredns", "flux-operator", "flux-instance"]);
        const [, coredns, operator, instance] = releases;
        expect(reveal(operator.inputs)).toMatchObject({
            namespace: "flux-system", chart: "oci://127.0.0.1:5000/controlplaneio-fluxcd/charts/flux-operator", version: "0.60.0",
        });
        expect(reveal(instance.inputs)).toMatchObject({
            namespace: "flux-system", chart: "oci://127.0.0.1:5000/controlplaneio-fluxcd/charts/flux-instance", version: "0.60.0",
        });
        expect(plainAt(instance, "values.instance.sync")).toEqual({
            kind: "GitRepository", url: "ssh://git@github.com/monosense/k8s-ops", ref: "refs/heads/main", path: "kubernetes/flux/cluster",
            pullSecret: "github-deploy-key",
        });
        expect(operator.options.dependsOn).toEqual([coredns.urn]);
        expect(instance.options.dependsOn[0]).toBe(operator.urn);
        // Handed over to Flux like every platform release.
        for (const r of [operator, instance]) expect(r.options.retainOnDelete).toBe(true);
    });

    it("creates no Flux of its own: no operator release, FluxInstance, GitRepository or Kustomization", async () => {
        const run = await setup();
        expect(run.ofType(RELEASE).every((r) => r.parent.endsWith("PlatformReleases::platform"))).toBe(true);
        for (const type of [FLUX_INSTANCE, GIT_REPOSITORY, KUSTOMIZATION]) expect(run.ofType(type), type).toEqual([]);
        expect(run.resources.filter((r) => r.type === "cluster-bootstrap:flux:FluxInstall")).toEqual([]);
    });

    it("provides the pull secret under the instance's sync.pullSecret: the deploy key and GitHub's host keys, secret", async () => {
        const run = await setup();
        const secret = named(run, "kubernetes:core/v1:Secret", "github-deploy-key");
        expect(plainAt(secret, "metadata.namespace")).toBe("flux-system");
        expect(isWireSecret(secret.inputs.stringData)).toBe(true);
        expect(Object.keys(plainAt(secret, "stringData") as object).sort()).toEqual(["identity", "identity.pub", "known_hosts"]);
        expect(plainAt(secret, "stringData.known_hosts")).toMatch(/^github\.com ssh-ed25519 /);
        expect(plainAt(run.one(DEPLOY_KEY), "readOnly")).toBe(true);

        const renamed = await runStack({
            edit: repositoryMode(), gitopsDir: fixtureWith((d) => d.setIn(["spec", "values", "instance", "sync", "pullSecret"], "deploy-key")),
        });
        expect(renamed.error).toBeUndefined();
        expect(plainAt(named(renamed, "kubernetes:core/v1:Secret", "deploy-key"), "metadata.namespace")).toBe("flux-system");
        expect(renamed.ofType("kubernetes:core/v1:Secret").map((s) => plainAt(s, "metadata.name"))).not.toContain("github-deploy-key");
    });

    it("provides flux-system, sops-age, cluster-vars and cluster-secrets, all before the flux-instance release", async () => {
        const run = await setup();
        const instance = release(run, "flux-instance");
        const before = waitsFor(run, instance);
        const needed = [
            run.one(DEPLOY_KEY),
            named(run, "kubernetes:core/v1:Namespace", "flux-system"),
            named(run, "kubernetes:core/v1:Secret", "github-deploy-key"),
            named(run, "kubernetes:core/v1:Secret", "sops-age"),
            named(run, "kubernetes:core/v1:ConfigMap", "cluster-vars"),
            named(run, "kubernetes:core/v1:Secret", "cluster-secrets"),
        ];
        for (const r of needed) expect(before.has(r.urn), `${r.type} ${r.name}`).toBe(true);
        // Directly, through the typed hook: the key and both Secrets of the handoff, and the contract.
        expect(instance.options.dependsOn).toEqual(expect.arrayContaining([
            run.one(DEPLOY_KEY).urn, named(run, "kubernetes:core/v1:Secret", "github-deploy-key").urn,
            named(run, "kubernetes:core/v1:Secret", "sops-age").urn, named(run, "kubernetes:core/v1:ConfigMap", "cluster-vars").urn,
        ]));
        // None of them waits for a platform release: they are ready before the CNI is.
        const releases = new Set(platformReleases(run).map((r) => r.urn));
        for (const r of needed) expect([...waitsFor(run, r)].filter((u) => releases.has(u)), r.name).toEqual([]);
    });

    it("has secret zero in place before the flux-instance release, and rotates its credentials as in program mode", async () => {
        const run = await runStack({
            edit: (v) => ({
                ...repositoryMode()(v),
                bootstrapSecrets: [{ namespace: "external-secrets", name: "onepassword-connect", data: { token: "zero-token-value" } }],
                rotation: { deployKey: "2026-12", webhookToken: "2026-12" },
            }),
            gitopsDir: FIXTURE,
        });
        expect(run.error).toBeUndefined();
        const before = waitsFor(run, release(run, "flux-instance"));
        expect(before.has(named(run, "kubernetes:core/v1:Secret", "onepassword-connect").urn)).toBe(true);
        // The platform releases carry the cluster's kube-system uid instead (a rebuilt cluster installs them again).
        const triggered = run.resources.filter((r) => "replacementTrigger" in r.options && r.type !== RELEASE).map((r) => r.name).sort();
        expect(triggered).toEqual(["backups-token", "dns-token", "edge-tunnel-secret", "gitops-key", "push-reconcile-token"]);
        expect(platformReleases(run).map((r) => r.options.replacementTrigger)).toEqual(Array(4).fill("placeholder:kube-system-uid"));
        expect(run.one("PrivateKey").options.replacementTrigger).toMatchObject({ rotation: "2026-12" });
    });

    it("waits for the FluxInstance's Ready through a patch of its own annotations, after the flux-instance release", async () => {
        const run = await setup();
        const patch = run.one(PATCH);
        expect(patch.name).toBe("flux-handover-instance");
        expect(patch.parent).toMatch(/cluster-bootstrap:flux-repository:FluxHandover::flux-handover$/);
        expect(reveal(patch.inputs)).toEqual({
            apiVersion: "fluxcd.controlplane.io/v1",
            kind: "FluxInstance",
            metadata: {
                name: "flux",
                namespace: "flux-system",
                // FluxInstance's 10 minutes, then gitops.timeout for the sync.
                annotations: { "pulumi.com/skipAwait": "true", "cluster-bootstrap/ready-timeout-seconds": "1200", "pulumi.com/patchForce": "true" },
            },
        });
        expect(patch.options.dependsOn).toEqual([release(run, "flux-instance").urn]);
        expect(patch.options.retainOnDelete).toBe(true);
        expect(patch.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
        const longer = await runStack({ edit: repositoryMode(undefined, {}, { timeout: "30m" }), gitopsDir: FIXTURE });
        expect(plainAt(longer.one(PATCH), "metadata.annotations")).toMatchObject({ "cluster-bootstrap/ready-timeout-seconds": "2400" });
        // In `pulumi up` (not a preview) the program's own wait is hooked onto the patch.
        const up = await runStack({ edit: repositoryMode(), gitopsDir: FIXTURE, preview: false });
        expect(up.one(PATCH).options.hooks).toMatchObject({ afterCreate: [expect.anything()], afterUpdate: [expect.anything()] });
    });

    it("points the Receiver at the GitRepository the FluxInstance creates, once it is Ready, and registers the webhook after", async () => {
        const run = await setup();
        const receiver = run.one(RECEIVER);
        expect(plainAt(receiver, "spec.resources")).toEqual([{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "flux-system" }]);
        expect(receiver.options.dependsOn).toContain(run.one(PATCH).urn);
        expect(run.one(WEBHOOK).dependencies).toContain(receiver.urn);
        const renamed = await runStack({
            edit: repositoryMode(), gitopsDir: fixtureWith((d) => d.setIn(["spec", "values", "instance", "sync", "name"], "home-ops")),
        });
        expect(plainAt(renamed.one(RECEIVER), "spec.resources.0.name")).toBe("home-ops");
    });

    it("reports the repository's Flux version, URL, branch and path", async () => {
        const run = await setup();
        expect(run.plainOutputs()).toMatchObject({
            fluxVersion: "2.7.x", repositoryUrl: "ssh://git@github.com/monosense/k8s-ops", branch: "main", path: "kubernetes/flux/cluster",
        });
    });

    it("retains every in-cluster object and keeps every secret out of plain text", async () => {
        const run = await setup();
        for (const r of run.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
            expect(r.options.retainOnDelete, `${r.type} ${r.name}`).toBe(true);
        }
        const visible = JSON.stringify([run.resources.map((r) => redact(r.inputs)), redact(run.outputs), toPlanJson(run)]);
        expect(visible).not.toContain(TEST_AGE_KEY);
        expect(visible).not.toContain("placeholder:PrivateKey/gitops-key/privateKeyOpenssh");
    });

    it("gives the deploy key write access when the stack and the instance both run image automation", async () => {
        const dir = fixtureWith((d) => d.setIn(["spec", "values", "instance", "components"],
            ["source-controller", "kustomize-controller", "image-reflector-controller", "image-automation-controller"]));
        const run = await runStack({ edit: repositoryMode(undefined, { imageAutomation: true }), gitopsDir: dir });
        expect(run.error).toBeUndefined();
        expect(plainAt(run.one(DEPLOY_KEY), "readOnly")).toBe(false);
    });
});

describe("a repository-run Flux that does not fit is a config error, before anything is registered", () => {
    const failing = async (edit: (v: Values) => Values, gitopsDir = FIXTURE) => {
        const run = await runStack({ edit, gitopsDir });
        expect(run.error).toBeInstanceOf(ConfigError);
        // Nothing at all: the files are read through the program's own GitHub reader, before any provider.
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.type)).toEqual([]);
        return (run.error as ConfigError).problems;
    };
    const entry = (i: number) => `cluster-bootstrap:platform.releases[${i}]: ${INSTANCE_FILE}: `;

    it("flux.version set", async () => {
        const run = await runStack({ edit: repositoryMode(undefined, { version: "2.7.x" }), gitopsDir: FIXTURE });
        expect((run.error as ConfigError).problems).toEqual([expect.stringMatching(/^cluster-bootstrap:flux.version: must not be set with/)]);
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });

    it("a missing flux-instance entry, and the instance before the operator", async () => {
        expect(await failing(repositoryMode([CILIUM, OPERATOR]))).toEqual([expect.stringMatching(/^cluster-bootstrap:platform.releases: has no flux-instance release/)]);
        expect(await failing(repositoryMode([CILIUM, INSTANCE, OPERATOR]))).toEqual([expect.stringMatching(/^cluster-bootstrap:platform.releases\[1\]: flux-instance comes before flux-operator/)]);
    });

    it("a sync of another repository, over HTTPS with a pull secret, or none at all", async () => {
        const url = (u: string) => fixtureWith((d) => d.setIn(["spec", "values", "instance", "sync", "url"], u));
        expect(await failing(repositoryMode(), url("ssh://git@github.com/onedr0p/home-ops"))).toEqual([
            expect.stringContaining(`${entry(3)}spec.values.instance.sync.url "ssh://git@github.com/onedr0p/home-ops" is onedr0p/home-ops, not cluster-bootstrap:gitops.repository`),
        ]);
        expect(await failing(repositoryMode(), url("https://github.com/monosense/k8s-ops"))).toEqual([
            expect.stringContaining(`${entry(3)}spec.values.instance.sync.pullSecret "github-deploy-key" is set with an HTTPS sync.url`),
        ]);
        expect(await failing(repositoryMode(), fixtureWith((d) => d.deleteIn(["spec", "values", "instance", "sync"])))).toEqual([
            expect.stringContaining(`${entry(3)}spec.values.instance.sync.url is required`),
        ]);
    });

    it("another branch or path than the stack's", async () => {
        expect(await failing(repositoryMode(undefined, {}, { path: "clusters/infra/flux" }))).toEqual([
            expect.stringContaining(`${entry(3)}spec.values.instance.sync.path "kubernetes/flux/cluster" must be cluster-bootstrap:gitops.path "clusters/infra/flux"`),
        ]);
        expect(await failing(repositoryMode(), fixtureWith((d) => d.setIn(["spec", "values", "instance", "sync", "ref"], "refs/heads/release")))).toEqual([
            expect.stringContaining(`${entry(3)}spec.values.instance.sync.ref "refs/heads/release" must be refs/heads/main`),
        ]);
    });

    it("the repository's Flux under the program's own", async () => {
        const problems = await failing((v) => ({ ...v, platform: { releases: [CILIUM, OPERATOR] } }));
        expect(problems).toEqual([expect.stringMatching(/^cluster-bootstrap:platform.releases\[1\]: installs flux-operator .*"program"/)]);
    });
});

describe("npm run plan in both modes", () => {
    const plan = (...a: string[]) => runPlan(a);
    const stackFile = (edit: (text: string) => string) => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "Pulumi.test.yaml");
        fs.writeFileSync(file, edit(fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8")));
        return file;
    };
    const repositoryFile = () => stackFile((t) => {
        const doc = parseDocument(t);
        doc.setIn(["config", "cluster-bootstrap:gitops", "path"], "kubernetes/flux/cluster");
        doc.setIn(["config", "cluster-bootstrap:flux"], doc.createNode({ managedBy: "repository" }));
        doc.setIn(["config", "cluster-bootstrap:cluster", "cidr"], "10.42.0.0/16");
        doc.setIn(["config", "cluster-bootstrap:platform", "releases"], doc.createNode([CILIUM, COREDNS, OPERATOR, INSTANCE]));
        return doc.toString();
    });
    type Planned = { type: string; name: string; inputs: Record<string, unknown>; options: { dependsOn: string[] }; urn: string };
    const resources = (stdout: string) => JSON.parse(stdout).resources as Planned[];

    it("plans the repository's Flux from --gitops-dir: the two releases, the wait, no Flux of the program's own", async () => {
        const r = await plan("infra", "--json", "--config", repositoryFile(), "--gitops-dir", FIXTURE);
        expect(r.stderr).not.toMatch(/^cluster-bootstrap:/m);
        expect(r.status).toBe(0);
        const planned = resources(r.stdout);
        const types = planned.map((x) => x.type);
        expect(types).toContain(PATCH);
        for (const t of [FLUX_INSTANCE, GIT_REPOSITORY, KUSTOMIZATION]) expect(types).not.toContain(t);
        expect(planned.filter((x) => x.type === RELEASE).map((x) => x.inputs.name)).toEqual(["flux-instance", "flux-operator", "cilium", "coredns"]);
        const patch = planned.find((x) => x.type === PATCH)!;
        expect(patch.options.dependsOn).toEqual([planned.find((x) => x.name === "platform-flux-system-flux-instance")!.urn]);
        expect(JSON.parse(r.stdout).outputs.path).toBe("kubernetes/flux/cluster");
    });

    it("needs --gitops-dir in repository mode: a placeholder cannot say what the FluxInstance syncs", async () => {
        const r = await plan("infra", "--json", "--config", repositoryFile());
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n")[0]).toBe('--gitops-dir is required with cluster-bootstrap:flux.managedBy "repository": the plan reads the ' +
            "FluxInstance's sync from the repository's flux-instance release, which a placeholder cannot stand for (pass a checkout of the GitOps repository)");
    });

    it("exits 1 naming the entry and the rule when the instance syncs another repository", async () => {
        const dir = fixtureWith((d) => d.setIn(["spec", "values", "instance", "sync", "url"], "ssh://git@github.com/onedr0p/home-ops"));
        const r = await plan("infra", "--config", repositoryFile(), "--gitops-dir", dir);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain(`cluster-bootstrap:platform.releases[3]: ${INSTANCE_FILE}: spec.values.instance.sync.url "ssh://git@github.com/onedr0p/home-ops" is onedr0p/home-ops`);
    });

    it("plans the program's own Flux as before, with or without --gitops-dir", async () => {
        const r = await plan("infra", "--json", "--gitops-dir", FIXTURE);
        expect(r.status).toBe(0);
        const types = resources(r.stdout).map((x) => x.type);
        for (const t of [FLUX_INSTANCE, GIT_REPOSITORY, KUSTOMIZATION]) expect(types).toContain(t);
        expect(types).not.toContain(PATCH);
        expect((await plan("infra", "--json")).status).toBe(0);
    });
});
