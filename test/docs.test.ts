// The docs kept true: every relative link in README.md and docs/*.md leads to a file of the repository, and every
// `#anchor` to a heading of its page (GitHub's slugs); every key the config schema accepts has its row in
// docs/configuration.md, and every row there names a key the program reads.
import * as fs from "node:fs";
import * as path from "node:path";
import GithubSlugger from "github-slugger";
import { marked, type Token, type Tokens } from "marked";
import { describe, expect, it } from "vitest";
import { schema } from "../config";
import { keyDefaults, keyPaths } from "./schema-paths";
import { bootstrapSecretsSchema } from "../config/bootstrap-secrets";
import { ROOT } from "../config/keys";

const PAGES = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const CONFIGURATION = "docs/configuration.md";

const tokensOf = (page: string): Token[] => marked.lexer(fs.readFileSync(path.join(ROOT, page), "utf8"));

/** Every token, nested ones included (list items, table cells, a link's text). */
function allTokens(tokens: Token[]): Token[] {
    const out: Token[] = [];
    marked.walkTokens(tokens, (t) => void out.push(t));
    return out;
}

/** A heading's text as GitHub renders it, before slugging: code spans and emphasis reduced to their text. */
function plainText(tokens: Token[] | undefined): string {
    return (tokens ?? []).map((t) => ("tokens" in t && t.tokens ? plainText(t.tokens) : "text" in t ? String(t.text) : "")).join("");
}

/** The anchors GitHub gives a page's headings: its slug, with `-1`, `-2`… for repeats. */
function anchorsOf(page: string): Set<string> {
    const slugger = new GithubSlugger();
    return new Set(allTokens(tokensOf(page)).filter((t): t is Tokens.Heading => t.type === "heading").map((h) => slugger.slug(plainText(h.tokens))));
}

/** Link targets of a page, as written: links and images, in prose, lists and tables alike (not in code). */
function linksOf(page: string): string[] {
    return allTokens(tokensOf(page)).flatMap((t) => (t.type === "link" || t.type === "image" ? [(t as Tokens.Link).href] : []));
}

/** What is wrong with one link of `page`, or undefined. External links (a scheme such as https:) are not followed. */
function linkProblem(page: string, href: string): string | undefined {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) return undefined;
    const hash = href.indexOf("#");
    const file = hash === -1 ? href : href.slice(0, hash);
    const anchor = hash === -1 ? undefined : decodeURIComponent(href.slice(hash + 1));
    if (file.startsWith("/")) return "is not relative to the page";
    const target = file === "" ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), decodeURIComponent(file));
    if (path.relative(ROOT, target).startsWith("..")) return "leads outside the repository";
    if (!fs.existsSync(target)) return "leads to no file";
    if (anchor === undefined) return undefined;
    if (!target.endsWith(".md")) return "has an anchor into a file that is not Markdown";
    return anchorsOf(path.relative(ROOT, target)).has(anchor) ? undefined : `has no heading #${anchor} in ${path.relative(ROOT, target)}`;
}

describe("links", () => {
    it("checks README.md and every page of docs/", () => {
        expect(PAGES).toEqual(expect.arrayContaining(["README.md", CONFIGURATION, "docs/development.md", "docs/operations.md"]));
        expect(linksOf("README.md").filter((h) => h.startsWith("docs/")).length).toBeGreaterThan(10);
    });

    it.each(PAGES)("%s: every relative link resolves, anchors included", (page) => {
        const problems = linksOf(page).flatMap((href) => {
            const p = linkProblem(page, href);
            return p ? [`${href} ${p}`] : [];
        });
        expect(problems).toEqual([]);
    });

    it("tells a broken link from a good one, as GitHub slugs headings", () => {
        expect(linkProblem("README.md", "docs/configuration.md#secret-zero-bootstrapsecrets")).toBeUndefined();
        expect(linkProblem("docs/operations.md", "configuration.md#tokens-and-their-minimal-permissions")).toBeUndefined();
        expect(linkProblem("docs/operations.md", "../README.md#running-it-for-real")).toBeUndefined();
        expect(linkProblem("docs/operations.md", "#where-the-state-lives")).toBeUndefined();
        expect(linkProblem("docs/operations.md", "#where-the-state-lives-1")).toBe("has no heading #where-the-state-lives-1 in docs/operations.md");
        expect(linkProblem("README.md", "docs/nowhere.md")).toBe("leads to no file");
        expect(linkProblem("README.md", "docs/configuration.md#Secret-Zero")).toMatch(/^has no heading/);
        expect(linkProblem("README.md", "/docs/configuration.md")).toBe("is not relative to the page");
        expect(linkProblem("docs/development.md", "../../elsewhere.md")).toBe("leads outside the repository");
        expect(linkProblem("README.md", "https://example.invalid/x#y")).toBeUndefined();
        // A heading's code spans and punctuation as GitHub drops them; a heading inside a code block is none.
        expect(anchorsOf("docs/platform-and-flux.md")).toContain("how-pulumi-up-waits-for-flux");
        expect(anchorsOf("docs/gitops-contract.md")).not.toContain("cert-manager-a-clusterissuer-reads-secrets-from-cert-managers-cluster-resource-namespace-its-own-by-default");
    });
});

/** Files whose messages and comments may point at a section of the docs: the program, its scripts, tests and stacks. */
function sourceFiles(dir = ROOT): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const file = path.join(dir, e.name);
        if (e.isDirectory()) return ["node_modules", "docs", "bin"].includes(e.name) || e.name.startsWith(".") ? [] : sourceFiles(file);
        return /\.(ts|mts|cjs|mjs|yaml)$/.test(e.name) ? [file] : [];
    });
}

/**
 * A pointer such as `(docs/configuration.md: Tokens)` or `(README: First run: the offline plan)`: the page, and the
 * start of one of its headings (`Tokens` for "Tokens and their minimal permissions"), up to `)`, `"`, `.`, `,` or `;`.
 */
const POINTER = /\b(README|docs\/[a-z-]+\.md): ([A-Z][^)".,;\n]*)/g;

/** What is wrong with a pointer at `section` of `page`, or undefined. Headings compare as text, code spans as their text. */
function pointerProblem(page: string, section: string): string | undefined {
    const file = page === "README" ? "README.md" : page;
    if (!fs.existsSync(path.join(ROOT, file))) return "names no page";
    const wanted = section.replaceAll("`", "").trim().toLowerCase();
    const headings = allTokens(tokensOf(file)).filter((t): t is Tokens.Heading => t.type === "heading").map((h) => plainText(h.tokens).toLowerCase());
    const found = headings.some((h) => h === wanted || h.startsWith(`${wanted} `) || h.startsWith(`${wanted}:`) || h.startsWith(`${wanted},`));
    return found ? undefined : `names no heading of ${file}`;
}

describe("pointers from the code to the docs", () => {
    it("each name a page and the start of one of its headings", () => {
        const pointers = sourceFiles().flatMap((file) => [...fs.readFileSync(file, "utf8").matchAll(POINTER)]
            .map((m) => ({ at: path.relative(ROOT, file), page: m[1], section: m[2] })));
        expect(pointers.map((p) => `${p.page}: ${p.section}`)).toEqual(expect.arrayContaining([
            "docs/configuration.md: Tokens", "docs/operations.md: Where the state lives", "docs/operations.md: Disaster recovery",
            "docs/development.md: Benchmarks", "README: First run: the offline plan",
        ]));
        const problems = pointers.flatMap((p) => {
            const why = pointerProblem(p.page, p.section);
            return why ? [`${p.at}: ${p.page}: ${p.section} ${why}`] : [];
        });
        expect(problems).toEqual([]);
    });

    it("tells a heading from a near miss", () => {
        expect(pointerProblem("docs/configuration.md", "Tokens")).toBeUndefined();
        expect(pointerProblem("docs/access-and-hub.md", "A second `pulumi up` shows no changes")).toBeUndefined();
        expect(pointerProblem("docs/configuration.md", "Token")).toBe("names no heading of docs/configuration.md");
        expect(pointerProblem("README", "Tokens")).toBe("names no heading of README.md");
        expect(pointerProblem("docs/nowhere.md", "Tokens")).toBe("names no page");
    });
});

/** The default a row's shape cell states: ``default `1m` ``, `` `ssh` (default) `` or `default empty`. */
function documentedDefault(shape: string): string | undefined {
    return /default `([^`]+)`/.exec(shape)?.[1] ?? /`([^`]+)` \(default\)/.exec(shape)?.[1] ?? (/default empty/.test(shape) ? "empty" : undefined);
}

/** The provider settings the program reads besides its own namespace. */
const PROVIDER_KEYS = ["cloudflare:apiToken", "github:token", "github:owner"];

/** Every key the program accepts: the schema's, `bootstrapSecrets`' entries (checked on their own, as a secret), the providers'. */
function acceptedKeys(): string[] {
    return [...keyPaths(schema), ...keyPaths(bootstrapSecretsSchema, "bootstrapSecrets"), ...PROVIDER_KEYS];
}

/**
 * The rule for "documented": a table row of docs/configuration.md whose first cell is the key as one code span
 * (`` `r2.buckets[].expireDays` ``) and whose last cell, what the key does, is not empty. Returns each such row's key
 * with its description.
 */
function documentedKeys(page = CONFIGURATION): Map<string, string> {
    return new Map([...documentedRows(page)].map(([k, cells]) => [k, cells.length > 1 ? cells[cells.length - 1] : ""]));
}

/** Each key row's cells after the key, trimmed: shape, what it does. */
function documentedRows(page = CONFIGURATION): Map<string, string[]> {
    const rows = new Map<string, string[]>();
    for (const t of allTokens(tokensOf(page))) {
        if (t.type !== "table") continue;
        for (const row of (t as Tokens.Table).rows) {
            const first = row[0].tokens;
            if (first.length !== 1 || first[0].type !== "codespan") continue;
            rows.set((first[0] as Tokens.Codespan).text, row.slice(1).map((c) => c.text.trim()));
        }
    }
    return rows;
}

describe("the configuration reference", () => {
    it("walks the schema into every key path", () => {
        const keys = acceptedKeys();
        expect(keys).toEqual(expect.arrayContaining([
            "cluster.name", "gitops.timeout", "tunnel.routes[].originServerName", "r2.buckets[].expireDays", "rotation.accessServiceTokens",
            "rotation.accessServiceTokens.<name>.previousSecretExpiresAt", "access.allow.githubOrganization.identityProviderId",
            "access.serviceTokens[].hostnames", "bootstrapSecrets[].data", "hub.serviceToken", "github:owner",
        ]));
        expect(new Set(keys).size).toBe(keys.length);
    });

    it("documents every key the program accepts, each with what it does", () => {
        const rows = documentedKeys();
        const missing = acceptedKeys().filter((k) => !rows.has(k));
        expect(missing, `keys without a row in ${CONFIGURATION}`).toEqual([]);
        const silent = [...rows].filter(([, what]) => what === "").map(([k]) => k);
        expect(silent, "rows that do not say what the key does").toEqual([]);
    });

    it("states each key's default as the schema has it, and no default the schema lacks", () => {
        const defaults = keyDefaults(schema);
        expect(Object.fromEntries(defaults)).toMatchObject({ "gitops.interval": "1m", "gitops.wait": "true", "tunnel.routes": "empty", adopt: "false" });
        const rows = documentedRows();
        const wrong: string[] = [];
        for (const [key, value] of defaults) {
            const shape = rows.get(key)?.[0] ?? "";
            // Renovate moves the pinned chart version: its row names the constant instead of the value.
            if (key === "flux.operatorChartVersion") {
                if (!rows.get(key)?.join(" ").includes("DEFAULT_OPERATOR_CHART_VERSION")) wrong.push(`${key}: does not name DEFAULT_OPERATOR_CHART_VERSION`);
                continue;
            }
            if (documentedDefault(shape) !== value) wrong.push(`${key}: the schema's default is ${value}, the row says ${documentedDefault(shape) ?? "none"}`);
        }
        for (const [key, cells] of rows) {
            const stated = documentedDefault(cells[0] ?? "");
            // A default computed from another key (`external.<domain>`) is the program's, not the schema's.
            if (stated !== undefined && !defaults.has(key) && !stated.includes("<")) wrong.push(`${key}: the row says default ${stated}, the schema has none`);
        }
        expect(wrong).toEqual([]);
    });

    it("documents no key the program does not accept", () => {
        const accepted = new Set(acceptedKeys());
        expect([...documentedKeys().keys()].filter((k) => !accepted.has(k))).toEqual([]);
    });
});

describe("the README, the front door", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("stays short: at most 20 KB, the reference in docs/", () => {
        expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(20 * 1024);
    });

    it("gives the two set-up commands and the first run on its first screen", () => {
        const firstScreen = readme.split("\n").slice(0, 60).join("\n");
        expect(firstScreen).toMatch(/^npm ci\b/m);
        expect(firstScreen).toMatch(/^npm test\b/m);
        expect(firstScreen).toContain("npm run plan -- infra");
        // .ci/run runs exactly the README's install and test commands.
        const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
        expect(ci).toMatch(/^npm ci\b/m);
        expect(ci).toMatch(/^npm test$/m);
    });

    it("gives first-run commands that work in a fresh clone: every --gitops-dir of the first run is a directory of the repository", () => {
        const firstRun = readme.split("\n## First run")[1]?.split("\n## ")[0] ?? "";
        const dirs = [...firstRun.matchAll(/^npm run .*--gitops-dir (\S+)/gm)].map((m) => m[1]);
        expect(dirs.length).toBeGreaterThan(0);
        for (const dir of dirs) expect(fs.statSync(path.join(ROOT, dir), { throwIfNoEntry: false })?.isDirectory(), dir).toBe(true);
    });
});
