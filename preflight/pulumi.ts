// The Pulumi side: the CLI (present, recent enough), the login, the stack, and the stack's config as the CLI merges
// it. Secret values are read with `pulumi config get`, which decrypts them; they stay in memory and are never printed.
import { execFile } from "node:child_process";
import * as semver from "semver";
import { fail, lastLine, ok, skip, type CheckResult } from "./result";
import { isRecord, parseJson } from "../config/checks";
import { PROJECT } from "../config/keys";

/**
 * The oldest Pulumi CLI the program works with: 3.238.0 is the first whose failing after-create/update hook fails and
 * stops `pulumi up` (pulumi/pulumi#22935), which the Flux waits rely on (cluster/flux-await.ts); older CLIs only warn
 * and carry on. It also covers `replacementTrigger` (engine 3.208; its Node SDK side, 3.211, comes with package.json, per
 * pulumi's CHANGELOG) and `pulumi refresh --run-program`, which the DR script uses.
 */
export const MIN_PULUMI_VERSION = "3.238.0";

export interface CliResult {
    /** Exit code 0. */
    ok: boolean;
    /** The `pulumi` executable was not found. */
    missing: boolean;
    timedOut: boolean;
    code: number | null;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
}

/**
 * Runs one `pulumi` command and says how it ended. {@link runPulumi} runs the CLI; tests pass one that answers
 * in-process. Whatever it is, the checks bound each call by `timeoutMs` themselves.
 */
export type PulumiRunner = (args: string[], opts: RunOptions) => Promise<CliResult>;

/** Runs `pulumi` with the given arguments, no shell, no terminal, at most `timeoutMs`. */
export function runPulumi(args: string[], opts: RunOptions): Promise<CliResult> {
    return new Promise((resolve) => {
        const child = execFile("pulumi", args, {
            cwd: opts.cwd,
            // No update check (a network call of its own), no colour codes in what is parsed or shown.
            env: { ...opts.env, PULUMI_SKIP_UPDATE_CHECK: "true", NO_COLOR: "1" },
            timeout: opts.timeoutMs,
            maxBuffer: 16 * 1024 * 1024,
            encoding: "utf8",
        }, (error, stdout, stderr) => {
            const e = error as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
            resolve({
                ok: !e,
                missing: e?.code === "ENOENT",
                timedOut: Boolean(e?.killed),
                code: typeof e?.code === "number" ? e.code : e ? null : 0,
                stdout,
                stderr,
            });
        });
        // Nothing to read from us: a prompt (a passphrase) fails at once instead of waiting.
        child.stdin?.end();
    });
}

/**
 * `run(args)` bounded by `timeoutMs`: a runner that does not answer in time counts as a command that did not finish
 * (the real one kills its child at the same bound).
 */
export function boundedRun(run: PulumiRunner, args: string[], opts: RunOptions): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CliResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, missing: false, timedOut: true, code: null, stdout: "", stderr: "" }), opts.timeoutMs);
    });
    return Promise.race([run(args, opts), timedOut]).finally(() => clearTimeout(timer));
}

/** What went wrong running a command, for a one-line message: not found, timed out, or its exit code and reason. */
export function cliFailure(command: string, r: CliResult, timeoutMs: number): string {
    if (r.missing) return "the pulumi CLI is not on PATH";
    if (r.timedOut) return `\`${command}\` did not finish within ${timeoutMs / 1000} s`;
    const reason = lastLine(r.stderr) || lastLine(r.stdout);
    return `\`${command}\` failed (exit code ${r.code ?? "unknown"})${reason ? `: ${reason}` : ""}`;
}

/** `v3.259.0\n` → `3.259.0`; undefined for anything else. */
export function parsePulumiVersion(stdout: string): string | undefined {
    const m = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:\+\S*)?$/.exec(stdout.trim());
    return m && semver.valid(m[1]) ? m[1] : undefined;
}

/** Whether `pulumi stack ls --json` lists the stack (by its short or fully qualified name). */
export function stackListed(json: string, stack: string): boolean {
    return stackNames(json)?.some((name) => name === stack || name.split("/").pop() === stack.split("/").pop()) ?? false;
}

/** Stack names in `pulumi stack ls --json`, or undefined when it is not that. */
export function stackNames(json: string): string[] | undefined {
    const list = parseJson(json);
    if (!Array.isArray(list)) return undefined;
    return list.flatMap((s: { name?: unknown }) => (typeof s?.name === "string" ? [s.name] : []));
}

/** One key of `pulumi config --json`: secrets carry no value unless `--show-secrets`. */
export interface ConfigEntry {
    value?: string;
    objectValue?: unknown;
    secret: boolean;
}

export type ConfigView = Record<string, ConfigEntry>;

/** `pulumi config --json` as a map of full keys, or undefined when the text is not that. */
export function parseConfigJson(json: string): ConfigView | undefined {
    const parsed = parseJson(json);
    if (!isRecord(parsed)) return undefined;
    const view: ConfigView = {};
    for (const [k, v] of Object.entries(parsed)) {
        if (!v || typeof v !== "object") return undefined;
        const e = v as { value?: unknown; objectValue?: unknown; secret?: unknown };
        view[k] = {
            ...(typeof e.value === "string" ? { value: e.value } : {}),
            ...(e.objectValue !== undefined ? { objectValue: e.objectValue } : {}),
            secret: e.secret === true,
        };
    }
    return view;
}

export interface PulumiFacts {
    /** The stack's config as the CLI merges it (stack file, project, environments); undefined when it could not be read. */
    config?: ConfigView;
    /** Why the checks stopped before the config, in a few words (`the Pulumi CLI is missing`); undefined when they did not. */
    stopped?: string;
    /** The project's other stacks in this backend, as `pulumi stack ls` names them. */
    otherStacks?: string[];
}

export interface PulumiCheckOptions {
    stack: string;
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    /** Whether to read the stack's config (the DR script needs only the CLI, the login and the stack). */
    readConfig: boolean;
    /** Runs each `pulumi` command (default {@link runPulumi}, the CLI on PATH). */
    run?: PulumiRunner;
}

/** Titles of the checks {@link pulumiChecks} makes, in order. */
export const pulumiCheckTitles = (stack: string) => ["Pulumi CLI", "Pulumi login", `Pulumi stack ${stack}`];

/** The CLI, its version, the login, the stack and its config; each needs the one before it. */
export async function pulumiChecks(o: PulumiCheckOptions, out: CheckResult[]): Promise<PulumiFacts> {
    const runner = o.run ?? runPulumi;
    const run = (args: string[]) => boundedRun(runner, args, { cwd: o.cwd, env: o.env, timeoutMs: o.timeoutMs });
    const install = "install or upgrade it: https://www.pulumi.com/docs/install/, then open a new shell";
    // A check that failed leaves the ones after it listed as not checked, with the reason in a few words.
    const stop = (stopped: string, from: number): PulumiFacts => {
        for (const title of pulumiCheckTitles(o.stack).slice(from)) out.push(skip(title, `not checked: ${stopped}`));
        return { stopped };
    };

    const version = await run(["version"]);
    if (!version.ok) {
        out.push(fail("Pulumi CLI", cliFailure("pulumi version", version, o.timeoutMs), version.missing ? install : undefined));
        return stop(version.missing ? "the Pulumi CLI is missing" : "the Pulumi CLI did not run", 1);
    }
    const v = parsePulumiVersion(version.stdout);
    if (!v) {
        out.push(fail("Pulumi CLI", `\`pulumi version\` printed no version (${JSON.stringify(lastLine(version.stdout).slice(0, 60))})`));
        return stop("the Pulumi CLI did not say its version", 1);
    }
    if (semver.lt(v, MIN_PULUMI_VERSION)) {
        out.push(fail("Pulumi CLI", `${v} is older than ${MIN_PULUMI_VERSION}, the first whose failing resource hooks stop \`pulumi up\` (the Flux waits rely on it)`, install));
        return stop(`the Pulumi CLI is older than ${MIN_PULUMI_VERSION}`, 1);
    }
    out.push(ok("Pulumi CLI", `${v} (${MIN_PULUMI_VERSION} or later needed)`));

    const whoami = await run(["whoami", "--json"]);
    if (!whoami.ok) {
        out.push(fail("Pulumi login", cliFailure("pulumi whoami", whoami, o.timeoutMs),
            "log in to the backend that holds the state: `pulumi login` (docs/operations.md: Where the state lives)"));
        return stop("not logged in to a Pulumi backend", 2);
    }
    let who: { user?: unknown; url?: unknown } = {};
    try {
        who = JSON.parse(whoami.stdout) as typeof who;
    } catch {
        // An older JSON shape is still a login.
    }
    out.push(ok("Pulumi login", `${typeof who.user === "string" ? who.user : "logged in"}${typeof who.url === "string" ? ` at ${who.url}` : ""}`));

    const stacks = await run(["stack", "ls", "--json"]);
    if (!stacks.ok) {
        out.push(fail(`Pulumi stack ${o.stack}`, cliFailure("pulumi stack ls", stacks, o.timeoutMs)));
        return { stopped: "the stacks could not be listed" };
    }
    if (!stackListed(stacks.stdout, o.stack)) {
        const names = stackNames(stacks.stdout) ?? [];
        out.push(fail(`Pulumi stack ${o.stack}`, `not in this backend (stacks of this project there: ${names.length ? names.join(", ") : "none"})`,
            `create it with \`pulumi stack init ${o.stack}\`, or log in to the backend that has it (docs/configuration.md: Adapting the project to your own cluster)`));
        return { stopped: `no stack ${o.stack} in this backend` };
    }
    out.push(ok(`Pulumi stack ${o.stack}`, "exists"));
    const otherStacks = (stackNames(stacks.stdout) ?? []).filter((name) => name.split("/").pop() !== o.stack.split("/").pop());
    if (!o.readConfig) return { otherStacks };

    const cfg = await run(["config", "--json", "--stack", o.stack]);
    const config = cfg.ok ? parseConfigJson(cfg.stdout) : undefined;
    if (!config) {
        out.push(fail("Stack config", cfg.ok ? "`pulumi config --json` printed something that is not its JSON" : cliFailure("pulumi config", cfg, o.timeoutMs)));
        return { stopped: "`pulumi config` failed" };
    }
    return { config, otherStacks };
}

/**
 * The `cluster` setting of each of `stacks` (`pulumi config get cluster --json`, a plain setting: nothing is decrypted),
 * in parallel, each call bounded; a stack whose setting cannot be read is listed under `unread`.
 */
export async function otherClusters(stacks: readonly string[], o: Omit<PulumiCheckOptions, "readConfig" | "stack">):
    Promise<{ clusters: Array<{ stack: string; id?: number; cidr?: string }>; unread: string[] }> {
    const answers = await Promise.all(stacks.map(async (stack) => {
        const r = await boundedRun(o.run ?? runPulumi, ["config", "get", "--json", `${PROJECT}:cluster`, "--stack", stack], { cwd: o.cwd, env: o.env, timeoutMs: o.timeoutMs });
        if (!r.ok) return { stack };
        try {
            const entry = JSON.parse(r.stdout) as { value?: unknown; objectValue?: unknown };
            const cluster = (entry.objectValue ?? (typeof entry.value === "string" ? JSON.parse(entry.value) : undefined)) as { id?: unknown; cidr?: unknown } | undefined;
            return {
                stack,
                cluster: {
                    stack,
                    ...(typeof cluster?.id === "number" ? { id: cluster.id } : {}),
                    ...(typeof cluster?.cidr === "string" ? { cidr: cluster.cidr } : {}),
                },
            };
        } catch {
            return { stack };
        }
    }));
    return {
        clusters: answers.flatMap((a) => ("cluster" in a && a.cluster ? [a.cluster] : [])),
        unread: answers.filter((a) => !("cluster" in a)).map((a) => a.stack),
    };
}

/**
 * Decrypts the given secret keys with `pulumi config get` (one call per key, the value on standard output, never on a
 * command line). Returns the values, or the reason the first one failed.
 */
export async function readSecrets(keys: string[], o: Omit<PulumiCheckOptions, "readConfig">): Promise<{ values: Map<string, ConfigEntry> } | { problem: string }> {
    const values = new Map<string, ConfigEntry>();
    for (const key of keys) {
        const r = await boundedRun(o.run ?? runPulumi, ["config", "get", "--json", key, "--stack", o.stack], { cwd: o.cwd, env: o.env, timeoutMs: o.timeoutMs });
        if (!r.ok) return { problem: cliFailure(`pulumi config get ${key}`, r, o.timeoutMs) };
        const parsed = parseJson(r.stdout);
        if (!isRecord(parsed)) return { problem: `\`pulumi config get ${key}\` printed something that is not its JSON` };
        values.set(key, {
            ...(typeof parsed.value === "string" ? { value: parsed.value } : {}),
            ...(parsed.objectValue !== undefined ? { objectValue: parsed.objectValue } : {}),
            secret: true,
        });
    }
    return { values };
}
