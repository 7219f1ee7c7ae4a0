// Preflight: `npm run check -- <stack>`. Checks everything `pulumi up` needs before it runs (preflight/), one line per
// item, and exits non-zero when anything would make the run fail.
import { DEFAULT_TIMEOUT_MS } from "../preflight/http";
import { MIN_PULUMI_VERSION } from "../preflight/pulumi";
import { flagValue, parseOrExit, UsageError, runAsMain } from "./cli";

const USAGE = "usage: npm run check -- <stack> [--timeout SECONDS]";

const HELP = `${USAGE}

Checks, before \`pulumi up\`, everything the run needs, one line per item (✓ passed, ✗ failed with what to do,
! worth knowing, - not checked because an earlier check failed, with the reason). Every section is printed, even
when the stack's config cannot be read, so the whole list of what is ahead shows from the first run:

  this machine   Node.js against .nvmrc; the Pulumi CLI (${MIN_PULUMI_VERSION} or later), its login, the stack
  stack config   the secrets the run needs are set and encrypted; they decrypt (\`pulumi config get\`, held in
                 memory only, never printed); the whole config passes the program's own validation
  Kubernetes     the API answers with the stack's kubeconfig and context; the cluster is this stack's
                 (flux-system/cluster-vars CLUSTER_NAME); its nodes are registered
  GitHub         the token works; repository, branch, gitops.path and platform release paths exist; .sops.yaml
                 encrypts for sops.recipient; the token may manage deploy keys and webhooks
  Cloudflare     the token is active; the zone is in the account; R2 is enabled; the tunnel and the permission
                 groups the program looks up are readable, and the token may grant them (isSelectable)
  what exists    each bucket, the tunnel and its configuration, each CNAME and Access object the program manages:
                 adopted (cluster-bootstrap:adopt, with its import ID), created, or already in the stack's state
                 (its last outputs); with adopt off, a warning for each that exists but is not in the state; the
                 lifecycle rules an existing bucket has, which the program's replace
  Helm charts    each platform release's and CRD entry's chart (its app directory read as the program reads it)
                 and, with flux.managedBy program, the Flux Operator chart at flux.operatorChartVersion exist in their
                 registry (OCI: an anonymous pull token, then the manifest) or Helm repository (index.yaml)

Nothing is changed anywhere. Run it from the repository, logged in to the state backend, with the same
environment as \`pulumi up\` (PULUMI_CONFIG_PASSPHRASE, KUBECONFIG, GITHUB_TOKEN … when the stack relies on them).

options:
  <stack>            the stack to check, as \`pulumi stack ls\` names it (e.g. infra, or org/infra)
  --timeout SECONDS  bound on each network call and each pulumi command (default ${DEFAULT_TIMEOUT_MS / 1000})
  -h, --help         this text

exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 a usage error
`;

interface CheckArgs {
    stack: string;
    timeoutMs: number;
}

export function parseCheckArgs(argv: string[]): CheckArgs {
    let timeoutMs = DEFAULT_TIMEOUT_MS;
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-h" || a === "--help") throw new UsageError("");
        if (a === "--timeout" || a.startsWith("--timeout=")) {
            const { value, next } = flagValue(argv, i, "--timeout", "a number of seconds");
            if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0 || Number(value) > 600) {
                throw new UsageError(`--timeout ${JSON.stringify(value)}: give a number of seconds above 0, at most 600`);
            }
            timeoutMs = Number(value) * 1000;
            i = next;
        } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
        else rest.push(a);
    }
    if (rest.length !== 1) throw new UsageError(rest.length === 0 ? "name the stack to check" : `name one stack, not ${rest.length}`);
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/.test(rest[0])) throw new UsageError(`${JSON.stringify(rest[0])} is not a stack name`);
    return { stack: rest[0], timeoutMs };
}

async function main(): Promise<number> {
    const args = parseOrExit(() => parseCheckArgs(process.argv.slice(2)), HELP, USAGE);
    if (typeof args === "number") return args;
    // The preflight, and the SDKs it loads, only once the arguments are good: --help and usage errors answer at once.
    const { renderLine, runPreflight } = require("../preflight") as typeof import("../preflight");
    process.stdout.write(`Preflight of stack ${args.stack} (each call bounded to ${args.timeoutMs / 1000} s; secrets are decrypted into memory, never printed)\n`);
    const report = await runPreflight({ stack: args.stack, timeoutMs: args.timeoutMs });
    for (const s of report.sections) {
        process.stdout.write(`\n${s.name}\n`);
        for (const r of s.results) process.stdout.write(`  ${renderLine(r)}\n`);
    }
    process.stdout.write(report.failures === 0
        ? `\nNothing failed: \`pulumi up --stack ${args.stack}\` has what it needs.\n`
        : `\n${report.failures} check${report.failures === 1 ? "" : "s"} failed: fix ${report.failures === 1 ? "it" : "them"} and run \`npm run check -- ${args.stack}\` again.\n`);
    return report.failures === 0 ? 0 : 1;
}

// Runs only as the script itself, so tests can import its functions.
// An unexpected error is a bug here, not a failed check: one line, without a trace that could quote a value.
runAsMain(__filename, main, (e) => `preflight stopped: ${(e as Error)?.name ?? "Error"}: ${(e as Error)?.message ?? String(e)}`);
