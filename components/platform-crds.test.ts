import { describe, expect, it } from "vitest";
import { crdsOf, templateOptions } from "./platform-crds";

const CRD = (name: string, apiVersion = "apiextensions.k8s.io/v1") => ({ apiVersion, kind: "CustomResourceDefinition", metadata: { name }, spec: {} });

describe("the chart options a CRD entry renders with (the provider's HelmChartOpts, by their JSON names)", () => {
    it("names an OCI chart and its tag, the release's name and namespace, and the values", () => {
        expect(templateOptions({ chart: "oci://127.0.0.1:5000/envoyproxy/gateway-helm", version: "1.7.0", name: "envoy-gateway", namespace: "network" },
            { global: { imageRegistry: "mirror.gcr.io" } })).toEqual({
            chart: "oci://127.0.0.1:5000/envoyproxy/gateway-helm", version: "1.7.0", namespace: "network", release_name: "envoy-gateway",
            values: { global: { imageRegistry: "mirror.gcr.io" } },
        });
    });

    it("puts a classic repository's URL in fetch_opts.repo, never in repo (the provider refuses a URL there), and leaves CRDs in", () => {
        const o = templateOptions({ chart: "spegel", version: "0.4.0", repositoryUrl: "https://127.0.0.1:8443/spegel-org/charts", name: "spegel", namespace: "kube-system" }, {});
        expect(o).toMatchObject({ chart: "spegel", fetch_opts: { repo: "https://127.0.0.1:8443/spegel-org/charts" } });
        expect(o).not.toHaveProperty("repo");
        expect(o).not.toHaveProperty("skip_crd_rendering");
        // No version: the latest, as Helm pulls it.
        expect(templateOptions({ chart: "oci://127.0.0.1:5000/x", name: "x", namespace: "x" }, {})).not.toHaveProperty("version");
    });
});

describe("what is kept of a rendered chart", () => {
    it("only apiextensions.k8s.io/v1 CustomResourceDefinitions, in their order", () => {
        const objects = [
            CRD("gateways.gateway.networking.k8s.io"),
            { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "envoy-gateway" } },
            CRD("old.example.com", "apiextensions.k8s.io/v1beta1"),
            { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "envoy-gateway" } },
            CRD("httproutes.gateway.networking.k8s.io"),
            null,
        ];
        expect(crdsOf(objects).map((c) => c.metadata.name)).toEqual(["gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io"]);
        expect(crdsOf(undefined)).toEqual([]);
    });
});
