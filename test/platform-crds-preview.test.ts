// A CRD entry whose values use a variable not known in a preview (the resource behind it is yet to be created): the
// provider function is not called with unknown arguments, no CRD is registered, and the run says why.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PlatformCrds } from "../components/platform-crds";
import { appRelease } from "../flux/helmrelease";

const DIR = "kubernetes/apps/network/demo/app";
const entry = appRelease(DIR, [
    { file: `${DIR}/ocirepository.yaml`, text: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: demo\nspec:\n  url: oci://127.0.0.1:5000/demo\n  ref:\n    tag: 1.0.0\n" },
    { file: `${DIR}/helmrelease.yaml`, text: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: demo\nspec:\n  chartRef:\n    kind: OCIRepository\n    name: demo\n  values:\n    tunnel: ${TUNNEL_ID}\n" },
], "network", {});

afterEach(() => vi.restoreAllMocks());

describe("a CRD entry in a preview, its values not known yet", () => {
    it("registers no CRD, calls no chart renderer, and says the preview cannot show them", async () => {
        const invokes: string[] = [];
        const registered: string[] = [];
        await pulumi.runtime.setMocks({
            newResource: (a) => {
                registered.push(a.type);
                return { id: `${a.name}-id`, state: a.inputs };
            },
            call: (a) => {
                invokes.push(a.token);
                return {};
            },
        }, "project", "stack", true);
        const info = vi.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
        const crds = new PlatformCrds("platform-crds", {
            entries: [entry], strict: false, clusterUid: "uid",
            parts: [{ vars: { CLUSTER_NAME: "infra", TUNNEL_ID: pulumi.output(pulumi.unknown) as pulumi.Output<string> }, secrets: {} }],
        });
        const known = await (crds.crds as unknown as { isKnown: Promise<boolean> }).isKnown;
        await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
        expect(known).toBe(false);
        expect(invokes).toEqual([]);
        expect(registered.filter((t) => t.includes("CustomResourceDefinition"))).toEqual([]);
        expect(info.mock.calls.map((c) => c[0])).toContain("cluster-bootstrap:platform.crds[0]: the values of " +
            `${DIR}/helmrelease.yaml use variables known only once the resources behind them exist; the CustomResourceDefinitions of demo ` +
            "are rendered then, and this preview cannot show them");
    });
});
