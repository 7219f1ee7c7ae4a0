// Disaster recovery: `npm run dr -- <stack> [--kubeconfig FILE] [--yes]`. Brings a stack back onto a cluster
// rebuilt under the same name: runs the preflight (preflight/, the same checks as `npm run check`, against the
// rebuilt cluster's kubeconfig), then refreshes the stack against the new cluster (the vanished in-cluster objects
// leave the state) and runs the update that re-creates them. Nothing outside the cluster (tunnel, DNS, buckets, deploy
// key, webhook) has a reason to change; each step shows its preview first. The command lines are built by the pure
// functions below, which test/dr-script.test.ts checks without a CLI.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { parse as parseYaml } from "yaml";
import { ROOT } from "../config/keys";
import { renderLine, runPreflight, type PreflightOptions } from "../preflight";
import { parseOrExit, UsageError, userPath, runAsMain } from "./cli";

export { UsageError };
export const USAGE = "usage: npm run dr -- <stack> [--kubeconfig FILE] [--yes]";
const PROJECT = "cluster-bootstrap";

const HELP = `${USAGE}

Brings stack <stack> back onto its cluster rebuilt under the same name (docs/operations.md: Disaster recovery).
First the preflight (the checks of \`npm run check\`, with the rebuilt cluster's kubeconfig); then, each step
previewed and applied only on an explicit y:
  1. with --kubeconfig: store FILE as the stack's secret kubeconfig (read from standard input, never on a command line)
  2. pulumi refresh --run-program: the in-cluster objects that vanished leave the state
  3. pulumi up: installs the platform releases from gitops.branch in order (the nodes turn Ready with the CNI), then
     re-creates flux-system, Flux, the Secrets (secret zero included), cluster-vars, the GitRepository, Kustomization
     and Receiver; with flux.managedBy: repository, flux-system, the Secrets and cluster-vars come first and the
     repository's flux-operator and flux-instance are among the platform releases
Nothing outside the cluster should change; a preview that says otherwise is the moment to stop.

options:
  <stack>            the stack to recover, as \`pulumi stack ls\` names it (e.g. infra, or org/infra)
  --kubeconfig FILE  the rebuilt cluster's kubeconfig, stored in the stack first (relative to where you run npm);
                     without it the stack's stored kubeconfig, else the ambient KUBECONFIG, must reach the new cluster
  -y, --yes          apply every step without asking (needed without a terminal; previews still run)
  -h, --help         this text

exit codes: 0 recovered, 1 a check or a step failed (or you stopped it), 2 a usage error
`;

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

/** Parses the command line; `--kubeconfig` is resolved from where the user ran the command (see {@link userPath}). */
export function parseDrArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DrOptions {
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
    return { stack: rest[0], yes, kubeconfigFile: kubeconfigFile === undefined ? undefined : userPath(kubeconfigFile, env) };
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

/** The preflight the recovery starts with: every check of `npm run check`, the cluster reached with the new kubeconfig. */
export function drPreflight(opts: DrOptions, readFile: (file: string) => string = (f) => fs.readFileSync(f, "utf8")): PreflightOptions {
    return {
        stack: opts.stack,
        ...(opts.kubeconfigFile ? { kubeconfig: { text: readFile(opts.kubeconfigFile), source: opts.kubeconfigFile } } : {}),
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
    let doc: { config?: Record<string, unknown> };
    try {
        // "error": no warning printed with a line of the file. A file that does not parse gives no facts; the parser's
        // message quotes the file's text, which may hold a secret, and is never shown.
        doc = (parseYaml(yamlText, { logLevel: "error" }) ?? {}) as typeof doc;
    } catch {
        return { buckets: [] };
    }
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

// ---- running it (test/dr-script.test.ts runs it against a fake pulumi CLI) ----

/** Runs a step's command on the user's terminal (its preview and prompts are theirs to see). */
function run(c: Command): SpawnSyncReturns<string> {
    const stdin = c.stdinFile ? fs.openSync(c.stdinFile, "r") : undefined;
    try {
        return spawnSync(c.cmd, c.args, { cwd: ROOT, encoding: "utf8", stdio: [stdin ?? "inherit", "inherit", "inherit"] });
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

/** What went wrong with a command: the CLI is missing, or it ran and failed with an exit code. */
export function failure(c: Command, r: Pick<SpawnSyncReturns<string>, "error" | "status" | "signal">): string {
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return `${c.cmd} is not on PATH: install it, then re-run`;
    if (r.error) return `${display(c)} could not run: ${r.error.message}`;
    return `${display(c)} failed (${r.signal ? `stopped by ${r.signal}` : `exit code ${r.status}`})`;
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
    const parsed = parseOrExit(() => parseDrArgs(process.argv.slice(2)), HELP, USAGE);
    if (typeof parsed === "number") return parsed;
    const opts = parsed;
    const refused = refusal(opts, Boolean(process.stdin.isTTY));
    if (refused) {
        process.stderr.write(`${refused}\n`);
        return 2;
    }
    if (opts.kubeconfigFile && !fs.existsSync(opts.kubeconfigFile)) {
        process.stderr.write(`no file ${opts.kubeconfigFile}\n`);
        return 2;
    }

    say(`Disaster recovery of stack ${opts.stack}: preflight (the checks of \`npm run check\`${opts.kubeconfigFile ? `, the cluster reached with ${opts.kubeconfigFile}` : ""})`);
    const report = await runPreflight(drPreflight(opts));
    for (const section of report.sections) {
        say(section.name);
        for (const r of section.results) say(`  ${renderLine(r)}`);
    }
    if (report.failures > 0) {
        say(`Stopped: ${report.failures} check${report.failures === 1 ? "" : "s"} failed; nothing was changed.`);
        return 1;
    }

    const steps = recoverySteps(opts);
    for (const [i, step] of steps.entries()) {
        say();
        say(`Step ${i + 1}/${steps.length}: ${step.title}`);
        say(`  ${step.explain}`);
        if (step.preview) {
            say(`  $ ${display(step.preview)}`);
            const r = run(step.preview);
            if (!ok(r)) {
                say(`Preview failed: ${failure(step.preview, r)}. Stopped before step ${i + 1}; nothing of this step was applied.`);
                return 1;
            }
        }
        if (!opts.yes && !(await confirm(`Apply step ${i + 1} (${display(step.apply)})?`))) {
            say(`Stopped before step ${i + 1}. Re-run \`npm run dr -- ${opts.stack}\` to continue: every step is safe to repeat.`);
            return 1;
        }
        say(`  $ ${display(step.apply)}`);
        const r = run(step.apply);
        if (!ok(r)) {
            say(`Step ${i + 1} failed: ${failure(step.apply, r)}. Fix the cause and re-run: the steps before it need not be undone.`);
            return 1;
        }
    }
    say();
    const stackFile = path.join(ROOT, `Pulumi.${opts.stack.split("/").pop()}.yaml`);
    const facts = fs.existsSync(stackFile) ? stackFacts(fs.readFileSync(stackFile, "utf8")) : { buckets: [] };
    for (const line of fluxRestoreNotes(opts.stack, facts)) say(line);
    return 0;
}

// Runs only as the script itself, so tests can import its functions.
runAsMain(__filename, main);
