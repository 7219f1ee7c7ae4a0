// How the program reads its target cluster before it registers anything: which cluster it is (./identity.ts), and the
// objects that say what Flux has taken over (./handover.ts). One reader per run, one client per target: the same
// kubeconfig, context and credentials as the Kubernetes provider, every call bounded. The real run reads the live
// cluster ({@link liveClusterReader}); the offline plan and the tests pass their own (offline/runtime.ts), so no
// module state is patched.
import { networkCause } from "../config/network";
import { objectPath, type FluxObject } from "./flux-await";
import {
    ClusterIdentityError, describeTarget, IDENTITY_TIMEOUT_MS, loadKubeConfig, readIdentityWith, withTimeout,
    type ClusterIdentity, type ClusterTarget,
} from "./identity";

/** An object the program reads, by API version, kind, namespace and name. */
export interface ObjectRef {
    /** `helm.toolkit.fluxcd.io/v2`, or `v1` for the core group. */
    apiVersion: string;
    kind: string;
    /** Undefined for a cluster-scoped object (a Namespace). */
    namespace?: string;
    name: string;
}

/** An object as the API server returns it; the reads only look at metadata and status. */
export type KubeObject = FluxObject & { metadata?: FluxObject["metadata"] & { uid?: string } };

export interface ClusterReader {
    /** The target's server and context, and what its flux-system/cluster-vars says about it. */
    identity(target: ClusterTarget): Promise<ClusterIdentity>;
    /**
     * Each object, read in parallel; undefined where it does not exist, and where its kind is not served at all (no
     * Flux installed yet: the API answers 404 for the group too). Throws {@link ClusterIdentityError} when a read is
     * refused (naming the permission it needs), fails otherwise, or does not answer within the bound.
     */
    objects(target: ClusterTarget, refs: readonly ObjectRef[]): Promise<Array<KubeObject | undefined>>;
}

/** `FluxInstance flux-system/flux`: how messages name an object. */
export function describeRef(ref: ObjectRef): string {
    return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
}

/** Kinds of the core group the program reads, with their resource names. */
const CORE_PLURALS: Record<string, string> = { Namespace: "namespaces", ConfigMap: "configmaps" };
/** Kinds of the `apps` group the program reads (the Flux Operator's Deployment, under `adopt`). */
const APPS_PLURALS: Record<string, string> = { Deployment: "deployments" };

/** What `get` on the object needs, in RBAC's words: `get on helmreleases.helm.toolkit.fluxcd.io in kube-system`. */
export function permissionFor(ref: ObjectRef): string {
    const [group] = ref.apiVersion.includes("/") ? ref.apiVersion.split("/") : [""];
    const plural = group === "apps" ? APPS_PLURALS[ref.kind] ?? `${ref.kind.toLowerCase()}s`
        : group ? objectPath(ref.apiVersion, ref.kind).plural : CORE_PLURALS[ref.kind] ?? `${ref.kind.toLowerCase()}s`;
    return `get on ${group ? `${plural}.${group}` : plural}${ref.namespace ? ` in namespace ${ref.namespace}` : " (cluster-wide)"}`;
}

/**
 * The live cluster through @kubernetes/client-node. A new reader per run: within it, each target's kubeconfig is
 * loaded once and its API clients shared by every read, as the identity check and the handover read the same cluster.
 */
export function liveClusterReader(timeoutMs = IDENTITY_TIMEOUT_MS): ClusterReader {
    const clients = new Map<string, ReturnType<typeof connect>>();
    const client = (target: ClusterTarget) => {
        // Kept in memory for this run only: the kubeconfig may hold a credential.
        const key = JSON.stringify([target.kubeconfig ?? null, target.context ?? null]);
        let c = clients.get(key);
        if (!c) {
            c = connect(target);
            clients.set(key, c);
            // A kubeconfig that cannot be loaded is reported each time it is asked for.
            c.catch(() => clients.delete(key));
        }
        return c;
    };
    return {
        identity: async (target) => readIdentityWith(await client(target), timeoutMs),
        objects: async (target, refs) => {
            const c = await client(target);
            return Promise.all(refs.map((ref) => readObject(c, ref, timeoutMs)));
        },
    };
}

async function connect(target: ClusterTarget) {
    const { k8s, kc } = await loadKubeConfig(target);
    return { k8s, kc, core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}

type Client = Awaited<ReturnType<typeof connect>>;

async function readObject(c: Client, ref: ObjectRef, timeoutMs: number): Promise<KubeObject | undefined> {
    const read = (): Promise<unknown> => {
        if (!ref.apiVersion.includes("/")) {
            if (ref.kind === "Namespace") return c.core.readNamespace({ name: ref.name });
            if (ref.kind === "ConfigMap") return c.core.readNamespacedConfigMap({ name: ref.name, namespace: ref.namespace ?? "" });
            throw new Error(`cannot read ${ref.apiVersion} ${ref.kind}: not a kind this program reads`);
        }
        if (ref.apiVersion === "apps/v1") {
            if (ref.kind === "Deployment") return c.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace ?? "" });
            throw new Error(`cannot read ${ref.apiVersion} ${ref.kind}: not a kind this program reads`);
        }
        const { group, version, plural } = objectPath(ref.apiVersion, ref.kind);
        return c.custom.getNamespacedCustomObject({ group, version, plural, namespace: ref.namespace ?? "", name: ref.name });
    };
    try {
        return await withTimeout(read(), timeoutMs, "the API server") as KubeObject;
    } catch (e) {
        const code = (e as { code?: number }).code;
        // 404: the object does not exist, or its kind is not served (no Flux yet): either way there is nothing to read.
        if (code === 404) return undefined;
        const where = `cannot read ${describeRef(ref)} on ${describeTarget({ server: c.kc.getCurrentCluster()!.server, context: c.kc.getCurrentContext() })}`;
        const reason = code === 401 || code === 403
            ? `it refused the credentials (HTTP ${code}); the run needs ${permissionFor(ref)}`
            : code !== undefined ? `it answered HTTP ${code}` : networkCause(e) ?? (e as Error).message;
        throw new ClusterIdentityError(`${where}: ${reason}`);
    }
}
