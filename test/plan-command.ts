// `npm run plan -- …` as tests run it: the same command the script runs (scripts/plan.ts planCommand: arguments, files,
// the program on the mock runtime, exit code, stdout and stderr), in-process, so a case costs no Node start and no
// second load of the provider SDKs. Tests of the process itself (its start, a pipe, npm's wiring) spawn it instead.
import { ResourceError } from "@pulumi/pulumi";
import { ClusterIdentityError } from "../cluster/identity";
import { ConfigError } from "../config/validate";
import { STACK_REFERENCE } from "../offline/fakes";
import { runOffline, toPlanJson } from "../offline/runtime";
import { planCommand } from "../scripts/plan";

export interface CommandResult {
    status: number;
    stdout: string;
    stderr: string;
}

/**
 * Runs the plan command with `args`, its environment the test's own with `env` over it (a passphrase unset unless given,
 * as a user without one has). Runs are serialised by the offline runtime.
 */
export async function runPlan(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
    let stdout = "";
    let stderr = "";
    const status = await planCommand(args, {
        out: (t) => { stdout += t; },
        err: (t) => { stderr += t; },
        env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "", ...env },
    }, () => ({ runOffline, toPlanJson, STACK_REFERENCE, ConfigError, ClusterIdentityError, ResourceError }));
    return { status, stdout, stderr };
}
