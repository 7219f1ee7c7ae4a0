// The stack's config as the program will see it: every secret it needs is set (and encrypted), the secrets decrypt,
// and the whole config passes the program's own validation (config/index.ts `validateConfig`), with the real secrets,
// so the age key is checked against `sops.recipient` too.
import { configKeys, meshConflicts, platformCrdsKey, platformKey, PROJECT, validateConfig, type MeshMember, type PlainConfig, type SecretValue } from "../config";
import type { OwnStack } from "../config/hub";
import type { ConfigEntry, ConfigView } from "./pulumi";
import { fail, ok, warn, type CheckResult } from "./result";

/** A secret the run needs, where it may come from instead, and how to set it. */
interface NeededSecret {
    key: string;
    /** Environment variable the provider (or program) reads when the key is unset. */
    env?: string;
    /** How the value is usually produced, for the fix line. */
    source: string;
}

export const NEEDED_SECRETS: readonly NeededSecret[] = [
    { key: `${PROJECT}:sopsAgeKey`, source: "grep AGE-SECRET-KEY age.agekey" },
    { key: "cloudflare:apiToken", env: "CLOUDFLARE_API_TOKEN", source: "printf %s \"$CLOUDFLARE_API_TOKEN\"" },
    { key: "github:token", env: "GITHUB_TOKEN", source: "printf %s \"$GITHUB_TOKEN\"" },
];

/** `pulumi config set` needs the key without the project's namespace. */
const setKey = (key: string) => (key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : key);

/** Whether each needed secret is set, and encrypted; the kubeconfig, when set, must be encrypted too. */
export function secretPresence(stack: string, config: ConfigView, env: NodeJS.ProcessEnv): CheckResult[] {
    const out: CheckResult[] = [];
    const pipe = (s: NeededSecret) => `${s.source} | pulumi config set --secret ${setKey(s.key)} --stack ${stack}`;
    for (const s of NEEDED_SECRETS) {
        const entry = config[s.key];
        const title = `Secret ${s.key}`;
        if (entry?.secret) out.push(ok(title, "set, encrypted"));
        else if (entry) out.push(fail(title, "set in plain text: the stack file would hold it readable", `set it again encrypted: ${pipe(s)}`));
        else if (s.env && env[s.env]) out.push(ok(title, `not set; ${s.env} is, and is used instead`));
        else out.push(fail(title, `not set${s.env ? `, nor ${s.env}` : ""}`, pipe(s)));
    }
    const kc = config[`${PROJECT}:kubeconfig`];
    if (kc && !kc.secret) {
        out.push(fail(`Secret ${PROJECT}:kubeconfig`, "set in plain text: the stack file would hold the cluster's credentials readable",
            `pulumi config set --secret kubeconfig --stack ${stack} < your-kubeconfig`));
    }
    return out;
}

/** Full keys of every secret the stack holds: all are decrypted, since validation needs them all. */
export function secretKeys(config: ConfigView): string[] {
    return Object.keys(config).filter((k) => config[k].secret).sort();
}

/** An entry's value as the program's `getObject`/`get` would give it. */
function valueOf(entry: ConfigEntry | undefined, asObject: boolean): unknown {
    if (!entry) return undefined;
    if (entry.objectValue !== undefined) return entry.objectValue;
    if (asObject && entry.value !== undefined) {
        try {
            return JSON.parse(entry.value);
        } catch {
            return Symbol.for("invalid-json");
        }
    }
    return entry.value;
}

export interface StackValues {
    /** Project values, secrets decrypted, shaped as `loadConfig` reads them. */
    values: Record<string, unknown>;
    /** Every project key the stack sets, objects parsed, whether or not this program version reads it. */
    raw: Record<string, unknown>;
    githubOwner?: string;
    unknownKeys: string[];
    otherKeys: string[];
    secretValueKeys: string[];
}

/** What `loadConfig` would hand to `validateConfig`, from the CLI's view of the config and the decrypted secrets. */
export function stackValues(config: ConfigView, decrypted: ReadonlyMap<string, ConfigEntry>): StackValues {
    const keys = configKeys();
    const entry = (full: string) => decrypted.get(full) ?? config[full];
    const values: Record<string, unknown> = {};
    for (const k of keys.object) values[k] = valueOf(entry(`${PROJECT}:${k}`), true);
    for (const k of [...keys.plain, ...keys.secret]) values[k] = valueOf(entry(`${PROJECT}:${k}`), keys.secretObject.includes(k));
    const read = new Set([...keys.object, ...keys.plain, ...keys.secret]);
    const own = Object.keys(config).filter((k) => k.startsWith(`${PROJECT}:`)).map((k) => k.slice(PROJECT.length + 1));
    const owner = config["github:owner"];
    const raw = Object.fromEntries(own.map((k) => [k, valueOf(entry(`${PROJECT}:${k}`), true)]));
    return {
        values,
        raw,
        githubOwner: owner?.secret ? undefined : owner?.value,
        unknownKeys: own.filter((k) => !read.has(k)),
        otherKeys: Object.keys(config).filter((k) => !k.startsWith(`${PROJECT}:`)),
        secretValueKeys: own.filter((k) => config[`${PROJECT}:${k}`].secret),
    };
}

/**
 * The stack a `--stack` argument names, as `loadConfig` knows its own: `org/stack` and `org/project/stack` give the
 * organization; a bare name leaves it unknown (then only a bare `hub.stack` is judged to be this stack).
 */
export function ownStack(stack: string): OwnStack {
    const parts = stack.split("/");
    return { organization: parts.length > 1 ? parts[0] : undefined, project: PROJECT, stack: parts[parts.length - 1] };
}

/** The program's own validation, one line per problem; with `self`, a `hub.stack` naming this stack is one too. */
export async function validation(v: StackValues, otherSecrets: readonly SecretValue[] = [], self?: OwnStack): Promise<{ results: CheckResult[]; config?: PlainConfig }> {
    // The provider tokens and the environment's credentials are hidden from the messages as `loadConfig` hides them.
    const r = await validateConfig({
        values: v.values, githubOwner: v.githubOwner, unknownKeys: v.unknownKeys, otherKeys: v.otherKeys, secretValueKeys: v.secretValueKeys, otherSecrets, self,
    });
    if (r.config && r.problems.length === 0) return { results: [ok("Stack config", "valid (the program's own checks, the age key against sops.recipient included)")], config: r.config };
    return { results: r.problems.map((p) => fail("Stack config", p)) };
}

/** An app directory the program reads from the repository: a platform release's or a CRD entry's. */
export interface PlatformDirectory {
    list: "releases" | "crds";
    /** `cluster-bootstrap:platform.<list>[i].path`. */
    key: string;
    /** As the stack writes it. */
    path: string;
}

/** The raw `platform.releases[].path` and `platform.crds[].path` values the stack has, releases first. */
export function platformDirectories(raw: Record<string, unknown>): PlatformDirectory[] {
    return (["releases", "crds"] as const).flatMap((list) => {
        const entries = (raw.platform as Record<string, unknown> | undefined)?.[list];
        return (Array.isArray(entries) ? entries : []).flatMap((r, i) => {
            const p = (r as { path?: unknown })?.path;
            return typeof p === "string" ? [{ list, key: (list === "releases" ? platformKey : platformCrdsKey)(i, "path"), path: p }] : [];
        });
    });
}

/** The token the run would use: the stack's secret, else the environment variable the provider or program reads. */
export function tokenFor(key: "github:token" | "cloudflare:apiToken", decrypted: ReadonlyMap<string, ConfigEntry>, env: NodeJS.ProcessEnv):
    { token: string; from: string } | undefined {
    const v = decrypted.get(key)?.value;
    if (v) return { token: v, from: key };
    const name = key === "github:token" ? "GITHUB_TOKEN" : "CLOUDFLARE_API_TOKEN";
    return env[name] ? { token: env[name]!, from: name } : undefined;
}

/**
 * Whether this stack's cluster can join one Cilium Cluster Mesh with the other stacks' (their `cluster` settings):
 * a warning, not a failure, naming each stack with the same `cluster.id` or an overlapping `cluster.cidr`.
 */
export function meshCheck(own: MeshMember, others: readonly MeshMember[], unread: readonly string[]): CheckResult {
    const title = "Cluster Mesh";
    const conflicts = others.flatMap((other) => meshConflicts([own, other]));
    const notRead = unread.length ? ` (the cluster setting of ${unread.join(", ")} could not be read)` : "";
    if (conflicts.length > 0) {
        return warn(title, `${conflicts.join("; ")}${notRead}`,
            "give each cluster its own cluster.id (1..255) and a pod CIDR apart from the others' before joining them in a Cluster Mesh");
    }
    if (others.length === 0) return ok(title, `no other stack of this project in the backend${notRead}`);
    return ok(title, `cluster.id ${own.id} and the pod CIDR are this stack's alone among ${others.map((o) => o.stack).join(", ")}${notRead}`);
}
