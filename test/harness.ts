// Test harness on Pulumi's mock runtime: runs the real program with injected config and gives assertions the
// registrations as the engine would see them: options, dependencies and secret-ness included.
import * as path from "node:path";
import { isWireSecret, readStackSettings, redact, reveal, runOffline, SECRET_CONFIG_KEYS, type OfflineRun, type RecordedResource, type RunOptions } from "../offline/runtime";
import { ROOT } from "../config/keys";

export { isWireSecret, redact, reveal, type RecordedResource };

/** A kubeconfig for tests: its one cluster is on loopback, its token is not a credential anywhere. */
export function testKubeconfig(opts: { server?: string; context?: string; token?: string; currentContext?: string | null; caData?: string } = {}): string {
    const context = opts.context ?? "admin@infra";
    const current = opts.currentContext === null ? "" : `current-context: ${opts.currentContext ?? context}\n`;
    return "apiVersion: v1\nkind: Config\n"
        + `clusters:\n- name: test\n  cluster:\n    server: ${opts.server ?? "https://127.0.0.1:6443"}\n`
        + (opts.caData ? `    certificate-authority-data: ${opts.caData}\n` : "")
        + `users:\n- name: admin\n  user:\n    token: ${opts.token ?? "kubeconfig-test-token-not-real"}\n`
        + `contexts:\n- name: ${context}\n  context:\n    cluster: test\n    user: admin\n`
        + current;
}

/** A valid age identity and its recipient, generated for tests only. */
export const TEST_AGE_KEY = "AGE-SECRET-KEY-126YJDQKXJHL0HMWJ9GRWMQPV65ZD5DQSX5KCNQF86R43P3M398ESJPDQYV";
export const TEST_AGE_RECIPIENT = "age14tvph3kh8klm7spxe3k8t9gta6372503r5q4x26sv8vul2cjncvs97pqe5";

export type Values = Record<string, unknown>;

/** Project keys whose values are plain strings; the rest are objects, JSON-encoded as the CLI passes them. */
const STRING_KEYS = new Set(["sopsAgeKey", "kubeconfig", "cloudflareAccountId", "kubeContext", "renameFrom"]);

export interface StackRun extends OfflineRun {
    /** Custom resources of a type token (or its last segment), e.g. `"Secret"` or `"kubernetes:core/v1:Secret"`. */
    ofType(type: string): RecordedResource[];
    /** The one resource of that type (and name, when given); throws when there is not exactly one. */
    one(type: string, name?: string): RecordedResource;
    /** Stack outputs with secrets unwrapped. */
    plainOutputs(): Record<string, unknown>;
}

export interface RunStackOptions {
    /** Stack whose committed `Pulumi.<stack>.yaml` is the base config. */
    stack?: string;
    /** Replace project keys (`cluster`, `gitops`, …) by these values; `undefined` removes a key. */
    config?: Values;
    /** Change project keys in place: receives the base values, returns the new ones. */
    edit?: (values: Values) => Values;
    /** Provider keys such as `github:owner`; `undefined` removes a key. */
    providerConfig?: Record<string, string | undefined>;
    /** Secret project keys (e.g. `sopsAgeKey`, `kubeconfig`), given in plain text but read as secrets. */
    secrets?: Record<string, string | undefined>;
    /** Keep the offline placeholder for secrets not given (default false: tests give a real test age key). */
    placeholders?: boolean;
    preview?: boolean;
    /** What the target cluster says about itself, or the error reading it raises (default: a new cluster). */
    cluster?: RunOptions["cluster"];
    /** The objects the target cluster holds, as `--cluster-state` reads them (default: an empty cluster). */
    clusterState?: RunOptions["clusterState"];
    /** Project keys passed as secrets although they are not secret settings (`pulumi config set --secret`). */
    secretValues?: string[];
    /** A local checkout that serves the GitOps repository's files (as `--gitops-dir`); placeholders without. */
    gitopsDir?: string;
    /** The GitHub reader the program gets instead (one against a fake API on 127.0.0.1). */
    github?: RunOptions["github"];
    /** Outputs of referenced stacks by name (`hub.stack`); a stack not given gets placeholders. */
    stackOutputs?: RunOptions["stackOutputs"];
    /** Secret settings handed over as plain values, as the CLI does when none of their values was set with --secret. */
    plainValues?: string[];
    /** Permission groups the fake Cloudflare answers with `isSelectable: false`. */
    unselectablePermissionGroups?: RunOptions["unselectablePermissionGroups"];
    /** What already exists in the account and repository, for `adopt` (as `--cloud-state`); nothing without it. */
    cloudState?: RunOptions["cloudState"];
}

/**
 * Runs the program for a stack. By default the base is the committed stack file with the test age key, whose
 * recipient replaces `sops.recipient` so the derivation check runs for real.
 */
export async function runStack(opts: RunStackOptions = {}): Promise<StackRun> {
    const stack = opts.stack ?? "infra";
    const settings = readStackSettings(path.join(ROOT, `Pulumi.${stack}.yaml`));
    let values: Values = {};
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(settings.config)) {
        const key = k.slice("cluster-bootstrap:".length);
        if (k.startsWith("cluster-bootstrap:")) values[key] = STRING_KEYS.has(key) ? v : JSON.parse(v);
        else config[k] = v;
    }
    const placeholders = new Set(opts.placeholders ? settings.placeholders : []);
    if (!opts.placeholders) {
        values.sopsAgeKey = TEST_AGE_KEY;
        values.sops = { recipient: TEST_AGE_RECIPIENT };
    }
    for (const [k, v] of Object.entries(opts.secrets ?? {})) {
        values[k] = v;
        placeholders.delete(`cluster-bootstrap:${k}`);
    }
    for (const [k, v] of Object.entries(opts.config ?? {})) values[k] = v;
    if (opts.edit) values = opts.edit(structuredClone(values));
    for (const [k, v] of Object.entries(values)) {
        if (v !== undefined) config[`cluster-bootstrap:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    for (const [k, v] of Object.entries(opts.providerConfig ?? {})) {
        if (v === undefined) delete config[k];
        else config[k] = v;
    }
    // Every secret setting is handed over as a secret, as the CLI does once it was set with --secret.
    const secretKeys = [...SECRET_CONFIG_KEYS, ...(opts.secretValues ?? []).map((k) => `cluster-bootstrap:${k}`)]
        .filter((k) => k in config && !(opts.plainValues ?? []).includes(k.slice("cluster-bootstrap:".length)));
    const run = await runOffline({
        stack, config, secretKeys, placeholders: [...placeholders], preview: opts.preview, cluster: opts.cluster, clusterState: opts.clusterState,
        gitopsDir: opts.gitopsDir, github: opts.github, stackOutputs: opts.stackOutputs, unselectablePermissionGroups: opts.unselectablePermissionGroups, cloudState: opts.cloudState,
    });
    const short = (t: string) => t.split(":").pop();
    const ofType = (type: string) => run.resources.filter((r) => r.custom && (r.type === type || short(r.type) === type));
    return {
        ...run,
        ofType,
        one(type: string, name?: string) {
            const found = ofType(type).filter((r) => name === undefined || r.name === name);
            if (found.length !== 1) {
                throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
            }
            return found[0];
        },
        plainOutputs: () => reveal(run.outputs) as Record<string, unknown>,
    };
}

/** Reads a nested input by dotted path (`spec.ref.branch`), secrets left wrapped. */
export function at(r: RecordedResource, dotted: string): unknown {
    let v: unknown = r.inputs;
    for (const part of dotted.split(".")) {
        if (isWireSecret(v)) v = v.value;
        v = (v as Record<string, unknown> | undefined)?.[part];
    }
    return v;
}

/** The nested input with secrets unwrapped. */
export function plainAt(r: RecordedResource, dotted: string): unknown {
    return reveal(at(r, dotted));
}

/**
 * The project namespace's values of a valid infra stack, as `validateConfig` takes them (secrets in plain text):
 * the base that config tests change one key of.
 */
export function validValues(): Record<string, any> {
    return {
        cluster: { name: "infra", id: 1, domain: "monosense.dev" },
        kubeContext: "admin@infra",
        gitops: { repository: "monosense/k8s-ops", branch: "main", path: "clusters/infra/flux" },
        flux: { version: "2.7.x" },
        tunnel: { gateway: "https://envoy-external.networking.svc.cluster.local" },
        r2: { buckets: [{ name: "infra-volsync", purpose: "volsync" }, { name: "infra-cnpg", purpose: "cnpg" }] },
        sops: { recipient: TEST_AGE_RECIPIENT },
        sopsAgeKey: TEST_AGE_KEY,
        cloudflareAccountId: "eca0833f608b5745af030307a99bdbb4",
    };
}

// Public halves that the program hands over inside a Secret and rightly shows elsewhere.
const PUBLIC_KEYS = new Set(["identity.pub", "known_hosts"]);

/** Every string inside a secret, at any depth, of the run's inputs and outputs (public halves left out). */
export function secretStrings(run: OfflineRun): Set<string> {
    const found = new Set<string>();
    const collect = (v: unknown, key = ""): void => {
        if (PUBLIC_KEYS.has(key)) return;
        if (typeof v === "string") {
            if (v.length >= 8) found.add(v);
        } else if (Array.isArray(v)) v.forEach((x) => collect(x));
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) collect(x, k);
    };
    const walk = (v: unknown): void => {
        if (isWireSecret(v)) collect(reveal(v));
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    for (const r of run.resources) {
        walk(r.inputs);
        walk(r.outputs);
    }
    for (const i of run.invokes) walk(i.args);
    walk(run.outputs);
    Object.values(run.componentOutputs).forEach(walk);
    return found;
}

/**
 * Every resource a resource waits for, directly or through others. A resource also waits for what its parent
 * components wait for (the SDK registers a child only once its parent is registered, and a component registers only
 * once its dependsOn exist); a component it depends on stands for that component's children. The search does not go
 * on past the URNs in `stopAt`.
 */
export function waitsFor(run: OfflineRun, r: RecordedResource, stopAt: ReadonlySet<string> = new Set()): Set<string> {
    const byUrn = new Map(run.resources.map((x) => [x.urn, x]));
    const direct = (x: RecordedResource) => {
        const out = [...x.dependencies];
        for (let p = byUrn.get(x.parent); p && p.type !== "pulumi:pulumi:Stack"; p = byUrn.get(p.parent)) out.push(...p.dependencies);
        return out;
    };
    const seen = new Set<string>();
    const stack = direct(r);
    while (stack.length > 0) {
        const urn = stack.pop()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        const x = byUrn.get(urn);
        if (!x || stopAt.has(urn)) continue;
        stack.push(...direct(x));
        if (!x.custom) for (const child of run.resources.filter((c) => c.parent === urn)) stack.push(child.urn);
    }
    return seen;
}
