// Benchmark: prints figures, asserts nothing. `npm run bench [-- --runs N]` (`--help` explains).
//  1. offline plan wall time per stack, as a ratio to the floor of loading the four provider SDKs in one Node
//     process (medians of N runs, both measured here and now);
//  2. the deployment graph's critical path: the longest chain of custom resources through dependencies, with the
//     stack's platform releases (each waits for the one before, the Flux Operator for the last) and without them;
//  3. GitHub requests per run: the plan of each stack with `--gitops-dir test/fixtures/gitops`, through the reader that
//     counts the program's file reads (each is exactly one request of the live reader, providers/github-files.ts).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { criticalPath } from "../offline/graph";
import { readStackSettings } from "../offline/stack-file";
import { ROOT } from "../config/keys";
import { flagValue, parseOrExit, UsageError, runAsMain } from "./cli";

const USAGE = "usage: npm run bench [-- --runs N] [--suite]";

const HELP = `${USAGE}

Prints, and asserts nothing: the offline plan's wall time per stack as a ratio to loading the four provider SDKs in
one Node process (target 2x or less), and the deployment graph's critical path, the longest chain of custom
resources through dependencies, with the stack's platform releases and without them (target 6 or fewer, plus one
per platform release: they are installed one after another), and the GitHub requests a run makes to read the platform
releases' files (the plan with --gitops-dir test/fixtures/gitops, counted). docs/development.md: Benchmarks.

With --suite, instead: the wall time of \`npm test\`'s parts (the Node check and tsc, then vitest as configured) against
its target of 90 s, what CI adds (the two offline plans), and the test files that took longest.

options:
  --runs N     how many times each figure is measured; the median is printed (a whole number from 1 to 100, default 5)
  --suite      time the test suite instead of the plan
  -h, --help   this text
`;

export function parseBenchArgs(argv: string[]): { runs: number; suite?: true } {
    let runs = 5;
    let suite = false;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-h" || a === "--help") throw new UsageError("");
        if (a === "--suite") {
            suite = true;
            continue;
        }
        if (a === "--runs" || a.startsWith("--runs=")) {
            const { value, next } = flagValue(argv, i, "--runs", "a whole number of runs");
            if (!/^[1-9][0-9]*$/.test(value) || Number(value) > 100) throw new UsageError(`--runs ${JSON.stringify(value)}: give a whole number from 1 to 100`);
            runs = Number(value);
            i = next;
        } else throw new UsageError(a.startsWith("-") ? `unknown option ${a}` : `unexpected argument ${JSON.stringify(a)}: the bench plans both stacks`);
    }
    return suite ? { runs, suite: true } : { runs };
}

const TARGET_RATIO = 2;
/** The GitOps checkout the request count is taken on. */
const GITOPS_FIXTURE = path.join(ROOT, "test", "fixtures", "gitops");
/** Without platform releases; each release may add one (they are installed one after another). */
const TARGET_DEPTH = 6;

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeRun(cmd: string, args: string[]): number {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return ms;
}

async function main(): Promise<number> {
    const args = parseOrExit(() => parseBenchArgs(process.argv.slice(2)), HELP, USAGE);
    if (typeof args === "number") return args;
    if (args.suite) return suiteBench();
    const { runs } = args;
    // The program, the mock runtime and the provider SDKs, loaded only now: --help and usage errors answer at once.
    const { runOffline, toPlanJson } = require("../offline/runtime") as typeof import("../offline/runtime");
    const node = process.execPath;
    const hooks = ["--import", "./scripts/register.mjs"];
    const floorScript = ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/cloudflare", "@pulumi/github"]
        .map((m) => `require(${JSON.stringify(m)});`).join("");

    // Interleaved, so that load on the machine affects both sides alike.
    const floor: number[] = [];
    const plans: Record<string, number[]> = { infra: [], apps: [] };
    for (let i = 0; i < runs; i++) {
        floor.push(timeRun(node, ["-e", floorScript]));
        for (const stack of Object.keys(plans)) plans[stack].push(timeRun(node, [...hooks, "scripts/plan.ts", stack, "--json"]));
    }
    const f = median(floor);
    console.log(`runs per figure: ${runs} (medians), node ${process.version}`);
    console.log(`floor: load @pulumi/{pulumi,kubernetes,cloudflare,github}  ${f.toFixed(0)} ms`);
    for (const [stack, xs] of Object.entries(plans)) {
        const m = median(xs);
        const ratio = m / f;
        console.log(`plan ${stack.padEnd(5)}  ${m.toFixed(0)} ms  = ${ratio.toFixed(2)}x floor  (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? "met" : "NOT met"})`);
    }

    for (const stack of Object.keys(plans)) {
        const settings = readStackSettings(path.join(ROOT, `Pulumi.${stack}.yaml`));
        const depth = async (config: Record<string, string>) => {
            const run = await runOffline({ stack, ...settings, config });
            if (run.error) throw run.error;
            const plan = toPlanJson(run);
            const releases = plan.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.parent.includes("PlatformReleases")).length;
            return { chain: criticalPath(plan.resources), count: plan.resources.filter((r) => r.custom).length, releases };
        };
        const { [`cluster-bootstrap:platform`]: _platform, ...bare } = settings.config;
        const base = await depth(bare);
        const full = await depth(settings.config);
        const target = TARGET_DEPTH + full.releases;
        console.log(`critical path ${stack}: ${full.chain.length} of ${full.count} custom resources with ${full.releases} platform releases, ` +
            `${base.chain.length} without (+${full.chain.length - base.chain.length}; target <= ${TARGET_DEPTH} + ${full.releases}: ${full.chain.length <= target ? "met" : "NOT met"})`);
        for (const urn of full.chain) console.log(`  ${urn.split("::").slice(2).join("::")}`);
    }

    // Each file the program reads is one request of the live reader: counting the plan's reads counts them.
    for (const stack of Object.keys(plans)) {
        const settings = readStackSettings(path.join(ROOT, `Pulumi.${stack}.yaml`));
        const run = await runOffline({ stack, ...settings, gitopsDir: GITOPS_FIXTURE });
        if (run.error) throw run.error;
        const releases = toPlanJson(run).resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.parent.includes("PlatformReleases")).length;
        const missed = run.reads.filter((r) => !r.found).length;
        console.log(`GitHub requests per run ${stack}: ${run.reads.length} for ${releases} platform releases (--gitops-dir test/fixtures/gitops` +
            `${missed ? `; ${missed} of them for a file that is not there` : ""})`);
    }
    return 0;
}

/** `npm test` is at most this many seconds on the project's 2-core machines (docs/development.md: Benchmarks). */
const TARGET_SUITE_SECONDS = 90;

/** The test suite's wall time, part by part, and its slowest files: what a change to the tests costs. */
function suiteBench(): number {
    const node = process.execPath;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const check = timeRun(node, ["scripts/node-version.cjs"]) + timeRun(node, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "--noEmit"]);
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-suite-")), "vitest.json");
    const vitest = timeRun(node, [path.join(ROOT, "node_modules", "vitest", "vitest.mjs"), "run", "--reporter=json", `--outputFile=${report}`]);
    const plans = ["infra", "apps"].reduce((sum, stack) => sum + timeRun(node, ["--import", "./scripts/register.mjs", "scripts/plan.ts", stack, "--json"]), 0);
    const total = check + vitest;
    console.log(`node ${process.version}, ${os.availableParallelism()} cores`);
    console.log(`npm test: ${seconds(total)} (node check and tsc ${seconds(check)}, vitest ${seconds(vitest)}); target <= ${TARGET_SUITE_SECONDS} s: ${total / 1000 <= TARGET_SUITE_SECONDS ? "met" : "NOT met"}`);
    console.log(`CI adds the offline plan of both stacks: ${seconds(plans)} (and npm ci, not measured here)`);
    const results = (JSON.parse(fs.readFileSync(report, "utf8")) as { testResults: Array<{ name: string; startTime: number; endTime: number }> }).testResults;
    console.log("slowest test files:");
    for (const r of [...results].sort((a, b) => (b.endTime - b.startTime) - (a.endTime - a.startTime)).slice(0, 10)) {
        console.log(`  ${seconds(r.endTime - r.startTime).padStart(7)}  ${path.relative(ROOT, r.name)}`);
    }
    return 0;
}

// Runs only as the script itself, so tests can import its functions.
runAsMain(__filename, main, (e) => String((e as Error)?.stack ?? e));
