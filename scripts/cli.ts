// What the entry points share: usage errors, `--help`, and paths as the user typed them.
import * as fs from "node:fs";
import * as path from "node:path";

/** A mistake on the command line: printed with the usage, exit code 2. An empty message means `--help`. */
export class UsageError extends Error {}

/**
 * A path the user typed, resolved from the directory they typed the command in. `npm run` starts scripts in the
 * package root and records the user's directory in INIT_CWD; without npm it is the working directory.
 */
export function userPath(p: string, env: NodeJS.ProcessEnv = process.env): string {
    return path.resolve(env.INIT_CWD || process.cwd(), p);
}

/** Stacks with a settings file in the project root (`Pulumi.<stack>.yaml`), sorted. */
export function stackFiles(root: string): string[] {
    return fs.readdirSync(root).flatMap((f) => {
        const m = /^Pulumi\.([^.]+)\.yaml$/.exec(f);
        return m ? [m[1]] : [];
    }).sort();
}

/**
 * Where a command writes and what it reads of its surroundings: the process's own when it runs as a script, a test's
 * when the test runs the same command in-process (no process start per case).
 */
export interface CommandIo {
    out(text: string): void;
    err(text: string): void;
    env: NodeJS.ProcessEnv;
}

/** The process's standard output and error, and its environment. */
export function processIo(): CommandIo {
    return { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t), env: process.env };
}

/** Parses argv, prints help (exit 0) or a usage error (exit 2) itself; returns the options, or the exit code. */
export function parseOrExit<T>(parse: () => T, help: string, usage: string, io: Pick<CommandIo, "out" | "err"> = processIo()): T | number {
    try {
        return parse();
    } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        if (e.message === "") {
            io.out(help);
            return 0;
        }
        io.err(`${e.message}\n${usage}\n(npm run … -- --help explains every option)\n`);
        return 2;
    }
}

/** The value after a flag (`--runs 3` or `--runs=3`), or a usage error naming the flag. */
export function flagValue(argv: string[], i: number, flag: string, what: string): { value: string; next: number } {
    const a = argv[i];
    if (a.startsWith(`${flag}=`)) {
        const value = a.slice(flag.length + 1);
        if (value === "") throw new UsageError(`${flag} needs ${what}`);
        return { value, next: i };
    }
    const value = argv[i + 1];
    if (value === undefined || value === "" || value.startsWith("-")) throw new UsageError(`${flag} needs ${what}`);
    return { value, next: i + 1 };
}

/** Resolves once everything written to `stream` so far has reached the OS (a pipe included), not only Node's buffer. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
    return new Promise((resolve) => {
        stream.write("", () => resolve());
    });
}

/**
 * Runs `main` when `file` is the script Node was started with (so tests can import the script's functions), and exits
 * with its code only once stdout and stderr are drained: `process.exit` with a write still queued cuts a piped plan
 * off at the pipe's buffer (64 KiB), while a file would take it whole. `describeError` prints an unexpected error.
 */
export function runAsMain(file: string, main: () => Promise<number>,
    describeError: (e: unknown) => string = (e) => `${(e as Error)?.stack ?? String(e)}`): void {
    if (!process.argv[1] || path.resolve(process.argv[1]) !== path.resolve(file)) return;
    // A reader that stops early (`| head`) closes the pipe: the rest of the output has nowhere to go, so it is dropped
    // and the run ends with its own code, instead of Node's unhandled EPIPE trace.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EPIPE") throw e;
        process.stdout.destroy();
    });
    void main()
        .catch((e: unknown) => {
            process.stderr.write(`${describeError(e)}\n`);
            return 1;
        })
        .then(async (code) => {
            process.exitCode = code;
            await Promise.all([drained(process.stdout), drained(process.stderr)]);
            process.exit(code);
        });
}
