// Benchmark: prints figures, asserts nothing. `npm run bench [-- --runs N]` (`--help` explains).
//  1. offline plan wall time per stack, as a ratio to the floor of loading the four provider SDKs in one Node
//     process (medians of N runs, both measured here and now);
//  2. the deployment graph's critical path: the longest chain of custom resources through dependencies, with the
//     stack's platform releases (each waits for the one before, the Flux Operator for the last) and without them;
//  3. GitHub requests per run: the plan of each stack with `--gitops-dir test/fixtures/gitops`, through the reader that
//     counts the program's file reads (each is exactly one request of the live reader, providers/github-files.ts).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { criticalPath } from "../offline/graph";
import { readStackSettings } from "../offline/stack-file";
import { ROOT } from "../config/keys";
import { flagValue, parseOrExit, UsageError, runAsMain } from "./cli";

const USAGE = "usage: npm run bench [-- --runs N]";

const HELP = `${USAGE}

Prints, and asserts nothing: the offline plan's wall time per stack as a ratio to loading the four provider SDKs in
one Node process (target 2x or less), and the deployment graph's critical path, the longest chain of custom
resources through dependencies, with the stack's platform releases and without them (target 6 or fewer, plus one
per platform release: they are installed one after another), and the GitHub requests a run makes to read the platform
releases' files (the plan with --gitops-dir test/fixtures/gitops, counted). docs/development.md: Benchmarks.

options:
  --runs N     how many times each figure is measured; the median is printed (a whole number from 1 to 100, default 5)
  -h, --help   this text
`;

export function parseBenchArgs(argv: string[]): { runs: number } {
    let runs = 5;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-h" || a === "--help") throw new UsageError("");
        if (a === "--runs" || a.startsWith("--runs=")) {
            const { value, next } = flagValue(argv, i, "--runs", "a whole number of runs");
            if (!/^[1-9][0-9]*$/.test(value) || Number(value) > 100) throw new UsageError(`--runs ${JSON.stringify(value)}: give a whole number from 1 to 100`);
            runs = Number(value);
            i = next;
        } else throw new UsageError(a.startsWith("-") ? `unknown option ${a}` : `unexpected argument ${JSON.stringify(a)}: the bench plans both stacks`);
    }
    return { runs };
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

// Runs only as the script itself, so tests can import its functions.
runAsMain(__filename, main, (e) => String((e as Error)?.stack ?? e));
