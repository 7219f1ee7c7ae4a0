// Helm charts: every chart the run installs exists in its registry at the version it asks for. A missing one fails
// `pulumi preview` at the Helm provider's check, after everything before it has been planned. Anonymous reads only,
// as the run itself pulls (the bootstrap has no registry credentials): an OCI registry through the distribution
// spec's token flow, a classic Helm repository through its index.yaml.
import * as semver from "semver";
import { parse as parseYaml } from "yaml";
import { fetchText, getJson, NoAnswer, testBase } from "./http";
import { fail, ok, type CheckResult } from "./result";

/** One chart as the program hands it to the Helm provider (a platform release's, or the Flux Operator's). */
export interface ChartRef {
    /** `oci://host/repository`, or a chart name in {@link repositoryUrl}. */
    chart: string;
    /** Exact version or range; undefined means the latest. */
    version?: string;
    /** A classic Helm repository's URL; undefined for an OCI chart. */
    repositoryUrl?: string;
}

export interface ChartCheckOptions {
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    /** What to change when the version is not there (the key or file that sets it). */
    fix: string;
}

/**
 * The media types oras-go v2 accepts when it resolves a tag (registry/remote/manifest.go defaultManifestMediaTypes),
 * which Helm's registry client uses for `helm pull` and installs: a HEAD with these is what the Helm provider sends.
 */
export const MANIFEST_ACCEPT = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.artifact.manifest.v1+json",
].join(", ");

const USER_AGENT = "cluster-bootstrap-preflight";

/** `Chart cilium 1.18.5 (oci://…)`: the line's title. */
export function chartTitle(ref: ChartRef): string {
    const name = ref.repositoryUrl === undefined ? ref.chart.replace(/\/+$/, "").split("/").pop()! : ref.chart;
    return `Chart ${name} ${ref.version ?? "(latest)"} (${ref.repositoryUrl === undefined ? ref.chart : `${ref.chart} in ${ref.repositoryUrl}`})`;
}

/**
 * The parameters of a `WWW-Authenticate` challenge (RFC 7235 auth-params): `Bearer realm="…",service="…",scope="…"`
 * gives `{ scheme: "bearer", realm, service, scope }`. Undefined for a header that is not one challenge.
 */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
    if (!header) return undefined;
    const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/.exec(header);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    const re = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
    let p: RegExpExecArray | null;
    while ((p = re.exec(m[2])) !== null && p[0] !== "") params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
    return { scheme: m[1].toLowerCase(), params };
}

/** Where a request really goes: the URL itself, or under the test-only override the same path on the loopback fake. */
function target(url: string, env: NodeJS.ProcessEnv): string {
    const base = testBase("charts", env);
    if (base === undefined) return url;
    const u = new URL(url);
    return `${base}${u.pathname}${u.search}`;
}

/** The version Helm would pick among `versions` for `wanted`: the exact string first, else the highest in the range. */
export function pickVersion(versions: string[], wanted: string | undefined): string | undefined {
    if (wanted !== undefined && versions.includes(wanted)) return wanted;
    // Helm's constraint for "no version" is "*", which leaves pre-releases out; so does semver's.
    return semver.maxSatisfying(versions.filter((v) => semver.valid(v) !== null), wanted ?? "*") ?? undefined;
}

/** Thrown for an answer that settles the check (refused, malformed). */
class ChartProblem extends Error {}

/** An anonymous pull token for `repository`, asked of the token endpoint the registry's challenge names. */
async function anonymousToken(challengeHeader: string | null, repository: string, o: ChartCheckOptions): Promise<string> {
    const challenge = parseChallenge(challengeHeader);
    if (!challenge || challenge.scheme !== "bearer" || !challenge.params.realm) {
        throw new ChartProblem(`the registry asks for credentials (${challenge?.scheme ?? "no challenge"}); the bootstrap pulls charts anonymously`);
    }
    // Docker token authentication: GET realm?service=…&scope=repository:<name>:pull, no credentials.
    const query = new URLSearchParams();
    if (challenge.params.service) query.set("service", challenge.params.service);
    query.set("scope", challenge.params.scope ?? `repository:${repository}:pull`);
    const realm = challenge.params.realm;
    const a = await getJson(target(`${realm}${realm.includes("?") ? "&" : "?"}${query}`, o.env), { "user-agent": USER_AGENT }, o.timeoutMs);
    const body = a.body as { token?: unknown; access_token?: unknown } | undefined;
    const token = typeof body?.token === "string" ? body.token : typeof body?.access_token === "string" ? body.access_token : undefined;
    if (a.status !== 200 || !token) throw new ChartProblem(`the registry's token endpoint gave no anonymous token (HTTP ${a.status}); the bootstrap pulls charts anonymously`);
    return token;
}

/** Whether an OCI chart's version is in its registry: the version found, or undefined; throws ChartProblem or NoAnswer. */
async function ociVersion(ref: ChartRef, o: ChartCheckOptions): Promise<{ found?: string; status: number }> {
    const u = new URL(ref.chart.replace(/^oci:\/\//, "https://"));
    const repository = u.pathname.replace(/^\/+|\/+$/g, "");
    const origin = `https://${u.host}`;
    let token: string | undefined;
    // One request, and once more with an anonymous token when the registry challenges the first.
    const send = async (p: string, method: "GET" | "HEAD", accept: string) => {
        const headers = { accept, "user-agent": USER_AGENT, ...(token ? { authorization: `Bearer ${token}` } : {}) };
        let a = await fetchText(target(`${origin}${p}`, o.env), { method, headers }, o.timeoutMs);
        if (a.status === 401 && token === undefined) {
            token = await anonymousToken(a.headers.get("www-authenticate"), repository, o);
            a = await fetchText(target(`${origin}${p}`, o.env), { method, headers: { ...headers, authorization: `Bearer ${token}` } }, o.timeoutMs);
        }
        if (a.status === 401 || a.status === 403) throw new ChartProblem(`the registry refused an anonymous pull (HTTP ${a.status}); the bootstrap has no registry credentials`);
        return a;
    };
    if (ref.version !== undefined && semver.valid(ref.version) !== null) {
        // Helm pulls an exact version by tag, with `+` (not allowed in a tag) written `_` (helm pkg/registry).
        const tag = ref.version.replace(/\+/g, "_");
        const a = await send(`/v2/${repository}/manifests/${encodeURIComponent(tag)}`, "HEAD", MANIFEST_ACCEPT);
        return { found: a.status === 200 ? ref.version : undefined, status: a.status };
    }
    // A range, or no version: Helm lists the tags and takes the highest match (GetTagMatchingVersionOrConstraint).
    const a = await send(`/v2/${repository}/tags/list`, "GET", "application/json");
    if (a.status !== 200) return { status: a.status };
    let tags: unknown;
    try {
        tags = (JSON.parse(a.text) as { tags?: unknown }).tags;
    } catch {
        throw new ChartProblem("the registry's tag list is not JSON");
    }
    const versions = Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string").map((t) => t.replace(/_/g, "+")) : [];
    return { found: pickVersion(versions, ref.version), status: a.status };
}

/** Whether a chart's version is in a classic Helm repository's index.yaml. */
async function indexVersion(ref: ChartRef, o: ChartCheckOptions): Promise<{ found?: string; status: number }> {
    const a = await fetchText(target(`${ref.repositoryUrl!.replace(/\/+$/, "")}/index.yaml`, o.env),
        { headers: { accept: "application/x-yaml, text/yaml, */*", "user-agent": USER_AGENT } }, o.timeoutMs);
    if (a.status === 401 || a.status === 403) throw new ChartProblem(`the repository refused an anonymous read (HTTP ${a.status}); the bootstrap has no repository credentials`);
    if (a.status !== 200) return { status: a.status };
    let index: unknown;
    try {
        index = parseYaml(a.text, { logLevel: "error" });
    } catch {
        throw new ChartProblem("its index.yaml does not parse as YAML");
    }
    const entries = (index as { entries?: Record<string, unknown> } | null)?.entries?.[ref.chart];
    const versions = Array.isArray(entries) ? entries.flatMap((e) => (typeof (e as { version?: unknown })?.version === "string" ? [(e as { version: string }).version] : [])) : [];
    return { found: pickVersion(versions, ref.version), status: a.status };
}

/** One line: the chart's version is in its registry or repository, or why not. */
export async function chartCheck(ref: ChartRef, o: ChartCheckOptions): Promise<CheckResult> {
    const title = chartTitle(ref);
    const oci = ref.repositoryUrl === undefined;
    const where = oci ? "the registry" : "the repository";
    try {
        const { found, status } = oci ? await ociVersion(ref, o) : await indexVersion(ref, o);
        if (found !== undefined) return ok(title, found === ref.version ? `in ${where}` : `in ${where} as ${found}`);
        // 200: the list or index has no such version; 404 from a registry: no such manifest (or repository).
        if (status === 200 || (oci && status === 404)) {
            return fail(title, `not in ${where}${status === 404 ? " (HTTP 404)" : ""}: \`pulumi preview\` would fail at the Helm provider's check`, o.fix);
        }
        return fail(title, `${where} answered HTTP ${status}${oci ? "" : " for its index.yaml"}`, oci ? undefined : "check the HelmRepository's spec.url");
    } catch (e) {
        if (e instanceof NoAnswer) return fail(title, `${where}: ${e.message}`);
        if (e instanceof ChartProblem) return fail(title, e.message, "use a public registry or mirror for the chart");
        throw e;
    }
}
