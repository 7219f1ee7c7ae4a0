// Cloudflare Access in front of chosen hostnames of the tunnel: defense in depth before whatever login the app itself
// has. One self-hosted application per hostname, one reusable allow policy, one service-auth (non_identity) policy per
// service token; the edge then makes cloudflared check the application's token on every rule that takes the hostname.
//
// A second `pulumi up` must show no changes. The provider (terraform-provider-cloudflare v5, bridged) plans the
// fields it computes from defaults of its own (plan_modifiers.go) and relaxes null against false on read
// (normalizations.go); each of those fields is set here explicitly to that default, so nothing is left for the API to
// fill in. What stays unverified: docs/access-and-hub.md: A second `pulumi up` shows no changes.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { allowPolicyName, serviceTokenPolicyName, type AccessConfig, type AllowConfig } from "../config/access";
import type { RuleAccess } from "../config/routing";
import { adoptionKey, adoptOptions, type Imports } from "../providers/adoption";
import { accessApplicationImportId, accessPolicyImportId } from "../providers/import-ids";

/** How long Access sessions last; the provider's default for applications and policies alike. */
export const SESSION_DURATION = "24h";
/** How long a service token is valid: the provider's default (a year), set so a refresh finds nothing to change. */
export const SERVICE_TOKEN_DURATION = "8760h";

type PolicyInclude = cloudflare.types.input.ZeroTrustAccessPolicyInclude;

/** The allow policy's includes: one entry per address, per domain and the GitHub organization; Access takes any one. */
export function allowIncludes(allow: AllowConfig): PolicyInclude[] {
    return [
        ...allow.emails.map((email) => ({ email: { email } })),
        ...allow.emailDomains.map((domain) => ({ emailDomain: { domain } })),
        ...(allow.githubOrganization
            ? [{ githubOrganization: { name: allow.githubOrganization.name, identityProviderId: allow.githubOrganization.identityProviderId } }]
            : []),
    ];
}

/** The service tokens that open `hostname`. */
export function tokensFor(access: AccessConfig, hostname: string): string[] {
    return access.serviceTokens.filter((t) => t.hostnames.includes(hostname)).map((t) => t.name);
}

/**
 * A rotation of one service token's client secret, as the provider takes it: the version to move to and until when the
 * previous secret keeps working. The provider requires both or neither; without them it keeps version 1.
 */
export interface ServiceTokenSecretRotation {
    clientSecretVersion: pulumi.Input<number>;
    /** RFC 3339 time; the old secret is refused after it. */
    previousClientSecretExpiresAt: pulumi.Input<string>;
}

/** A service token's credentials, sent as `CF-Access-Client-Id` and `CF-Access-Client-Secret`. */
export interface ServiceTokenCredentials {
    clientId: string;
    clientSecret: string;
}

export interface ClusterAccessArgs {
    /** Account that owns the tunnel: applications, policies and service tokens are created there. */
    accountId: string;
    /** Cluster name; names the policies so the account's list shows whose they are. */
    clusterName: string;
    /** `cluster-bootstrap:access`, validated: every hostname is one the tunnel routes. */
    access: AccessConfig;
    /** Per service token name, a client-secret rotation; a token not listed keeps the provider's default (version 1). */
    secretRotations?: Readonly<Record<string, ServiceTokenSecretRotation>>;
    /**
     * `adopt`: the import IDs of the applications (by hostname) and policies (by name) that already exist. Set, even
     * empty, during an adopt run: they are then retained on delete. Service tokens are never adopted.
     */
    adopt?: Pick<Imports, "accessApplications" | "accessPolicies">;
}

/**
 * Access applications for the protected hostnames, the allow policy, and service tokens with their policies. The
 * tunnel rules must carry {@link ClusterAccess.ruleAccess}: Access alone can be bypassed by anyone who reaches the
 * origin another way, cloudflared's check cannot.
 */
export class ClusterAccess extends pulumi.ComponentResource {
    /** Protected hostnames, in config order. */
    public readonly hostnames: string[];
    /** Per hostname, its application's audience tag (what its Access tokens carry in `aud`). */
    public readonly audTags: Record<string, pulumi.Output<string>>;
    /** Per hostname, the check cloudflared makes on every tunnel rule that takes it. */
    public readonly ruleAccess: Record<string, RuleAccess<pulumi.Output<string>>>;
    /** Per service token, the protected hostnames it opens. */
    public readonly tokenHostnames: Record<string, string[]>;
    /** Per service token, its client id and secret; secret. */
    public readonly serviceTokens: pulumi.Output<Record<string, ServiceTokenCredentials>>;
    /** Per service token, when it stops working (RFC 3339): a year after creation, unless replaced before. */
    public readonly tokenExpiry: Record<string, pulumi.Output<string>>;
    /** Per service token, its id (not a secret: the token's policy names it). */
    public readonly serviceTokenIds: Record<string, pulumi.Output<string>>;
    /** Import IDs of the applications and policies, once they exist: what a later `adopt` finds in the state. */
    public readonly importIds: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: ClusterAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:access:ClusterAccess", name, {}, opts);
        const { accountId, access } = args;
        for (const tokenName of Object.keys(args.secretRotations ?? {})) {
            if (!access.serviceTokens.some((t) => t.name === tokenName)) {
                throw new pulumi.ResourceError(`a secret rotation names ${JSON.stringify(tokenName)}, which is not a service token`, this);
            }
        }

        const adopting = args.adopt !== undefined;
        this.importIds = {};
        const policyImportId = (policyName: string, policy: cloudflare.ZeroTrustAccessPolicy) => {
            this.importIds[adoptionKey("Access policy", policyName)] = policy.id.apply((id) => accessPolicyImportId(accountId, id));
        };
        const allowName = allowPolicyName(args.clusterName);
        const allow = new cloudflare.ZeroTrustAccessPolicy(`${name}-allow`, {
            accountId,
            name: allowName,
            decision: "allow",
            includes: allowIncludes(access.allow),
            // Set to the provider's default: an empty or missing value leaves a diff on every run (provider #7165).
            sessionDuration: SESSION_DURATION,
        }, { parent: this, ...adoptOptions(adopting, args.adopt?.accessPolicies[allowName]) });
        policyImportId(allowName, allow);

        const tokens = new Map<string, { token: cloudflare.ZeroTrustAccessServiceToken; policy: cloudflare.ZeroTrustAccessPolicy }>();
        for (const t of access.serviceTokens) {
            const rotation = args.secretRotations?.[t.name];
            const token = new cloudflare.ZeroTrustAccessServiceToken(`${name}-token-${t.name}`, {
                accountId,
                name: t.name,
                duration: SERVICE_TOKEN_DURATION,
                enabled: true,
                ...(rotation ? { clientSecretVersion: rotation.clientSecretVersion, previousClientSecretExpiresAt: rotation.previousClientSecretExpiresAt } : {}),
            }, {
                parent: this,
                // Both halves authenticate, so both stay secret in the state; the SDK marks clientSecret on its own.
                additionalSecretOutputs: ["clientId"],
            });
            // non_identity: the token alone passes, with no login; "Service Auth" in the dashboard.
            const policyName = serviceTokenPolicyName(args.clusterName, t.name);
            const policy = new cloudflare.ZeroTrustAccessPolicy(`${name}-token-policy-${t.name}`, {
                accountId,
                name: policyName,
                decision: "non_identity",
                includes: [{ serviceToken: { tokenId: token.id } }],
                sessionDuration: SESSION_DURATION,
            }, { parent: this, ...adoptOptions(adopting, args.adopt?.accessPolicies[policyName]) });
            policyImportId(policyName, policy);
            tokens.set(t.name, { token, policy });
        }

        this.hostnames = [...access.hostnames];
        this.audTags = {};
        this.ruleAccess = {};
        for (const host of access.hostnames) {
            const opening = tokensFor(access, host);
            // Service-auth policies first, then the people allowed; precedences given, not left to the provider to number.
            const policies = [...opening.map((t) => tokens.get(t)!.policy), allow].map((p, i) => ({ id: p.id, precedence: i + 1 }));
            const app = new cloudflare.ZeroTrustAccessApplication(`${name}-app-${host}`, {
                accountId,
                name: host,
                type: "self_hosted",
                domain: host,
                destinations: [{ type: "public", uri: host }],
                policies,
                sessionDuration: SESSION_DURATION,
                // The provider's defaults for a self-hosted application, set so that nothing is left to compute.
                appLauncherVisible: true,
                httpOnlyCookieAttribute: true,
                autoRedirectToIdentity: false,
                enableBindingCookie: false,
                optionsPreflightBypass: false,
                skipInterstitial: false,
                // A machine with a wrong or expired token gets a 401 it can report, not a login page.
                serviceAuth401Redirect: opening.length > 0,
            }, {
                parent: this,
                // Deprecated, computed by the API from `destinations`; never set here (it conflicts with destinations)
                // and reported as drift after an import (provider #4659).
                ignoreChanges: ["selfHostedDomains"],
                ...adoptOptions(adopting, args.adopt?.accessApplications[host]),
            });
            this.importIds[adoptionKey("Access application", host)] = app.id.apply((id) => accessApplicationImportId(accountId, id));
            this.audTags[host] = app.aud;
            this.ruleAccess[host] = { required: true, teamName: access.teamName, audTags: [app.aud] };
        }

        this.tokenHostnames = Object.fromEntries(access.serviceTokens.map((t) => [t.name, [...t.hostnames]]));
        this.tokenExpiry = Object.fromEntries([...tokens].map(([tokenName, { token }]) => [tokenName, token.expiresAt]));
        this.serviceTokenIds = Object.fromEntries([...tokens].map(([tokenName, { token }]) => [tokenName, token.id]));
        const credentials = [...tokens].map(([tokenName, { token }]) =>
            pulumi.all([token.clientId, token.clientSecret]).apply(([clientId, clientSecret]) => [tokenName, { clientId, clientSecret }] as const));
        this.serviceTokens = pulumi.secret(pulumi.all(credentials).apply((entries) => Object.fromEntries(entries)));

        this.registerOutputs({
            hostnames: this.hostnames,
            audTags: this.audTags,
            tokenHostnames: this.tokenHostnames,
            serviceTokens: this.serviceTokens,
            tokenExpiry: this.tokenExpiry,
        });
    }
}
