// Validation of the whole stack configuration: the schema, then every rule across keys, each area's in its own file.
// Every problem is collected (a second is never hidden by a first), each naming its full key; nothing is registered
// before this has passed.
import * as pulumi from "@pulumi/pulumi";
import { accessConfig, accessProblems, type AccessConfig } from "./access";
import { checkBootstrapSecrets, type BootstrapSecret } from "./bootstrap-secrets";
import { durationSeconds, isDnsName, isGitHubRepository, isKubernetesName, normaliseRepoPath, quoted } from "./checks";
import { fluxModeProblems, fluxSettings, type FluxSettings } from "./flux";
import { hubConfig, hubProblems, type HubConfig, type OwnStack } from "./hub";
import { keyProblems } from "./hygiene";
import { fullKey, SECRET_KEYS } from "./keys";
import { kubeconfigProblems } from "./kubeconfig";
import { platformConfig, platformProblems, type PlatformConfig } from "./platform";
import { r2Problems } from "./r2";
import { serviceTokenRotationProblems, type RotationConfig } from "./rotation";
import { checkTunnelRoutes, type TunnelRoute } from "./routing";
import { schema, type ClusterConfig, type R2Config, type SchemaValues } from "./schema";
import { secretRedactor, stackSecrets, type SecretValue } from "./secret-values";
import { sopsProblems } from "./sops";

/** `cluster-bootstrap:gitops` with what derives from it. */
export type GitOpsConfig = SchemaValues["gitops"] & {
    /** Owner part of `repository`: the GitHub provider's owner. */
    owner: string;
    /** Name part of `repository`. */
    repositoryName: string;
    /** Name of the GitRepository and root Kustomization: `name`, else the repository's name in lowercase. */
    name: string;
    /** `timeout` in seconds: the bound of the program's waits for the GitRepository and Kustomization. */
    timeoutSeconds: number;
};

/** `cluster-bootstrap:tunnel`, the origin host's default filled in. */
export type TunnelConfig = Omit<SchemaValues["tunnel"], "originHost" | "routes"> & {
    /** The hostname the routes' CNAMEs point at: `originHost`, else `external.<cluster.domain>`. */
    originHost: string;
    routes: TunnelRoute[];
};

/** Plain, validated values: what {@link validateConfig} returns, before the loader wraps the secrets as Outputs. */
export interface PlainConfig {
    cluster: ClusterConfig;
    /** Secret; undefined means the ambient KUBECONFIG (with `kubeContext` naming the context). */
    kubeconfig?: string;
    /** Context of this stack's cluster: in `kubeconfig` when set, else in the ambient kubeconfig. */
    kubeContext?: string;
    /** `CLUSTER_NAME` a cluster may carry when this stack takes it over on purpose (a deliberate rename). */
    renameFrom?: string;
    gitops: GitOpsConfig;
    /** Who runs Flux: the program (`managedBy: program`, with its settings) or the repository itself. */
    flux: FluxSettings;
    tunnel: TunnelConfig;
    r2: R2Config;
    sops: SchemaValues["sops"];
    /** Secret age identity, `AGE-SECRET-KEY-1…`. */
    sopsAgeKey: string;
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
    bootstrapSecrets: BootstrapSecret[];
    /** `cluster-bootstrap:adopt`: import what already exists in the account instead of creating it (one run). */
    adopt: boolean;
}

/** Input to {@link validateConfig}: the project namespace's raw values plus the provider keys it cross-checks. */
export interface RawConfig {
    /** Values of the `cluster-bootstrap` namespace, objects already parsed from their JSON form. */
    values: Record<string, unknown>;
    /** `github:owner`, when the stack sets it. */
    githubOwner?: string;
    /** Secret keys that hold offline placeholders: checks that need the real secret are skipped for them. */
    placeholders?: ReadonlySet<string>;
    /** This stack, as a StackReference would name it: `hub.stack` must name another. Unknown (unchecked) when unset. */
    self?: OwnStack;
    /** Names of project keys the stack sets that the program does not read; names only, so no value is echoed. */
    unknownKeys?: readonly string[];
    /** Full keys outside the project namespace (`github:owner`, `cloudflare:apiToken`, typos of either). */
    otherKeys?: readonly string[];
    /** Project keys whose value arrived as a secret (`pulumi config set --secret`, also `--path` into an object). */
    secretValueKeys?: readonly string[];
    /**
     * Secrets held outside the project namespace: `cloudflare:apiToken`, `github:token`, the environment's
     * `GITHUB_TOKEN`, `PULUMI_CONFIG_PASSPHRASE` … (config/secret-values.ts). No problem or note shows any of them, nor
     * the namespace's own secrets, which are taken from `values`, nor a long fragment of one.
     */
    otherSecrets?: readonly SecretValue[];
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

/**
 * Validates the raw configuration; collects every problem instead of stopping at the first. Every problem and note
 * passes one check on its way out: no secret of the stack, wherever it was pasted, nor a long fragment of one.
 */
export async function validateConfig(raw: RawConfig): Promise<ValidationResult> {
    const result = await checkConfig(raw);
    const own = Object.fromEntries(SECRET_KEYS.map((k) => [fullKey([k]), raw.values[k]]));
    const hide = secretRedactor([...stackSecrets(own), ...(raw.otherSecrets ?? [])]);
    return { ...result, problems: result.problems.map(hide), notes: result.notes.map(hide) };
}

async function checkConfig(raw: RawConfig): Promise<ValidationResult> {
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
    problems.push(...keyProblems({
        known: Object.keys(schema.shape),
        unknownKeys: raw.unknownKeys ?? [],
        reported: (k) => Object.hasOwn(raw.values, k),
        otherKeys: raw.otherKeys ?? [],
        secretValueKeys: raw.secretValueKeys ?? [],
    }));
    const v = raw.values as Partial<Record<string, any>>;

    const kube = kubeconfigProblems({ kubeconfig: v.kubeconfig, kubeContext: v.kubeContext, placeholder: placeholders.has("kubeconfig") });
    problems.push(...kube.problems);
    notes.push(...kube.notes);
    if (typeof v.renameFrom === "string" && v.renameFrom === v.cluster?.name) {
        problems.push(`${fullKey(["renameFrom"])}: is this stack's own ${fullKey(["cluster", "name"])}; remove it once the rename is done`);
    }

    // Cross-key rules run on whatever parsed, so a second problem is never hidden by a first.
    problems.push(...r2Problems(v.r2));
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
    const routes = Array.isArray(v.tunnel?.routes) ? (v.tunnel.routes as unknown[]) : [];
    problems.push(...checkTunnelRoutes({ domain, originHost, routes }));
    problems.push(...accessProblems(v.access, { domain, originHost, routes }));
    problems.push(...hubProblems(v.hub, raw.self));
    problems.push(...serviceTokenRotationProblems(v.rotation, v.access));

    const sops = await sopsProblems({ key: v.sopsAgeKey, recipient: v.sops?.recipient, placeholder: placeholders.has("sopsAgeKey") });
    problems.push(...sops.problems);
    notes.push(...sops.notes);

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
            platform: platformConfig(c.platform),
            rotation: c.rotation,
            access: c.access && accessConfig(c.access),
            hub: c.hub && hubConfig(c.hub, c.cluster.name),
            bootstrapSecrets: bootstrap.secrets ?? [],
            adopt: c.adopt,
        },
    };
}
