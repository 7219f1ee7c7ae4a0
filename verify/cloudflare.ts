// Cloudflare after an apply: the tunnel has a connector (cloudflared runs and reached the edge), every hostname the
// program gave a record points at this tunnel, and every hostname behind Access has its application. Read-only calls,
// each bounded.
//
// Endpoints (Cloudflare API v4; cloudflare-typescript src/resources/zero-trust/tunnels/cloudflared/connections.ts,
// developers.cloudflare.com/api for DNS records and Access applications):
//   GET /accounts/{account}/cfd_tunnel/{tunnel}/connections  → result: [{ id, conns: [{ colo_name, is_pending_reconnect, … }] }]
//   GET /zones?name=&account.id=                               → the zone's id
//   GET /zones/{zone}/dns_records?name.exact=                  → result: [{ type, name, content, proxied }]
//   GET /accounts/{account}/access/apps?domain=&exact=true     → result: [{ name, domain, type, destinations }]
import { ingressRules, tunnelDnsNames } from "../config/routing";
import { errorsOf } from "../preflight/cloudflare";
import { apiBase, getJson, NoAnswer, type Answer } from "../preflight/http";
import { fail, ok, skip, type CheckResult } from "../preflight/result";
import { missingOutput, stringOutput, type VerifyFacts } from "./facts";

interface Envelope {
    success?: boolean;
    result?: unknown;
}

/** One connector (a cloudflared replica) and its connections to Cloudflare's data centres. */
export interface TunnelClient {
    id?: string;
    version?: string;
    conns?: Array<{ colo_name?: string; is_pending_reconnect?: boolean }>;
}

/**
 * The connectors with at least one live connection. Cloudflare keeps a connection listed for minutes after it drops,
 * with `is_pending_reconnect: true`: such a connection serves no traffic.
 */
export function activeConnectors(clients: TunnelClient[]): TunnelClient[] {
    return clients.filter((c) => (c.conns ?? []).some((conn) => conn.is_pending_reconnect !== true));
}

/** A tunnel's connectors as one line. */
export function connectorLine(title: string, clients: TunnelClient[]): CheckResult {
    const active = activeConnectors(clients);
    if (active.length === 0) {
        return fail(title, clients.length === 0 ? "no connector: cloudflared has not connected" : `no active connector (${clients.length} disconnected, pending reconnect)`,
            "Flux deploys cloudflared from the GitOps repository with CLOUDFLARE_TUNNEL_TOKEN from flux-system/cluster-secrets: "
            + "check its HelmRelease or Deployment (`flux get helmreleases -A`) and its pods' logs");
    }
    const colos = [...new Set(active.flatMap((c) => (c.conns ?? []).filter((x) => x.is_pending_reconnect !== true).map((x) => x.colo_name ?? "?")))];
    return ok(title, `${active.length} active connector${active.length === 1 ? "" : "s"} (${colos.join(", ")})`);
}

export interface DnsRecord {
    type?: string;
    name?: string;
    content?: string;
    proxied?: boolean;
}

/** Whether `host`'s records are one proxied CNAME to the tunnel (`<tunnel id>.cfargotunnel.com`). */
export function dnsLine(host: string, records: DnsRecord[], target: string): CheckResult {
    const title = `DNS ${host}`;
    const fix = "run `pulumi up` (the record is the program's), or remove what replaced it";
    const cname = records.find((r) => r.type === "CNAME");
    if (records.length === 0) return fail(title, "no record", fix);
    if (!cname) return fail(title, `${records.map((r) => r.type ?? "?").join(", ")} record, not a CNAME to ${target}`, fix);
    if (cname.content !== target) return fail(title, `CNAME to ${cname.content ?? "nothing"}, not to this tunnel (${target})`, fix);
    // <id>.cfargotunnel.com resolves only inside Cloudflare's proxy: an unproxied record leads nowhere.
    if (cname.proxied !== true) return fail(title, `CNAME to ${target}, but not proxied: the name resolves to nothing outside Cloudflare`, fix);
    return ok(title, `proxied CNAME to ${target}`);
}

export interface AccessApplication {
    name?: string;
    domain?: string;
    type?: string;
    destinations?: Array<{ type?: string; uri?: string }>;
}

/** Whether `host` has a self-hosted Access application (by its domain or one of its destinations). */
export function accessLine(host: string, apps: AccessApplication[]): CheckResult {
    const title = `Access ${host}`;
    const app = apps.find((a) => a.domain === host || (a.destinations ?? []).some((d) => d.uri === host));
    if (!app) return fail(title, "no Access application: anyone reaching the hostname meets only the app's own login",
        "run `pulumi up` (the application is the program's, from cluster-bootstrap:access.hostnames)");
    return ok(title, `application ${JSON.stringify(app.name ?? host)} (${app.type ?? "?"})`);
}

export async function cloudflareVerify(facts: VerifyFacts, out: CheckResult[]): Promise<void> {
    const token = facts.cloudflare;
    if (!token) return void out.push(skip("Cloudflare", "no token (cloudflare:apiToken or CLOUDFLARE_API_TOKEN)"));
    const { config: cfg } = facts;
    const base = apiBase("cloudflare", facts.env);
    const account = `/accounts/${encodeURIComponent(cfg.cloudflareAccountId)}`;
    const call = async (title: string, p: string): Promise<Envelope | CheckResult> => {
        let a: Answer;
        try {
            a = await getJson(`${base}${p}`, { authorization: `Bearer ${token.token}`, "user-agent": "cluster-bootstrap-verify" }, facts.timeoutMs);
        } catch (e) {
            if (!(e instanceof NoAnswer)) throw e;
            return fail(title, `the Cloudflare API: ${e.message}`);
        }
        const body = a.body as Envelope | undefined;
        if (a.status !== 200 || body?.success !== true) return fail(title, `the Cloudflare API answered ${errorsOf(a)} (token from ${token.from})`);
        return body;
    };
    const isLine = (v: Envelope | CheckResult): v is CheckResult => "status" in v && "title" in v;
    const list = <T>(e: Envelope): T[] => (Array.isArray(e.result) ? e.result as T[] : []);

    const tunnelId = stringOutput(facts, "tunnelId");
    const target = stringOutput(facts, "tunnelCname");
    const tunnelTitle = `Tunnel ${cfg.cluster.name}`;
    if (!tunnelId) out.push(skip(tunnelTitle, missingOutput("tunnelId")));
    else {
        const a = await call(tunnelTitle, `${account}/cfd_tunnel/${encodeURIComponent(tunnelId)}/connections`);
        out.push(isLine(a) ? a : connectorLine(tunnelTitle, list<TunnelClient>(a)));
    }

    // The names the program gave a record: the explicit hostnames of the tunnel's rules (components/edge.ts).
    const hosts = tunnelDnsNames(ingressRules({ domain: cfg.cluster.domain, originHost: cfg.tunnel.originHost, gateway: cfg.tunnel.gateway, routes: cfg.tunnel.routes }));
    const zoneTitle = `Zone ${cfg.cluster.domain}`;
    const zones = await call(zoneTitle, `/zones?${new URLSearchParams({ name: cfg.cluster.domain, "account.id": cfg.cloudflareAccountId })}`);
    const zoneId = isLine(zones) ? undefined : list<{ id?: string; name?: string }>(zones).find((z) => z.name === cfg.cluster.domain)?.id;
    if (isLine(zones)) out.push(zones);
    else if (!zoneId) out.push(fail(zoneTitle, `not in account ${cfg.cloudflareAccountId}, or the token may not read it`));
    if (!target) out.push(skip("DNS", missingOutput("tunnelCname")));
    else if (!zoneId) out.push(skip("DNS", `not checked: no zone ${cfg.cluster.domain}`));
    else {
        const lines = await Promise.all(hosts.map(async (host) => {
            const a = await call(`DNS ${host}`, `/zones/${encodeURIComponent(zoneId)}/dns_records?${new URLSearchParams({ "name.exact": host })}`);
            return isLine(a) ? a : dnsLine(host, list<DnsRecord>(a), target);
        }));
        out.push(...lines);
    }

    const protectedHosts = cfg.access?.hostnames ?? [];
    out.push(...await Promise.all(protectedHosts.map(async (host) => {
        const a = await call(`Access ${host}`, `${account}/access/apps?${new URLSearchParams({ domain: host, exact: "true" })}`);
        return isLine(a) ? a : accessLine(host, list<AccessApplication>(a));
    })));
}
