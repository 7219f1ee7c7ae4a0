// Platform releases: what a cluster needs before Flux can run (a CNI above all: Talos with `cni: none` keeps its
// nodes NotReady until one is installed, and the Flux Operator cannot start). Each comes from an app directory of the
// GitOps repository, read from GitHub at `gitops.branch`, so the bootstrap installs exactly the chart, version and
// values Flux will later reconcile, and Renovate updates one place. Installed in list order before the Flux Operator;
// helm-controller then takes each release over (found in storage without HelmRelease history: upgraded in place),
// and from then on the program no longer registers it (cluster/handover.ts): one owner at a time.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import { ConfigError, platformKey, type PlatformReleaseConfig } from "../config";
import { mergeContract, type ContractPart } from "./contract";
import { AppProblem, readAppRelease, renderValues, unsetVariableProblem, type AppRelease } from "../flux/helmrelease";
import { chartName, FLUX_INSTANCE_CHART_NAME, FLUX_OPERATOR_CHART_NAME } from "../flux/repository-check";
import type { RepositoryAt, RepositoryFiles } from "../providers/github-files";

/** Bound on one release becoming ready: the CNI's agents pull their images on every node of a fresh cluster. */
export const PLATFORM_RELEASE_TIMEOUT_SECONDS = 600;

/**
 * How Helm installs and upgrades a release, as the home-ops and cluster-template helmfiles do (`wait`, `waitForJobs`,
 * `cleanupOnFail`), checked against the pulumi-kubernetes Release schema (helm/v3/release.d.ts) and what its provider
 * passes to Helm (provider/pkg/provider/helm_release.go: `Atomic` and `WaitForJobs` on install and upgrade,
 * `CleanupOnFail` on upgrade; waiting itself is on unless `skipAwait`):
 * - `waitForJobs`: the release is ready only once its Jobs have completed, so the next one starts on a finished one;
 * - `cleanupOnFail`: a failed upgrade deletes the objects it created;
 * - `atomic`: a failed install is uninstalled (Helm install.go failRelease: no history kept), so the release is not
 *   left `failed` under a name the next install cannot re-use, and the next `pulumi up` installs it afresh; a failed
 *   upgrade is rolled back. Not for the repository's flux-operator and flux-instance: the migrations to a repository
 *   that runs Flux install them over a running Flux (Helm adopts the FluxInstance `flux` and the operator's objects),
 *   and uninstalling them would delete the FluxInstance, whereupon the operator removes Flux from the cluster.
 */
export function installOptions(release: Pick<AppRelease, "chart">): { atomic: boolean; cleanupOnFail: true; waitForJobs: true } {
    const chart = chartName(release.chart);
    return { atomic: chart !== FLUX_OPERATOR_CHART_NAME && chart !== FLUX_INSTANCE_CHART_NAME, cleanupOnFail: true, waitForJobs: true };
}

/**
 * Whether Flux fails on an unset variable without a default: kustomize-controller v1.9 (Flux 2.9) turned the
 * StrictPostBuildSubstitutions feature gate on by default; before, such a variable became "".
 */
export function strictSubstitution(fluxVersion: string): boolean {
    return semver.intersects(fluxVersion, ">=2.9.0-0", { includePrerelease: true });
}

/** Where the app directories are read. */
export interface PlatformSource {
    /** The GitOps repository at `gitops.branch`: the files Flux will reconcile. */
    files: RepositoryFiles;
    /**
     * Variables known before anything is registered (the cluster's own, from config). Names, namespaces, charts and
     * versions may use these; the other variables are known only once the resources that provide them exist.
     */
    known: Record<string, pulumi.Input<string>>;
}

/** `branch main of owner/name`: where messages say a file was looked for. */
export function describeSource(files: RepositoryAt): string {
    return `branch ${files.branch} of ${files.repository}`;
}

/** Reads through `files`, a failed read an {@link AppProblem} naming the file and why. */
export function problemReading(files: RepositoryFiles): (file: string) => Promise<string | undefined> {
    return async (file) => {
        try {
            return await files.file(file);
        } catch (e) {
            const why = (e instanceof Error ? e.message : String(e)).split("\n")[0];
            throw new AppProblem(`${file}: reading it from ${describeSource(files)} failed: ${why}`);
        }
    };
}

/**
 * Reads and checks every entry's app directory (in parallel, see {@link readAppRelease}), before any resource is
 * registered. Throws {@link ConfigError} listing every problem, each naming `cluster-bootstrap:platform.releases[i]`
 * and the file.
 */
export async function readPlatformReleases(releases: PlatformReleaseConfig[], source: PlatformSource): Promise<AppRelease[]> {
    const known = Object.fromEntries(Object.entries(source.known).filter((e): e is [string, string] => typeof e[1] === "string"));
    const read = problemReading(source.files);
    const results = await Promise.all(releases.map(async (entry): Promise<AppRelease | string> => {
        try {
            return await readAppRelease(entry, read, describeSource(source.files), known);
        } catch (e) {
            if (e instanceof AppProblem) return e.message;
            throw e;
        }
    }));

    const problems: string[] = [];
    const seen = new Map<string, number>();
    results.forEach((r, i) => {
        if (typeof r === "string") {
            problems.push(`${platformKey(i)}: ${r}`);
            return;
        }
        const id = `${r.namespace}/${r.name}`;
        const first = seen.get(id);
        if (first !== undefined) problems.push(`${platformKey(i)}: release ${id} (${r.file}) repeats ${platformKey(first)}`);
        else seen.set(id, i);
    });
    if (problems.length > 0) throw new ConfigError(problems);
    return results as AppRelease[];
}

/**
 * A release's values: its HelmRelease substituted with the contract's values, through only the variables it uses (so
 * it waits for nothing else), and secret when one of them is a cluster-secrets key, even one handed over in plain
 * text. Throws `fail(message)` where Flux would fail: at once when every value is known, else when they resolve.
 */
export function releaseValues(
    release: AppRelease, contract: ContractPart, strict: boolean, fail: (message: string) => Error = (m) => new AppProblem(m),
): pulumi.Output<Record<string, unknown>> {
    const defined = new Set([...Object.keys(contract.vars), ...Object.keys(contract.secrets)]);
    const unset = unsetVariableProblem(release, defined, strict);
    if (unset) throw fail(unset);
    const used = release.variables.filter((v) => defined.has(v));
    const inputs = Object.fromEntries(used.map((v) => [v, v in contract.vars ? contract.vars[v] : contract.secrets[v]]));
    const render = (vars: Record<string, string>) => {
        try {
            return renderValues(release, vars, strict);
        } catch (e) {
            throw e instanceof AppProblem ? fail(e.message) : e;
        }
    };
    const values = Object.values(inputs).every((v) => typeof v === "string")
        ? pulumi.output(render(inputs as Record<string, string>))
        : pulumi.all(inputs).apply(render);
    return (used.some((v) => v in contract.secrets) ? pulumi.secret(values) : values) as pulumi.Output<Record<string, unknown>>;
}

export interface PlatformReleasesArgs {
    /** The entries' releases in install order, as {@link readPlatformReleases} read them. */
    releases: AppRelease[];
    /** What each capability hands to Flux (merged with {@link mergeContract}): the values Flux substitutes. */
    parts: ContractPart[];
    /** Flux's rule for an unset variable without a default: fail, or substitute "" (see {@link strictSubstitution}). */
    strict: boolean;
    /**
     * What must exist in the cluster (or on GitHub) before a release is installed, by its index in `releases`, besides
     * the release before it: the flux-instance release of a repository that runs Flux (`flux.managedBy: repository`)
     * waits for the Secrets its FluxInstance's first sync reads.
     */
    before?: ReadonlyMap<number, readonly pulumi.Resource[]>;
    /**
     * Indexes in `releases` of those Flux has taken over (cluster/handover.ts): not registered at all, so Pulumi drops
     * them from its state (they were retained on delete) and leaves them to Flux. The others keep their order.
     */
    takenOver?: ReadonlySet<number>;
    /**
     * The cluster's `kube-system` Namespace uid, each release's `replacementTrigger`: on a rebuilt cluster it changes,
     * so Pulumi installs the release again even where its state still holds the one the lost cluster ran.
     */
    clusterUid: string;
}

/**
 * One Helm release per entry Flux has not taken over, in order, each waiting for the previous one registered to be
 * ready; retained on delete. Until Flux takes it over the repository's current files are the truth, so a changed
 * chart, version or value is an update, as for any resource. A release depends on the resources behind the variables
 * its HelmRelease uses and on nothing else; its values are secret when it uses a cluster-secrets key. Pass the
 * Kubernetes provider in `opts.provider`.
 */
export class PlatformReleases extends pulumi.ComponentResource {
    /** The releases registered, in install order. */
    public readonly releases: k8s.helm.v3.Release[];
    /** The release of each entry, by its index in `releases` of the args; undefined where Flux has taken it over. */
    public readonly byEntry: Array<k8s.helm.v3.Release | undefined>;
    /** `namespace/name` of each release registered, in install order. */
    public readonly names: string[];
    /** What must wait for the platform: the last release registered (it waited for all the others), or nothing. */
    public readonly last: pulumi.Resource[];

    constructor(name: string, args: PlatformReleasesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:platform:PlatformReleases", name, {}, opts);
        const contract = mergeContract(args.parts);

        this.releases = [];
        this.byEntry = args.releases.map((r, i) => {
            if (args.takenOver?.has(i)) return undefined;
            const values = releaseValues(r, contract, args.strict, (m) => new pulumi.ResourceError(`${platformKey(i)}: ${m}`, this));
            const previous = this.releases[this.releases.length - 1];
            const release = new k8s.helm.v3.Release(`${name}-${r.namespace}-${r.name}`, {
                name: r.name,
                namespace: r.namespace,
                chart: r.chart,
                version: r.version,
                ...(r.repositoryUrl ? { repositoryOpts: { repo: r.repositoryUrl } } : {}),
                values,
                // The repos create most namespaces with the apps themselves, which Flux has not applied yet.
                createNamespace: true,
                timeout: PLATFORM_RELEASE_TIMEOUT_SECONDS,
                ...installOptions(r),
            }, {
                parent: this,
                // Strictly in order: the CNI first, then whatever needs a network.
                dependsOn: [...(previous ? [previous] : []), ...(args.before?.get(i) ?? [])],
                // Like every in-cluster object: a destroy, and the handover to Flux, leave the release running.
                retainOnDelete: true,
                replacementTrigger: args.clusterUid,
            });
            this.releases.push(release);
            return release;
        });

        this.names = args.releases.filter((_, i) => this.byEntry[i] !== undefined).map((r) => `${r.namespace}/${r.name}`);
        this.last = this.releases.slice(-1);
        this.registerOutputs({ names: this.names });
    }
}
