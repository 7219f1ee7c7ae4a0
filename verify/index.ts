// Verify: `npm run verify -- <stack>` after an apply or a rebuild. Reads the stack (config and outputs) once, then
// checks what the apply promised, family by family, read-only: Cloudflare (the tunnel has a connector, DNS points at
// it, Access applications exist), GitHub (the webhook's last delivery succeeded), Kubernetes and Flux (Ready, and
// cluster-vars as the stack writes it) and R2 (the backup token reaches its buckets and nothing else). With a wait, the
// checks run again until all pass or the time is up. Every call is bounded; every printed line is scrubbed of every
// secret the stack holds.
import { ROOT } from "../config/keys";
import { scrub, skip, type CheckResult } from "../preflight/result";
import { envSecretStrings } from "../preflight/secret-values";
import { PreflightSetupError } from "../preflight/http";
import { cloudflareVerify } from "./cloudflare";
import { VERIFY_POLL_MS, VERIFY_TIMEOUT_MS } from "./defaults";
import { readStack, type VerifyFacts } from "./facts";
import { githubVerify } from "./github";
import { kubernetesVerify } from "./kubernetes";
import { r2Verify } from "./r2";
import type { PulumiRunner } from "../preflight/pulumi";

export interface VerifySection {
    name: string;
    results: CheckResult[];
}

export interface VerifyReport {
    sections: VerifySection[];
    /** Failed checks in the last round; 0 means everything the apply promised holds. */
    failures: number;
    /** Rounds of checks run (1 without a wait). */
    rounds: number;
}

export interface VerifyOptions {
    stack: string;
    /** Environment for the `pulumi` commands and the token fallbacks (default: this process's). */
    env?: NodeJS.ProcessEnv;
    /** Bound on each call. */
    timeoutMs?: number;
    /** Project directory (default: this repository). */
    cwd?: string;
    /** Keep checking until every check passes or this many seconds have passed (default 0: one round). */
    waitSeconds?: number;
    /** Pause between rounds while waiting. */
    pollMs?: number;
    /** Told after each failing round that will be followed by another: how many failed and how long is left. */
    onRound?: (failing: CheckResult[], secondsLeft: number) => void;
    /**
     * Called after each failing round that will be followed by another, with what failed and the stack's facts: where a
     * caller that may write mends what only a write mends (the DR script pings the webhook), and says whether it did:
     * what it mended is checked again at once. `npm run verify` passes none: it stays read-only.
     */
    mend?: (failing: CheckResult[], facts: VerifyFacts) => Promise<boolean>;
    /** Runs each `pulumi` command (default: the CLI on PATH); tests answer it in-process. */
    pulumi?: PulumiRunner;
}

/** The families, in the order they are printed; each pushes its lines, one per item. */
export const FAMILIES: ReadonlyArray<{ name: string; run: (facts: VerifyFacts, out: CheckResult[]) => Promise<void> }> = [
    { name: "Cloudflare", run: cloudflareVerify },
    { name: "GitHub", run: githubVerify },
    { name: "Kubernetes and Flux", run: kubernetesVerify },
    { name: "R2", run: r2Verify },
];

/** One round of every family, side by side. A family that cannot run (a test-only URL refused) says so in its section. */
async function round(facts: VerifyFacts): Promise<VerifySection[]> {
    return Promise.all(FAMILIES.map(async (f) => {
        const results: CheckResult[] = [];
        try {
            await f.run(facts, results);
        } catch (e) {
            if (!(e instanceof PreflightSetupError)) throw e;
            results.push({ status: "fail", title: f.name, detail: e.message });
        }
        return { name: f.name, results };
    }));
}

const failed = (sections: VerifySection[]) => sections.flatMap((s) => s.results).filter((r) => r.status === "fail");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
    const env = opts.env ?? process.env;
    const timeoutMs = opts.timeoutMs ?? VERIFY_TIMEOUT_MS;
    const pollMs = opts.pollMs ?? VERIFY_POLL_MS;
    const secrets: string[] = [...envSecretStrings(env)];
    const clean = (sections: VerifySection[]): VerifySection[] => sections.map((s) => ({
        name: s.name,
        results: s.results.map((r) => ({ ...r, title: scrub(r.title, secrets), detail: r.detail && scrub(r.detail, secrets), fix: r.fix && scrub(r.fix, secrets) })),
    }));

    const stackLines: CheckResult[] = [];
    const stack: VerifySection = { name: `Stack ${opts.stack}`, results: stackLines };
    const facts = await readStack({ stack: opts.stack, cwd: opts.cwd ?? ROOT, env, timeoutMs, run: opts.pulumi }, stackLines, secrets);
    if (!facts) {
        // Every section is printed, so the whole list of what is checked is visible.
        const sections = [stack, ...FAMILIES.map((f) => ({ name: f.name, results: [skip(f.name, "not checked: the stack could not be read (see above)")] }))];
        return { sections: clean(sections), failures: failed(sections).length, rounds: 0 };
    }

    const deadline = Date.now() + (opts.waitSeconds ?? 0) * 1000;
    for (let rounds = 1; ; rounds++) {
        const sections = [stack, ...await round(facts)];
        const failing = failed(sections);
        const left = deadline - Date.now();
        if (failing.length === 0 || left <= 0) return { sections: clean(sections), failures: failing.length, rounds };
        opts.onRound?.(clean([{ name: "", results: failing }])[0].results, Math.ceil(left / 1000));
        if (await opts.mend?.(failing, facts)) continue;
        // The last round runs at the deadline.
        await sleep(Math.min(pollMs, left));
    }
}
