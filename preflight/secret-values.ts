// Every value a line could leak: the stack's decrypted secrets (and each string inside a secret object or JSON list),
// and the credentials the environment supplies. Lines are scrubbed of all of them before they are printed.
import { environmentSecrets } from "../config";
import { parseJson } from "../config/checks";
import type { ConfigEntry } from "./pulumi";


/** Every string inside a value (a secret object's leaves). */
export function stringsIn(v: unknown): string[] {
    if (typeof v === "string") return [v];
    if (Array.isArray(v)) return v.flatMap(stringsIn);
    if (v && typeof v === "object") return Object.values(v).flatMap(stringsIn);
    return [];
}

/** The strings of decrypted config entries, whole and part by part. */
export function configSecretStrings(entries: Iterable<ConfigEntry>): string[] {
    const out: string[] = [];
    for (const e of entries) {
        if (e.value !== undefined) out.push(e.value, ...stringsIn(parseJson(e.value)));
        if (e.objectValue !== undefined) out.push(JSON.stringify(e.objectValue), ...stringsIn(e.objectValue));
    }
    return out;
}

/** The credentials set in the environment. */
export function envSecretStrings(env: NodeJS.ProcessEnv): string[] {
    return environmentSecrets(env).map((s) => s.value);
}
