// The program waits for its Flux objects itself (cluster/flux-await.ts): in `pulumi up` each awaited object carries
// an after-create/update hook and tells the provider not to wait; a preview (and so the offline plan) binds no hook
// and reads nothing. The hook reads the object from the cluster the run verified, here a fake API on 127.0.0.1.
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { verifyClusterIdentity, type ClusterTarget } from "../cluster/identity";
import { liveClusterReader } from "../cluster/reader";
import { NotReadyError, waitForApplied } from "../cluster/flux-await";
import { fakeApi, k8sStatus, type FakeApi } from "./fake-apis";
import { plainAt, runStack, testKubeconfig } from "./harness";

const AWAITED = [
    "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
    "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
    "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
    "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver",
];

describe("which objects the program waits for", () => {
    it("binds the wait to the four Flux objects in `pulumi up`, and tells the provider not to wait", async () => {
        const run = await runStack({ preview: false });
        expect(run.error).toBeUndefined();
        const hooked = run.resources.filter((r) => r.options.hooks);
        expect(hooked.map((r) => r.type).sort()).toEqual([...AWAITED].sort());
        for (const r of hooked) {
            expect(r.options.hooks!.afterCreate, r.type).toHaveLength(1);
            expect(r.options.hooks!.afterUpdate, r.type).toHaveLength(1);
            expect(plainAt(r, "metadata.annotations"), r.type).toMatchObject({
                "pulumi.com/skipAwait": "true", "cluster-bootstrap/ready-timeout-seconds": r.type.endsWith("Receiver") ? "300" : "600",
            });
            expect(Object.keys(plainAt(r, "metadata.annotations") as object), r.type).not.toContain("pulumi.com/waitFor");
        }
    });

    it("binds nothing in a preview, so the plan and preview never read the cluster for it", async () => {
        const run = await runStack({});
        expect(run.error).toBeUndefined();
        expect(run.resources.filter((r) => r.options.hooks)).toEqual([]);
        for (const type of AWAITED) expect(plainAt(run.one(type), "metadata.annotations"), type).toMatchObject({ "pulumi.com/skipAwait": "true" });
    });

    it("leaves the GitRepository and root Kustomization unawaited with gitops.wait false", async () => {
        const run = await runStack({ preview: false, edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), wait: false } }) });
        expect(run.error).toBeUndefined();
        expect(run.resources.filter((r) => r.options.hooks).map((r) => r.type).sort()).toEqual([AWAITED[0], AWAITED[3]].sort());
        for (const type of [AWAITED[1], AWAITED[2]]) expect(plainAt(run.one(type), "metadata.annotations"), type).toEqual({ "pulumi.com/skipAwait": "true" });
    });
});

describe("the wait against a cluster", () => {
    const TOKEN = "fake-api-token-not-real";
    const PATH = "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/k8s-ops";
    let api: FakeApi;
    let target: ClusterTarget;
    let answers: Array<() => ReturnType<FakeApi["handler"]>> = [];
    const gitRepository = (status: string, reason: string, message: string) => ({
        status: 200,
        body: {
            apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository",
            metadata: { name: "k8s-ops", namespace: "flux-system", generation: 1 },
            status: { observedGeneration: 1, conditions: [{ type: "Ready", status, reason, message }] },
        },
    });
    const hookArgs = {
        urn: "urn:pulumi:infra::cluster-bootstrap::cluster-bootstrap:gitops:GitOpsHandoff$kubernetes:source.toolkit.fluxcd.io/v1:GitRepository::gitops-source",
        id: "flux-system/k8s-ops", name: "gitops-source", type: "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
        newOutputs: { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "k8s-ops", namespace: "flux-system", generation: 1 } },
    } as pulumi.ResourceHookArgs;

    beforeAll(async () => {
        api = await fakeApi({ tls: true });
        api.handler = (req) => {
            if (req.authorization !== `Bearer ${TOKEN}`) return k8sStatus(401, "Unauthorized");
            if (req.path === "/api/v1/namespaces/flux-system/configmaps/cluster-vars") return k8sStatus(404, "NotFound");
            if (req.path !== PATH) return k8sStatus(404, "NotFound");
            return (answers.length > 1 ? answers.shift()! : answers[0])();
        };
        // The hook waits on the cluster the run verified: verify the fake one, as the program does first.
        ({ target } = await verifyClusterIdentity({
            stack: "infra", clusterName: "infra", context: "admin@infra",
            kubeconfig: { apply: (f: (v: string) => unknown) => f(testKubeconfig({ server: api.url, token: TOKEN, caData: api.caData })) } as unknown as pulumi.Output<string>,
        }, liveClusterReader(), () => undefined));
    });
    afterAll(() => api.close());

    it("reads the object with the run's credentials until it is Ready, telling Flux's reason on the way", async () => {
        const info = vi.spyOn(console, "log").mockImplementation(() => undefined);
        answers = [
            () => gitRepository("Unknown", "Progressing", "cloning"),
            () => gitRepository("True", "Succeeded", "stored artifact for revision 'main@sha1:abc'"),
        ];
        const before = api.requests.length;
        await waitForApplied(target, hookArgs, 10, { pollMs: 20 });
        expect(api.requests.slice(before).map((r) => `${r.path} ${r.authorization}`)).toEqual([`${PATH} Bearer ${TOKEN}`, `${PATH} Bearer ${TOKEN}`]);
        // Without an engine, pulumi.log prints to the console: the same lines `pulumi up` shows under the object.
        expect(info.mock.calls.map((c) => c[0])).toEqual([
            "info: [runtime] GitRepository flux-system/k8s-ops: waiting for Ready: Progressing: cloning",
            "info: [runtime] GitRepository flux-system/k8s-ops: Ready: stored artifact for revision 'main@sha1:abc'",
        ]);
        info.mockRestore();
    });

    it("fails with Flux's own message when GitHub refuses the deploy key", async () => {
        const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
        const refused = "failed to checkout and determine revision: unable to clone 'ssh://git@github.com/monosense/k8s-ops': ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain";
        answers = [() => gitRepository("False", "GitOperationFailed", refused)];
        const e = await waitForApplied(target, hookArgs, 600, { pollMs: 20, graceMs: 100 }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(NotReadyError);
        expect((e as Error).message).toContain(`GitRepository flux-system/k8s-ops is not Ready and waiting will not change that: GitOperationFailed: ${refused}.`);
        warn.mockRestore();
    });

    it("retries a read the server refuses for now, within the object's timeout", async () => {
        const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
        answers = [() => k8sStatus(503, "ServiceUnavailable")];
        const e = await waitForApplied(target, hookArgs, 0.3, { pollMs: 50 }).catch((x: unknown) => x);
        expect((e as Error).message).toBe("GitRepository flux-system/k8s-ops is not Ready after 0.3 s: reading it answered HTTP 503");
        expect(warn.mock.calls.map((c) => c[0])).toEqual(["warning: [runtime] GitRepository flux-system/k8s-ops: reading it answered HTTP 503; retrying"]);
        warn.mockRestore();
    });
});
