// The cluster after an apply, with the stack's own kubeconfig and context: Flux's objects are Ready (each judged by
// cluster/flux-await.ts `readiness`, the rule `pulumi up` waits by), the platform releases' HelmReleases are Ready,
// flux-system/cluster-vars holds what the stack writes, and the Receiver GitHub calls is Ready. Read-only, each call
// bounded.
import type { PlainConfig } from "../config";
import { CLUSTER_VARS, FLUX_INSTANCE_NAME, FLUX_NAMESPACE, RECEIVER_NAME } from "../config/names";
import { objectPath, readiness, type FluxObject } from "../cluster/flux-await";
import { loadKubeConfig, withTimeout } from "../cluster/identity";
import { r2ContractPart } from "../components/backups";
import { clusterPart } from "../components/contract";
import { edgeContractPart } from "../components/edge";
import { hubUrls } from "../components/hub";
import { r2Endpoint } from "../providers/r2";
import { fail, ok, skip, type CheckResult } from "../preflight/result";
import { missingOutput, stringOutput, type VerifyFacts } from "./facts";

/** The API versions of the Flux objects the program creates or relies on. */
export const FLUX_KINDS = {
    FluxInstance: "fluxcd.controlplane.io/v1",
    GitRepository: "source.toolkit.fluxcd.io/v1",
    Kustomization: "kustomize.toolkit.fluxcd.io/v1",
    HelmRelease: "helm.toolkit.fluxcd.io/v2",
    Receiver: "notification.toolkit.fluxcd.io/v1",
} as const;

type FluxKind = keyof typeof FLUX_KINDS;

/** One Flux object's line, in Flux's own words: its Ready condition's reason and message when it is not Ready. */
export function readyLine(kind: FluxKind, namespace: string, name: string, obj: FluxObject | undefined): CheckResult {
    const title = `${kind} ${namespace}/${name}`;
    if (!obj) return fail(title, "not found in the cluster", kind === "HelmRelease" || kind === "Kustomization"
        ? "Flux applies it from the GitOps repository: check the Kustomizations above" : "run `pulumi up`, which creates it");
    const state = readiness({ ...obj, kind });
    if (state.state === "ready") return ok(title, `Ready${state.message ? `: ${state.message}` : ""}`);
    const cause = `${state.reason}${state.message ? `: ${state.message}` : ""}`;
    const fix = "Flux retries on its own; fix what the message names, then see `flux get all -A`";
    if (state.state === "failed") return fail(title, `not Ready${state.stalled ? " (Stalled)" : ""}: ${cause}`, fix);
    return fail(title, `not Ready yet: ${cause}`, fix);
}

/**
 * The `cluster-vars` keys the stack writes that config and outputs determine, built by the program's own contract
 * parts: the cluster's, the edge's (with the `tunnelId` output), R2's and, on a spoke, the hub's URLs.
 * `CLOUDFLARE_ZONE_ID` comes from a lookup no output keeps, and is not compared.
 */
export function expectedClusterVars(cfg: PlainConfig, tunnelId: string | undefined): Record<string, string> {
    const vars: Record<string, unknown> = {
        ...clusterPart(cfg.cluster).vars,
        ...(tunnelId ? edgeContractPart({ id: tunnelId, originHost: cfg.tunnel.originHost, token: "" }).vars : {}),
        ...r2ContractPart({
            endpoint: r2Endpoint(cfg.cloudflareAccountId, cfg.r2.jurisdiction),
            buckets: cfg.r2.buckets.map((b) => ({ purpose: b.purpose, name: b.name })),
            accessKeyId: "",
            secretAccessKey: "",
        }).vars,
        ...(cfg.hub ? hubUrls(cfg.hub.hostnames) : {}),
    };
    return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** cluster-vars against what the stack writes: every mismatching key named, with both values (none is secret). */
export function clusterVarsLine(expected: Record<string, string>, data: Record<string, string> | undefined, withoutTunnel: boolean): CheckResult {
    const title = `ConfigMap ${FLUX_NAMESPACE}/${CLUSTER_VARS}`;
    if (data === undefined) return fail(title, "not found in the cluster", "run `pulumi up`, which creates it");
    const problems = Object.entries(expected).flatMap(([k, v]) => (data[k] === undefined ? [`${k} missing (the stack says ${JSON.stringify(v)})`]
        : data[k] !== v ? [`${k} is ${JSON.stringify(data[k])}, the stack says ${JSON.stringify(v)}`] : []));
    if (problems.length) return fail(title, problems.join("; "), "run `pulumi up` (cluster-vars is the program's; Flux substitutes from it)");
    return ok(title, `matches the stack (${Object.keys(expected).length} keys: ${Object.keys(expected).join(", ")})${withoutTunnel ? "; TUNNEL_ID not compared: no tunnelId output" : ""}`);
}

/** `kube-system/cilium` → its parts; undefined for anything else. */
function namespacedName(v: unknown): { namespace: string; name: string } | undefined {
    if (typeof v !== "string") return undefined;
    const [namespace, name, extra] = v.split("/");
    return namespace && name && extra === undefined ? { namespace, name } : undefined;
}

/** What a failed call says: the HTTP status the API answered, or the client's own error (a timeout, a refused connection). */
function callProblem(e: unknown): string {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number") return `the API server answered HTTP ${code}${code === 401 || code === 403 ? ": the stack's credentials may not read it" : ""}`;
    return (e as Error).message;
}

export async function kubernetesVerify(facts: VerifyFacts, out: CheckResult[]): Promise<void> {
    const cfg = facts.config;
    let client;
    try {
        client = await loadKubeConfig({ kubeconfig: cfg.kubeconfig, context: cfg.kubeContext });
    } catch (e) {
        return void out.push(fail("Kubernetes API", (e as Error).message, "check cluster-bootstrap:kubeContext (or kubeconfig)"));
    }
    const { k8s, kc } = client;
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const bounded = <T>(p: Promise<T>) => withTimeout(p, facts.timeoutMs, "the API server");
    const where = (kind: FluxKind) => objectPath(FLUX_KINDS[kind], kind);
    const read = async (kind: FluxKind, namespace: string, name: string): Promise<FluxObject | undefined> => {
        try {
            return await bounded(custom.getNamespacedCustomObject({ ...where(kind), namespace, name })) as FluxObject;
        } catch (e) {
            if ((e as { code?: unknown }).code === 404) return undefined;
            throw e;
        }
    };
    const line = async (kind: FluxKind, namespace: string, name: string): Promise<CheckResult> => {
        try {
            return readyLine(kind, namespace, name, await read(kind, namespace, name));
        } catch (e) {
            return fail(`${kind} ${namespace}/${name}`, callProblem(e));
        }
    };

    // The one FluxInstance the operator accepts, whichever runs Flux: the program's own (flux.managedBy: program) or
    // the repository's flux-instance release (repository). Reading it is also the test that the cluster answers.
    let instance: FluxObject | undefined;
    try {
        instance = await read("FluxInstance", FLUX_NAMESPACE, FLUX_INSTANCE_NAME);
    } catch (e) {
        // The rest would only repeat it.
        return void out.push(fail("Kubernetes API", `${callProblem(e)} (reading FluxInstance ${FLUX_NAMESPACE}/${FLUX_INSTANCE_NAME}, context ${JSON.stringify(kc.getCurrentContext())})`,
            "check cluster-bootstrap:kubeContext (or kubeconfig) and that the API server is reachable from here"));
    }
    out.push(readyLine("FluxInstance", FLUX_NAMESPACE, FLUX_INSTANCE_NAME, instance));

    // The GitRepository: the program's (gitops.name), or the one the FluxInstance's sync creates, named `sync.name`,
    // else after the instance's namespace (flux/repository-check.ts).
    const sync = (instance as { spec?: { sync?: { name?: unknown } } } | undefined)?.spec?.sync;
    const gitRepository = cfg.flux.managedBy === "program" ? cfg.gitops.name
        : typeof sync?.name === "string" && sync.name ? sync.name : instance ? FLUX_NAMESPACE : undefined;
    if (gitRepository === undefined) out.push(skip("GitRepository", "not checked: the FluxInstance whose sync names it was not found"));
    else out.push(await line("GitRepository", FLUX_NAMESPACE, gitRepository));

    try {
        const list = await bounded(custom.listNamespacedCustomObject({ ...where("Kustomization"), namespace: FLUX_NAMESPACE })) as { items?: FluxObject[] };
        const items = [...(list.items ?? [])].sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
        if (items.length === 0) out.push(fail(`Kustomizations in ${FLUX_NAMESPACE}`, "none", "run `pulumi up`; the root Kustomization is the program's, or its FluxInstance's sync"));
        for (const k of items) out.push(readyLine("Kustomization", FLUX_NAMESPACE, k.metadata?.name ?? "?", k));
    } catch (e) {
        out.push(fail(`Kustomizations in ${FLUX_NAMESPACE}`, callProblem(e)));
    }

    const releases = facts.outputs.platformReleases;
    if (releases === undefined) out.push(skip("HelmReleases of the platform releases", missingOutput("platformReleases")));
    else {
        const names = Array.isArray(releases) ? releases.map(namespacedName) : [];
        if (!Array.isArray(releases) || names.some((n) => n === undefined)) {
            out.push(fail("HelmReleases of the platform releases", "the platformReleases output is not a list of namespace/name"));
        } else {
            out.push(...await Promise.all(names.map((n) => line("HelmRelease", n!.namespace, n!.name))));
        }
    }

    const tunnelId = stringOutput(facts, "tunnelId");
    try {
        let data: Record<string, string> | undefined;
        try {
            data = (await bounded(core.readNamespacedConfigMap({ name: CLUSTER_VARS, namespace: FLUX_NAMESPACE }))).data ?? {};
        } catch (e) {
            if ((e as { code?: unknown }).code !== 404) throw e;
        }
        out.push(clusterVarsLine(expectedClusterVars(cfg, tunnelId), data, tunnelId === undefined));
    } catch (e) {
        out.push(fail(`ConfigMap ${FLUX_NAMESPACE}/${CLUSTER_VARS}`, callProblem(e)));
    }

    out.push(await line("Receiver", FLUX_NAMESPACE, RECEIVER_NAME));
}
