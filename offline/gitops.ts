// The GitOps repository's files for the offline plan, answered as the program's GitHub reader answers them
// (providers/github-files.ts: the file's text; nothing for a missing file or a directory):
// - from a local checkout (`--gitops-dir DIR`), whatever branch it has checked out;
// - without a checkout: a placeholder app directory for every path the program asks for, so the plan still shows
//   the releases, with charts, versions and values that say they are placeholders.
import * as fs from "node:fs";
import * as path from "node:path";
import { joinRepoPath, normaliseRepoPath } from "../config/checks";
import type { RepositoryAt, RepositoryFiles, RepositoryReader } from "../providers/github-files";

// fakes.ts's `placeholder:<what>` form (fakes.ts imports this module, so it is not imported back).
const placeholder = (what: string) => `placeholder:${what}`;

/**
 * A file of a local checkout, or undefined when there is none (or a directory). A path that resolves outside `dir`
 * (`..`, an absolute path, a symbolic link leading out) is refused: the plan reads nothing but the checkout it was given.
 */
export function fileFromDir(dir: string, file: string): string | undefined {
    const root = fs.realpathSync(dir);
    const inside = (p: string) => p === root || p.startsWith(root + path.sep);
    const target = path.resolve(root, file);
    if (path.isAbsolute(file) || !inside(target)) {
        throw new Error(`offline plan: refused to read ${JSON.stringify(file)}: it is outside --gitops-dir ${dir}`);
    }
    if (!fs.existsSync(target)) return undefined;
    const real = fs.realpathSync(target);
    if (!inside(real)) throw new Error(`offline plan: refused to read ${JSON.stringify(file)}: it links outside --gitops-dir ${dir}`);
    return fs.statSync(real).isDirectory() ? undefined : fs.readFileSync(real, "utf8");
}

/** The app's name from its directory: `kubernetes/apps/kube-system/cilium/app` → `cilium`. */
export function appName(dir: string): string {
    const parts = dir.split("/").filter(Boolean);
    const last = parts[parts.length - 1] === "app" && parts.length > 1 ? parts[parts.length - 2] : parts[parts.length - 1] ?? "app";
    return last.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 53) || "app";
}

/**
 * A file of a placeholder app directory: a kustomization listing a HelmRelease and an OCIRepository, named after the
 * directory, with an empty `values`. Any other file is missing.
 */
export function placeholderFile(file: string): string | undefined {
    const dir = path.posix.dirname(file);
    const name = appName(dir);
    const texts: Record<string, string> = {
        "kustomization.yaml": "resources:\n  - ./helmrelease.yaml\n  - ./ocirepository.yaml\n",
        "helmrelease.yaml": [
            "apiVersion: helm.toolkit.fluxcd.io/v2",
            "kind: HelmRelease",
            `metadata:\n  name: ${name}`,
            `spec:\n  chartRef:\n    kind: OCIRepository\n    name: ${name}\n  values: {}`,
            "",
        ].join("\n"),
        "ocirepository.yaml": [
            "apiVersion: source.toolkit.fluxcd.io/v1",
            "kind: OCIRepository",
            `metadata:\n  name: ${name}`,
            `spec:\n  url: oci://placeholder/${dir}\n  ref:\n    tag: ${JSON.stringify(placeholder(`chart-version/${dir}`))}`,
            "",
        ].join("\n"),
    };
    return texts[path.posix.basename(file)];
}

/** A placeholder object standing for what an `apply` path of the repository holds. */
function placeholderObject(of: string): string {
    return ["apiVersion: v1", "kind: ConfigMap", `metadata:\n  name: ${appName(of)}-placeholder`,
        `data:\n  placeholder: ${JSON.stringify(placeholder(`objects of ${of}`))}`, ""].join("\n");
}

/**
 * A file of a placeholder `apply` path (`paths`: the repository paths the config's `apply` entries name): a file
 * stands for one placeholder object; a directory has a kustomization listing `placeholder.yaml`, which holds one.
 * Undefined for any other path.
 */
export function placeholderApplyFile(file: string, paths: ReadonlySet<string>): string | undefined {
    if (paths.has(file)) return placeholderObject(file);
    const dir = path.posix.dirname(file);
    if (!paths.has(dir)) return undefined;
    const name = path.posix.basename(file);
    if (name === "kustomization.yaml") return "resources:\n  - ./placeholder.yaml\n";
    return name === "placeholder.yaml" ? placeholderObject(dir) : undefined;
}

/** The repository paths the `apply` entries of `cluster-bootstrap:platform` name (joined with their app directory). */
export function applyPaths(config: Record<string, string>): Set<string> {
    let platform: { releases?: Array<{ path?: unknown; apply?: unknown }> } | undefined;
    try {
        platform = JSON.parse(config["cluster-bootstrap:platform"] ?? "{}") as typeof platform;
    } catch {
        return new Set(); // the config check reports it
    }
    const paths = new Set<string>();
    for (const r of Array.isArray(platform?.releases) ? platform.releases : []) {
        if (typeof r?.path !== "string" || !Array.isArray(r.apply)) continue;
        for (const p of r.apply) {
            const joined = typeof p === "string" ? joinRepoPath(normaliseRepoPath(r.path), p) : undefined;
            if (joined !== undefined) paths.add(joined);
        }
    }
    return paths;
}

/**
 * The reader of the offline plan: files from `--gitops-dir`, placeholders without one (for the app directories, and
 * for the `apply` paths in `applyTo`). The token is never read.
 */
export function offlineRepositoryReader(gitopsDir: string | undefined, applyTo: ReadonlySet<string> = new Set()): RepositoryReader {
    return ({ repository, branch }) => ({
        repository,
        branch,
        file: async (file) => (gitopsDir !== undefined ? fileFromDir(gitopsDir, file)
            : placeholderApplyFile(file, applyTo) ?? (applyTo.has(path.posix.dirname(file)) ? undefined : placeholderFile(file))),
    });
}

/** One read of a GitOps file, as the program asked for it. */
export interface RecordedRead extends RepositoryAt {
    path: string;
    /** Whether a file was there. */
    found: boolean;
}

/** `reader`, with every read it serves appended to `reads`: each stands for exactly one request of the live reader. */
export function recordingReader(reader: RepositoryReader, reads: RecordedRead[]): RepositoryReader {
    return (at) => {
        const files = reader(at);
        const recorded: RepositoryFiles = {
            repository: files.repository,
            branch: files.branch,
            file: async (file) => {
                const text = await files.file(file);
                reads.push({ repository: files.repository, branch: files.branch, path: file, found: text !== undefined });
                return text;
            },
        };
        return recorded;
    };
}

/** The one stderr line of a plan whose platform releases are placeholders, or undefined when there are none. */
export function placeholderNote(config: Record<string, string>, gitopsDir: string | undefined): string | undefined {
    if (gitopsDir !== undefined) return undefined;
    let releases: unknown;
    let crds: unknown;
    try {
        ({ releases, crds } = JSON.parse(config["cluster-bootstrap:platform"] ?? "{}") as { releases?: unknown; crds?: unknown });
    } catch {
        return undefined; // the config check reports it
    }
    if (!Array.isArray(releases) || releases.length === 0) return undefined;
    const applied = applyPaths(config).size;
    const entries = Array.isArray(crds) ? crds.length : 0;
    const also = [
        ...(entries > 0 ? [`the ${entries} CRD entr${entries === 1 ? "y's chart" : "ies' charts"}`] : []),
        ...(applied > 0 ? [`the objects of ${applied} apply path${applied === 1 ? "" : "s"}`] : []),
    ];
    const repository = (() => {
        try {
            return (JSON.parse(config["cluster-bootstrap:gitops"] ?? "{}") as { repository?: string }).repository;
        } catch {
            return undefined;
        }
    })();
    return `note: no --gitops-dir: the ${releases.length} platform release${releases.length === 1 ? "'s" : "s'"} charts, versions and values` +
        `${also.map((a) => `, ${a}`).join("")} are placeholders (pass --gitops-dir with a checkout of ${repository ?? "the GitOps repository"} to read them)`;
}

/**
 * Why the plan needs `--gitops-dir`, or undefined: with `flux.managedBy: repository` the program checks the FluxInstance's
 * sync in the repository's flux-instance release and provides what it names, which a placeholder cannot stand for.
 */
export function checkoutRequired(config: Record<string, string>, gitopsDir: string | undefined): string | undefined {
    if (gitopsDir !== undefined) return undefined;
    let managedBy: unknown;
    try {
        managedBy = (JSON.parse(config["cluster-bootstrap:flux"] ?? "{}") as { managedBy?: unknown }).managedBy;
    } catch {
        return undefined; // the config check reports it
    }
    if (managedBy !== "repository") return undefined;
    return "--gitops-dir is required with cluster-bootstrap:flux.managedBy \"repository\": the plan reads the FluxInstance's sync " +
        "from the repository's flux-instance release, which a placeholder cannot stand for (pass a checkout of the GitOps repository)";
}
