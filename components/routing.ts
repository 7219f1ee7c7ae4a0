// Tunnel routing rules as data: built and checked by pure functions, so what cloudflared would refuse or
// silently shadow is caught at validation time with the config key that caused it.

/** A route from `tunnel.routes`. */
export interface TunnelRoute {
    hostname?: string;
    service: string;
    /** Regular expression on the request path, as cloudflared matches it. */
    path?: string;
    /** TLS server name to present to an https origin. */
    originServerName?: string;
}

/** One rule of the remotely-managed tunnel config, in the provider's input shape. */
export interface IngressRule {
    hostname?: string;
    service: string;
    path?: string;
    originRequest?: { originServerName?: string; http2Origin?: boolean };
}

export const FLUX_NAMESPACE = "flux-system";
/** The notification-controller's webhook receiver Service (port 80) in flux-system. */
export const FLUX_WEBHOOK_SERVICE = `http://webhook-receiver.${FLUX_NAMESPACE}.svc.cluster.local`;
export const CATCH_ALL: IngressRule = { service: "http_status:404" };

/** Hostname that GitHub webhooks reach the Flux Receiver through. */
export function fluxWebhookHostname(domain: string): string {
    return `flux-webhook.${domain}`;
}

export interface RoutingInput {
    domain: string;
    /** Hostname the zone's apps CNAME to; TLS to the gateway is presented under this name. */
    originHost: string;
    /** Envoy Gateway service URL; required by {@link ingressRules}, unused by {@link checkTunnelRoutes}. */
    gateway?: string;
    routes: TunnelRoute[];
}

interface Located {
    rule: IngressRule;
    /** Config key the rule came from, for messages. */
    key: string;
}

const KEY = "cluster-bootstrap:tunnel";
const SERVICE = /^(https?|tcp|ssh|rdp|smb|unix|unix\+tls):\/\/\S+$|^http_status:[1-5][0-9]{2}$|^hello_world$/;
const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function hostnameProblem(h: string, domain: string): string | undefined {
    const labels = h.split(".");
    const wildcard = labels[0] === "*";
    if (labels.slice(wildcard ? 1 : 0).some((l) => !HOST_LABEL.test(l)) || h.length > 253) {
        return h.includes("*") && !wildcard
            ? `${JSON.stringify(h)}: a wildcard must be the whole leftmost label (*.example.com)`
            : `${JSON.stringify(h)} is not a valid hostname`;
    }
    const bare = wildcard ? labels.slice(1).join(".") : h;
    if (bare !== domain && !bare.endsWith(`.${domain}`)) return `${JSON.stringify(h)} is outside the zone ${domain}`;
    return undefined;
}

/** True when every request `a` matches would already have been taken by `b` placed before it. */
function covers(b: IngressRule, a: IngressRule): boolean {
    if (b.hostname === undefined) return true;
    if (a.hostname === undefined) return false;
    const hostCovered = b.hostname === a.hostname
        || (b.hostname.startsWith("*.") && a.hostname.endsWith(b.hostname.slice(1)));
    return hostCovered && (b.path === undefined || b.path === a.path);
}

function located(input: RoutingInput): { list: Located[]; problems: string[] } {
    const problems: string[] = [];
    const gateway = input.gateway ?? "https://gateway.invalid";
    const tls = { originServerName: input.originHost, http2Origin: true };
    const list: Located[] = [
        { rule: { hostname: input.originHost, service: gateway, originRequest: tls }, key: `${KEY}.originHost` },
        { rule: { hostname: fluxWebhookHostname(input.domain), service: FLUX_WEBHOOK_SERVICE }, key: `${KEY} (flux webhook route)` },
    ];
    const p = hostnameProblem(input.originHost, input.domain);
    if (p) problems.push(`${KEY}.originHost: ${p}`);
    else if (input.originHost.startsWith("*.")) problems.push(`${KEY}.originHost: must be a single hostname, not a wildcard`);

    input.routes.forEach((r, i) => {
        const key = `${KEY}.routes[${i}]`;
        if (r.hostname === undefined || r.hostname === "") {
            problems.push(`${key}.hostname: is required; the program adds the only catch-all (http_status:404) as the last rule`);
            return;
        }
        const hp = hostnameProblem(r.hostname, input.domain);
        if (hp) problems.push(`${key}.hostname: ${hp}`);
        if (!SERVICE.test(r.service)) {
            problems.push(`${key}.service: ${JSON.stringify(r.service)} is not a cloudflared service (http://, https://, tcp://, ssh://, http_status:NNN …)`);
        }
        if (r.path !== undefined) {
            try {
                new RegExp(r.path);
            } catch {
                problems.push(`${key}.path: ${JSON.stringify(r.path)} is not a valid regular expression`);
            }
        }
        if (r.originServerName !== undefined && hostnameProblem(r.originServerName, r.originServerName.split(".").slice(-2).join("."))) {
            problems.push(`${key}.originServerName: ${JSON.stringify(r.originServerName)} is not a valid hostname`);
        }
        const rule: IngressRule = { hostname: r.hostname, service: r.service };
        if (r.path !== undefined) rule.path = r.path;
        if (r.originServerName !== undefined) rule.originRequest = { originServerName: r.originServerName };
        list.push({ rule, key: `${key}.hostname` });
    });
    list.push({ rule: { hostname: `*.${input.domain}`, service: gateway, originRequest: tls }, key: `${KEY} (zone wildcard route)` });

    // cloudflared takes the first matching rule: a rule covered by an earlier one is dead, or a duplicate.
    list.forEach((later, j) => {
        const earlier = list.slice(0, j).find((e) => covers(e.rule, later.rule));
        if (!earlier) return;
        const what = earlier.rule.hostname === later.rule.hostname && earlier.rule.path === later.rule.path ? "duplicates" : "is shadowed by";
        const culprit = j >= 2 && j < list.length - 1 ? later.key : earlier.key;
        problems.push(`${culprit}: ${JSON.stringify(later.rule.hostname)}${later.rule.path ? ` (path ${later.rule.path})` : ""} ${what} ${earlier.key} (${JSON.stringify(earlier.rule.hostname)})`);
    });
    return { list, problems };
}

/** Every problem in the tunnel routes, each naming its config key; empty when cloudflared would accept them all. */
export function checkTunnelRoutes(input: RoutingInput): string[] {
    return located(input).problems;
}

/**
 * The ordered ingress rules of the cluster's tunnel: origin host, Flux webhook, configured routes, the zone
 * wildcard to the gateway, then the bare 404 catch-all. Throws when the routes have a problem.
 */
export function ingressRules(input: RoutingInput & { gateway: string }): IngressRule[] {
    const { list, problems } = located(input);
    if (problems.length > 0) throw new Error(`invalid tunnel routes:\n  ${problems.join("\n  ")}`);
    return [...list.map((l) => l.rule), CATCH_ALL];
}

/** Hostnames that get a CNAME to the tunnel: every explicit (non-wildcard) hostname, each once. */
export function tunnelDnsNames(rules: IngressRule[]): string[] {
    const names = rules.map((r) => r.hostname).filter((h): h is string => h !== undefined && !h.startsWith("*."));
    return [...new Set(names)];
}
