// Disaster recovery: the same stack run against a rebuilt cluster (a new kubeconfig, same cluster name) must ask
// for no change but the Kubernetes provider's kubeconfig. Whatever components the program registers, every other
// resource keeps its inputs and options, so `pulumi up` after a refresh only re-creates what the cluster lost.
import { describe, expect, it } from "vitest";
import { isWireSecret, reveal, runStack, type RecordedResource, type StackRun } from "./harness";

function kubeconfig(cluster: string, server: string, token: string): string {
    return [
        "apiVersion: v1",
        "kind: Config",
        `clusters:\n- name: ${cluster}\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${Buffer.from(`ca-of-${token}`).toString("base64")}`,
        `users:\n- name: admin\n  user:\n    token: ${token}`,
        `contexts:\n- name: admin@${cluster}\n  context:\n    cluster: ${cluster}\n    user: admin`,
        `current-context: admin@${cluster}`,
        "",
    ].join("\n");
}

const K8S_PROVIDER = "pulumi:providers:kubernetes";

/** What the engine compares between two runs: inputs (secrets revealed) and the options that shape the diff. */
function comparable(r: RecordedResource) {
    return {
        type: r.type,
        parent: r.parent,
        custom: r.custom,
        inputs: reveal(r.inputs),
        protect: r.options.protect,
        retainOnDelete: r.options.retainOnDelete,
        dependsOn: [...r.options.dependsOn].sort(),
        deletedWith: r.options.deletedWith,
        ignoreChanges: [...r.options.ignoreChanges].sort(),
    };
}

function byUrn(run: StackRun): Map<string, RecordedResource> {
    expect(run.error).toBeUndefined();
    const map = new Map<string, RecordedResource>();
    for (const r of run.resources) {
        expect(map.has(r.urn), `URN registered twice: ${r.urn}`).toBe(false);
        map.set(r.urn, r);
    }
    return map;
}

describe.each(["infra", "apps"])("rebuilding the %s cluster", (stack) => {
    it("changes the inputs of no resource but the Kubernetes provider's kubeconfig", async () => {
        const before = byUrn(await runStack({ stack, secrets: { kubeconfig: kubeconfig(stack, "https://127.0.0.1:6443", "old-token") } }));
        // New CA, credentials and even API address: only the cluster's name survives a rebuild.
        const after = byUrn(await runStack({ stack, secrets: { kubeconfig: kubeconfig(stack, "https://127.0.0.2:7443", "new-token") } }));

        // Same resources: nothing appears or disappears because the cluster was rebuilt.
        expect([...after.keys()].sort()).toEqual([...before.keys()].sort());

        const providers = [...before.values()].filter((r) => r.type === K8S_PROVIDER);
        expect(providers.length, "the program registers an explicit Kubernetes provider").toBeGreaterThanOrEqual(1);

        for (const [urn, old] of before) {
            const now = after.get(urn)!;
            if (old.type !== K8S_PROVIDER) {
                expect(comparable(now), urn).toEqual(comparable(old));
                continue;
            }
            // The provider is updated in place: its kubeconfig (a secret) changes, its identity does not.
            const { kubeconfig: oldKc, ...oldRest } = old.inputs;
            const { kubeconfig: newKc, ...newRest } = now.inputs;
            expect(isWireSecret(oldKc) && isWireSecret(newKc), `${urn}: kubeconfig is a secret input`).toBe(true);
            expect(reveal(newKc), urn).not.toEqual(reveal(oldKc));
            expect(reveal(newKc)).toContain("new-token");
            const clusterIdentifier = reveal(now.inputs.clusterIdentifier);
            expect(typeof clusterIdentifier === "string" && clusterIdentifier.length > 0, `${urn}: clusterIdentifier set`).toBe(true);
            expect(clusterIdentifier).toEqual(reveal(old.inputs.clusterIdentifier));
            expect(reveal(newRest), urn).toEqual(reveal(oldRest));
            expect(comparable({ ...now, inputs: {} }), urn).toEqual(comparable({ ...old, inputs: {} }));
        }
    });

    it("has in-cluster objects for the recovery to re-create, all on the explicit provider and retained", async () => {
        const run = await runStack({ stack, secrets: { kubeconfig: kubeconfig(stack, `https://${stack}.k8s.internal:6443`, "t") } });
        expect(run.error).toBeUndefined();
        const provider = run.resources.filter((r) => r.type === K8S_PROVIDER);
        const inCluster = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
        expect(inCluster.length).toBeGreaterThanOrEqual(1);
        for (const r of inCluster) {
            // The default provider would follow whatever KUBECONFIG the shell has: the wrong cluster in a DR.
            expect(provider.some((p) => r.provider.startsWith(`${p.urn}::`)), `${r.urn} uses the explicit provider`).toBe(true);
            expect(r.options.retainOnDelete, `${r.urn} is retained`).toBe(true);
        }
    });
});
