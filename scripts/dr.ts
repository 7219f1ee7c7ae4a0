// Disaster recovery: `npm run dr -- <stack> [--kubeconfig FILE] [--yes] [--allow-outside NAME]… [--verify-wait S]`.
// Brings a stack back onto a cluster rebuilt under the same name: runs the preflight (preflight/, the same checks as
// `npm run check`, against the rebuilt cluster's kubeconfig), refreshes the stack against the new cluster (the
// vanished in-cluster objects leave the state), reads the update's preview as JSON and refuses it if it would create,
// replace or delete anything outside the cluster, applies it, and ends with `npm run verify --wait` (verify/). The
// command lines and the judgement of the preview are pure functions below, which test/dr-script.test.ts checks
// without a CLI.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { parse as parseYaml } from "yaml";
import { isRecord, parseJson } from "../config/checks";
import { ROOT } from "../config/keys";
import type { PreflightOptions } from "../preflight";
import { renderLine } from "../preflight/result";
import { MAX_WAIT_SECONDS } from "../verify/defaults";
import { progressLine, reportText } from "../verify/report";
import { flagValue, parseOrExit, UsageError, userPath, runAsMain } from "./cli";

export { UsageError };
export const USAGE = "usage: npm run dr -- <stack> [--kubeconfig FILE] [--yes] [--allow-outside NAME] [--verify-wait SECONDS]";
const PROJECT = "cluster-bootstrap";

/** How long the closing verify waits for Flux to restore the cluster, unless --verify-wait says otherwise. */
export const DR_VERIFY_WAIT_SECONDS = 600;

const HELP = `${USAGE}

Brings stack <stack> back onto its cluster rebuilt under the same name (docs/operations.md: Disaster recovery).
First the preflight (the checks of \`npm run check\`, with the rebuilt cluster's kubeconfig); then, each step
previewed and applied only on an explicit y (or with --yes):
  1. with --kubeconfig: store FILE as the stack's secret kubeconfig (read from standard input, never on a command line)
  2. pulumi refresh --run-program: the in-cluster objects the state still holds vanished with the old cluster and
     leave the state: flux-system, its Secrets, cluster-vars, cluster-secrets, the Receiver, with flux.managedBy
     program the Flux Operator, FluxInstance, GitRepository and Kustomization, and any platform release still in the
     state. Without it \`pulumi up\` compares the program with the state, not the cluster, finds nothing changed and
     re-creates none of them. --run-program, so the refresh reaches the new cluster through the kubeconfig in config
     rather than the old one recorded in the state.
  3. pulumi preview --json, judged before anything is applied: a step that creates, replaces or deletes a Cloudflare,
     GitHub, random or TLS resource (tunnel, DNS record, bucket, token, Access object, deploy key, webhook, the secrets
     they derive from) is refused, each named, and nothing is applied. A rebuild has no reason to change them; if one
     must change (a record deleted by hand, say), allow that step by name with --allow-outside. In-cluster steps
     (kubernetes:*) are allowed, so is the handover's retained delete of a release Flux has taken over; provider
     steps (pulumi:providers:*) only hold the providers' settings and are allowed (the kubeconfig update is expected).
     Updates in place outside the cluster are shown, not refused.
  4. pulumi up: installs the platform releases from gitops.branch in order (the nodes turn Ready with the CNI), then
     re-creates flux-system, Flux, the Secrets (secret zero included), cluster-vars, the GitRepository, Kustomization
     and Receiver; with flux.managedBy: repository, flux-system, the Secrets and cluster-vars come first and the
     repository's flux-operator and flux-instance are among the platform releases
  5. npm run verify --wait: the tunnel connects, the webhook delivers, Flux and the platform releases are Ready,
     cluster-vars matches, the backup token reaches its buckets; the run's exit code is verify's. A webhook whose
     last delivery failed while the cluster was down is pinged once, when the tunnel and the Receiver pass

options:
  <stack>                the stack to recover, as \`pulumi stack ls\` names it (e.g. infra, or org/infra)
  --kubeconfig FILE      the rebuilt cluster's kubeconfig, stored in the stack first (relative to where you run npm);
                         without it the stack's stored kubeconfig, else the ambient KUBECONFIG, must reach the new cluster
  -y, --yes              apply every step without asking (needed without a terminal; previews still run)
  --allow-outside NAME   allow the preview's create, replace or delete of the outside-the-cluster resource NAME, its
                         name as the refusal shows it (the last part of its URN, e.g. edge-cname-grafana.example.com);
                         repeat the flag for each
  --verify-wait SECONDS  how long the closing verify keeps checking while Flux restores the cluster (default
                         ${DR_VERIFY_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS}; 0 checks once)
  -h, --help             this text

exit codes: 0 recovered and verified, 1 a check, a step or verify failed, a step was refused (or you stopped it),
2 a usage error
`;

export interface DrOptions {
    /** Stack name, or `org/stack` on Pulumi Cloud. */
    stack: string;
    /** Apply every step without asking (needed without a terminal). */
    yes: boolean;
    /** The rebuilt cluster's kubeconfig, stored into the stack's secret `kubeconfig` before anything else. */
    kubeconfigFile?: string;
    /** Names of outside-the-cluster resources whose create, replace or delete the preview may show (`--allow-outside`). */
    allowOutside: string[];
    /** How long the closing verify waits for every check to pass (`--verify-wait`). */
    verifyWaitSeconds: number;
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
    const allowOutside: string[] = [];
    let verifyWaitSeconds = DR_VERIFY_WAIT_SECONDS;
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--yes" || a === "-y") yes = true;
        else if (a === "--kubeconfig") {
            kubeconfigFile = argv[++i];
            if (kubeconfigFile === undefined || kubeconfigFile.startsWith("-")) throw new UsageError("--kubeconfig needs a file");
        } else if (a.startsWith("--kubeconfig=")) kubeconfigFile = a.slice("--kubeconfig=".length);
        else if (a === "--allow-outside" || a.startsWith("--allow-outside=")) {
            const { value, next } = flagValue(argv, i, "--allow-outside", "a resource name, as the refusal shows it");
            allowOutside.push(value);
            i = next;
        } else if (a === "--verify-wait" || a.startsWith("--verify-wait=")) {
            const { value, next } = flagValue(argv, i, "--verify-wait", "a number of seconds");
            if (!/^\d+$/.test(value) || Number(value) > MAX_WAIT_SECONDS) {
                throw new UsageError(`--verify-wait ${JSON.stringify(value)}: give a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
            }
            verifyWaitSeconds = Number(value);
            i = next;
        } else if (a === "-h" || a === "--help") throw new UsageError("");
        else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else rest.push(a);
    }
    if (rest.length !== 1) throw new UsageError("name one stack");
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/.test(rest[0])) throw new UsageError(`"${rest[0]}" is not a stack name`);
    if (kubeconfigFile === "") throw new UsageError("--kubeconfig needs a file");
    return {
        stack: rest[0], yes, kubeconfigFile: kubeconfigFile === undefined ? undefined : userPath(kubeconfigFile, env),
        allowOutside, verifyWaitSeconds,
    };
}

/** Why the run must not start, or undefined. Prompts need a terminal; without one only `--yes` may proceed. */
export function refusal(opts: Pick<DrOptions, "stack" | "yes">, stdinIsTTY: boolean): string | undefined {
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
export function drPreflight(opts: Pick<DrOptions, "stack" | "yes" | "kubeconfigFile">, readFile: (file: string) => string = (f) => fs.readFileSync(f, "utf8")): PreflightOptions {
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
    /** The preview prints JSON (`pulumi preview --json`), read and judged by {@link judgePreview} instead of shown. */
    judged?: boolean;
    apply: Command;
}

/** The recovery itself. Every Pulumi step runs the program (`--run-program`), so it uses the new kubeconfig. */
export function recoverySteps(opts: Pick<DrOptions, "stack" | "yes" | "kubeconfigFile">): Step[] {
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
    // Needed even under the handover rule (issue 21: a plain `pulumi up` installs again the platform releases Flux has
    // not taken over): the in-cluster objects the stack still owns (flux-system, its Secrets, cluster-vars and
    // cluster-secrets, the Receiver, with the program's Flux the operator release, FluxInstance, GitRepository and
    // Kustomization, and any platform release still in the state) are in the state as they were on the old cluster. `pulumi up` diffs the program against the state, not against
    // the cluster: their inputs are unchanged, so without a refresh each would be `same` and none re-created.
    // `--run-program`: without it a refresh reads through the provider configuration recorded in the state, which
    // is the old cluster's kubeconfig.
    steps.push({
        title: "refresh the state against the rebuilt cluster",
        explain: "expect deletes only: in-cluster objects that vanished with the old cluster leave the state. "
            + "Anything outside the cluster (tunnel, DNS records, buckets, deploy key, webhook) should show no change; "
            + "if it does, someone changed it by hand: the next step refuses to re-create or replace it unless you allow it.",
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
            + "The preview is read as JSON: a create, replace or delete outside the cluster is refused before anything is applied.",
        preview: { cmd: "pulumi", args: ["preview", ...s, "--json", ...unattended] },
        judged: true,
        apply: { cmd: "pulumi", args: ["up", ...s, "--yes", ...unattended] },
    });
    return steps;
}

// ---- judging the preview (`pulumi preview --json`) ----

/**
 * One step of `pulumi preview --json`: the CLI prints a PreviewDigest, `{ steps: [{ op, urn, oldState, newState, … }] }`
 * (pulumi pkg/display/json.go, pkg/backend/display/json.go ShowPreviewDigest). `same` steps are left out of it; a
 * replacement shows as one logical `replace` step (its create-replacement and delete-replaced halves are hidden from
 * JSON output unless asked for); `oldState`/`newState` are apitype.ResourceV3, whose `retainOnDelete` marks a delete
 * that leaves the object where it is.
 */
export interface PreviewStep {
    op: string;
    urn: string;
    /** The resource's type token, e.g. `cloudflare:index/dnsRecord:DnsRecord`. */
    type: string;
    /** The resource's name: the last part of its URN, as `--allow-outside` takes it. */
    name: string;
    /** A delete of a resource with `retainOnDelete`: it leaves the state only. */
    retained: boolean;
}

/** Packages whose resources live outside the cluster (random and TLS: the secrets and keys those derive from). */
export const OUTSIDE_PACKAGES = ["cloudflare", "github", "random", "tls"] as const;

/**
 * Operations that create, replace or delete. Not among them: `update` (in place: shown, not refused), `import`
 * (adopts an existing object), `read`, `refresh`, and the `discard` steps of read resources, none of which changes
 * anything outside.
 */
export const CHANGING_OPS = ["create", "replace", "create-replacement", "delete", "delete-replaced", "import-replacement"] as const;

/** `urn:pulumi:<stack>::<project>::<parent types$…$type>::<name>` → its type and name. */
export function urnParts(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    return { type: (parts[2] ?? "").split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

/** The steps of `pulumi preview --json`'s output, or undefined when the text is not that JSON. */
export function previewSteps(json: string): PreviewStep[] | undefined {
    const digest = parseJson(json);
    if (!isRecord(digest)) return undefined;
    const steps = digest.steps ?? [];
    if (!Array.isArray(steps)) return undefined;
    return steps.flatMap((raw: unknown) => {
        const st = raw as { op?: unknown; urn?: unknown; oldState?: { type?: unknown; retainOnDelete?: unknown }; newState?: { type?: unknown } };
        if (typeof st?.op !== "string" || typeof st.urn !== "string") return [];
        const fromUrn = urnParts(st.urn);
        const type = [st.newState?.type, st.oldState?.type].find((t): t is string => typeof t === "string") ?? fromUrn.type;
        const retained = st.oldState?.retainOnDelete === true && (st.op === "delete" || st.op === "delete-replaced");
        return [{ op: st.op, urn: st.urn, type, name: fromUrn.name, retained }];
    });
}

/** Whether a type lives outside the cluster. `pulumi:providers:*` does not: a provider is settings held in the state. */
export function isOutside(type: string): boolean {
    return OUTSIDE_PACKAGES.some((p) => type.startsWith(`${p}:`));
}

export interface Judgement {
    /** Creates, replaces and deletes outside the cluster that no `--allow-outside` names: the run stops. */
    refused: PreviewStep[];
    /** The same, named by `--allow-outside`. */
    allowed: PreviewStep[];
    /** Updates in place outside the cluster: shown, not refused. */
    updates: PreviewStep[];
    /** Every step that changes something, in the preview's order. */
    changes: PreviewStep[];
    /** `--allow-outside` names that match no step (a typo, or a change that is no longer there). */
    unused: string[];
}

/**
 * The rule of a recovery: nothing outside the cluster is created, replaced or deleted unless allowed by name. Steps of
 * `kubernetes:*` (the handover's retained deletes included), components, the stack and providers pass.
 */
export function judgePreview(steps: PreviewStep[], allowOutside: readonly string[]): Judgement {
    const changes = steps.filter((st) => st.op !== "same");
    const outside = changes.filter((st) => isOutside(st.type) && (CHANGING_OPS as readonly string[]).includes(st.op));
    const allowed = outside.filter((st) => allowOutside.includes(st.name));
    return {
        refused: outside.filter((st) => !allowOutside.includes(st.name)),
        allowed,
        updates: changes.filter((st) => isOutside(st.type) && st.op === "update"),
        changes,
        unused: allowOutside.filter((n) => !outside.some((st) => st.name === n)),
    };
}

/** `delete cloudflare:index/r2Bucket:R2Bucket backups-infra-volsync (retained: …)`: how a step is named. */
export function stepLine(st: PreviewStep): string {
    return `${st.op} ${st.type} ${st.name}${st.retained ? " (retained: the object stays, the stack stops owning it)" : ""}`;
}

/** What the run prints when it refuses the preview: each step, and the command that allows them. */
export function refusalLines(opts: Pick<DrOptions, "stack" | "allowOutside" | "yes" | "kubeconfigFile"> & Partial<Pick<DrOptions, "verifyWaitSeconds">>, j: Judgement): string[] {
    const q = (v: string) => display({ cmd: v, args: [] });
    const names = [...new Set(j.refused.map((st) => st.name))];
    // The run to repeat is the user's own: a --verify-wait they gave is kept (the kubeconfig is stored by then).
    const wait = opts.verifyWaitSeconds !== undefined && opts.verifyWaitSeconds !== DR_VERIFY_WAIT_SECONDS ? ["--verify-wait", String(opts.verifyWaitSeconds)] : [];
    const again = ["npm run dr --", opts.stack, ...(opts.yes ? ["--yes"] : []), ...wait, ...[...opts.allowOutside, ...names].flatMap((n) => ["--allow-outside", q(n)])].join(" ");
    return [
        `Refused: the preview would change ${j.refused.length} resource${j.refused.length === 1 ? "" : "s"} outside the cluster, which a rebuild has no reason to touch:`,
        ...j.refused.map((st) => `  ✗ ${stepLine(st)}`),
        "Nothing was applied. Look at why first (`pulumi preview --diff`): a resource changed or deleted by hand, a changed",
        "config value, a provider upgrade. If the change is wanted, allow each step by name:",
        `  ${again}`,
    ];
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
        `  1. The FluxInstance installs the controllers; the GitRepository pulls ${source} as before (with the same deploy`,
        "     key, or anonymously over HTTPS for a public repository).",
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

/**
 * Runs a JSON preview with its standard output captured (progress and errors still on the terminal). The variable
 * that turns `preview --json` into a stream of engine events is removed: the digest is what is judged.
 */
function runCaptured(c: Command): SpawnSyncReturns<string> {
    const env = { ...process.env };
    delete env.PULUMI_ENABLE_STREAMING_JSON_PREVIEW;
    return spawnSync(c.cmd, c.args, { cwd: ROOT, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 256 * 1024 * 1024 });
}

/** The errors a failed `preview --json` reported in its digest (Pulumi masks secrets in its own diagnostics). */
export function previewErrors(json: string): string[] {
    try {
        const d = JSON.parse(json) as { diagnostics?: Array<{ severity?: unknown; message?: unknown }> };
        return (d.diagnostics ?? []).filter((x) => x.severity === "error" && typeof x.message === "string").map((x) => (x.message as string).trim());
    } catch {
        return [];
    }
}

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
    // The preflight, and the SDKs it loads, only now: --help and usage errors answer at once.
    const { runPreflight } = require("../preflight") as typeof import("../preflight");
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
        if (step.preview && step.judged) {
            say(`  $ ${display(step.preview)}`);
            const r = runCaptured(step.preview);
            const planned = r.stdout ? previewSteps(r.stdout) : undefined;
            if (!ok(r) || !planned) {
                for (const e of r.stdout ? previewErrors(r.stdout) : []) say(`  error: ${e}`);
                say(`Preview failed: ${ok(r) ? `${display(step.preview)} printed no preview JSON` : failure(step.preview, r)}. `
                    + `Stopped before step ${i + 1}; nothing of this step was applied.`);
                return 1;
            }
            const j = judgePreview(planned, opts.allowOutside);
            say(j.changes.length ? `  The preview changes ${j.changes.length} resource${j.changes.length === 1 ? "" : "s"}:` : "  The preview changes nothing.");
            for (const st of j.changes) say(`    ${stepLine(st)}`);
            for (const st of j.updates) say(`  ! outside the cluster, updated in place: ${st.type} ${st.name}`);
            for (const st of j.allowed) say(`  ! outside the cluster, allowed by --allow-outside: ${stepLine(st)}`);
            for (const n of j.unused) say(`  ! --allow-outside ${n}: no create, replace or delete of that name in the preview`);
            if (j.refused.length) {
                for (const l of refusalLines(opts, j)) say(l);
                return 1;
            }
        } else if (step.preview) {
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

    // The run ends with what verify finds, once Flux has had the time to restore the cluster.
    say();
    say(`Verify (the checks of \`npm run verify\`${opts.verifyWaitSeconds ? `, checking again for up to ${opts.verifyWaitSeconds} s while Flux restores the cluster` : ""}):`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runVerify } = require("../verify") as typeof import("../verify");
    const { pingWebhook, pingWouldHelp } = require("../verify/github") as typeof import("../verify/github");
    // A push sent while the cluster was down failed its delivery; once the way to the Receiver is back, one ping lands.
    let pinged = false;
    const verified = await runVerify({
        stack: opts.stack,
        waitSeconds: opts.verifyWaitSeconds,
        onRound: (failing, left) => process.stderr.write(progressLine(failing, left)),
        mend: async (failing, facts) => {
            if (pinged || !pingWouldHelp(failing)) return false;
            pinged = true;
            say(await pingWebhook(facts));
            return true;
        },
    });
    process.stdout.write(reportText(opts.stack, verified));
    if (verified.failures > 0) {
        say(`The recovery of ${opts.stack} is applied but not verified: see the failed checks above.`);
        return 1;
    }
    say(`Stack ${opts.stack} is recovered and verified.`);
    return 0;
}

// Runs only as the script itself, so tests can import its functions.
runAsMain(__filename, main);
