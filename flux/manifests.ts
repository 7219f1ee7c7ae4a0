// The objects a platform release's `apply` paths bring, read as the tools that apply them would: a file as
// `kubectl apply --server-side -f` reads it (home-ops' helmfile hooks), a directory as `kubectl apply -k` builds it from
// its kustomization, each object then substituted by Flux's post-build substitution like every file of the repository.
// Pure functions: files come in as text, problems go out as AppProblem messages that name the file.
import * as path from "node:path";
import {
    AppProblem, documents, field, isOwnFile, kustomizationEntries, structural, type AppFile, type Doc, type SubstitutedDocument,
} from "./helmrelease";
import { isRecord } from "../config/checks";
import { substitutionDisabled, templateVariables } from "./kustomize-varsub";

/** One object of an `apply` path, everything known before anything is registered but its substituted content. */
export interface Manifest extends SubstitutedDocument {
    apiVersion: string;
    kind: string;
    name: string;
    /**
     * Where it goes: the namespace its kustomization sets (kustomize sets it on every object), else its own
     * `metadata.namespace`, else the entry's (as `kubectl apply --namespace` and Flux's `targetNamespace` give it; the API
     * server drops it from a cluster-scoped kind: apiserver `rest.EnsureObjectNamespaceMatchesRequestNamespace`).
     */
    namespace: string;
    /** Its top-level fields but apiVersion and kind (`metadata`, `spec`, `data`, …), from the document before substitution. */
    fields: string[];
    /** Its `metadata` fields but name and namespace (`labels`, `annotations`, …), likewise. */
    metadataFields: string[];
}

/**
 * Fields of a kustomization that make `kubectl apply -k` apply other objects than its files hold: rewritten names,
 * patches, generated objects, labels, images. The directory would then not be applied as written.
 */
export const APPLY_REFUSED_FIELDS = [
    "namePrefix", "nameSuffix", "patches", "patchesStrategicMerge", "patchesJson6902", "replacements", "components", "transformers",
    "generators", "configMapGenerator", "secretGenerator", "helmCharts", "helmChartInflationGenerator", "commonLabels", "labels",
    "commonAnnotations", "images", "replicas", "vars", "bases",
];

/** Whether an `apply` path names a file (by its extension); otherwise it is read as a directory first. */
export function looksLikeFile(p: string): boolean {
    return /\.(ya?ml|json)$/i.test(p);
}

/**
 * The files a directory's kustomization lists, as repository paths, with the namespace it sets: the refusals of an
 * app directory's kustomization, plus {@link APPLY_REFUSED_FIELDS}, and every resource must be a file of the directory
 * (a sub-directory, `../` or a URL would be applied by kubectl and not by the bootstrap).
 */
export function applyDirectoryFiles(dir: string, kustomization: AppFile, namespace: string): { files: string[]; namespace?: string } {
    const k = kustomizationEntries(kustomization, namespace, APPLY_REFUSED_FIELDS,
        "they make kubectl apply -k apply other objects than the files hold, which the bootstrap would not reproduce");
    const other = k.resources.filter((r) => !isOwnFile(r));
    if (other.length > 0) {
        throw new AppProblem(`${kustomization.file}: resources ${other.map((r) => JSON.stringify(r)).join(", ")} ${other.length === 1 ? "is" : "are"} ` +
            "not a YAML or JSON file of the directory itself: list the files to apply there");
    }
    return { files: k.resources.map((r) => `${dir}/${path.posix.normalize(r)}`), ...(k.namespace ? { namespace: k.namespace } : {}) };
}

/**
 * The objects of `files`, each checked as Flux and kubectl need it: a Kubernetes object (apiVersion, kind,
 * metadata.name), not a List, its names and namespace built only from the variables known up front (`known`).
 * `namespace` is the entry's; `kustomizationNamespace` the one a kustomization sets (it wins, as kustomize's namespace
 * transformer sets it on every object). Throws {@link AppProblem}.
 */
export function manifestsOf(files: AppFile[], namespace: string, known: Record<string, string>, kustomizationNamespace?: string): Manifest[] {
    return documents(files).map((doc) => manifestOf(doc, namespace, known, kustomizationNamespace));
}

function manifestOf(doc: Doc, namespace: string, known: Record<string, string>, kustomizationNamespace?: string): Manifest {
    const obj = structural(doc, known);
    const what = "a Kubernetes object needs apiVersion, kind and metadata.name";
    const apiVersion = field(obj, "apiVersion", doc.file);
    const kind = field(obj, "kind", doc.file);
    const name = field(obj, "metadata.name", doc.file);
    if (!apiVersion || !kind || !name) {
        throw new AppProblem(`${doc.file}: a document has no ${[!apiVersion && "apiVersion", !kind && "kind", !name && "metadata.name"].filter(Boolean).join(", ")}: ${what}`);
    }
    // kubectl applies a List (`v1/List`, `ConfigMapList`, …) as the objects of its items: write those out instead.
    if (kind.endsWith("List") && Array.isArray(obj.items)) {
        throw new AppProblem(`${doc.file}: ${kind} ${name}: a List is not supported: write its items as documents of their own`);
    }
    const own = field(obj, "metadata.namespace", doc.file);
    const substituted = !substitutionDisabled(doc.raw);
    return {
        file: doc.file,
        document: doc.text,
        substituted,
        variables: substituted ? templateVariables(doc.text) : [],
        apiVersion,
        kind,
        name,
        namespace: kustomizationNamespace ?? own ?? namespace,
        fields: Object.keys(obj).filter((k) => k !== "apiVersion" && k !== "kind"),
        metadataFields: isRecord(obj.metadata) ? Object.keys(obj.metadata).filter((k) => k !== "name" && k !== "namespace") : [],
    };
}

/** The API group of an apiVersion (`cilium.io/v2` → `cilium.io`, `v1` → the core group ""). */
export function apiGroup(apiVersion: string): string {
    return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
}

/** What makes two manifests the same object in the cluster: group, kind, namespace and name (not the version). */
export function objectIdentity(m: Pick<Manifest, "apiVersion" | "kind" | "namespace" | "name">): string {
    return `${apiGroup(m.apiVersion)}/${m.kind} ${m.namespace}/${m.name}`;
}
