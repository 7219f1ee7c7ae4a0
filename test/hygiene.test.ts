// Input hygiene, from configs mutated the way people get them wrong: YAML the CLI would not read as meant, secrets
// where plain values go, multi-line pastes, odd key names and typos outside the project's namespace. Each is refused
// with the key named, in one line, without a stack trace and without echoing a secret.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { ConfigError, validateConfig, yamlErrorDescription } from "../config";
import { readStackSettings, StackFileError } from "../offline/stack-file";
import { ROOT } from "../config/keys";
import { runStack, TEST_AGE_KEY, testKubeconfig, validValues } from "./harness";
import { runPlan } from "./plan-command";

const GH_TOKEN = "ghp_SENTINELsentinelSENTINELsentinel0042";

function plan(args: string[], env: NodeJS.ProcessEnv = process.env) {
    return runPlan(args, env);
}

function stackFile(text: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hygiene-")), "Pulumi.test.yaml");
    fs.writeFileSync(file, text);
    return file;
}

const base = () => fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8");

/** Reads a file as the plan does, in-process: the problems it is refused with (the file named FILE), none showing the token. */
function refused(text: string): string[] {
    const file = stackFile(text);
    let problems: string[] | undefined;
    try {
        readStackSettings(file);
    } catch (e) {
        if (!(e instanceof StackFileError)) throw e;
        problems = e.problems;
    }
    expect(problems, "the file was accepted").toBeDefined();
    for (const p of problems!) expect(p).not.toContain("SENTINEL");
    return problems!.map((l) => l.replace(file, "FILE"));
}

describe("stack files the CLI would not read as meant", () => {
    it("reports a duplicate key at its place, without the line that holds the token", () => {
        expect(refused(`${base()}  github:token: ${GH_TOKEN}\n  github:token: ${GH_TOKEN}\n`)).toEqual([
            `FILE:${base().split("\n").length + 1}:3: ${yamlErrorDescription("DUPLICATE_KEY")}`,
        ]);
    });

    it("reports an unterminated quote and an undefined alias", () => {
        expect(refused(`${base()}  github:token: "${GH_TOKEN}\n`)).toEqual([
            `FILE:${base().split("\n").length + 1}:1: ${yamlErrorDescription("MISSING_CHAR")}`,
        ]);
        expect(refused(`${base()}  cluster-bootstrap:renameFrom: *nowhere\n`)).toEqual([
            `FILE:${base().split("\n").length}:33: cluster-bootstrap:renameFrom: the alias refers to no anchor defined before it`,
        ]);
    });

    it("reports nesting too deep for the parser in one line", () => {
        const lines = refused(`config:\n  x: ${"[".repeat(3000)}${"]".repeat(3000)}\n`);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^FILE:2:\d+: /);
    });

    it("refuses YAML tags, naming the key, instead of dropping them with a warning", () => {
        const text = base().replace("    id: 1", "    id: !!float 1") + `  cluster-bootstrap:renameFrom: !custom ${GH_TOKEN}\n`;
        const warn = vi.spyOn(process, "emitWarning");
        expect(refused(text).map((l) => l.replace(/^FILE:\d+:\d+: /, ""))).toEqual([
            "cluster-bootstrap:cluster.id: YAML tags (!!float) are not supported; write the plain value",
            "cluster-bootstrap:renameFrom: YAML tags (!custom) are not supported; write the plain value",
        ]);
        expect(warn).not.toHaveBeenCalled();
        warn.mockRestore();
    });

    it("never shows a secret the file holds in plain text, even as part of a tag", () => {
        // Nothing about this token looks like one: only its being the file's github:token hides it.
        const token = "m2n6b0v4c8x1z5l9k3j7h0g4f8d2s6a1p5o9i3u7";
        const text = `${base()}  github:token: ${token}\n  cluster-bootstrap:renameFrom: !${token.slice(4, 30)} x\n`;
        expect(refused(text).map((l) => l.replace(/^FILE:\d+:\d+: /, ""))).toEqual([
            "cluster-bootstrap:renameFrom: YAML tags (!(secret github:token, not shown)) are not supported; write the plain value",
        ]);
    });

    it("refuses a secret inside a setting that is not secret (pulumi config set --path --secret): exit 1, no plan, no trace", async () => {
        const r = await plan(["infra", "--json", "--config", stackFile(base().replace("    path: clusters/infra/flux", "    path:\n      secure: v1:c2VjcmV0"))]);
        expect(r.status, r.stderr).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).not.toMatch(/^\s+at /m);
        expect(r.stderr.trim().split("\n").filter((l) => !l.startsWith("note:"))).toEqual([
            "cluster-bootstrap:gitops: holds a secret value (set with --secret), but it is not a secret setting and would land in plain text in resource inputs and state; set it without --secret",
        ]);
    });
});

describe("the plan never shows a secret of the stack or the environment, wherever it was put", () => {
    it("tokens of every kind in wrong keys: each key named, no value, nor 12 characters of one", async () => {
        // Lowercase, dash-free values that no credential shape recognises: only their being secrets hides them.
        const cloudflare = "q4w8e2r6t0y3u7i1o5p9a2s6d0f4g8h1j5k9l3z7";
        const github = "m2n6b0v4c8x1z5l9k3j7h0g4f8d2s6a1p5o9i3u7";
        const envToken = "r7t1y5u9i3o6p0a4s8d1f5g9h2j6k0l3z7x1c5v8";
        const passphrase = "the stack passphrase, kept 4 years";
        const text = base()
            .replace("    domain: monosense.dev", `    domain: ${github}`)
            .replace("    gateway: https://envoy-external.networking.svc.cluster.local", `    gateway: ${cloudflare}`)
            .replace("    repository: monosense/k8s-ops", `    repository: ${envToken}`)
            + `  cloudflare:apiToken: ${cloudflare}\n  github:token: ${github}\n  cluster-bootstrap:renameFrom: "${passphrase}"\n`;
        const r = await plan(["infra", "--config", stackFile(text)], { ...process.env, GITHUB_TOKEN: envToken, PULUMI_CONFIG_PASSPHRASE: passphrase });
        expect(r.status, r.stderr).toBe(1);
        expect(r.stdout).toBe("");
        const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("note:"));
        expect(lines).toEqual([
            "cluster-bootstrap:cluster.domain: (secret github:token, not shown) is not a valid DNS name",
            "cluster-bootstrap:renameFrom: (secret PULUMI_CONFIG_PASSPHRASE, not shown) is not a cluster name (a DNS label)",
            "cluster-bootstrap:gitops.repository: (secret GITHUB_TOKEN, not shown) is not a GitHub repository in the form owner/name",
            "cluster-bootstrap:tunnel.gateway: (secret cloudflare:apiToken, not shown) is not a service URL such as https://envoy-external.networking.svc.cluster.local",
        ]);
        // What is left once the places that say which secret was hidden there are taken out.
        const shown = r.stderr.replace(/\(secret [^()]*, not shown\)/g, "").toLowerCase();
        for (const secret of [cloudflare, github, envToken, passphrase]) {
            for (let i = 0; i + 12 <= secret.length; i++) expect(shown).not.toContain(secret.slice(i, i + 12));
        }
    });
});

describe("a YAML mistake on a secret's own line", () => {
    // Each secret key of a stack file, with a value of the kind it holds; `> value` on one line is what the issue saw.
    const line = base().split("\n").length;
    const cases: Array<{ key: string; text: (mistake: string) => string; at: number }> = [
        { key: "cloudflare:apiToken", text: (m) => `  cloudflare:apiToken: ${m}\n`, at: line },
        { key: "github:token", text: (m) => `  github:token: ${m}\n`, at: line },
        { key: "sopsAgeKey", text: (m) => `  cluster-bootstrap:sopsAgeKey: ${m}\n`, at: line },
        { key: "kubeconfig", text: (m) => `  cluster-bootstrap:kubeconfig:\n    apiVersion: v1\n    users:\n      - name: admin\n        user:\n          token: ${m}\n`, at: line + 5 },
        { key: "bootstrapSecrets", text: (m) => `  cluster-bootstrap:bootstrapSecrets:\n    - namespace: vault\n      name: vault-token\n      data:\n        token: ${m}\n`, at: line + 4 },
    ];
    const secret = "SENTINEL-0123456789abcdefSENTINEL";
    // Each mistake, the error code it gives and the column of the error counted from the value's start.
    const mistakes = [
        { text: `> ${secret}`, code: "UNEXPECTED_TOKEN", offset: 2 },
        { text: `@${secret}`, code: "BAD_SCALAR_START", offset: 0 },
        { text: `${secret}: x`, code: "BLOCK_AS_IMPLICIT_KEY", offset: 0 },
        { text: `"${secret}\\q"`, code: "BAD_DQ_ESCAPE", offset: secret.length + 1 },
    ];

    for (const c of cases) {
        it(`${c.key}: FILE:LINE:COL and a fixed description, never the value`, () => {
            for (const m of mistakes) {
                const text = c.text(m.text);
                const lastLine = text.trimEnd().split("\n").pop()!;
                const col = lastLine.length - m.text.length + m.offset + 1;
                const found = refused(`${base()}${text}`);
                expect(found, m.text).toEqual([`FILE:${c.at}:${col}: ${yamlErrorDescription(m.code)}`]);
                for (let i = 0; i + 12 <= secret.length; i++) expect(found[0]).not.toContain(secret.slice(i, i + 12));
            }
        });
    }

    it("every code the parser has gets a fixed description of its own", () => {
        // The codes as the installed parser declares them (`export type ErrorCode = 'ALIAS_PROPS' | …`).
        const declared = fs.readFileSync(path.join(ROOT, "node_modules/yaml/dist/errors.d.ts"), "utf8");
        const codes = [.../export type ErrorCode = ([^;]+);/.exec(declared)![1].matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1]);
        expect(codes.length).toBeGreaterThan(20);
        const descriptions = codes.map(yamlErrorDescription);
        expect(descriptions).not.toContain(yamlErrorDescription("NOT_A_CODE"));
        expect(new Set(descriptions).size).toBe(codes.length);
    });
});

describe("the program's own checks of what the CLI hands over", () => {
    const problems = async (opts: Parameters<typeof runStack>[0]) => {
        const run = await runStack(opts);
        expect(run.error).toBeInstanceOf(ConfigError);
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
        return (run.error as ConfigError).problems;
    };

    it("refuses a decrypted secret arriving under a setting that is not secret", async () => {
        expect(await problems({ secretValues: ["gitops"] })).toEqual([
            "cluster-bootstrap:gitops: holds a secret value (set with --secret), but it is not a secret setting and would land in plain text in resource inputs and state; set it without --secret",
        ]);
    });

    it("refuses multi-line and padded values where names, paths and versions go, without echoing a pasted file", async () => {
        const pasted = testKubeconfig({ token: "PASTED-TOKEN-7" });
        const found = await problems({
            edit: (v) => ({
                ...v,
                gitops: { ...(v.gitops as object), path: pasted, name: "infra " },
                flux: { version: "2.7.x\n2.8.x" },
            }),
        });
        expect(found).toEqual([
            "cluster-bootstrap:gitops.path: contains the control character \\n (a line break): a URL, hostname or path must be one line of printable characters; the value is not shown",
            'cluster-bootstrap:gitops.name: "infra " is not a valid Kubernetes object name',
            "cluster-bootstrap:flux.version: (a value that is not shown: it spans several lines, is very long or looks like a credential) is not a Flux version or semver range such as 2.7.x",
        ]);
        expect(JSON.stringify(found)).not.toContain("PASTED-TOKEN-7");
        expect((await problems({ edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), path: "infra " } }) }))).toEqual([
            'cluster-bootstrap:gitops.path: "infra " must not contain spaces',
        ]);
    });

    it("bounds gitops.timeout and gitops.interval", async () => {
        expect(await problems({ edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), timeout: "999999999999999999999h", interval: "1s" } }) })).toEqual([
            'cluster-bootstrap:gitops.interval: "1s" must be from 10s to 24h',
            'cluster-bootstrap:gitops.timeout: "999999999999999999999h" must be from 1s to 24h',
        ]);
    });

    it("reports prototype names as unknown settings", async () => {
        expect(await problems({ config: { constructor: "x", toString: "y" } })).toEqual([
            "cluster-bootstrap:constructor: is not a known setting",
            "cluster-bootstrap:toString: is not a known setting",
        ]);
    });

    it("names typos and ignored settings outside the project's namespace", async () => {
        expect(await problems({
            providerConfig: {
                "github:ownr": "monosense", "cloudflare:apitoken": "x", "cluster_bootstrap:flux": "{}",
                "cluster-boostrap:gitops": "{}", "kubernetes:context": "admin@apps", "github:baseUrl": "https://127.0.0.1",
            },
        })).toEqual([
            "github:ownr: is not read: the program's GitHub provider takes only github:token and github:owner (did you mean github:owner?)",
            "cloudflare:apitoken: is not a setting of this program or of its providers (did you mean cloudflare:apiToken?)",
            "cluster_bootstrap:flux: is not a setting of this program or of its providers (did you mean cluster-bootstrap:flux?)",
            "cluster-boostrap:gitops: is not a setting of this program or of its providers (did you mean cluster-bootstrap:gitops?)",
            "kubernetes:context: is not read: the program's Kubernetes provider takes only cluster-bootstrap:kubeconfig and cluster-bootstrap:kubeContext",
            "github:baseUrl: is not read: the program's GitHub provider takes only github:token and github:owner",
        ]);
    });

    it("checks the kubeconfig's shape and context without showing it", async () => {
        for (const bad of ["off", "- a\n- b\n", "apiVersion: v1\nkind: Config\n"]) {
            expect(await problems({ secrets: { kubeconfig: bad } }), bad).toEqual([
                "cluster-bootstrap:kubeconfig: is not a kubeconfig (YAML with clusters, users and contexts, as `talosctl kubeconfig` writes it); the value is not shown",
            ]);
        }
        expect(await problems({ secrets: { kubeconfig: testKubeconfig({ context: "admin@apps" }) } })).toEqual([
            'cluster-bootstrap:kubeContext: "admin@infra" is not a context of cluster-bootstrap:kubeconfig (its contexts: "admin@apps")',
        ]);
        expect(await problems({ config: { kubeContext: undefined }, secrets: { kubeconfig: testKubeconfig({ currentContext: null }) } })).toEqual([
            'cluster-bootstrap:kubeContext: is required: cluster-bootstrap:kubeconfig sets no current-context (its contexts: "admin@infra")',
        ]);
        const run = await runStack({ config: { kubeContext: undefined }, secrets: { kubeconfig: testKubeconfig() } });
        expect(run.error).toBeUndefined();
    });
});

describe("key names in messages", () => {
    const valid = validValues;

    it("never prints a secret pasted as a key name, and escapes line breaks and escape sequences", async () => {
        const r = await validateConfig({ values: valid(), unknownKeys: [TEST_AGE_KEY, GH_TOKEN, "a\nb: is not a known setting", "x\u001b[2Jy"] });
        expect(r.problems).toEqual([
            "cluster-bootstrap:(a name that is not shown): is not a known setting",
            "cluster-bootstrap:(a name that is not shown): is not a known setting",
            "cluster-bootstrap:(a name that is not shown): is not a known setting",
            'cluster-bootstrap:"x\\u001b[2Jy": is not a known setting',
        ]);
        for (const p of r.problems) expect(p).not.toMatch(/[\n\u001b]/);
    });

    it("escapes nested unknown keys the same way", async () => {
        const values = valid();
        (values.cluster as Record<string, unknown>)["evil\nkey"] = 1;
        (values.cluster as Record<string, unknown>)[GH_TOKEN] = 1;
        const r = await validateConfig({ values });
        expect(r.problems).toEqual([
            "cluster-bootstrap:cluster.(a name that is not shown): is not a known setting",
            "cluster-bootstrap:cluster.(a name that is not shown): is not a known setting",
        ]);
    });
});
