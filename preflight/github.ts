// GitHub: the token works, the repository, branch and paths exist, the repository's .sops.yaml encrypts for the
// stack's recipient, and the token may do what the program does (read checks stand for the write the program needs:
// a check must not change anything).
import { parse as parseYaml } from "yaml";
import { ConfigError, type GitTransport } from "../config";
import { githubFiles, githubHeaders, type RepositoryFiles } from "../providers/github-files";
import { apiBase, getJson, NoAnswer, type Answer } from "./http";
import { fail, ok, skip, warn, type CheckResult } from "./result";

/** Titles of the checks {@link githubChecks} makes, in order, with what is known of the values they check. */
export function githubCheckTitles(o: { repository?: string; branch?: string; paths?: string[] } = {}): string[] {
    return [
        "GitHub token",
        o.repository ? `GitHub repository ${o.repository}` : "GitHub repository",
        o.branch ? `GitHub branch ${o.branch}` : "GitHub branch",
        ...(o.paths?.length ? o.paths.map((p) => `GitHub path ${p}`) : ["GitHub paths"]),
        "GitHub .sops.yaml", "GitHub deploy keys", "GitHub webhooks",
    ];
}

/**
 * A file of the repository at the branch, as the program reads it (providers/github-files.ts): its text, or undefined
 * for a missing file or a directory. Throws when GitHub refuses or does not answer.
 */
export type RepositoryReader = (file: string) => Promise<string | undefined>;

export interface GitHubFacts {
    /** Reads the repository's files at the branch; undefined when the checks found it cannot. */
    reader?: RepositoryReader;
    /** `platformDirectories` found to be directories on the branch. */
    directories: Set<string>;
    /** Why there is no reader, in a few words. */
    stopped?: string;
}

export interface GitHubCheckOptions {
    token: string;
    /** `github:token` or `GITHUB_TOKEN`. */
    tokenFrom: string;
    owner: string;
    repo: string;
    branch: string;
    /** `gitops.path`, normalised. */
    path: string;
    /** `platform.releases[].path` and `platform.crds[].path`: directories the program reads at run time, with their keys. */
    platformDirectories: Array<{ key: string; path: string }>;
    /** `sops.recipient`, when usable. */
    recipient?: string;
    /**
     * How Flux fetches the repository: `gitops.transport`, or, when the repository runs Flux, what its FluxInstance's
     * sync says, read from the repository's files (the program's own reading; throws {@link ConfigError} when they do not
     * fit); undefined when the config is too broken to tell.
     */
    transport?: GitTransport | ((files: RepositoryFiles) => Promise<GitTransport>);
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
}

/** A path with each segment URL-encoded and its slashes kept. */
const segments = (p: string) => p.split("/").filter(Boolean).map(encodeURIComponent).join("/");

/** What GitHub says the endpoint needs, when it says (`X-Accepted-GitHub-Permissions: administration=read`). */
function needs(a: Answer): string {
    const h = a.headers.get("x-accepted-github-permissions");
    return h ? ` (GitHub says it needs ${h})` : "";
}

/** GitHub's own error message, when the body has one. */
function said(a: Answer): string {
    const m = (a.body as { message?: unknown } | undefined)?.message;
    return typeof m === "string" ? `: ${m}` : "";
}

/** The age recipients a `.sops.yaml` names, in `creation_rules[].age` (comma-separated) and `key_groups[].age[]`. */
export function sopsRecipients(text: string): string[] | undefined {
    let doc: unknown;
    try {
        doc = parseYaml(text, { logLevel: "error" }); // a warning would print lines of the file
    } catch {
        return undefined;
    }
    const rules = (doc as { creation_rules?: unknown } | null)?.creation_rules;
    if (!Array.isArray(rules)) return undefined;
    const found: string[] = [];
    const add = (v: unknown) => {
        if (typeof v === "string") found.push(...v.split(",").map((s) => s.trim()).filter(Boolean));
        else if (Array.isArray(v)) v.forEach(add);
    };
    for (const r of rules as Array<Record<string, unknown>>) {
        add(r?.age);
        if (Array.isArray(r?.key_groups)) for (const g of r.key_groups as Array<Record<string, unknown>>) add(g?.age);
    }
    return found;
}

export async function githubChecks(o: GitHubCheckOptions, out: CheckResult[]): Promise<GitHubFacts> {
    const base = apiBase("github", o.env);
    const headers = githubHeaders({ token: o.token, agent: "cluster-bootstrap-preflight" });
    const get = (p: string) => getJson(`${base}${p}`, headers, o.timeoutMs);
    const full = `${o.owner}/${o.repo}`;
    const repoPath = `/repos/${encodeURIComponent(o.owner)}/${encodeURIComponent(o.repo)}`;
    const directories = new Set<string>();
    const unreachable = (title: string, e: unknown): GitHubFacts => {
        if (!(e instanceof NoAnswer)) throw e;
        out.push(fail(title, `the GitHub API: ${e.message}`));
        return { directories, stopped: `the GitHub API: ${e.message}` };
    };
    const stopped = (why: string): GitHubFacts => ({ directories, stopped: why });

    // The rate-limit endpoint answers any valid token, whatever its permissions, and costs no request quota.
    let rate: Answer;
    try {
        rate = await get("/rate_limit");
    } catch (e) {
        return unreachable("GitHub token", e);
    }
    if (rate.status === 401) {
        out.push(fail("GitHub token", `rejected (HTTP 401${said(rate)}), from ${o.tokenFrom}`, "create a new fine-grained token (docs/configuration.md: Tokens) and set it again"));
        return stopped("the GitHub token was rejected");
    }
    if (rate.status !== 200) {
        out.push(fail("GitHub token", `the API answered HTTP ${rate.status}${said(rate)}, from ${o.tokenFrom}`));
        return stopped("the GitHub token could not be checked");
    }
    const kind = o.token.startsWith("github_pat_") ? "fine-grained" : o.token.startsWith("ghp_") ? "classic" : "token";
    const scopes = rate.headers.get("x-oauth-scopes");
    out.push(ok("GitHub token", `accepted (${kind}${scopes !== null ? `, scopes: ${scopes || "none"}` : ""}), from ${o.tokenFrom}`));

    let repo: Answer;
    try {
        repo = await get(repoPath);
    } catch (e) {
        return unreachable(`GitHub repository ${full}`, e);
    }
    if (repo.status !== 200) {
        out.push(fail(`GitHub repository ${full}`, repo.status === 404
            ? "not found, or the token cannot see it (a fine-grained token sees only the repositories it was given)"
            : `HTTP ${repo.status}${said(repo)}`, "check cluster-bootstrap:gitops.repository and the token's repository access"));
        return stopped(`the repository ${full} could not be read`);
    }
    const actual = (repo.body as { full_name?: unknown } | undefined)?.full_name;
    out.push(ok(`GitHub repository ${full}`, typeof actual === "string" && actual.toLowerCase() !== full.toLowerCase() ? `found as ${actual} (renamed?)` : "found"));

    // The files are read as the program reads them (its own reader, with the stack's token), each at most once: the
    // repository's FluxInstance sync and the charts' app directories share the reads.
    const files = memoised(githubFiles({ repository: `${o.owner}/${o.repo}`, branch: o.branch, token: o.token, apiUrl: base, timeoutMs: o.timeoutMs }));
    const transport = await transportOf(o, files);
    if (transport.result) out.push(transport.result);
    if (transport.transport === "https") out.push(visibility(repo, o));

    // Branch and paths need Contents: Read, which the program itself needs only to read platform releases.
    const contentsFix = "give the token Contents: Read on the repository";
    const contentsNeeded = o.platformDirectories.length > 0;
    const noContents = (title: string, a: Answer) => out.push(contentsNeeded
        ? fail(title, `the token may not read the repository's contents (HTTP ${a.status})${needs(a)}; the platform releases need it`, contentsFix)
        : warn(title, `not checked: the token may not read the repository's contents (HTTP ${a.status})${needs(a)}`, contentsFix));

    let branch: Answer;
    try {
        branch = await get(`${repoPath}/branches/${segments(o.branch)}`);
    } catch (e) {
        return unreachable(`GitHub branch ${o.branch}`, e);
    }
    let why: string | undefined;
    if (branch.status === 403) {
        noContents(`GitHub branch ${o.branch}`, branch);
        why = "the token may not read the repository's contents";
    } else if (branch.status !== 200) {
        out.push(fail(`GitHub branch ${o.branch}`, branch.status === 404 ? `does not exist on ${full}` : `HTTP ${branch.status}${said(branch)}`,
            "push the branch, or fix cluster-bootstrap:gitops.branch"));
        return stopped(`the branch ${o.branch} could not be read`);
    } else {
        out.push(ok(`GitHub branch ${o.branch}`, "exists"));
        const dirs: Array<[string, string]> = [["cluster-bootstrap:gitops.path", o.path], ...o.platformDirectories.map((d): [string, string] => [d.key, d.path])];
        for (const [key, dir] of dirs) {
            const title = `GitHub path ${dir}`;
            let a: Answer;
            try {
                a = await get(`${repoPath}/contents/${segments(dir)}?ref=${encodeURIComponent(o.branch)}`);
            } catch (e) {
                unreachable(title, e);
                continue;
            }
            if (a.status === 403) noContents(title, a);
            else if (a.status === 404) out.push(fail(title, `does not exist on ${o.branch}`, `create it, or fix ${key}`));
            else if (a.status !== 200) out.push(fail(title, `HTTP ${a.status}${said(a)}`));
            else if (!Array.isArray(a.body)) out.push(fail(title, "is a file, not a directory", `fix ${key}`));
            else {
                out.push(ok(title, `a directory on ${o.branch}`));
                directories.add(dir);
            }
        }
        if (o.recipient) await sopsCheck(get, `${repoPath}/contents/.sops.yaml?ref=${encodeURIComponent(o.branch)}`, o, out, noContents);
    }

    // Reads stand for the writes: listing deploy keys needs Administration, listing hooks needs Webhooks, and a
    // fine-grained token given those as Read and write passes both. Writing itself is not tried. Over HTTPS there is
    // no deploy key, and the token needs no Administration permission.
    if (transport.transport === "https") {
        out.push(skip("GitHub deploy keys",
            "not needed: Flux fetches over HTTPS, so the program creates no deploy key (the token needs no Administration permission)"));
    }
    for (const [title, p, permission] of [
        ...(transport.transport === "https" ? [] : [["GitHub deploy keys", "keys", "Administration: Read and write"] as const]),
        ["GitHub webhooks", "hooks", "Webhooks: Read and write"],
    ] as const) {
        let a: Answer;
        try {
            a = await get(`${repoPath}/${p}?per_page=1`);
        } catch (e) {
            unreachable(title, e);
            continue;
        }
        if (a.status === 200) out.push(ok(title, `the token may list them (the run needs ${permission}; write access is not tried)`));
        else out.push(fail(title, `the token may not list them (HTTP ${a.status}${said(a)})${needs(a)}`, `give the token ${permission} on ${full}`));
    }
    if (why) return stopped(why);
    return { reader: (file) => files.file(file), directories };
}

/** `files` reading each path once: a second read of the same path shares the first's answer. */
function memoised(files: RepositoryFiles): RepositoryFiles {
    const seen = new Map<string, Promise<string | undefined>>();
    return {
        repository: files.repository,
        branch: files.branch,
        file: (path) => {
            let answer = seen.get(path);
            if (!answer) seen.set(path, answer = files.file(path));
            return answer;
        },
    };
}

/** How Flux will fetch, and the line that says why it could not be told (the repository's Flux does not fit). */
async function transportOf(o: GitHubCheckOptions, files: RepositoryFiles): Promise<{ transport?: GitTransport; result?: CheckResult }> {
    if (typeof o.transport !== "function") return { transport: o.transport };
    const title = "GitHub flux-instance sync";
    try {
        // The program's own checks on what `pulumi up` will read, read the same way.
        const transport = await o.transport(files);
        const how = transport === "https" ? "over HTTPS, with no pull secret" : "over SSH, with the program's deploy key";
        return { transport, result: ok(title, how) };
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return { result: fail(title, `the repository's platform releases do not fit: ${e.problems.join("; ")}`) };
    }
}

/** Over HTTPS Flux has no credential: the repository must be public (`private: false` in GET /repos/{owner}/{repo}). */
function visibility(repo: Answer, o: GitHubCheckOptions): CheckResult {
    const title = "GitHub repository visibility";
    const isPrivate = (repo.body as { private?: unknown } | undefined)?.private;
    if (isPrivate === false) return ok(title, "public: Flux fetches it over HTTPS with no credential");
    const fix = "make the repository public, or fetch it over SSH: cluster-bootstrap:gitops.transport \"ssh\" (with flux.managedBy " +
        "\"repository\": an ssh://git@github.com/… sync.url with a pullSecret), and the program creates a deploy key";
    if (isPrivate === true) {
        return fail(title, `${o.owner}/${o.repo} is private, but Flux fetches it over HTTPS with no credential: its GitRepository would ` +
            "fail with \"authentication required\"", fix);
    }
    return warn(title, "GitHub did not say whether the repository is private; Flux fetches it over HTTPS with no credential, " +
        "so it must be public", fix);
}

async function sopsCheck(get: (p: string) => Promise<Answer>, p: string, o: GitHubCheckOptions, out: CheckResult[],
    noContents: (title: string, a: Answer) => void): Promise<void> {
    const title = "GitHub .sops.yaml";
    let a: Answer;
    try {
        a = await get(p);
    } catch (e) {
        if (!(e instanceof NoAnswer)) throw e;
        out.push(fail(title, `the GitHub API: ${e.message}`));
        return;
    }
    if (a.status === 403) return noContents(title, a);
    if (a.status === 404) {
        out.push(warn(title, `none at the root of ${o.branch}`, "Flux decrypts only what is encrypted for cluster-bootstrap:sops.recipient: keep the repository's .sops.yaml naming it"));
        return;
    }
    const content = (a.body as { content?: unknown; encoding?: unknown } | undefined);
    const text = a.status === 200 && typeof content?.content === "string" && content.encoding === "base64"
        ? Buffer.from(content.content, "base64").toString("utf8") : undefined;
    const recipients = text === undefined ? undefined : sopsRecipients(text);
    if (!recipients) {
        out.push(warn(title, `could not be read as a SOPS config (HTTP ${a.status})`));
    } else if (recipients.includes(o.recipient!)) {
        out.push(ok(title, "encrypts for cluster-bootstrap:sops.recipient"));
    } else {
        out.push(fail(title, `names ${recipients.length ? recipients.join(", ") : "no age recipient"}, not cluster-bootstrap:sops.recipient ${o.recipient}`,
            "Flux could not decrypt the repository's secrets: use the age key the repository encrypts for, or re-encrypt for this one"));
    }
}
