import { describe, expect, it } from "vitest";
import { yamlErrorDescription } from "../config/yaml-errors";
import type { AppFile } from "./helmrelease";
import { applyDirectoryFiles, apiGroup, looksLikeFile, manifestsOf, objectIdentity } from "./manifests";

const DIR = "kubernetes/apps/kube-system/cilium/config";
const CLUSTER = { CLUSTER_NAME: "infra", CLUSTER_ID: "1" };
const kustomization = (text: string): AppFile => ({ file: `${DIR}/kustomization.yaml`, text });
const file = (name: string, text: string): AppFile => ({ file: `${DIR}/${name}`, text });

describe("a directory applied as kubectl apply -k applies it", () => {
    it("lists the files of its kustomization, in order, with the namespace it sets", () => {
        expect(applyDirectoryFiles(DIR, kustomization("resources:\n  - ./pool.yaml\n  - kube-api.yaml\n"), "kube-system"))
            .toEqual({ files: [`${DIR}/pool.yaml`, `${DIR}/kube-api.yaml`] });
        expect(applyDirectoryFiles(DIR, kustomization("namespace: kube-system\nresources: [pool.yaml]\n"), "kube-system"))
            .toEqual({ files: [`${DIR}/pool.yaml`], namespace: "kube-system" });
    });

    it("refuses what would make kubectl apply other objects than the files hold, and another namespace than the entry's", () => {
        const refused = (text: string) => () => applyDirectoryFiles(DIR, kustomization(text), "kube-system");
        expect(refused("namePrefix: x-\nresources: [pool.yaml]\n")).toThrow(`${DIR}/kustomization.yaml: namePrefix is not supported: they make ` +
            "kubectl apply -k apply other objects than the files hold, which the bootstrap would not reproduce");
        expect(refused("configMapGenerator:\n  - name: x\ncommonLabels: {a: b}\n")).toThrow("configMapGenerator, commonLabels are not supported");
        expect(refused("namespace: default\nresources: [pool.yaml]\n")).toThrow('sets namespace "default", but the entry\'s namespace is "kube-system"');
        expect(refused("resources: [../app, ./sub/x.yaml, https://127.0.0.1/x.yaml, pool.yaml]\n")).toThrow(`${DIR}/kustomization.yaml: resources ` +
            '"../app", "./sub/x.yaml", "https://127.0.0.1/x.yaml" are not a YAML or JSON file of the directory itself: list the files to apply there');
    });

    it("says where its kustomization does not parse, never with its text", () => {
        const secret = "ghp_notarealtokennotarealtoken0123";
        let e: Error | undefined;
        try {
            applyDirectoryFiles(DIR, kustomization(`resources:\n  - pool.yaml\n token: ${secret}\n`), "kube-system");
        } catch (x) {
            e = x as Error;
        }
        expect(e?.message).toBe(`${DIR}/kustomization.yaml:3:1: does not parse as YAML: ${yamlErrorDescription("BAD_INDENT")}`);
        expect(e?.message).not.toContain(secret);
    });
});

describe("the objects of an apply path", () => {
    it("are each document's object, in the entry's namespace unless its own or its kustomization's says otherwise", () => {
        const objects = manifestsOf([
            file("pool.yaml", "---\napiVersion: cilium.io/v2\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\nspec:\n  blocks: []\n"),
            file("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: kube-api\n  namespace: default\n  labels: {a: b}\nspec: {}\n---\n# a comment only\n"),
        ], "kube-system", CLUSTER);
        expect(objects.map((m) => [m.file, m.apiVersion, m.kind, m.namespace, m.name, m.fields, m.metadataFields])).toEqual([
            [`${DIR}/pool.yaml`, "cilium.io/v2", "CiliumLoadBalancerIPPool", "kube-system", "pool", ["metadata", "spec"], []],
            [`${DIR}/svc.yaml`, "v1", "Service", "default", "kube-api", ["metadata", "spec"], ["labels"]],
        ]);
        expect(manifestsOf([file("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: default\n")], "kube-system", CLUSTER, "kube-system")[0].namespace)
            .toBe("kube-system");
    });

    it("keep their text and the variables it uses for Flux's substitution, unless it is disabled", () => {
        const [used, off] = manifestsOf([file("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${CLUSTER_NAME}-a\ndata:\n  t: ${TUNNEL_ID}\n"
            + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  t: ${TUNNEL_ID}\n")],
        "kube-system", CLUSTER);
        expect([used.name, used.substituted, used.variables]).toEqual(["infra-a", true, ["CLUSTER_NAME", "TUNNEL_ID"]]);
        expect([off.name, off.substituted, off.variables]).toEqual(["b", false, []]);
        expect(used.document).toContain("t: ${TUNNEL_ID}");
    });

    it("refuses a document that is no object, a List, and names built from variables known only later", () => {
        const of = (text: string) => () => manifestsOf([file("x.yaml", text)], "kube-system", CLUSTER);
        expect(of("apiVersion: v1\nmetadata:\n  name: a\n")).toThrow(`${DIR}/x.yaml: a document has no kind: a Kubernetes object needs apiVersion, kind and metadata.name`);
        expect(of("- a\n- b\n")).toThrow(`${DIR}/x.yaml: is not a Kubernetes object`);
        expect(of("apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems: []\n")).toThrow(`${DIR}/x.yaml: List l: a List is not supported`);
        expect(of("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${TUNNEL_ID}\n")).toThrow(`${DIR}/x.yaml: metadata.name uses \${TUNNEL_ID}, which is known only once`);
        expect(of("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: ${R2_BUCKET_X}\n")).toThrow("metadata.namespace uses ${R2_BUCKET_X}");
    });

    it("refuses a file that does not parse with its place and the fixed description, never a line of it", () => {
        const secret = "cfut_notarealtokennotarealtokennotarealtoken0";
        let message = "";
        try {
            manifestsOf([file("broken.yaml", `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: ${secret}\n   bad: [\n`)], "kube-system", CLUSTER);
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toBe(`${DIR}/broken.yaml:6:10: does not parse as YAML: ${yamlErrorDescription("BLOCK_AS_IMPLICIT_KEY")}`);
        expect(message).not.toContain(secret);
    });
});

describe("what names an object", () => {
    it("is its group, kind, namespace and name, whatever the version", () => {
        expect(apiGroup("cilium.io/v2alpha1")).toBe("cilium.io");
        expect(apiGroup("v1")).toBe("");
        const pool = { kind: "CiliumLoadBalancerIPPool", namespace: "kube-system", name: "pool" };
        expect(objectIdentity({ ...pool, apiVersion: "cilium.io/v2" })).toBe(objectIdentity({ ...pool, apiVersion: "cilium.io/v2alpha1" }));
        expect(looksLikeFile("networking.yaml")).toBe(true);
        expect(looksLikeFile("../config")).toBe(false);
    });
});
