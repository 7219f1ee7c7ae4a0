// Disaster recovery: `npm run dr -- <stack> [--kubeconfig FILE] [--yes]`. Brings a stack back onto a cluster
// rebuilt under the same name: checks what the run needs, then refreshes the stack against the new cluster (the
// vanished in-cluster objects leave the state) and runs the update that re-creates them. Nothing outside the
// cluster (tunnel, DNS, buckets, deploy key, webhook) has a reason to change; each step shows its preview first.
// The command lines are built by the pure functions below, which test/dr-script.test.ts checks without a CLI.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { parse as parseYaml } from "yaml";

export const USAGE = "usage: npm run dr -- <stack> [--kubeconfig FILE] [--yes]";
const ROOT = path.resolve(__dirname, "..");
const PROJECT = "cluster-bootstrap";

export class UsageError extends Error {}

export interface DrOptions {
    /** Stack name, or `org/stack` on Pulumi Cloud. */
    stack: string;
    /** Apply every step without asking (needed without a terminal). */
    yes: boolean;
    /** The rebuilt cluster's kubeconfig, stored into the stack's secret `kubeconfig` before anything else. */
    kubeconfigFile?: string;
}

/** A command line, run without a shell. */
export interface Command {
    cmd: string;
    args: string[];
    /** File fed to standard input (so a secret never appears in the process list). */
    stdinFile?: string;
}

export function parseDrArgs(argv: string[]): DrOptions {
    let yes = false;
    let kubeconfigFile: string | undefined;
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--yes" || a === "-y") yes = true;
        else if (a === "--kubeconfig") {
            kubeconfigFile = argv[++i];
            if (kubeconfigFile === undefined || kubeconfigFile.startsWith("-")) throw new UsageError("--kubeconfig needs a file");
        } else if (a.startsWith("--kubeconfig=")) kubeconfigFile = a.slice("--kubeconfig=".length);
        else if (a === "-h" || a === "--help") throw new UsageError("");
        else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else rest.push(a);
    }
    if (rest.length !== 1) throw new UsageError("name one stack");
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/.test(rest[0])) throw new UsageError(`"${rest[0]}" is not a stack name`);
    if (kubeconfigFile === "") throw new UsageError("--kubeconfig needs a file");
    return { stack: rest[0], yes, kubeconfigFile };
}

/** Why the run must not start, or undefined. Prompts need a terminal; without one only `--yes` may proceed. */
export function refusal(opts: DrOptions, stdinIsTTY: boolean): string | undefined {
    if (!opts.yes && !stdinIsTTY) {
        return "no terminal to ask on: run it in a terminal, or pass --yes to apply every step without asking";
    }
    return undefined;
}

/** Shell-quoted, for showing a command to a person. */
export function display(c: Command): string {
    const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
    return [c.cmd, ...c.args].map(q).join(" ") + (c.stdinFile ? ` < ${q(c.stdinFile)}` : "");
}

/** Only an explicit yes applies a step: an empty answer (just Enter) means no. */
export function isYes(answer: string): boolean {
    return /^(y|yes)$/i.test(answer.trim());
}

export interface Check {
    title: string;
    command: Command;
    /** What to do when the check fails. */
    hint: string;
    /** Judges a finished command; by default exit code 0 passes. */
    passes?: (stdout: string) => boolean;
}

/** Prerequisites, in order: each needs the one before it. */
export function prerequisiteChecks(opts: DrOptions): Check[] {
    const s = opts.stack;
    return [
        {
            title: "pulumi CLI on PATH",
            command: { cmd: "pulumi", args: ["version"] },
            hint: "install the Pulumi CLI (https://www.pulumi.com/docs/install/) and open a new shell",
        },
        {
            title: "pulumi refresh supports --run-program",
            command: { cmd: "pulumi", args: ["refresh", "--help"] },
            passes: (out) => out.includes("--run-program"),
            hint: "upgrade the Pulumi CLI: refresh must run the program to use the new kubeconfig instead of the one in state",
        },
        {
            title: "logged in to the state backend",
            command: { cmd: "pulumi", args: ["whoami", "--verbose"] },
            hint: "log in to the backend that holds the state: `pulumi login` or `pulumi login 's3://<bucket>?...'` (README: state backend)",
        },
        {
            title: `stack ${s} exists`,
            command: { cmd: "pulumi", args: ["stack", "ls", "--json"] },
            passes: (out) => stackListed(out, s),
            hint: `no stack ${s} in this backend: are you logged in to the right one (pulumi whoami --verbose)?`,
        },
    ];
}

/** Whether `pulumi stack ls --json` lists the stack (by its short or fully qualified name). */
export function stackListed(json: string, stack: string): boolean {
    let list: unknown;
    try {
        list = JSON.parse(json);
    } catch {
        return false;
    }
    if (!Array.isArray(list)) return false;
    const short = stack.split("/").pop();
    return list.some((s: { name?: unknown }) => typeof s?.name === "string"
        && (s.name === stack || s.name.split("/").pop() === short));
}

/** Reads the config keys of `pulumi config --json` and tells whether the stack stores its own kubeconfig. */
export function hasStackKubeconfig(configJson: string): boolean {
    try {
        const keys = Object.keys(JSON.parse(configJson) as Record<string, unknown>);
        return keys.includes(`${PROJECT}:kubeconfig`);
    } catch {
        return false;
    }
}

/** `kubectl version` against a kubeconfig (or the ambient one): a cheap proof that the API answers. */
export function kubectlCheck(kubeconfigFile?: string): Command {
    return {
        cmd: "kubectl",
        args: [...(kubeconfigFile ? ["--kubeconfig", kubeconfigFile] : []), "version", "--request-timeout=15s"],
    };
}

export interface Step {
    title: string;
    /** What this step does and what to expect in its preview. */
    explain: string;
    /** Shown before asking; undefined when there is nothing to preview. */
    preview?: Command;
    apply: Command;
}

/** The recovery itself. Every Pulumi step runs the program (`--run-program`), so it uses the new kubeconfig. */
export function recoverySteps(opts: DrOptions): Step[] {
    const s = ["--stack", opts.stack];
    const unattended = opts.yes ? ["--non-interactive"] : [];
    const steps: Step[] = [];
    if (opts.kubeconfigFile) {
        steps.push({
            title: "store the rebuilt cluster's kubeconfig in the stack",
            explain: `pulumi config set --secret kubeconfig, read from ${opts.kubeconfigFile} (encrypted in Pulumi.<stack>.yaml: commit that file afterwards)`,
            apply: { cmd: "pulumi", args: ["config", "set", "--secret", "kubeconfig", ...s], stdinFile: opts.kubeconfigFile },
        });
    }
    steps.push({
        title: "refresh the state against the rebuilt cluster",
        explain: "expect deletes only: in-cluster objects that vanished with the old cluster leave the state. "
            + "Anything outside the cluster (tunnel, DNS records, buckets, deploy key, webhook) should show no change; "
            + "if it does, someone changed it by hand: stop and look.",
        preview: { cmd: "pulumi", args: ["refresh", ...s, "--run-program", "--preview-only", "--diff", ...unattended] },
        apply: { cmd: "pulumi", args: ["refresh", ...s, "--run-program", "--yes", ...unattended] },
    });
    steps.push({
        title: "re-create what the cluster lost",
        explain: "expect creates for the in-cluster objects (the platform releases such as the CNI, one after another, "
            + "namespace, Flux Operator, FluxInstance, secrets, "
            + "cluster-vars, GitRepository, Kustomization, Receiver; with flux.managedBy repository the operator and "
            + "instance are platform releases, the GitRepository and Kustomization the FluxInstance's, and a "
            + "FluxInstancePatch waits for it) and an update of the Kubernetes provider "
            + "(its kubeconfig changed, its clusterIdentifier did not, so nothing is replaced). "
            + "Any replace or delete outside the cluster means something else is wrong: stop.",
        preview: { cmd: "pulumi", args: ["preview", ...s, "--diff", ...unattended] },
        apply: { cmd: "pulumi", args: ["up", ...s, "--yes", ...unattended] },
    });
    return steps;
}

interface StackFacts {
    repository?: string;
    branch?: string;
    path?: string;
    buckets: { name: string; purpose: string }[];
}

/** What the committed stack file says Flux will sync, for the closing notes. */
export function stackFacts(yamlText: string): StackFacts {
    const doc = (parseYaml(yamlText) ?? {}) as { config?: Record<string, unknown> };
    const cfg = doc.config ?? {};
    const gitops = (cfg[`${PROJECT}:gitops`] ?? {}) as Record<string, unknown>;
    const r2 = (cfg[`${PROJECT}:r2`] ?? {}) as { buckets?: { name?: unknown; purpose?: unknown }[] };
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    return {
        repository: str(gitops.repository),
        branch: str(gitops.branch),
        path: str(gitops.path),
        buckets: (r2.buckets ?? []).flatMap((b) => (typeof b.name === "string"
            ? [{ name: b.name, purpose: typeof b.purpose === "string" ? b.purpose : "" }] : [])),
    };
}

/** What happens after `pulumi up`, without Pulumi: Flux restores the cluster from Git, and data from R2. */
export function fluxRestoreNotes(stack: string, facts: StackFacts): string[] {
    const source = facts.repository
        ? `${facts.repository}${facts.branch ? `@${facts.branch}` : ""}${facts.path ? ` path ${facts.path}` : ""}`
        : "the stack's GitOps repository";
    const lines = [
        `Pulumi's part for ${stack} is done. Flux now restores the rest, without Pulumi:`,
        `  1. The FluxInstance installs the controllers; the GitRepository pulls ${source} with the same deploy key.`,
        "  2. The root Kustomization applies everything under that path, decrypting SOPS secrets with sops-age and",
        "     substituting cluster-vars / cluster-secrets: CRDs, namespaces, HelmReleases, the cloudflared that",
        "     reconnects the unchanged tunnel (DNS stays as it was), and the apps.",
        "  3. Data comes back only where the repository restores it from the R2 buckets, which survived:",
    ];
    if (facts.buckets.length) for (const b of facts.buckets) lines.push(`       ${b.name} (${b.purpose || "bucket"})`);
    else lines.push("       (no buckets in the stack file)");
    lines.push(
        "     e.g. VolSync ReplicationDestinations and CloudNativePG clusters bootstrapped from their backups.",
        "Watch it: flux get kustomizations -A --watch   (or kubectl get fluxinstance -n flux-system flux)",
    );
    return lines;
}

// ---- running it (not unit-tested: it runs the real CLIs) ----

function run(c: Command, capture: boolean): SpawnSyncReturns<string> {
    const stdin = c.stdinFile ? fs.openSync(c.stdinFile, "r") : undefined;
    try {
        return spawnSync(c.cmd, c.args, {
            cwd: ROOT,
            encoding: "utf8",
            stdio: [stdin ?? (capture ? "ignore" : "inherit"), capture ? "pipe" : "inherit", capture ? "pipe" : "inherit"],
            maxBuffer: 64 * 1024 * 1024,
        });
    } finally {
        if (stdin !== undefined) fs.closeSync(stdin);
    }
}

function ok(r: SpawnSyncReturns<string>): boolean {
    return !r.error && r.status === 0;
}

function say(line = ""): void {
    process.stdout.write(`${line}\n`);
}

/** Checks that the kubeconfig the run will use reaches an API server. False only on a definite failure. */
function checkCluster(opts: DrOptions): boolean {
    const hasKubectl = ok(run({ cmd: "kubectl", args: ["version", "--client"] }, true));
    if (!hasKubectl) {
        say("  ? kubectl not found: cluster reachability not checked (the refresh fails on its own if it is not)");
        return true;
    }
    let file = opts.kubeconfigFile;
    let tmp: string | undefined;
    if (!file) {
        const cfg = run({ cmd: "pulumi", args: ["config", "--json", "--stack", opts.stack] }, true);
        if (ok(cfg) && hasStackKubeconfig(cfg.stdout)) {
            // The stack stores its own kubeconfig: that one must already point at the rebuilt cluster.
            const value = run({ cmd: "pulumi", args: ["config", "get", "kubeconfig", "--stack", opts.stack] }, true);
            if (!ok(value)) {
                say("  x could not read the stack's kubeconfig (secrets provider: passphrase set? KMS access?)");
                return false;
            }
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dr-"));
            file = path.join(tmp, "kubeconfig");
            fs.writeFileSync(file, value.stdout, { mode: 0o600 });
        }
    }
    try {
        const source = opts.kubeconfigFile ? opts.kubeconfigFile : tmp ? "the stack's kubeconfig" : `the ambient kubeconfig (${process.env.KUBECONFIG ?? "~/.kube/config"})`;
        const r = run(kubectlCheck(file), true);
        if (ok(r)) {
            say(`  ✓ cluster API reachable with ${source}`);
            return true;
        }
        say(`  x cluster API not reachable with ${source}:`);
        say(`    ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join("\n    ")}`);
        say("    pass the rebuilt cluster's kubeconfig with --kubeconfig FILE");
        return false;
    } finally {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** Asks on the terminal; the interface lives only for the question, so the CLIs run with the terminal as usual. */
async function confirm(question: string): Promise<boolean> {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
        return isYes(await rl.question(`${question} [y/N] `));
    } catch {
        return false; // end of input (Ctrl+D) is a no
    } finally {
        rl.close();
    }
}

async function main(): Promise<number> {
    let opts: DrOptions;
    try {
        opts = parseDrArgs(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`${(e as Error).message ? `${(e as Error).message}\n` : ""}${USAGE}\n`);
        return 2;
    }
    const refused = refusal(opts, Boolean(process.stdin.isTTY));
    if (refused) {
        process.stderr.write(`${refused}\n`);
        return 2;
    }
    if (opts.kubeconfigFile && !fs.existsSync(opts.kubeconfigFile)) {
        process.stderr.write(`no file ${opts.kubeconfigFile}\n`);
        return 2;
    }

    say(`Disaster recovery of stack ${opts.stack}: prerequisites`);
    for (const check of prerequisiteChecks(opts)) {
        const r = run(check.command, true);
        if (!ok(r) || (check.passes && !check.passes(r.stdout))) {
            say(`  x ${check.title}: ${display(check.command)} failed`);
            say(`    ${check.hint}`);
            return 1;
        }
        say(`  ✓ ${check.title}`);
    }
    if (!checkCluster(opts)) return 1;

    const steps = recoverySteps(opts);
    for (const [i, step] of steps.entries()) {
        say();
        say(`Step ${i + 1}/${steps.length}: ${step.title}`);
        say(`  ${step.explain}`);
        if (step.preview) {
            say(`  $ ${display(step.preview)}`);
            if (!ok(run(step.preview, false))) {
                say(`Preview failed: stopped before step ${i + 1}; nothing of this step was applied.`);
                return 1;
            }
        }
        if (!opts.yes && !(await confirm(`Apply step ${i + 1} (${display(step.apply)})?`))) {
            say(`Stopped before step ${i + 1}. Re-run \`npm run dr -- ${opts.stack}\` to continue: every step is safe to repeat.`);
            return 1;
        }
        say(`  $ ${display(step.apply)}`);
        if (!ok(run(step.apply, false))) {
            say(`Step ${i + 1} failed. Fix the cause and re-run: the steps before it need not be undone.`);
            return 1;
        }
    }
    say();
    const stackFile = path.join(ROOT, `Pulumi.${opts.stack.split("/").pop()}.yaml`);
    const facts = fs.existsSync(stackFile) ? stackFacts(fs.readFileSync(stackFile, "utf8")) : { buckets: [] };
    for (const line of fluxRestoreNotes(opts.stack, facts)) say(line);
    return 0;
}

// Runs only as the script itself, so the tests can import the pure functions above.
if (process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, "scripts", "dr.ts")) {
    main().then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
            process.exit(1);
        },
    );
}
