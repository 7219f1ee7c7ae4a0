// Cloudflare Access in front of chosen hostnames of the tunnel: the `access` key's schema, its typed form and the
// checks that need other keys (the zone and the tunnel's routes). Pure functions, no Pulumi.
import { z } from "zod";
import { dnsNameMessage, isDnsLabel, isDnsName, isRecord, quoted } from "./checks";
import { fluxWebhookHostname, routesHostname, type RouteCheckInput } from "./routing";
import { lineRule, list, obj, rule } from "./schema-parts";

const KEY = "cluster-bootstrap:access";

/** Name of the reusable allow policy: the cluster's, so the account's list shows whose it is (and `adopt` finds it). */
export function allowPolicyName(clusterName: string): string {
    return `${clusterName}: allow`;
}

/** Name of the service-auth policy of one service token. */
export function serviceTokenPolicyName(clusterName: string, token: string): string {
    return `${clusterName}: service token ${token}`;
}

/** A service token's name: lowercase words joined by hyphens. It names the token, its resources and its output entry. */
export function isServiceTokenName(v: string): boolean {
    return /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/.test(v);
}

// GitHub's rules for an organization login: letters, digits and single hyphens inside, 39 characters at most.
const GITHUB_ORGANIZATION = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
// Zero Trust identity providers are identified by a UUID.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// One address, no display name, no wildcard: Access matches the address the identity provider reports.
const EMAIL = /^[A-Za-z0-9.!#$%&'+/=?^_`{|}~-]+@([^@\s*]+)$/;

function isEmail(v: string): boolean {
    const m = EMAIL.exec(v);
    return m !== null && isDnsName(m[1].toLowerCase());
}

const protectedHost = lineRule(isDnsName, (v) => (v.startsWith("*.")
    ? `${quoted(v)} is a wildcard: list each hostname to protect (cloudflared checks Access per hostname)`
    : dnsNameMessage(v)));

const tokenName = rule(isServiceTokenName, (v) => `${quoted(v)} is not a service token name (lowercase letters, digits and hyphens)`);

const serviceTokenSchema = z.preprocess(
    // A bare name is a token that opens every protected hostname.
    (v) => (typeof v === "string" ? { name: v } : v),
    obj({
        name: tokenName,
        hostnames: list(protectedHost, "hostnames").min(1, { error: "must name at least one hostname (leave it out for all of them)" }).optional(),
    }),
);

export const accessSchema = obj({
    teamName: lineRule(isDnsLabel, (v) => `${quoted(v)} is not a Zero Trust team name (the <team> of <team>.cloudflareaccess.com)`),
    allow: obj({
        emails: list(lineRule(isEmail, (v) => `${quoted(v)} is not an email address`), "email addresses").default([]),
        emailDomains: list(lineRule(isDnsName, (v) => (v.startsWith("@")
            ? `${quoted(v)}: give the domain without the @`
            : `${quoted(v)} is not an email domain such as example.com`)), "email domains").default([]),
        githubOrganization: obj({
            name: rule((v) => GITHUB_ORGANIZATION.test(v), (v) => `${quoted(v)} is not a GitHub organization name`),
            // Access matches organizations through one GitHub login method: the API requires its id with the name.
            identityProviderId: rule((v) => UUID.test(v), (v) => `${quoted(v)} is not the id of a Zero Trust identity provider `
                + "(a lowercase UUID: Zero Trust > Settings > Authentication > the GitHub login method)"),
        }).optional(),
    }),
    hostnames: list(protectedHost, "hostnames").min(1, { error: "must name at least one hostname" }),
    serviceTokens: list(serviceTokenSchema, "service tokens").default([]),
});

/** Who may pass the allow policy; Access lets in anyone who matches one entry. */
export interface AllowConfig {
    emails: string[];
    emailDomains: string[];
    /** Members of a GitHub organization, as the GitHub login method identified by `identityProviderId` reports them. */
    githubOrganization?: { name: string; identityProviderId: string };
}

export interface ServiceTokenConfig {
    name: string;
    /** The protected hostnames the token opens: its own list, else every one. */
    hostnames: string[];
}

export interface AccessConfig {
    teamName: string;
    allow: AllowConfig;
    /** One self-hosted Access application each, checked again by cloudflared on every tunnel rule that takes it. */
    hostnames: string[];
    serviceTokens: ServiceTokenConfig[];
}

/** The typed form of a valid `access` value: each service token with the hostnames it opens. */
export function accessConfig(parsed: z.output<typeof accessSchema>): AccessConfig {
    return {
        teamName: parsed.teamName,
        allow: parsed.allow,
        hostnames: parsed.hostnames,
        serviceTokens: parsed.serviceTokens.map((t) => ({ name: t.name, hostnames: t.hostnames ?? parsed.hostnames })),
    };
}

const strings = (v: unknown): Array<string | undefined> => (Array.isArray(v) ? v.map((x) => (typeof x === "string" ? x : undefined)) : []);

/** `<key>[j]: "x" repeats <key>[i]` for each valid value given twice (compared by `norm`); invalid ones are the schema's. */
function repeats(values: Array<string | undefined>, key: string, valid: (v: string) => boolean, norm: (v: string) => string = (v) => v): string[] {
    const seen = new Map<string, number>();
    const problems: string[] = [];
    values.forEach((v, i) => {
        if (v === undefined || !valid(v)) return;
        const first = seen.get(norm(v));
        if (first !== undefined) problems.push(`${key}[${i}]: ${quoted(v)} repeats ${key}[${first}]`);
        else seen.set(norm(v), i);
    });
    return problems;
}

/**
 * Problems of `access` that need other keys or more than one entry: each hostname in the zone, routed by the tunnel
 * and never the Flux webhook host; someone allowed; no entry twice; service tokens only on protected hostnames. Values
 * the schema refuses are skipped here, so one mistake gives one message.
 */
export function accessProblems(raw: unknown, routing: RouteCheckInput): string[] {
    if (!isRecord(raw)) return [];
    const problems: string[] = [];
    const hostnames = strings(raw.hostnames);
    problems.push(...repeats(hostnames, `${KEY}.hostnames`, isDnsName));
    const { domain } = routing;
    hostnames.forEach((h, i) => {
        if (h === undefined || !isDnsName(h) || domain === undefined) return;
        const key = `${KEY}.hostnames[${i}]`;
        if (h === fluxWebhookHostname(domain)) {
            problems.push(`${key}: ${quoted(h)} is the Flux webhook host, which is never behind Access: GitHub cannot log in to `
                + "Access, and the Receiver's token already guards it");
        } else if (h !== domain && !h.endsWith(`.${domain}`)) {
            problems.push(`${key}: ${quoted(h)} is outside the zone ${domain}`);
        } else if (!routesHostname(routing, h)) {
            problems.push(`${key}: ${quoted(h)} is not routed by the tunnel (the zone wildcard *.${domain} never takes ${domain} itself); `
                + "add a cluster-bootstrap:tunnel.routes entry for it");
        }
    });

    if (isRecord(raw.allow)) {
        const { emails, emailDomains, githubOrganization } = raw.allow;
        const empty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);
        if (empty(emails) && empty(emailDomains) && githubOrganization === undefined) {
            problems.push(`${KEY}.allow: must let someone in: set emails, emailDomains or githubOrganization`);
        }
        // Access compares addresses and domains without regard to case.
        problems.push(...repeats(strings(emails), `${KEY}.allow.emails`, isEmail, (v) => v.toLowerCase()));
        problems.push(...repeats(strings(emailDomains), `${KEY}.allow.emailDomains`, isDnsName));
    }

    const tokens = Array.isArray(raw.serviceTokens) ? raw.serviceTokens : [];
    const tokenNames = tokens.map((t) => (typeof t === "string" ? t : isRecord(t) && typeof t.name === "string" ? t.name : undefined));
    tokens.forEach((t, i) => {
        // A repeated name would register two tokens under one name and one output entry.
        const first = tokenNames.indexOf(tokenNames[i]);
        if (tokenNames[i] !== undefined && first < i) {
            problems.push(`${KEY}.serviceTokens[${i}]: ${quoted(tokenNames[i])} repeats ${KEY}.serviceTokens[${first}]`);
        }
        if (!isRecord(t) || t.hostnames === undefined) return;
        const own = strings(t.hostnames);
        const key = `${KEY}.serviceTokens[${i}].hostnames`;
        problems.push(...repeats(own, key, isDnsName));
        own.forEach((h, j) => {
            if (h !== undefined && isDnsName(h) && !hostnames.includes(h)) {
                problems.push(`${key}[${j}]: ${quoted(h)} is not one of ${KEY}.hostnames: a token opens only protected hostnames`);
            }
        });
    });
    return problems;
}
