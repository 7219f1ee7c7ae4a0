import { describe, expect, it } from "vitest";
import { NotReadyError, objectPath, permanentCause, readiness, waitUntilReady, type FluxObject } from "./flux-await";

const cond = (type: string, status: string, reason = "", message = "", observedGeneration?: number) =>
    ({ type, status, reason, message, ...(observedGeneration !== undefined ? { observedGeneration } : {}) });
const obj = (kind: string, conditions: ReturnType<typeof cond>[], generation = 1): FluxObject =>
    ({ kind, metadata: { name: "k8s-ops", namespace: "flux-system", generation }, status: { conditions } });

// Messages as Flux writes them.
const SSH_REFUSED = "failed to checkout and determine revision: unable to clone 'ssh://git@github.com/monosense/k8s-ops': "
    + "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain";
const NO_BRANCH = "failed to checkout and determine revision: unable to clone 'ssh://git@github.com/monosense/k8s-ops': "
    + "couldn't find remote ref \"refs/heads/release\"";
const NO_PATH = "kustomization path not found: stat /tmp/kustomization-1/clusters/infra/flux: no such file or directory";

describe("readiness", () => {
    it("is ready on Ready=True for the current generation", () => {
        expect(readiness(obj("GitRepository", [cond("Ready", "True", "Succeeded", "stored artifact for revision 'main@sha1:abc'", 2)], 2)))
            .toEqual({ state: "ready", message: "stored artifact for revision 'main@sha1:abc'" });
    });

    it("waits while the controller has not seen the current generation, even when Ready=True", () => {
        expect(readiness(obj("FluxInstance", [cond("Ready", "True", "ReconciliationSucceeded", "", 1)], 2)))
            .toMatchObject({ state: "waiting", reason: "Progressing" });
        const status = { ...obj("FluxInstance", [cond("Ready", "True")], 3), status: { conditions: [cond("Ready", "True")], observedGeneration: 2 } };
        expect(readiness(status)).toMatchObject({ state: "waiting" });
    });

    it("never shows a Receiver's webhook path, which derives from the token", () => {
        const path = "/hook/cbdee599b7977a520a36692e5b872c39d09ee53dd75b2e3ae117fea283958fbf";
        expect(readiness(obj("Receiver", [cond("Ready", "True", "Succeeded", `Receiver initialized for path: ${path}`)])))
            .toEqual({ state: "ready", message: "Receiver initialized for path: /hook/[secret]" });
        expect(readiness(obj("Receiver", [cond("Stalled", "True", "X", `bad ${path}`)]))).toMatchObject({ message: "bad /hook/[secret]" });
    });

    it("waits until the controller has handled the reconcile request the object carries", () => {
        const receiver = (handled?: string): FluxObject => ({
            kind: "Receiver",
            metadata: { name: "github-receiver", namespace: "flux-system", generation: 1, annotations: { "reconcile.fluxcd.io/requestedAt": "rotation-webhook-token-01" } },
            status: { conditions: [cond("Ready", "True", "Succeeded", "ok", 1)], ...(handled ? { lastHandledReconcileAt: handled } : {}) },
        });
        expect(readiness(receiver())).toMatchObject({ state: "waiting", reason: "Progressing" });
        expect(readiness(receiver("rotation-webhook-token-00"))).toMatchObject({ state: "waiting" });
        expect(JSON.stringify(readiness(receiver("x")))).not.toContain("rotation-webhook-token-01");
        expect(readiness(receiver("rotation-webhook-token-01"))).toEqual({ state: "ready", message: "ok" });
    });

    it("waits for an object without conditions", () => {
        expect(readiness({ kind: "Receiver" })).toMatchObject({ state: "waiting", reason: "NoStatus", failing: false });
    });

    it("fails at once when Flux reports the object Stalled", () => {
        expect(readiness(obj("FluxInstance", [cond("Ready", "False", "BuildFailed", "build failed: x"), cond("Stalled", "True", "BuildFailed", "build failed: x")])))
            .toEqual({ state: "failed", reason: "BuildFailed", message: "build failed: x", stalled: true });
    });

    it("fails on causes that waiting does not cure, and keeps waiting on the others", () => {
        expect(readiness(obj("GitRepository", [cond("Ready", "False", "GitOperationFailed", SSH_REFUSED)]))).toMatchObject({ state: "failed", stalled: false });
        expect(readiness(obj("GitRepository", [cond("Ready", "False", "GitOperationFailed", "dial tcp: i/o timeout")])))
            .toMatchObject({ state: "waiting", failing: true, reason: "GitOperationFailed" });
        expect(readiness(obj("Kustomization", [cond("Ready", "False", "ArtifactFailed", NO_PATH)]))).toMatchObject({ state: "failed" });
        expect(readiness(obj("Kustomization", [cond("Ready", "False", "ArtifactFailed", "Source artifact not found, retrying in 30s")])))
            .toMatchObject({ state: "waiting" });
        expect(readiness(obj("Kustomization", [cond("Ready", "Unknown", "Progressing", "Reconciliation in progress")])))
            .toMatchObject({ state: "waiting", failing: false });
    });
});

describe("permanent causes", () => {
    it.each([
        ["GitRepository", "AuthenticationFailed", "failed to get secret 'flux-system/github-deploy-key': not found", true],
        ["GitRepository", "GitOperationFailed", SSH_REFUSED, true],
        ["GitRepository", "GitOperationFailed", NO_BRANCH, true],
        ["GitRepository", "GitOperationFailed", "unable to clone: ssh: handshake failed: knownhosts: key mismatch", true],
        ["GitRepository", "GitOperationFailed", "unable to clone: ssh: handshake failed: EOF", false],
        // A private repository fetched over HTTPS with no credential (go-git's transport.ErrAuthenticationRequired).
        ["GitRepository", "GitOperationFailed", "failed to checkout and determine revision: unable to clone 'https://github.com/onedr0p/home-ops': authentication required", true],
        ["Kustomization", "BuildFailed", "kustomize build failed: accumulating resources", true],
        ["Kustomization", "ArtifactFailed", NO_PATH, true],
        ["Kustomization", "ReconciliationFailed", "no matches for kind \"HelmRelease\"", false],
        ["Receiver", "SecretNotFound", "x", false],
    ])("%s %s", (kind, reason, message, expected) => {
        expect(permanentCause(kind, reason, message)).toBe(expected);
    });
});

describe("where the API serves an object", () => {
    it("maps Flux kinds to their resources and refuses others", () => {
        expect(objectPath("source.toolkit.fluxcd.io/v1", "GitRepository")).toEqual({ group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories" });
        expect(objectPath("fluxcd.controlplane.io/v1", "FluxInstance").plural).toBe("fluxinstances");
        expect(() => objectPath("v1", "ConfigMap")).toThrow(/not a Flux kind/);
    });
});

describe("waiting", () => {
    /** A read that returns the given objects in turn, the last one forever. */
    const sequence = (...objects: Array<FluxObject | Error | undefined>) => {
        let i = 0;
        return async () => {
            const o = objects[Math.min(i++, objects.length - 1)];
            if (o instanceof Error) throw o;
            return o;
        };
    };
    const run = async (read: () => Promise<FluxObject | undefined>, extra: { timeoutSeconds?: number; graceMs?: number } = {}) => {
        const lines: string[] = [];
        const started = Date.now();
        const error = await waitUntilReady({
            describe: "GitRepository flux-system/k8s-ops", read, timeoutSeconds: extra.timeoutSeconds ?? 5,
            log: (severity, message) => lines.push(`${severity}: ${message}`), pollMs: 10, graceMs: extra.graceMs ?? 50,
        }).then(() => undefined, (e: unknown) => e);
        return { lines, error, ms: Date.now() - started };
    };

    it("logs each new reason and message once and returns when Ready", async () => {
        const progressing = obj("GitRepository", [cond("Ready", "Unknown", "Progressing", "building artifact")]);
        const r = await run(sequence(undefined, progressing, progressing, progressing, obj("GitRepository", [cond("Ready", "True", "Succeeded", "stored artifact")])));
        expect(r.error).toBeUndefined();
        expect(r.lines).toEqual([
            "warn: GitRepository flux-system/k8s-ops: not found in the cluster; retrying",
            "info: GitRepository flux-system/k8s-ops: waiting for Ready: Progressing: building artifact",
            "info: GitRepository flux-system/k8s-ops: Ready: stored artifact",
        ]);
    });

    it("fails with Flux's message once a permanent cause outlasts the grace, long before the timeout", async () => {
        const r = await run(sequence(obj("GitRepository", [cond("Ready", "False", "GitOperationFailed", SSH_REFUSED)])), { timeoutSeconds: 60, graceMs: 100 });
        expect(r.error).toBeInstanceOf(NotReadyError);
        expect((r.error as Error).message).toBe(`GitRepository flux-system/k8s-ops is not Ready and waiting will not change that: GitOperationFailed: ${SSH_REFUSED}. `
            + "Flux keeps retrying on its own; fix the cause (repository, deploy key, stack config), then check with `flux get all -A` or run `pulumi up` again.");
        expect(r.ms).toBeLessThan(5000);
        expect(r.lines).toEqual([`warn: GitRepository flux-system/k8s-ops: not Ready: GitOperationFailed: ${SSH_REFUSED}`]);
    });

    it("forgives a permanent-looking cause that clears within the grace", async () => {
        const refused = obj("GitRepository", [cond("Ready", "False", "GitOperationFailed", SSH_REFUSED)]);
        const r = await run(sequence(refused, obj("GitRepository", [cond("Ready", "True", "Succeeded", "ok")])), { graceMs: 1000 });
        expect(r.error).toBeUndefined();
    });

    it("fails at once on Stalled", async () => {
        const r = await run(sequence(obj("FluxInstance", [cond("Stalled", "True", "BuildFailed", "build failed: unsupported version")])), { graceMs: 60_000 });
        expect((r.error as Error).message).toMatch(/^GitRepository flux-system\/k8s-ops is not Ready and waiting will not change that: BuildFailed: build failed: unsupported version\./);
        expect(r.ms).toBeLessThan(1000);
    });

    it("fails at the timeout with the last reason and message", async () => {
        const r = await run(sequence(obj("Kustomization", [cond("Ready", "False", "ReconciliationFailed", "apply failed")])), { timeoutSeconds: 0.2 });
        expect((r.error as Error).message).toBe("GitRepository flux-system/k8s-ops is not Ready after 0.2 s: ReconciliationFailed: apply failed");
    });

    it("stops at once when the run's credentials may not read the object, and retries other read errors", async () => {
        const forbidden = Object.assign(new Error("Forbidden"), { code: 403 });
        const r = await run(sequence(forbidden));
        expect((r.error as Error).message).toBe("GitRepository flux-system/k8s-ops: cannot be read to wait for it (HTTP 403): the run's Kubernetes credentials need get on it");
        const flaky = await run(sequence(Object.assign(new Error("x"), { code: 503 }), obj("GitRepository", [cond("Ready", "True")])));
        expect(flaky.error).toBeUndefined();
        expect(flaky.lines[0]).toBe("warn: GitRepository flux-system/k8s-ops: reading it answered HTTP 503; retrying");
    });
});
