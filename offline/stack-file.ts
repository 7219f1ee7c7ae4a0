// Reading a `Pulumi.<stack>.yaml` stack settings file for the offline plan, the way the CLI would hand its values
// to the program: objects JSON-encoded, `secure:` values (which cannot be decrypted offline) as secret placeholders.
// A file the CLI would refuse is refused here too, with `FILE:LINE:COL: ` and a fixed description, never the YAML
// parser's text nor an excerpt of the file's lines: a line may hold a secret. Every problem then passes the check that
// hides the secrets the file holds in plain text.
import * as fs from "node:fs";
import { isAlias, isNode, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import { keyName, mustNotEcho } from "../config/checks";
import { offlinePlaceholder, secretRedactor, stackSecrets, type SecretValue } from "../config/secret-values";
import { yamlProblem } from "../config/yaml-errors";
import { InputFileError } from "./input-file";

export interface StackSettings {
    config: Record<string, string>;
    secretKeys: string[];
    placeholders: string[];
}

/** Secret keys of the project that the program needs and the committed stack files never hold. */
export const REQUIRED_SECRETS = ["cluster-bootstrap:sopsAgeKey"];
/** Every project key read as a secret. */
export const SECRET_CONFIG_KEYS = ["cluster-bootstrap:kubeconfig", "cluster-bootstrap:sopsAgeKey", "cluster-bootstrap:bootstrapSecrets"];

/** The file cannot be used; each problem is one printable line. */
export class StackFileError extends InputFileError {}

/** The full key of a node's position, e.g. `cluster-bootstrap:cluster.id`, names shown safely. */
function keyOf(path: readonly unknown[]): string {
    const parts: string[] = [];
    for (const p of path) {
        if (isPair(p) && isScalar(p.key)) parts.push(String(p.key.value));
        else if (isPair(p)) parts.push("(a key that is not plain text)");
    }
    // parts[0] is `config`; the next is the full setting name, with the project namespace implied when left out.
    const [, setting, ...nested] = parts;
    if (setting === undefined) return "config";
    const rest = nested.map(keyName);
    const full = setting.includes(":") ? setting.split(":").map(keyName).join(":") : `cluster-bootstrap:${setting}`;
    return [full, ...rest].join(".");
}

/** Problems the parser found and what it would silently drop (tags), located and without excerpts. */
function documentProblems(file: string, doc: Document, lines: LineCounter): string[] {
    const at = (offset: number) => {
        const { line, col } = lines.linePos(offset);
        return `${file}:${line}:${col}`;
    };
    if (doc.errors.length > 0) {
        // One message per mistake: a too-deep nesting reports the same overflow at every level.
        return [`${yamlProblem(file, doc.errors[0], lines)}${doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more)` : ""}`];
    }
    const problems: string[] = [];
    visit(doc, {
        Node(_, node, path) {
            const n = node as Node & { tag?: string; range?: [number, number, number] };
            // The CLI reads the file with its own YAML library: a tag would be dropped or read differently.
            if (n.tag !== undefined && isNode(n) && !isAlias(n)) {
                const tag = n.tag.replace(/^tag:yaml\.org,2002:/, "!!");
                const shown = /^!{1,2}[A-Za-z0-9._-]{1,32}$/.test(tag) && !mustNotEcho(tag) ? ` (${tag})` : "";
                problems.push(`${at(n.range?.[0] ?? 0)}: ${keyOf(path)}: YAML tags${shown} are not supported; write the plain value`);
            }
            if (isAlias(n) && n.resolve(doc) === undefined) {
                problems.push(`${at(n.range?.[0] ?? 0)}: ${keyOf(path)}: the alias refers to no anchor defined before it`);
            }
        },
    });
    return problems;
}

/**
 * Reads a stack settings file. `secure:` values cannot be decrypted offline: they, and the required secrets the file
 * leaves out, become placeholders that are themselves secret. Throws {@link StackFileError} for a file the CLI would
 * not read as this program expects.
 */
export function readStackSettings(file: string): StackSettings {
    const lines = new LineCounter();
    let doc: Document;
    try {
        doc = parseDocument(fs.readFileSync(file, "utf8"), { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    } catch (e) {
        throw new StackFileError([`${file}: cannot be read as YAML (${(e as Error).name})`]);
    }
    // Every refusal passes here: no secret the file holds (in plain text) is shown, nor a long fragment of one.
    const refuse = (problems: string[]) => new StackFileError(problems.map(secretRedactor(fileSecrets(doc))));
    const problems = documentProblems(file, doc, lines);
    if (problems.length > 0) throw refuse(problems);
    let raw: unknown;
    try {
        raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
    } catch (e) {
        throw refuse([yamlProblem(file, e)]);
    }
    const root = raw as { config?: unknown };
    if (typeof root !== "object" || Array.isArray(root) || (root.config !== undefined && (typeof root.config !== "object" || root.config === null || Array.isArray(root.config)))) {
        throw refuse([`${file}: config must be a mapping of settings`]);
    }
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const placeholders = new Set<string>();
    for (const [rawKey, value] of Object.entries((root.config ?? {}) as Record<string, unknown>)) {
        const key = rawKey.includes(":") ? rawKey : `cluster-bootstrap:${rawKey}`;
        let secure = false;
        const replace = (v: unknown): unknown => {
            if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
                secure = true;
                return offlinePlaceholder(key);
            }
            if (Array.isArray(v)) return v.map(replace);
            if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
            return v;
        };
        const v = replace(value);
        config[key] = typeof v === "string" ? v : JSON.stringify(v);
        // A secret anywhere inside a value makes the whole key secret, as the CLI reports it to the program.
        if (secure) {
            secretKeys.add(key);
            placeholders.add(key);
        }
    }
    for (const key of REQUIRED_SECRETS) {
        if (!(key in config)) {
            config[key] = offlinePlaceholder(key);
            secretKeys.add(key);
            placeholders.add(key);
        }
    }
    for (const key of SECRET_CONFIG_KEYS) if (key in config) secretKeys.add(key);
    return { config, secretKeys: [...secretKeys].sort(), placeholders: [...placeholders].sort() };
}

/**
 * The secrets a stack file holds in plain text, as far as it can be read (a file with a syntax error may still give
 * most of them): what its problems must never show.
 */
function fileSecrets(doc: Document): SecretValue[] {
    let root: unknown;
    try {
        root = doc.toJS({ maxAliasCount: 100 });
    } catch {
        return [];
    }
    const config = (root as { config?: unknown } | null)?.config;
    if (typeof config !== "object" || config === null || Array.isArray(config)) return [];
    const settings = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `cluster-bootstrap:${k}`, v]));
    return stackSecrets(settings);
}
