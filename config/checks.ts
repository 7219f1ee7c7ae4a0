// Value checks shared by the config schema, the components and the scripts: pure functions, no Pulumi.
// Messages built from config values go through `quoted`, so a secret pasted in the wrong place is never echoed.
import * as net from "node:net";
import * as path from "node:path";

/** True when a value holds (part of) an age secret key: such a value is never echoed in a message. */
export function holdsAgeSecretKey(v: unknown): boolean {
    return typeof v === "string" && /AGE-SECRET-KEY-/i.test(v);
}

// Credentials that get pasted into the wrong setting: age keys, PEM blocks, GitHub tokens, Cloudflare tokens and keys
// (`cfut_`, `cfat_`, `cfk_` + 40 characters + a checksum: Cloudflare's "Token formats"), JWTs such as a Kubernetes
// service-account token (base64url of `{"alg":…`, so `eyJ…`), kubeconfig fields.
const SECRET_LOOKING = new RegExp([
    "AGE-SECRET-KEY-", "-----BEGIN", "\\bgh[pousr]_[A-Za-z0-9]{20,}", "\\bgithub_pat_", "\\bcf(?:ut|at|k)_[A-Za-z0-9_-]{20,}",
    "\\beyJ[A-Za-z0-9_-]{10,}", "client-key-data", "client-certificate-data", "\\btoken:",
].join("|"), "i");

// A Cloudflare API token in its legacy form: 40 characters of [A-Za-z0-9_-], standing alone. Random ones mix upper
// and lower case and digits; a setting's value of that length hardly does.
const LEGACY_CLOUDFLARE_TOKEN = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40}(?![A-Za-z0-9_-])/g;

function holdsLegacyCloudflareToken(v: string): boolean {
    for (const [m] of v.matchAll(LEGACY_CLOUDFLARE_TOKEN)) if (/[A-Z]/.test(m) && /[a-z]/.test(m) && /[0-9]/.test(m)) return true;
    return false;
}

/**
 * True when a value must not be echoed in a message: it holds something that looks like a credential, spans
 * several lines (a pasted file) or is too long to be a setting's value.
 */
export function mustNotEcho(v: unknown): boolean {
    return typeof v === "string" && (SECRET_LOOKING.test(v) || /[\r\n]/.test(v) || v.length > 256 || holdsLegacyCloudflareToken(v));
}

/** A config value as messages show it: JSON-quoted, except a value that {@link mustNotEcho}, which is never echoed. */
export function quoted(v: unknown): string {
    if (holdsAgeSecretKey(v)) return "(a secret value, not shown)";
    if (mustNotEcho(v)) return "(a value that is not shown: it spans several lines, is very long or looks like a credential)";
    // JSON.stringify gives undefined for undefined (and functions): shown as the template literal always showed it.
    const json = JSON.stringify(v) as string | undefined;
    return json === undefined ? String(v) : escapeInvisible(json);
}

/**
 * C1 controls, line and paragraph separators, zero-width and bidirectional formatting characters written as `\uXXXX`:
 * JSON.stringify leaves them raw, and in a terminal they hide text or reorder it (U+202E turns the rest of a line
 * around), so a message would not show the value it names.
 */
export function escapeInvisible(text: string): string {
    return text.replace(/[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A setting's name as messages show it. Names are chosen by whoever wrote the stack file, so a pasted secret or a
 * name with line breaks or escape sequences (which could fake a second problem line) is never printed raw.
 */
export function keyName(k: string): string {
    if (mustNotEcho(k) || k.length > 48) return "(a name that is not shown)";
    // Setting names are words; long mixed-case runs of letters and digits are what tokens look like.
    if (k.length >= 20 && /[0-9]/.test(k) && /[A-Z]/.test(k) && /[a-z]/.test(k)) return "(a name that is not shown)";
    // Anything but a plain identifier is quoted with its control characters escaped, so it cannot fake a line.
    return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k
        : escapeInvisible(JSON.stringify(k));
}

/**
 * The first C0 control character (U+0000 to U+001F) or DEL in a value, as messages name it (`\n (a line break)`,
 * `\t (a tab)`, `\u0000`), or undefined. Go's `url.Parse`, which cloudflared runs on every service URL, refuses them all
 * (net/url `parse`: `stringContainsCTLByte`), while the WHATWG `URL` silently drops tabs and line breaks.
 */
export function controlCharacter(v: string): string | undefined {
    // eslint-disable-next-line no-control-regex
    const c = /[\x00-\x1f\x7f]/.exec(v)?.[0];
    if (c === undefined) return undefined;
    const named: Record<string, string> = { "\n": "\\n (a line break)", "\r": "\\r (a carriage return)", "\t": "\\t (a tab)" };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Why a URL, hostname or path is refused for a control character in it, or undefined; checked before any other rule,
 * so the message names the character and never the value.
 */
export function controlCharacterProblem(v: string): string | undefined {
    const c = controlCharacter(v);
    return c && `contains the control character ${c}: a URL, hostname or path must be one line of printable characters; the value is not shown`;
}

/** True when a URL carries userinfo (`user:password@`), which would land in config that is not secret. */
export function carriesCredentials(url: string): boolean {
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
}

export const CREDENTIALS_PROBLEM = "must not carry a user name or password (the tunnel config is not secret); the value is not shown";

/**
 * `: "с" (U+0441) is not an ASCII character` for the first character outside ASCII, else "". A Cyrillic or full-width
 * look-alike reads like the name meant; naming its code point says why the value is refused.
 */
export function nonAsciiHint(v: string): string {
    const c = /[^\x00-\x7f]/u.exec(v)?.[0];
    return c === undefined ? "" : `: ${escapeInvisible(JSON.stringify(c))} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}) is not an ASCII character`;
}

/** `"x" is not a valid DNS name`, naming the first character outside ASCII where there is one (a look-alike). */
export function dnsNameMessage(v: string): string {
    return `${quoted(v)} is not a valid DNS name${mustNotEcho(v) ? "" : nonAsciiHint(v)}`;
}

/** `: use lowercase ("monosense.dev")` when lowercasing alone would make the value valid, else "". */
export function lowercaseHint(v: string, valid: (s: string) => boolean): string {
    // Lowercasing a token that is not shown must not show it either.
    return !mustNotEcho(v) && v !== v.toLowerCase() && valid(v.toLowerCase()) ? `: use lowercase (${quoted(v.toLowerCase())})` : "";
}

/** `owner/name` as GitHub allows them (the owner 39 characters at most), without a `.git` suffix. */
export function isGitHubRepository(v: string): boolean {
    return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/.test(v) && !/\/\.{1,2}$/.test(v) && !v.endsWith(".git");
}

/**
 * The `owner/name` meant by a repository given as a clone URL (`https://github.com/o/r`, `git@github.com:o/r.git`,
 * `ssh://git@github.com/o/r`) or with a `.git` suffix; undefined when it is none of those.
 */
export function repositorySuggestion(v: string): string | undefined {
    const t = v.trim();
    const m = /^(?:https?:\/\/(?:www\.)?github\.com\/|(?:ssh:\/\/)?git@github\.com[:/])([^/\s]+)\/([^/\s]+?)(?:\.git)?\/?$/i.exec(t)
        ?? /^([^/\s:]+)\/([^/\s]+?)\.git$/.exec(t);
    const s = m ? `${m[1]}/${m[2]}` : undefined;
    return s !== undefined && isGitHubRepository(s) ? s : undefined;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsLabel(v: string): boolean {
    return DNS_LABEL.test(v);
}

/** A fully qualified DNS name: two or more lowercase labels, 253 characters at most. */
export function isDnsName(v: string): boolean {
    if (v.length > 253) return false;
    const labels = v.split(".");
    return labels.length >= 2 && labels.every(isDnsLabel) && !/^[0-9]+$/.test(labels[labels.length - 1]);
}

/** A Kubernetes object name (RFC 1123 subdomain). */
export function isKubernetesName(v: string): boolean {
    return v.length <= 253 && v.split(".").every(isDnsLabel);
}

/** IPv4 or IPv6 network in CIDR notation, prefix within the address family's range. */
export function isCidr(v: string): boolean {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(v);
    if (!m) return false;
    const family = net.isIP(m[1]);
    const prefix = Number(m[2]);
    return (family === 4 && prefix <= 32) || (family === 6 && prefix <= 128);
}

/**
 * Whether two networks share an address: Cilium Cluster Mesh needs every cluster's pod CIDR apart from every other's.
 * Two CIDR blocks are either nested or apart, so they overlap exactly when one holds an address of the other; Node's
 * `net.BlockList` answers that, for IPv4 and IPv6. Networks of different families never overlap.
 */
export function cidrsOverlap(a: string, b: string): boolean {
    if (!isCidr(a) || !isCidr(b)) return false;
    const [[ipA, prefixA], [ipB, prefixB]] = [a, b].map((c) => c.split("/"));
    const family = (ip: string) => (net.isIP(ip) === 4 ? "ipv4" : "ipv6");
    if (family(ipA) !== family(ipB)) return false;
    const holds = (ip: string, prefix: string, other: string) => {
        const block = new net.BlockList();
        block.addSubnet(ip, Number(prefix), family(ip));
        return block.check(other, family(other));
    };
    return holds(ipA, prefixA, ipB) || holds(ipB, prefixB, ipA);
}

/** `git check-ref-format --branch` rules, so Flux never gets a ref git itself would refuse. */
export function branchProblem(v: string): string | undefined {
    if (v.length === 0) return "must not be empty";
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x20\x7f~^:?*[\\]/.test(v)) return "must not contain spaces, control characters or any of ~ ^ : ? * [ \\";
    if (v.startsWith("-") || v.startsWith("/") || v.endsWith("/")) return "must not start with - or /, nor end with /";
    if (v.includes("..") || v.includes("//") || v.includes("@{") || v === "@") return 'must not contain "..", "//" or "@{", nor be "@"';
    if (v.endsWith(".") || v.endsWith(".lock")) return 'must not end with "." or ".lock"';
    if (v.split("/").some((c) => c.startsWith("."))) return 'no path component may start with "."';
    return undefined;
}

/** The longest file or folder name (one path segment) a repository path may have, in bytes. */
export const MAX_PATH_SEGMENT_BYTES = 255;
/** The longest repository path, in bytes. */
export const MAX_PATH_BYTES = 4096;

/**
 * The rules every repository path keeps (one line, Linux's NAME_MAX and PATH_MAX, where source-controller checks the
 * repository out and kustomize-controller reads it, relative with forward slashes, a safe alphabet); `climbs` says
 * whether `..` may appear. `empty` is the message for an empty path.
 */
function pathProblem(v: string, opts: { climbs: boolean; empty: string }): string | undefined {
    if (v.trim() === "" || v === "." || v === "./") return opts.empty;
    const control = controlCharacter(v);
    if (control) return `must be a single line without control characters (it contains ${control})`;
    if (v.split("/").some((s) => Buffer.byteLength(s, "utf8") > MAX_PATH_SEGMENT_BYTES)) {
        return `has a path segment longer than ${MAX_PATH_SEGMENT_BYTES} bytes, the most a file or folder name may have`;
    }
    if (Buffer.byteLength(v, "utf8") > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes, the most a path may have`;
    if (/\s/.test(v)) return "must not contain spaces";
    if (v.startsWith("/") || v.includes("\\") || /^[A-Za-z]:/.test(v)) return "must be a relative path with forward slashes";
    if (!opts.climbs && v.split("/").includes("..")) return 'must not contain ".." (it could leave the repository)';
    if (!/^[A-Za-z0-9._@+\/-]+$/.test(v)) return "may hold only letters, digits and . _ - / @ +";
    return undefined;
}

/** A path inside the repository: relative, forward slashes, no `..` that could leave the checkout. */
export function repoPathProblem(v: string): string | undefined {
    return pathProblem(v, { climbs: false, empty: "must name a folder inside the repository" });
}

/**
 * A path relative to an app directory (`networking.yaml`, `../config`): the rules of {@link repoPathProblem}, except
 * that `..` may climb out of the app directory. Whether it stays inside the repository depends on the directory, so
 * {@link joinRepoPath} decides that.
 */
export function relativePathProblem(v: string): string | undefined {
    return pathProblem(v, { climbs: true, empty: "must name a file or a directory" });
}

/**
 * `relative` (checked by {@link relativePathProblem}) taken from the repository directory `dir`, normalised; undefined
 * when it leaves the repository (or names its root, which is no file and holds no kustomization of an app).
 */
export function joinRepoPath(dir: string, relative: string): string | undefined {
    const joined = path.posix.normalize(`${dir}/${relative}`).replace(/\/$/, "");
    return joined === "." || joined === ".." || joined.startsWith("../") ? undefined : joined;
}

/** Normalised repository path without leading `./` or trailing `/`. */
export function normaliseRepoPath(v: string): string {
    return path.posix.normalize(v).replace(/^\.\//, "").replace(/\/$/, "");
}

/** R2 bucket names: 3 to 63 lowercase letters, digits and hyphens, starting and ending alphanumeric. */
export function isR2BucketName(v: string): boolean {
    return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(v);
}

// Go duration as Flux's CRDs accept it (e.g. 1m, 1h30m, 90s).
export const DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

/** Seconds in a Go duration string accepted by {@link DURATION}. */
export function durationSeconds(v: string): number {
    const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
    let total = 0;
    for (const m of v.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
    return Math.ceil(total);
}


/**
 * The JSON value of `text`, or undefined when it is not JSON. JSON.parse's own message quotes the text around the
 * mistake, which may be a secret: callers say in their own words what was not JSON.
 */
export function parseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** A mapping (a parsed YAML or JSON object), not a list, not null. */
export function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A Cloudflare account id: 32 lowercase hex digits. */
export function isCloudflareAccountId(v: string): boolean {
    return /^[0-9a-f]{32}$/.test(v);
}

/** A stack's cluster as Cluster Mesh sees it. */
export interface MeshMember {
    stack: string;
    id?: number;
    cidr?: string;
}

/**
 * What keeps stacks' clusters from joining one Cilium Cluster Mesh: two with the same `cluster.id`, or pod CIDRs that
 * overlap. One line per pair, naming both stacks.
 */
export function meshConflicts(members: readonly MeshMember[]): string[] {
    const out: string[] = [];
    members.forEach((a, i) => members.slice(i + 1).forEach((b) => {
        if (a.id !== undefined && a.id === b.id) out.push(`stacks ${a.stack} and ${b.stack} both have cluster.id ${a.id}`);
        if (a.cidr && b.cidr && cidrsOverlap(a.cidr, b.cidr)) out.push(`the cluster.cidr of stacks ${a.stack} (${a.cidr}) and ${b.stack} (${b.cidr}) overlap`);
    }));
    return out;
}
