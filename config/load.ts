// Reading the stack configuration from Pulumi: every key once, secrets with getSecret (even when the stack file has
// them in plain text), then validated together. Nothing is registered before `loadConfig` resolves, so bad input
// never leaves half a stack behind.
import * as pulumi from "@pulumi/pulumi";
import { INVALID_JSON, type BootstrapSecretConfig } from "./bootstrap-secrets";
import { OBJECT_KEYS, PLAIN_KEYS, PROJECT, SECRET_KEYS, SECRET_OBJECT_KEYS } from "./keys";
import { environmentSecrets, PROVIDER_SECRET_KEYS, stackSecrets } from "./secret-values";
import { ConfigError, validateConfig, type PlainConfig } from "./validate";

/** The stack configuration as the program uses it: validated, secrets as secret Outputs. */
export type StackConfig = Omit<PlainConfig, "kubeconfig" | "sopsAgeKey" | "bootstrapSecrets"> & {
    project: string;
    stack: string;
    /** Secret; undefined means the ambient KUBECONFIG (with `kubeContext` naming the context). */
    kubeconfig?: pulumi.Output<string>;
    /** Secret `github:token`, else the `GITHUB_TOKEN` the GitHub provider would read; undefined when neither is set. */
    githubToken?: pulumi.Output<string>;
    /** Secret age identity, `AGE-SECRET-KEY-1…`. */
    sopsAgeKey: pulumi.Output<string>;
    /** Secret zero for the cluster's secret store: Secrets created before Flux first reconciles ([] when unset). */
    bootstrapSecrets: BootstrapSecretConfig[];
};

/** What a run tells the loader that the stack file cannot: which secrets are offline placeholders, and where notes go. */
export interface LoadOptions {
    /**
     * Secret keys (without namespace) whose values are offline placeholders: the one check that needs a real secret
     * (the age key's recipient) is skipped for them with a note instead of failing. Empty under the CLI.
     */
    placeholders?: ReadonlySet<string>;
    /** Receives each note (a check skipped for a placeholder); the offline plan prints them on stderr. */
    note?: (message: string) => void;
    /** Where the credentials the providers fall back on are read (GITHUB_TOKEN …), to keep them out of messages; process.env by default. */
    env?: Readonly<Record<string, string | undefined>>;
}

// Exported by the SDK's runtime but left out of its type definitions: whether the CLI passed a key as a secret.
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret;

/** The value of a known Output (a config secret, read in memory only). */
export function unwrap<T>(o: pulumi.Output<T>): Promise<T> {
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

/** The organization the CLI names this stack under; undefined when it does not say (the SDK then throws). */
function organization(): string | undefined {
    try {
        return pulumi.getOrganization();
    } catch {
        return undefined;
    }
}

/** Reads and validates the whole stack configuration; throws {@link ConfigError} listing every problem. */
export async function loadConfig(opts: LoadOptions = {}): Promise<StackConfig> {
    const cfg = new pulumi.Config(PROJECT);
    const values: Record<string, unknown> = {};
    for (const k of OBJECT_KEYS) {
        try {
            values[k] = cfg.getObject<unknown>(k);
        } catch {
            values[k] = INVALID_JSON;
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
    // The providers' credentials, read here only so that no message shows them.
    const providerSecrets: Record<string, unknown> = {};
    for (const full of PROVIDER_SECRET_KEYS) {
        const [ns, key] = full.split(":");
        const s = new pulumi.Config(ns).getSecret(key);
        if (s !== undefined) providerSecrets[full] = await unwrap(s);
    }
    const otherSecrets = [...stackSecrets(providerSecrets), ...environmentSecrets(opts.env ?? process.env)];
    const self = { organization: organization(), project: pulumi.getProject(), stack: pulumi.getStack() };
    const result = await validateConfig({ values, githubOwner, placeholders: opts.placeholders, self, unknownKeys, otherKeys, secretValueKeys, otherSecrets });
    for (const n of result.notes) opts.note?.(n);
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
