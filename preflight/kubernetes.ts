// The cluster: its API answers with the kubeconfig and context the stack names, it is this stack's cluster (the same
// identity rule the program applies before registering anything), and its nodes are registered.
import { describeTarget, identityProblem, loadKubeConfig, readClusterIdentity, withTimeout, type ClusterTarget } from "../cluster/identity";
import { networkCause } from "../config/network";
import { fail, ok, warn, type CheckResult } from "./result";

/** The checks of this family, in order: what is listed as not checked when the family cannot run. */
export const KUBERNETES_CHECKS = ["Kubernetes API", "Kubernetes cluster identity", "Kubernetes nodes"] as const;

export interface KubernetesCheckOptions {
    target: ClusterTarget;
    /** Where the kubeconfig comes from, for messages: `cluster-bootstrap:kubeconfig`, a file, or the ambient one. */
    source: string;
    stack: string;
    /** `cluster.name`; undefined when the config has no usable one (the identity line is then skipped). */
    clusterName?: string;
    renameFrom?: string;
    /** The stack installs platform releases (a CNI) before Flux. */
    platformReleases: boolean;
    timeoutMs: number;
}

/** `3 nodes, 2 Ready`, or what is missing: a line that is true with and without platform releases. */
export function nodesLine(nodes: Array<{ name: string; ready: boolean }>, platformReleases: boolean): CheckResult {
    const title = "Kubernetes nodes";
    if (nodes.length === 0) return fail(title, "none registered", "finish the cluster's install (its nodes must join) before bootstrapping");
    const ready = nodes.filter((n) => n.ready).length;
    const counts = `${nodes.length} node${nodes.length === 1 ? "" : "s"}, ${ready} Ready`;
    if (ready === nodes.length) return ok(title, counts);
    // NotReady usually means no CNI yet: nothing (the Flux Operator included) starts until one runs.
    return platformReleases
        ? ok(title, `${counts}: expected before a CNI runs; cluster-bootstrap:platform.releases installs it first`)
        : warn(title, `${counts}: pods cannot start until a CNI runs`,
            "install the CNI with the cluster, or list its app directory in cluster-bootstrap:platform.releases");
}

export async function kubernetesChecks(o: KubernetesCheckOptions, out: CheckResult[]): Promise<void> {
    const fix = "check cluster-bootstrap:kubeContext (or kubeconfig) and that the API server is reachable from here";
    let id;
    try {
        id = await readClusterIdentity(o.target, o.timeoutMs);
    } catch (e) {
        // No answer at all: the cause (refused, TLS, name), not the client's `fetch failed`.
        const cause = networkCause((e as Error).cause, o.timeoutMs);
        const server = cause === undefined ? undefined : await targetOf(o.target);
        out.push(fail("Kubernetes API", `${cause === undefined ? (e as Error).message : `${server ? `${server}: ` : ""}${cause}`} (kubeconfig: ${o.source})`, fix));
        return;
    }
    out.push(ok("Kubernetes API", `answers at ${describeTarget(id)}, kubeconfig: ${o.source}`));

    if (o.clusterName === undefined) {
        out.push(warn("Kubernetes cluster identity", "not checked: cluster-bootstrap:cluster.name is not usable (see the Stack config lines)"));
    } else {
        const problem = identityProblem({ stack: o.stack, clusterName: o.clusterName, found: id, renameFrom: o.renameFrom });
        if (problem) out.push(fail("Kubernetes cluster identity", problem));
        else if (id.clusterName === undefined) out.push(ok("Kubernetes cluster identity", "a cluster not bootstrapped yet (no flux-system/cluster-vars)"));
        else out.push(ok("Kubernetes cluster identity", `this stack's: CLUSTER_NAME ${JSON.stringify(id.clusterName)}`));
    }

    try {
        const { k8s, kc } = await loadKubeConfig(o.target);
        const list = await withTimeout(kc.makeApiClient(k8s.CoreV1Api).listNode(), o.timeoutMs, "the API server");
        out.push(nodesLine(list.items.map((n) => ({
            name: n.metadata?.name ?? "",
            ready: (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
        })), o.platformReleases));
    } catch (e) {
        const code = (e as { code?: unknown }).code;
        const status = typeof code === "number" ? code : undefined;
        out.push(fail("Kubernetes nodes", status !== undefined ? `listing them answered HTTP ${status}` : networkCause(e, o.timeoutMs) ?? (e as Error).message,
            status === 401 || status === 403 ? "the run needs cluster-admin (it installs CRDs and a cluster-wide operator)" : undefined));
    }
}

/** `https://… (context "x")` for the message, or undefined when the kubeconfig itself is the problem. */
async function targetOf(target: ClusterTarget): Promise<string | undefined> {
    try {
        const { kc } = await loadKubeConfig(target);
        return describeTarget({ server: kc.getCurrentCluster()!.server, context: kc.getCurrentContext() });
    } catch {
        return undefined;
    }
}
