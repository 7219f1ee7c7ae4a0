// `cluster-bootstrap:platform`: app directories of the GitOps repository that are installed as Helm releases before
// Flux exists (a CNI above all: without one the nodes stay NotReady and the Flux Operator cannot start).
// The schema lives with the others in config/index.ts; the rules across entries are here.
import { normaliseRepoPath, quoted, repoPathProblem } from "./checks";

export interface PlatformReleaseConfig {
    /** App directory in the GitOps repository, normalised (no leading `./`, no trailing `/`). */
    path: string;
    /** Namespace of the release: the repos set it from a parent kustomization, not in the app's own files. */
    namespace: string;
}

export interface PlatformConfig {
    /** In install order; empty when `platform` is unset. */
    releases: PlatformReleaseConfig[];
}

/** The full key of an entry (`cluster-bootstrap:platform.releases[2]`) or of one of its fields. */
export function platformKey(i: number, field?: string): string {
    return `cluster-bootstrap:platform.releases[${i}]${field ? `.${field}` : ""}`;
}

/**
 * Rules across entries: the same app directory twice would install one release twice. Entries the schema refuses
 * are skipped here, so each problem is reported once. (namespace, release name) is checked once the files are read.
 */
export function platformProblems(platform: unknown): string[] {
    const releases = (platform as { releases?: unknown } | undefined)?.releases;
    if (!Array.isArray(releases)) return [];
    const problems: string[] = [];
    const seen = new Map<string, number>();
    releases.forEach((r, i) => {
        const path = (r as { path?: unknown } | null)?.path;
        if (typeof path !== "string" || /[\r\n]/.test(path) || repoPathProblem(path)) return;
        const normal = normaliseRepoPath(path);
        const first = seen.get(normal);
        if (first !== undefined) problems.push(`${platformKey(i, "path")}: ${quoted(path)} repeats ${platformKey(first, "path")}`);
        else seen.set(normal, i);
    });
    return problems;
}
