// The GitOps repository's files for the offline plan, answered as the GitHub provider's `getRepositoryFile` answers
// (integrations/terraform-provider-github github/data_source_github_repository_file.go, through Pulumi's bridge):
// - from a local checkout (`--gitops-dir DIR`): the file's content, its git blob sha, `repository` without the owner
//   and `id` `<repo>/<file>`; a directory has no content; a missing file is not an error but an empty answer (on a
//   404 the data source clears its id and returns no state, which the bridge passes on as no outputs at all);
// - without a checkout: a placeholder app directory for every path the program asks for, so the plan still shows
//   the releases, with charts, versions and values that say they are placeholders.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

// fakes.ts's `placeholder:<what>` form (fakes.ts imports this module, so it is not imported back).
const placeholder = (what: string) => `placeholder:${what}`;

export interface RepositoryFileArgs {
    /** `owner/name`, or a name the provider completes with its owner. */
    repository: string;
    file: string;
    branch?: string;
}

type Answer = Record<string, unknown>;

/** Git's blob id of a content, as GitHub reports it in `sha`. */
function blobSha(content: Buffer): string {
    return crypto.createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

const repoName = (repository: string) => repository.split("/").pop() ?? repository;

/**
 * A file of a local checkout. A path that resolves outside `dir` (`..`, an absolute path, a symbolic link leading
 * out) is refused: the plan reads nothing but the checkout it was given.
 */
export function repositoryFileFromDir(dir: string, args: RepositoryFileArgs): Answer {
    const root = fs.realpathSync(dir);
    const inside = (p: string) => p === root || p.startsWith(root + path.sep);
    const target = path.resolve(root, args.file);
    if (path.isAbsolute(args.file) || !inside(target)) {
        throw new Error(`offline plan: refused to read ${JSON.stringify(args.file)}: it is outside --gitops-dir ${dir}`);
    }
    if (!fs.existsSync(target)) return {};
    const real = fs.realpathSync(target);
    if (!inside(real)) throw new Error(`offline plan: refused to read ${JSON.stringify(args.file)}: it links outside --gitops-dir ${dir}`);
    const repository = repoName(args.repository);
    const base = { repository, file: args.file, id: `${repository}/${args.file}`, ...(args.branch ? { branch: args.branch } : {}) };
    if (fs.statSync(real).isDirectory()) return base;
    const content = fs.readFileSync(real);
    return {
        ...base,
        content: content.toString("utf8"),
        sha: blobSha(content),
        ref: args.branch ?? placeholder("default-branch"),
        commitSha: placeholder(`commit/${args.file}`),
        commitAuthor: placeholder("commit-author"),
        commitEmail: placeholder("commit-email"),
        commitMessage: placeholder("commit-message"),
    };
}

/** The app's name from its directory: `kubernetes/apps/kube-system/cilium/app` → `cilium`. */
export function appName(dir: string): string {
    const parts = dir.split("/").filter(Boolean);
    const last = parts[parts.length - 1] === "app" && parts.length > 1 ? parts[parts.length - 2] : parts[parts.length - 1] ?? "app";
    return last.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 53) || "app";
}

/**
 * A placeholder app directory: a kustomization listing a HelmRelease and an OCIRepository, named after the
 * directory, with an empty `values`. Any other file is missing.
 */
export function placeholderRepositoryFile(args: RepositoryFileArgs): Answer {
    const dir = path.posix.dirname(args.file);
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
    const content = texts[path.posix.basename(args.file)];
    if (content === undefined) return {};
    const repository = repoName(args.repository);
    return {
        repository,
        file: args.file,
        id: `${repository}/${args.file}`,
        ...(args.branch ? { branch: args.branch } : {}),
        content,
        sha: blobSha(Buffer.from(content)),
        ref: args.branch ?? placeholder("default-branch"),
        commitSha: placeholder(`commit/${args.file}`),
        commitAuthor: placeholder("commit-author"),
        commitEmail: placeholder("commit-email"),
        commitMessage: placeholder("commit-message"),
    };
}

/** The one stderr line of a plan whose platform releases are placeholders, or undefined when there are none. */
export function placeholderNote(config: Record<string, string>, gitopsDir: string | undefined): string | undefined {
    if (gitopsDir !== undefined) return undefined;
    let releases: unknown;
    try {
        releases = (JSON.parse(config["cluster-bootstrap:platform"] ?? "{}") as { releases?: unknown }).releases;
    } catch {
        return undefined; // the config check reports it
    }
    if (!Array.isArray(releases) || releases.length === 0) return undefined;
    const repository = (() => {
        try {
            return (JSON.parse(config["cluster-bootstrap:gitops"] ?? "{}") as { repository?: string }).repository;
        } catch {
            return undefined;
        }
    })();
    return `note: no --gitops-dir: the ${releases.length} platform release${releases.length === 1 ? "'s" : "s'"} charts, versions and values are ` +
        `placeholders (pass --gitops-dir with a checkout of ${repository ?? "the GitOps repository"} to read them)`;
}
