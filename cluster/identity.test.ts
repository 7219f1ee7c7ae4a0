import { describe, expect, it } from "vitest";
import { describeTarget, identityProblem, type ClusterIdentity } from "./identity";

const at = (clusterName?: string): ClusterIdentity => ({ server: "https://127.0.0.1:6443", context: "admin@infra", clusterName });

describe("which cluster a stack may change", () => {
    it("accepts a cluster without cluster-vars (new or rebuilt) and its own cluster", () => {
        expect(identityProblem({ stack: "infra", clusterName: "infra", found: at() })).toBeUndefined();
        expect(identityProblem({ stack: "infra", clusterName: "infra", found: at("infra") })).toBeUndefined();
    });

    it("refuses another stack's cluster, naming both names, the target and the way out", () => {
        expect(identityProblem({ stack: "apps", clusterName: "apps", found: at("infra") })).toBe(
            'the cluster at https://127.0.0.1:6443 (context "admin@infra") belongs to "infra" (CLUSTER_NAME in '
            + 'flux-system/cluster-vars), not to this stack\'s cluster.name "apps": stack apps would take over that '
            + "cluster's Flux. Check cluster-bootstrap:kubeContext (or kubeconfig). To rename the cluster on purpose, set "
            + 'cluster-bootstrap:renameFrom to "infra" for one run.');
    });

    it("refuses a cluster-vars without CLUSTER_NAME, which the program always writes, naming it and this stack's cluster", () => {
        const unnamed: ClusterIdentity = { ...at(), clusterVarsWithoutName: true };
        expect(identityProblem({ stack: "infra", clusterName: "infra", found: unnamed })).toBe(
            'the cluster at https://127.0.0.1:6443 (context "admin@infra") has a flux-system/cluster-vars without CLUSTER_NAME, which '
            + 'this program always writes, so it belongs to something else, not to this stack\'s cluster.name "infra": stack infra would '
            + "overwrite it and take over that cluster's Flux. Check cluster-bootstrap:kubeContext (or kubeconfig). If that ConfigMap is "
            + 'this cluster\'s own, add CLUSTER_NAME: "infra" to it (or delete it) and run again.');
        // No rename takes over such a cluster: there is no name to rename from.
        expect(identityProblem({ stack: "infra", clusterName: "infra", found: unnamed, renameFrom: "" })).toBeDefined();
    });

    it("lets a deliberate rename through, and only from the name it gives", () => {
        expect(identityProblem({ stack: "infra", clusterName: "infra2", found: at("infra"), renameFrom: "infra" })).toBeUndefined();
        expect(identityProblem({ stack: "infra", clusterName: "infra2", found: at("apps"), renameFrom: "infra" })).toBeDefined();
    });

    it("names the target by server and context", () => {
        expect(describeTarget(at())).toBe('https://127.0.0.1:6443 (context "admin@infra")');
    });
});
