// The identity check against a fake Kubernetes API on 127.0.0.1: the real reader (@kubernetes/client-node, the
// stack's kubeconfig or the ambient one, its context and credentials), and the program refusing another stack's
// cluster before it registers anything.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHandover } from "../cluster/handover";
import { ClusterIdentityError, readClusterIdentity } from "../cluster/identity";
import { existingOperatorRelease } from "../cluster/operator-release";
import { liveClusterReader } from "../cluster/reader";
import { ConfigError } from "../config";
import { closedPort, fakeApi as fakeKubernetesApi, k8sStatus, type FakeApi as FakeKubernetesApi } from "./fake-apis";
import { runStack, testKubeconfig } from "./harness";

const TOKEN = "fake-api-token-not-real";
const PATH = "/api/v1/namespaces/flux-system/configmaps/cluster-vars";

interface FakeApi {
    url: string;
    /** Base64 of the server's self-signed certificate, for the kubeconfig's certificate-authority-data. */
    caData: string;
    /** What GET cluster-vars answers: a CLUSTER_NAME, 404, or no answer at all. */
    answer: { clusterName?: string } | "missing" | "hang";
    requests: Array<{ path: string; authorization?: string }>;
    close(): Promise<void>;
}

/** A throw-away self-signed certificate for 127.0.0.1, made with the machine's openssl. */
function loopbackCertificate(): { cert: string; key: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-api-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
    return { cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), key: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
}

/**
 * Answers like the API server: HTTPS only, 401 without the bearer token, a Status object on 404, the ConfigMap
 * otherwise.
 */
async function fakeApi(): Promise<FakeApi> {
    const tls = loopbackCertificate();
    const api: Partial<FakeApi> = { answer: "missing", requests: [], caData: Buffer.from(tls.cert).toString("base64") };
    const server = https.createServer(tls, (req, res) => {
        api.requests!.push({ path: req.url ?? "", authorization: req.headers.authorization });
        const status = (code: number, reason: string) => {
            res.writeHead(code, { "content-type": "application/json" });
            res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason, code }));
        };
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return status(401, "Unauthorized");
        if (req.method !== "GET" || req.url?.split("?")[0] !== PATH) return status(404, "NotFound");
        if (api.answer === "hang") return; // never answers
        if (api.answer === "missing") return status(404, "NotFound");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({
            kind: "ConfigMap", apiVersion: "v1",
            metadata: { name: "cluster-vars", namespace: "flux-system" },
            data: { CLUSTER_NAME: (api.answer as { clusterName?: string }).clusterName, CLUSTER_ID: "1" },
        }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api.close = () => new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
    });
    return api as FakeApi;
}

describe("reading the target cluster's identity", () => {
    let api: FakeApi;
    beforeAll(async () => {
        api = await fakeApi();
    });
    afterAll(() => api.close());

    const kubeconfig = (token = TOKEN) => testKubeconfig({ server: api.url, token, context: "admin@infra", caData: api.caData });

    it("reads CLUSTER_NAME from flux-system/cluster-vars with the kubeconfig's credentials", async () => {
        api.answer = { clusterName: "infra" };
        const before = api.requests.length;
        const id = await readClusterIdentity({ kubeconfig: kubeconfig(), context: "admin@infra" });
        expect(id).toEqual({ server: api.url, context: "admin@infra", clusterName: "infra" });
        expect(api.requests.slice(before)).toEqual([{ path: PATH, authorization: `Bearer ${TOKEN}` }]);
    });

    it("tells a cluster-vars without CLUSTER_NAME from none at all", async () => {
        api.answer = {};
        expect(await readClusterIdentity({ kubeconfig: kubeconfig() })).toEqual({ server: api.url, context: "admin@infra", clusterVarsWithoutName: true });
    });

    it("finds no identity on a cluster without cluster-vars", async () => {
        api.answer = "missing";
        expect(await readClusterIdentity({ kubeconfig: kubeconfig() })).toEqual({ server: api.url, context: "admin@infra" });
    });

    it("says so when the API refuses the credentials, without showing them", async () => {
        api.answer = { clusterName: "infra" };
        const e = await readClusterIdentity({ kubeconfig: kubeconfig("wrong-token-value") }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ClusterIdentityError);
        expect((e as Error).message).toBe(`cannot check which cluster ${api.url} (context "admin@infra") is: it refused the credentials `
            + "(HTTP 401); reading flux-system/cluster-vars needs get on configmaps there");
        expect((e as Error).message).not.toContain("wrong-token-value");
    });

    it("names why a cluster cannot be reached (a dead cluster at 3 a.m.): a refused connection, not 'fetch failed'", async () => {
        const server = `https://127.0.0.1:${await closedPort()}`;
        const e = await readClusterIdentity({ kubeconfig: testKubeconfig({ server, token: TOKEN, context: "admin@infra", caData: api.caData }) }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ClusterIdentityError);
        expect((e as Error).message).toBe(`cannot check which cluster ${server} (context "admin@infra") is: connection refused`);
    });

    it("gives up on a server that does not answer the identity read, within the bound", async () => {
        api.answer = "hang";
        const e = await readClusterIdentity({ kubeconfig: kubeconfig() }, 300).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ClusterIdentityError);
        expect((e as Error).message).toMatch(/^cannot check which cluster .* is: the API server did not answer within 0.3 s$/);
    });

    it("refuses a context the kubeconfig does not have", async () => {
        const e = await readClusterIdentity({ kubeconfig: kubeconfig(), context: "admin@apps" }).catch((x: unknown) => x);
        expect((e as Error).message).toBe('context "admin@apps" (cluster-bootstrap:kubeContext) is not in cluster-bootstrap:kubeconfig');
    });

    it("uses the ambient kubeconfig (KUBECONFIG) and the named context when the stack has no kubeconfig", async () => {
        api.answer = { clusterName: "apps" };
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kube-"));
        const file = path.join(dir, "config");
        // Two contexts; the current one is not this stack's.
        fs.writeFileSync(file, testKubeconfig({ server: api.url, token: TOKEN, context: "admin@apps", caData: api.caData })
            .replace("current-context: admin@apps", "current-context: elsewhere")
            .replace("contexts:\n", "contexts:\n- name: elsewhere\n  context:\n    cluster: test\n    user: admin\n"));
        const saved = process.env.KUBECONFIG;
        process.env.KUBECONFIG = file;
        try {
            expect(await readClusterIdentity({ context: "admin@apps" })).toEqual({ server: api.url, context: "admin@apps", clusterName: "apps" });
        } finally {
            if (saved === undefined) delete process.env.KUBECONFIG;
            else process.env.KUBECONFIG = saved;
        }
    });
});

describe("reading what Flux has taken over, from the live cluster", () => {
    const HR_PATH = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/kube-system/helmreleases";
    let api: FakeKubernetesApi;
    /** The cluster behind the fake: whether Flux's CRDs are served, which HelmReleases exist, what the credentials may read. */
    let cluster: { crds: boolean; helmReleases: Record<string, object>; forbidden: boolean; operator?: object };
    const history = [{ name: "cilium", namespace: "kube-system", version: 2, status: "deployed", chartName: "cilium", chartVersion: "1.18.5" }];

    beforeAll(async () => {
        api = await fakeKubernetesApi({ tls: true });
        // Answers as the API server does: 401 without the token; 404 with the object's details for a missing object,
        // and 404 "the server could not find the requested resource" for a group/version that is not served; 403 with
        // RBAC's message when the credentials may not get the resource.
        api.handler = (req) => {
            if (req.authorization !== `Bearer ${TOKEN}`) return k8sStatus(401, "Unauthorized");
            if (req.path === "/api/v1/namespaces/kube-system") {
                return { status: 200, body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", uid: "5c0d3f8a-2e47-4b1c-9a6d-8f3e2b1c0d7a" } } };
            }
            if (req.path.startsWith("/apis/helm.toolkit.fluxcd.io/")) {
                if (!cluster.crds) return { status: 404, body: { kind: "Status", apiVersion: "v1", status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", details: {}, code: 404 } };
                const name = req.path.slice(HR_PATH.length + 1);
                if (cluster.forbidden) {
                    return { status: 403, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Forbidden", code: 403,
                        message: `helmreleases.helm.toolkit.fluxcd.io "${name}" is forbidden: User "ci" cannot get resource "helmreleases" in API group "helm.toolkit.fluxcd.io" in the namespace "kube-system"` } };
                }
                const found = cluster.helmReleases[name];
                if (!found) return { status: 404, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, details: { name, group: "helm.toolkit.fluxcd.io", kind: "helmreleases" } } };
                return { status: 200, body: found };
            }
            if (req.path === OPERATOR_PATH) {
                if (cluster.forbidden) {
                    return { status: 403, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Forbidden", code: 403,
                        message: 'deployments.apps "flux-operator" is forbidden: User "ci" cannot get resource "deployments" in API group "apps" in the namespace "flux-system"' } };
                }
                if (cluster.operator) return { status: 200, body: cluster.operator };
                return { status: 404, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, details: { name: "flux-operator", group: "apps", kind: "deployments" } } };
            }
            return k8sStatus(404, "NotFound");
        };
    });
    afterAll(() => api.close());

    const OPERATOR_PATH = "/apis/apps/v1/namespaces/flux-system/deployments/flux-operator";

    it("finds the Flux Operator's Helm release by its Deployment (adopt), with one get and the run's credentials", async () => {
        cluster = { crds: true, helmReleases: {}, forbidden: false, operator: {
            apiVersion: "apps/v1", kind: "Deployment",
            metadata: { name: "flux-operator", namespace: "flux-system", annotations: { "meta.helm.sh/release-name": "flux-operator", "meta.helm.sh/release-namespace": "flux-system" } },
        } };
        const before = api.requests.length;
        expect(await existingOperatorRelease(liveClusterReader(), target())).toBe("flux-system/flux-operator");
        expect(api.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.authorization}`)).toEqual([`GET ${OPERATOR_PATH} Bearer ${TOKEN}`]);
        cluster = { crds: true, helmReleases: {}, forbidden: false };
        expect(await existingOperatorRelease(liveClusterReader(), target())).toBeUndefined();
        cluster = { crds: true, helmReleases: {}, forbidden: true };
        const e = await existingOperatorRelease(liveClusterReader(), target()).catch((x: unknown) => x);
        expect((e as Error).message).toBe(`cannot read Deployment flux-system/flux-operator on ${api.url} (context "admin@infra"): it refused the `
            + "credentials (HTTP 403); the run needs get on deployments.apps in namespace flux-system");
    });

    const target = () => ({ kubeconfig: testKubeconfig({ server: api.url, token: TOKEN, context: "admin@infra", caData: api.caData }), context: "admin@infra" });
    const releases = [
        { name: "cilium", namespace: "kube-system", helmRelease: "cilium" },
        { name: "coredns", namespace: "kube-system", helmRelease: "coredns" },
    ];
    const helmRelease = (name: string) => ({
        apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name, namespace: "kube-system", generation: 1 },
        status: { conditions: [{ type: "Ready", status: "True", reason: "UpgradeSucceeded", observedGeneration: 1 }], history },
    });

    it("finds a HelmRelease that took its release over, and none for another, each read with the run's credentials", async () => {
        cluster = { crds: true, helmReleases: { cilium: helmRelease("cilium") }, forbidden: false };
        const before = api.requests.length;
        const handover = await readHandover(liveClusterReader(), target(), releases);
        expect(handover).toEqual({
            takeovers: [{ takenOver: true, evidence: "HelmRelease Ready, chart cilium@1.18.5" }, { takenOver: false }],
            crdTakeovers: [],
            clusterUid: "5c0d3f8a-2e47-4b1c-9a6d-8f3e2b1c0d7a",
        });
        expect(api.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.authorization}`).sort()).toEqual([
            `GET /api/v1/namespaces/kube-system Bearer ${TOKEN}`, `GET ${HR_PATH}/cilium Bearer ${TOKEN}`, `GET ${HR_PATH}/coredns Bearer ${TOKEN}`,
        ]);
    });

    it("reads a platform.crds entry's HelmRelease the same way, in the same parallel reads", async () => {
        const { history: _none, ...readyStatus } = helmRelease("spegel").status;
        cluster = { crds: true, helmReleases: { cilium: helmRelease("cilium"), spegel: { ...helmRelease("spegel"), status: readyStatus } }, forbidden: false };
        const before = api.requests.length;
        const handover = await readHandover(liveClusterReader(), target(), releases, undefined,
            [{ name: "spegel", namespace: "kube-system", helmRelease: "spegel" }, { name: "other", namespace: "kube-system", helmRelease: "other" }]);
        expect(handover.takeovers.map((t) => t.takenOver)).toEqual([true, false]);
        expect(handover.crdTakeovers).toEqual([{ takenOver: true, evidence: "HelmRelease Ready" }, { takenOver: false }]);
        expect(api.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.authorization}`).sort()).toEqual([
            `GET /api/v1/namespaces/kube-system Bearer ${TOKEN}`, `GET ${HR_PATH}/cilium Bearer ${TOKEN}`, `GET ${HR_PATH}/coredns Bearer ${TOKEN}`,
            `GET ${HR_PATH}/other Bearer ${TOKEN}`, `GET ${HR_PATH}/spegel Bearer ${TOKEN}`,
        ]);
    });

    it("finds nothing taken over on a cluster that serves no Flux API at all (a new or rebuilt one)", async () => {
        cluster = { crds: false, helmReleases: { cilium: helmRelease("cilium") }, forbidden: false };
        const handover = await readHandover(liveClusterReader(), target(), releases);
        expect(handover.takeovers).toEqual([{ takenOver: false }, { takenOver: false }]);
    });

    it("stops, naming the permission, when the credentials may not read a HelmRelease", async () => {
        cluster = { crds: true, helmReleases: {}, forbidden: true };
        const e = await readHandover(liveClusterReader(), target(), releases).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ClusterIdentityError);
        expect((e as Error).message).toBe(`cannot read HelmRelease kube-system/cilium on ${api.url} (context "admin@infra"): it refused the `
            + "credentials (HTTP 403); the run needs get on helmreleases.helm.toolkit.fluxcd.io in namespace kube-system");
    });

    it("gives up on a server that does not answer, within the bound", async () => {
        cluster = { crds: true, helmReleases: {}, forbidden: false };
        const saved = api.handler;
        api.handler = (req) => (req.path.startsWith(HR_PATH) ? "hang" : saved(req));
        const e = await readHandover(liveClusterReader(300), target(), releases).catch((x: unknown) => x);
        api.handler = saved;
        expect((e as Error).message).toBe(`cannot read HelmRelease kube-system/cilium on ${api.url} (context "admin@infra"): the API server did not answer within 0.3 s`);
    });
});

describe("the program and the target cluster", () => {
    const registered = (run: Awaited<ReturnType<typeof runStack>>) => run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");

    it("refuses another stack's cluster before registering anything", async () => {
        const run = await runStack({ stack: "apps", cluster: { clusterName: "infra" } });
        expect(run.error).toBeInstanceOf(ClusterIdentityError);
        expect((run.error as Error).message).toContain('belongs to "infra" (CLUSTER_NAME in flux-system/cluster-vars), not to this stack\'s cluster.name "apps"');
        expect(registered(run)).toEqual([]);
    });

    it("changes its own cluster, and says which one", async () => {
        const run = await runStack({ stack: "infra", cluster: { clusterName: "infra", server: "https://127.0.0.1:6443" } });
        expect(run.error).toBeUndefined();
        expect(run.notes).toEqual(['stack infra changes cluster "infra" at https://127.0.0.1:6443 (context "admin@infra"): CLUSTER_NAME "infra"']);
    });

    it("takes over a cluster under another name only from the name renameFrom gives", async () => {
        const ok = await runStack({ stack: "infra", config: { renameFrom: "old" }, cluster: { clusterName: "old" } });
        expect(ok.error).toBeUndefined();
        expect(ok.notes[0]).toContain('CLUSTER_NAME "old", renamed to "infra" by cluster-bootstrap:renameFrom');
        const other = await runStack({ stack: "infra", config: { renameFrom: "old" }, cluster: { clusterName: "apps" } });
        expect(other.error).toBeInstanceOf(ClusterIdentityError);
    });

    it("stops when the cluster cannot be read, before registering anything", async () => {
        const run = await runStack({ cluster: new ClusterIdentityError("cannot check which cluster x is: it answered HTTP 500") });
        expect(run.error).toBeInstanceOf(ClusterIdentityError);
        expect(registered(run)).toEqual([]);
    });

    it("requires the stack to name its cluster: kubeContext or kubeconfig", async () => {
        const run = await runStack({ config: { kubeContext: undefined } });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect((run.error as ConfigError).problems).toEqual([expect.stringMatching(
            /^cluster-bootstrap:kubeContext: is required unless cluster-bootstrap:kubeconfig is set/)]);
        expect(registered(run)).toEqual([]);
    });

    it("passes the named context to the Kubernetes provider", async () => {
        const run = await runStack({ stack: "apps" });
        expect(run.one("pulumi:providers:kubernetes").inputs.context).toBe("admin@apps");
    });
});
