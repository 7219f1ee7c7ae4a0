// Which cluster a stack is about to change, and whether it is this stack's own. The Kubernetes provider adopts
// existing objects (`upsertExistingObjects`), and both stacks use the same object names: pointed at the other
// stack's cluster, a run would re-point its root Kustomization (prune: true) and overwrite its cluster-vars while
// the preview showed ordinary creates. So before anything is registered the program reads
// flux-system/cluster-vars, refuses a cluster whose CLUSTER_NAME is another, and says which cluster it targets.
import { networkCause } from "../config/network";
import * as pulumi from "@pulumi/pulumi";
import { unwrap } from "../config/load";
import { CLUSTER_VARS, FLUX_NAMESPACE } from "../config/names";
import type { ClusterReader } from "./reader";

/** How the stack reaches its cluster, as the Kubernetes provider is configured. */
export interface ClusterTarget {
    /** Kubeconfig contents; undefined means the ambient one (KUBECONFIG, else ~/.kube/config). */
    kubeconfig?: string;
    /** Context to use; undefined means the kubeconfig's current-context. */
    context?: string;
}

/** What the cluster says about itself. */
export interface ClusterIdentity {
    /** API server URL of the context in use. */
    server: string;
    /** The context in use. */
    context: string;
    /** `CLUSTER_NAME` of flux-system/cluster-vars; undefined when the cluster has none (a new or rebuilt cluster). */
    clusterName?: string;
    /**
     * True when flux-system/cluster-vars exists but holds no `CLUSTER_NAME`, which the program always writes: that
     * ConfigMap belongs to something else, and the cluster is refused like another stack's.
     */
    clusterVarsWithoutName?: boolean;
}

/** Thrown when the target cluster cannot be read or is not this stack's; printed without a stack trace. */
export class ClusterIdentityError extends pulumi.RunError {
    /** `cause`: the client's own error, for a caller that names it (the preflight: connection refused, TLS …). */
    constructor(message: string, options?: { cause?: unknown }) {
        super(message);
        this.name = "ClusterIdentityError";
        if (options) this.cause = options.cause;
    }
}

/** `https://… (context admin@infra)`: how messages name the cluster a run targets. */
export function describeTarget(id: Pick<ClusterIdentity, "server" | "context">): string {
    return `${id.server} (context ${JSON.stringify(id.context)})`;
}

/** Why this stack must not change that cluster, or undefined. */
export function identityProblem(args: { stack: string; clusterName: string; found: ClusterIdentity; renameFrom?: string }): string | undefined {
    const { found } = args;
    if (found.clusterVarsWithoutName) {
        return `the cluster at ${describeTarget(found)} has a ${FLUX_NAMESPACE}/${CLUSTER_VARS} without CLUSTER_NAME, which this `
            + `program always writes, so it belongs to something else, not to this stack's cluster.name `
            + `${JSON.stringify(args.clusterName)}: stack ${args.stack} would overwrite it and take over that cluster's Flux. Check `
            + `cluster-bootstrap:kubeContext (or kubeconfig). If that ConfigMap is this cluster's own, add CLUSTER_NAME: `
            + `${JSON.stringify(args.clusterName)} to it (or delete it) and run again.`;
    }
    if (found.clusterName === undefined || found.clusterName === args.clusterName) return undefined;
    if (args.renameFrom !== undefined && found.clusterName === args.renameFrom) return undefined;
    return `the cluster at ${describeTarget(found)} belongs to ${JSON.stringify(found.clusterName)} (CLUSTER_NAME in `
        + `${FLUX_NAMESPACE}/${CLUSTER_VARS}), not to this stack's cluster.name ${JSON.stringify(args.clusterName)}: stack `
        + `${args.stack} would take over that cluster's Flux. Check cluster-bootstrap:kubeContext (or kubeconfig). To rename `
        + `the cluster on purpose, set cluster-bootstrap:renameFrom to ${JSON.stringify(found.clusterName)} for one run.`;
}

/** Bound on each call to the API server: an unreachable cluster is reported, not waited for. */
export const IDENTITY_TIMEOUT_MS = 15_000;

/** `p`, or a rejection naming `what` once `ms` have passed: every call to a cluster is bounded. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
        timer.unref();
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

type KubeClient = typeof import("@kubernetes/client-node");

/**
 * The kubeconfig the provider uses (the stack's, else the ambient one) with the stack's context selected. Kubeconfig
 * loading, contexts and every auth method (client certificates, tokens, exec plugins) are @kubernetes/client-node's;
 * it is loaded only here, so the offline plan never pays for it.
 */
export async function loadKubeConfig(target: ClusterTarget): Promise<{ k8s: KubeClient; kc: import("@kubernetes/client-node").KubeConfig }> {
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    try {
        if (target.kubeconfig !== undefined) kc.loadFromString(target.kubeconfig);
        else kc.loadFromDefault();
    } catch (e) {
        // Its messages can quote the file: only the kind of failure is passed on.
        throw new ClusterIdentityError(`cannot read the ${target.kubeconfig !== undefined ? "stack's" : "ambient"} kubeconfig (${(e as Error).name})`);
    }
    if (target.context !== undefined) {
        if (!kc.getContexts().some((c) => c.name === target.context)) {
            const where = target.kubeconfig !== undefined ? "cluster-bootstrap:kubeconfig" : "the ambient kubeconfig (KUBECONFIG or ~/.kube/config)";
            throw new ClusterIdentityError(`context ${JSON.stringify(target.context)} (cluster-bootstrap:kubeContext) is not in ${where}`);
        }
        kc.setCurrentContext(target.context);
    }
    if (!kc.getCurrentCluster()) throw new ClusterIdentityError("the kubeconfig names no cluster for its current context; set cluster-bootstrap:kubeContext");
    return { k8s, kc };
}

/**
 * Reads the target's server and the `CLUSTER_NAME` of its cluster-vars with the same kubeconfig and context the
 * provider uses.
 */
export async function readClusterIdentity(target: ClusterTarget, timeoutMs = IDENTITY_TIMEOUT_MS): Promise<ClusterIdentity> {
    const { k8s, kc } = await loadKubeConfig(target);
    return readIdentityWith({ kc, core: kc.makeApiClient(k8s.CoreV1Api) }, timeoutMs);
}

/** {@link readClusterIdentity} with a client already connected (./reader.ts shares one per run). */
export async function readIdentityWith(
    c: { kc: import("@kubernetes/client-node").KubeConfig; core: import("@kubernetes/client-node").CoreV1Api }, timeoutMs: number,
): Promise<ClusterIdentity> {
    const identity: ClusterIdentity = { server: c.kc.getCurrentCluster()!.server, context: c.kc.getCurrentContext() };
    try {
        const cm = await withTimeout(c.core.readNamespacedConfigMap({ name: CLUSTER_VARS, namespace: FLUX_NAMESPACE }), timeoutMs, "the API server");
        const name = cm.data?.CLUSTER_NAME;
        if (name) identity.clusterName = name;
        else identity.clusterVarsWithoutName = true;
    } catch (e) {
        // 404: no cluster-vars (or no flux-system) yet, a cluster this program has not bootstrapped.
        if ((e as { code?: number }).code === 404) return identity;
        const status = (e as { code?: number }).code;
        const reason = status === 401 || status === 403
            ? `it refused the credentials (HTTP ${status}); reading ${FLUX_NAMESPACE}/${CLUSTER_VARS} needs get on configmaps there`
            : status !== undefined ? `it answered HTTP ${status}` : networkCause(e) ?? (e as Error).message;
        throw new ClusterIdentityError(`cannot check which cluster ${describeTarget(identity)} is: ${reason}`, { cause: e });
    }
    return identity;
}

export interface VerifyArgs {
    /** Stack name, for messages. */
    stack: string;
    /** This stack's `cluster.name`. */
    clusterName: string;
    /** Secret `kubeconfig` from config; undefined means the ambient kubeconfig. */
    kubeconfig?: pulumi.Output<string>;
    /** `kubeContext` from config. */
    context?: string;
    /** `renameFrom` from config: the one other CLUSTER_NAME this stack may take over. */
    renameFrom?: string;
}

/** The cluster a run verified as its own: whatever the program later reads from the cluster goes to this one only. */
export interface VerifiedCluster {
    /** Kubeconfig and context, as the provider uses them. */
    target: ClusterTarget;
    /** What the cluster said about itself. */
    identity: ClusterIdentity;
}

/**
 * Reads the target with `reader`, refuses a cluster that belongs to another stack, and names the cluster this run
 * changes through `announce` (a line in the preview's diagnostics).
 */
export async function verifyClusterIdentity(args: VerifyArgs, reader: Pick<ClusterReader, "identity">, announce: (message: string) => void): Promise<VerifiedCluster> {
    const kubeconfig = args.kubeconfig === undefined ? undefined : await unwrap(args.kubeconfig);
    const target: ClusterTarget = { kubeconfig, context: args.context };
    const found = await reader.identity(target);
    const problem = identityProblem({ stack: args.stack, clusterName: args.clusterName, found, renameFrom: args.renameFrom });
    if (problem) throw new ClusterIdentityError(problem);
    const state = found.clusterName === undefined ? `no ${FLUX_NAMESPACE}/${CLUSTER_VARS} yet`
        : found.clusterName === args.clusterName ? `CLUSTER_NAME ${JSON.stringify(found.clusterName)}`
            : `CLUSTER_NAME ${JSON.stringify(found.clusterName)}, renamed to ${JSON.stringify(args.clusterName)} by cluster-bootstrap:renameFrom`;
    announce(`stack ${args.stack} changes cluster ${JSON.stringify(args.clusterName)} at ${describeTarget(found)}: ${state}`);
    return { target, identity: found };
}
