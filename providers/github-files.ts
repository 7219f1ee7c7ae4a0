// The GitOps repository's files, read through GitHub's REST API: one request per file. The GitHub provider's
// `getRepositoryFile` data source would cost more than that for every file: after fetching it, it lists every commit
// that ever touched the file (all pages) and then fetches one commit, to fill commit fields this program never reads
// (integrations/terraform-provider-github v6.13.0, the version @pulumi/github 6.15.0 bridges:
// github/data_source_github_repository_file.go calls getFileCommit in github/util_repo.go).
//
// The one request is GET /repos/{owner}/{repo}/contents/{path}?ref={branch} with the raw media type
// (`application/vnd.github.raw+json`): a file answers 200 with its own bytes and that media type as Content-Type; a
// directory ignores the media type and answers 200 with its JSON listing (`application/json`); a path that does not
// exist at the branch answers 404 (GitHub REST API, "Get repository content"; the data source likewise takes a 404 for
// a missing file). Files up to 100 MB are served raw. Every request is bounded, the token goes only into the
// Authorization header, and no error quotes it.
import { networkCause } from "../config/network";
import * as pulumi from "@pulumi/pulumi";
import { isRecord, parseJson } from "../config/checks";

/** GitHub's REST API. The program never reads from anywhere else; tests pass a loopback URL explicitly. */
export const GITHUB_API = "https://api.github.com";

/** Bound on each read, as on the other reads the program makes before registering anything. */
export const GITHUB_READ_TIMEOUT_MS = 15_000;

/** The REST API version the requests are written against. */
const API_VERSION = "2022-11-28";

/**
 * The headers of every request to GitHub's REST API: the media type, the API version the requests are written
 * against, who asks (`agent`), and the token as a bearer header when there is one (never anywhere else).
 */
export function githubHeaders(o: { token?: string; agent: string; accept?: string }): Record<string, string> {
    return {
        accept: o.accept ?? "application/vnd.github+json",
        "x-github-api-version": API_VERSION,
        "user-agent": o.agent,
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
    };
}

/** A repository at a branch: where the GitOps files are read. */
export interface RepositoryAt {
    /** `owner/name`. */
    repository: string;
    /** The branch Flux reconciles (`gitops.branch`). */
    branch: string;
}

/** The files of one repository at one branch. */
export interface RepositoryFiles extends RepositoryAt {
    /**
     * The text of the file at `path` (relative to the repository's root, forward slashes), or undefined when there is
     * no file there (nothing at all, or a directory). One request. Throws {@link RepositoryReadError} when the read
     * fails (refused, rate-limited, no answer in time).
     */
    file(path: string): Promise<string | undefined>;
}

/**
 * Opens a repository at a branch for reading. `token` is the stack's GitHub token, a secret; undefined reads
 * anonymously (a public repository only, at GitHub's lower rate limit).
 */
export type RepositoryReader = (at: RepositoryAt & { token?: pulumi.Output<string> }) => RepositoryFiles;

/** A read that failed; the message says why without quoting the token. */
export class RepositoryReadError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RepositoryReadError";
    }
}

export interface GitHubFilesOptions extends RepositoryAt {
    /** The token, or a promise of it; undefined (or "") reads anonymously. */
    token?: string | Promise<string | undefined>;
    /** Base URL of the API (default {@link GITHUB_API}). */
    apiUrl?: string;
    /** Bound on each request, body included (default {@link GITHUB_READ_TIMEOUT_MS}). */
    timeoutMs?: number;
}

/** A path with each segment URL-encoded and its slashes kept. */
const segments = (p: string) => p.split("/").filter(Boolean).map(encodeURIComponent).join("/");

/** `application/json` (a directory listing, or the object of a submodule or symlink), as opposed to a file's raw bytes. */
function isJsonListing(contentType: string | null): boolean {
    return (contentType ?? "").split(";")[0].trim().toLowerCase() === "application/json";
}

/** GitHub's `message` from an error body, first line only, if it has one. */
function githubMessage(text: string): string | undefined {
    const body = parseJson(text);
    const m = isRecord(body) ? body.message : undefined;
    return typeof m === "string" && m ? m.split("\n")[0] : undefined;
}

/** Why GitHub refused a read, and what fixes it. */
function refusal(status: number, headers: Headers, text: string, anonymous: boolean): string {
    const said = githubMessage(text);
    const answer = `GitHub answered HTTP ${status}${said ? ` (${said})` : ""}`;
    if (status === 401) return `${answer}: the token was refused; set a valid github:token`;
    // The primary limit: the hour's requests used up (403 or 429, and x-ratelimit-remaining 0).
    const limited = (status === 403 || status === 429) && headers.get("x-ratelimit-remaining") === "0";
    if (limited) {
        const reset = Number(headers.get("x-ratelimit-reset"));
        const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : "";
        return `${answer}: the API rate limit is used up${when}${anonymous ? "; set github:token to read with the token's own limit" : ""}`;
    }
    // The secondary limit (too many requests at once): any other 429, or a 403 with retry-after or a message saying so.
    const retryAfter = headers.get("retry-after");
    if (status === 429 || (status === 403 && (retryAfter !== null || /secondary rate limit/i.test(said ?? "")))) {
        const seconds = Number(retryAfter);
        return `${answer}: GitHub's secondary rate limit; run again ${retryAfter !== null && Number.isFinite(seconds) ? `after ${seconds} s` : "in a few minutes"}`;
    }
    if (status === 403) {
        const needs = headers.get("x-accepted-github-permissions");
        return `${answer}: give the token Contents: Read on the repository${needs ? ` (GitHub says it needs ${needs})` : ""}`;
    }
    return answer;
}

/**
 * The files of `repository` at `branch` through GitHub's REST API: each {@link RepositoryFiles.file} is exactly one
 * GET of the contents endpoint, bounded by `timeoutMs`, with the token as `Authorization: Bearer`.
 */
export function githubFiles(o: GitHubFilesOptions): RepositoryFiles {
    const [owner, name] = o.repository.split("/");
    const base = `${(o.apiUrl ?? GITHUB_API).replace(/\/+$/, "")}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/contents`;
    const timeoutMs = o.timeoutMs ?? GITHUB_READ_TIMEOUT_MS;
    const token = Promise.resolve(o.token);
    // Whatever a message could carry (a proxy's echo, a library's error), the token never leaves in it.
    const scrub = (message: string, secret: string | undefined) => (secret ? message.split(secret).join("[secret]") : message);

    return {
        repository: o.repository,
        branch: o.branch,
        async file(path: string): Promise<string | undefined> {
            const secret = (await token) || undefined;
            const headers = githubHeaders({ token: secret, agent: "cluster-bootstrap", accept: "application/vnd.github.raw+json" });
            const url = `${base}/${segments(path)}?ref=${encodeURIComponent(o.branch)}`;
            // One signal bounds the request and the body alike.
            const signal = AbortSignal.timeout(timeoutMs);
            try {
                const res = await fetch(url, { headers, signal, redirect: "follow" });
                const text = await res.text();
                if (res.status === 404) return undefined;
                if (res.status !== 200) throw new RepositoryReadError(scrub(refusal(res.status, res.headers, text, !secret), secret));
                // A directory (or a submodule) is no file, as for the data source.
                return isJsonListing(res.headers.get("content-type")) ? undefined : text;
            } catch (e) {
                if (e instanceof RepositoryReadError) throw e;
                const err = e as Error;
                if (err.name === "TimeoutError" || err.name === "AbortError") {
                    throw new RepositoryReadError(`the GitHub API did not answer within ${timeoutMs / 1000} s`);
                }
                throw new RepositoryReadError(scrub(`the GitHub API cannot be reached: ${networkCause(e) ?? `unreachable (${err.name})`}`, secret));
            }
        },
    };
}

/** A secret Output's value; the stack's config is known in a preview as in an update. */
function valueOf(o: pulumi.Output<string>): Promise<string | undefined> {
    return new Promise((resolve) => o.apply((v) => {
        resolve(v);
        return v;
    }));
}

/** A reader through the REST API at `apiUrl` with the token it is given. Tests pass a loopback URL. */
export function githubRepositoryReader(apiUrl: string = GITHUB_API, timeoutMs = GITHUB_READ_TIMEOUT_MS): RepositoryReader {
    return ({ token, ...at }) => githubFiles({ ...at, token: token && valueOf(token), apiUrl, timeoutMs });
}

/** The real run's reader: GitHub's REST API with the stack's token. */
export const liveRepositoryReader: RepositoryReader = githubRepositoryReader();
