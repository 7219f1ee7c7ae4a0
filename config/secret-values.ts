// The secret values a stack holds, and the check every message passes before it is shown: no message carries one of
// them, nor a long fragment of one, whatever setting it was pasted into. The shapes in checks.ts (`mustNotEcho`) keep
// credentials that look like one out of messages; this keeps out the stack's own, whatever they look like. The values
// are handed over explicitly by whoever reads them (validateConfig's RawConfig, the stack file reader, the plan).
import { parse as parseYaml } from "yaml";
import { isRecord } from "./checks";
import { PROJECT } from "./keys";

/** A secret value and where it comes from (a full key or an environment variable): messages may name the source. */
export interface SecretValue {
    from: string;
    value: string;
}

/**
 * A run of this many characters of a secret is hidden wherever it appears, in any letter case. Twelve characters of a
 * random token are about 70 bits, and the shortest credentials a stack holds are three times longer (a GitHub token's
 * body 36 characters, a Cloudflare token 40, an age key 59), so a message shows at most 11 characters of any of them in
 * a row. Shorter runs would hide ordinary words that a pasted URL or file shares with the messages (`kube-system`).
 */
export const SECRET_FRAGMENT = 12;

/**
 * A secret shorter than {@link SECRET_FRAGMENT} is hidden only where it appears whole, and only from this length: a
 * value of a few characters (`true`, `admin`) would hide ordinary words, and is no secret worth the name.
 */
export const SHORT_SECRET = 8;

/** Provider settings that hold credentials: the Cloudflare provider's three (its `config/vars`) and the GitHub token. */
export const PROVIDER_SECRET_KEYS = ["cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey", "github:token"] as const;

/**
 * Environment variables that hold credentials of a run: the providers' fallbacks for the keys above, the passphrase of
 * the stack's secrets and the Pulumi Cloud token.
 */
export const SECRET_ENVIRONMENT = [
    "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_API_USER_SERVICE_KEY", "GITHUB_TOKEN",
    "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN",
] as const;

/** What the offline plan puts where a `secure:` value cannot be decrypted: no secret, and never hidden. */
export function offlinePlaceholder(key: string): string {
    return `[offline placeholder for ${key}]`;
}

const PLACEHOLDER = /^\[offline placeholder for [^\]\n]*\]$/;

// A kubeconfig user's credentials (client-go's clientcmd/api/v1 AuthInfo).
const KUBECONFIG_CREDENTIALS = ["token", "password", "client-key-data", "client-certificate-data"] as const;
// The same, found line by line when the kubeconfig does not parse (auth-provider and exec fields included).
const LOOSE_CREDENTIAL = /^[\s-]*(?:token|password|client-key-data|client-certificate-data|id-token|refresh-token|client-secret|access-token|value):[ \t]*["']?([^\s"'#]+)/gm;

/**
 * The credentials in a kubeconfig: each user's token, password, client key and certificate data, every value of its
 * auth-provider config and of its exec plugin's environment. Never the servers, names or CA data, which messages may show.
 */
export function kubeconfigSecrets(text: string): string[] {
    let doc: unknown;
    try {
        // "error": a warning (an unknown tag) would be printed with the line it is on.
        doc = parseYaml(text, { logLevel: "error" });
    } catch {
        doc = undefined;
    }
    if (!isRecord(doc)) return [...text.matchAll(LOOSE_CREDENTIAL)].map((m) => m[1]);
    const found: string[] = [];
    const strings = (v: unknown) => (typeof v === "string" ? [v] : []);
    for (const entry of Array.isArray(doc.users) ? doc.users : []) {
        const user = isRecord(entry) && isRecord(entry.user) ? entry.user : undefined;
        if (!user) continue;
        for (const k of KUBECONFIG_CREDENTIALS) found.push(...strings(user[k]));
        const provider = user["auth-provider"];
        if (isRecord(provider) && isRecord(provider.config)) for (const v of Object.values(provider.config)) found.push(...strings(v));
        const exec = user.exec;
        if (isRecord(exec) && Array.isArray(exec.env)) for (const e of exec.env) if (isRecord(e)) found.push(...strings(e.value));
    }
    return found;
}

/** Every string value of `bootstrapSecrets`' data, from the parsed list or its JSON text. */
function bootstrapSecretValues(v: unknown): string[] {
    let list = v;
    if (typeof v === "string") {
        try {
            list = JSON.parse(v);
        } catch {
            // Not JSON: the text as a whole is what the user meant to keep secret.
            return [v];
        }
    }
    if (!Array.isArray(list)) return [];
    return list.flatMap((e) => (isRecord(e) && isRecord(e.data) ? Object.values(e.data).filter((x): x is string => typeof x === "string") : []));
}

/**
 * The secrets among a stack's settings, keyed by full key (`cluster-bootstrap:sopsAgeKey`, `github:token`), values as
 * parsed or in the CLI's form (objects as JSON text): the provider credentials, the age key, the kubeconfig's
 * credentials and every bootstrap Secret value. Offline placeholders are left out.
 */
export function stackSecrets(settings: Readonly<Record<string, unknown>>): SecretValue[] {
    const found: SecretValue[] = [];
    const add = (from: string, v: unknown) => {
        if (typeof v === "string" && v.trim() !== "" && !PLACEHOLDER.test(v)) found.push({ from, value: v });
    };
    for (const k of PROVIDER_SECRET_KEYS) add(k, settings[k]);
    add(`${PROJECT}:sopsAgeKey`, settings[`${PROJECT}:sopsAgeKey`]);
    const kubeconfig = settings[`${PROJECT}:kubeconfig`];
    if (typeof kubeconfig === "string" && !PLACEHOLDER.test(kubeconfig)) {
        for (const v of kubeconfigSecrets(kubeconfig)) add(`${PROJECT}:kubeconfig`, v);
    }
    for (const v of bootstrapSecretValues(settings[`${PROJECT}:bootstrapSecrets`])) add(`${PROJECT}:bootstrapSecrets`, v);
    return found;
}

/** The credentials in the environment ({@link SECRET_ENVIRONMENT}), named by their variable. */
export function environmentSecrets(env: Readonly<Record<string, string | undefined>>): SecretValue[] {
    return SECRET_ENVIRONMENT.flatMap((name) => (env[name]?.trim() ? [{ from: name, value: env[name]! }] : []));
}

// Text every secret of a kind starts with, public and shown in messages ("AGE-SECRET-KEY-1 followed by 58 characters"),
// and what a secret was replaced with already (a message passes the check more than once): a window of a message
// inside one of them is no fragment of anyone's secret.
const PUBLIC_TEXT = /AGE-SECRET-KEY-1|-----(?:BEGIN|END) [A-Z0-9 ]{1,40}-----|\(secret [^()]{1,200}, not shown\)/gi;

// Letter case folded for ASCII only, so a folded text keeps the positions of the original.
const fold = (s: string) => s.replace(/[A-Z]+/g, (c) => c.toLowerCase());

/** A hash of the {@link SECRET_FRAGMENT} characters of `s` from `at`, small enough to stay a small integer in a Set. */
function windowHash(s: string, at: number): number {
    let h = 0;
    for (let j = at; j < at + SECRET_FRAGMENT; j++) h = (Math.imul(h, 31) + s.charCodeAt(j)) | 0;
    return h & 0x3fffffff;
}

/**
 * A function that hides, in a message, every place where a run of {@link SECRET_FRAGMENT} characters of one of
 * `secrets` appears (or a shorter secret whole), in any letter case, also as JSON escapes it (`quoted` shows values
 * that way). Each hidden stretch becomes `(secret <source>, not shown)`, with the quotes around it when it was quoted.
 */
export function secretRedactor(secrets: readonly SecretValue[]): (message: string) => string {
    const chunks: string[] = [];
    // Where each chunk of the haystack starts, and whose it is.
    const owners: Array<{ start: number; from: string }> = [];
    const whole: Array<{ text: string; from: string }> = [];
    let length = 0;
    for (const s of secrets) {
        for (const form of new Set([s.value, s.value.trim(), JSON.stringify(s.value).slice(1, -1)])) {
            if (form.length >= SECRET_FRAGMENT) {
                owners.push({ start: length, from: s.from });
                chunks.push(fold(form));
                length += form.length + 1;
            } else if (form.length >= SHORT_SECRET) {
                whole.push({ text: fold(form), from: s.from });
            }
        }
    }
    if (chunks.length === 0 && whole.length === 0) return (message) => message;
    // One text to search: NUL never appears in a window that is searched for, so no match spans two secrets.
    const haystack = chunks.join("\0");
    // Every window of the secrets by a hash, so a message's window is searched for only when it may be there: a
    // bootstrap Secret may hold up to 1 MiB, which a search per window would scan again and again.
    const windows = new Set<number>();
    for (let i = 0; i + SECRET_FRAGMENT <= haystack.length; i++) windows.add(windowHash(haystack, i));
    const ownerAt = (at: number) => {
        let i = 0;
        while (i + 1 < owners.length && owners[i + 1].start <= at) i++;
        return owners[i].from;
    };
    return (message) => {
        const folded = fold(message);
        const hidden: Array<string | undefined> = new Array(message.length);
        const mark = (start: number, end: number, from: string) => {
            for (let j = start; j < end; j++) hidden[j] ??= from;
        };
        const publicText = [...message.matchAll(PUBLIC_TEXT)].map((m) => [m.index, m.index + m[0].length]);
        for (let i = 0; i + SECRET_FRAGMENT <= folded.length; i++) {
            const window = folded.slice(i, i + SECRET_FRAGMENT);
            if (window.includes("\0") || publicText.some(([s, e]) => s <= i && i + SECRET_FRAGMENT <= e)) continue;
            const at = windows.has(windowHash(folded, i)) ? haystack.indexOf(window) : -1;
            if (at >= 0) mark(i, i + SECRET_FRAGMENT, ownerAt(at));
        }
        for (const w of whole) {
            for (let at = folded.indexOf(w.text); at >= 0; at = folded.indexOf(w.text, at + 1)) mark(at, at + w.text.length, w.from);
        }
        let out = "";
        for (let i = 0; i < message.length;) {
            if (hidden[i] === undefined) {
                out += message[i++];
                continue;
            }
            let end = i;
            const from = new Set<string>();
            while (end < message.length && hidden[end] !== undefined) from.add(hidden[end++]!);
            const label = `(secret ${[...from].join(", ")}, not shown)`;
            // `"<secret>"` as `quoted` shows it: the quotes go too.
            if (out.endsWith("\"") && message[end] === "\"") {
                out = out.slice(0, -1) + label;
                end++;
            } else {
                out += label;
            }
            i = end;
        }
        return out;
    };
}
