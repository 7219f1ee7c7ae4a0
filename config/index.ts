// Stack configuration: every key read once, validated together, returned as typed objects.
// Nothing is registered before `loadConfig` resolves, so bad input never leaves half a stack behind.
// The providers' own lists of settings, so a typo in their namespaces is caught without a list kept here.
import * as cloudflareSettings from "@pulumi/cloudflare/config/vars";
import * as pulumi from "@pulumi/pulumi";
import * as tlsSettings from "@pulumi/tls/config/vars";
import * as semver from "semver";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { accessConfig, accessProblems, accessSchema, type AccessConfig } from "./access";
import { FLUX_MANAGED_BY, fluxModeProblems, fluxSettings, type FluxSettings } from "./flux";
import { hubConfig, hubProblems, hubSchema, type HubConfig } from "./hub";
import { platformProblems, type PlatformConfig } from "./platform";
import { rotationSchema, serviceTokenRotationProblems, type RotationConfig } from "./rotation";
import { checkBootstrapSecrets, INVALID_JSON, type BootstrapSecret, type BootstrapSecretConfig } from "./bootstrap-secrets";
import { checkTunnelRoutes, type TunnelRoute } from "./routing";
import {
    branchProblem, carriesCredentials, CREDENTIALS_PROBLEM, durationSeconds, DURATION, holdsAgeSecretKey, isCidr, isDnsLabel, isDnsName,
    isGitHubRepository, isKubernetesName, isR2BucketName, keyName, lowercaseHint, mustNotEcho, normaliseRepoPath, quoted, repoPathProblem,
    repositorySuggestion,
} from "./checks";

export * from "./checks";
export { platformKey, type PlatformConfig, type PlatformReleaseConfig } from "./platform";
export { FLUX_MANAGED_BY, type FluxManagedBy, type FluxSettings, type RepositoryFluxConfig } from "./flux";

export const PROJECT = "cluster-bootstrap";

/** The Flux Operator chart version this program is tested with; `flux.operatorChartVersion` overrides it. */
export const DEFAULT_OPERATOR_CHART_VERSION = "0.60.0";

const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const AGE_IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

// ---------------------------------------------------------------- schema

const str = () => z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") });
const rule = (test: (v: string) => boolean, msg: (v: string) => string) =>
    str().refine(test, { error: (i) => msg(String(i.input)) });
const dnsName = rule(isDnsName, (v) => `${quoted(v)} is not a valid DNS name${lowercaseHint(v, isDnsName)}`);
const duration = rule((v) => DURATION.test(v), (v) => `${quoted(v)} is not a duration such as 30s, 5m or 1h`);
/** A duration within bounds: Flux and the awaits take any Go duration, but 3.6e+24 seconds is a typo, not a wish. */
const boundedDuration = (min: number, max: number, text: string) => duration.refine(
    // A value that is no duration at all has its own message already.
    (v) => !DURATION.test(v) || (durationSeconds(v) >= min && durationSeconds(v) <= max),
    { error: (i) => `${quoted(i.input)} must be ${text}` },
);
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
    repository: rule(isGitHubRepository, (v) => {
        // A pasted clone URL is one mistake: say what to write, once (owner and name are then not checked apart).
        const meant = mustNotEcho(v) ? undefined : repositorySuggestion(v);
        return `${quoted(v)} is not a GitHub repository in the form owner/name${meant ? `: write ${quoted(meant)}` : ""}`;
    }),
    branch: str().superRefine((v, ctx) => {
        const p = branchProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: `${quoted(v)} is not a valid branch name: ${p}` });
    }),
    path: str().superRefine((v, ctx) => {
        const p = repoPathProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: `${quoted(v)} ${p}` });
    }),
    name: rule(isKubernetesName, (v) => `${quoted(v)} is not a valid Kubernetes object name`).optional(),
    interval: boundedDuration(10, 86400, "from 10s to 24h").default("1m"),
    wait: bool().default(true),
    timeout: boundedDuration(1, 86400, "from 1s to 24h").default("10m"),
});

const fluxSchema = obj({
    managedBy: z.enum(FLUX_MANAGED_BY, { error: `must be one of ${FLUX_MANAGED_BY.join(", ")}` }).default("program"),
    // Required with `managedBy: program`, refused with `repository` (config/flux.ts).
    version: rule(
        // One token: semver would also read a multi-line paste or `2.7.x 9` as a range.
        (v) => /^\d[\w.*+-]*$/.test(v) && semver.validRange(v) !== null,
        (v) => `${quoted(v)} is not a Flux version or semver range such as 2.7.x`,
    ).optional(),
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

/** Every key of the project namespace; secrets are read with getSecret and arrive here as plain strings. Exported for the docs check. */
export const schema = obj({
    cluster: clusterSchema,
    // Its shape is checked in validateConfig, where a message can say what is wrong without showing the value.
    kubeconfig: str().min(1, { error: "must not be empty" }).optional(),
    kubeContext: rule(
        (v) => /^[\x21-\x7e]{1,253}$/.test(v),
        (v) => `${quoted(v)} is not a context name (one word of printable characters, as kubectl config get-contexts shows it)`,
    ).optional(),
    renameFrom: rule(isDnsLabel, (v) => `${quoted(v)} is not a cluster name (a DNS label)`).optional(),
    gitops: gitopsSchema,
    flux: fluxSchema,
    tunnel: tunnelSchema,
    r2: r2Schema,
    sops: sopsSchema,
    // The value is never echoed: only its shape is described.
    sopsAgeKey: str(),
    cloudflareAccountId: rule((v) => /^[0-9a-f]{32}$/.test(v), (v) => `${quoted(v)} is not a Cloudflare account id (32 lowercase hex digits)`),
    platform: platformSchema.optional(),
    rotation: rotationSchema,
    access: accessSchema.optional(),
    hub: hubSchema.optional(),
    // Secret as a whole: checked by checkBootstrapSecrets, whose messages never show any of it.
    bootstrapSecrets: z.unknown().optional(),
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

/** `flux` with `managedBy: program`: what the program's own Flux Operator release and FluxInstance install. */
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
    /** Secret; undefined means the ambient KUBECONFIG (with `kubeContext` naming the context). */
    kubeconfig?: pulumi.Output<string>;
    /** Context of this stack's cluster: in `kubeconfig` when set, else in the ambient kubeconfig. */
    kubeContext?: string;
    /** `CLUSTER_NAME` a cluster may carry when this stack takes it over on purpose (a deliberate rename). */
    renameFrom?: string;
    /** Secret `github:token`, else the `GITHUB_TOKEN` the GitHub provider would read; undefined when neither is set. */
    githubToken?: pulumi.Output<string>;
    gitops: GitOpsConfig;
    /** Who runs Flux: the program (`managedBy: program`, with its settings) or the repository itself. */
    flux: FluxSettings;
    tunnel: TunnelConfig;
    r2: R2Config;
    sops: { recipient: string };
    /** Secret age identity, `AGE-SECRET-KEY-1…`. */
    sopsAgeKey: pulumi.Output<string>;
    cloudflareAccountId: string;
    /** App directories of the GitOps repository installed, in order, before Flux; empty when unset. */
    platform: PlatformConfig;
    /** `cluster-bootstrap:rotation`: a changed value replaces that credential, create-before-delete. */
    rotation: RotationConfig;
    /** Cloudflare Access in front of chosen hostnames (config/access.ts). */
    access?: AccessConfig;
    /** The hub this cluster reports to (config/hub.ts). */
    hub?: HubConfig;
    /** Secret zero for the cluster's secret store: Secrets created before Flux first reconciles ([] when unset). */
    bootstrapSecrets: BootstrapSecretConfig[];
}

/** Plain, validated values: what {@link validateConfig} returns before secrets are re-wrapped as Outputs. */
export type PlainConfig = Omit<StackConfig, "kubeconfig" | "sopsAgeKey" | "project" | "stack" | "githubToken" | "bootstrapSecrets"> & {
    kubeconfig?: string;
    sopsAgeKey: string;
    bootstrapSecrets: BootstrapSecret[];
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
    /** Full keys outside the project namespace (`github:owner`, `cloudflare:apiToken`, typos of either). */
    otherKeys?: readonly string[];
    /** Project keys whose value arrived as a secret (`pulumi config set --secret`, also `--path` into an object). */
    secretValueKeys?: readonly string[];
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
        else key += (i === 0 ? "" : ".") + keyName(String(s));
    });
    return key;
}

/** Validates the raw configuration; collects every problem instead of stopping at the first. */
export async function validateConfig(raw: RawConfig): Promise<ValidationResult> {
    const problems: string[] = [];
    const notes: string[] = [];
    const placeholders = raw.placeholders ?? new Set<string>();
    const parsed = schema.safeParse(raw.values);
    // A non-secret setting that arrived as a secret is reported as that, once: its placeholder offline (or its
    // decrypted value for real) is not what the user meant to check.
    const exposed = new Set((raw.secretValueKeys ?? []).filter((k) => !(SECRET_KEYS as readonly string[]).includes(k)));
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            if (exposed.has(String(issue.path[0]))) continue;
            if (issue.code === "unrecognized_keys") {
                for (const k of issue.keys) problems.push(`${fullKey([...issue.path, k])}: is not a known setting`);
            } else {
                problems.push(`${fullKey(issue.path)}: ${issue.message}`);
            }
        }
    }
    const known = Object.keys(schema.shape);
    for (const k of raw.unknownKeys ?? []) {
        if (Object.hasOwn(raw.values, k)) continue; // the schema has reported it
        // `pulumi config set cluster.domain x` without --path stores a key named `cluster.domain`.
        const hint = k.includes(".") && known.includes(k.split(".")[0]) ? " (set a nested value with `pulumi config set --path`)"
            : suggestion(k, known);
        problems.push(`${fullKey([k])}: is not a known setting${hint}`);
    }
    problems.push(...otherKeyProblems(raw.otherKeys ?? []));
    for (const k of raw.secretValueKeys ?? []) {
        if ((SECRET_KEYS as readonly string[]).includes(k) || !known.includes(k)) continue;
        // The CLI hands a decrypted value to the program, which would put it in plain inputs and state.
        problems.push(`${fullKey([k])}: holds a secret value (set with --secret), but it is not a secret setting and would `
            + "land in plain text in resource inputs and state; set it without --secret");
    }
    const v = raw.values as Partial<Record<string, any>>;

    // The stack must name its cluster: the ambient current context may be another stack's cluster.
    if (v.kubeconfig === undefined && v.kubeContext === undefined) {
        problems.push(`${fullKey(["kubeContext"])}: is required unless ${fullKey(["kubeconfig"])} is set: name this stack's cluster `
            + "(the context in your kubeconfig, or the cluster's kubeconfig as a secret), so it never changes whatever context is current");
    }
    if (typeof v.kubeconfig === "string" && v.kubeconfig !== "") {
        if (placeholders.has("kubeconfig")) {
            notes.push(`note: ${fullKey(["kubeconfig"])} is an offline placeholder; its shape was not checked`);
        } else {
            const p = kubeconfigProblem(v.kubeconfig, typeof v.kubeContext === "string" ? v.kubeContext : undefined);
            if (p) problems.push(`${fullKey([p.key])}: ${p.problem}`);
        }
    }
    if (typeof v.renameFrom === "string" && v.renameFrom === v.cluster?.name) {
        problems.push(`${fullKey(["renameFrom"])}: is this stack's own ${fullKey(["cluster", "name"])}; remove it once the rename is done`);
    }

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
    problems.push(...fluxModeProblems(v));

    const repository = typeof v.gitops?.repository === "string" && isGitHubRepository(v.gitops.repository) ? (v.gitops.repository as string) : undefined;
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
    problems.push(...accessProblems(v.access, { domain, originHost, routes: Array.isArray(v.tunnel?.routes) ? (v.tunnel.routes as unknown[]) : [] }));
    problems.push(...hubProblems(v.hub));
    problems.push(...serviceTokenRotationProblems(v.rotation, v.access));

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

    const bootstrap = checkBootstrapSecrets({
        value: v.bootstrapSecrets,
        secret: (raw.secretValueKeys ?? []).includes("bootstrapSecrets"),
        placeholder: placeholders.has("bootstrapSecrets"),
    });
    problems.push(...bootstrap.problems);
    notes.push(...bootstrap.notes);

    if (problems.length > 0 || !parsed.success) return { problems, notes };
    const c = parsed.data;
    return {
        problems,
        notes,
        config: {
            cluster: c.cluster,
            kubeconfig: c.kubeconfig,
            kubeContext: c.kubeContext,
            renameFrom: c.renameFrom,
            gitops: {
                ...c.gitops,
                owner,
                repositoryName: repoName,
                path: normaliseRepoPath(c.gitops.path),
                name: gitopsName!,
                timeoutSeconds: durationSeconds(c.gitops.timeout),
            },
            flux: fluxSettings(c.flux),
            tunnel: { originHost: originHost!, gateway: c.tunnel.gateway, routes: c.tunnel.routes },
            r2: c.r2,
            sops: c.sops,
            sopsAgeKey: placeholders.has("sopsAgeKey") ? c.sopsAgeKey : c.sopsAgeKey.trim(),
            cloudflareAccountId: c.cloudflareAccountId,
            platform: { releases: (c.platform?.releases ?? []).map((r) => ({ path: normaliseRepoPath(r.path), namespace: r.namespace })) },
            rotation: c.rotation,
            access: c.access && accessConfig(c.access),
            hub: c.hub && hubConfig(c.hub, c.cluster.name),
            bootstrapSecrets: bootstrap.secrets ?? [],
        },
    };
}

/** Settings of other namespaces that the program or its providers read; everything else there is a typo or ignored. */
function knownOtherKeys(): Set<string> {
    const known = new Set<string>();
    // The Cloudflare, TLS and random providers are the stack's default providers: they read their whole namespace.
    for (const k of Object.keys(cloudflareSettings)) known.add(`cloudflare:${k}`);
    for (const k of Object.keys(tlsSettings)) known.add(`tls:${k}`);
    // The GitHub provider is explicit: it takes the owner from gitops.repository and the token, nothing else.
    known.add("github:token");
    known.add("github:owner");
    return known;
}

/** Problems with keys outside the project namespace: unknown namespaces, typos, settings the program would ignore. */
export function otherKeyProblems(keys: readonly string[]): string[] {
    const known = knownOtherKeys();
    const candidates = [...known.keys(), ...Object.keys(schema.shape).map((k) => `${PROJECT}:${k}`)];
    const problems: string[] = [];
    for (const full of keys) {
        if (known.has(full) || full.startsWith("pulumi:")) continue;
        const [ns, ...rest] = full.split(":");
        const shown = `${keyName(ns)}:${keyName(rest.join(":"))}`;
        if (ns === "kubernetes") {
            problems.push(`${shown}: is not read: the program's Kubernetes provider takes only ${fullKey(["kubeconfig"])} and ${fullKey(["kubeContext"])}`);
        } else if (ns === "github") {
            problems.push(`${shown}: is not read: the program's GitHub provider takes only github:token and github:owner${suggestion(full, candidates)}`);
        } else {
            problems.push(`${shown}: is not a setting of this program or of its providers${suggestion(full, candidates)}`);
        }
    }
    return problems;
}

/** ` (did you mean x?)` for the closest known name within a few edits, or "". */
function suggestion(name: string, candidates: readonly string[]): string {
    const n = name.toLowerCase();
    let best: { c: string; d: number } | undefined;
    for (const c of candidates) {
        const d = editDistance(n, c.toLowerCase());
        if (d <= Math.max(1, Math.min(3, Math.floor(c.length / 4))) && (!best || d < best.d)) best = { c, d };
    }
    return best && !mustNotEcho(name) ? ` (did you mean ${best.c}?)` : "";
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length];
}

/**
 * What is wrong with a kubeconfig, without showing it: it must parse, name clusters, users and contexts, and have the
 * context this stack uses (`kubeContext`, or its current-context).
 */
export function kubeconfigProblem(text: string, context: string | undefined): { key: string; problem: string } | undefined {
    const shape = "is not a kubeconfig (YAML with clusters, users and contexts, as `talosctl kubeconfig` writes it); the value is not shown";
    let doc: unknown;
    try {
        doc = parseYaml(text);
    } catch {
        return { key: "kubeconfig", problem: shape };
    }
    const d = doc as { clusters?: unknown; contexts?: unknown; users?: unknown; "current-context"?: unknown } | null;
    if (!d || typeof d !== "object" || Array.isArray(d) || !Array.isArray(d.clusters) || d.clusters.length === 0
        || !Array.isArray(d.contexts) || d.contexts.length === 0 || !Array.isArray(d.users)) {
        return { key: "kubeconfig", problem: shape };
    }
    const names = d.contexts.map((c) => (c as { name?: unknown })?.name).filter((n): n is string => typeof n === "string");
    const wanted = context ?? (typeof d["current-context"] === "string" ? d["current-context"] : undefined);
    if (wanted === undefined) {
        return { key: "kubeContext", problem: `is required: ${fullKey(["kubeconfig"])} sets no current-context (its contexts: ${names.map((n) => quoted(n)).join(", ")})` };
    }
    if (!names.includes(wanted)) {
        return context !== undefined
            ? { key: "kubeContext", problem: `${quoted(context)} is not a context of ${fullKey(["kubeconfig"])} (its contexts: ${names.map((n) => quoted(n)).join(", ")})` }
            : { key: "kubeconfig", problem: `its current-context ${quoted(wanted)} is not one of its contexts` };
    }
    return undefined;
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
export const SECRET_KEYS = ["kubeconfig", "sopsAgeKey", "bootstrapSecrets"] as const;
/** Secret keys whose value is a JSON object or list, read with getSecretObject. */
const SECRET_OBJECT_KEYS: ReadonlySet<string> = new Set(["bootstrapSecrets"]);
const OBJECT_KEYS = ["cluster", "gitops", "flux", "tunnel", "r2", "sops", "platform", "rotation", "access", "hub"] as const;
const PLAIN_KEYS = ["cloudflareAccountId", "kubeContext", "renameFrom"] as const;

// Exported by the SDK's runtime but left out of its type definitions: whether the CLI passed a key as a secret.
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret;

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

/**
 * A secret object setting, parsed, or {@link INVALID_JSON}. The SDK's own parse error quotes the whole value, so it is
 * never passed on.
 */
async function secretObject(cfg: pulumi.Config, key: string): Promise<unknown> {
    let o: pulumi.Output<unknown> | undefined;
    try {
        o = cfg.getSecretObject<unknown>(key);
    } catch {
        return INVALID_JSON;
    }
    return o === undefined ? undefined : unwrap(o);
}

/** `github:token` as a secret, else `GITHUB_TOKEN` wrapped as one (the provider SDK would copy it into plain inputs). */
function githubToken(): pulumi.Output<string> | undefined {
    const configured = new pulumi.Config("github").getSecret("token");
    if (configured !== undefined) return configured;
    const env = process.env.GITHUB_TOKEN;
    return env ? pulumi.secret(env) : undefined;
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
        if (SECRET_OBJECT_KEYS.has(k)) {
            values[k] = await secretObject(cfg, k);
            continue;
        }
        const s = cfg.getSecret(k);
        values[k] = s === undefined ? undefined : await unwrap(s);
    }
    // Every key of the namespace, so a typo (`kubeConfig`) is refused instead of silently falling back to a default.
    const read = new Set<string>([...OBJECT_KEYS, ...PLAIN_KEYS, ...SECRET_KEYS]);
    const all = Object.keys(pulumi.runtime.allConfig());
    const own = all.filter((k) => k.startsWith(`${PROJECT}:`)).map((k) => k.slice(PROJECT.length + 1));
    const unknownKeys = own.filter((k) => !read.has(k));
    const otherKeys = all.filter((k) => !k.startsWith(`${PROJECT}:`));
    const secretValueKeys = own.filter((k) => isConfigSecret(`${PROJECT}:${k}`));
    const githubOwner = new pulumi.Config("github").get("owner");
    const result = await validateConfig({ values, githubOwner, placeholders: offlinePlaceholders, unknownKeys, otherKeys, secretValueKeys });
    configNotes.splice(0, configNotes.length, ...result.notes);
    if (!result.config) throw new ConfigError(result.problems);
    const plain = result.config;
    return {
        ...plain,
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        kubeconfig: plain.kubeconfig === undefined ? undefined : pulumi.secret(plain.kubeconfig),
        sopsAgeKey: pulumi.secret(plain.sopsAgeKey),
        githubToken: githubToken(),
        bootstrapSecrets: plain.bootstrapSecrets.map((b) => ({ namespace: b.namespace, name: b.name, data: pulumi.secret(b.data) })),
    };
}

/** The keys {@link loadConfig} reads, by how it reads them: for tools that build {@link RawConfig} the same way. */
export function configKeys(): { object: readonly string[]; plain: readonly string[]; secret: readonly string[]; secretObject: readonly string[] } {
    return { object: OBJECT_KEYS, plain: PLAIN_KEYS, secret: SECRET_KEYS, secretObject: [...SECRET_OBJECT_KEYS] };
}
