// Why a call got no answer, in words a user can act on. Node's fetch (undici, which @kubernetes/client-node uses too)
// throws `TypeError: fetch failed` and puts the system error in `cause` (Node's `code`: ECONNREFUSED, ENOTFOUND, an
// OpenSSL verification code …); a connection tried on several addresses gives an AggregateError with one per address;
// our own bound is an AbortSignal timeout, a DOMException named TimeoutError.

/** Codes of a name that did not resolve (getaddrinfo). */
const NAME_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL", "EAI_NODATA"]);
/** Codes of a connection that timed out on its own (the OS, or undici's connect timeout), not by our bound. */
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
/**
 * Certificate verification codes OpenSSL reports through Node (tls.TLSSocket#authorizationError): the ones not named
 * `CERT_*` or `ERR_TLS_*`/`ERR_SSL_*`.
 */
const TLS_CODES = new Set([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_DECRYPT_CERT_SIGNATURE", "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY", "HOSTNAME_MISMATCH",
    "INVALID_CA", "PATH_LENGTH_EXCEEDED", "INVALID_PURPOSE", "EPROTO",
]);
const OTHER_CODES: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    EPIPE: "connection closed",
    UND_ERR_SOCKET: "connection closed",
};

interface Failure {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
}

/** The error and everything in its `cause` chain and AggregateError lists, outermost first. */
function chain(e: unknown, seen = new Set<unknown>()): Failure[] {
    if (e === null || typeof e !== "object" || seen.has(e)) return [];
    seen.add(e);
    const f = e as Failure;
    return [f, ...chain(f.cause, seen), ...(Array.isArray(f.errors) ? f.errors.flatMap((x) => chain(x, seen)) : [])];
}

/** The cause for one string code, or undefined for a code this does not know. */
function byCode(code: string): string | undefined {
    if (code in OTHER_CODES) return OTHER_CODES[code];
    if (NAME_CODES.has(code)) return "name not resolved";
    if (TIMEOUT_CODES.has(code)) return `timed out (${code})`;
    if (TLS_CODES.has(code) || code.startsWith("CERT_") || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")) return `TLS failure (${code})`;
    return undefined;
}

/**
 * What went wrong on the way to an API, from an error a network call threw: `connection refused`, `name not
 * resolved`, `TLS failure (<code>)`, `timed out after N s` (our bound, `timeoutMs`) or `timed out (<code>)` (the
 * connection's own), `connection reset` …; `unreachable (<code>)` for another system code. Undefined when the error
 * is no network failure at all (an HTTP status, a bug), so the caller can pass it on.
 */
export function networkCause(e: unknown, timeoutMs?: number): string | undefined {
    const all = chain(e);
    // Our own bound first: an aborted fetch may also carry the socket's error underneath.
    if (all.some((f) => f.name === "TimeoutError")) return timeoutMs === undefined ? "timed out" : `timed out after ${timeoutMs / 1000} s`;
    const codes = all.map((f) => f.code).filter((c): c is string => typeof c === "string");
    for (const code of codes) {
        const cause = byCode(code);
        if (cause) return cause;
    }
    if (codes.length > 0) return `unreachable (${codes[0]})`;
    // `fetch failed` with nothing underneath.
    if (all.length > 0 && all[0].name === "TypeError" && all[0].message === "fetch failed") return "unreachable";
    return undefined;
}
