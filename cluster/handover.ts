// What Flux has taken over, read before anything is registered. A platform release is the program's until Flux's
// helm-controller has installed or upgraded it; from then on Flux is its one owner, and the program no longer
// registers it (retained on delete, so Pulumi drops it from its state and leaves the cluster alone).
//
// What helm-controller writes (fluxcd/helm-controller, api/v2):
// - `status.history` (helmrelease_types.go HelmReleaseStatus.History, snapshot_types.go Snapshot): the releases the
//   controller made for this HelmRelease, newest first, each with the release's `name`, `namespace`, `version`,
//   `status` (Helm's: `deployed`, `superseded`, `failed`, …), `chartName` and `chartVersion`. A release the controller
//   adopted (found in storage without history: internal/reconcile/state.go ReleaseStatusUnmanaged) is upgraded, and
//   only the upgrade's result is recorded (internal/reconcile/release.go recordOnObject): an entry there is always the
//   controller's own work. `deployed` and `superseded` are the statuses of a release that succeeded (Snapshots.Previous
//   counts exactly these); a `failed` one did not.
// - the `Ready` condition, summarised from Released/Remediated/TestSuccess (internal/reconcile/release.go summarize).
// So a release is taken over when its HelmRelease's history holds a successful release of that very name and
// namespace, or when the HelmRelease is Ready. A HelmRelease that exists but never succeeded (an install that
// failed: Ready=False, no history) is not a takeover: the program still installs that release.
import { FLUX_INSTANCE_NAME, FLUX_NAMESPACE } from "../config/names";
import { readiness, type FluxObject } from "./flux-await";
import { ClusterIdentityError, type ClusterTarget } from "./identity";
import { describeRef, type ClusterReader, type KubeObject, type ObjectRef } from "./reader";

export const HELM_RELEASE_API_VERSION = "helm.toolkit.fluxcd.io/v2";
export const FLUX_INSTANCE_API_VERSION = "fluxcd.controlplane.io/v1";

/** One entry of a HelmRelease's `status.history` (helm-controller api/v2 Snapshot), as far as it is read here. */
export interface ReleaseSnapshot {
    name?: string;
    namespace?: string;
    version?: number;
    status?: string;
    chartName?: string;
    chartVersion?: string;
}

/** A HelmRelease as read: its conditions and history. */
export type HelmReleaseObject = FluxObject & { status?: FluxObject["status"] & { history?: ReleaseSnapshot[] } };

/** A platform release as the program installs it, and the HelmRelease Flux manages it through. */
export interface PlatformReleaseRef {
    /** The Helm release's name (helm-controller's `GetReleaseName`). */
    name: string;
    /** Its namespace, and the HelmRelease's. */
    namespace: string;
    /** The HelmRelease's `metadata.name` in the app directory. */
    helmRelease: string;
}

/** What the plan's `handedOver` lists: the Flux object that now owns a release, and why the program says so. */
export interface HandedOver {
    kind: "HelmRelease";
    namespace: string;
    /** The HelmRelease's name. */
    name: string;
    /** `HelmRelease Ready, chart cilium@1.18.5`, … */
    evidence: string;
}

/** Whether Flux has taken a release over, and why, or why not. */
export type Takeover =
    | { takenOver: true; evidence: string }
    /** `why` is set when there is something to say: a HelmRelease that exists but has not taken the release over. */
    | { takenOver: false; why?: string };

/** Helm's statuses of a release that succeeded. */
const SUCCEEDED = new Set(["deployed", "superseded"]);

const chartOf = (s: ReleaseSnapshot) => (s.chartName && s.chartVersion ? `${s.chartName}@${s.chartVersion}` : undefined);

/** Whether the HelmRelease `hr` (undefined: none in the cluster) has taken `release` over. Pure. */
export function helmReleaseTakeover(release: PlatformReleaseRef, hr: HelmReleaseObject | undefined): Takeover {
    if (!hr) return { takenOver: false };
    const history = (hr.status?.history ?? []).filter((s) => s && typeof s === "object");
    const ours = history.filter((s) => s.name === release.name && s.namespace === release.namespace)
        .sort((a, b) => (b.version ?? 0) - (a.version ?? 0));
    if (history.length > 0 && ours.length === 0) {
        // The HelmRelease manages another release (its releaseName or targetNamespace changed): not the one installed here.
        const other = history[0];
        return { takenOver: false, why: `its history is of release ${other.namespace}/${other.name}, not ${release.namespace}/${release.name}` };
    }
    const withChart = (evidence: string, s: ReleaseSnapshot | undefined) => (s && chartOf(s) ? `${evidence}, chart ${chartOf(s)}` : evidence);
    // Ready: the release as it is now, the newest in the history.
    if (readiness(hr).state === "ready") return { takenOver: true, evidence: withChart("HelmRelease Ready", ours[0]) };
    const succeeded = ours.find((s) => SUCCEEDED.has(s.status ?? ""));
    if (succeeded) {
        return { takenOver: true, evidence: withChart(`HelmRelease history: v${succeeded.version ?? "?"} ${succeeded.status}`, succeeded) };
    }
    const ready = (hr.status?.conditions ?? []).find((c) => c.type === "Ready");
    // Only the reason: a condition's message may quote values.
    const state = ready ? `Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ""}` : "no Ready condition yet";
    return { takenOver: false, why: `its HelmRelease has not installed or upgraded it yet: ${state}, no successful release in its history` };
}

/** Whether the FluxInstance (undefined: none in the cluster) is Ready, for the current generation. Pure. */
export function fluxInstanceReady(instance: FluxObject | undefined): { ready: boolean; state: string } {
    if (!instance) return { ready: false, state: "not found" };
    const r = readiness(instance);
    return r.state === "ready" ? { ready: true, state: "Ready" } : { ready: false, state: `not Ready (${r.reason})` };
}

/** What the handover reads: every platform release's HelmRelease, and (repository mode) the FluxInstance. */
export interface HandoverObjects {
    /** By the releases' index; undefined where there is none. */
    helmReleases: Array<HelmReleaseObject | undefined>;
    /** The FluxInstance `flux-system/flux`, read only when the repository runs Flux. */
    fluxInstance?: FluxObject;
}

/** With `flux.managedBy: repository`: the indexes of the repository's flux-operator and flux-instance releases. */
export interface RepositoryFluxReleases {
    operator: number;
    instance: number;
}

/**
 * Which platform releases Flux has taken over, by index. With the repository's own Flux (`fluxRuns`), its
 * flux-operator and flux-instance releases count as taken over only once the FluxInstance is Ready too: that is the
 * handoff the program otherwise waits for, and until then the program still owns both. Pure.
 */
export function handoverDecision(releases: readonly PlatformReleaseRef[], objects: HandoverObjects, fluxRuns?: RepositoryFluxReleases): Takeover[] {
    const instance = fluxInstanceReady(objects.fluxInstance);
    return releases.map((release, i) => {
        const t = helmReleaseTakeover(release, objects.helmReleases[i]);
        if (!fluxRuns || (i !== fluxRuns.operator && i !== fluxRuns.instance) || !t.takenOver) return t;
        const fi = `FluxInstance ${FLUX_NAMESPACE}/${FLUX_INSTANCE_NAME}`;
        return instance.ready
            ? { takenOver: true, evidence: `${t.evidence}; ${fi} Ready` }
            : { takenOver: false, why: `${t.evidence}, but ${fi} is ${instance.state}` };
    });
}

/** The line the program says for a release: `kube-system/cilium: taken over by Flux (…): no longer managed by this stack`. */
export function handoverNote(release: PlatformReleaseRef, t: Takeover): string | undefined {
    const id = `${release.namespace}/${release.name}`;
    if (t.takenOver) return `${id}: taken over by Flux (${t.evidence}): no longer managed by this stack`;
    return t.why ? `${id}: not taken over by Flux: ${t.why}; still installed by this stack` : undefined;
}

/** What the run learns from the cluster about its platform releases. */
export interface Handover {
    /** By the releases' index. */
    takeovers: Takeover[];
    /**
     * By the `platform.crds` entries' index: whether Flux has taken the entry's own HelmRelease over (the same rule as a
     * release's). Its chart, CRDs included, is then Flux's, and the program no longer applies them.
     */
    crdTakeovers: Takeover[];
    /**
     * The uid of the cluster's `kube-system` Namespace: the same for the cluster's whole life, another on a rebuilt
     * one. A release carries it as its `replacementTrigger`, so a rebuilt cluster gets each release installed again,
     * whatever the state still holds of the old one.
     */
    clusterUid: string;
}

const helmReleaseRef = (r: PlatformReleaseRef): ObjectRef =>
    ({ apiVersion: HELM_RELEASE_API_VERSION, kind: "HelmRelease", namespace: r.namespace, name: r.helmRelease });
const FLUX_INSTANCE_REF: ObjectRef = { apiVersion: FLUX_INSTANCE_API_VERSION, kind: "FluxInstance", namespace: FLUX_NAMESPACE, name: FLUX_INSTANCE_NAME };
const KUBE_SYSTEM_REF: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: "kube-system" };

/**
 * Reads, in parallel and with the run's one client, the HelmRelease of every platform release and of every
 * `platform.crds` entry, the cluster's kube-system Namespace and (repository mode) the FluxInstance, and decides which
 * of them Flux has taken over.
 */
export async function readHandover(reader: ClusterReader, target: ClusterTarget, releases: readonly PlatformReleaseRef[],
    fluxRuns?: RepositoryFluxReleases, crds: readonly PlatformReleaseRef[] = []): Promise<Handover> {
    const refs = [KUBE_SYSTEM_REF, ...(fluxRuns ? [FLUX_INSTANCE_REF] : []), ...releases.map(helmReleaseRef), ...crds.map(helmReleaseRef)];
    const found = await reader.objects(target, refs);
    const [kubeSystem, ...rest] = found;
    const fluxInstance = fluxRuns ? rest.shift() : undefined;
    const ofReleases = rest.slice(0, releases.length);
    const ofCrds = rest.slice(releases.length);
    const uid = (kubeSystem as KubeObject | undefined)?.metadata?.uid;
    // Every Kubernetes cluster has one; without it there is no telling a rebuilt cluster from this one.
    if (!uid) throw new ClusterIdentityError(`cannot tell which cluster this is: ${describeRef(KUBE_SYSTEM_REF)} was not found`);
    return {
        takeovers: handoverDecision(releases, { helmReleases: ofReleases, fluxInstance }, fluxRuns),
        crdTakeovers: crds.map((c, i) => helmReleaseTakeover(c, ofCrds[i])),
        clusterUid: uid,
    };
}

/** The line the program says for a `platform.crds` entry, as {@link handoverNote} for a release. */
export function crdHandoverNote(entry: PlatformReleaseRef, t: Takeover): string | undefined {
    const id = `${entry.namespace}/${entry.name}`;
    if (t.takenOver) return `${id}: taken over by Flux (${t.evidence}): the CustomResourceDefinitions of its chart are no longer managed by this stack`;
    return t.why ? `${id}: not taken over by Flux: ${t.why}; the CustomResourceDefinitions of its chart are still applied by this stack` : undefined;
}

/**
 * What the run says and lists about its platform releases and CRD entries, and which it leaves out. A HelmRelease
 * named by a release and a CRD entry alike is listed once. Pure.
 */
export function handoverReport(releases: readonly PlatformReleaseRef[], takeovers: readonly Takeover[],
    crds: readonly PlatformReleaseRef[] = [], crdTakeovers: readonly Takeover[] = []):
    { notes: string[]; handedOver: HandedOver[]; takenOver: Set<number>; crdsTakenOver: Set<number> } {
    const notes: string[] = [];
    const handedOver: HandedOver[] = [];
    const listed = new Set<string>();
    const report = (list: readonly PlatformReleaseRef[], decisions: readonly Takeover[], note: typeof handoverNote) => {
        const taken = new Set<number>();
        list.forEach((r, i) => {
            const t = decisions[i];
            const line = note(r, t);
            if (line) notes.push(line);
            if (!t.takenOver) return;
            taken.add(i);
            const id = `${r.namespace}/${r.helmRelease}`;
            if (listed.has(id)) return;
            listed.add(id);
            handedOver.push({ kind: "HelmRelease", namespace: r.namespace, name: r.helmRelease, evidence: t.evidence });
        });
        return taken;
    };
    const takenOver = report(releases, takeovers, handoverNote);
    const crdsTakenOver = report(crds, crdTakeovers, crdHandoverNote);
    return { notes, handedOver, takenOver, crdsTakenOver };
}
