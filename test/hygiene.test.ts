// Input hygiene, from configs mutated the way people get them wrong: YAML the CLI would not read as meant, secrets
// where plain values go, multi-line pastes, odd key names and typos outside the project's namespace. Each is refused
// with the key named, in one line, without a stack trace and without echoing a secret.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, validateConfig } from "../config";
import { ROOT } from "../config/keys";
import { runStack, TEST_AGE_KEY, testKubeconfig, validValues } from "./harness";

const GH_TOKEN = "ghp_SENTINELsentinelSENTINELsentinel0042";

function plan(...args: string[]) {
    return spawnSync(process.execPath, ["--import", "./scripts/register.mjs", "scripts/plan.ts", ...args], { cwd: ROOT, encoding: "utf8" });
}

function stackFile(text: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hygiene-")), "Pulumi.test.yaml");
    fs.writeFileSync(file, text);
    return file;
}

const base = () => fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8");

/** Runs the plan on a file; checks the common promises: exit 1, nothing on stdout, no trace, no token. */
function refused(text: string): string[] {
    const file = stackFile(text);
    const r = plan("infra", "--json", "--config", file);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain("SENTINEL");
    return r.stderr.trim().split("\n").filter((l) => !l.startsWith("note:")).map((l) => l.replace(file, "FILE"));
}

describe("stack files the CLI would not read as meant", () => {
    it("reports a duplicate key at its place, without the line that holds the token", () => {
        expect(refused(`${base()}  github:token: ${GH_TOKEN}\n  github:token: ${GH_TOKEN}\n`)).toEqual([
            `FILE:${base().split("\n").length + 1}:3: Map keys must be unique`,
        ]);
    });

    it("reports an unterminated quote and an undefined alias", () => {
        expect(refused(`${base()}  github:token: "${GH_TOKEN}\n`)[0]).toMatch(/^FILE:\d+:\d+: Missing closing "quote$/);
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
        const r = spawnSync(process.execPath, ["--import", "./scripts/register.mjs", "scripts/plan.ts", "infra", "--config", stackFile(text)], { cwd: ROOT, encoding: "utf8" });
        expect(r.stderr).not.toContain("Warning");
        expect(refused(text).map((l) => l.replace(/^FILE:\d+:\d+: /, ""))).toEqual([
            "cluster-bootstrap:cluster.id: YAML tags (!!float) are not supported; write the plain value",
            "cluster-bootstrap:renameFrom: YAML tags (!custom) are not supported; write the plain value",
        ]);
    });

    it("refuses a secret inside a setting that is not secret (pulumi config set --path --secret)", () => {
        expect(refused(base().replace("    path: clusters/infra/flux", "    path:\n      secure: v1:c2VjcmV0"))).toEqual([
            "cluster-bootstrap:gitops: holds a secret value (set with --secret), but it is not a secret setting and would land in plain text in resource inputs and state; set it without --secret",
        ]);
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
