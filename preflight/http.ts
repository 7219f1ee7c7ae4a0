// Bounded calls to the GitHub and Cloudflare APIs and to chart registries. Every call has a short timeout, and the only
// way to point a call elsewhere is a test-only variable that must name a loopback address, so no setting can send a
// token away.
import { parseJson } from "../config/checks";
import { networkCause } from "../config/network";
import { CLOUDFLARE_API } from "../providers/existing";
import { GITHUB_API } from "../providers/github-files";

/** Bound on each network call and each `pulumi` command. */
export const DEFAULT_TIMEOUT_MS = 15_000;


/**
 * For tests only: base URLs of fake APIs on 127.0.0.1. Read by this module alone; a value that is not an http(s) URL
 * on a loopback address is refused rather than used.
 */
export const TEST_API_ENV = {
    github: "CLUSTER_BOOTSTRAP_TEST_GITHUB_API",
    cloudflare: "CLUSTER_BOOTSTRAP_TEST_CLOUDFLARE_API",
    /** Every chart registry and Helm repository (and a registry's token endpoint) is served from this one base. */
    charts: "CLUSTER_BOOTSTRAP_TEST_CHARTS",
} as const;

export class PreflightSetupError extends Error {}

/** The API base URL, honouring the test-only override. */
export function apiBase(which: "github" | "cloudflare", env: NodeJS.ProcessEnv): string {
    return testBase(which, env) ?? (which === "github" ? GITHUB_API : CLOUDFLARE_API);
}

/** The test-only base URL for `which`, undefined when unset; refuses one that is not on a loopback address. */
export function testBase(which: keyof typeof TEST_API_ENV, env: NodeJS.ProcessEnv): string | undefined {
    return loopbackOverride(TEST_API_ENV[which], env);
}

/**
 * The test-only base URL in the environment variable `variable`, or undefined when it is unset. A value that is not an
 * http(s) URL on a loopback address is refused rather than used.
 */
export function loopbackOverride(variable: string, env: NodeJS.ProcessEnv): string | undefined {
    const override = env[variable];
    if (override === undefined || override === "") return undefined;
    let u: URL;
    try {
        u = new URL(override);
    } catch {
        throw new PreflightSetupError(`${variable} is not a URL`);
    }
    if (!/^https?:$/.test(u.protocol) || !["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) {
        throw new PreflightSetupError(`${variable} is for tests only and must name a loopback address`);
    }
    return override.replace(/\/$/, "");
}

export interface Answer {
    status: number;
    headers: Headers;
    /** Parsed JSON, or undefined when the body was not JSON. */
    body: unknown;
}

/** Why a call got no answer at all: the cause named by {@link networkCause} (`connection refused`, `timed out after 15 s` …). */
export class NoAnswer extends Error {}

/**
 * `fetch` bounded by `timeoutMs` (reading the body included); throws {@link NoAnswer} naming the cause on a timeout
 * or a network failure. `read` takes the body while the bound still runs.
 */
async function bounded<T>(url: string, init: RequestInit, timeoutMs: number, read: (res: Response) => Promise<T>): Promise<T> {
    try {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
        return await read(res);
    } catch (e) {
        const cause = networkCause(e, timeoutMs);
        if (cause === undefined) throw e;
        throw new NoAnswer(cause);
    }
}

/** GET `url` with the given headers, at most `timeoutMs`; throws {@link NoAnswer} on timeout or network failure. */
export async function getJson(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
    return bounded(url, { headers }, timeoutMs, async (res) => {
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: parseJson(text) };
    });
}

export interface TextAnswer {
    status: number;
    headers: Headers;
    /** The body as text ("" for HEAD). */
    text: string;
}

/**
 * A GET, HEAD or body-less POST with the given headers, at most `timeoutMs`, the body as text; throws {@link NoAnswer}
 * like {@link getJson}.
 */
export async function fetchText(url: string, init: { method?: "GET" | "HEAD" | "POST"; headers?: Record<string, string> }, timeoutMs: number): Promise<TextAnswer> {
    return bounded(url, init, timeoutMs, async (res) => ({ status: res.status, headers: res.headers, text: init.method === "HEAD" ? "" : await res.text() }));
}
