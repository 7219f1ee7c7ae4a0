// A stand-in for the `pulumi` CLI in tests. `answer` says what the CLI would for a scenario (test/preflight-fixture.ts);
// tests call it in-process through the preflight's runner seam, and as a script, put on PATH, it is the CLI itself
// for the tests that run the real spawn path (the preflight's default runner, verify, the DR script): it reads the scenario
// from FAKE_PULUMI_SCENARIO and appends each call's arguments to FAKE_PULUMI_LOG, so tests can check what was asked
// (and that no secret is on a command line).
const fs = require("node:fs");

/**
 * What `pulumi <args>` answers in `scenario`: `{ code, stdout, stderr }`, or "hang" for a command that never finishes.
 * @param {any} scenario
 * @param {string[]} args
 */
function answer(scenario, args) {
    let stdout = "";
    const done = (code, stderr = "") => ({ code, stdout, stderr });
    const die = (code, text) => done(code, `${text}\n`);
    const out = (text) => {
        stdout += text;
    };
    const command = commandOf(args);
    const flag = (name) => {
        const i = args.indexOf(name);
        return i >= 0 ? args[i + 1] : undefined;
    };

    if ((scenario.hang ?? []).includes(command.split(" ")[0])) return "hang";
    if (scenario.fail?.[command]) return die(scenario.fail[command].code ?? 255, scenario.fail[command].stderr ?? "error: failed");
    if (command === "version") out(`${scenario.version ?? "v3.259.0"}\n`);
    else if (command === "whoami") out(`${JSON.stringify({ user: "tester", organizations: ["tester"], url: "https://api.pulumi.com" })}\n`);
    else if (command === "stack ls") out(`${JSON.stringify((scenario.stacks ?? []).map((name) => ({ name, current: false })))}\n`);
    else if (command === "config" || command === "config get") {
        // The project's other stacks answer from their own config, when the scenario gives it.
        const other = flag("--stack") !== scenario.stack ? scenario.others?.[flag("--stack")] : undefined;
        if (flag("--stack") !== scenario.stack && !other) return die(255, `error: no stack named '${flag("--stack")}' found`);
        const config = other ?? scenario.config ?? {};
        const entry = (k) => {
            const e = config[k];
            const value = typeof e.value === "string" ? e.value : JSON.stringify(e.value);
            return { value, ...(typeof e.value === "object" ? { objectValue: e.value } : {}), secret: Boolean(e.secret) };
        };
        if (command === "config") {
            // As the CLI does without --show-secrets: a secret's value is left out.
            const view = {};
            for (const k of Object.keys(config)) {
                const e = entry(k);
                view[k] = e.secret ? { secret: true } : e;
            }
            out(`${JSON.stringify(view, null, 2)}\n`);
        } else {
            const key = args[args.indexOf("get") + 1] === "--json" ? args[args.indexOf("get") + 2] : args[args.indexOf("get") + 1];
            if (config[key]?.secret && scenario.noPassphrase) {
                return die(255, "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables");
            }
            if (!config[key]) return die(255, `error: configuration key '${key}' not found for stack '${scenario.stack}'`);
            out(args.includes("--json") ? `${JSON.stringify(entry(key), null, 2)}\n` : `${entry(key).value}\n`);
        }
    } else if (command === "stack output") {
        // `--json`, with the secret values shown only under `--show-secrets`, as `[secret]` otherwise (at any depth).
        if (flag("--stack") !== scenario.stack) return die(255, `error: no stack named '${flag("--stack")}' found`);
        if (!args.includes("--json")) return die(2, "fake pulumi: stack output without --json");
        const shown = {};
        for (const [k, e] of Object.entries(scenario.outputs ?? {})) shown[k] = e.secret && !args.includes("--show-secrets") ? "[secret]" : e.value;
        out(`${JSON.stringify(shown, null, 4)}\n`);
    } else if (scenario.run?.[command] !== undefined) {
        out(`${scenario.run[command]}\n`);
    } else return die(2, `fake pulumi: unexpected command ${JSON.stringify(args)}`);
    return done(0);
}

/** `stack ls`, `config get`, `config set`, or the first word (`config --json --stack x` is `config`). */
function commandOf(args) {
    return args[0] === "stack" || (args[0] === "config" && ["get", "set"].includes(args[1])) ? `${args[0]} ${args[1]}` : args[0];
}

module.exports = { answer };

if (require.main === module) {
    const scenario = JSON.parse(fs.readFileSync(process.env.FAKE_PULUMI_SCENARIO, "utf8"));
    const args = process.argv.slice(2);
    if (process.env.FAKE_PULUMI_LOG) fs.appendFileSync(process.env.FAKE_PULUMI_LOG, `${JSON.stringify(args)}\n`);
    // What a command was given on standard input (`config set` without a value reads it), for the test to compare;
    // and, as the CLI does, the key set to it in the stack's config, so later commands read the new value.
    if (commandOf(args) === "config set") {
        const stdin = fs.readFileSync(0);
        if (process.env.FAKE_PULUMI_LOG) fs.writeFileSync(`${process.env.FAKE_PULUMI_LOG}.stdin`, stdin);
        const key = args.slice(2).find((a, i, rest) => !a.startsWith("-") && rest[i - 1] !== "--stack");
        if (key && args.length > 2) {
            scenario.config[key.includes(":") ? key : "cluster-bootstrap:" + key] = { value: stdin.toString("utf8"), secret: args.includes("--secret") };
            fs.writeFileSync(process.env.FAKE_PULUMI_SCENARIO, JSON.stringify(scenario));
            // The shell shim's pre-rendered answers (test/preflight-fixture.ts) now describe the old config: drop them,
            // so every later command is answered from the new one.
            if (process.env.FAKE_PULUMI_ANSWERS) fs.rmSync(process.env.FAKE_PULUMI_ANSWERS, { recursive: true, force: true });
        }
    }
    const r = answer(scenario, args);
    if (r === "hang") setInterval(() => undefined, 1000);
    else {
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.code;
    }
}
