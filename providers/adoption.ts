// Adoption (`cluster-bootstrap:adopt`): which of the Cloudflare objects the program manages already exist in the
// account, which of those this stack's state already holds, and so which are imported, which created, and which are
// too unclear to act on. Pure, with no provider SDK: the program (components/adopt.ts) fills it from the providers'
// data sources, the preflight from Cloudflare's API, the offline plan from `--cloud-state`.
//
// Only what can be imported whole is adopted: buckets, the tunnel and its configuration, the CNAMEs, Access
// applications and policies. Credentials (the account tokens, Access service tokens, the deploy key, the webhook) are
// always new, since their secret cannot be read back; their old namesakes are only listed, never deleted.
import type * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { allowPolicyName, serviceTokenPolicyName } from "../config/access";
import { ingressRules, tunnelDnsNames, type TunnelRoute } from "../config/routing";
import {
    accessApplicationImportId, accessPolicyImportId, dnsRecordImportId, r2BucketImportId, tunnelConfigImportId, tunnelImportId,
} from "./import-ids";
import type { Jurisdiction } from "./r2";

const ADOPT = "cluster-bootstrap:adopt";

/** An R2 bucket as the account lists it. */
export interface FoundBucket {
    name: string;
    location?: string;
    storageClass?: string;
    /** The jurisdiction it was listed in; absent means the one asked for. */
    jurisdiction?: string;
}

/** A tunnel that is not deleted, as the account lists it. */
export interface FoundTunnel {
    id: string;
    name: string;
    /** `cloudflare` (remotely managed) or `local` (ingress in cloudflared's own config file). */
    configSrc?: string;
}

/** A tunnel's configuration: `source` says who manages it (`cloudflare` or `local`). */
export interface FoundTunnelConfig {
    tunnelId: string;
    source?: string;
}

export interface FoundRecord {
    id: string;
    name: string;
    type: string;
    content?: string;
    proxied?: boolean;
}

export interface FoundApplication {
    id: string;
    name?: string;
    domain: string;
}

/** Anything found by its name: Access policies, account tokens, Access service tokens. */
export interface Named {
    id: string;
    name: string;
}

export interface FoundDeployKey {
    id: string;
    title: string;
}

export interface FoundWebhook {
    id: string;
    /** Where GitHub posts (the hook's `config.url`). */
    url: string;
}

/** What the lookups found. Each list holds what was asked for; an empty list means none exists. */
export interface CloudState {
    r2Buckets: FoundBucket[];
    tunnels: FoundTunnel[];
    tunnelConfigs: FoundTunnelConfig[];
    dnsRecords: FoundRecord[];
    accessApplications: FoundApplication[];
    accessPolicies: Named[];
    accountTokens: Named[];
    accessServiceTokens: Named[];
    deployKeys: FoundDeployKey[];
    webhooks: FoundWebhook[];
}

export function emptyCloudState(): CloudState {
    return {
        r2Buckets: [], tunnels: [], tunnelConfigs: [], dnsRecords: [], accessApplications: [], accessPolicies: [],
        accountTokens: [], accessServiceTokens: [], deployKeys: [], webhooks: [],
    };
}

// ------------------------------------------------------------------------------------------ what the state holds

export type AdoptableKind = "R2 bucket" | "tunnel" | "tunnel configuration" | "DNS record" | "Access application" | "Access policy";

/** How the stack output `cloudflareImportIds` names an object: `R2 bucket infra-volsync`, `DNS record flux-webhook.…`. */
export function adoptionKey(kind: AdoptableKind, name: string): string {
    return `${kind} ${name}`;
}

/**
 * What this stack's state holds, as its last successful run recorded it in the output `cloudflareImportIds`: the import
 * ID of each object, by {@link adoptionKey}. Empty for a new stack or a lost state.
 */
export type Recorded = Readonly<Record<string, string>>;

// ---------------------------------------------------------------------------------------------------- what is wanted

/** The Cloudflare objects the program manages, by the names it gives them. */
export interface WantedCloudflare {
    accountId: string;
    jurisdiction: Jurisdiction;
    buckets: string[];
    /** The tunnel's name: the cluster's. */
    tunnel: string;
    /** Hostnames that get a proxied CNAME to the tunnel. */
    dnsNames: string[];
    /** Hostnames behind an Access application. */
    accessHostnames: string[];
    /** Access service tokens, by name: each has its own policy. */
    serviceTokens: string[];
    clusterName: string;
}

/** What the program would create in Cloudflare for a validated config (the parts it reads). */
export function wantedCloudflare(cfg: {
    cluster: { name: string; domain: string };
    cloudflareAccountId: string;
    r2: { jurisdiction: Jurisdiction; buckets: ReadonlyArray<{ name: string }> };
    tunnel: { originHost: string; gateway: string; routes: TunnelRoute[] };
    access?: { hostnames: readonly string[]; serviceTokens: ReadonlyArray<{ name: string }> };
}): WantedCloudflare {
    const routing = { domain: cfg.cluster.domain, originHost: cfg.tunnel.originHost, gateway: cfg.tunnel.gateway, routes: cfg.tunnel.routes };
    return {
        accountId: cfg.cloudflareAccountId,
        jurisdiction: cfg.r2.jurisdiction,
        buckets: cfg.r2.buckets.map((b) => b.name),
        tunnel: cfg.cluster.name,
        dnsNames: tunnelDnsNames(ingressRules(routing)),
        accessHostnames: [...(cfg.access?.hostnames ?? [])],
        serviceTokens: (cfg.access?.serviceTokens ?? []).map((t) => t.name),
        clusterName: cfg.cluster.name,
    };
}

// ---------------------------------------------------------------------------------------------------- the decision

/** For each object: imported (`adopt`), created, or already in this stack's state (nothing to do). */
export type Action = "adopt" | "create" | "in-state";

export interface AdoptionItem {
    kind: AdoptableKind;
    /** Bucket name, tunnel name, hostname or policy name. */
    name: string;
    action: Action;
    /** With `adopt`: the import ID the resource is registered with. */
    importId?: string;
    /** What was found, for the line: the object's id and what matters about it. */
    found?: string;
}

export interface BucketImport {
    importId: string;
    /** What the bucket has, so the program's inputs match it instead of the provider's defaults. */
    location?: string;
    storageClass?: string;
}

/** The import IDs the components register with, by the names they know; only what is adopted is listed. */
export interface Imports {
    buckets: Record<string, BucketImport>;
    tunnel?: string;
    tunnelConfig?: string;
    dnsRecords: Record<string, string>;
    accessApplications: Record<string, string>;
    /** By policy name ({@link allowPolicyName}, {@link serviceTokenPolicyName}). */
    accessPolicies: Record<string, string>;
}

export interface AdoptionPlan {
    items: AdoptionItem[];
    /** Unclear cases, each naming the objects and the choice to make: adoption is refused while there is any. */
    problems: string[];
    imports: Imports;
}

/**
 * The options of an adoptable resource in a run with `adopt`: its import ID when it already exists, and retained on
 * delete, so that even an import the engine turns into an import-replacement (a resource the state holds but its last
 * outputs did not record, after a failed run) drops only the old state entry and never deletes the object itself.
 */
export function adoptOptions(adopting: boolean, importId: string | undefined): pulumi.CustomResourceOptions {
    return { ...(adopting ? { retainOnDelete: true } : {}), ...(importId !== undefined ? { import: importId } : {}) };
}

const list = (ids: string[]) => ids.join(", ");

/** Whether a tunnel's ingress is managed in Cloudflare (what the program manages) rather than in cloudflared's file. */
function remotelyManaged(t: FoundTunnel, config?: FoundTunnelConfig): boolean {
    return (t.configSrc ?? "cloudflare") === "cloudflare" && (config?.source ?? "cloudflare") === "cloudflare";
}

/**
 * Decides, for each object the program manages, whether it is imported, created or already in the state. An object the
 * state holds is never imported again: the engine imports whenever the ID it is given differs from the ID (or import ID)
 * the state recorded, and an import over a resource in the state is an import-replacement whose delete of the old one,
 * the same object here, skips the protect check (pulumi/pulumi pkg/resource/deploy/step_generator.go `isImport`,
 * step.go `ImportStep.Apply` and `NewDeleteReplacementStep`).
 */
export function planAdoption(wanted: WantedCloudflare, found: CloudState, recorded: Recorded, zoneId?: string): AdoptionPlan {
    const items: AdoptionItem[] = [];
    const problems: string[] = [];
    const imports: Imports = { buckets: {}, dnsRecords: {}, accessApplications: {}, accessPolicies: {} };
    const acct = wanted.accountId;

    /** Records the decision for one object; returns true when it is to be imported. */
    const decide = (kind: AdoptableKind, name: string, object: { importId: string; found: string } | undefined): boolean => {
        const held = recorded[adoptionKey(kind, name)];
        if (object && held === object.importId) {
            items.push({ kind, name, action: "in-state", found: object.found });
            return false;
        }
        if (object && held !== undefined) {
            // Importing over it would make the engine delete the one the state holds, which may still be in use.
            problems.push(`${ADOPT}: this stack's state holds the ${kind} ${name} as ${held}, but the account's is ${object.importId}: `
                + "to adopt the account's, drop the state's first (`pulumi state delete <urn>`, `pulumi stack --show-urns` lists them); "
                + "to keep the state's, delete or rename the account's; then run again");
            return false;
        }
        if (!object) {
            items.push(held === undefined ? { kind, name, action: "create" } : { kind, name, action: "in-state" });
            return false;
        }
        items.push({ kind, name, action: "adopt", importId: object.importId, found: object.found });
        return true;
    };

    for (const bucket of wanted.buckets) {
        const b = found.r2Buckets.find((x) => x.name === bucket && (x.jurisdiction ?? wanted.jurisdiction) === wanted.jurisdiction);
        const importId = r2BucketImportId(acct, bucket, wanted.jurisdiction);
        const what = b && [`jurisdiction ${wanted.jurisdiction}`, b.location && `location ${b.location}`, b.storageClass && `storage class ${b.storageClass}`]
            .filter(Boolean).join(", ");
        if (decide("R2 bucket", bucket, b && { importId, found: what! })) {
            imports.buckets[bucket] = { importId, location: b!.location, storageClass: b!.storageClass };
        }
    }

    const tunnels = found.tunnels.filter((x) => x.name === wanted.tunnel);
    const t = tunnels[0];
    const tunnelConfig = t && found.tunnelConfigs.find((c) => c.tunnelId === t.id);
    if (tunnels.length > 1) {
        problems.push(`${ADOPT}: ${tunnels.length} tunnels are named ${JSON.stringify(wanted.tunnel)} (ids ${list(tunnels.map((x) => x.id))}), `
            + "and the program manages one: keep the one cloudflared connects with (Zero Trust > Networks > Tunnels shows its connectors), "
            + "delete the others, then run again");
    } else if (t && !remotelyManaged(t, tunnelConfig)) {
        problems.push(`${ADOPT}: the tunnel ${JSON.stringify(wanted.tunnel)} (id ${t.id}) is locally managed (its ingress is in `
            + "cloudflared's config file); the program manages a remotely-managed tunnel, and importing this one would replace it: "
            + "migrate it to remote management (Zero Trust > Networks > Tunnels > Migrate) or delete it, then run again");
    } else {
        if (decide("tunnel", wanted.tunnel, t && { importId: tunnelImportId(acct, t.id), found: `id ${t.id}, remotely managed` })) {
            imports.tunnel = tunnelImportId(acct, t!.id);
        }
        // One configuration per tunnel, under the tunnel's own id: adopted with the tunnel, created with it.
        if (decide("tunnel configuration", wanted.tunnel, t && tunnelConfig && { importId: tunnelConfigImportId(acct, t.id), found: `of tunnel ${t.id}` })) {
            imports.tunnelConfig = tunnelConfigImportId(acct, t!.id);
        }
    }

    for (const host of wanted.dnsNames) {
        const named = found.dnsRecords.filter((r) => r.name === host);
        const cnames = named.filter((r) => r.type === "CNAME");
        const others = named.filter((r) => r.type !== "CNAME");
        if (others.length > 0) {
            problems.push(`${ADOPT}: the DNS name ${host} has ${others.map((r) => `a ${r.type} record (id ${r.id})`).join(" and ")}, where the program `
                + "manages a proxied CNAME to the tunnel: delete that record (the CNAME takes its place) or take the hostname out of "
                + "cluster-bootstrap:tunnel.routes, then run again");
            continue;
        }
        if (cnames.length > 1) {
            problems.push(`${ADOPT}: the DNS name ${host} has ${cnames.length} CNAME records (ids ${list(cnames.map((r) => r.id))}): `
                + "delete all but one, then run again");
            continue;
        }
        const r = cnames[0];
        if (r && zoneId === undefined) throw new Error(`the zone id is needed to adopt the DNS record ${host}`);
        const detail = r && [`id ${r.id}`, r.content && `to ${r.content}`, r.proxied !== undefined && (r.proxied ? "proxied" : "not proxied")]
            .filter(Boolean).join(", ");
        if (decide("DNS record", host, r && { importId: dnsRecordImportId(zoneId!, r.id), found: `CNAME, ${detail}` })) {
            imports.dnsRecords[host] = dnsRecordImportId(zoneId!, r!.id);
        }
    }

    for (const host of wanted.accessHostnames) {
        const apps = found.accessApplications.filter((a) => a.domain === host);
        if (apps.length > 1) {
            problems.push(`${ADOPT}: ${apps.length} Access applications are for ${host} (ids ${list(apps.map((a) => a.id))}), and the program `
                + "manages one: delete the others (Zero Trust > Access > Applications), then run again");
            continue;
        }
        const a = apps[0];
        if (decide("Access application", host, a && { importId: accessApplicationImportId(acct, a.id), found: `id ${a.id}` })) {
            imports.accessApplications[host] = accessApplicationImportId(acct, a!.id);
        }
    }

    // The policies exist only with Access: the allow policy, and one per service token.
    const policies = wanted.accessHostnames.length === 0 ? []
        : [allowPolicyName(wanted.clusterName), ...wanted.serviceTokens.map((tok) => serviceTokenPolicyName(wanted.clusterName, tok))];
    for (const name of policies) {
        const named = found.accessPolicies.filter((p) => p.name === name);
        if (named.length > 1) {
            problems.push(`${ADOPT}: ${named.length} Access policies are named ${JSON.stringify(name)} (ids ${list(named.map((p) => p.id))}): `
                + "delete all but one (Zero Trust > Access > Policies), then run again");
            continue;
        }
        const p = named[0];
        if (decide("Access policy", name, p && { importId: accessPolicyImportId(acct, p.id), found: `id ${p.id}` })) {
            imports.accessPolicies[name] = accessPolicyImportId(acct, p!.id);
        }
    }
    return { items, problems, imports };
}

/** One line per object: `R2 bucket infra-volsync: adopted, import ID … (…)`. */
export function itemLine(item: AdoptionItem): string {
    switch (item.action) {
        case "adopt":
            return `${item.kind} ${item.name}: adopted, import ID ${item.importId} (${item.found})`;
        case "create":
            return `${item.kind} ${item.name}: created (none exists)`;
        case "in-state":
            return `${item.kind} ${item.name}: already in this stack's state`;
    }
}

/** Whether a run with `adopt` has anything left to import; when not, the key has done its work. */
export function nothingToAdopt(plan: AdoptionPlan): boolean {
    return plan.items.every((i) => i.action !== "adopt");
}

/** The note that says the key can go, for a run that imports nothing. */
export function removeKeyNote(plan: AdoptionPlan, stack: string): string {
    const held = plan.items.filter((i) => i.action === "in-state").length;
    return `${ADOPT}: nothing left to adopt (${held} of ${plan.items.length} objects already in this stack's state, the rest created `
        + `by this run): remove the key: pulumi config rm adopt --stack ${stack}`;
}

// -------------------------------------------------------------------------------------- credentials: never adopted

/** The credentials the program mints, by the names their old namesakes would have. */
export interface CredentialNames {
    /** Cloudflare account tokens (backups, DNS). */
    accountTokens: string[];
    /** Access service tokens. */
    accessServiceTokens: string[];
    /** The deploy key's title, when the program creates one. */
    deployKeyTitle?: string;
    /** Where the program's webhook posts, without the token-derived path: `https://flux-webhook.<domain>/`. */
    webhookUrlPrefix: string;
    /** `owner/name`, for the commands in the notes. */
    repository: string;
    accountId: string;
}

/**
 * How the stack output `credentialDigests` records a credential: the hex SHA-256 of its id in the form the listings give
 * (a deploy key's resource id is `<repository>:<key id>`, terraform-provider-github `buildTwoPartID`; the others are
 * the API's own id). A digest, so the output shows nothing of the backup token's id, which is its S3 access key id.
 */
export function credentialDigest(id: string): string {
    return crypto.createHash("sha256").update(id.slice(id.lastIndexOf(":") + 1), "utf8").digest("hex");
}

/**
 * One note per old credential of the same name (tokens by name, deploy keys by title, webhooks by URL), leaving out the
 * stack's own (`own`: the digests its last run recorded, {@link credentialDigest}): never adopted, since a secret cannot
 * be read back, and never deleted by the program; the user deletes each once the new one works.
 */
export function namesakeNotes(names: CredentialNames, found: CloudState, own: ReadonlySet<string>): string[] {
    const notes: string[] = [];
    const old = <T extends { id: string }>(xs: T[]) => xs.filter((x) => !own.has(credentialDigest(x.id)));
    for (const t of old(found.accountTokens.filter((x) => names.accountTokens.includes(x.name)))) {
        // Only the id's last four characters: an account token's id is its S3 access key id, kept out of logs as out of the outputs.
        notes.push(`${ADOPT}: old Cloudflare account token ${JSON.stringify(t.name)} (id ending in ${t.id.slice(-4)}) is not adopted (its value cannot be read); a new `
            + `one is created: delete the old one once the cluster runs with the new one (Manage Account > Account API Tokens, account ${names.accountId})`);
    }
    for (const t of old(found.accessServiceTokens.filter((x) => names.accessServiceTokens.includes(x.name)))) {
        notes.push(`${ADOPT}: old Access service token ${JSON.stringify(t.name)} (id ${t.id}) is not adopted (its secret cannot be read); a new one `
            + "is created: delete the old one once its clients use the new one (Zero Trust > Access > Service credentials)");
    }
    if (names.deployKeyTitle !== undefined) {
        for (const k of old(found.deployKeys.filter((x) => x.title === names.deployKeyTitle))) {
            notes.push(`${ADOPT}: old deploy key ${JSON.stringify(k.title)} (id ${k.id}) on ${names.repository} is not adopted (its private key cannot `
                + `be read); a new one is created: delete the old one once Flux fetches with the new one: gh repo deploy-key delete ${k.id} -R ${names.repository}`);
        }
    }
    for (const h of old(found.webhooks.filter((x) => x.url.startsWith(names.webhookUrlPrefix)))) {
        notes.push(`${ADOPT}: old webhook ${h.id} on ${names.repository} posts to ${names.webhookUrlPrefix}… and is not adopted (its secret cannot be `
            + `read); a new one is created: delete the old one: gh api -X DELETE repos/${names.repository}/hooks/${h.id}`);
    }
    return notes;
}
