// Offline plan: `npm run plan -- <stack> [--json] [--config FILE] [--gitops-dir DIR] [--stack-outputs FILE]`. Runs
// the real program on Pulumi's mock runtime, with no credentials and no network, and prints what the stack would
// create.
import * as fs from "node:fs";
import * as path from "node:path";
import { ClusterIdentityError } from "../components/cluster-identity";
import { ConfigError, configNotes } from "../config";
import { checkoutRequired, placeholderNote } from "../offline/gitops";
import { readStackSettings, ROOT, runOffline, StackFileError, toPlanJson, type PlanJson } from "../offline/runtime";
import { readStackOutputs, StackOutputsFileError } from "../offline/stack-outputs";

const USAGE = "usage: npm run plan -- <stack> [--json] [--config FILE] [--gitops-dir DIR] [--stack-outputs FILE]\n"
    + "  --stack-outputs FILE  outputs of the stacks this one references (a spoke's hub), as JSON:\n"
    + "                        { \"<stack>\": { \"outputs\": {…}, \"secretOutputNames\": [...] } }; without it, placeholders";

function parseArgs(argv: string[]): { stack: string; json: boolean; file?: string; gitopsDir?: string; stackOutputs?: string } {
    let json = false;
    let file: string | undefined;
    let gitopsDir: string | undefined;
    let stackOutputs: string | undefined;
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--json") json = true;
        else if (a === "--config") file = argv[++i];
        else if (a.startsWith("--config=")) file = a.slice("--config=".length);
        else if (a === "--gitops-dir") gitopsDir = argv[++i] ?? "";
        else if (a.startsWith("--gitops-dir=")) gitopsDir = a.slice("--gitops-dir=".length);
        else if (a === "--stack-outputs") stackOutputs = argv[++i];
        else if (a.startsWith("--stack-outputs=")) stackOutputs = a.slice("--stack-outputs=".length);
        else if (a === "-h" || a === "--help") throw new UsageError("");
        else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else rest.push(a);
    }
    if (rest.length !== 1 || (file === undefined && argv.includes("--config"))) throw new UsageError("name one stack");
    if (gitopsDir !== undefined && (gitopsDir === "" || !fs.existsSync(gitopsDir) || !fs.statSync(gitopsDir).isDirectory())) {
        throw new UsageError(`--gitops-dir ${JSON.stringify(gitopsDir)} is not a directory`);
    }
    if (stackOutputs === undefined && argv.includes("--stack-outputs")) throw new UsageError("--stack-outputs needs a FILE");
    return { stack: rest[0], json, file, gitopsDir: gitopsDir === undefined ? undefined : path.resolve(gitopsDir), stackOutputs };
}

class UsageError extends Error {}

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
            const flags = [r.options.protect && "protected", r.options.retainOnDelete && "retained"].filter(Boolean);
            lines.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}${flags.length ? `  [${flags.join(", ")}]` : ""}`);
            if (r.custom) for (const l of summarise(r.inputs)) lines.push(`${"  ".repeat(depth + 2)}${l}`);
            walk(r.urn, depth + 1);
        }
    };
    walk("", 0);
    lines.push("Outputs:");
    for (const [k, v] of Object.entries((plan.outputs ?? {}) as Record<string, unknown>)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
    return lines.join("\n") + "\n";
}

/** The scalar inputs of a resource, flattened to `a.b.c: value`, long lists and blobs shortened. */
function summarise(inputs: unknown, prefix = "", out: string[] = []): string[] {
    if (out.length >= 12) return out;
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

async function main(): Promise<number> {
    let args: ReturnType<typeof parseArgs>;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        process.stderr.write(`${(e as Error).message ? `${(e as Error).message}\n` : ""}${USAGE}\n`);
        return 2;
    }
    const file = path.resolve(args.file ?? path.join(ROOT, `Pulumi.${args.stack}.yaml`));
    if (!fs.existsSync(file)) {
        process.stderr.write(`no stack settings file ${file}\n${USAGE}\n`);
        return 2;
    }
    let settings: ReturnType<typeof readStackSettings>;
    try {
        settings = readStackSettings(file);
    } catch (e) {
        if (!(e instanceof StackFileError)) throw e;
        for (const p of e.problems) process.stderr.write(`${p}\n`);
        return 1;
    }
    const required = checkoutRequired(settings.config, args.gitopsDir);
    if (required) {
        process.stderr.write(`${required}\n${USAGE}\n`);
        return 2;
    }
    let stackOutputs: ReturnType<typeof readStackOutputs> | undefined;
    if (args.stackOutputs !== undefined) {
        const outputsFile = path.resolve(args.stackOutputs);
        if (!fs.existsSync(outputsFile)) {
            process.stderr.write(`no stack outputs file ${outputsFile}\n${USAGE}\n`);
            return 2;
        }
        try {
            stackOutputs = readStackOutputs(outputsFile);
        } catch (e) {
            if (!(e instanceof StackOutputsFileError)) throw e;
            for (const p of e.problems) process.stderr.write(`${p}\n`);
            return 1;
        }
    }
    const run = await runOffline({ stack: args.stack, ...settings, gitopsDir: args.gitopsDir, stackOutputs });
    const gitopsNote = placeholderNote(settings.config, args.gitopsDir);
    for (const note of [...configNotes, ...(gitopsNote ? [gitopsNote] : [])]) process.stderr.write(`${note}\n`);
    for (const note of run.notes) process.stderr.write(`note: ${note}\n`);
    if (run.error) {
        if (run.error instanceof ConfigError) {
            for (const p of run.error.problems) process.stderr.write(`${p}\n`);
        } else if (run.error instanceof ClusterIdentityError) {
            process.stderr.write(`${run.error.message}\n`);
        } else {
            process.stderr.write(`${(run.error as Error)?.stack ?? String(run.error)}\n`);
        }
        return 1;
    }
    const plan = toPlanJson(run);
    process.stdout.write(args.json ? `${JSON.stringify(plan, null, 2)}\n` : renderTree(plan));
    return 0;
}

main().then(
    (code) => process.exit(code),
    (e) => {
        process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
        process.exit(1);
    },
);
