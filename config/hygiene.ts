// Key hygiene: every key the stack sets is one the program or its providers read, under the spelling they read. A
// typo would otherwise fall back to a default silently; a secret set on a plain key would land in plain text.
import * as cloudflareSettings from "@pulumi/cloudflare/config/vars";
import * as tlsSettings from "@pulumi/tls/config/vars";
import { keyName, mustNotEcho } from "./checks";
import { fullKey, PROJECT, SECRET_KEYS } from "./keys";

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
export function otherKeyProblems(keys: readonly string[], projectKeys: readonly string[]): string[] {
    const known = knownOtherKeys();
    const candidates = [...known.keys(), ...projectKeys.map((k) => `${PROJECT}:${k}`)];
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
 * Problems with the keys themselves: project keys the program does not read (`known` are the ones it does), keys of
 * other namespaces, and plain settings that arrived as secrets. `reported` says which unknown keys the schema has
 * reported already.
 */
export function keyProblems(args: {
    known: readonly string[];
    unknownKeys: readonly string[];
    reported: (key: string) => boolean;
    otherKeys: readonly string[];
    secretValueKeys: readonly string[];
}): string[] {
    const problems: string[] = [];
    for (const k of args.unknownKeys) {
        if (args.reported(k)) continue;
        // `pulumi config set cluster.domain x` without --path stores a key named `cluster.domain`.
        const hint = k.includes(".") && args.known.includes(k.split(".")[0]) ? " (set a nested value with `pulumi config set --path`)"
            : suggestion(k, args.known);
        problems.push(`${fullKey([k])}: is not a known setting${hint}`);
    }
    problems.push(...otherKeyProblems(args.otherKeys, args.known));
    for (const k of args.secretValueKeys) {
        if ((SECRET_KEYS as readonly string[]).includes(k) || !args.known.includes(k)) continue;
        // The CLI hands a decrypted value to the program, which would put it in plain inputs and state.
        problems.push(`${fullKey([k])}: holds a secret value (set with --secret), but it is not a secret setting and would `
            + "land in plain text in resource inputs and state; set it without --secret");
    }
    return problems;
}
