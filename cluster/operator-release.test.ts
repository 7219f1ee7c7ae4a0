// Whether a Deployment belongs to the Flux Operator's Helm release, as Helm's own annotations say.
import { describe, expect, it } from "vitest";
import { operatorReleaseImportId, OPERATOR_DEPLOYMENT } from "./operator-release";

const deployment = (annotations?: Record<string, string>) => ({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "flux-operator", namespace: "flux-system", ...(annotations ? { annotations } : {}) },
});

describe("operatorReleaseImportId", () => {
    it("gives <namespace>/<name>, the ID pulumi-kubernetes imports a Helm release by, for the release's own Deployment", () => {
        expect(OPERATOR_DEPLOYMENT).toEqual({ apiVersion: "apps/v1", kind: "Deployment", namespace: "flux-system", name: "flux-operator" });
        expect(operatorReleaseImportId(deployment({ "meta.helm.sh/release-name": "flux-operator", "meta.helm.sh/release-namespace": "flux-system" })))
            .toBe("flux-system/flux-operator");
    });

    it("gives nothing for no Deployment, one Helm did not install, or one another release owns", () => {
        expect(operatorReleaseImportId(undefined)).toBeUndefined();
        expect(operatorReleaseImportId(deployment())).toBeUndefined();
        expect(operatorReleaseImportId(deployment({ "meta.helm.sh/release-name": "operator", "meta.helm.sh/release-namespace": "flux-system" }))).toBeUndefined();
        expect(operatorReleaseImportId(deployment({ "meta.helm.sh/release-name": "flux-operator", "meta.helm.sh/release-namespace": "default" }))).toBeUndefined();
    });
});
