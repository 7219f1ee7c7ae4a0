// An app directory of the GitOps repository, read the way Flux reads it: its kustomization.yaml lists the files, one
// Flux HelmRelease names the release, and the chart source it refers to (an OCIRepository through `chartRef`, or a
// HelmRepository through `chart.spec.sourceRef`) must sit in the same directory. Pure functions: the files come in
// as text, problems go out as AppProblem messages that name the file.
import * as crypto from "node:crypto";
import * as path from "node:path";
import { parseAllDocuments, parse as parseYaml, YAMLError } from "yaml";
import { isKubernetesName, isRecord } from "../config/checks";
import { yamlErrorAt, yamlErrorText } from "../config/yaml-errors";
import { loadVariables, parseResource, substituteVariables, SubstitutionError, substitutionDisabled, templateVariables } from "./kustomize-varsub";

/** File names kustomize looks for in a directory, in its order. */
export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;

/** A problem with one app directory; the message starts with the file it is about. */
export class AppProblem extends Error {
    constructor(message: string) {
        super(message);
        this.name = "AppProblem";
    }
}

/** One file of an app directory: its path in the repository and its text. */
export interface AppFile {
    file: string;
    text: string;
}

/** What an app directory installs, everything but the values known before anything is registered. */
export interface AppRelease {
    /** The release name helm-controller uses: `spec.releaseName`, or the HelmRelease's name, shortened past 53. */
    name: string;
    /** The HelmRelease object's own name (`metadata.name`), in `namespace`: the object Flux reports Ready on. */
    helmRelease: string;
    namespace: string;
    /** `oci://…` reference, or a chart name with {@link repositoryUrl}. */
    chart: string;
    /** Chart version (the OCIRepository tag, or the HelmRepository chart's version); undefined means the latest. */
    version?: string;
    /** URL of a classic (HTTP) Helm repository; undefined for OCI charts. */
    repositoryUrl?: string;
    /** The HelmRelease file and the document's text, substituted later with the contract's values. */
    file: string;
    document: string;
    /** False when the HelmRelease is labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`. */
    substituted: boolean;
    /** Variables the HelmRelease's text looks up (none when not substituted). */
    variables: string[];
}

const fileName = (file: string) => path.posix.basename(file);

/** Kustomize fields that rewrite resources: the release Flux applies could then differ from the file. */
const REWRITING_FIELDS = ["namePrefix", "nameSuffix", "patches", "patchesStrategicMerge", "patchesJson6902", "replacements", "components", "transformers"];

/**
 * A kustomization's `resources`, as written, after the refusals every kustomization gets: it must parse, must not set
 * any of `refused` (fields that make what Flux or kubectl applies differ from the files), and must not set another
 * namespace than the entry's. `what` says why `refused` fields are refused.
 */
export function kustomizationEntries(kustomization: AppFile, namespace: string, refused: readonly string[] = REWRITING_FIELDS,
    what = "they change the HelmRelease Flux applies, which the bootstrap would not reproduce"): { resources: string[]; namespace?: string } {
    let doc: unknown;
    try {
        doc = parseYaml(kustomization.text, { logLevel: "error" });
    } catch (e) {
        throw new AppProblem(notYaml(kustomization.file, e));
    }
    if (!isRecord(doc)) throw new AppProblem(`${kustomization.file}: is not a kustomization (a mapping with resources)`);
    const rewriting = refused.filter((f) => doc[f] !== undefined);
    if (rewriting.length > 0) {
        throw new AppProblem(`${kustomization.file}: ${rewriting.join(", ")} ${rewriting.length === 1 ? "is" : "are"} not supported: ${what}`);
    }
    if (doc.namespace !== undefined && doc.namespace !== namespace) {
        throw new AppProblem(`${kustomization.file}: sets namespace ${JSON.stringify(doc.namespace)}, but the entry's namespace is ${JSON.stringify(namespace)}`);
    }
    const resources = doc.resources ?? [];
    if (!Array.isArray(resources) || resources.some((r) => typeof r !== "string")) {
        throw new AppProblem(`${kustomization.file}: resources must be a list of file names`);
    }
    return { resources: resources as string[], ...(doc.namespace !== undefined ? { namespace: namespace } : {}) };
}

/** Whether a kustomization's resource entry is a file of its own directory (not a sub-directory, `../`, a URL). */
export function isOwnFile(entry: string): boolean {
    const normal = path.posix.normalize(entry);
    return !/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) && !normal.includes("/") && /\.(ya?ml|json)$/.test(normal);
}

/**
 * The files of the directory that the kustomization lists, as repository paths. Other entries (a sub-directory or
 * another kustomization, `../`, a URL) are not read: the chart source must be in the directory itself.
 */
export function kustomizationResources(dir: string, kustomization: AppFile, namespace: string): string[] {
    return kustomizationEntries(kustomization, namespace).resources.filter(isOwnFile).map((r) => `${dir}/${path.posix.normalize(r)}`);
}

/** One YAML document of a file. */
export interface Doc {
    file: string;
    text: string;
    /** As kustomize reads it, before substitution. */
    raw: unknown;
}

/** Every YAML document of the files, with its own text (Flux substitutes each resource on its own). */
export function documents(files: AppFile[]): Doc[] {
    const docs: Doc[] = [];
    for (const f of files) {
        for (const d of parseAllDocuments(f.text)) {
            let raw: unknown;
            try {
                if (d.errors.length > 0) throw d.errors[0];
                raw = d.toJS();
            } catch (e) {
                throw new AppProblem(notYaml(f.file, e));
            }
            if (raw === null || raw === undefined) continue;
            docs.push({ file: f.file, text: f.text.slice(d.range[0], d.range[2]), raw });
        }
    }
    return docs;
}

/**
 * `FILE:LINE:COL: does not parse as YAML: <what usually causes it>`: the parser's own message quotes the file's text,
 * never shown (config/yaml-errors.ts).
 */
function notYaml(file: string, e: unknown): string {
    return `${yamlErrorAt(file, e)}: does not parse as YAML: ${yamlErrorText(e)}`;
}

/**
 * The same after substitution: the text is the resource with the variables' values in it (cluster-secrets' included),
 * so its position is the substituted resource's, and nothing of it is shown.
 */
export function notYamlAfterSubstitution(file: string, e: unknown): string {
    const at = e instanceof YAMLError && e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col} of the substituted resource)` : "";
    return `${file}: does not parse as YAML after substitution${at}: ${yamlErrorText(e)}`;
}

const kindOf = (raw: unknown) => (isRecord(raw) ? { apiVersion: String(raw.apiVersion ?? ""), kind: String(raw.kind ?? "") } : { apiVersion: "", kind: "" });
const isHelmRelease = (d: Doc) => kindOf(d.raw).kind === "HelmRelease" && kindOf(d.raw).apiVersion.startsWith("helm.toolkit.fluxcd.io/");
const isSource = (kind: string) => (d: Doc) => kindOf(d.raw).kind === kind && kindOf(d.raw).apiVersion.startsWith("source.toolkit.fluxcd.io/");

// Stands for a variable whose value is known only after apply: a structural field that shows it is refused.
const UNKNOWN_OPEN = "\uE000";
const UNKNOWN_CLOSE = "\uE001";
const UNKNOWN_USE = new RegExp(`${UNKNOWN_OPEN}(\\w+)${UNKNOWN_CLOSE}`);

/** What stands for variable `name` while its value is known only after apply; {@link unknownVariableIn} finds it. */
export function unknownStandIn(name: string): string {
    return `${UNKNOWN_OPEN}${name}${UNKNOWN_CLOSE}`;
}

/** The variables of `known` whose values are known now: plain strings, not Outputs that resolve later. */
export function knownNow(known: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(known).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** The variable known only after apply that a value was built from (through {@link unknownStandIn}), or undefined. */
export function unknownVariableIn(value: string): string | undefined {
    return UNKNOWN_USE.exec(value)?.[1];
}

/**
 * A document substituted with the variables known up front (the cluster's own, from config); every other variable it
 * uses stands as a marker, so a name, chart or version built from one is caught. Values are substituted later.
 */
export function structural(doc: Doc, known: Record<string, string>): Record<string, unknown> {
    let obj: unknown;
    try {
        if (substitutionDisabled(doc.raw)) obj = doc.raw;
        else {
            const vars: Record<string, string> = { ...loadVariables(known) };
            for (const v of templateVariables(doc.text)) if (!(v in vars)) vars[v] = unknownStandIn(v);
            const text = substituteVariables(doc.text, vars, { strict: false });
            obj = text === undefined ? doc.raw : parseResource(text, true);
        }
    } catch (e) {
        if (e instanceof SubstitutionError) throw new AppProblem(`${doc.file}: ${e.message}`);
        throw new AppProblem(notYamlAfterSubstitution(doc.file, e));
    }
    if (!isRecord(obj)) throw new AppProblem(`${doc.file}: is not a Kubernetes object`);
    return obj;
}

/** A string field of a structural document; refuses a value built from a variable not known up front. */
export function field(obj: Record<string, unknown>, dotted: string, file: string, opts: { required?: boolean } = {}): string | undefined {
    let v: unknown = obj;
    for (const k of dotted.split(".")) v = isRecord(v) ? v[k] : undefined;
    if (v === undefined || v === null || v === "") {
        if (opts.required) throw new AppProblem(`${file}: ${dotted} is required`);
        return undefined;
    }
    // A number here (`tag: 1.10`) is refused by the API server too: quote it.
    if (typeof v !== "string") throw new AppProblem(`${file}: ${dotted} must be a string (quote it)`);
    const s = v;
    const unknown = unknownVariableIn(s);
    if (unknown !== undefined) {
        throw new AppProblem(`${file}: ${dotted} uses \${${unknown}}, which is known only once the stack's resources exist; ` +
            "only the cluster's own variables (cluster-vars from cluster.*) may be used in names, namespaces, charts and versions");
    }
    return s;
}

/** helm-controller internal/release/name.go ShortenName: past 53 characters, 40 of them, "-" and 12 of a sha256. */
export function shortenReleaseName(name: string): string {
    if (name.length <= 53) return name;
    return `${name.slice(0, 53 - 13)}-${crypto.createHash("sha256").update(name).digest("hex").slice(0, 12)}`;
}

function nonEmpty(v: unknown): boolean {
    return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && !(isRecord(v) && Object.keys(v).length === 0);
}

/**
 * The release an app directory installs. `files` are the directory's files the kustomization lists; `known` the
 * variables known up front. Throws {@link AppProblem} for every form the bootstrap cannot reproduce exactly.
 */
export function appRelease(dir: string, files: AppFile[], namespace: string, known: Record<string, string>): AppRelease {
    const docs = documents(files);
    const releases = docs.filter(isHelmRelease);
    const listed = files.map((f) => fileName(f.file)).join(", ") || "(none)";
    if (releases.length === 0) throw new AppProblem(`${dir}: no HelmRelease in the files its kustomization lists (${listed})`);
    if (releases.length > 1) {
        throw new AppProblem(`${dir}: more than one HelmRelease (${releases.map((d) => `${field(d.raw as Record<string, unknown>, "metadata.name", d.file) ?? "?"} in ${fileName(d.file)}`).join(", ")}); ` +
            "an entry is one app directory with one HelmRelease");
    }
    const doc = releases[0];
    const hr = structural(doc, known);
    const f = doc.file;
    const spec = isRecord(hr.spec) ? hr.spec : {};

    const sameNamespace = (dotted: string) => {
        const ns = field(hr, dotted, f);
        if (ns !== undefined && ns !== namespace) {
            throw new AppProblem(`${f}: ${dotted} is ${JSON.stringify(ns)}, but the entry's namespace is ${JSON.stringify(namespace)}; ` +
                "the release must be where Flux will look for it");
        }
        return ns;
    };
    sameNamespace("metadata.namespace");
    const target = sameNamespace("spec.targetNamespace");
    sameNamespace("spec.storageNamespace");

    for (const [key, value, why] of [
        ["spec.valuesFrom", spec.valuesFrom, "bootstrap values come from spec.values only"],
        ["spec.postRenderers", spec.postRenderers, "Flux would change the manifests after Helm renders them"],
        ["spec.chart.spec.valuesFiles", isRecord(spec.chart) && isRecord(spec.chart.spec) ? spec.chart.spec.valuesFiles : undefined, "values files in the chart are not read"],
        ["spec.chart.spec.valuesFile", isRecord(spec.chart) && isRecord(spec.chart.spec) ? spec.chart.spec.valuesFile : undefined, "values files in the chart are not read"],
    ] as const) {
        if (nonEmpty(value)) throw new AppProblem(`${f}: ${key} is not supported: ${why}`);
    }
    if (spec.values !== undefined && spec.values !== null && !isRecord(spec.values)) throw new AppProblem(`${f}: spec.values must be a mapping`);

    const hrName = field(hr, "metadata.name", f, { required: true })!;
    const releaseName = field(hr, "spec.releaseName", f);
    const name = shortenReleaseName(releaseName ?? (target ? `${target}-${hrName}` : hrName));
    if (!isKubernetesName(name)) throw new AppProblem(`${f}: release name ${JSON.stringify(name)} is not a valid Helm release name`);

    const chart = chartOf(hr, f, docs, namespace, known, dir);
    const substituted = !substitutionDisabled(doc.raw);
    return {
        name,
        helmRelease: hrName,
        namespace,
        ...chart,
        file: f,
        document: doc.text,
        substituted,
        variables: substituted ? templateVariables(doc.text) : [],
    };
}

/** A file's text, or undefined when it is not there; throws when the read itself fails. */
export type ReadFile = (file: string) => Promise<string | undefined>;

/**
 * Where app directories conventionally keep their HelmRelease and its chart source (onedr0p/home-ops,
 * onedr0p/cluster-template and the repositories built on them): read first, and the directory's other files only when
 * these do not hold the release and its source.
 */
const RELEASE_FILES = new Set(["helmrelease.yaml", "helmrelease.yml"]);
const SOURCE_FILES = new Set(["ocirepository.yaml", "ocirepository.yml", "helmrepository.yaml", "helmrepository.yml"]);

/**
 * The kustomization of directory `dir`: the first of {@link KUSTOMIZATION_FILES} there, in kustomize's order, one read
 * each until found. `where` names the source in messages (`branch main of owner/repo`). Throws {@link AppProblem} when
 * there is none.
 */
export async function readKustomization(read: ReadFile, where: string, dir: string): Promise<AppFile> {
    const found = await findKustomization(read, dir);
    if (!found) throw new AppProblem(`${dir}: no kustomization.yaml on ${where}`);
    return found;
}

/** The kustomization of directory `dir`, as {@link readKustomization} finds it; undefined when there is none. */
export async function findKustomization(read: ReadFile, dir: string): Promise<AppFile | undefined> {
    for (const name of KUSTOMIZATION_FILES) {
        const file = `${dir}/${name}`;
        const text = await read(file);
        if (text !== undefined) return { file, text };
    }
    return undefined;
}

/**
 * Files the kustomization lists (repository paths, as {@link kustomizationResources} gives them), read in parallel,
 * one read each, in the order given. Throws {@link AppProblem} naming the first one that is not there.
 */
export async function readListedFiles(read: ReadFile, where: string, kustomization: AppFile, paths: readonly string[]): Promise<AppFile[]> {
    const texts = await Promise.all(paths.map((file) => read(file)));
    return paths.map((file, i) => {
        const text = texts[i];
        if (text === undefined) throw new AppProblem(`${file}: not found on ${where} (${kustomization.file} lists it)`);
        return { file, text };
    });
}

/**
 * What one entry's app directory installs, reading through `read` only what the release needs: the kustomization,
 * then the files it lists under the conventional names of a HelmRelease and its chart source. Only when those do not
 * make a release (no HelmRelease among them, its source elsewhere, or any problem) are the directory's other listed
 * files read, and the release judged on all of them, with the refusals as they always were. Dashboards, alert rules
 * and the like are therefore not read when the conventional files suffice. Throws {@link AppProblem}; a reader's own
 * error passes through.
 */
export async function readAppRelease(entry: { path: string; namespace: string }, read: ReadFile, where: string,
    known: Record<string, string>): Promise<AppRelease> {
    const kustomization = await readKustomization(read, where, entry.path);
    const listed = kustomizationResources(entry.path, kustomization, entry.namespace);
    let first: AppFile[] = [];
    if (listed.some((f) => RELEASE_FILES.has(fileName(f)))) {
        first = await readListedFiles(read, where, kustomization, listed.filter((f) => RELEASE_FILES.has(fileName(f)) || SOURCE_FILES.has(fileName(f))));
        try {
            return appRelease(entry.path, first, entry.namespace, known);
        } catch (e) {
            if (!(e instanceof AppProblem)) throw e;
        }
    }
    const done = new Map(first.map((f) => [f.file, f]));
    const rest = await readListedFiles(read, where, kustomization, listed.filter((f) => !done.has(f)));
    for (const f of rest) done.set(f.file, f);
    return appRelease(entry.path, listed.map((f) => done.get(f)!), entry.namespace, known);
}

function chartOf(hr: Record<string, unknown>, f: string, docs: Doc[], namespace: string, known: Record<string, string>, dir: string):
    Pick<AppRelease, "chart" | "version" | "repositoryUrl"> {
    const spec = isRecord(hr.spec) ? hr.spec : {};
    const hasRef = spec.chartRef !== undefined && spec.chartRef !== null;
    const hasTemplate = spec.chart !== undefined && spec.chart !== null;
    if (hasRef === hasTemplate) throw new AppProblem(`${f}: exactly one of spec.chartRef and spec.chart is required`);

    const source = (kind: string, refKey: string) => {
        const refName = field(hr, `${refKey}.name`, f, { required: true })!;
        const refNs = field(hr, `${refKey}.namespace`, f);
        if (refNs !== undefined && refNs !== namespace) {
            throw new AppProblem(`${f}: ${refKey} points to ${kind} ${refNs}/${refName}, outside the release's namespace; the chart source must be in ${dir}`);
        }
        const found = docs.filter(isSource(kind)).map((d) => ({ d, obj: structural(d, known) }))
            .filter(({ obj }) => field(obj, "metadata.name", f) === refName);
        if (found.length === 0) {
            throw new AppProblem(`${f}: ${refKey} names ${kind} ${JSON.stringify(refName)}, which is not among the files of ${dir}; ` +
                "the chart source must be in the same directory");
        }
        const { d, obj } = found[0];
        const ns = field(obj, "metadata.namespace", d.file);
        if (ns !== undefined && ns !== namespace) throw new AppProblem(`${d.file}: metadata.namespace is ${JSON.stringify(ns)}, not the entry's ${JSON.stringify(namespace)}`);
        const s = isRecord(obj.spec) ? obj.spec : {};
        if (nonEmpty(s.secretRef)) throw new AppProblem(`${d.file}: spec.secretRef is not supported: the bootstrap has no registry credentials`);
        return { file: d.file, obj, spec: s };
    };

    if (hasRef) {
        const kind = field(hr, "spec.chartRef.kind", f, { required: true })!;
        if (kind !== "OCIRepository") throw new AppProblem(`${f}: spec.chartRef.kind ${kind} is not supported (OCIRepository is)`);
        const oci = source("OCIRepository", "spec.chartRef");
        const url = field(oci.obj, "spec.url", oci.file, { required: true })!;
        if (!url.startsWith("oci://")) throw new AppProblem(`${oci.file}: spec.url must be an oci:// URL`);
        const provider = field(oci.obj, "spec.provider", oci.file);
        if (provider !== undefined && provider !== "generic") {
            throw new AppProblem(`${oci.file}: spec.provider ${provider} is not supported: the bootstrap has no cloud registry credentials`);
        }
        const ref = isRecord(oci.spec.ref) ? oci.spec.ref : {};
        const other = ["semver", "semverFilter", "digest"].filter((k) => ref[k] !== undefined);
        if (other.length > 0) throw new AppProblem(`${oci.file}: spec.ref.${other[0]} is not supported: pin the chart with spec.ref.tag`);
        const tag = field(oci.obj, "spec.ref.tag", oci.file, { required: true })!;
        return { chart: url, version: tag };
    }

    const kind = field(hr, "spec.chart.spec.sourceRef.kind", f, { required: true })!;
    if (kind !== "HelmRepository") throw new AppProblem(`${f}: spec.chart.spec.sourceRef.kind ${kind} is not supported (HelmRepository is)`);
    const repo = source("HelmRepository", "spec.chart.spec.sourceRef");
    const chartName = field(hr, "spec.chart.spec.chart", f, { required: true })!;
    const version = field(hr, "spec.chart.spec.version", f);
    const url = field(repo.obj, "spec.url", repo.file, { required: true })!;
    if (field(repo.obj, "spec.type", repo.file) === "oci") {
        if (!url.startsWith("oci://")) throw new AppProblem(`${repo.file}: spec.url must be an oci:// URL for spec.type oci`);
        return { chart: `${url.replace(/\/+$/, "")}/${chartName}`, version };
    }
    if (!/^https?:\/\//.test(url)) throw new AppProblem(`${repo.file}: spec.url must be an http(s):// URL`);
    return { chart: chartName, version, repositoryUrl: url };
}

/** A document of the repository as Flux substitutes it: a HelmRelease, or an object an `apply` path brings. */
export type SubstitutedDocument = Pick<AppRelease, "file" | "document" | "substituted" | "variables">;

/**
 * The document as Flux applies it: its text substituted with `vars` (the stack's cluster-vars and cluster-secrets),
 * then parsed. `always`: substitute even when `vars` is empty, as Flux does whenever its sources define any variable
 * (`vars` may hold only those the document uses). Throws {@link AppProblem} where Flux would fail.
 */
export function renderDocument(doc: SubstitutedDocument, vars: Record<string, string>, strict: boolean, always = false): unknown {
    try {
        const text = doc.substituted ? substituteVariables(doc.document, loadVariables(vars), { strict, always }) : undefined;
        return text === undefined ? parseYaml(doc.document, { logLevel: "error" }) : parseResource(text, true);
    } catch (e) {
        if (e instanceof SubstitutionError) throw new AppProblem(`${doc.file}: ${e.message}`);
        throw new AppProblem(notYamlAfterSubstitution(doc.file, e));
    }
}

/**
 * `spec.values` of the release as Flux hands them to Helm: the HelmRelease's text substituted with `vars` (the
 * stack's cluster-vars and cluster-secrets), then parsed (`always` as for {@link renderDocument}). Throws
 * {@link AppProblem} where Flux would fail.
 */
export function renderValues(release: AppRelease, vars: Record<string, string>, strict: boolean, always = false): Record<string, unknown> {
    const obj = renderDocument(release, vars, strict, always);
    const values = isRecord(obj) && isRecord(obj.spec) ? obj.spec.values : undefined;
    if (values === undefined || values === null) return {};
    if (!isRecord(values)) throw new AppProblem(`${release.file}: spec.values must be a mapping`);
    return values;
}

/**
 * Where strict substitution (Flux 2.9 and later) would fail on a variable the contract does not define: checked
 * with the variables' names only, so no value is needed. Undefined when substitution succeeds.
 */
export function unsetVariableProblem(doc: SubstitutedDocument, defined: Iterable<string>, strict: boolean): string | undefined {
    if (!doc.substituted || !strict) return undefined;
    const vars = Object.fromEntries([...defined].map((k) => [k, "x"]));
    try {
        substituteVariables(doc.document, vars, { strict });
        return undefined;
    } catch (e) {
        return `${doc.file}: ${(e as Error).message}: the stack's cluster-vars and cluster-secrets do not define it`;
    }
}
