// GitHub: the token works, the repository, branch and paths exist, the repository's .sops.yaml encrypts for the
// stack's recipient, and the token may do what the program does (read checks stand for the write the program needs:
// a check must not change anything).
import { parse as parseYaml } from "yaml";
import { apiBase, getJson, NoAnswer, type Answer } from "./http";
import { fail, ok, warn, type CheckResult } from "./result";

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
 * A file of the repository at the branch, as the program's `getRepositoryFile` reads it: its text, or undefined for a
 * missing file or a directory. Throws {@link NoAnswer} when GitHub does not answer, an Error when it refuses.
 */
export type RepositoryReader = (file: string) => Promise<string | undefined>;

export interface GitHubFacts {
    /** Reads the repository's files at the branch; undefined when the checks found it cannot. */
    reader?: RepositoryReader;
    /** `platformPaths` found to be directories on the branch. */
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
    /** `platform.releases[].path`: directories the program reads at run time. */
    platformPaths: string[];
    /** `sops.recipient`, when usable. */
    recipient?: string;
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
        doc = parseYaml(text);
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
    const headers = {
        authorization: `Bearer ${o.token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "cluster-bootstrap-preflight",
    };
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

    // Branch and paths need Contents: Read, which the program itself needs only to read platform releases.
    const contentsFix = "give the token Contents: Read on the repository";
    const contentsNeeded = o.platformPaths.length > 0;
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
        const dirs: Array<[string, string]> = [["cluster-bootstrap:gitops.path", o.path], ...o.platformPaths.map((p, i): [string, string] => [`cluster-bootstrap:platform.releases[${i}].path`, p])];
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
    // fine-grained token given those as Read and write passes both. Writing itself is not tried.
    for (const [title, p, permission] of [
        ["GitHub deploy keys", "keys", "Administration: Read and write"],
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
    const reader: RepositoryReader = async (file) => {
        const a = await get(`${repoPath}/contents/${segments(file)}?ref=${encodeURIComponent(o.branch)}`);
        if (a.status === 404) return undefined;
        if (a.status !== 200) throw new Error(`reading ${file} from GitHub answered HTTP ${a.status}${said(a)}`);
        const content = a.body as { content?: unknown; encoding?: unknown } | unknown[] | undefined;
        // A directory is a list: no content, as the program's data source answers.
        if (Array.isArray(content) || typeof content?.content !== "string") return undefined;
        return content.encoding === "base64" ? Buffer.from(content.content, "base64").toString("utf8") : content.content;
    };
    return { reader, directories };
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
