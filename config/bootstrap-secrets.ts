// `cluster-bootstrap:bootstrapSecrets`: secret zero. The few Secrets the cluster's own secret store (1Password Connect,
// a 1Password service account, OpenBao, Vault) needs before External Secrets can pull anything else, which can come
// neither from Git nor from the store itself. The whole setting is secret: no problem message shows anything from it,
// not a value, not a data key, not even a name, because the validation sees it decrypted.
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { isDnsLabel, isKubernetesName, keyName } from "./checks";
import { CLUSTER_SECRETS, DEPLOY_KEY_SECRET, FLUX_NAMESPACE, SOPS_AGE_SECRET, WEBHOOK_TOKEN_SECRET } from "./names";

const KEY = "cluster-bootstrap:bootstrapSecrets";

/** What `loadConfig` hands over for a secret object setting whose text is not JSON. */
export const INVALID_JSON = Symbol.for("invalid-json");

/**
 * The Secrets the program itself writes in flux-system (the contract's cluster-secrets, sops-age, the deploy key and
 * the webhook token). A bootstrap Secret of the same name would overwrite one of them on every run, and be overwritten.
 */
export const PROGRAM_SECRETS = [CLUSTER_SECRETS, SOPS_AGE_SECRET, DEPLOY_KEY_SECRET, WEBHOOK_TOKEN_SECRET] as const;

/** Kubernetes refuses a Secret whose data is larger than 1 MiB. */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** One bootstrap Secret, validated: its values are plain text here and must be wrapped as secrets before use. */
export interface BootstrapSecret {
    /** Namespace of the Secret (a DNS label); the program makes sure it exists. */
    namespace: string;
    /** Name of the Secret. */
    name: string;
    /** Secret keys to values, exactly as given (the bytes of a credentials file included). */
    data: Record<string, string>;
}

/** A bootstrap Secret as the program receives it: its data a secret Output, never plain text. */
export type BootstrapSecretConfig = Omit<BootstrapSecret, "data"> & { data: pulumi.Output<Record<string, string>> };

/** Why a key cannot be a Secret data key (Kubernetes' IsConfigMapKey), or undefined when it can. */
export function secretKeyProblem(k: string): string | undefined {
    if (k.length === 0 || k.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(k)) return "letters, digits, '-', '_' and '.', 253 at most";
    if (k === "." || k === ".." || k.startsWith("..")) return "not '.' or '..', nor starting with '..'";
    return undefined;
}

const notShown = "; the value is not shown";
// `pulumi config set --path` stores true, false and integers given without --secret as booleans and numbers.
const stringOnly = "must be a string (`pulumi config set --path` stores true, false and integers as such: add --type string)";

const name = (what: string, test: (v: string) => boolean, rule: string) =>
    z.string({ error: (i) => (i.input === undefined ? "is required" : stringOnly) })
        .refine(test, { error: `is not a valid ${what} (${rule})${notShown}` });

/** Problems of one Secret's data, each without the key or value it is about: keys are named by position. */
export function dataProblems(data: unknown): string[] {
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
        return [`must be a mapping of Secret keys to values${notShown}`];
    }
    const entries = Object.entries(data);
    if (entries.length === 0) return ["must hold at least one key"];
    const problems: string[] = [];
    let bytes = 0;
    entries.forEach(([k, v], i) => {
        const p = secretKeyProblem(k);
        if (p) problems.push(`key #${i + 1} is not a valid Secret key (${p}); the key is not shown`);
        if (typeof v !== "string") {
            problems.push(`the value of key #${i + 1} is not a string: set it with --secret, which keeps it as text${notShown}`);
        } else {
            bytes += Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8");
        }
    });
    if (bytes > MAX_SECRET_BYTES) problems.push("holds more than 1 MiB, the most Kubernetes stores in one Secret");
    return problems;
}

const entrySchema = z.strictObject({
    namespace: name("namespace name", isDnsLabel, "a DNS label: lowercase letters, digits and '-', 63 at most"),
    name: name("Secret name", isKubernetesName, "lowercase letters, digits, '-' and '.', 253 at most"),
    data: z.unknown().superRefine((v, ctx) => {
        if (v === undefined) {
            ctx.addIssue({ code: "custom", message: "is required" });
            return;
        }
        for (const message of dataProblems(v)) ctx.addIssue({ code: "custom", message });
    }),
}, { error: `must be a mapping with namespace, name and data${notShown}` });

/** The list as the schema sees it; cross-entry rules are in {@link checkBootstrapSecrets}. */
export const bootstrapSecretsSchema = z.array(entrySchema, { error: `must be a list of Secrets, each {namespace, name, data}${notShown}` });

function pathText(path: ReadonlyArray<PropertyKey>): string {
    return path.map((s) => (typeof s === "number" ? `[${s}]` : `.${keyName(String(s))}`)).join("");
}

export interface BootstrapSecretsInput {
    /** The parsed setting: undefined when unset, {@link INVALID_JSON} when its text is not JSON. */
    value: unknown;
    /** Whether the CLI handed the setting over as a secret (at least one value set with --secret). */
    secret: boolean;
    /** Whether it holds offline placeholders (the plan cannot decrypt `secure:` values). */
    placeholder: boolean;
}

export interface BootstrapSecretsResult {
    /** Every problem, `<full key>: <rule>`, none showing a value. */
    problems: string[];
    /** What the offline plan could not check. */
    notes: string[];
    /** The validated list ([] when unset); undefined when there are problems. */
    secrets?: BootstrapSecret[];
}

/** Validates `bootstrapSecrets`: its shape, Kubernetes' naming rules, duplicates and the program's own Secrets. */
export function checkBootstrapSecrets(input: BootstrapSecretsInput): BootstrapSecretsResult {
    const { value } = input;
    if (value === undefined) return { problems: [], notes: [], secrets: [] };
    if (value === INVALID_JSON) {
        return input.placeholder
            ? { problems: [], notes: [`${KEY} is an offline placeholder for the whole list, which cannot be read offline; no bootstrap Secret is planned`], secrets: [] }
            : { problems: [`${KEY}: is not a JSON list of Secrets, each {namespace, name, data}${notShown}`], notes: [] };
    }
    const problems: string[] = [];
    const notes: string[] = [];
    if (!input.secret && !input.placeholder) {
        problems.push(`${KEY}: holds no secret value: its data was set without --secret and sits in plain text in the stack file; `
            + "set every data value with --secret (and replace the credentials that were exposed)");
    }
    const parsed = bootstrapSecretsSchema.safeParse(value);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            if (issue.code === "unrecognized_keys") {
                for (const k of issue.keys) {
                    problems.push(`${KEY}${pathText([...issue.path, k])}: is not a setting of a bootstrap Secret (namespace, name, data)`);
                }
            } else {
                problems.push(`${KEY}${pathText(issue.path)}: ${issue.message}`);
            }
        }
    }
    // Cross-entry rules run on whatever has a valid namespace and name, so one problem never hides another.
    const entries: unknown[] = Array.isArray(value) ? value : [];
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
        const { namespace, name: n } = (e ?? {}) as Record<string, unknown>;
        if (typeof namespace !== "string" || typeof n !== "string" || !isDnsLabel(namespace) || !isKubernetesName(n)) return;
        if (namespace === FLUX_NAMESPACE && (PROGRAM_SECRETS as readonly string[]).includes(n)) {
            problems.push(`${KEY}[${i}].name: is a Secret the program writes in ${FLUX_NAMESPACE} (${PROGRAM_SECRETS.join(", ")}); `
                + "choose another name or namespace");
        }
        const id = `${namespace}/${n}`;
        const first = seen.get(id);
        if (first !== undefined) problems.push(`${KEY}[${i}]: repeats ${KEY}[${first}] (the same namespace and name)`);
        else seen.set(id, i);
    });
    if (problems.length > 0 || !parsed.success) return { problems, notes };
    if (input.placeholder) {
        notes.push(`${KEY} holds offline placeholders for its secret values; its Secrets are planned with them`);
    }
    return { problems, notes, secrets: parsed.data.map((s) => ({ namespace: s.namespace, name: s.name, data: s.data as Record<string, string> })) };
}
