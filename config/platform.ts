// `cluster-bootstrap:platform`: app directories of the GitOps repository that are installed as Helm releases before
// Flux exists (a CNI above all: without one the nodes stay NotReady and the Flux Operator cannot start), the files
// applied after a release (`apply`, home-ops' helmfile hooks), and the app directories whose charts' CRDs are applied
// before the first release (`crds`, home-ops' `bootstrap/helmfile/crds.yaml`).
// The schema lives with the others in config/schema.ts; the rules across entries are here.
import { joinRepoPath, normaliseRepoPath, quoted, relativePathProblem, repoPathProblem } from "./checks";

/** An app directory of the GitOps repository and the namespace of its release. */
export interface PlatformAppConfig {
    /** App directory in the GitOps repository, normalised (no leading `./`, no trailing `/`). */
    path: string;
    /** Namespace of the release: the repos set it from a parent kustomization, not in the app's own files. */
    namespace: string;
}

/** One `apply` path of a release. */
export interface ApplyPathConfig {
    /** As written in the config, relative to the app directory (`networking.yaml`, `../config`). */
    given: string;
    /** In the repository, normalised: a file, or a directory whose kustomization lists the files. */
    path: string;
}

export interface PlatformReleaseConfig extends PlatformAppConfig {
    /** Applied, in this order, once the release is ready and before the next release starts; empty when unset. */
    apply: ApplyPathConfig[];
}

export interface PlatformConfig {
    /** In install order; empty when `platform` is unset. */
    releases: PlatformReleaseConfig[];
    /** App directories whose charts' CustomResourceDefinitions are applied before the first release; empty when unset. */
    crds: PlatformAppConfig[];
}

/** The full key of an entry (`cluster-bootstrap:platform.releases[2]`) or of one of its fields. */
export function platformKey(i: number, field?: string): string {
    return `cluster-bootstrap:platform.releases[${i}]${field ? `.${field}` : ""}`;
}

/** The full key of a `platform.crds` entry (`cluster-bootstrap:platform.crds[0]`) or of one of its fields. */
export function platformCrdsKey(i: number, field?: string): string {
    return `cluster-bootstrap:platform.crds[${i}]${field ? `.${field}` : ""}`;
}

/** The path of an entry the schema accepts, normalised; undefined when the schema refuses it (reported there). */
function entryPath(entry: unknown): string | undefined {
    const path = (entry as { path?: unknown } | null)?.path;
    if (typeof path !== "string" || /[\r\n]/.test(path) || repoPathProblem(path)) return undefined;
    return normaliseRepoPath(path);
}

/** The same app directory twice in one list. */
function repeatedPaths(entries: unknown, key: (i: number, field?: string) => string): string[] {
    if (!Array.isArray(entries)) return [];
    const problems: string[] = [];
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
        const normal = entryPath(e);
        if (normal === undefined) return;
        const first = seen.get(normal);
        if (first !== undefined) problems.push(`${key(i, "path")}: ${quoted((e as { path: string }).path)} repeats ${key(first, "path")}`);
        else seen.set(normal, i);
    });
    return problems;
}

/** Each release's `apply` paths: inside the repository, each once. */
function applyProblems(releases: unknown[]): string[] {
    const problems: string[] = [];
    releases.forEach((r, i) => {
        const dir = entryPath(r);
        const apply = (r as { apply?: unknown } | null)?.apply;
        if (dir === undefined || !Array.isArray(apply)) return;
        const seen = new Map<string, number>();
        apply.forEach((p, j) => {
            if (typeof p !== "string" || relativePathProblem(p)) return;
            const key = platformKey(i, `apply[${j}]`);
            const joined = joinRepoPath(dir, p);
            if (joined === undefined) {
                problems.push(`${key}: ${quoted(p)} leaves the repository (taken from ${dir}): an apply path must name a file or a ` +
                    "directory inside it");
                return;
            }
            const first = seen.get(joined);
            if (first !== undefined) problems.push(`${key}: ${quoted(p)} is ${joined} again, as ${platformKey(i, `apply[${first}]`)}`);
            else seen.set(joined, j);
        });
    });
    return problems;
}

/**
 * Rules across entries: the same app directory twice would install one release twice; an `apply` path must stay in
 * the repository. Entries the schema refuses are skipped here, so each problem is reported once. (namespace, release
 * name) is checked once the files are read.
 */
export function platformProblems(platform: unknown): string[] {
    const p = platform as { releases?: unknown; crds?: unknown } | undefined;
    return [
        ...repeatedPaths(p?.releases, platformKey),
        ...(Array.isArray(p?.releases) ? applyProblems(p.releases) : []),
        ...repeatedPaths(p?.crds, platformCrdsKey),
    ];
}

/** The validated `platform` value, paths normalised. */
export function platformConfig(platform: {
    releases: Array<{ path: string; namespace: string; apply?: string[] }>;
    crds?: Array<{ path: string; namespace: string }>;
} | undefined): PlatformConfig {
    return {
        releases: (platform?.releases ?? []).map((r) => {
            const path = normaliseRepoPath(r.path);
            // Checked by platformProblems: every path joins inside the repository.
            return { path, namespace: r.namespace, apply: (r.apply ?? []).map((given) => ({ given, path: joinRepoPath(path, given)! })) };
        }),
        crds: (platform?.crds ?? []).map((c) => ({ path: normaliseRepoPath(c.path), namespace: c.namespace })),
    };
}
