// Verify: `npm run verify -- <stack> [--wait SECONDS]`. After `pulumi up` (or a disaster recovery), checks that what
// the apply promised holds (verify/), one line per item, read-only, and exits non-zero when anything does not.
// The arguments are parsed before anything heavy is loaded, so --help answers at once.
import { MAX_WAIT_SECONDS, VERIFY_POLL_MS, VERIFY_TIMEOUT_MS } from "../verify/defaults";
import { progressLine, reportText } from "../verify/report";
import { flagValue, parseOrExit, runAsMain, UsageError } from "./cli";

const USAGE = "usage: npm run verify -- <stack> [--wait SECONDS] [--timeout SECONDS]";

const HELP = `${USAGE}

After \`pulumi up\` or a disaster recovery, checks that the stack's promises hold, one line per item (✓ holds,
✗ does not, with what to do, ! worth knowing, - not checked because something it needs is missing):

  stack       the Pulumi CLI, its login and the stack; its config (secrets decrypted into memory, never printed)
              passes the program's validation; its outputs (\`pulumi stack output --show-secrets\`, in memory only)
  Cloudflare  the tunnel has at least one active connector (cloudflared runs and reached Cloudflare); each hostname
              the program gave a record is a proxied CNAME to <tunnel id>.cfargotunnel.com; each hostname of
              access.hostnames has its Access application
  GitHub      the webhook posting to this stack's Flux Receiver exists, is active, and its most recent delivery was
              answered with a 2xx; when the only delivery is the first ping, sent before cloudflared ran, the line
              gives the command that redelivers it
  Kubernetes  with the stack's kubeconfig and context: the FluxInstance, the GitRepository and every Kustomization in
              flux-system are Ready (else Flux's own reason and message); the platform releases' HelmReleases are
              Ready; flux-system/cluster-vars holds what the stack writes (each differing key named); the Receiver
              is Ready
  R2          the backup token (the stack's S3 credentials) lists each of the stack's buckets, and is refused on a
              bucket outside the stack and on the account's bucket list

Nothing is changed anywhere. Run it from the repository, logged in to the state backend, with the same environment as
\`pulumi up\` (PULUMI_CONFIG_PASSPHRASE, KUBECONFIG, GITHUB_TOKEN … when the stack relies on them).

options:
  <stack>            the stack to verify, as \`pulumi stack ls\` names it (e.g. infra, or org/infra)
  --wait SECONDS     check again every ${VERIFY_POLL_MS / 1000} s until every check passes or SECONDS have passed, then print
                     the last round (at most ${MAX_WAIT_SECONDS}; default 0: check once). Progress goes to standard error
  --timeout SECONDS  bound on each network call and each pulumi command (default ${VERIFY_TIMEOUT_MS / 1000})
  -h, --help         this text

exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 a usage error
`;

export interface VerifyArgs {
    stack: string;
    waitSeconds: number;
    timeoutMs: number;
}

/** A number of seconds from a flag, within (0 or above 0, per `zero`) and `max`. */
function seconds(argv: string[], i: number, flag: string, zero: boolean, max: number): { value: number; next: number } {
    const { value, next } = flagValue(argv, i, flag, "a number of seconds");
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n > max || (!zero && n === 0)) {
        throw new UsageError(`${flag} ${JSON.stringify(value)}: give a number of seconds ${zero ? "from 0" : "above 0"}, at most ${max}`);
    }
    return { value: n, next };
}

export function parseVerifyArgs(argv: string[]): VerifyArgs {
    let waitSeconds = 0;
    let timeoutMs = VERIFY_TIMEOUT_MS;
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-h" || a === "--help") throw new UsageError("");
        if (a === "--wait" || a.startsWith("--wait=")) {
            const s = seconds(argv, i, "--wait", true, MAX_WAIT_SECONDS);
            waitSeconds = s.value;
            i = s.next;
        } else if (a === "--timeout" || a.startsWith("--timeout=")) {
            const s = seconds(argv, i, "--timeout", false, 600);
            timeoutMs = s.value * 1000;
            i = s.next;
        } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else rest.push(a);
    }
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "name the stack to verify" : `name one stack, not ${rest.length}`);
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/.test(rest[0])) throw new UsageError(`${JSON.stringify(rest[0])} is not a stack name`);
    return { stack: rest[0], waitSeconds, timeoutMs };
}

async function main(): Promise<number> {
    const args = parseOrExit(() => parseVerifyArgs(process.argv.slice(2)), HELP, USAGE);
    if (typeof args === "number") return args;
    // Loaded only now: the checks bring the Pulumi, Kubernetes and AWS SDKs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runVerify } = require("../verify") as typeof import("../verify");
    process.stdout.write(`Verify of stack ${args.stack} (each call bounded to ${args.timeoutMs / 1000} s${args.waitSeconds ? `, checking again for up to ${args.waitSeconds} s` : ""}; `
        + "nothing is changed, secrets are held in memory only, never printed)\n");
    const report = await runVerify({
        stack: args.stack,
        timeoutMs: args.timeoutMs,
        waitSeconds: args.waitSeconds,
        onRound: (failing, left) => process.stderr.write(progressLine(failing, left)),
    });
    process.stdout.write(reportText(args.stack, report));
    return report.failures === 0 ? 0 : 1;
}

// Runs only as the script itself, so tests can import its functions.
// An unexpected error is a bug here, not a failed check: one line, without a trace that could quote a value.
runAsMain(__filename, main, (e) => `verify stopped: ${(e as Error)?.name ?? "Error"}: ${(e as Error)?.message ?? String(e)}`);
