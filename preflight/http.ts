// Bounded JSON GETs to the GitHub and Cloudflare APIs. Every call has a short timeout, and the only way to point a
// call elsewhere is a test-only variable that must name a loopback address, so no setting can send a token away.
export const GITHUB_API = "https://api.github.com";
export const CLOUDFLARE_API = "https://api.cloudflare.com/client/v4";

/**
 * For tests only: base URLs of fake APIs on 127.0.0.1. Read by this module alone; a value that is not an http(s) URL
 * on a loopback address is refused rather than used.
 */
export const TEST_API_ENV = {
    github: "CLUSTER_BOOTSTRAP_TEST_GITHUB_API",
    cloudflare: "CLUSTER_BOOTSTRAP_TEST_CLOUDFLARE_API",
} as const;

export class PreflightSetupError extends Error {}

/** The API base URL, honouring the test-only override. */
export function apiBase(which: keyof typeof TEST_API_ENV, env: NodeJS.ProcessEnv): string {
    return loopbackOverride(TEST_API_ENV[which], env) ?? (which === "github" ? GITHUB_API : CLOUDFLARE_API);
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

/** Why a call got no answer at all. */
export class NoAnswer extends Error {}

/** GET `url` with the given headers, at most `timeoutMs`; throws {@link NoAnswer} on timeout or network failure. */
export async function getJson(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
    let res: Response;
    try {
        res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
    } catch (e) {
        const err = e as Error & { cause?: { code?: string } };
        if (err.name === "TimeoutError" || err.name === "AbortError") throw new NoAnswer(`no answer within ${timeoutMs / 1000} s`);
        throw new NoAnswer(`unreachable (${err.cause?.code ?? err.name})`);
    }
    let body: unknown;
    try {
        body = await res.json();
    } catch {
        body = undefined;
    }
    return { status: res.status, headers: res.headers, body };
}
