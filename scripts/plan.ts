// Offline plan: `npm run plan -- <stack> [--json] [--config FILE] [--gitops-dir DIR] [--stack-outputs FILE]
// [--cluster-state FILE] [--cloud-state FILE]`. Runs
// the real program on Pulumi's mock runtime, with no credentials and no network, and prints what the stack would
// create.
import * as fs from "node:fs";
import * as path from "node:path";
import { environmentSecrets, secretRedactor, stackSecrets } from "../config/secret-values";
import { readClusterState } from "../offline/cluster-state";
import { checkoutRequired, placeholderNote } from "../offline/gitops";
import type { PlanJson } from "../offline/runtime";
import { InputFileError } from "../offline/input-file";
import { readStackSettings } from "../offline/stack-file";
import { ROOT } from "../config/keys";
import { readStackOutputs, unusedStackOutputsNote } from "../offline/stack-outputs";
import { readCloudState } from "../offline/cloud-state";
import { flagValue, parseOrExit, processIo, stackFiles, UsageError, userPath, runAsMain, type CommandIo } from "./cli";

const USAGE = "usage: npm run plan -- <stack> [--json] [--config FILE] [--gitops-dir DIR] [--stack-outputs FILE] [--cluster-state FILE] "
    + "[--cloud-state FILE]";

const HELP = `${USAGE}

Runs the program on Pulumi's mock runtime, with no credentials, no network and no Pulumi CLI, and prints what
stack <stack> would create (docs/plan-and-check.md: The offline plan).

options:
  <stack>               a stack with a settings file Pulumi.<stack>.yaml in the repository (or any name with --config)
  --json                one JSON object on stdout instead of the readable tree; with npm, use \`npm run -s plan\` so
                        npm's own banner stays off stdout (e.g. \`npm run -s plan -- infra --json | jq '.resources | length'\`)
  --config FILE         read the settings from FILE (same format) instead of Pulumi.<stack>.yaml
  --gitops-dir DIR      serve the GitOps repository's files (platform releases) from a local checkout instead of
                        placeholders
  --stack-outputs FILE  outputs of the stacks this one references (a spoke's hub; with cluster-bootstrap:adopt, this
                        stack itself, whose last outputs say what its state holds), as JSON:
                        { "<stack>": { "outputs": {…}, "secretOutputNames": [...] } }; without it, placeholders
  --cluster-state FILE  the target cluster's objects as \`kubectl get -o yaml\` prints them (a List, or several YAML
                        documents; an empty FILE is an empty cluster): they answer every cluster read, and what Flux
                        has taken over is left out of the plan and listed under handedOver. Without it, an empty
                        cluster. Capture one (docs/platform-and-flux.md: The handover, offline):
                          { kubectl get namespace kube-system -o yaml; echo ---
                            kubectl get configmap -n flux-system cluster-vars -o yaml; echo ---
                            kubectl get helmreleases,fluxinstances -A -o yaml; } > cluster-state.yaml
  --cloud-state FILE    what already exists in the Cloudflare account and the repository, for a stack with
                        cluster-bootstrap:adopt: JSON lists {"r2Buckets": [{name, location, storageClass,
                        jurisdiction}], "tunnels": [{id, name}], "dnsRecords": [{id, name, type, content, proxied}],
                        "accessApplications": [{id, name, domain}], "accessPolicies", "accountTokens",
                        "accessServiceTokens": [{id, name}], "deployKeys": [{id, title}], "webhooks": [{id, url}]}
                        (more fields allowed); the plan then shows each import ID. Without it, nothing exists
  -h, --help            this text

A relative FILE or DIR is taken from the directory you ran npm in.

exit codes: 0 planned, 1 invalid config or files (every problem on stderr, nothing on stdout), 2 a usage error
`;

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env):
    { stack: string; json: boolean; file?: string; gitopsDir?: string; stackOutputs?: string; clusterState?: string; cloudState?: string } {
    let json = false;
    let cloudState: string | undefined;
    let file: string | undefined;
    let gitopsDir: string | undefined;
    let stackOutputs: string | undefined;
    let clusterState: string | undefined;
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = (flag: string, what: string) => {
            const v = flagValue(argv, i, flag, what);
            i = v.next;
            return userPath(v.value, env);
        };
        if (a === "--json") json = true;
        else if (a === "--config" || a.startsWith("--config=")) file = value("--config", "a stack settings file");
        else if (a === "--gitops-dir" || a.startsWith("--gitops-dir=")) gitopsDir = value("--gitops-dir", "a directory");
        else if (a === "--stack-outputs" || a.startsWith("--stack-outputs=")) stackOutputs = value("--stack-outputs", "a FILE");
        else if (a === "--cluster-state" || a.startsWith("--cluster-state=")) clusterState = value("--cluster-state", "a FILE");
        else if (a === "--cloud-state" || a.startsWith("--cloud-state=")) cloudState = value("--cloud-state", "a FILE");
        else if (a === "-h" || a === "--help") throw new UsageError("");
        else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else rest.push(a);
    }
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "name the stack to plan" : `name one stack, not ${rest.length}`);
    if (gitopsDir !== undefined && (!fs.existsSync(gitopsDir) || !fs.statSync(gitopsDir).isDirectory())) {
        throw new UsageError(`--gitops-dir ${JSON.stringify(gitopsDir)} is not a directory`);
    }
    return { stack: rest[0], json, file, gitopsDir, stackOutputs, clusterState, cloudState };
}

/** Readable tree: each resource under its parent, with its key inputs. */
export function renderTree(plan: PlanJson): string {
    const children = new Map<string, PlanJson["resources"]>();
    for (const r of plan.resources) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const lines: string[] = [`Plan for ${plan.project}/${plan.stack}: ${plan.resources.filter((r) => r.custom).length} resources`];
    const walk = (parent: string, depth: number) => {
        for (const r of children.get(parent) ?? []) {
            const flags = [r.options.protect && "protected", r.options.retainOnDelete && "retained", r.options.import && `import ${r.options.import}`]
                .filter(Boolean);
            lines.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}${flags.length ? `  [${flags.join(", ")}]` : ""}`);
            if (r.custom) for (const l of shownInputs(r.inputs)) lines.push(`${"  ".repeat(depth + 2)}${l}`);
            walk(r.urn, depth + 1);
        }
    };
    walk("", 0);
    lines.push("Outputs:");
    for (const [k, v] of Object.entries((plan.outputs ?? {}) as Record<string, unknown>)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
    return lines.join("\n") + "\n";
}

/** Input lines the readable tree shows per resource; `--json` has them all. */
const SHOWN_INPUTS = 12;

/** A resource's first input lines, and how many the tree leaves out, so that a cut list never reads as the whole. */
function shownInputs(inputs: unknown): string[] {
    const all = summarise(inputs);
    if (all.length <= SHOWN_INPUTS) return all;
    const more = all.length - SHOWN_INPUTS;
    return [...all.slice(0, SHOWN_INPUTS), `… ${more} more input${more === 1 ? "" : "s"} (--json prints every one)`];
}

/** The scalar inputs of a resource, flattened to `a.b.c: value`, long lists and blobs shortened. */
function summarise(inputs: unknown, prefix = "", out: string[] = []): string[] {
    if (inputs && typeof inputs === "object" && !Array.isArray(inputs)) {
        for (const [k, v] of Object.entries(inputs)) {
            if (k === "__defaults" || k === "kind" || k === "apiVersion") continue;
            summarise(v, prefix ? `${prefix}.${k}` : k, out);
        }
    } else if (Array.isArray(inputs)) {
        if (inputs.every((x) => typeof x !== "object" || x === null)) out.push(`${prefix}: ${JSON.stringify(inputs)}`);
        else inputs.forEach((x, i) => summarise(x, `${prefix}[${i}]`, out));
    } else {
        let s = JSON.stringify(inputs);
        if (s.length > 100) s = `${s.slice(0, 97)}…"`;
        out.push(`${prefix}: ${s}`);
    }
    return out;
}

/**
 * The plan's stderr: everything written passes the check that hides the secrets known so far, the environment's
 * (GITHUB_TOKEN, PULUMI_CONFIG_PASSPHRASE …) and, once the stack file is read, those it holds in plain text.
 */
export function planStderr(env: Readonly<Record<string, string | undefined>>, write: (text: string) => void = (t) => void process.stderr.write(t)) {
    let hide = secretRedactor(environmentSecrets(env));
    return {
        write: (text: string) => write(hide(text)),
        /** Adds the secrets of the stack settings (full keys to values, as read from the file). */
        know: (config: Record<string, string>) => {
            hide = secretRedactor([...stackSecrets(config), ...environmentSecrets(env)]);
        },
    };
}

/** What the plan runs of the program: the offline runtime and the errors it reports as the user's. */
export type PlanProgram = Pick<typeof import("../offline/runtime"), "runOffline" | "toPlanJson">
    & Pick<typeof import("../offline/fakes"), "STACK_REFERENCE">
    & Pick<typeof import("../config/validate"), "ConfigError">
    & Pick<typeof import("../cluster/identity"), "ClusterIdentityError">
    & Pick<typeof import("@pulumi/pulumi"), "ResourceError">;

/** The program, required on first use under the scripts' loader, so that --help and usage errors load no SDK. */
function requireProgram(): PlanProgram {
    return {
        ...(require("../offline/runtime") as typeof import("../offline/runtime")),
        ...(require("../offline/fakes") as typeof import("../offline/fakes")),
        ...(require("../config/validate") as typeof import("../config/validate")),
        ...(require("../cluster/identity") as typeof import("../cluster/identity")),
        ResourceError: (require("@pulumi/pulumi") as typeof import("@pulumi/pulumi")).ResourceError,
    };
}

/**
 * The plan command: `argv` as after `npm run plan --`, writing through `io`; returns the exit code. The script runs it
 * with the process's own streams; tests run it in-process with theirs, passing the program they imported already.
 */
export async function planCommand(argv: string[], io: CommandIo = processIo(), program: () => PlanProgram = requireProgram): Promise<number> {
    const stderr = planStderr(io.env, io.err);
    try {
        return await plan(argv, io, stderr, program);
    } catch (e) {
        stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
        return 1;
    }
}

async function plan(argv: string[], io: CommandIo, stderr: ReturnType<typeof planStderr>, program: () => PlanProgram): Promise<number> {
    const args = parseOrExit(() => parseArgs(argv, io.env), HELP, USAGE, io);
    if (typeof args === "number") return args;
    const file = args.file ?? path.join(ROOT, `Pulumi.${args.stack}.yaml`);
    if (!fs.existsSync(file)) {
        const known = stackFiles(ROOT);
        stderr.write(args.file !== undefined
            ? `no stack settings file ${file}\n`
            : `no stack ${JSON.stringify(args.stack)} here: there is no ${path.basename(file)} (stacks with a settings file: ${known.join(", ") || "none"}; `
                + "or pass --config FILE)\n");
        return 2;
    }
    let settings: ReturnType<typeof readStackSettings>;
    try {
        settings = readStackSettings(file);
    } catch (e) {
        if (!(e instanceof InputFileError)) throw e;
        for (const p of e.problems) stderr.write(`${p}\n`);
        return 1;
    }
    stderr.know(settings.config);
    const required = checkoutRequired(settings.config, args.gitopsDir);
    if (required) {
        stderr.write(`${required}\n${USAGE}\n`);
        return 2;
    }
    // The files that answer what the offline run cannot know: a missing one is a usage error (2), one that does not
    // read is the user's to fix (1), each problem on its own line.
    const input = <T>(file: string | undefined, what: string, read: (file: string) => T): T | undefined | number => {
        if (file === undefined) return undefined;
        if (!fs.existsSync(file)) {
            stderr.write(`no ${what} file ${file}\n`);
            return 2;
        }
        try {
            return read(file);
        } catch (e) {
            if (!(e instanceof InputFileError)) throw e;
            for (const p of e.problems) stderr.write(`${p}\n`);
            return 1;
        }
    };
    const stackOutputs = input(args.stackOutputs, "stack outputs", readStackOutputs);
    if (typeof stackOutputs === "number") return stackOutputs;
    const clusterState = input(args.clusterState, "cluster state", readClusterState);
    if (typeof clusterState === "number") return clusterState;
    const cloudState = input(args.cloudState, "cloud state", readCloudState);
    if (typeof cloudState === "number") return cloudState;
    // The program, the mock runtime and the provider SDKs, loaded only now: --help and usage errors answer at once.
    const { runOffline, toPlanJson, STACK_REFERENCE, ConfigError, ClusterIdentityError, ResourceError } = program();
    const run = await runOffline({ stack: args.stack, ...settings, gitopsDir: args.gitopsDir, stackOutputs, clusterState, cloudState });
    const gitopsNote = placeholderNote(settings.config, args.gitopsDir);
    if (gitopsNote) stderr.write(`${gitopsNote}\n`);
    for (const note of run.notes) stderr.write(`note: ${note}\n`);
    if (run.error) {
        if (run.error instanceof ConfigError) {
            for (const p of run.error.problems) stderr.write(`${p}\n`);
        } else if (run.error instanceof ClusterIdentityError) {
            stderr.write(`${run.error.message}\n`);
        } else if (ResourceError.isInstance(run.error) && run.error.hideStack) {
            // As the Pulumi CLI prints it: a component's error about the user's files, its message without a stack.
            stderr.write(`${run.error.message}\n`);
        } else {
            stderr.write(`${(run.error as Error)?.stack ?? String(run.error)}\n`);
        }
        return 1;
    }
    if (stackOutputs !== undefined) {
        // Accepted, but said when it changes nothing: a file meant for another stack is easy to pass by mistake.
        const referenced = run.resources.filter((r) => r.type === STACK_REFERENCE).map((r) => String(r.inputs.name));
        const unused = unusedStackOutputsNote(args.stackOutputs!, Object.keys(stackOutputs), referenced);
        if (unused) stderr.write(`note: ${unused}\n`);
    }
    const planJson = toPlanJson(run);
    io.out(args.json ? `${JSON.stringify(planJson, null, 2)}\n` : renderTree(planJson));
    return 0;
}

// Runs only as the script itself, so tests can import its functions.
runAsMain(__filename, () => planCommand(process.argv.slice(2)));
