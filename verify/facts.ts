// What verify checks against: the stack's config as the program validates it (read the way the preflight reads it,
// secrets decrypted with `pulumi config get`) and the stack's outputs (`pulumi stack output --json --show-secrets`).
// Everything stays in memory; every secret among them is collected so that no printed line carries one.
import type { PlainConfig } from "../config";
import { isRecord, parseJson } from "../config/checks";
import { boundedRun, cliFailure, pulumiChecks, readSecrets, runPulumi, type ConfigEntry, type PulumiRunner } from "../preflight/pulumi";
import { fail, ok, type CheckResult } from "../preflight/result";
import { configSecretStrings, stringsIn } from "../preflight/secret-values";
import { ownStack, secretKeys, stackValues, tokenFor, validation } from "../preflight/stack-config";

/** How `pulumi stack output` shows a secret without `--show-secrets` (pulumi pkg/backend/display/json.go MassageSecrets). */
export const BLINDED = "[secret]";

/** A token the checks use, and where it came from (`github:token` or `GITHUB_TOKEN`), for messages. */
export interface Token {
    token: string;
    from: string;
}

export interface VerifyFacts {
    stack: string;
    /** The stack's config, validated by the program's own rules, secrets decrypted. */
    config: PlainConfig;
    /** The stack's outputs, secrets revealed. */
    outputs: Record<string, unknown>;
    github?: Token;
    cloudflare?: Token;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
}

export interface FactsOptions {
    stack: string;
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    /** Runs each `pulumi` command (default {@link runPulumi}, the CLI on PATH); tests answer it in-process. */
    run?: PulumiRunner;
}

/**
 * The strings of `revealed` that `blinded` (the same outputs without `--show-secrets`) shows as `[secret]`, at any
 * depth: the output values that are secret.
 */
export function secretOutputStrings(blinded: unknown, revealed: unknown): string[] {
    if (blinded === BLINDED && revealed !== BLINDED) return stringsIn(revealed);
    if (Array.isArray(blinded) && Array.isArray(revealed)) return blinded.flatMap((b, i) => secretOutputStrings(b, revealed[i]));
    if (blinded && revealed && typeof blinded === "object" && typeof revealed === "object") {
        return Object.keys(blinded).flatMap((k) => secretOutputStrings((blinded as Record<string, unknown>)[k], (revealed as Record<string, unknown>)[k]));
    }
    return [];
}

/** `pulumi stack output --json` as an object, or undefined when the text is not that. */
export function parseOutputs(json: string): Record<string, unknown> | undefined {
    const v = parseJson(json);
    return isRecord(v) ? v : undefined;
}

/**
 * Reads the stack: the Pulumi CLI, its login, the stack, its config and secrets (the preflight's own steps), the
 * program's validation, then the outputs. One line per step into `out`; every secret met is added to `secrets`.
 * Undefined when a step failed: nothing can be checked without the stack.
 */
export async function readStack(o: FactsOptions, out: CheckResult[], secrets: string[]): Promise<VerifyFacts | undefined> {
    const { config: view } = await pulumiChecks({ ...o, readConfig: true }, out);
    if (!view) return undefined;

    const keys = secretKeys(view);
    const read = await readSecrets(keys, o);
    if ("problem" in read) {
        out.push(fail("Stack secrets", `cannot be decrypted: ${read.problem}`,
            "for a passphrase stack set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE); for a KMS key, log in to its cloud"));
        return undefined;
    }
    const decrypted = new Map<string, ConfigEntry>(read.values);
    secrets.push(...configSecretStrings(decrypted.values()));
    out.push(ok("Stack secrets", keys.length ? `${keys.length} decrypted, held in memory only and never printed` : "none set"));

    const { results, config } = await validation(stackValues(view, decrypted), [], ownStack(o.stack));
    if (!config) {
        out.push(...results.map((r) => ({ ...r, fix: r.fix ?? `fix the stack config, then \`npm run check -- ${o.stack}\`` })));
        return undefined;
    }
    out.push(ok("Stack config", "valid"));

    const command = (showSecrets: boolean) => ["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : []), "--stack", o.stack];
    const [blindedRun, revealedRun] = await Promise.all([false, true].map((s) =>
        boundedRun(o.run ?? runPulumi, command(s), { cwd: o.cwd, env: o.env, timeoutMs: o.timeoutMs })));
    for (const [r, s] of [[blindedRun, false], [revealedRun, true]] as const) {
        if (!r.ok) {
            out.push(fail("Stack outputs", cliFailure(`pulumi stack output --json${s ? " --show-secrets" : ""}`, r, o.timeoutMs)));
            return undefined;
        }
    }
    const blinded = parseOutputs(blindedRun.stdout);
    const outputs = parseOutputs(revealedRun.stdout);
    if (!blinded || !outputs) {
        out.push(fail("Stack outputs", "`pulumi stack output --json` printed something that is not its JSON"));
        return undefined;
    }
    secrets.push(...secretOutputStrings(blinded, outputs));
    if (Object.keys(outputs).length === 0) {
        out.push(fail("Stack outputs", "none: the stack has not been deployed", `run \`pulumi up --stack ${o.stack}\` first`));
        return undefined;
    }
    out.push(ok("Stack outputs", `${Object.keys(outputs).length} read (secret ones held in memory only)`));

    return {
        stack: o.stack,
        config,
        outputs,
        github: tokenFor("github:token", decrypted, o.env),
        cloudflare: tokenFor("cloudflare:apiToken", decrypted, o.env),
        env: o.env,
        timeoutMs: o.timeoutMs,
    };
}

/** An output that must be a non-empty string; undefined otherwise. */
export function stringOutput(facts: Pick<VerifyFacts, "outputs">, name: string): string | undefined {
    const v = facts.outputs[name];
    return typeof v === "string" && v !== "" ? v : undefined;
}

/** What a check says when the stack lacks an output it needs: run `pulumi up` with this version of the program. */
export function missingOutput(name: string): string {
    return `the stack has no output ${name} (deployed by an older version of the program: run \`pulumi up\` once)`;
}
