import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { yamlErrorDescription } from "../config/yaml-errors";
import { appRelease, kustomizationResources, renderValues, shortenReleaseName, unsetVariableProblem, type AppFile } from "./helmrelease";

const FIXTURE = path.join(__dirname, "..", "test", "fixtures", "gitops");
const fixture = (dir: string, ...names: string[]): AppFile[] =>
    names.map((n) => ({ file: `${dir}/${n}`, text: fs.readFileSync(path.join(FIXTURE, dir, n), "utf8") }));

const DIR = "kubernetes/apps/kube-system/demo/app";
const file = (name: string, text: string): AppFile => ({ file: `${DIR}/${name}`, text });
const CLUSTER = { CLUSTER_NAME: "infra", CLUSTER_ID: "1", CLUSTER_DOMAIN: "monosense.dev" };

const ociRepository = (name = "demo", ref = "tag: 1.2.3") => file("ocirepository.yaml", `---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: ${name}
spec:
  ref:
    ${ref}
  url: oci://127.0.0.1:5000/charts/demo
`);
const helmRelease = (spec: string, meta = "") => file("helmrelease.yaml", `---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: demo
${meta}spec:
${spec}`);
const CHART_REF = "  chartRef:\n    kind: OCIRepository\n    name: demo\n";
const release = (files: AppFile[], known: Record<string, string> = CLUSTER) => appRelease(DIR, files, "kube-system", known);

describe("an app directory of the home-ops layout", () => {
    it("installs Cilium from its OCIRepository, at the tag, with the HelmRelease's name", () => {
        const dir = "kubernetes/apps/kube-system/cilium/app";
        const r = appRelease(dir, fixture(dir, "helmrelease.yaml", "ocirepository.yaml", "networking.yaml"), "kube-system", CLUSTER);
        expect(r).toMatchObject({ name: "cilium", namespace: "kube-system", chart: "oci://127.0.0.1:5000/cilium/charts/cilium", version: "1.18.4" });
        expect(r.repositoryUrl).toBeUndefined();
        expect(r.variables).toEqual(["CLUSTER_NAME", "CLUSTER_ID", "CLUSTER_POD_CIDR", "CLUSTER_CIDR"]);
    });

    it("installs from a HelmRepository with the chart's name and version", () => {
        const dir = "kubernetes/apps/kube-system/spegel/app";
        const r = appRelease(dir, fixture(dir, "helmrepository.yaml", "helmrelease.yaml"), "kube-system", CLUSTER);
        expect(r).toMatchObject({ name: "spegel", chart: "spegel", version: "0.4.0", repositoryUrl: "https://127.0.0.1:8443/spegel-org/charts" });
    });

    it("takes an OCI HelmRepository's charts by reference", () => {
        const r = release([
            file("helmrepository.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: repo\nspec:\n  type: oci\n  url: oci://127.0.0.1:5000/charts/\n"),
            helmRelease("  chart:\n    spec:\n      chart: demo\n      version: 2.0.0\n      sourceRef:\n        kind: HelmRepository\n        name: repo\n"),
        ]);
        expect(r).toMatchObject({ chart: "oci://127.0.0.1:5000/charts/demo", version: "2.0.0" });
        expect(r.repositoryUrl).toBeUndefined();
    });

    it("lists the files the kustomization names in its own directory only", () => {
        const k = file("kustomization.yaml", "resources:\n  - ./helmrelease.yaml\n  - ocirepository.yaml\n  - ../shared\n  - ./sub/x.yaml\n  - ./networks\n  - https://127.0.0.1/x.yaml\n");
        expect(kustomizationResources(DIR, k, "kube-system")).toEqual([`${DIR}/helmrelease.yaml`, `${DIR}/ocirepository.yaml`]);
    });
});

describe("the release name, as helm-controller computes it", () => {
    it("is spec.releaseName, else <targetNamespace>-<name>, else the name", () => {
        expect(release([helmRelease(`${CHART_REF}  releaseName: other\n`), ociRepository()]).name).toBe("other");
        expect(release([helmRelease(`${CHART_REF}  targetNamespace: kube-system\n`), ociRepository()]).name).toBe("kube-system-demo");
        expect(release([helmRelease(CHART_REF), ociRepository()]).name).toBe("demo");
    });

    it("is not the HelmRelease object's own name, which the release keeps apart for what Flux reports on", () => {
        const r = release([helmRelease(`${CHART_REF}  releaseName: other\n  targetNamespace: kube-system\n`), ociRepository()]);
        expect([r.name, r.helmRelease]).toEqual(["other", "demo"]);
    });

    it("may use the cluster's own variables", () => {
        expect(release([helmRelease(`${CHART_REF}  releaseName: demo-\${CLUSTER_NAME}\n`), ociRepository()]).name).toBe("demo-infra");
    });

    it("is shortened past 53 characters with a sha256, as release.ShortenName does", () => {
        const long = "a".repeat(60);
        const short = shortenReleaseName(long);
        expect(short).toHaveLength(53);
        expect(short).toMatch(/^a{40}-[0-9a-f]{12}$/);
        expect(shortenReleaseName("cilium")).toBe("cilium");
    });
});

describe("forms the bootstrap cannot reproduce are refused, naming the file", () => {
    const refused = (files: AppFile[], message: string | RegExp) => expect(() => release(files)).toThrow(message);

    it("valuesFrom, post-renderers and chart values files", () => {
        refused([helmRelease(`${CHART_REF}  valuesFrom:\n    - kind: ConfigMap\n      name: x\n`), ociRepository()],
            `${DIR}/helmrelease.yaml: spec.valuesFrom is not supported`);
        refused([helmRelease(`${CHART_REF}  postRenderers:\n    - kustomize: {}\n`), ociRepository()], "spec.postRenderers is not supported");
        refused([helmRelease("  chart:\n    spec:\n      chart: demo\n      valuesFiles: [a.yaml]\n      sourceRef:\n        kind: HelmRepository\n        name: demo\n")],
            "spec.chart.spec.valuesFiles is not supported");
    });

    it("a chart source that is not in the same directory", () => {
        refused([helmRelease(CHART_REF)], `${DIR}/helmrelease.yaml: spec.chartRef names OCIRepository "demo", which is not among the files of ${DIR}`);
        refused([helmRelease("  chartRef:\n    kind: OCIRepository\n    name: demo\n    namespace: flux-system\n"), ociRepository()],
            /outside the release's namespace/);
        refused([helmRelease("  chart:\n    spec:\n      chart: demo\n      sourceRef:\n        kind: HelmRepository\n        name: shared\n")],
            /names HelmRepository "shared", which is not among the files/);
    });

    it("a file that does not parse: its place and a fixed description, never the parser's text, which quotes the line", () => {
        refused([file("helmrelease.yaml", "kind: HelmRelease\n  bad: [\n")], `${DIR}/helmrelease.yaml:1:7: does not parse as YAML: ${
            yamlErrorDescription("BLOCK_AS_IMPLICIT_KEY")}`);
        expect(() => kustomizationResources(DIR, file("kustomization.yaml", "resources: [\n"), "kube-system"))
            .toThrow(`${DIR}/kustomization.yaml:2:1: does not parse as YAML: ${yamlErrorDescription("BAD_INDENT")}`);
        const token = "ghp_SENTINELsentinelSENTINELsentinel0042";
        const secretLine = file("helmrelease.yaml", `kind: HelmRelease\nspec:\n  values:\n    token: > ${token}\n`);
        let message = "";
        try {
            release([secretLine, ociRepository()]);
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toBe(`${DIR}/helmrelease.yaml:4:14: does not parse as YAML: ${yamlErrorDescription("UNEXPECTED_TOKEN")}`);
    });

    it("no HelmRelease, or more than one", () => {
        refused([ociRepository()], `${DIR}: no HelmRelease in the files its kustomization lists (ocirepository.yaml)`);
        const two = file("more.yaml", "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: second\nspec: {}\n");
        refused([helmRelease(CHART_REF), two, ociRepository()], `${DIR}: more than one HelmRelease (demo in helmrelease.yaml, second in more.yaml)`);
    });

    it("a release that would not be where Flux looks for it", () => {
        refused([helmRelease(CHART_REF, "  namespace: default\n"), ociRepository()], /metadata.namespace is "default", but the entry's namespace is "kube-system"/);
        refused([helmRelease(`${CHART_REF}  targetNamespace: other\n`), ociRepository()], /spec.targetNamespace is "other"/);
        refused([helmRelease(`${CHART_REF}  storageNamespace: other\n`), ociRepository()], /spec.storageNamespace is "other"/);
        expect(() => kustomizationResources(DIR, file("kustomization.yaml", "namespace: other\nresources: []\n"), "kube-system"))
            .toThrow(/sets namespace "other", but the entry's namespace is "kube-system"/);
    });

    it("kustomizations that rewrite the HelmRelease", () => {
        expect(() => kustomizationResources(DIR, file("kustomization.yaml", "namePrefix: x-\npatches: []\nresources: []\n"), "kube-system"))
            .toThrow("namePrefix, patches are not supported");
    });

    it("OCI references other than a tag, and sources needing credentials", () => {
        refused([helmRelease(CHART_REF), ociRepository("demo", "semver: '>=1.0.0'")], `${DIR}/ocirepository.yaml: spec.ref.semver is not supported`);
        refused([helmRelease(CHART_REF), ociRepository("demo", "digest: sha256:00")], "spec.ref.digest is not supported");
        refused([helmRelease(CHART_REF), file("ocirepository.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: demo\nspec:\n  url: oci://127.0.0.1/x\n  ref:\n    tag: '1'\n  secretRef:\n    name: creds\n")],
            "spec.secretRef is not supported");
        refused([helmRelease("  chartRef:\n    kind: HelmChart\n    name: demo\n")], "spec.chartRef.kind HelmChart is not supported");
    });

    it("a version that YAML reads as a number, which the API server refuses too", () => {
        refused([helmRelease(CHART_REF), ociRepository("demo", "tag: 1.10")], `${DIR}/ocirepository.yaml: spec.ref.tag must be a string (quote it)`);
    });

    it("a name or chart built from a variable known only after apply", () => {
        refused([helmRelease(`${CHART_REF}  releaseName: \${TUNNEL_ID}\n`), ociRepository()], /spec.releaseName uses \$\{TUNNEL_ID\}, which is known only once/);
    });

    it("a malformed substitution, with Flux's message", () => {
        refused([helmRelease(`${CHART_REF}  values:\n    a: \${A-b}\n`), ociRepository()],
            `${DIR}/helmrelease.yaml: envsubst error: variable substitution failed: missing closing brace`);
    });
});

describe("values, substituted as Flux substitutes them", () => {
    const cilium = () => {
        const dir = "kubernetes/apps/kube-system/cilium/app";
        return appRelease(dir, fixture(dir, "helmrelease.yaml", "ocirepository.yaml"), "kube-system", CLUSTER);
    };

    it("on the YAML text before parsing: ${CLUSTER_ID} is the number 1, defaults apply, unset is empty (Flux < 2.9)", () => {
        const values = renderValues(cilium(), { ...CLUSTER, CLUSTER_CIDR: "10.42.0.0/16" }, false);
        expect(values.cluster).toEqual({ name: "infra", id: 1 });
        expect(values.ipv4NativeRoutingCIDR).toBe("10.42.0.0/16");
        expect((values.ipam as { operator: unknown }).operator).toEqual({ clusterPoolIPv4PodCIDRList: ["10.42.0.0/16"] });
        // CLUSTER_CIDR unset: Flux substitutes "", and `key: ` is null.
        expect(renderValues(cilium(), CLUSTER, false).ipv4NativeRoutingCIDR).toBeNull();
    });

    it("fails where strict substitution (Flux 2.9+) fails, and names the variable", () => {
        expect(unsetVariableProblem(cilium(), Object.keys(CLUSTER), true)).toMatch(/helmrelease.yaml: .*variable not set \(strict mode\): "CLUSTER_CIDR"/);
        expect(unsetVariableProblem(cilium(), [...Object.keys(CLUSTER), "CLUSTER_CIDR"], true)).toBeUndefined();
        expect(unsetVariableProblem(cilium(), Object.keys(CLUSTER), false)).toBeUndefined();
    });

    it("are left alone when the HelmRelease turns substitution off", () => {
        const r = release([helmRelease(`${CHART_REF}  values:\n    literal: \${CLUSTER_NAME}\n    flag: on\n`,
            "  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"), ociRepository()]);
        expect(r.variables).toEqual([]);
        expect(renderValues(r, CLUSTER, true)).toEqual({ literal: "${CLUSTER_NAME}", flag: "on" });
    });

    it("are an empty mapping when the HelmRelease has none", () => {
        expect(renderValues(release([helmRelease(CHART_REF), ociRepository()]), CLUSTER, false)).toEqual({});
    });
});
