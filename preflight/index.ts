// Preflight: everything `pulumi up` needs, checked before it runs, one line per item (`npm run check -- <stack>`).
// Families in order: this machine and Pulumi, the stack's config and secrets, then the cluster, GitHub and Cloudflare
// side by side. A check that needs an earlier one that failed is left out. Every call is bounded; secret values are
// decrypted into memory only, and every printed line is scrubbed of them.
import * as fs from "node:fs";
import * as path from "node:path";
import { clusterPart } from "../components/contract";
import { readPlatformReleases } from "../components/platform";
import { isCloudflareAccountId, isDnsName, normaliseRepoPath, PROJECT, ROOT, type GitTransport, type PlainConfig } from "../config";
import { repositoryFlux } from "../flux/repository-check";
import type { RepositoryFiles } from "../providers/github-files";
import { cloudflareChecks } from "./cloudflare";
import { githubChecks } from "./github";
import { PreflightSetupError } from "./http";
import { kubernetesChecks } from "./kubernetes";
import { pulumiChecks, readSecrets, type ConfigEntry } from "./pulumi";
import { fail, ok, scrub, skip, type CheckResult } from "./result";
import { platformPaths, secretKeys, secretPresence, stackValues, tokenFor, validation } from "./stack-config";

export { MIN_PULUMI_VERSION } from "./pulumi";
export { renderLine, type CheckResult } from "./result";


/** Bound on each network call and each `pulumi` command. */
export const DEFAULT_TIMEOUT_MS = 15_000;

export interface PreflightOptions {
    stack: string;
    /** Environment for the `pulumi` commands and the token fallbacks (default: this process's). */
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** Project directory (default: this repository). */
    cwd?: string;
    /** A kubeconfig to use instead of the stack's (the DR script's rebuilt cluster), with where it came from. */
    kubeconfig?: { text: string; source: string };
}

export interface PreflightSection {
    name: string;
    results: CheckResult[];
}

export interface PreflightReport {
    sections: PreflightSection[];
    /** Number of failed checks; the run should not start unless it is 0. */
    failures: number;
}

/** The Node this process runs on against `.nvmrc`. */
export function nodeCheck(root: string, version = process.versions.node): CheckResult {
    const want = Number(fs.readFileSync(path.join(root, ".nvmrc"), "utf8").trim());
    const have = Number(version.split(".")[0]);
    return have >= want ? ok("Node.js", `${version} (.nvmrc: ${want})`) : fail("Node.js", `${version} is older than ${want} (.nvmrc)`, "use Node 24, e.g. `nvm use`");
}

export async function runPreflight(opts: PreflightOptions): Promise<PreflightReport> {
    const env = opts.env ?? process.env;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const cwd = opts.cwd ?? ROOT;
    const secrets: string[] = [];
    const sections: PreflightSection[] = [];
    const section = (name: string) => {
        const s: PreflightSection = { name, results: [] };
        sections.push(s);
        return s.results;
    };
    const finish = (): PreflightReport => {
        // Tokens from the environment are as secret as the stack's.
        for (const k of ["GITHUB_TOKEN", "CLOUDFLARE_API_TOKEN", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]) if (env[k]) secrets.push(env[k]!);
        if (opts.kubeconfig) secrets.push(opts.kubeconfig.text);
        for (const s of sections) {
            s.results = s.results.map((r) => ({ ...r, title: scrub(r.title, secrets), detail: r.detail && scrub(r.detail, secrets), fix: r.fix && scrub(r.fix, secrets) }));
        }
        return { sections, failures: sections.flatMap((s) => s.results).filter((r) => r.status === "fail").length };
    };

    const local = section("This machine and Pulumi");
    local.push(nodeCheck(cwd));
    const { config } = await pulumiChecks({ stack: opts.stack, cwd, env, timeoutMs, readConfig: true }, local);
    if (!config) return finish();

    const cfg = section(`Stack ${opts.stack}: config and secrets`);
    cfg.push(...secretPresence(opts.stack, config, env));
    const keys = secretKeys(config);
    const read = await readSecrets(keys, { stack: opts.stack, cwd, env, timeoutMs });
    if ("problem" in read) {
        cfg.push(fail("Stack secrets", `cannot be decrypted: ${read.problem}`,
            "for a passphrase stack set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE); for a KMS key, log in to its cloud"));
        return finish();
    }
    const decrypted = new Map<string, ConfigEntry>(read.values);
    for (const e of decrypted.values()) {
        if (e.value !== undefined) secrets.push(e.value, ...stringsIn(parsedJson(e.value)));
        if (e.objectValue !== undefined) secrets.push(JSON.stringify(e.objectValue), ...stringsIn(e.objectValue));
    }
    cfg.push(ok("Stack secrets", keys.length
        ? `${keys.length} decrypted with \`pulumi config get\` (${keys.join(", ")}), held in memory only and never printed`
        : "none set"));
    // The DR script checks the kubeconfig it is about to store, not the one the stack holds now.
    if (opts.kubeconfig) decrypted.set(`${PROJECT}:kubeconfig`, { value: opts.kubeconfig.text, secret: true });
    const values = stackValues(config, decrypted);
    const { results, config: valid } = await validation(values);
    cfg.push(...results);

    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const cluster = (values.values.cluster ?? {}) as Record<string, unknown>;
    const gitops = (values.values.gitops ?? {}) as Record<string, unknown>;
    const kube = section("Kubernetes");
    const github = section("GitHub");
    const cloudflare = section("Cloudflare");
    const kubeconfigText = str(values.values.kubeconfig);
    await Promise.all([
        kubernetesChecks({
            target: { kubeconfig: kubeconfigText, context: str(values.values.kubeContext) },
            source: opts.kubeconfig?.source ?? (kubeconfigText !== undefined ? `${PROJECT}:kubeconfig` : `the ambient one (${env.KUBECONFIG || "~/.kube/config"})`),
            stack: opts.stack,
            clusterName: valid?.cluster.name ?? str(cluster.name),
            renameFrom: valid?.renameFrom ?? str(values.values.renameFrom),
            platformReleases: platformPaths(values.raw).length > 0,
            timeoutMs,
        }, kube),
        githubFamily(values.values, values.raw, valid, decrypted, env, timeoutMs, github, gitops),
        cloudflareFamily(values.values, valid, decrypted, env, timeoutMs, cloudflare, cluster),
    ]);
    return finish();
}

/** A secret set as JSON text (a whole list with `--secret`), parsed; undefined for any other text. */
function parsedJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** Every string inside a value (a secret object's leaves), for scrubbing. */
function stringsIn(v: unknown): string[] {
    if (typeof v === "string") return [v];
    if (Array.isArray(v)) return v.flatMap(stringsIn);
    if (v && typeof v === "object") return Object.values(v).flatMap(stringsIn);
    return [];
}

async function githubFamily(values: Record<string, unknown>, raw: Record<string, unknown>, valid: PlainConfig | undefined, decrypted: ReadonlyMap<string, ConfigEntry>,
    env: NodeJS.ProcessEnv, timeoutMs: number, out: CheckResult[], gitops: Record<string, unknown>): Promise<void> {
    const token = tokenFor("github:token", decrypted, env);
    if (!token) return void out.push(skip("GitHub", "no token (see the Secret github:token line)"));
    // Checked with what the config holds even when another key is wrong, as long as these values are usable.
    const repository = valid ? `${valid.gitops.owner}/${valid.gitops.repositoryName}` : typeof gitops.repository === "string" ? gitops.repository : "";
    const [owner, repo, extra] = repository.split("/");
    const branch = valid?.gitops.branch ?? (typeof gitops.branch === "string" ? gitops.branch : undefined);
    const dir = valid?.gitops.path ?? (typeof gitops.path === "string" ? normaliseRepoPath(gitops.path) : undefined);
    if (!owner || !repo || extra !== undefined || !branch || !dir) {
        return void out.push(skip("GitHub", "cluster-bootstrap:gitops has no usable repository, branch and path (see the Stack config lines)"));
    }
    const recipient = valid?.sops.recipient ?? (values.sops as { recipient?: unknown } | undefined)?.recipient;
    try {
        await githubChecks({
            token: token.token, tokenFrom: token.from, owner, repo, branch, path: dir,
            platformPaths: platformPaths(raw).map(normaliseRepoPath),
            recipient: typeof recipient === "string" && recipient.startsWith("age1") ? recipient : undefined,
            transport: transportOf(valid, gitops),
            env, timeoutMs,
        }, out);
    } catch (e) {
        if (!(e instanceof PreflightSetupError)) throw e;
        out.push(fail("GitHub", e.message));
    }
}

/**
 * How Flux fetches the repository: `gitops.transport` with the program's Flux; with the repository's, its FluxInstance's
 * sync, read from the repository as the program reads it. Undefined when the config does not say.
 */
function transportOf(valid: PlainConfig | undefined, gitops: Record<string, unknown>):
    GitTransport | ((files: RepositoryFiles) => Promise<GitTransport>) | undefined {
    if (!valid) return gitops.transport === "https" || gitops.transport === "ssh" ? gitops.transport : undefined;
    if (valid.flux.managedBy === "program") return valid.gitops.transport;
    const { flux } = valid;
    return async (files) => {
        const known = clusterPart(valid.cluster).vars;
        const releases = await readPlatformReleases(valid.platform.releases, { files, known });
        return repositoryFlux(releases, { gitops: valid.gitops, imageAutomation: flux.imageAutomation, known }).sync.transport;
    };
}

async function cloudflareFamily(values: Record<string, unknown>, valid: PlainConfig | undefined, decrypted: ReadonlyMap<string, ConfigEntry>,
    env: NodeJS.ProcessEnv, timeoutMs: number, out: CheckResult[], cluster: Record<string, unknown>): Promise<void> {
    const token = tokenFor("cloudflare:apiToken", decrypted, env);
    if (!token) return void out.push(skip("Cloudflare", "no token (see the Secret cloudflare:apiToken line)"));
    const accountId = valid?.cloudflareAccountId ?? values.cloudflareAccountId;
    if (typeof accountId !== "string" || !isCloudflareAccountId(accountId)) {
        return void out.push(skip("Cloudflare", "cluster-bootstrap:cloudflareAccountId is not usable (see the Stack config lines)"));
    }
    const domain = valid?.cluster.domain ?? (typeof cluster.domain === "string" && isDnsName(cluster.domain) ? cluster.domain : undefined);
    try {
        await cloudflareChecks({ token: token.token, tokenFrom: token.from, accountId, domain, env, timeoutMs }, out);
    } catch (e) {
        if (!(e instanceof PreflightSetupError)) throw e;
        out.push(fail("Cloudflare", e.message));
    }
}
