// The two lookups of `adopt` that no provider data source can make, read-only, over the APIs themselves:
// - R2 buckets: terraform-provider-cloudflare v5 (which @pulumi/cloudflare v6 bridges) has no list data source for
//   them, and its single `cloudflare_r2_bucket` data source fails (an error diagnostic, a failed invoke) on a bucket
//   that does not exist, and sends no `cf-r2-jurisdiction` header, so it never sees a bucket in `eu` or `fedramp`
//   (internal/services/r2_bucket/data_source.go);
// - GitHub webhooks by the URL they post to: `github.getRepositoryWebhooks` gives each hook's API URL (`hook.URL`), not
//   its `config.url` (terraform-provider-github github/data_source_github_repository_webhooks.go).
// Everything else `adopt` reads goes through the providers' data sources (components/adopt.ts), so it shows in the
// offline plan's `invokes`. This reader is a separate small interface on purpose, beside the GitOps file reader
// (./github-files.ts) that the program's context also carries; both send GitHub the same headers.
import { networkCause } from "../config/network";
import type { FoundBucket, FoundWebhook } from "./adoption";
import type { Jurisdiction } from "./r2";
import { GITHUB_API, githubHeaders } from "./github-files";

export interface ExistingReader {
    /** The account's R2 buckets in one jurisdiction, with their location and storage class. */
    r2Buckets(q: { accountId: string; jurisdiction: Jurisdiction }, token: string | undefined): Promise<FoundBucket[]>;
    /** The repository's webhooks, each with the URL it posts to. */
    webhooks(q: { owner: string; repository: string }, token: string | undefined): Promise<FoundWebhook[]>;
}

export const CLOUDFLARE_API = "https://api.cloudflare.com/client/v4";
/** Bound on each request. */
export const LOOKUP_TIMEOUT_MS = 15_000;
/** Bound on the pages read per listing: a hundred thousand buckets or ten thousand hooks is not an account to adopt into. */
const MAX_PAGES = 100;

export class LookupError extends Error {}

interface Get {
    status: number;
    body: unknown;
}

async function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Get> {
    let res: Response;
    try {
        res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
        const err = e as Error;
        const why = err.name === "TimeoutError" || err.name === "AbortError" ? `no answer within ${timeoutMs / 1000} s` : networkCause(e) ?? `unreachable (${err.name})`;
        throw new LookupError(`${new URL(url).host}: ${why}`);
    }
    let body: unknown;
    try {
        body = await res.json();
    } catch {
        body = undefined;
    }
    return { status: res.status, body };
}

/** `code 10006: …` from Cloudflare's error list, or the HTTP status; never anything the request carried. */
function cloudflareError(a: Get): string {
    const first = ((a.body as { errors?: Array<{ code?: number; message?: string }> } | undefined)?.errors ?? [])[0];
    return first ? `code ${first.code ?? "?"}: ${first.message ?? ""}`.trim() : `HTTP ${a.status}`;
}

/** R2's bucket listing (`GET /accounts/{id}/r2/buckets`), page by page, in the jurisdiction the header names. */
export async function listR2Buckets(
    q: { accountId: string; jurisdiction: Jurisdiction; token: string; base?: string; timeoutMs?: number },
): Promise<FoundBucket[]> {
    const base = q.base ?? CLOUDFLARE_API;
    const headers = { authorization: `Bearer ${q.token}`, "cf-r2-jurisdiction": q.jurisdiction, "user-agent": "cluster-bootstrap" };
    const found: FoundBucket[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
        const params = new URLSearchParams({ per_page: "1000", ...(cursor ? { cursor } : {}) });
        const a = await get(`${base}/accounts/${encodeURIComponent(q.accountId)}/r2/buckets?${params}`, headers, q.timeoutMs ?? LOOKUP_TIMEOUT_MS);
        const body = a.body as { success?: boolean; result?: { buckets?: unknown }; result_info?: { cursor?: unknown } } | undefined;
        if (a.status !== 200 || body?.success !== true || !Array.isArray(body.result?.buckets)) {
            throw new LookupError(`listing the R2 buckets of account ${q.accountId} failed (${cloudflareError(a)})`);
        }
        for (const b of body.result.buckets as Array<Record<string, unknown>>) {
            if (typeof b?.name !== "string") continue;
            found.push({
                name: b.name,
                ...(typeof b.location === "string" ? { location: b.location } : {}),
                ...(typeof b.storage_class === "string" ? { storageClass: b.storage_class } : {}),
                jurisdiction: typeof b.jurisdiction === "string" ? b.jurisdiction : q.jurisdiction,
            });
        }
        cursor = typeof body.result_info?.cursor === "string" && body.result_info.cursor !== "" ? body.result_info.cursor : undefined;
        if (!cursor) return found;
    }
    throw new LookupError(`listing the R2 buckets of account ${q.accountId}: more than ${MAX_PAGES} pages`);
}

/** The repository's hooks (`GET /repos/{owner}/{repo}/hooks`), page by page, with the URL each posts to. */
export async function listWebhooks(
    q: { owner: string; repository: string; token: string; base?: string; timeoutMs?: number },
): Promise<FoundWebhook[]> {
    const base = q.base ?? GITHUB_API;
    const headers = githubHeaders({ token: q.token, agent: "cluster-bootstrap" });
    const found: FoundWebhook[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
        const url = `${base}/repos/${encodeURIComponent(q.owner)}/${encodeURIComponent(q.repository)}/hooks?per_page=100&page=${page}`;
        const a = await get(url, headers, q.timeoutMs ?? LOOKUP_TIMEOUT_MS);
        if (a.status !== 200 || !Array.isArray(a.body)) {
            const message = (a.body as { message?: unknown } | undefined)?.message;
            throw new LookupError(`listing the webhooks of ${q.owner}/${q.repository} failed (HTTP ${a.status}${typeof message === "string" ? `: ${message}` : ""})`);
        }
        for (const h of a.body as Array<Record<string, unknown>>) {
            const url = (h?.config as { url?: unknown } | undefined)?.url;
            if ((typeof h?.id === "number" || typeof h?.id === "string") && typeof url === "string") found.push({ id: String(h.id), url });
        }
        if (a.body.length < 100) return found;
    }
    throw new LookupError(`listing the webhooks of ${q.owner}/${q.repository}: more than ${MAX_PAGES} pages`);
}

/** The real reader: Cloudflare's and GitHub's APIs (other base URLs only for tests on 127.0.0.1). */
export function liveExistingReader(o: { cloudflareApi?: string; githubApi?: string; timeoutMs?: number } = {}): ExistingReader {
    const need = (token: string | undefined, what: string, keys: string) => {
        if (!token) throw new LookupError(`cluster-bootstrap:adopt: ${what} needs ${keys}`);
        return token;
    };
    return {
        r2Buckets: async (q, token) => listR2Buckets({
            ...q, token: need(token, "listing R2 buckets", "cloudflare:apiToken or CLOUDFLARE_API_TOKEN"), base: o.cloudflareApi, timeoutMs: o.timeoutMs,
        }),
        webhooks: async (q, token) => listWebhooks({
            ...q, token: need(token, "listing the repository's webhooks", "github:token or GITHUB_TOKEN"), base: o.githubApi, timeoutMs: o.timeoutMs,
        }),
    };
}
