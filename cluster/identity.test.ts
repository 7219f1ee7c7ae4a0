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

    it("lets a deliberate rename through, and only from the name it gives", () => {
        expect(identityProblem({ stack: "infra", clusterName: "infra2", found: at("infra"), renameFrom: "infra" })).toBeUndefined();
        expect(identityProblem({ stack: "infra", clusterName: "infra2", found: at("apps"), renameFrom: "infra" })).toBeDefined();
    });

    it("names the target by server and context", () => {
        expect(describeTarget(at())).toBe('https://127.0.0.1:6443 (context "admin@infra")');
    });
});
