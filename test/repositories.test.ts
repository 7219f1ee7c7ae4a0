// The repositories users already have, as they are (issue 22): a public repository synced over HTTPS with no deploy
// key, shaped like onedr0p/home-ops (test/fixtures/home-ops); one rendered from onedr0p/cluster-template over SSH with
// `pullSecret: deploy-key` (test/fixtures/cluster-template); the program's own Flux over HTTPS; the refusals; and the
// GitHub reader against a fake GitHub API on 127.0.0.1, counting its requests.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPlatformReleases } from "../components/platform";
import { ConfigError, validateConfig } from "../config";
import { toPlanJson } from "../offline/runtime";
import { policies } from "../policy/rules";
import { githubFiles, githubRepositoryReader, RepositoryReadError } from "../providers/github-files";
import { closedPort, fakeApi, type FakeAnswer, type FakeApi, type FakeRequest } from "./fake-apis";
import { plainAt, runStack, validValues, type StackRun, type Values } from "./harness";
import { evaluate } from "./policy-analyzer";
import { app, FIXTURES } from "./gitops-fixtures";
import { RELEASE, GIT_REPOSITORY, RECEIVER, SECRET, DEPLOY_KEY, WEBHOOK } from "./resource-types";

const HOME_OPS = FIXTURES.homeOps;
const CLUSTER_TEMPLATE = FIXTURES.clusterTemplate;
const GITOPS = FIXTURES.gitops;

const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
const SSH_KEYS = "github:index/getSshKeys:getSshKeys";

/** home-ops' `bootstrap/helmfile/apps.yaml`, in its order, its hooks' files as `apply`. */
const HOME_OPS_APPS = [
    app("kube-system", "cilium", ["networking.yaml"]), app("kube-system", "coredns"), app("kube-system", "spegel"), app("cert-manager", "cert-manager"),
    app("external-secrets", "external-secrets"), app("external-secrets", "onepassword-connect", ["clustersecretstore.yaml"]),
    app("flux-system", "flux-operator"), app("flux-system", "flux-instance"),
];
/** home-ops' `bootstrap/helmfile/crds.yaml`: envoy-gateway's app directory (the fixture's only one of them). */
const HOME_OPS_CRDS = [app("network", "envoy-gateway")];
/** The files home-ops' hooks apply. */
const HOME_OPS_APPLY = ["kubernetes/apps/kube-system/cilium/app/networking.yaml", "kubernetes/apps/external-secrets/onepassword-connect/app/clustersecretstore.yaml"];
/** cluster-template's `bootstrap/helmfile/apps.yaml`, in its order. */
const CLUSTER_TEMPLATE_APPS = [
    app("kube-system", "cilium"), app("kube-system", "coredns"), app("kube-system", "spegel"), app("cert-manager", "cert-manager"),
    app("flux-system", "flux-operator"), app("flux-system", "flux-instance"),
];
/** What a release needs of each app directory: the kustomization, the HelmRelease, its OCIRepository. */
const NEEDED = (apps: Array<{ path: string }>) => apps.flatMap((a) => ["kustomization.yaml", "helmrelease.yaml", "ocirepository.yaml"].map((f) => `${a.path}/${f}`));

/** A stack whose repository runs Flux, on `repository` at main, syncing kubernetes/flux/cluster. */
const repositoryMode = (repository: string, releases: unknown[], extra: (v: Values) => Values = (v) => v, crds?: unknown[]) => (v: Values) => extra({
    ...v,
    gitops: { repository, branch: "main", path: "kubernetes/flux/cluster" },
    flux: { managedBy: "repository" },
    platform: { releases, ...(crds ? { crds } : {}) },
});
const homeOps = (extra?: (v: Values) => Values) => repositoryMode("onedr0p/home-ops", HOME_OPS_APPS, extra, HOME_OPS_CRDS);
// The committed stack names monosense as github:owner, which must own gitops.repository: left out for onedr0p's.
const NO_OWNER = { "github:owner": undefined };

const secretNames = (run: StackRun) => run.ofType(SECRET).map((s) => plainAt(s, "metadata.name"));

/** A copy of `root` with `edit` applied to the text of one file. */
function fixtureWith(root: string, file: string, edit: (text: string) => string): string {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? "/tmp"), "gitops-"));
    fs.cpSync(root, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, file), edit(fs.readFileSync(path.join(dir, file), "utf8")));
    return dir;
}
const INSTANCE_FILE = "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml";

describe("a repository shaped like onedr0p/home-ops: public, synced over HTTPS with no pull secret", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack({ edit: homeOps(), gitopsDir: HOME_OPS, providerConfig: NO_OWNER });
    });

    it("plans its eight bootstrap releases in order, the repository's own Flux last", () => {
        expect(run.error).toBeUndefined();
        expect(run.ofType(RELEASE).map((r) => plainAt(r, "name"))).toEqual(HOME_OPS_APPS.map((a) => a.path.split("/")[3]));
        expect(plainAt(run.one(RELEASE, "platform-flux-system-flux-instance"), "values.instance.sync")).toEqual({
            kind: "GitRepository", url: "https://github.com/onedr0p/home-ops", ref: "refs/heads/main", path: "kubernetes/flux/cluster", interval: "1h",
        });
    });

    it("creates no deploy key: no key pair, no deploy key on GitHub, no pull-secret Secret, no host keys read", () => {
        expect(run.ofType(DEPLOY_KEY)).toEqual([]);
        expect(run.ofType(PRIVATE_KEY)).toEqual([]);
        expect(secretNames(run).sort()).toEqual(["cluster-secrets", "github-webhook-token", "sops-age"]);
        expect(run.invokes.map((i) => i.token)).not.toContain(SSH_KEYS);
        // The stack outputs say nothing of a key that does not exist.
        expect(run.plainOutputs()).not.toHaveProperty("deployKeyFingerprint");
        expect(run.plainOutputs()).toMatchObject({ repositoryUrl: "https://github.com/onedr0p/home-ops", branch: "main", path: "kubernetes/flux/cluster" });
        const handoff = Object.entries(run.componentOutputs).find(([urn]) => urn.includes("GitOpsHandoff"))![1];
        expect(Object.keys(handoff).sort()).toEqual(["branch", "gitRepositoryName", "path", "repositoryUrl"]);
    });

    it("keeps everything else: sops-age and the contract before the flux-instance release, the Receiver and the webhook after", () => {
        const instance = run.one(RELEASE, "platform-flux-system-flux-instance");
        const byName = (name: string) => run.resources.find((r) => r.custom && plainAt(r, "metadata.name") === name)!;
        expect(instance.options.dependsOn).toEqual(expect.arrayContaining([byName("sops-age").urn, byName("cluster-vars").urn]));
        expect(plainAt(run.one(RECEIVER), "spec.resources")).toEqual([{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "flux-system" }]);
        expect(plainAt(run.one(WEBHOOK), "repository")).toBe("home-ops");
    });

    it("passes the policy pack, whose deploy-key rule has nothing to judge", async () => {
        const ev = await evaluate(policies, run.resources, { exposeRetainOnDelete: true });
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable.map((n) => n.policy)).toContain("deploy-key-read-only");
    });

    it("applies envoy-gateway's CRDs before cilium, and the hooks' files once their release is ready, before the next one", () => {
        const crds = run.ofType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition");
        expect(crds.map((c) => c.name)).toEqual(["platform-crds-network-envoy-gateway/placeholder:crds/gateway-helm@1.7.0"]);
        const releases = run.ofType(RELEASE);
        expect(releases[0].options.dependsOn).toEqual([crds[0].urn]);
        const [networking, store] = HOME_OPS_APPLY.map((f) => run.resources.filter((r) => r.custom && r.name.includes(`:${f}-`)));
        expect(networking).toHaveLength(6);
        expect(store.map((o) => o.type)).toEqual(["kubernetes:external-secrets.io/v1:ClusterSecretStore"]);
        const next = (name: string) => releases[releases.findIndex((r) => plainAt(r, "name") === name) + 1];
        expect([...next("cilium").options.dependsOn].sort()).toEqual([run.one(RELEASE, "platform-kube-system-cilium").urn, ...networking.map((o) => o.urn)].sort());
        expect([...next("onepassword-connect").options.dependsOn].sort())
            .toEqual([run.one(RELEASE, "platform-external-secrets-onepassword-connect").urn, store[0].urn].sort());
    });

    it("reads exactly the kustomization, HelmRelease and OCIRepository of each app and the hooks' files: no dashboard, alert rule or ExternalSecret", () => {
        expect(run.reads.map((r) => r.path).sort()).toEqual([...NEEDED([...HOME_OPS_APPS, ...HOME_OPS_CRDS]), ...HOME_OPS_APPLY].sort());
        expect(run.reads.every((r) => r.repository === "onedr0p/home-ops" && r.branch === "main" && r.found)).toBe(true);
        // The plan lists no repository file among the provider functions: they are the reader's.
        expect(toPlanJson(run).invokes.map((i) => i.token)).not.toContain("github:index/getRepositoryFile:getRepositoryFile");
    });
});

describe("the repository's flux-instance release with an apply of its own", () => {
    it("applies it once the instance release is ready, substituted, and the wait for the FluxInstance stays on the release", async () => {
        const apps = HOME_OPS_APPS.map((a) => (a.path.endsWith("/flux-instance/app") ? { ...a, apply: ["httproute.yaml"] } : a));
        const run = await runStack({ edit: repositoryMode("onedr0p/home-ops", apps, undefined, HOME_OPS_CRDS), gitopsDir: HOME_OPS, providerConfig: NO_OWNER });
        expect(run.error).toBeUndefined();
        const instance = run.one(RELEASE, "platform-flux-system-flux-instance");
        const route = run.one("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute");
        expect(route.name).toBe("platform-flux-system-flux-instance:kubernetes/apps/flux-system/flux-instance/app/httproute.yaml-flux-system/flux-webhook");
        expect(route.options.dependsOn).toEqual([instance.urn]);
        expect(plainAt(route, "spec.hostnames")).toEqual(["flux-webhook.monosense.dev"]);
        expect(run.one("kubernetes:fluxcd.controlplane.io/v1:FluxInstancePatch").options.dependsOn).toEqual([instance.urn]);
    });
});

describe("a repository rendered from onedr0p/cluster-template: SSH, with pullSecret: deploy-key", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack({ edit: repositoryMode("monosense/k8s-ops", CLUSTER_TEMPLATE_APPS), gitopsDir: CLUSTER_TEMPLATE });
    });

    it("plans the deploy key under that Secret name, read-only, and no Secret of the default name", () => {
        expect(run.error).toBeUndefined();
        const secret = run.ofType(SECRET).find((s) => plainAt(s, "metadata.name") === "deploy-key")!;
        expect(plainAt(secret, "metadata.namespace")).toBe("flux-system");
        expect(Object.keys(plainAt(secret, "stringData") as object).sort()).toEqual(["identity", "identity.pub", "known_hosts"]);
        expect(secretNames(run)).not.toContain("github-deploy-key");
        expect(plainAt(run.one(DEPLOY_KEY), "readOnly")).toBe(true);
        expect(run.plainOutputs()).toMatchObject({ repositoryUrl: "ssh://git@github.com/monosense/k8s-ops", deployKeyFingerprint: expect.stringMatching(/^SHA256:/) });
        // The flux-instance release waits for the key and its Secret.
        expect(run.one(RELEASE, "platform-flux-system-flux-instance").options.dependsOn).toEqual(expect.arrayContaining([run.one(DEPLOY_KEY).urn, secret.urn]));
    });

    it("reads no SOPS file, Receiver or HTTPRoute of the repository", () => {
        expect(run.reads.map((r) => r.path).sort()).toEqual(NEEDED(CLUSTER_TEMPLATE_APPS).sort());
    });
});

describe("the program's own Flux over HTTPS (gitops.transport: https)", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack({ edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), transport: "https" } }), gitopsDir: GITOPS });
    });

    it("points the GitRepository at the HTTPS URL with no secretRef, and creates no deploy key", () => {
        expect(run.error).toBeUndefined();
        expect(plainAt(run.one(GIT_REPOSITORY), "spec")).toEqual({ url: "https://github.com/monosense/k8s-ops", ref: { branch: "main" }, interval: "1m" });
        expect(run.ofType(DEPLOY_KEY)).toEqual([]);
        expect(run.ofType(PRIVATE_KEY)).toEqual([]);
        expect(secretNames(run).sort()).toEqual(["cluster-secrets", "github-webhook-token", "sops-age"]);
        expect(run.invokes.map((i) => i.token)).not.toContain(SSH_KEYS);
        expect(run.plainOutputs()).not.toHaveProperty("deployKeyFingerprint");
        expect(run.plainOutputs().repositoryUrl).toBe("https://github.com/monosense/k8s-ops");
    });

    it("keeps the rest of the handoff: the root Kustomization, the Receiver and the webhook, and passes the policy pack", async () => {
        expect(run.ofType("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization")).toHaveLength(1);
        expect(run.one(RECEIVER).options.dependsOn.length).toBeGreaterThan(0);
        expect(run.one(WEBHOOK)).toBeDefined();
        expect((await evaluate(policies, run.resources, { exposeRetainOnDelete: true })).violations).toEqual([]);
    });

    it("is ssh by default, with the deploy key as before", async () => {
        const ssh = await runStack({ gitopsDir: GITOPS });
        expect(plainAt(ssh.one(GIT_REPOSITORY), "spec.url")).toBe("ssh://git@github.com/monosense/k8s-ops");
        expect(plainAt(ssh.one(GIT_REPOSITORY), "spec.secretRef")).toEqual({ name: "github-deploy-key" });
        expect(ssh.ofType(DEPLOY_KEY)).toHaveLength(1);
    });
});

describe("refusals", () => {
    const problems = (run: StackRun) => {
        expect(run.error).toBeInstanceOf(ConfigError);
        // Before anything is registered.
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
        return (run.error as ConfigError).problems;
    };
    const entry = `cluster-bootstrap:platform.releases[7]: ${INSTANCE_FILE}: `;

    it("an HTTPS sync with a pull secret: the program provides only SSH deploy keys", async () => {
        const dir = fixtureWith(HOME_OPS, INSTANCE_FILE, (t) => t.replace("        interval: 1h\n", "        interval: 1h\n        pullSecret: github-token\n"));
        const run = await runStack({ edit: homeOps(), gitopsDir: dir, providerConfig: NO_OWNER });
        expect(problems(run)).toEqual([
            `${entry}spec.values.instance.sync.pullSecret "github-token" is set with an HTTPS sync.url, where Flux would read it as a ` +
                "username and password or a token; the program provides only SSH deploy keys: remove pullSecret to read the public " +
                "repository anonymously, or sync ssh://git@github.com/onedr0p/home-ops with it",
        ]);
    });

    it("image automation over HTTPS, in repository mode, naming both keys", async () => {
        const run = await runStack({ edit: homeOps((v) => ({ ...v, flux: { managedBy: "repository", imageAutomation: true } })), gitopsDir: HOME_OPS, providerConfig: NO_OWNER });
        expect(problems(run)).toEqual([
            `${entry}cluster-bootstrap:flux.imageAutomation is true, but spec.values.instance.sync.url is HTTPS: image-automation-controller ` +
                "pushes to the repository, which needs a credential, and the program provides one only as an SSH deploy key: sync " +
                "ssh://git@github.com/onedr0p/home-ops with a pullSecret, or set cluster-bootstrap:flux.imageAutomation to false",
        ]);
    });

    it("image automation over HTTPS, in program mode, naming both keys", async () => {
        const run = await runStack({ edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), transport: "https" }, flux: { version: "2.7.x", imageAutomation: true } }) });
        expect(problems(run)).toEqual([
            'cluster-bootstrap:flux.imageAutomation: true cannot work with cluster-bootstrap:gitops.transport "https": image-automation-controller ' +
                "pushes to the repository, which needs a credential, and over HTTPS Flux has none (the program creates deploy keys for SSH only): " +
                'set cluster-bootstrap:gitops.transport to "ssh", or turn image automation off',
        ]);
    });

    it("a gitops.transport that is neither ssh nor https, and one set where the repository's sync decides", async () => {
        const check = (gitops: Values, flux: Values = { version: "2.7.x" }) => validateConfig({ values: { ...validValues(), gitops: { ...validValues().gitops, ...gitops }, flux } });
        expect((await check({ transport: "git" })).problems).toEqual(["cluster-bootstrap:gitops.transport: must be one of ssh, https"]);
        expect((await check({ transport: "https" })).config?.gitops.transport).toBe("https");
        expect((await check({})).config?.gitops.transport).toBe("ssh");
        expect((await check({ transport: "ssh" }, { managedBy: "repository" })).problems).toEqual(expect.arrayContaining([
            'cluster-bootstrap:gitops.transport: must not be set with cluster-bootstrap:flux.managedBy "repository": the FluxInstance\'s ' +
                "spec.values.instance.sync.url decides (ssh://git@github.com/<owner>/<name> with a pullSecret, or " +
                "https://github.com/<owner>/<name> without one for a public repository)",
        ]));
    });
});

// ---------------------------------------------------------------- the reader against a fake GitHub API

const TOKEN = "github_pat_SENTINEL0022notrealnotrealnotreal";

/**
 * GitHub's contents endpoint over a directory, as the REST API answers (docs: "Get repository content"): the file's own
 * bytes under the raw media type, else the JSON object with base64 content; a directory's JSON listing whatever the
 * media type; 404 for a missing path or ref; 401 without the token.
 */
function contentsApi(root: string, repository: string, branch: string) {
    return (req: FakeRequest): FakeAnswer => {
        if (req.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { message: "Bad credentials", status: "401" } };
        const prefix = `/repos/${repository}/contents/`;
        if (req.method !== "GET" || !req.path.startsWith(prefix)) return { status: 404, body: { message: "Not Found", status: "404" } };
        if (req.query.get("ref") !== branch) return { status: 404, body: { message: `No commit found for the ref ${req.query.get("ref")}`, status: "404" } };
        const rel = decodeURIComponent(req.path.slice(prefix.length));
        const file = path.join(root, rel);
        if (!fs.existsSync(file)) return { status: 404, body: { message: "Not Found", status: "404" } };
        if (fs.statSync(file).isDirectory()) {
            return { status: 200, body: fs.readdirSync(file).map((name) => ({ name, path: `${rel}/${name}`, type: "file" })), headers: { "content-type": "application/json; charset=utf-8" } };
        }
        const text = fs.readFileSync(file, "utf8");
        if (String(req.headers.accept).split(",").some((a) => a.trim() === "application/vnd.github.raw+json")) {
            return { status: 200, text, headers: { "content-type": "application/vnd.github.raw+json; charset=utf-8" } };
        }
        return { status: 200, body: { type: "file", encoding: "base64", content: Buffer.from(text).toString("base64") }, headers: { "content-type": "application/json; charset=utf-8" } };
    };
}

describe("the GitHub reader, against a fake GitHub API on 127.0.0.1", () => {
    let api: FakeApi;
    beforeAll(async () => {
        api = await fakeApi();
    });
    afterAll(() => api.close());
    const serve = () => {
        api.requests.length = 0;
        api.handler = contentsApi(HOME_OPS, "onedr0p/home-ops", "main");
    };
    const files = (timeoutMs?: number) => githubFiles({ repository: "onedr0p/home-ops", branch: "main", token: TOKEN, apiUrl: api.url, timeoutMs });
    const CLUSTER = { CLUSTER_NAME: "infra", CLUSTER_ID: "1" };

    it("reads home-ops' eight releases with one request per file it needs, and no other", async () => {
        serve();
        const releases = await readPlatformReleases(HOME_OPS_APPS, { files: files(), known: CLUSTER });
        expect(releases.map((r) => `${r.namespace}/${r.name}@${r.version}`)).toEqual([
            "kube-system/cilium@1.18.4", "kube-system/coredns@1.47.0", "kube-system/spegel@0.7.4", "cert-manager/cert-manager@v1.21.1",
            "external-secrets/external-secrets@1.1.0", "external-secrets/onepassword-connect@2.4.1", "flux-system/flux-operator@0.60.0",
            "flux-system/flux-instance@0.60.0",
        ]);
        // 8 apps, 41 files in them: 24 requests, exactly the files needed, each once.
        expect(api.requests).toHaveLength(24);
        expect(api.requests.map((r) => r.path.replace("/repos/onedr0p/home-ops/contents/", "")).sort()).toEqual(NEEDED(HOME_OPS_APPS).sort());
        for (const r of api.requests) {
            expect(r.method).toBe("GET");
            expect(r.query.get("ref")).toBe("main");
            expect(r.authorization).toBe(`Bearer ${TOKEN}`);
            expect(r.headers.accept).toBe("application/vnd.github.raw+json");
            expect(r.headers["x-github-api-version"]).toBe("2022-11-28");
        }
    });

    it("serves the whole program: the stack's github:token reaches GitHub as a bearer token, and nothing else is asked", async () => {
        serve();
        const run = await runStack({
            edit: homeOps(), github: githubRepositoryReader(api.url), providerConfig: { ...NO_OWNER, "github:token": TOKEN },
        });
        expect(run.error).toBeUndefined();
        expect(run.ofType(RELEASE)).toHaveLength(8);
        // The eight apps' 24 files, envoy-gateway's three for its CRDs, and the two files the hooks apply.
        expect(api.requests).toHaveLength(29);
        expect(api.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
        expect(JSON.stringify(toPlanJson(run))).not.toContain(TOKEN);
    });

    it("takes a 404 and a directory for no file, and a raw JSON file for a file", async () => {
        serve();
        expect(await files().file("kubernetes/apps/kube-system/nothing.yaml")).toBeUndefined();
        expect(await files().file("kubernetes/apps/kube-system/cilium/app")).toBeUndefined();
        api.handler = () => ({ status: 200, text: "[1, 2]", headers: { "content-type": "application/vnd.github.raw+json; charset=utf-8" } });
        expect(await files().file("values.json")).toBe("[1, 2]");
        expect(api.requests).toHaveLength(3);
    });

    it("says why a read failed, bounded in time, and never quotes the token", async () => {
        const failure = async (answer: (req: FakeRequest) => FakeAnswer, timeoutMs?: number) => {
            api.handler = answer;
            const e = await files(timeoutMs).file("kubernetes/apps/kube-system/cilium/app/kustomization.yaml").then(() => undefined, (x: unknown) => x);
            expect(e).toBeInstanceOf(RepositoryReadError);
            expect(String((e as Error).message)).not.toContain(TOKEN);
            return (e as Error).message;
        };
        expect(await failure(() => ({ status: 401, body: { message: "Bad credentials" } }))).toBe(
            "GitHub answered HTTP 401 (Bad credentials): the token was refused; set a valid github:token");
        expect(await failure(() => ({ status: 403, body: { message: "API rate limit exceeded" }, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800000000" } }))).toBe(
            "GitHub answered HTTP 403 (API rate limit exceeded): the API rate limit is used up until 2027-01-15T08:00:00.000Z");
        // The secondary limit, as GitHub answers it: retry-after, or only its message.
        expect(await failure(() => ({ status: 403, body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }, headers: { "retry-after": "60" } }))).toBe(
            "GitHub answered HTTP 403 (You have exceeded a secondary rate limit. Please wait a few minutes before you try again.): GitHub's secondary rate limit; run again after 60 s");
        expect(await failure(() => ({ status: 429, body: { message: "You have exceeded a secondary rate limit." } }))).toBe(
            "GitHub answered HTTP 429 (You have exceeded a secondary rate limit.): GitHub's secondary rate limit; run again in a few minutes");
        expect(await failure(() => ({ status: 403, body: { message: "Resource not accessible by personal access token" }, headers: { "x-accepted-github-permissions": "contents=read" } }))).toBe(
            "GitHub answered HTTP 403 (Resource not accessible by personal access token): give the token Contents: Read on the repository " +
            "(GitHub says it needs contents=read)");
        // Whatever echoes the credential back, the message does not carry it.
        expect(await failure((req) => ({ status: 502, body: { message: `upstream refused ${req.authorization}` } }))).toBe(
            "GitHub answered HTTP 502 (upstream refused Bearer [secret])");
        expect(await failure(() => "hang", 200)).toBe("the GitHub API did not answer within 0.2 s");
        // Nothing listening: the cause, as the preflight names it.
        const closed = await githubFiles({ repository: "onedr0p/home-ops", branch: "main", token: TOKEN, apiUrl: `http://127.0.0.1:${await closedPort()}` })
            .file("kubernetes/apps/kube-system/cilium/app/kustomization.yaml").then(() => undefined, (x: unknown) => x);
        expect(closed).toBeInstanceOf(RepositoryReadError);
        expect((closed as Error).message).toBe("the GitHub API cannot be reached: connection refused");
    });

    it("names the file and the branch when a read fails in the program, without the token", async () => {
        api.handler = () => ({ status: 401, body: { message: "Bad credentials" } });
        const e = await readPlatformReleases([HOME_OPS_APPS[0]], { files: files(), known: CLUSTER }).then(() => undefined, (x: unknown) => x);
        expect((e as ConfigError).problems).toEqual([
            "cluster-bootstrap:platform.releases[0]: kubernetes/apps/kube-system/cilium/app/kustomization.yaml: reading it from branch main of " +
                "onedr0p/home-ops failed: GitHub answered HTTP 401 (Bad credentials): the token was refused; set a valid github:token",
        ]);
    });
});
