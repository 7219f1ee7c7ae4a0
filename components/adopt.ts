// `cluster-bootstrap:adopt`: before anything is registered, every Cloudflare object the program would create is looked
// up by the name it would give it, through the providers' own data sources (so the lookups show in the plan's
// `invokes`), and what exists is imported instead of created (providers/adoption.ts decides). What this stack's state
// already holds is read from its own last outputs, through a StackReference to itself. Credentials are never adopted:
// their old namesakes are listed for the user to delete. Nothing is ever deleted here.
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, unwrap, type StackConfig } from "../config";
import { fluxWebhookHostname } from "../config/routing";
import {
    emptyCloudState, itemLine, namesakeNotes, nothingToAdopt, planAdoption, removeKeyNote, wantedCloudflare,
    type CloudState, type Imports, type Recorded,
} from "../providers/adoption";
import type { ExistingReader } from "../providers/existing";
import { backupTokenName } from "./backups";
import { dnsTokenName } from "./dns-token";
import { deployKeyTitle } from "./gitops";

/** The stack outputs a later run with `adopt` reads from this stack's own last run. */
export const IMPORT_IDS_OUTPUT = "cloudflareImportIds";
export const CREDENTIAL_DIGESTS_OUTPUT = "credentialDigests";

/**
 * How this stack names itself in a StackReference: Pulumi Cloud wants `<org>/<project>/<stack>`; a self-managed
 * backend's organization is always `organization`, and its legacy layout takes only the bare stack name, which both of
 * its layouts resolve within the current project (pulumi/pulumi pkg/backend/diy/store.go `ParseReference`).
 */
export function ownStackName(org: string, project: string, stack: string): string {
    return org === "organization" ? stack : `${org}/${project}/${stack}`;
}

export interface AdoptOptions {
    cfg: StackConfig;
    /** The stack's GitHub provider: the deploy keys are listed through it. */
    github: github.Provider;
    existing: ExistingReader;
    note(message: string): void;
    /** Whether the program makes a deploy key (over SSH); only then are old deploy keys of its title listed. */
    deployKey: boolean;
}

/** The Cloudflare token the provider uses, for the one lookup that goes around it (R2 buckets). */
function cloudflareToken(): Promise<string | undefined> {
    const configured = new pulumi.Config("cloudflare").getSecret("apiToken");
    return configured ? unwrap(configured) : Promise.resolve(process.env.CLOUDFLARE_API_TOKEN || undefined);
}

/** This stack's last recorded import IDs and credential digests; empty for a stack that never finished a run. */
async function ownState(): Promise<{ recorded: Recorded; credentials: Set<string> }> {
    const self = new pulumi.StackReference("adopt-own-state", {
        name: ownStackName(pulumi.getOrganization(), pulumi.getProject(), pulumi.getStack()),
    });
    const [ids, creds, cluster] = await Promise.all([
        self.getOutputDetails(IMPORT_IDS_OUTPUT), self.getOutputDetails(CREDENTIAL_DIGESTS_OUTPUT), self.getOutputDetails("cluster"),
    ]);
    const idsValue = ids.value ?? ids.secretValue;
    // Every run writes `cluster`: a stack whose last run recorded no import IDs holds objects this cannot see, and an
    // import over one of them would replace it (deleting the object itself when it was not retained).
    if (idsValue === undefined && (cluster.value ?? cluster.secretValue) !== undefined) {
        throw new ConfigError([`cluster-bootstrap:adopt: this stack's last run did not record ${IMPORT_IDS_OUTPUT} (a version of the program `
            + "before adopt), so what its state holds is unknown and an import could replace it: run `pulumi up` once without adopt, "
            + "then with it if anything is still missing"]);
    }
    const recorded = idsValue && typeof idsValue === "object" && !Array.isArray(idsValue)
        ? Object.fromEntries(Object.entries(idsValue as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"))
        : {};
    const credsValue = creds.value ?? creds.secretValue;
    const credentials = new Set(Array.isArray(credsValue) ? credsValue.filter((x): x is string => typeof x === "string") : []);
    return { recorded, credentials };
}

/** Looks up everything `adopt` needs; each lookup by the name the program would use. */
async function lookUp(o: AdoptOptions, zoneId: string): Promise<CloudState> {
    const { cfg } = o;
    const accountId = cfg.cloudflareAccountId;
    const wanted = wantedCloudflare(cfg);
    const githubToken = cfg.githubToken ? unwrap(cfg.githubToken) : Promise.resolve(undefined);
    const [buckets, tunnels, records, apps, policies, tokens, serviceTokens, deployKeys, webhooks] = await Promise.all([
        cloudflareToken().then((token) => o.existing.r2Buckets({ accountId, jurisdiction: cfg.r2.jurisdiction }, token)),
        cloudflare.getZeroTrustTunnelCloudflareds({ accountId, name: wanted.tunnel, isDeleted: false }),
        Promise.all(wanted.dnsNames.map((host) => cloudflare.getDnsRecords({ zoneId, name: { exact: host } }))),
        Promise.all(wanted.accessHostnames.map((host) => cloudflare.getZeroTrustAccessApplications({ accountId, domain: host, exact: true }))),
        wanted.accessHostnames.length > 0 ? cloudflare.getZeroTrustAccessPolicies({ accountId }) : undefined,
        cloudflare.getAccountTokens({ accountId }),
        Promise.all(wanted.serviceTokens.map((name) => cloudflare.getZeroTrustAccessServiceTokens({ accountId, name }))),
        o.deployKey ? github.getRepositoryDeployKeys({ repository: cfg.gitops.repositoryName }, { provider: o.github }) : { keys: [] },
        githubToken.then((token) => o.existing.webhooks({ owner: cfg.gitops.owner, repository: cfg.gitops.repositoryName }, token)),
    ]);
    // The API filters by name; matched again exactly, and a deleted tunnel is never a candidate.
    const named = tunnels.results.filter((t) => t.name === wanted.tunnel && !t.deletedAt);
    // Who manages the configuration, for the one tunnel that could be adopted (two are refused anyway).
    const configs = named.length === 1
        ? [await cloudflare.getZeroTrustTunnelCloudflaredConfig({ accountId, tunnelId: named[0].id })]
        : [];
    return {
        ...emptyCloudState(),
        r2Buckets: buckets,
        tunnels: named.map((t) => ({ id: t.id, name: t.name, configSrc: t.configSrc })),
        tunnelConfigs: configs.map((c) => ({ tunnelId: c.tunnelId, source: c.source })),
        dnsRecords: records.flatMap((r) => r.results.map((x) => ({ id: x.id, name: x.name, type: x.type, content: x.content, proxied: x.proxied }))),
        accessApplications: apps.flatMap((a) => a.results.map((x) => ({ id: x.id, name: x.name, domain: x.domain }))),
        accessPolicies: (policies?.results ?? []).map((p) => ({ id: p.id, name: p.name })),
        accountTokens: tokens.results.map((t) => ({ id: t.id, name: t.name })),
        accessServiceTokens: serviceTokens.flatMap((s) => s.results.map((t) => ({ id: t.id, name: t.name }))),
        deployKeys: deployKeys.keys.map((k) => ({ id: String(k.id), title: k.title })),
        webhooks,
    };
}

/**
 * Looks up what already exists and decides what is imported. Refuses, before anything is registered, when an object is
 * ambiguous (two tunnels of the name, a record of the name but another type …), naming the objects and the choice.
 * Says in notes what is adopted and created, the old credentials to delete by hand, and when the key can go.
 */
export async function adoptExisting(o: AdoptOptions): Promise<Imports> {
    const { cfg } = o;
    const accountId = cfg.cloudflareAccountId;
    const [own, zone] = await Promise.all([
        ownState(),
        cloudflare.getZone({ filter: { name: cfg.cluster.domain, account: { id: accountId } } }),
    ]);
    const found = await lookUp(o, zone.id);
    const plan = planAdoption(wantedCloudflare(cfg), found, own.recorded, zone.id);
    if (plan.problems.length > 0) throw new ConfigError(plan.problems);

    for (const item of plan.items) o.note(`cluster-bootstrap:adopt: ${itemLine(item)}`);
    const notes = namesakeNotes({
        accountTokens: [backupTokenName(cfg.cluster.name), dnsTokenName(cfg.cluster.name)],
        accessServiceTokens: (cfg.access?.serviceTokens ?? []).map((t) => t.name),
        ...(o.deployKey ? { deployKeyTitle: deployKeyTitle(cfg.cluster.name) } : {}),
        webhookUrlPrefix: `https://${fluxWebhookHostname(cfg.cluster.domain)}/`,
        repository: `${cfg.gitops.owner}/${cfg.gitops.repositoryName}`,
        accountId,
    }, found, own.credentials);
    for (const n of notes) o.note(n);
    if (nothingToAdopt(plan)) o.note(removeKeyNote(plan, pulumi.getStack()));
    return plan.imports;
}
