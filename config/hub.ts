// Hub and spoke: a spoke cluster (apps) sends metrics and logs to its hub (infra) through the hub's tunnel, past Access
// with a service token the hub's stack issues. The `hub` key's schema, its typed form, the names both stacks share and
// the checks against what the hub's stack exports. Pure functions, no Pulumi.
import { dnsNameMessage, isDnsName, isRecord, quoted } from "./checks";
import { isServiceTokenName } from "./access";
import { lineRule, list, obj, rule } from "./schema-parts";
import type { z } from "zod";

const KEY = "cluster-bootstrap:hub";

/** Stack output of the hub: the hostnames each of its service tokens opens, `{ <token>: [hostname…] }`. Plain. */
export const HUB_HOSTNAMES_OUTPUT = "hubHostnames";
/** Stack output of the hub: `{ <token>: { clientId, clientSecret } }`. Secret. */
export const SERVICE_TOKENS_OUTPUT = "accessServiceTokens";

// A stack as a StackReference names it: stack, organization/stack or organization/project/stack (pulumi's
// ParseStackReference, in the cloud backend and the self-managed one alike; the latter's organization is `organization`).
const STACK_PART = /^[A-Za-z0-9_.-]{1,100}$/;

export function isStackName(v: string): boolean {
    const parts = v.split("/");
    return parts.length <= 3 && parts.every((p) => STACK_PART.test(p) && p !== "." && p !== "..");
}

export const hubSchema = obj({
    stack: lineRule(isStackName, (v) => `${quoted(v)} is not a stack name (stack, organization/stack or organization/project/stack)`),
    hostnames: list(lineRule(isDnsName, (v) => (v.startsWith("*.")
        ? `${quoted(v)} is a wildcard: list each hub hostname this cluster sends to`
        : dnsNameMessage(v))), "hostnames").min(1, { error: "must name at least one hostname" }),
    serviceToken: rule(isServiceTokenName, (v) => `${quoted(v)} is not a service token name (lowercase letters, digits and hyphens)`).optional(),
});

export interface HubConfig {
    /** The hub's stack, as a StackReference names it. */
    stack: string;
    /** Hub hostnames this cluster sends to; each becomes `HUB_<NAME>_URL`. */
    hostnames: string[];
    /** The hub's service token this cluster uses: `serviceToken`, else `<cluster name>-to-hub`. */
    serviceToken: string;
}

/** The token a spoke uses unless it names one: `apps-to-hub` for the cluster `apps`. */
export function hubServiceTokenName(clusterName: string, serviceToken?: string): string {
    return serviceToken ?? `${clusterName}-to-hub`;
}

/** `metrics.example.com` → `HUB_METRICS_URL`, `vm-insert.example.com` → `HUB_VM_INSERT_URL`. */
export function hubUrlVariable(hostname: string): string {
    return `HUB_${hostname.split(".")[0].toUpperCase().replace(/-/g, "_")}_URL`;
}

export function hubConfig(parsed: z.output<typeof hubSchema>, clusterName: string): HubConfig {
    return { stack: parsed.stack, hostnames: parsed.hostnames, serviceToken: hubServiceTokenName(clusterName, parsed.serviceToken) };
}


/** This stack as a StackReference resolves names: the missing parts of `hub.stack` are taken from it. */
export interface OwnStack {
    /** Undefined when the CLI did not say (then only a bare stack name is judged). */
    organization?: string;
    project: string;
    stack: string;
}

/** Whether `name` (valid per {@link isStackName}) resolves to `self`: `stack`, `org/stack` or `org/project/stack`. */
export function namesOwnStack(name: string, self: OwnStack): boolean {
    const parts = name.split("/");
    if (parts.length > 1 && self.organization === undefined) return false;
    const [organization, project, stack] = parts.length === 3 ? parts
        : parts.length === 2 ? [parts[0], self.project, parts[1]] : [self.organization, self.project, parts[0]];
    return organization === self.organization && project === self.project && stack === self.stack;
}

/**
 * Problems of `hub` across its entries: this stack itself as its hub (its own outputs would be read as the hub's), a
 * hostname twice, two hostnames that give one variable.
 */
export function hubProblems(raw: unknown, self?: OwnStack): string[] {
    if (!isRecord(raw)) return [];
    const problems: string[] = [];
    if (self && typeof raw.stack === "string" && isStackName(raw.stack) && namesOwnStack(raw.stack, self)) {
        problems.push(`${KEY}.stack: ${quoted(raw.stack)} is this stack itself: name the hub's stack (the one whose `
            + "cluster-bootstrap:access.serviceTokens issues this cluster's token), or remove cluster-bootstrap:hub on the hub");
    }
    const hostnames = Array.isArray(raw.hostnames) ? raw.hostnames : [];
    const byVariable = new Map<string, number>();
    hostnames.forEach((h, i) => {
        if (typeof h !== "string" || !isDnsName(h)) return;
        const variable = hubUrlVariable(h);
        const first = byVariable.get(variable);
        if (first === undefined) {
            byVariable.set(variable, i);
        } else {
            problems.push(hostnames[first] === h
                ? `${KEY}.hostnames[${i}]: ${quoted(h)} repeats ${KEY}.hostnames[${first}]`
                : `${KEY}.hostnames[${i}]: ${quoted(h)} gives ${variable} like ${KEY}.hostnames[${first}] (${quoted(hostnames[first])}): `
                    + "the first labels must differ");
        }
    });
    return problems;
}

/** What the hub's stack exports, as a StackReference reads it; values the stack does not export are undefined. */
export interface HubExports {
    /** `hubHostnames`, whether or not the hub marked it secret. */
    hubHostnames: unknown;
    /** Whether `hubHostnames` was secret: then its values are not echoed. */
    hubHostnamesSecret: boolean;
    /** The token names in `accessServiceTokens` (never their values). */
    tokenNames?: string[];
}

/**
 * Problems of a spoke's `hub` against what the hub's stack exports: the hub must issue the spoke's token and open
 * every hostname the spoke sends to with it. Run the hub's stack first, with the token in its `access.serviceTokens`.
 */
export function hubLinkProblems(hub: HubConfig, found: HubExports): string[] {
    const stack = quoted(hub.stack);
    const token = quoted(hub.serviceToken);
    if (!isRecord(found.hubHostnames) || found.tokenNames === undefined) {
        return [`${KEY}.stack: stack ${stack} exports no ${HUB_HOSTNAMES_OUTPUT} and ${SERVICE_TOKENS_OUTPUT}: set its `
            + `cluster-bootstrap:access.serviceTokens to include ${token} and run it before this stack`];
    }
    const opened = found.hubHostnames[hub.serviceToken];
    if (!Array.isArray(opened) || !found.tokenNames.includes(hub.serviceToken)) {
        const issued = found.tokenNames.length > 0 ? found.tokenNames.map((n) => quoted(n)).join(", ") : "none";
        return [`${KEY}.serviceToken: stack ${stack} issues no service token ${token} (its tokens: ${issued}); add it to that `
            + "stack's cluster-bootstrap:access.serviceTokens and run it first, or name one of its tokens here"];
    }
    const problems: string[] = [];
    hub.hostnames.forEach((h, i) => {
        if (opened.includes(h)) return;
        const shown = found.hubHostnamesSecret ? "" : ` (it opens ${opened.map((o) => quoted(o)).join(", ")})`;
        problems.push(`${KEY}.hostnames[${i}]: ${quoted(h)} is not a hostname stack ${stack} opens to service token ${token}${shown}`);
    });
    return problems;
}
