// Preflight: everything `pulumi up` needs, checked before it runs, one line per item (`npm run check -- <stack>`).
// Families in order: this machine and Pulumi, the stack's config and secrets, then the cluster, GitHub, Cloudflare and
// the Helm charts side by side. Every section is always printed: a check that needs an earlier one that failed is
// listed as not checked, with the reason, so the whole list of what is still ahead shows from the first run. Every
// call is bounded; secret values are decrypted into memory only, and every printed line is scrubbed of them.
import * as fs from "node:fs";
import * as path from "node:path";
import { FLUX_OPERATOR_CHART } from "../components/flux";
import { clusterPart } from "../components/contract";
import { readPlatformReleases } from "../components/platform";
import {
    environmentSecrets, isCloudflareAccountId, isDnsName, normaliseRepoPath, platformCrdsKey, platformKey, PROJECT, ROOT, stackSecrets, type GitTransport,
    type PlainConfig, type PlatformAppConfig,
} from "../config";
import { AppProblem, readAppRelease } from "../flux/helmrelease";
import { repositoryFlux } from "../flux/repository-check";
import type { RepositoryFiles } from "../providers/github-files";
import { adoptionChecks, recordedFromOutputs } from "./adoption";
import { chartCheck, type ChartRef } from "./charts";
import { cloudflareChecks, cloudflareCheckTitles } from "./cloudflare";
import { githubChecks, githubCheckTitles, type GitHubFacts } from "./github";
import { DEFAULT_TIMEOUT_MS, NoAnswer, PreflightSetupError } from "./http";
import { KUBERNETES_CHECKS, kubernetesChecks } from "./kubernetes";
import { boundedRun, cliFailure, otherClusters, pulumiChecks, readSecrets, runPulumi, type ConfigEntry, type PulumiRunner } from "./pulumi";
import { fail, ok, scrub, skip, type CheckResult } from "./result";
import { configSecretStrings, envSecretStrings } from "./secret-values";
import { meshCheck, NEEDED_SECRETS, ownStack, platformDirectories, secretKeys, secretPresence, stackValues, tokenFor, validation } from "./stack-config";

export { DEFAULT_TIMEOUT_MS } from "./http";
export { MIN_PULUMI_VERSION, runPulumi, type CliResult, type PulumiRunner } from "./pulumi";
export { renderLine, type CheckResult } from "./result";

/** The last section: every chart the run installs, in install order. */
export const CHARTS_SECTION = "Helm charts";
/** What already exists of what the program manages in Cloudflare (preflight/adoption.ts). */
export const EXISTING_SECTION = "What exists already (cluster-bootstrap:adopt)";

export interface PreflightOptions {
    stack: string;
    /** Environment for the `pulumi` commands and the token fallbacks (default: this process's). */
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** Project directory (default: this repository). */
    cwd?: string;
    /** A kubeconfig to use instead of the stack's (the DR script's rebuilt cluster), with where it came from. */
    kubeconfig?: { text: string; source: string };
    /** Runs each `pulumi` command (default: the CLI on PATH); tests answer in-process. Each call is bounded by `timeoutMs`. */
    pulumi?: PulumiRunner;
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

/** Each title as not checked, for the reason given. */
const notChecked = (titles: readonly string[], why: string): CheckResult[] => titles.map((t) => skip(t, `not checked: ${why}`));

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
        secrets.push(...envSecretStrings(env));
        if (opts.kubeconfig) secrets.push(opts.kubeconfig.text);
        for (const s of sections) {
            s.results = s.results.map((r) => ({ ...r, title: scrub(r.title, secrets), detail: r.detail && scrub(r.detail, secrets), fix: r.fix && scrub(r.fix, secrets) }));
        }
        return { sections, failures: sections.flatMap((s) => s.results).filter((r) => r.status === "fail").length };
    };
    const cfgTitle = `Stack ${opts.stack}: config and secrets`;
    /** The sections after the config, every check in them not checked. */
    const restNotChecked = (why: string) => {
        section("Kubernetes").push(...notChecked(KUBERNETES_CHECKS, why));
        section("GitHub").push(...notChecked(githubCheckTitles(), why));
        section("Cloudflare").push(...notChecked(cloudflareCheckTitles(), why));
        section(EXISTING_SECTION).push(...notChecked(["What exists"], why));
        section(CHARTS_SECTION).push(...notChecked(["Helm charts"], why));
    };

    const local = section("This machine and Pulumi");
    local.push(nodeCheck(cwd));
    const { config, stopped, otherStacks } = await pulumiChecks({ stack: opts.stack, cwd, env, timeoutMs, readConfig: true, run: opts.pulumi }, local);
    if (!config) {
        const why = `the stack's config could not be read (${stopped ?? "see above"})`;
        section(cfgTitle).push(...notChecked([...NEEDED_SECRETS.map((n) => `Secret ${n.key}`), "Stack secrets", "Stack config"], why));
        restNotChecked(why);
        return finish();
    }

    const cfg = section(cfgTitle);
    cfg.push(...secretPresence(opts.stack, config, env));
    const keys = secretKeys(config);
    const read = await readSecrets(keys, { stack: opts.stack, cwd, env, timeoutMs, run: opts.pulumi });
    if ("problem" in read) {
        cfg.push(fail("Stack secrets", `cannot be decrypted: ${read.problem}`,
            "for a passphrase stack set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE); for a KMS key, log in to its cloud"));
        const why = "the stack's secrets could not be decrypted";
        cfg.push(...notChecked(["Stack config"], why));
        restNotChecked(why);
        return finish();
    }
    const decrypted = new Map<string, ConfigEntry>(read.values);
    secrets.push(...configSecretStrings(decrypted.values()));
    cfg.push(ok("Stack secrets", keys.length
        ? `${keys.length} decrypted with \`pulumi config get\` (${keys.join(", ")}), held in memory only and never printed`
        : "none set"));
    // The DR script checks the kubeconfig it is about to store, not the one the stack holds now.
    if (opts.kubeconfig) decrypted.set(`${PROJECT}:kubeconfig`, { value: opts.kubeconfig.text, secret: true });
    const values = stackValues(config, decrypted);
    const settings = Object.fromEntries([...decrypted].map(([k, e]) => [k, e.value]));
    const { results, config: valid } = await validation(values, [...stackSecrets(settings), ...environmentSecrets(env)], ownStack(opts.stack));
    cfg.push(...results);
    if (valid) {
        const others = await otherClusters(otherStacks ?? [], { cwd, env, timeoutMs, run: opts.pulumi });
        cfg.push(meshCheck({ stack: opts.stack, id: valid.cluster.id, cidr: valid.cluster.cidr }, others.clusters, others.unread));
    }

    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const cluster = (values.values.cluster ?? {}) as Record<string, unknown>;
    const gitops = (values.values.gitops ?? {}) as Record<string, unknown>;
    const kube = section("Kubernetes");
    const github = section("GitHub");
    const cloudflare = section("Cloudflare");
    const existing = section(EXISTING_SECTION);
    const charts = section(CHARTS_SECTION);
    // What this stack's state holds, as its last run recorded it: what exists and is not there is adopted or warned of.
    const recorded = async () => {
        const r = await boundedRun(opts.pulumi ?? runPulumi, ["stack", "output", "--json", "--stack", opts.stack], { cwd, env, timeoutMs });
        return r.ok ? recordedFromOutputs(r.stdout) : { problem: cliFailure("pulumi stack output", r, timeoutMs) };
    };
    const kubeconfigText = str(values.values.kubeconfig);
    const repository = githubFamily(values.values, values.raw, valid, decrypted, env, timeoutMs, github, gitops);
    await Promise.all([
        kubernetesChecks({
            target: { kubeconfig: kubeconfigText, context: str(values.values.kubeContext) },
            source: opts.kubeconfig?.source ?? (kubeconfigText !== undefined ? `${PROJECT}:kubeconfig` : `the ambient one (${env.KUBECONFIG || "~/.kube/config"})`),
            stack: opts.stack,
            clusterName: valid?.cluster.name ?? str(cluster.name),
            renameFrom: valid?.renameFrom ?? str(values.values.renameFrom),
            platformReleases: platformDirectories(values.raw).some((d) => d.list === "releases"),
            timeoutMs,
        }, kube),
        repository,
        cloudflareFamily(values.values, valid, decrypted, env, timeoutMs, cloudflare, cluster)
            .then(() => existingFamily(valid, decrypted, env, timeoutMs, cloudflare, existing, { stack: opts.stack, recorded })),
        chartsFamily(valid, values.raw, repository, env, timeoutMs, charts),
    ]);
    return finish();
}

/** The GitHub checks; what they found decides whether the charts' app directories can be read. */
async function githubFamily(values: Record<string, unknown>, raw: Record<string, unknown>, valid: PlainConfig | undefined, decrypted: ReadonlyMap<string, ConfigEntry>,
    env: NodeJS.ProcessEnv, timeoutMs: number, out: CheckResult[], gitops: Record<string, unknown>): Promise<GitHubFacts> {
    // Checked with what the config holds even when another key is wrong, as long as these values are usable.
    const repository = valid ? `${valid.gitops.owner}/${valid.gitops.repositoryName}` : typeof gitops.repository === "string" ? gitops.repository : "";
    const [owner, repo, extra] = repository.split("/");
    const branch = valid?.gitops.branch ?? (typeof gitops.branch === "string" ? gitops.branch : undefined);
    const dir = valid?.gitops.path ?? (typeof gitops.path === "string" ? normaliseRepoPath(gitops.path) : undefined);
    // Each directory once, under the first key that names it.
    const seen = new Set<string>();
    const directories = platformDirectories(raw).flatMap((d) => {
        const path = normaliseRepoPath(d.path);
        if (seen.has(path)) return [];
        seen.add(path);
        return [{ key: d.key, path }];
    });
    const usable = Boolean(owner && repo && extra === undefined && branch && dir);
    const titles = () => githubCheckTitles(usable ? { repository, branch, paths: [dir!, ...directories.map((d) => d.path)] } : {});
    const stop = (why: string): GitHubFacts => {
        out.push(...notChecked(titles(), why));
        return { directories: new Set(), stopped: why };
    };
    const token = tokenFor("github:token", decrypted, env);
    if (!token) return stop("no token (see the Secret github:token line)");
    if (!usable) return stop("cluster-bootstrap:gitops has no usable repository, branch and path (see the Stack config lines)");
    const recipient = valid?.sops.recipient ?? (values.sops as { recipient?: unknown } | undefined)?.recipient;
    try {
        return await githubChecks({
            token: token.token, tokenFrom: token.from, owner, repo, branch: branch!, path: dir!,
            platformDirectories: directories,
            recipient: typeof recipient === "string" && recipient.startsWith("age1") ? recipient : undefined,
            transport: transportOf(valid, gitops),
            env, timeoutMs,
        }, out);
    } catch (e) {
        if (!(e instanceof PreflightSetupError)) throw e;
        out.push(fail("GitHub", e.message));
        return { directories: new Set(), stopped: e.message };
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
    const domain = valid?.cluster.domain ?? (typeof cluster.domain === "string" && isDnsName(cluster.domain) ? cluster.domain : undefined);
    const token = tokenFor("cloudflare:apiToken", decrypted, env);
    if (!token) return void out.push(...notChecked(cloudflareCheckTitles(domain), "no token (see the Secret cloudflare:apiToken line)"));
    const accountId = valid?.cloudflareAccountId ?? values.cloudflareAccountId;
    if (typeof accountId !== "string" || !isCloudflareAccountId(accountId)) {
        return void out.push(...notChecked(cloudflareCheckTitles(domain), "cluster-bootstrap:cloudflareAccountId is not usable (see the Stack config lines)"));
    }
    try {
        await cloudflareChecks({ token: token.token, tokenFrom: token.from, accountId, domain, env, timeoutMs }, out);
    } catch (e) {
        if (!(e instanceof PreflightSetupError)) throw e;
        out.push(fail("Cloudflare", e.message));
    }
}

/** What exists already, once every Cloudflare check passed and the config is valid (preflight/adoption.ts). */
async function existingFamily(valid: PlainConfig | undefined, decrypted: ReadonlyMap<string, ConfigEntry>, env: NodeJS.ProcessEnv, timeoutMs: number,
    cloudflare: readonly CheckResult[], out: CheckResult[], o: { stack: string; recorded: Parameters<typeof adoptionChecks>[0]["recorded"] }): Promise<void> {
    const token = tokenFor("cloudflare:apiToken", decrypted, env);
    if (!valid) return void out.push(...notChecked(["What exists"], "the stack config is not valid (see the Stack config lines)"));
    if (!token || cloudflare.length === 0 || cloudflare.some((r) => r.status === "fail" || r.status === "skip")) {
        return void out.push(...notChecked(["What exists"], "it needs every Cloudflare check to pass (see the Cloudflare lines)"));
    }
    try {
        await adoptionChecks({ token: token.token, config: valid, stack: o.stack, recorded: o.recorded, env, timeoutMs }, out);
    } catch (e) {
        if (!(e instanceof PreflightSetupError)) throw e;
        out.push(fail("What exists", e.message));
    }
}

/**
 * The chart of every platform release (its app directory read from the repository as the program reads it) and, when
 * the program runs Flux, the Flux Operator's; all checked at once, listed in install order.
 */
async function chartsFamily(valid: PlainConfig | undefined, raw: Record<string, unknown>, repository: Promise<GitHubFacts>,
    env: NodeJS.ProcessEnv, timeoutMs: number, out: CheckResult[]): Promise<void> {
    const of = (p: string) => `Chart of ${p}`;
    const crdsOf = (p: string) => `CRD chart of ${p}`;
    if (!valid) {
        const titles = platformDirectories(raw).map((d) => (d.list === "crds" ? crdsOf : of)(normaliseRepoPath(d.path)));
        out.push(...notChecked(titles.length ? titles : ["Helm charts"], "the stack config is not valid (see the Stack config lines)"));
        return;
    }
    const known = Object.fromEntries(Object.entries(clusterPart(valid.cluster).vars).filter((e): e is [string, string] => typeof e[1] === "string"));
    const where = `branch ${valid.gitops.branch} of ${valid.gitops.repository}`;
    // A release's chart is installed, a CRD entry's rendered: a missing version fails either halfway through the run.
    const entryChart = async (entry: PlatformAppConfig, i: number, list: "releases" | "crds"): Promise<CheckResult> => {
        const [key, title] = list === "releases" ? [platformKey(i), of(entry.path)] : [platformCrdsKey(i), crdsOf(entry.path)];
        const facts = await repository;
        if (!facts.reader) return skip(title, `not checked: its app directory cannot be read (${facts.stopped ?? "see the GitHub lines"})`);
        if (!facts.directories.has(entry.path)) return skip(title, "not checked: its directory could not be read (see its GitHub path line)");
        let ref: ChartRef;
        try {
            ref = await readAppRelease(entry, facts.reader, where, known);
        } catch (e) {
            if (e instanceof AppProblem) return fail(title, `${key}: ${e.message}`);
            if (e instanceof NoAnswer) return fail(title, `the GitHub API: ${e.message}`);
            return fail(title, (e as Error).message);
        }
        const result = await chartCheck(ref, { env, timeoutMs, fix: `fix the chart's version in ${entry.path} (the OCIRepository's spec.ref.tag, or the HelmRelease's spec.chart.spec.version)` });
        return list === "releases" ? result : { ...result, title: result.title.replace(/^Chart /, "CRD chart ") };
    };
    const releases = [
        ...valid.platform.releases.map((entry, i) => entryChart(entry, i, "releases")),
        ...valid.platform.crds.map((entry, i) => entryChart(entry, i, "crds")),
    ];
    const operator = valid.flux.managedBy === "program"
        ? [chartCheck({ chart: FLUX_OPERATOR_CHART, version: valid.flux.operatorChartVersion },
            { env, timeoutMs, fix: `set ${PROJECT}:flux.operatorChartVersion to a version the registry has` })]
        : [];
    const lines = await Promise.all([...releases, ...operator].map((p) => p.catch((e: unknown) => {
        if (!(e instanceof PreflightSetupError)) throw e;
        return fail("Helm charts", e.message);
    })));
    out.push(...lines);
}
