// The command lines a new user meets first: every script explains itself with --help, resolves paths from where the
// user typed the command, and answers each mistake with one message that says what to do.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument, type YAMLSeq } from "yaml";
import { validateConfig } from "../config";
import { ROOT } from "../config/keys";
import { parseBenchArgs } from "../scripts/bench";
import { stackFiles, UsageError, userPath } from "../scripts/cli";
import { parseArgs as parsePlanArgs } from "../scripts/plan";
import { TEST_AGE_KEY, TEST_AGE_RECIPIENT } from "./harness";
import { runPlan } from "./plan-command";

const script = (name: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, ["--import", "./scripts/register.mjs", `scripts/${name}.ts`, ...args], { cwd: ROOT, encoding: "utf8", env });

/**
 * The committed infra stack with 150 more buckets and 60 more routes, after its own: a plan several times a pipe's
 * 64 KiB buffer, whatever size the committed stack's own plan has.
 */
function bigStackFile(): string {
    const doc = parseDocument(fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8"));
    const append = (keys: string[], items: object[]) =>
        doc.setIn(keys, doc.createNode([...((doc.getIn(keys) as YAMLSeq | undefined)?.toJSON() ?? []), ...items]));
    append(["config", "cluster-bootstrap:r2", "buckets"], Array.from({ length: 150 }, (_, i) => ({ name: `infra-bucket-${i}`, purpose: `bucket${i}` })));
    append(["config", "cluster-bootstrap:tunnel", "routes"], Array.from({ length: 60 }, (_, i) =>
        ({ hostname: `app${i}.monosense.dev`, service: `http://app${i}.default.svc.cluster.local:8080` })));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-pipe-")), "big.yaml");
    fs.writeFileSync(file, doc.toString());
    return file;
}

describe("--help", () => {
    it.each(["plan", "bench", "dr", "check", "verify"])("%s explains every option and exits 0", (name) => {
        const r = script(name, ["--help"]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toBe("");
        const usage = r.stdout.split("\n")[0];
        expect(usage).toMatch(new RegExp(`^usage: npm run ${name}`));
        // Every flag of the usage line has its own line under "options:".
        const options = r.stdout.slice(r.stdout.indexOf("\noptions:\n"));
        for (const flag of usage.match(/--[a-z-]+/g) ?? []) expect(options, `${name} ${flag}`).toMatch(new RegExp(`\\n\\s+(-\\w, )?${flag}\\b`));
        expect(options).toMatch(/\n\s+-h, --help\s+this text/);
    });
});

describe("paths as the user typed them", () => {
    it("resolves from npm's INIT_CWD, else the working directory", () => {
        expect(userPath("stacks/x.yaml", { INIT_CWD: "/home/me/ops" })).toBe("/home/me/ops/stacks/x.yaml");
        expect(userPath("/abs/x.yaml", { INIT_CWD: "/home/me" })).toBe("/abs/x.yaml");
        expect(userPath("x.yaml", {})).toBe(path.resolve("x.yaml"));
        expect(parsePlanArgs(["infra", "--config", "my.yaml"], { INIT_CWD: "/home/me" }).file).toBe("/home/me/my.yaml");
        expect(parsePlanArgs(["infra", "--config=../my.yaml"], { INIT_CWD: "/home/me/x" }).file).toBe("/home/me/my.yaml");
    });

    it("plans a --config file relative to where npm was run", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cwd-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.apps.yaml"), path.join(dir, "mine.yaml"));
        const r = await runPlan(["apps", "--json", "--config", "mine.yaml"], { INIT_CWD: dir });
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout).stack).toBe("apps");
    });
});

describe("one message per mistake", () => {
    it("lists the stacks there are when the stack has no settings file", async () => {
        const r = await runPlan(["infar"]);
        expect(r.status).toBe(2);
        expect(r.stderr).toBe(`no stack "infar" here: there is no Pulumi.infar.yaml (stacks with a settings file: ${stackFiles(ROOT).join(", ")}; or pass --config FILE)\n`);
        expect(stackFiles(ROOT)).toEqual(expect.arrayContaining(["apps", "infra"]));
    });

    it("refuses --runs that is not a whole number from 1 to 100", () => {
        expect(parseBenchArgs([])).toEqual({ runs: 5 });
        expect(parseBenchArgs(["--runs", "3"])).toEqual({ runs: 3 });
        expect(parseBenchArgs(["--runs=12"])).toEqual({ runs: 12 });
        expect(parseBenchArgs(["--suite"])).toEqual({ runs: 5, suite: true });
        for (const bad of ["0", "x", "2.5", "101", "1e2"]) {
            expect(() => parseBenchArgs(["--runs", bad]), bad).toThrow(`--runs ${JSON.stringify(bad)}: give a whole number from 1 to 100`);
        }
        expect(() => parseBenchArgs(["--runs"])).toThrow("--runs needs a whole number of runs");
        expect(() => parseBenchArgs(["--runs", "-1"])).toThrow("--runs needs a whole number of runs");
        expect(() => parseBenchArgs(["infra"])).toThrow(UsageError);
    });

    const valid = () => ({
        cluster: { name: "infra", id: 1, domain: "monosense.dev" }, kubeContext: "admin@infra",
        gitops: { repository: "monosense/k8s-ops", branch: "main", path: "clusters/infra/flux" }, flux: { version: "2.7.x" },
        tunnel: { gateway: "https://envoy-external.networking.svc.cluster.local" },
        r2: { buckets: [{ name: "infra-volsync", purpose: "volsync" }] }, sops: { recipient: TEST_AGE_RECIPIENT },
        sopsAgeKey: TEST_AGE_KEY, cloudflareAccountId: "eca0833f608b5745af030307a99bdbb4",
    });

    it.each([
        ["https://github.com/monosense/k8s-ops"],
        ["https://github.com/monosense/k8s-ops.git"],
        ["git@github.com:monosense/k8s-ops.git"],
        ["ssh://git@github.com/monosense/k8s-ops"],
        ["monosense/k8s-ops.git"],
    ])("takes the repository %s as one mistake, with what to write", async (repository) => {
        const values = valid();
        values.gitops.repository = repository;
        expect((await validateConfig({ values, githubOwner: "monosense" })).problems).toEqual([
            `cluster-bootstrap:gitops.repository: ${JSON.stringify(repository)} is not a GitHub repository in the form owner/name: write "monosense/k8s-ops"`,
        ]);
    });

    it("says to use lowercase where only case is wrong", async () => {
        const values = valid() as ReturnType<typeof valid> & { tunnel: Record<string, unknown> };
        values.cluster.domain = "Monosense.DEV";
        values.tunnel.originHost = "External.monosense.dev";
        values.tunnel.routes = [{ hostname: "Grafana.monosense.dev", service: "http://grafana.observability.svc:80", originServerName: "Grafana.local" }];
        expect((await validateConfig({ values })).problems).toEqual([
            'cluster-bootstrap:cluster.domain: "Monosense.DEV" is not a valid DNS name: use lowercase ("monosense.dev")',
            'cluster-bootstrap:tunnel.originHost: "External.monosense.dev" is not a valid DNS name: use lowercase ("external.monosense.dev")',
            'cluster-bootstrap:tunnel.routes[0].hostname: "Grafana.monosense.dev" is not a valid hostname: use lowercase ("grafana.monosense.dev")',
            'cluster-bootstrap:tunnel.routes[0].originServerName: "Grafana.local" is not a valid hostname: use lowercase ("grafana.local")',
        ]);
        values.cluster.domain = "mono_sense.dev";
        expect((await validateConfig({ values: { ...values, tunnel: { gateway: values.tunnel.gateway } } })).problems).toEqual([
            'cluster-bootstrap:cluster.domain: "mono_sense.dev" is not a valid DNS name',
        ]);
    });

    it("names a misspelt project namespace as unknown, with the key meant", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ns-")), "Pulumi.infra.yaml");
        fs.writeFileSync(file, `${fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8")}  cluster-boostrap:flux:\n    version: 2.8.x\n`);
        const r = await runPlan(["infra", "--config", file]);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n").filter((l) => l && !l.startsWith("note:"))).toEqual([
            "cluster-boostrap:flux: is not a setting of this program or of its providers (did you mean cluster-bootstrap:flux?)",
        ]);
    });
});

describe("output through a pipe", () => {
    it("reaches a reading process whole: a plan of several hundred KB parses at the other end", () => {
        // Many buckets and routes make the plan far larger than a pipe's 64 KiB buffer, where an exit with output still
        // queued used to cut it off (a file took it whole, so only a pipe shows it).
        const file = bigStackFile();
        // The reader is another process at the far end of a shell pipe, as in `npm run -s plan -- infra --json | jq`.
        const command = `${JSON.stringify(process.execPath)} --import ./scripts/register.mjs scripts/plan.ts infra --json --config ${JSON.stringify(file)}`
            + ` | ${JSON.stringify(process.execPath)} -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>{const p=JSON.parse(s);`
            + `process.stdout.write(JSON.stringify({bytes:Buffer.byteLength(s),resources:p.resources.length}))})'`;
        const r = spawnSync("bash", ["-o", "pipefail", "-c", command], { cwd: ROOT, encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        const seen = JSON.parse(r.stdout) as { bytes: number; resources: number };
        expect(seen.bytes).toBeGreaterThan(300 * 1024);
        expect(seen.resources).toBeGreaterThan(300);
    });

    it("ends quietly with the run's own code when the reader stops early, as `| head` does", () => {
        // A script run as the scripts run (runAsMain): 1 MiB for a reader that leaves after 100 bytes, far more than the
        // pipe's buffer, so the writer always meets the closed pipe; then a line on stderr and its own exit code.
        const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-head-")), "writer.ts");
        fs.writeFileSync(script, `import { runAsMain } from ${JSON.stringify(path.join(ROOT, "scripts", "cli.ts"))};\n`
            + "runAsMain(__filename, async () => {\n"
            + "    for (let i = 0; i < 16; i++) process.stdout.write(\"x\".repeat(65536));\n"
            + "    await new Promise((resolve) => setTimeout(resolve, 50));\n"
            + "    process.stdout.write(\"after the reader left\\n\");\n"
            + "    process.stderr.write(\"done\\n\");\n"
            + "    return 3;\n"
            + "});\n");
        const command = `${JSON.stringify(process.execPath)} --import ./scripts/register.mjs ${JSON.stringify(script)} | head -c 100`;
        const r = spawnSync("bash", ["-o", "pipefail", "-c", command], { cwd: ROOT, encoding: "utf8" });
        expect(r.stdout).toBe("x".repeat(100));
        // No EPIPE trace: the run goes on to its end, and exits with its own code.
        expect(r.stderr).toBe("done\n");
        expect(r.status).toBe(3);
    });

    it("is never cut short: no script exits on its own once it may have written output, runAsMain does after draining", () => {
        const exits = fs.readdirSync(path.join(ROOT, "scripts")).filter((f) => /\.(ts|mjs|cjs)$/.test(f)).flatMap((f) =>
            fs.readFileSync(path.join(ROOT, "scripts", f), "utf8").split("\n").flatMap((line, i) =>
                /process\.exit\(/.test(line) && !/^\s*(\/\/|\*)/.test(line) ? [`${f}:${i + 1}`] : []));
        // The version guards exit before anything is written to stdout; cli.ts exits only after both streams drained.
        expect(exits.filter((e) => !/^(node-version\.cjs|register\.mjs):/.test(e))).toEqual([expect.stringMatching(/^cli\.ts:\d+$/)]);
    });
});
