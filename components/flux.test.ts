import { describe, expect, it } from "vitest";
import { FLUX_DISTRIBUTION_ARTIFACT, fluxComponents, fluxInstanceAnnotations, fluxInstanceSpec } from "./flux";
import { DEFAULT_COMPONENTS, namespaceLabels } from "../config/names";

describe("flux-system namespace", () => {
    it("enforces, audits and warns the restricted Pod Security profile", () => {
        expect(namespaceLabels()).toEqual({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
        });
    });
});

describe("FluxInstance", () => {
    it("runs the four default controllers without image automation", () => {
        expect(fluxComponents(false)).toEqual(["source-controller", "kustomize-controller", "helm-controller", "notification-controller"]);
    });

    it("adds the image reflector and automation controllers only with image automation", () => {
        expect(fluxComponents(true)).toEqual([...DEFAULT_COMPONENTS, "image-reflector-controller", "image-automation-controller"]);
    });

    it("follows the configured distribution version with network policy on", () => {
        const spec = fluxInstanceSpec({ version: "2.7.x", imageAutomation: false, operatorChartVersion: "0.60.0" });
        expect(spec).toEqual({
            distribution: { version: "2.7.x", registry: "ghcr.io/fluxcd", artifact: FLUX_DISTRIBUTION_ARTIFACT },
            components: [...DEFAULT_COMPONENTS],
            cluster: { type: "kubernetes", networkPolicy: true },
        });
    });

    it("is awaited by the program, not the provider, for at most 600 s", () => {
        expect(fluxInstanceAnnotations()).toEqual({ "pulumi.com/skipAwait": "true", "cluster-bootstrap/ready-timeout-seconds": "600" });
    });
});
