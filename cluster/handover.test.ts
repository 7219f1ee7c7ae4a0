import { describe, expect, it } from "vitest";
import {
    fluxInstanceReady, handoverDecision, handoverNote, handoverReport, helmReleaseTakeover, type HelmReleaseObject, type PlatformReleaseRef,
    type ReleaseSnapshot,
} from "./handover";

const CILIUM: PlatformReleaseRef = { name: "cilium", namespace: "kube-system", helmRelease: "cilium" };

const snapshot = (version: number, status: string, over: Partial<ReleaseSnapshot> = {}): ReleaseSnapshot =>
    ({ name: "cilium", namespace: "kube-system", version, status, chartName: "cilium", chartVersion: "1.18.5", ...over });
const ready = (status: string, reason: string, observedGeneration = 1) => ({ type: "Ready", status, reason, message: "m", observedGeneration });
/** A HelmRelease as helm-controller leaves it: conditions and history in its status. */
const hr = (conditions: ReturnType<typeof ready>[], history?: ReleaseSnapshot[], generation = 1): HelmReleaseObject => ({
    apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease",
    metadata: { name: "cilium", namespace: "kube-system", generation },
    status: { conditions, ...(history ? { history } : {}) },
});

describe("whether Flux has taken a release over (helm-controller's status)", () => {
    it("has, when the HelmRelease is Ready: the chart from its history", () => {
        expect(helmReleaseTakeover(CILIUM, hr([ready("True", "UpgradeSucceeded")], [snapshot(2, "deployed")])))
            .toEqual({ takenOver: true, evidence: "HelmRelease Ready, chart cilium@1.18.5" });
        // Ready without a history (an older helm-controller kept none): still Flux's.
        expect(helmReleaseTakeover(CILIUM, hr([ready("True", "InstallSucceeded")]))).toEqual({ takenOver: true, evidence: "HelmRelease Ready" });
    });

    it("has, when its history holds a release that succeeded, Ready or not (an upgrade in progress, a later one failing)", () => {
        const upgrading = hr([ready("Unknown", "Progressing", 3)], [snapshot(2, "deployed")], 3);
        expect(helmReleaseTakeover(CILIUM, upgrading)).toEqual({ takenOver: true, evidence: "HelmRelease history: v2 deployed, chart cilium@1.18.5" });
        const failing = hr([ready("False", "UpgradeFailed")], [snapshot(3, "failed", { chartVersion: "1.19.0" }), snapshot(2, "superseded")]);
        expect(helmReleaseTakeover(CILIUM, failing)).toEqual({ takenOver: true, evidence: "HelmRelease history: v2 superseded, chart cilium@1.18.5" });
    });

    it("has not, when there is no HelmRelease", () => {
        expect(helmReleaseTakeover(CILIUM, undefined)).toEqual({ takenOver: false });
    });

    it("has not, when the HelmRelease never succeeded: a failed install, no history", () => {
        expect(helmReleaseTakeover(CILIUM, hr([ready("False", "InstallFailed")]))).toEqual({
            takenOver: false, why: "its HelmRelease has not installed or upgraded it yet: Ready=False (InstallFailed), no successful release in its history",
        });
        expect(helmReleaseTakeover(CILIUM, hr([], [snapshot(1, "failed")]))).toMatchObject({ takenOver: false });
        expect(helmReleaseTakeover(CILIUM, hr([]))).toMatchObject({ takenOver: false, why: expect.stringContaining("no Ready condition yet") });
    });

    it("has not, when its history is of another release (the repository renamed it): that one is not the release installed here", () => {
        const other = hr([ready("True", "InstallSucceeded")], [snapshot(1, "deployed", { name: "kube-system-cilium" })]);
        expect(helmReleaseTakeover(CILIUM, other)).toEqual({
            takenOver: false, why: "its history is of release kube-system/kube-system-cilium, not kube-system/cilium",
        });
    });
});

describe("a repository's own Flux", () => {
    const instance = (status: string, generation = 1, observedGeneration = 1) => ({
        apiVersion: "fluxcd.controlplane.io/v1", kind: "FluxInstance",
        metadata: { name: "flux", namespace: "flux-system", generation },
        status: { conditions: [ready(status, status === "True" ? "ReconciliationSucceeded" : "ReconciliationFailed", observedGeneration)] },
    });
    const releases: PlatformReleaseRef[] = [
        CILIUM,
        { name: "flux-operator", namespace: "flux-system", helmRelease: "flux-operator" },
        { name: "flux-instance", namespace: "flux-system", helmRelease: "flux-instance" },
    ];
    const taken = (name: string): HelmReleaseObject => ({
        ...hr([ready("True", "UpgradeSucceeded")], [snapshot(2, "deployed", { name, namespace: "flux-system", chartName: name, chartVersion: "0.60.0" })]),
    });
    const objects = (fluxInstance?: object) => ({
        helmReleases: [hr([ready("True", "UpgradeSucceeded")], [snapshot(2, "deployed")]), taken("flux-operator"), taken("flux-instance")],
        fluxInstance,
    });

    it("is taken over with the FluxInstance Ready for its current generation", () => {
        expect(fluxInstanceReady(instance("True"))).toEqual({ ready: true, state: "Ready" });
        expect(handoverDecision(releases, objects(instance("True")), { operator: 1, instance: 2 })).toEqual([
            { takenOver: true, evidence: "HelmRelease Ready, chart cilium@1.18.5" },
            { takenOver: true, evidence: "HelmRelease Ready, chart flux-operator@0.60.0; FluxInstance flux-system/flux Ready" },
            { takenOver: true, evidence: "HelmRelease Ready, chart flux-instance@0.60.0; FluxInstance flux-system/flux Ready" },
        ]);
    });

    it("is not, while the FluxInstance is not Ready, or absent: the program still owns and waits for both", () => {
        for (const fi of [instance("False"), instance("True", 2, 1), undefined]) {
            const [cilium, operator, inst] = handoverDecision(releases, objects(fi), { operator: 1, instance: 2 });
            expect(cilium.takenOver).toBe(true);
            expect([operator.takenOver, inst.takenOver]).toEqual([false, false]);
        }
        const [, operator] = handoverDecision(releases, objects(instance("False")), { operator: 1, instance: 2 });
        expect(handoverNote(releases[1], operator)).toBe("flux-system/flux-operator: not taken over by Flux: HelmRelease Ready, chart "
            + "flux-operator@0.60.0, but FluxInstance flux-system/flux is not Ready (ReconciliationFailed); still installed by this stack");
        expect(fluxInstanceReady(undefined)).toEqual({ ready: false, state: "not found" });
    });

    it("is judged like any release when the program runs Flux (no FluxInstance read)", () => {
        expect(handoverDecision(releases, objects()).map((t) => t.takenOver)).toEqual([true, true, true]);
    });
});

describe("what the run says", () => {
    it("one note per release handed over, worded as the issue has it, and one per HelmRelease that has not taken over yet", () => {
        const takeovers = handoverDecision([CILIUM, { ...CILIUM, name: "coredns", helmRelease: "coredns" }, { ...CILIUM, name: "spegel", helmRelease: "spegel" }], {
            helmReleases: [hr([ready("True", "UpgradeSucceeded")], [snapshot(2, "deployed")]), undefined, hr([ready("False", "InstallFailed")])],
        });
        const report = handoverReport([CILIUM, { ...CILIUM, name: "coredns", helmRelease: "coredns" }, { ...CILIUM, name: "spegel", helmRelease: "spegel" }], takeovers);
        expect(report.notes).toEqual([
            "kube-system/cilium: taken over by Flux (HelmRelease Ready, chart cilium@1.18.5): no longer managed by this stack",
            "kube-system/spegel: not taken over by Flux: its HelmRelease has not installed or upgraded it yet: Ready=False (InstallFailed), "
                + "no successful release in its history; still installed by this stack",
        ]);
        expect(report.handedOver).toEqual([{ kind: "HelmRelease", namespace: "kube-system", name: "cilium", evidence: "HelmRelease Ready, chart cilium@1.18.5" }]);
        expect([...report.takenOver]).toEqual([0]);
    });

    it("says what leaves with a CRD entry's HelmRelease, and lists a HelmRelease named by a release and a CRD entry once", () => {
        const gateway: PlatformReleaseRef = { name: "envoy-gateway", namespace: "network", helmRelease: "envoy-gateway" };
        const deployed = helmReleaseTakeover(CILIUM, hr([ready("True", "UpgradeSucceeded")], [snapshot(2, "deployed")]));
        const failed = helmReleaseTakeover(gateway, hr([ready("False", "InstallFailed")]));
        const report = handoverReport([CILIUM], [deployed], [CILIUM, gateway], [deployed, failed]);
        expect(report.notes).toEqual([
            "kube-system/cilium: taken over by Flux (HelmRelease Ready, chart cilium@1.18.5): no longer managed by this stack",
            "kube-system/cilium: taken over by Flux (HelmRelease Ready, chart cilium@1.18.5): the CustomResourceDefinitions of its chart are no "
                + "longer managed by this stack",
            "network/envoy-gateway: not taken over by Flux: its HelmRelease has not installed or upgraded it yet: Ready=False (InstallFailed), "
                + "no successful release in its history; the CustomResourceDefinitions of its chart are still applied by this stack",
        ]);
        expect(report.handedOver).toEqual([{ kind: "HelmRelease", namespace: "kube-system", name: "cilium", evidence: "HelmRelease Ready, chart cilium@1.18.5" }]);
        expect([...report.takenOver]).toEqual([0]);
        expect([...report.crdsTakenOver]).toEqual([0]);
    });

    it("names the HelmRelease in handedOver, the release in the note, when they differ", () => {
        const release = { name: "kube-system-cilium", namespace: "kube-system", helmRelease: "cilium" };
        const t = helmReleaseTakeover(release, hr([ready("True", "InstallSucceeded")], [snapshot(1, "deployed", { name: "kube-system-cilium" })]));
        const report = handoverReport([release], [t]);
        expect(report.notes[0]).toMatch(/^kube-system\/kube-system-cilium: taken over by Flux/);
        expect(report.handedOver[0]).toMatchObject({ namespace: "kube-system", name: "cilium" });
    });
});
