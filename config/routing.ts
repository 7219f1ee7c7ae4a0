// Tunnel routing rules as data: built and checked by pure functions, so what cloudflared would refuse or
// silently shadow is caught at validation time with the config key that caused it.
//
// cloudflared's semantics (ingress/ingress.go, ingress/rule.go): rules are tried in order and the first match
// wins; `*.example.com` matches any name ending in `.example.com` (any depth, never the apex); `path` is an
// unanchored Go (RE2) regular expression; a URL service may not carry a path; only the last rule may match
// everything, and it must.

import { RE2JS, RE2JSSyntaxException } from "re2js";
import { carriesCredentials, controlCharacterProblem, CREDENTIALS_PROBLEM, lowercaseHint, mustNotEcho, nonAsciiHint, quoted } from "./checks";
import { FLUX_NAMESPACE } from "./names";

/** A route from `tunnel.routes`. */
export interface TunnelRoute {
    hostname?: string;
    service: string;
    /** Regular expression on the request path, as cloudflared matches it (Go RE2 syntax, unanchored). */
    path?: string;
    /** TLS server name to present to an https origin. */
    originServerName?: string;
}

/**
 * cloudflared's own Access check on one rule: with `required`, a request without a valid `Cf-Access-Jwt-Assertion`
 * for one of `audTags` (Access applications) of the team is refused at the connector. Only per rule: cloudflared
 * ignores an `access` block at the top level of a config (cloudflare/cloudflared#784). `Aud` is how the tags are
 * given: plain strings, or provider outputs known only once the applications exist.
 */
export interface RuleAccess<Aud = string> {
    required: boolean;
    /** The Zero Trust team (`<team>.cloudflareaccess.com`) whose keys sign the tokens. */
    teamName: string;
    audTags: Aud[];
}

/** One rule of the remotely-managed tunnel config, in the provider's input shape. */
export interface IngressRule<Aud = string> {
    hostname?: string;
    service: string;
    path?: string;
    originRequest?: { originServerName?: string; http2Origin?: boolean; access?: RuleAccess<Aud> };
}

/** The notification-controller's webhook receiver Service (port 80) in flux-system. */
export const FLUX_WEBHOOK_SERVICE = `http://webhook-receiver.${FLUX_NAMESPACE}.svc.cluster.local`;
// No hostname, no access: fits a rule list of any `Aud`.
export const CATCH_ALL: IngressRule<never> = { service: "http_status:404" };

/** Hostname that GitHub webhooks reach the Flux Receiver through. */
export function fluxWebhookHostname(domain: string): string {
    return `flux-webhook.${domain}`;
}

export interface RoutingInput<Aud = string> {
    domain: string;
    /** Hostname the zone's apps CNAME to; TLS to the gateway is presented under this name. */
    originHost: string;
    /** Envoy Gateway service URL; required by {@link ingressRules}, unused by {@link checkTunnelRoutes}. */
    gateway?: string;
    routes: TunnelRoute[];
    /**
     * Hostnames behind Cloudflare Access, each with the check cloudflared makes on every rule that takes its requests
     * (see {@link ingressRules}). Each must be one the other rules route.
     */
    access?: Readonly<Record<string, RuleAccess<Aud>>>;
}

/**
 * What {@link checkTunnelRoutes} takes: config values before the schema has vetted them. A route entry that is not
 * a mapping, or a field that is not a string, is the schema's to report: skipped here, so one mistake gives one message.
 */
export interface RouteCheckInput {
    /** Undefined when `cluster.domain` is invalid: only the checks that need the zone are skipped. */
    domain?: string;
    /** Undefined when `tunnel.originHost` is invalid: its route is left out of the checks. */
    originHost?: string;
    gateway?: string;
    routes: readonly unknown[];
}

interface Located {
    rule: IngressRule;
    /** Config key that decides this rule; undefined for a rule the program adds on its own. */
    key?: string;
    /** How messages name the rule. */
    label: string;
    /** False when the rule already has a problem: it takes no part in the shadowing check, so one mistake gives one message. */
    valid: boolean;
}

const KEY = "cluster-bootstrap:tunnel";
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// cloudflared's origin services that make sense from inside a cluster; a URL service is scheme://host[:port],
// split here into authority and whatever follows it.
const URL_SERVICE = /^(https?|wss?|tcp|ssh|rdp|smb):\/\/([^/?#]*)([/?#].*)?$/s;
// cloudflared takes its built-in test origin as `hello_world` or, like its CLI flag, `hello-world` (ingress/ingress.go).
const OTHER_SERVICE = /^unix(\+tls)?:\/\S+$|^http_status:[1-5][0-9]{2}$|^hello[_-]world$|^bastion$/;

function isHostname(h: string): boolean {
    return h.length <= 253 && h.split(".").every((l) => HOST_LABEL.test(l));
}

/** Syntax, then (when the zone is known) membership of the zone. */
function hostnameProblem(h: string, domain: string | undefined): string | undefined {
    const labels = h.split(".");
    const wildcard = labels[0] === "*";
    if (h.includes(":")) return `${quoted(h)}: a hostname cannot carry a port`;
    if (labels.slice(wildcard ? 1 : 0).some((l) => !HOST_LABEL.test(l)) || h.length > 253 || (wildcard && labels.length < 2)) {
        return h.includes("*") && !wildcard
            ? `${quoted(h)}: a wildcard must be the whole leftmost label (*.example.com)`
            : `${quoted(h)} is not a valid hostname${lowercaseHint(h, (l) => hostnameProblem(l, undefined) === undefined)}${mustNotEcho(h) ? "" : nonAsciiHint(h)}`;
    }
    const bare = wildcard ? labels.slice(1).join(".") : h;
    if (domain !== undefined && bare !== domain && !bare.endsWith(`.${domain}`)) return `${quoted(h)} is outside the zone ${domain}`;
    return undefined;
}

function serviceProblem(s: string): string | undefined {
    if (OTHER_SERVICE.test(s)) return undefined;
    const notService = `${quoted(s)} is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)`;
    const m = URL_SERVICE.exec(s);
    if (!m) {
        return /^[a-z+]+:\/\/[^/?#\s]+[/?#]/.test(s)
            ? `${quoted(s)}: cloudflared refuses a path on the origin service (the request's own path is sent); use scheme://host[:port]`
            : notService;
    }
    // Checked first: every other message echoes the value.
    if (carriesCredentials(s)) return CREDENTIALS_PROBLEM;
    if (m[3] !== undefined) {
        return `${quoted(s)}: cloudflared refuses a path on the origin service (the request's own path is sent); use scheme://host[:port]`;
    }
    const [, host, port] = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(m[2]) ?? [];
    if (!host) return `${quoted(s)} names no host; use scheme://host[:port]`;
    if (port !== undefined && !(/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
        return `${quoted(s)}: the port must be a number from 1 to 65535`;
    }
    // What the split above lets through, URL refuses: spaces and other characters no host may hold.
    try {
        if (new URL(s).hostname === "") return notService;
    } catch {
        return notService;
    }
    // URL would turn a look-alike (`svс`), a full-width dot or `%2E` into a valid name; cloudflared's Go url.Parse keeps
    // the bytes (or refuses %2E), and Go's resolver looks up only these characters (net `isDomainName`).
    if (!host.startsWith("[") && !/^[A-Za-z0-9_.-]+$/.test(host)) {
        return `${quoted(s)}: the host must be ASCII letters, digits, '-', '_' and '.' (or an IP address)${mustNotEcho(s) ? "" : nonAsciiHint(host)}`;
    }
    return undefined;
}

// Unicode classes (`\pL`, `\p{Greek}`) by names every Go release cloudflared has been built with since 2024 resolves
// (Go 1.22 to 1.26, all on Unicode 15.0.0 tables): the general categories by their short names, one-word scripts, Any.
// re2js knows more than any of them (Unicode 17 scripts such as Garay, properties such as White_Space), takes Ascii,
// Assigned, Cn and LC, which Go takes only since 1.25, and Go 1.25 added long aliases (\p{Letter}) and case-insensitive
// names that Go 1.24 builds refuse. Since 1.25 Go folds a name before looking it up (`Old_Italic` to `Olditalic`,
// `SignWriting` to `Signwriting`) and, in the parse.go read for this, maps only category aliases back: scripts named
// in more than one word may not resolve, so they are left out too.
const GO_CATEGORIES = "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs";
const GO_ONE_WORD_SCRIPTS = "Adlam Ahom Arabic Armenian Avestan Balinese Bamum Batak Bengali Bhaiksuki Bopomofo Brahmi Braille "
    + "Buginese Buhid Carian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cyrillic Deseret Devanagari Dogra "
    + "Duployan Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gurmukhi Han Hangul Hanunoo Hatran "
    + "Hebrew Hiragana Inherited Javanese Kaithi Kannada Katakana Kawi Kharoshthi Khmer Khojki Khudawadi Lao Latin Lepcha Limbu "
    + "Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen Medefaidrin Miao Modi Mongolian Mro Multani "
    + "Myanmar Nabataean Nandinagari Newa Nko Nushu Ogham Oriya Osage Osmanya Palmyrene Phoenician Rejang Runic Samaritan "
    + "Saurashtra Sharada Shavian Siddham Sinhala Sogdian Soyombo Sundanese Syriac Tagalog Tagbanwa Takri Tamil Tangsa Tangut "
    + "Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Yezidi Yi";
const UNICODE_CLASSES = new Set(["Any", ...GO_CATEGORIES.split(" "), ...GO_ONE_WORD_SCRIPTS.split(" ")]);

/** The names in `\pX`, `\p{Name}` and `\P{^Name}` of a pattern RE2 accepted, so every backslash starts a whole escape. */
function unicodeClassNames(p: string): string[] {
    const names: string[] = [];
    for (let i = 0; i < p.length; i++) {
        if (p[i] !== "\\") continue;
        const next = p[i + 1];
        if (next === "Q") {
            // `\Q…\E` is literal text, up to the end when `\E` is missing.
            const end = p.indexOf("\\E", i + 2);
            i = end < 0 ? p.length : end + 1;
        } else if ((next === "p" || next === "P") && p[i + 2] === "{") {
            const end = p.indexOf("}", i + 3);
            names.push(p.slice(i + 3, end).replace(/^\^/, ""));
            i = end;
        } else if (next === "p" || next === "P") {
            names.push(p[i + 2]);
            i += 2;
        } else {
            i += 1;
        }
    }
    return names;
}

const UNSUPPORTED = "not supported by cloudflared's (RE2) regular expressions";

function unicodeClassProblem(p: string, name: string): string {
    const shown = mustNotEcho(p) ? "a Unicode class" : `the Unicode class \\p{${name}}`;
    return `uses ${shown}, which not every cloudflared release accepts; `
        + "use a general category by its short name (\\pL, \\p{Lu}), a one-word script (\\p{Greek}) or \\p{Any}";
}

/** Why RE2 refused a pattern, from re2js's error kind; the offending part is shown unless the value holds a secret. */
function refusal(p: string, e: unknown): string {
    if (!(e instanceof RE2JSSyntaxException)) return "is not a valid regular expression for cloudflared (Go RE2)";
    const at = e.input ?? "";
    if (/^\(\?<?[=!]/.test(at)) return `lookahead and lookbehind are ${UNSUPPORTED}`;
    if (e.error === "invalid escape sequence" && /^\\[1-9gk]/.test(at)) return `backreferences are ${UNSUPPORTED}`;
    // A class name re2js does not know (\p{Letter}, which only Go 1.25 and later take): the same advice as below.
    const named = e.error === "invalid character class range" ? /^\\[pP](?:\{\^?([^}]*)\}|(.))$/.exec(at) : null;
    if (named) return unicodeClassProblem(p, named[1] ?? named[2]);
    if (e.error === "invalid repeat count") {
        const m = /^\{(\d+),(\d+)\}$/.exec(at);
        return m && Number(m[1]) > Number(m[2]) && Number(m[1]) <= 1000
            ? "has a repeat count whose minimum is larger than its maximum"
            : "repeats more than 1000 times (nested repeat counts multiply), which RE2 refuses";
    }
    // re2js's messages quote the pattern: only its own part of it is shown, never the value again, never a secret.
    const part = at !== "" && at !== p && !mustNotEcho(p) ? `: \`${at}\`` : "";
    return `is not a valid regular expression for cloudflared (Go RE2): ${e.error}${part}`;
}

/**
 * Why cloudflared would refuse a path pattern, or undefined. cloudflared compiles `path` with Go's `regexp.Compile`
 * (RE2 syntax, Perl flags); re2js, a port of RE2/J that follows Go's `regexp/syntax`, judges it with the same flags.
 */
export function pathProblem(p: string): string | undefined {
    try {
        RE2JS.compile(p);
    } catch (e) {
        return refusal(p, e);
    }
    const name = unicodeClassNames(p).find((n) => !UNICODE_CLASSES.has(n));
    return name === undefined ? undefined : unicodeClassProblem(p, name);
}

/** cloudflared's host match: the same name, or a `*.d` rule and a name ending in `.d` (any depth, never `d` itself). */
export function hostMatches(ruleHost: string, host: string): boolean {
    return ruleHost === host || (ruleHost.startsWith("*.") && host.endsWith(ruleHost.slice(1)));
}

/** True when every request `a` matches would already have been taken by `b` placed before it. */
function covers(b: IngressRule, a: IngressRule): boolean {
    if (b.hostname === undefined) return true;
    if (a.hostname === undefined) return false;
    // `*.d` takes `x.d`, `x.y.d` and `*.x.d`, never `d` itself.
    const hostCovered = b.hostname === a.hostname
        || (b.hostname.startsWith("*.") && a.hostname.endsWith(b.hostname.slice(1)));
    // Path regexes are only compared for equality: a broader regex shadowing a narrower one goes undetected.
    return hostCovered && (b.path === undefined || b.path === a.path);
}

/** TLS to the gateway is presented under the origin host: the name its listener certificate carries. */
function gatewayOriginRequest(gateway: string, originHost: string): IngressRule["originRequest"] {
    return gateway.startsWith("https://") ? { originServerName: originHost, http2Origin: true } : undefined;
}

function withOrigin(rule: IngressRule, originRequest: IngressRule["originRequest"]): IngressRule {
    return originRequest ? { ...rule, originRequest } : rule;
}

function located(input: RouteCheckInput): { list: Located[]; problems: string[] } {
    const problems: string[] = [];
    const { domain, originHost } = input;
    const gateway = input.gateway ?? "https://gateway.invalid";
    const tls = originHost === undefined ? undefined : gatewayOriginRequest(gateway, originHost);
    const list: Located[] = [];
    // The program's own rules join the checks only when what they are built from is known.
    if (originHost !== undefined) {
        const p = hostnameProblem(originHost, domain)
            ?? (originHost.startsWith("*.") ? "must be a single hostname, not a wildcard" : undefined);
        if (p) problems.push(`${KEY}.originHost: ${p}`);
        list.push({
            rule: withOrigin({ hostname: originHost, service: gateway }, tls),
            key: `${KEY}.originHost`,
            label: `the origin host route (${KEY}.originHost)`,
            valid: !p,
        });
    }
    if (domain !== undefined) {
        list.push({
            rule: { hostname: fluxWebhookHostname(domain), service: FLUX_WEBHOOK_SERVICE },
            label: `the Flux webhook route the program adds (${fluxWebhookHostname(domain)})`,
            valid: true,
        });
    }

    input.routes.forEach((entry, i) => {
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return;
        const r = entry as Record<string, unknown>;
        const key = `${KEY}.routes[${i}]`;
        // A control character (cloudflared's url.Parse refuses it; URL would drop a tab or line break) is the field's
        // one message, naming the character, never the value; its other checks are skipped.
        const control = (field: string): string | undefined => {
            const v = r[field];
            const p = typeof v === "string" ? controlCharacterProblem(v) : undefined;
            if (p) problems.push(`${key}.${field}: ${p}`);
            return p;
        };
        let hp: string | undefined;
        if (r.hostname === undefined || r.hostname === "" || r.hostname === "*") {
            hp = "is required and may not match every hostname; the program adds the only catch-all (http_status:404) as the last rule";
            problems.push(`${key}.hostname: ${hp}`);
        } else if (typeof r.hostname === "string") {
            hp = control("hostname");
            if (!hp) {
                hp = hostnameProblem(r.hostname, domain);
                if (hp) problems.push(`${key}.hostname: ${hp}`);
            }
        }
        const sp = typeof r.service === "string" && !control("service") ? serviceProblem(r.service) : undefined;
        if (sp) problems.push(`${key}.service: ${sp}`);
        const pc = control("path");
        const pp = typeof r.path !== "string" || pc ? undefined
            : r.path === "" ? "must not be empty (leave it out to match every path)" : pathProblem(r.path);
        if (pp) problems.push(`${key}.path: ${quoted(r.path)} ${pp}`);
        if (typeof r.originServerName === "string" && !control("originServerName") && !isHostname(r.originServerName)) {
            problems.push(`${key}.originServerName: ${quoted(r.originServerName)} is not a valid hostname${lowercaseHint(r.originServerName, isHostname)}`
                + `${mustNotEcho(r.originServerName) ? "" : nonAsciiHint(r.originServerName)}`);
        }
        // A hostname or path that is not a string cannot be compared: that rule sits out the shadowing check.
        if (typeof r.hostname !== "string" || (r.path !== undefined && typeof r.path !== "string")) return;
        const rule: IngressRule = { hostname: r.hostname, service: typeof r.service === "string" ? r.service : "" };
        if (typeof r.path === "string") rule.path = r.path;
        if (typeof r.originServerName === "string") rule.originRequest = { originServerName: r.originServerName };
        list.push({ rule, key: `${key}.hostname`, label: `${key}.hostname (${quoted(r.hostname)})`, valid: !hp && !pp && !pc });
    });
    if (domain !== undefined) {
        const zoneWildcard = `*.${domain}`;
        list.push({
            rule: withOrigin({ hostname: zoneWildcard, service: gateway }, tls),
            label: `the zone wildcard route the program adds (${zoneWildcard} to the gateway)`,
            valid: true,
        });
    }

    // cloudflared takes the first matching rule: a rule covered by an earlier one is dead, or a duplicate.
    list.forEach((later, j) => {
        if (!later.valid) return;
        const earlier = list.slice(0, j).find((e) => e.valid && covers(e.rule, later.rule));
        if (!earlier) return;
        const same = earlier.rule.hostname === later.rule.hostname && earlier.rule.path === later.rule.path;
        const shown = `${quoted(later.rule.hostname)}${later.rule.path !== undefined ? ` (path ${quoted(later.rule.path)})` : ""}`;
        if (later.key !== undefined) {
            problems.push(same
                ? `${later.key}: ${shown} duplicates ${earlier.label}; remove one`
                : `${later.key}: ${shown} is shadowed by ${earlier.label}, which comes first and takes every request it would match`
                    + (earlier.key?.startsWith(`${KEY}.routes[`) ? "; list the more specific route first" : ""));
        } else {
            // Only a configured rule can cover one the program adds: blame the configured one.
            problems.push(same
                ? `${earlier.key ?? KEY}: ${quoted(earlier.rule.hostname)} duplicates ${later.label}; remove one`
                : `${earlier.key ?? KEY}: ${quoted(earlier.rule.hostname)} shadows ${later.label}`);
        }
    });
    return { list, problems };
}

/** Every problem in the tunnel routes, each naming its config key; empty when cloudflared would accept them all. */
export function checkTunnelRoutes(input: RouteCheckInput): string[] {
    return located(input).problems;
}

/** True when some rule of the tunnel (the program's own, a configured route or the zone wildcard) takes requests for `host`. */
export function routesHostname(input: RouteCheckInput, host: string): boolean {
    return located(input).list.some((l) => l.rule.hostname !== undefined && hostMatches(l.rule.hostname, host));
}

/**
 * Puts `access` on every rule that can take a request for `host`: the rules named after it get it attached; a wildcard
 * rule that would take it gets an explicit copy for `host` (same service, path and origin settings) right before it,
 * so the check applies to `host` alone. Rules after the first one without a path never see `host` and stay as they are.
 */
function protect<Aud>(rules: IngressRule<Aud>[], host: string, access: RuleAccess<Aud>): IngressRule<Aud>[] {
    const guarded = (r: IngressRule<Aud>): IngressRule<Aud> => ({ ...r, hostname: host, originRequest: { ...r.originRequest, access } });
    const out: IngressRule<Aud>[] = [];
    let taken = false;
    let matched = false;
    for (const r of rules) {
        if (taken || r.hostname === undefined || !hostMatches(r.hostname, host)) {
            out.push(r);
            continue;
        }
        matched = true;
        out.push(guarded(r));
        if (r.hostname !== host) out.push(r);
        taken = r.path === undefined;
    }
    if (!matched) throw new Error(`invalid Access hostnames: ${quoted(host)} is not routed by the tunnel`);
    return out;
}

/**
 * The ordered ingress rules of the cluster's tunnel: origin host, Flux webhook, configured routes, the zone
 * wildcard to the gateway, then the bare 404 catch-all. Every rule that takes requests for a hostname in `access`
 * carries that hostname's check; one the zone wildcard routes gets its own rule, right before the wildcard. Throws
 * when the routes have a problem or an Access hostname is not routed.
 */
export function ingressRules<Aud = string>(input: RoutingInput<Aud> & { gateway: string }): IngressRule<Aud>[] {
    const { list, problems } = located(input);
    if (problems.length > 0) throw new Error(`invalid tunnel routes:\n  ${problems.join("\n  ")}`);
    let rules = list.map((l) => l.rule as IngressRule<Aud>);
    for (const [host, access] of Object.entries(input.access ?? {})) rules = protect(rules, host, access);
    return [...rules, CATCH_ALL];
}

/** Hostnames that get a CNAME to the tunnel: every explicit (non-wildcard) hostname, each once. */
export function tunnelDnsNames<Aud>(rules: IngressRule<Aud>[]): string[] {
    const names = rules.map((r) => r.hostname).filter((h): h is string => h !== undefined && !h.startsWith("*."));
    return [...new Set(names)];
}
