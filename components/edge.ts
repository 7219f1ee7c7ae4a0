// The cluster's only way in from the internet: its own remotely-managed Cloudflare tunnel, its routing rules and
// the proxied CNAMEs that point the routed hostnames at it. Nothing in the cluster listens on a public port; the
// repo's cloudflared Deployment dials out with the token this hands to Flux.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { TunnelConfig } from "../config";
import type { ContractPart } from "./contract";
import { rotationOptions } from "../providers/rotation";
import { fluxWebhookHostname, ingressRules, tunnelDnsNames, type IngressRule, type RuleAccess } from "../config/routing";
import { adoptionKey, adoptOptions, type Imports } from "../providers/adoption";
import { dnsRecordImportId, tunnelConfigImportId, tunnelImportId } from "../providers/import-ids";

/** Where a tunnel's CNAMEs point: Cloudflare resolves `<id>.cfargotunnel.com` only inside its own proxy. */
export function tunnelCnameTarget(tunnelId: string): string {
    return `${tunnelId}.cfargotunnel.com`;
}

/** What the edge hands to Flux: the tunnel id and origin host as variables, the connector token as a secret. */
export function edgeContractPart(tunnel: {
    id: pulumi.Input<string>;
    originHost: string;
    /** Must be a secret Output. */
    token: pulumi.Input<string>;
}): ContractPart {
    return {
        vars: { TUNNEL_ID: tunnel.id, TUNNEL_HOSTNAME: tunnel.originHost },
        secrets: { CLOUDFLARE_TUNNEL_TOKEN: tunnel.token },
    };
}

/** Every hostname the tunnel routes, in rule order, wildcards included, the catch-all left out. */
export function routedHostnames<Aud>(rules: IngressRule<Aud>[]): string[] {
    return rules.map((r) => r.hostname).filter((h): h is string => h !== undefined);
}

export interface ClusterEdgeArgs {
    /** Cloudflare account that owns the tunnel and the zone. */
    accountId: string;
    /** Cluster name; the tunnel is named after it (tunnel names are unique per account). */
    clusterName: string;
    /** DNS zone on Cloudflare that every routed hostname lives in. */
    domain: string;
    /** `cluster-bootstrap:tunnel`: origin host, gateway service and extra routes, already validated. */
    tunnel: TunnelConfig;
    /** `rotation.tunnelSecret`: a new value gives the same tunnel a new secret, and so a new connector token. */
    rotation?: string;
    /** Hostnames behind Cloudflare Access and the check cloudflared makes on each rule that takes them (ClusterAccess). */
    access?: Readonly<Record<string, RuleAccess<pulumi.Input<string>>>>;
    /**
     * `adopt`: the import IDs of what already exists (the tunnel, its configuration, CNAMEs by hostname). Set, even
     * empty, during an adopt run: everything here is then retained on delete, so no import can delete what it adopts.
     */
    adopt?: Pick<Imports, "tunnel" | "tunnelConfig" | "dnsRecords">;
}

/** A remotely-managed Cloudflare tunnel, its one ingress config, and a proxied CNAME per routed hostname. */
export class ClusterEdge extends pulumi.ComponentResource {
    /** The tunnel's UUID. */
    public readonly tunnelId: pulumi.Output<string>;
    /** `<tunnel id>.cfargotunnel.com`, what every routed hostname is a CNAME to. */
    public readonly cnameTarget: pulumi.Output<string>;
    /** Connector token for `cloudflared tunnel run`, secret. */
    public readonly token: pulumi.Output<string>;
    /** Hostnames in the ingress rules, in order, the zone wildcard included. */
    public readonly hostnames: string[];
    /** Hostnames that got a CNAME record. */
    public readonly dnsNames: string[];
    /** `TUNNEL_ID`, `TUNNEL_HOSTNAME` for cluster-vars; `CLOUDFLARE_TUNNEL_TOKEN` for cluster-secrets. */
    public readonly contract: ContractPart;
    /** What makes `flux-webhook.<domain>` reachable: the tunnel config that routes it and its CNAME. */
    public readonly webhookRoute: pulumi.Resource[];
    /** Id of the cluster's zone (`domain`), from the one lookup the CNAMEs use; scopes the DNS token. */
    public readonly zoneId: pulumi.Output<string>;
    /** Import IDs of the tunnel, its configuration and each CNAME, once they exist: what a later `adopt` finds in the state. */
    public readonly importIds: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: ClusterEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:edge:ClusterEdge", name, {}, opts);
        const { accountId, domain, tunnel: cfg } = args;
        // Validated in config already; computed first so a bad route fails before anything is registered here.
        const routing = { domain, originHost: cfg.originHost, gateway: cfg.gateway, routes: cfg.routes };
        const rules = ingressRules<pulumi.Input<string>>({ ...routing, access: args.access });

        // RandomBytes marks base64 secret; the tunnel marks tunnelSecret secret in its outputs.
        const secret = new random.RandomBytes(`${name}-tunnel-secret`, { length: 32 }, {
            parent: this,
            ...rotationOptions(args.rotation),
        });
        const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(`${name}-tunnel`, {
            accountId,
            name: args.clusterName,
            // Remotely managed from creation: switching configSrc later replaces the tunnel, and its id with it.
            configSrc: "cloudflare",
            // A new secret is a PATCH of the same tunnel (tunnel_secret is not RequiresReplace): its id, config and
            // CNAMEs stay, running connectors stay connected, and new connections need the new token. An adopted
            // tunnel gets its new secret the same way: its old one cannot be read back.
            tunnelSecret: secret.base64,
        }, {
            parent: this,
            // Every CNAME and the running connector hang on the tunnel id; deleting it takes the cluster offline.
            protect: true,
            ...adoptOptions(args.adopt !== undefined, args.adopt?.tunnel),
        });

        // Exactly one config per tunnel: a second would silently overwrite the first.
        const tunnelConfig = new cloudflare.ZeroTrustTunnelCloudflaredConfig(`${name}-tunnel-config`, {
            accountId,
            tunnelId: tunnel.id,
            config: { ingresses: rules },
        }, { parent: this, ...adoptOptions(args.adopt !== undefined, args.adopt?.tunnelConfig) });

        const zone = cloudflare.getZoneOutput({ filter: { name: domain, account: { id: accountId } } }, { parent: this });
        this.zoneId = zone.id;
        this.cnameTarget = tunnel.id.apply(tunnelCnameTarget);
        // From the rules without Access: the rules Access adds for names under the zone wildcard get no record, their
        // DNS stays with the repo's external-dns like every name the wildcard routes.
        this.dnsNames = tunnelDnsNames(ingressRules(routing));
        const records = new Map<string, cloudflare.DnsRecord>();
        for (const host of this.dnsNames) {
            // Named after the hostname, so adding or removing a route touches only its own record.
            records.set(host, new cloudflare.DnsRecord(`${name}-cname-${host}`, {
                zoneId: this.zoneId,
                name: host,
                type: "CNAME",
                content: this.cnameTarget,
                proxied: true,
                // 1 means automatic, the only TTL a proxied record has.
                ttl: 1,
                comment: `cluster-bootstrap: tunnel ${args.clusterName}`,
            }, { parent: this, ...adoptOptions(args.adopt !== undefined, args.adopt?.dnsRecords[host]) }));
        }
        // ingressRules always routes the webhook host, so it always has a record.
        const webhookRecord = records.get(fluxWebhookHostname(domain));
        if (!webhookRecord) throw new pulumi.ResourceError(`no CNAME for ${fluxWebhookHostname(domain)}`, this);
        this.webhookRoute = [tunnelConfig, webhookRecord];

        // The invoke does not mark the token secret: wrap it before it goes anywhere. The token embeds the secret, so
        // it is read once the secret is in place: through the secret's id, which a preview that rotates the secret
        // does not know yet, so the preview shows cluster-secrets changing too.
        const tunnelId = pulumi.all([tunnel.id, secret.id]).apply(([id]) => id);
        this.token = pulumi.secret(
            cloudflare.getZeroTrustTunnelCloudflaredTokenOutput({ accountId, tunnelId }, { parent: this }).token,
        );
        this.tunnelId = tunnel.id;
        this.hostnames = routedHostnames(rules);
        this.contract = edgeContractPart({ id: tunnel.id, originHost: cfg.originHost, token: this.token });
        this.importIds = {
            [adoptionKey("tunnel", args.clusterName)]: tunnel.id.apply((id) => tunnelImportId(accountId, id)),
            [adoptionKey("tunnel configuration", args.clusterName)]: tunnelConfig.tunnelId.apply((id) => tunnelConfigImportId(accountId, id)),
            ...Object.fromEntries([...records].map(([host, record]) =>
                [adoptionKey("DNS record", host), pulumi.all([record.zoneId, record.id]).apply(([zone, id]) => dnsRecordImportId(zone, id))])),
        };

        this.registerOutputs({
            tunnelId: this.tunnelId,
            cnameTarget: this.cnameTarget,
            token: this.token,
            hostnames: this.hostnames,
            dnsNames: this.dnsNames,
            zoneId: this.zoneId,
        });
    }
}
