// Stack configuration: every key read once, validated together, returned as typed objects.
// Nothing is registered before `loadConfig` resolves, so bad input never leaves half a stack behind.
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import { z } from "zod";
import { platformProblems, type PlatformConfig } from "./platform";
import { checkTunnelRoutes, type TunnelRoute } from "./routing";
import {
    branchProblem, carriesCredentials, CREDENTIALS_PROBLEM, durationSeconds, DURATION, holdsAgeSecretKey, isCidr, isDnsLabel, isDnsName,
    isKubernetesName, isR2BucketName, normaliseRepoPath, quoted, repoPathProblem,
} from "./checks";

export * from "./checks";
export { platformKey, type PlatformConfig, type PlatformReleaseConfig } from "./platform";

export const PROJECT = "cluster-bootstrap";

/** The Flux Operator chart version this program is tested with; `flux.operatorChartVersion` overrides it. */
export const DEFAULT_OPERATOR_CHART_VERSION = "0.60.0";

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const AGE_IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

// ---------------------------------------------------------------- schema

const str = () => z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") });
const rule = (test: (v: string) => boolean, msg: (v: string) => string) =>
    str().refine(test, { error: (i) => msg(String(i.input)) });
const dnsName = rule(isDnsName, (v) => `${quoted(v)} is not a valid DNS name`);
const duration = rule((v) => DURATION.test(v), (v) => `${quoted(v)} is not a duration such as 30s, 5m or 1h`);
const bool = () => z.boolean({ error: "must be true or false" });
const obj = <T extends z.core.$ZodLooseShape>(shape: T) =>
    z.strictObject(shape, { error: (i) => (i.input === undefined ? "is required" : "must be a mapping of settings") });

const clusterSchema = obj({
    name: rule(isDnsLabel, (v) => `${quoted(v)} is not a DNS label (lowercase letters, digits, hyphens, 63 at most)`),
    id: z.number({ error: (i) => (i.input === undefined ? "is required" : "must be an integer from 1 to 255") })
        .int({ error: "must be an integer from 1 to 255" })
        .min(1, { error: "must be an integer from 1 to 255" })
        .max(255, { error: "must be an integer from 1 to 255" }),
    domain: dnsName,
    cidr: rule(isCidr, (v) => `${quoted(v)} is not a network in CIDR notation such as 10.42.0.0/16`).optional(),
});

const gitopsSchema = obj({
    repository: rule(
        (v) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/.test(v) && !/\/\.{1,2}$/.test(v) && !v.endsWith(".git"),
        (v) => `${quoted(v)} is not a GitHub repository in the form owner/name`,
    ),
    branch: str().superRefine((v, ctx) => {
        const p = branchProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: `${quoted(v)} is not a valid branch name: ${p}` });
    }),
    path: str().superRefine((v, ctx) => {
        const p = repoPathProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: `${quoted(v)} ${p}` });
    }),
    name: rule(isKubernetesName, (v) => `${quoted(v)} is not a valid Kubernetes object name`).optional(),
    interval: duration.default("1m"),
    wait: bool().default(true),
    timeout: duration.default("10m"),
});

const fluxSchema = obj({
    version: rule(
        (v) => semver.validRange(v) !== null && /^\d/.test(v),
        (v) => `${quoted(v)} is not a Flux version or semver range such as 2.7.x`,
    ),
    imageAutomation: bool().default(false),
    operatorChartVersion: rule(
        (v) => semver.valid(v) !== null,
        (v) => `${quoted(v)} is not an exact chart version such as ${DEFAULT_OPERATOR_CHART_VERSION}`,
    ).default(DEFAULT_OPERATOR_CHART_VERSION),
});

const routeSchema = obj({
    hostname: str().optional(),
    service: str(),
    path: str().optional(),
    originServerName: str().optional(),
});

const tunnelSchema = obj({
    originHost: dnsName.optional(),
    gateway: rule(isServiceUrl, (v) => (carriesCredentials(v)
        ? CREDENTIALS_PROBLEM
        : `${quoted(v)} is not a service URL such as https://envoy-external.networking.svc.cluster.local`)),
    routes: z.array(routeSchema, { error: "must be a list of routes" }).default([]),
});

export const R2_LOCATIONS = ["apac", "eeur", "enam", "weur", "wnam", "oc"] as const;
export const R2_JURISDICTIONS = ["default", "eu", "fedramp"] as const;

const bucketSchema = obj({
    name: rule(isR2BucketName, (v) => `${quoted(v)} is not a valid R2 bucket name (3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit)`),
    purpose: rule(
        (v) => /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/.test(v),
        (v) => `${quoted(v)} must be lowercase letters and digits, words joined by - or _ (it becomes R2_BUCKET_<PURPOSE>)`,
    ),
    expireDays: z.number({ error: "must be a whole number of days from 1 to 36500" })
        .int({ error: "must be a whole number of days from 1 to 36500" })
        .min(1, { error: "must be a whole number of days from 1 to 36500" })
        .max(36500, { error: "must be a whole number of days from 1 to 36500" })
        .optional(),
});

const r2Schema = obj({
    location: z.enum(R2_LOCATIONS, { error: `must be one of ${R2_LOCATIONS.join(", ")}` }).optional(),
    jurisdiction: z.enum(R2_JURISDICTIONS, { error: `must be one of ${R2_JURISDICTIONS.join(", ")}` }).default("default"),
    buckets: z.array(bucketSchema, { error: "must be a list of buckets" }).min(1, { error: "must name at least one bucket" }),
});

const sopsSchema = obj({
    recipient: rule((v) => AGE_RECIPIENT.test(v), (v) => (holdsAgeSecretKey(v)
        ? "is an age secret key, not a recipient; the value is not shown"
        : `${quoted(v)} is not an age recipient (age1…)`)),
});

const platformSchema = obj({
    releases: z.array(obj({
        path: str().superRefine((v, ctx) => {
            const p = /[\r\n]/.test(v) ? "must be a single line" : repoPathProblem(v);
            if (p) ctx.addIssue({ code: "custom", message: `${quoted(v)} ${p}` });
        }),
        namespace: rule(isDnsLabel, (v) => `${quoted(v)} is not a Kubernetes namespace name (a DNS label)`),
    }), { error: (i) => (i.input === undefined ? "is required" : "must be a list of releases") }),
});

/** Every key of the project namespace; secrets are read with getSecret and arrive here as plain strings. */
const schema = obj({
    cluster: clusterSchema,
    kubeconfig: str().min(1, { error: "must not be empty" }).optional(),
    gitops: gitopsSchema,
    flux: fluxSchema,
    tunnel: tunnelSchema,
    r2: r2Schema,
    sops: sopsSchema,
    // The value is never echoed: only its shape is described.
    sopsAgeKey: str(),
    cloudflareAccountId: rule((v) => /^[0-9a-f]{32}$/.test(v), (v) => `${quoted(v)} is not a Cloudflare account id (32 lowercase hex digits)`),
    platform: platformSchema.optional(),
});

/** `http(s)://host[:port]` with a dotted Kubernetes name for host, nothing more. */
function isServiceUrl(v: string): boolean {
    // The raw text is checked too: URL lets `http:host`, userinfo, an empty port and port 0 through, and adds a `/`.
    const m = /^https?:\/\/([^/?#@:]+)(:[1-9][0-9]*)?$/.exec(v);
    if (!m) return false;
    let u: URL;
    try {
        u = new URL(v);
    } catch {
        return false; // e.g. a port above 65535
    }
    return isKubernetesName(u.hostname) && u.hostname.includes(".");
}

// ---------------------------------------------------------------- typed result

export interface ClusterConfig {
    /** DNS label; names the tunnel, the deploy key and the Kubernetes provider's cluster identity. */
    name: string;
    /** Cilium cluster id, 1..255. */
    id: number;
    /** DNS zone on Cloudflare that the tunnel's hostnames live in. */
    domain: string;
    cidr?: string;
}

export interface GitOpsConfig {
    /** `owner/name` of the GitHub repository Flux reads. */
    repository: string;
    owner: string;
    repositoryName: string;
    branch: string;
    /** Normalised path inside the repository, without a leading `./`. */
    path: string;
    /** Name of the GitRepository and root Kustomization. */
    name: string;
    interval: string;
    /** Whether `pulumi up` waits for the GitRepository and root Kustomization to become Ready. */
    wait: boolean;
    timeout: string;
    timeoutSeconds: number;
}

export interface FluxConfig {
    version: string;
    imageAutomation: boolean;
    operatorChartVersion: string;
}

export interface TunnelConfig {
    originHost: string;
    gateway: string;
    routes: TunnelRoute[];
}

export interface BucketConfig {
    name: string;
    purpose: string;
    expireDays?: number;
}

export interface R2Config {
    location?: (typeof R2_LOCATIONS)[number];
    jurisdiction: (typeof R2_JURISDICTIONS)[number];
    buckets: BucketConfig[];
}

export interface StackConfig {
    project: string;
    stack: string;
    cluster: ClusterConfig;
    /** Secret; undefined means the ambient KUBECONFIG. */
    kubeconfig?: pulumi.Output<string>;
    gitops: GitOpsConfig;
    flux: FluxConfig;
    tunnel: TunnelConfig;
    r2: R2Config;
    sops: { recipient: string };
    /** Secret age identity, `AGE-SECRET-KEY-1…`. */
    sopsAgeKey: pulumi.Output<string>;
    cloudflareAccountId: string;
    /** App directories of the GitOps repository installed, in order, before Flux; empty when unset. */
    platform: PlatformConfig;
}

/** Plain, validated values: what {@link validateConfig} returns before secrets are re-wrapped as Outputs. */
export type PlainConfig = Omit<StackConfig, "kubeconfig" | "sopsAgeKey" | "project" | "stack"> & {
    kubeconfig?: string;
    sopsAgeKey: string;
};

/** Input to {@link validateConfig}: the project namespace's raw values plus the provider keys it cross-checks. */
export interface RawConfig {
    /** Values of the `cluster-bootstrap` namespace, objects already parsed from their JSON form. */
    values: Record<string, unknown>;
    /** `github:owner`, when the stack sets it. */
    githubOwner?: string;
    /** Secret keys that hold offline placeholders: checks that need the real secret are skipped for them. */
    placeholders?: ReadonlySet<string>;
    /** Names of project keys the stack sets that the program does not read; names only, so no value is echoed. */
    unknownKeys?: readonly string[];
}

export interface ValidationResult {
    config?: PlainConfig;
    /** Every problem found, each `<full key>: <rule>`. */
    problems: string[];
    /** Checks skipped because a secret was an offline placeholder. */
    notes: string[];
}

/** Thrown when the stack configuration is invalid; the message lists every problem. */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: string[]) {
        super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
            problems.map((p) => `  ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

export function fullKey(segments: ReadonlyArray<PropertyKey>): string {
    let key = `${PROJECT}:`;
    segments.forEach((s, i) => {
        if (typeof s === "number") key += `[${s}]`;
        else key += (i === 0 ? "" : ".") + String(s);
    });
    return key;
}

/** Validates the raw configuration; collects every problem instead of stopping at the first. */
export async function validateConfig(raw: RawConfig): Promise<ValidationResult> {
    const problems: string[] = [];
    const notes: string[] = [];
    const placeholders = raw.placeholders ?? new Set<string>();
    const parsed = schema.safeParse(raw.values);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            if (issue.code === "unrecognized_keys") {
                for (const k of issue.keys) problems.push(`${fullKey([...issue.path, k])}: is not a known setting`);
            } else {
                problems.push(`${fullKey(issue.path)}: ${issue.message}`);
            }
        }
    }
    const known = Object.keys(schema.shape);
    for (const k of raw.unknownKeys ?? []) {
        if (k in raw.values) continue; // the schema has reported it
        // `pulumi config set cluster.domain x` without --path stores a key named `cluster.domain`.
        const hint = k.includes(".") && known.includes(k.split(".")[0]) ? " (set a nested value with `pulumi config set --path`)" : "";
        problems.push(`${fullKey([k])}: is not a known setting${hint}`);
    }
    const v = raw.values as Partial<Record<string, any>>;

    // Cross-key rules run on whatever parsed, so a second problem is never hidden by a first.
    const buckets: unknown[] = Array.isArray(v.r2?.buckets) ? v.r2.buckets : [];
    for (const field of ["name", "purpose"] as const) {
        const seen = new Map<string, number>();
        const norm = (s: string) => (field === "purpose" ? purposeVariable(s) : s);
        buckets.forEach((b, i) => {
            const value = (b as Record<string, unknown> | null)?.[field];
            if (typeof value !== "string") return;
            const first = seen.get(norm(value));
            if (first !== undefined) {
                problems.push(`${fullKey(["r2", "buckets", i, field])}: ${quoted(value)} repeats ${fullKey(["r2", "buckets", first, field])}`);
            } else seen.set(norm(value), i);
        });
    }
    // restic (VolSync) and Barman (CloudNativePG) prune by their own retention; objects deleted by age break the
    // snapshots and WAL chains that still point at them.
    const selfPruning: Record<string, string> = { volsync: "restic", cnpg: "Barman" };
    buckets.forEach((b, i) => {
        const { purpose, expireDays } = (b ?? {}) as Record<string, unknown>;
        const tool = typeof purpose === "string" ? selfPruning[purpose.split(/[-_]/)[0]] : undefined;
        if (tool && expireDays !== undefined) {
            problems.push(`${fullKey(["r2", "buckets", i, "expireDays"])}: must not be set on a ${purpose} bucket: ${tool} prunes its own backups, and deleting objects by age corrupts them`);
        }
    });

    problems.push(...platformProblems(v.platform));

    const repository = typeof v.gitops?.repository === "string" ? (v.gitops.repository as string) : undefined;
    const [owner, repoName] = repository?.split("/") ?? [];
    if (raw.githubOwner !== undefined && owner !== undefined && raw.githubOwner.toLowerCase() !== owner.toLowerCase()) {
        problems.push(`github:owner: ${quoted(raw.githubOwner)} must be the owner of ${fullKey(["gitops", "repository"])} (${quoted(owner)})`);
    }
    let gitopsName = v.gitops?.name as string | undefined;
    if (gitopsName === undefined && repoName !== undefined) {
        gitopsName = repoName.toLowerCase();
        if (!isKubernetesName(gitopsName)) {
            problems.push(`${fullKey(["gitops", "name"])}: is required because the repository name ${quoted(repoName)} is not a valid Kubernetes object name`);
        }
    }

    // An invalid domain or origin host is the schema's to report; the route checks that need it are skipped, the rest run.
    const domain = typeof v.cluster?.domain === "string" && isDnsName(v.cluster.domain) ? (v.cluster.domain as string) : undefined;
    const givenOrigin: unknown = v.tunnel?.originHost;
    const originHost = givenOrigin === undefined ? (domain ? `external.${domain}` : undefined)
        : typeof givenOrigin === "string" && isDnsName(givenOrigin) ? givenOrigin : undefined;
    problems.push(...checkTunnelRoutes({ domain, originHost, routes: Array.isArray(v.tunnel?.routes) ? (v.tunnel.routes as unknown[]) : [] }));

    const key = typeof v.sopsAgeKey === "string" ? (v.sopsAgeKey as string) : undefined;
    if (key !== undefined && placeholders.has("sopsAgeKey")) {
        notes.push(`note: ${fullKey(["sopsAgeKey"])} is an offline placeholder; its check against ${fullKey(["sops", "recipient"])} was skipped`);
    } else if (key !== undefined) {
        if (!AGE_IDENTITY.test(key.trim())) {
            problems.push(`${fullKey(["sopsAgeKey"])}: is not an age identity (AGE-SECRET-KEY-1 followed by 58 characters); the value is not shown`);
        } else {
            const derived = await ageRecipient(key.trim());
            const expected = v.sops?.recipient;
            if ("problem" in derived) {
                problems.push(`${fullKey(["sopsAgeKey"])}: is not a valid age identity (${derived.problem}); the value is not shown`);
            } else if (typeof expected === "string" && AGE_RECIPIENT.test(expected) && derived.recipient !== expected) {
                problems.push(`${fullKey(["sopsAgeKey"])}: derives to ${derived.recipient}, not to ${fullKey(["sops", "recipient"])} ${quoted(expected)}`);
            }
        }
    }

    if (problems.length > 0 || !parsed.success) return { problems, notes };
    const c = parsed.data;
    return {
        problems,
        notes,
        config: {
            cluster: c.cluster,
            kubeconfig: c.kubeconfig,
            gitops: {
                ...c.gitops,
                owner,
                repositoryName: repoName,
                path: normaliseRepoPath(c.gitops.path),
                name: gitopsName!,
                timeoutSeconds: durationSeconds(c.gitops.timeout),
            },
            flux: c.flux,
            tunnel: { originHost: originHost!, gateway: c.tunnel.gateway, routes: c.tunnel.routes },
            r2: c.r2,
            sops: c.sops,
            sopsAgeKey: placeholders.has("sopsAgeKey") ? c.sopsAgeKey : c.sopsAgeKey.trim(),
            cloudflareAccountId: c.cloudflareAccountId,
            platform: { releases: (c.platform?.releases ?? []).map((r) => ({ path: normaliseRepoPath(r.path), namespace: r.namespace })) },
        },
    };
}

/** `volsync` → `R2_BUCKET_VOLSYNC`, `cnpg-main` → `R2_BUCKET_CNPG_MAIN`. */
export function purposeVariable(purpose: string): string {
    return `R2_BUCKET_${purpose.toUpperCase().replace(/-/g, "_")}`;
}

/** The recipient of an age identity, or why it has none. */
async function ageRecipient(identity: string): Promise<{ recipient: string } | { problem: string }> {
    // ESM-only package: a dynamic import works from CommonJS on every supported Node.
    const age = await import("age-encryption");
    try {
        return { recipient: await age.identityToRecipient(identity) };
    } catch (e) {
        // Its messages quote the whole key: only the kind of failure is passed on.
        return { problem: /checksum/i.test(e instanceof Error ? e.message : "") ? "its checksum does not match" : "it does not decode" };
    }
}

// ---------------------------------------------------------------- reading Pulumi config

/** Keys holding secrets; they are read with getSecret even when the stack file has them in plain text. */
export const SECRET_KEYS = ["kubeconfig", "sopsAgeKey"] as const;
const OBJECT_KEYS = ["cluster", "gitops", "flux", "tunnel", "r2", "sops", "platform"] as const;
const PLAIN_KEYS = ["cloudflareAccountId"] as const;

/**
 * Offline plan support: the plan script marks which secret keys hold placeholders, so the one check that
 * needs a real secret (the age key's recipient) is skipped with a note instead of failing. Empty under the CLI.
 */
export const offlinePlaceholders = new Set<string>();
/** Notes from the last {@link loadConfig}; the offline plan prints them on stderr. */
export const configNotes: string[] = [];

function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => { resolve(v); return v; }));
}

/** Reads and validates the whole stack configuration; throws {@link ConfigError} listing every problem. */
export async function loadConfig(): Promise<StackConfig> {
    const cfg = new pulumi.Config(PROJECT);
    const values: Record<string, unknown> = {};
    for (const k of OBJECT_KEYS) {
        try {
            values[k] = cfg.getObject<unknown>(k);
        } catch {
            values[k] = Symbol.for("invalid-json");
        }
    }
    for (const k of PLAIN_KEYS) values[k] = cfg.get(k);
    for (const k of SECRET_KEYS) {
        const s = cfg.getSecret(k);
        values[k] = s === undefined ? undefined : await unwrap(s);
    }
    // Every key of the namespace, so a typo (`kubeConfig`) is refused instead of silently falling back to a default.
    const read = new Set<string>([...OBJECT_KEYS, ...PLAIN_KEYS, ...SECRET_KEYS]);
    const unknownKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(`${PROJECT}:`))
        .map((k) => k.slice(PROJECT.length + 1))
        .filter((k) => !read.has(k));
    const githubOwner = new pulumi.Config("github").get("owner");
    const result = await validateConfig({ values, githubOwner, placeholders: offlinePlaceholders, unknownKeys });
    configNotes.splice(0, configNotes.length, ...result.notes);
    if (!result.config) throw new ConfigError(result.problems);
    const plain = result.config;
    return {
        ...plain,
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        kubeconfig: plain.kubeconfig === undefined ? undefined : pulumi.secret(plain.kubeconfig),
        sopsAgeKey: pulumi.secret(plain.sopsAgeKey),
    };
}
