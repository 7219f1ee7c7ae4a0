// The disaster-recovery script: its command lines and decisions as pure functions, then the script itself against a
// fake pulumi CLI and fake APIs on 127.0.0.1 (test/preflight-fixture.ts): it starts with the preflight and changes
// nothing when a check fails.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
    display, drPreflight, failure, fluxRestoreNotes, isYes, parseDrArgs, recoverySteps, refusal, stackFacts, UsageError,
} from "../scripts/dr";
import { ROOT } from "../config/keys";
import { SECRETS, world, type World } from "./preflight-fixture";
import { testKubeconfig } from "./harness";

const line = (c: { cmd: string; args: string[] }) => [c.cmd, ...c.args].join(" ");

describe("dr arguments", () => {
    it("takes one stack and the flags", () => {
        expect(parseDrArgs(["infra"])).toEqual({ stack: "infra", yes: false, kubeconfigFile: undefined });
        expect(parseDrArgs(["--yes", "apps", "--kubeconfig", "new.yaml"], { INIT_CWD: "/home/me/clusters" }))
            .toEqual({ stack: "apps", yes: true, kubeconfigFile: "/home/me/clusters/new.yaml" });
        expect(parseDrArgs(["monosense/infra", "--kubeconfig=/tmp/k"], { INIT_CWD: "/home/me" }))
            .toEqual({ stack: "monosense/infra", yes: false, kubeconfigFile: "/tmp/k" });
    });

    it("resolves the kubeconfig from where the user typed the command (npm's INIT_CWD), not the repository", () => {
        expect(parseDrArgs(["infra", "--kubeconfig", "../new.yaml"], { INIT_CWD: "/home/me/work" }).kubeconfigFile).toBe("/home/me/new.yaml");
        expect(parseDrArgs(["infra", "--kubeconfig", "new.yaml"], {}).kubeconfigFile).toBe(path.resolve("new.yaml"));
    });

    it("answers --help with an empty usage error, which the script prints as help with exit 0", () => {
        expect(() => parseDrArgs(["--help"])).toThrow(UsageError);
        expect(() => parseDrArgs(["--help"])).toThrow(/^$/);
    });

    it.each([
        [[], "name one stack"],
        [["infra", "apps"], "name one stack"],
        [["infra", "--force"], "unknown option --force"],
        [["infra", "--kubeconfig"], "--kubeconfig needs a file"],
        [["infra", "--kubeconfig", "--yes"], "--kubeconfig needs a file"],
        [["infra;rm -rf /"], '"infra;rm -rf /" is not a stack name'],
    ])("rejects %j", (argv, message) => {
        expect(() => parseDrArgs(argv)).toThrow(UsageError);
        expect(() => parseDrArgs(argv)).toThrow(message);
    });
});

describe("dr without a terminal", () => {
    it("refuses to run unless --yes", () => {
        expect(refusal({ stack: "infra", yes: false }, false)).toMatch(/--yes/);
        expect(refusal({ stack: "infra", yes: true }, false)).toBeUndefined();
        expect(refusal({ stack: "infra", yes: false }, true)).toBeUndefined();
    });

    it("applies a step only on an explicit yes", () => {
        for (const a of ["y", "Y", "yes", " YES \n"]) expect(isYes(a)).toBe(true);
        for (const a of ["", "\n", "n", "no", "yep", "sure", "y es"]) expect(isYes(a)).toBe(false);
    });
});

describe("dr prerequisites", () => {
    it("are the preflight's, with the rebuilt cluster's kubeconfig read from the file", () => {
        expect(drPreflight({ stack: "infra", yes: true, kubeconfigFile: "/tmp/new.yaml" }, () => "kubeconfig text"))
            .toEqual({ stack: "infra", kubeconfig: { text: "kubeconfig text", source: "/tmp/new.yaml" } });
        expect(drPreflight({ stack: "infra", yes: true })).toEqual({ stack: "infra" });
    });

    it("says whether a command is missing or ran and failed", () => {
        const c = { cmd: "pulumi", args: ["up", "--stack", "infra"] };
        expect(failure(c, { error: Object.assign(new Error("spawnSync pulumi ENOENT"), { code: "ENOENT" }), status: null, signal: null }))
            .toBe("pulumi is not on PATH: install it, then re-run");
        expect(failure(c, { error: undefined, status: 255, signal: null })).toBe("pulumi up --stack infra failed (exit code 255)");
        expect(failure(c, { error: undefined, status: null, signal: "SIGINT" })).toBe("pulumi up --stack infra failed (stopped by SIGINT)");
    });
});

describe("dr steps", () => {
    it("refreshes, then updates, each previewed first, all running the program", () => {
        const steps = recoverySteps({ stack: "infra", yes: false });
        expect(steps.map((s) => [s.preview && line(s.preview), line(s.apply)])).toEqual([
            ["pulumi refresh --stack infra --run-program --preview-only --diff", "pulumi refresh --stack infra --run-program --yes"],
            ["pulumi preview --stack infra --diff", "pulumi up --stack infra --yes"],
        ]);
    });

    it("never destroys, replaces or skips a preview", () => {
        for (const opts of [{ stack: "apps", yes: true, kubeconfigFile: "k" }, { stack: "apps", yes: false }]) {
            const all = recoverySteps(opts).flatMap((s) => [s.preview, s.apply]).filter((c) => c !== undefined);
            for (const c of all) {
                expect(c.args).not.toContain("destroy");
                expect(c.args.join(" ")).not.toMatch(/--skip-preview|--replace|--target|--remove|--show-secrets/);
                expect(c.args.join(" ")).toContain("--stack apps");
            }
        }
    });

    it("with --yes adds --non-interactive and still previews", () => {
        const steps = recoverySteps({ stack: "apps", yes: true });
        expect(steps.every((s) => s.preview?.args.includes("--non-interactive") && s.apply.args.includes("--non-interactive"))).toBe(true);
    });

    it("stores a new kubeconfig first, from standard input, as a secret", () => {
        const [first, ...rest] = recoverySteps({ stack: "infra", yes: false, kubeconfigFile: "/tmp/new.yaml" });
        expect(first.apply).toEqual({
            cmd: "pulumi", args: ["config", "set", "--secret", "kubeconfig", "--stack", "infra"], stdinFile: "/tmp/new.yaml",
        });
        // Never on the command line, where the process list and shell history would show it.
        expect(first.apply.args).not.toContain("/tmp/new.yaml");
        expect(display(first.apply)).toBe("pulumi config set --secret kubeconfig --stack infra < /tmp/new.yaml");
        expect(rest.map((s) => s.apply.args[0])).toEqual(["refresh", "up"]);
    });

    it("quotes what it shows", () => {
        expect(display({ cmd: "pulumi", args: ["up", "--message", "it's back"] })).toBe(`pulumi up --message 'it'\\''s back'`);
    });
});

describe("dr closing notes", () => {
    it.each(["infra", "apps"])("name what Flux restores for %s from the committed stack file", (stack) => {
        const facts = stackFacts(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
        expect(facts.repository).toBe("monosense/k8s-ops");
        expect(facts.path).toBe(`clusters/${stack}/flux`);
        expect(facts.buckets.map((b) => b.name)).toEqual([`${stack}-volsync`, `${stack}-cnpg`]);
        const text = fluxRestoreNotes(stack, facts).join("\n");
        expect(text).toContain(`monosense/k8s-ops@${facts.branch} path clusters/${stack}/flux`);
        expect(text).toContain(`${stack}-volsync (volsync)`);
        expect(text).toContain("sops-age");
    });

    it("copes with a stack file without gitops or buckets", () => {
        const facts = stackFacts("config:\n  github:owner: x\n");
        expect(facts).toEqual({ repository: undefined, branch: undefined, path: undefined, buckets: [] });
        expect(fluxRestoreNotes("edge", facts).join("\n")).toContain("the stack's GitOps repository");
    });

    it("copes with a stack file that does not parse, without the parser's message, which quotes the line", () => {
        // The parser's error would read `Not a YAML token: ghp_…`, and the script would print it as it exits.
        expect(stackFacts("config:\n  github:token: > ghp_SENTINELsentinelSENTINELsentinel0042\n"))
            .toEqual({ buckets: [] });
    });
});

describe("npm run dr", () => {
    const worlds: World[] = [];
    afterAll(async () => {
        await Promise.all(worlds.map((w) => w.close()));
    });
    // Asynchronous: the fake APIs answer from this process.
    const dr = (env: NodeJS.ProcessEnv, ...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "./scripts/register.mjs", "scripts/dr.ts", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

    it("changes nothing when the preflight fails, and says which check", async () => {
        const w = await world();
        worlds.push(w);
        w.scenario.version = "v3.200.0";
        w.save();
        const r = await dr(w.env(), "infra", "--yes");
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("  ✗ Pulumi CLI: 3.200.0 is older than 3.238.0");
        expect(r.stdout).toMatch(/Stopped: 1 check failed; nothing was changed\.\n$/);
        expect(w.pulumiCalls().map((c) => c[0])).toEqual(["version"]);
    });

    it("checks the rebuilt cluster through the given kubeconfig, stores it from standard input, then refreshes and updates", async () => {
        const w = await world();
        worlds.push(w);
        // The stack still holds the lost cluster's kubeconfig; the new one, relative to where the user is, reaches the fake API.
        w.scenario.config["cluster-bootstrap:kubeconfig"].value = testKubeconfig({ server: "https://127.0.0.9:6443", token: "old-cluster-token-not-real" });
        w.scenario.run = { "config set": "", refresh: "", preview: "", up: "" };
        w.save();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dr-"));
        const kubeconfig = testKubeconfig({ server: w.kube.url, token: SECRETS.kubeToken, caData: w.kube.caData });
        fs.writeFileSync(path.join(dir, "new.yaml"), kubeconfig);
        const r = await dr(w.env({ INIT_CWD: dir }), "infra", "--yes", "--kubeconfig", "new.yaml");
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toContain(`  ✓ Kubernetes API: answers at ${w.kube.url} (context "admin@infra"), kubeconfig: ${path.join(dir, "new.yaml")}`);
        const steps = w.pulumiCalls().filter((c) => !["version", "whoami", "stack"].includes(c[0]) && !(c[0] === "config" && c[1] !== "set"));
        expect(steps.map((c) => c.join(" "))).toEqual([
            "config set --secret kubeconfig --stack infra",
            "refresh --stack infra --run-program --preview-only --diff --non-interactive",
            "refresh --stack infra --run-program --yes --non-interactive",
            "preview --stack infra --diff --non-interactive",
            "up --stack infra --yes --non-interactive",
        ]);
        expect(fs.readFileSync(`${w.env().FAKE_PULUMI_LOG}.stdin`, "utf8")).toBe(kubeconfig);
        expect(r.stdout).toContain("Pulumi's part for infra is done.");
        expect(r.stdout + r.stderr).not.toContain(SECRETS.kubeToken);
    });
});
