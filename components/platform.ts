// Platform releases: what a cluster needs before Flux can run (a CNI above all: Talos with `cni: none` keeps its
// nodes NotReady until one is installed, and the Flux Operator cannot start). Each comes from an app directory of the
// GitOps repository, read from GitHub at `gitops.branch`, so the bootstrap installs exactly the chart, version and
// values Flux will later reconcile, and Renovate updates one place. Installed in list order before the Flux Operator;
// helm-controller then takes each release over (found in storage without HelmRelease history: upgraded in place),
// and from then on the program no longer registers it (cluster/handover.ts): one owner at a time. Before the first
// release, the CRDs of the `platform.crds` charts (./platform-crds.ts); after each, the files its `apply` paths name
// (./platform-apply.ts): home-ops' `crds.yaml` and helmfile hooks. Both leave with their HelmRelease's takeover.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import { ConfigError, platformCrdsKey, platformKey, type PlatformAppConfig, type PlatformConfig, type PlatformReleaseConfig } from "../config";
import { AppProblem, findKustomization, knownNow, readAppRelease, readListedFiles, unsetVariableProblem, type AppRelease, type ReadFile } from "../flux/helmrelease";
import { applyDirectoryFiles, looksLikeFile, manifestsOf, objectIdentity, type Manifest } from "../flux/manifests";
import { chartName, FLUX_INSTANCE_CHART_NAME, FLUX_OPERATOR_CHART_NAME } from "../flux/repository-check";
import type { RepositoryAt, RepositoryFiles } from "../providers/github-files";
import { mergeContract, type ContractPart } from "./contract";
import { applyManifests } from "./platform-apply";
import { crdSecretProblem, PlatformCrds } from "./platform-crds";
import { releaseValues } from "./platform-values";

export { releaseValues } from "./platform-values";

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
 * registered. Throws {@link ConfigError} listing every problem, each naming the entry's key (`key(i)`, by default
 * `cluster-bootstrap:platform.releases[i]`) and the file.
 */
export async function readPlatformReleases(releases: readonly PlatformAppConfig[], source: PlatformSource,
    key: (i: number) => string = platformKey): Promise<AppRelease[]> {
    const known = knownNow(source.known);
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
            problems.push(`${key(i)}: ${r}`);
            return;
        }
        const id = `${r.namespace}/${r.name}`;
        const first = seen.get(id);
        if (first !== undefined) problems.push(`${key(i)}: release ${id} (${r.file}) repeats ${key(first)}`);
        else seen.set(id, i);
    });
    if (problems.length > 0) throw new ConfigError(problems);
    return results as AppRelease[];
}

/**
 * The objects of one `apply` path of an entry: a file (`networking.yaml`), or a directory whose kustomization lists
 * the files (`../config`). A path ending in `.yaml`, `.yml` or `.json` is read as a file first, any other as a
 * directory first (its kustomization), so each costs one read when it is what its name says. Throws {@link AppProblem}.
 */
export async function readApplyPath(entry: PlatformAppConfig, target: string, read: ReadFile, where: string,
    known: Record<string, string>): Promise<Manifest[]> {
    const asFile = async () => {
        const text = await read(target);
        return text === undefined ? undefined : manifestsOf([{ file: target, text }], entry.namespace, known);
    };
    const asDirectory = async () => {
        const kustomization = await findKustomization(read, target);
        if (!kustomization) return undefined;
        const listed = applyDirectoryFiles(target, kustomization, entry.namespace);
        const files = await readListedFiles(read, where, kustomization, listed.files);
        return manifestsOf(files, entry.namespace, known, listed.namespace);
    };
    const found = looksLikeFile(target) ? (await asFile()) ?? (await asDirectory()) : (await asDirectory()) ?? (await asFile());
    if (!found) throw new AppProblem(`${target}: not found on ${where}: neither a file nor a directory with a kustomization.yaml`);
    if (found.length === 0) throw new AppProblem(`${target}: holds no object to apply`);
    return found;
}

/**
 * Reads and checks every release's `apply` paths (all in parallel), before any resource is registered: by release,
 * the objects in the order given. An object applied twice (by two paths, or two entries) is refused: its two
 * resources would fight over it. Throws {@link ConfigError} naming `cluster-bootstrap:platform.releases[i].apply[j]`.
 */
export async function readPlatformApply(releases: readonly PlatformReleaseConfig[], source: PlatformSource): Promise<Manifest[][]> {
    const known = knownNow(source.known);
    const read = problemReading(source.files);
    const where = describeSource(source.files);
    const results = await Promise.all(releases.map((entry) => Promise.all(entry.apply.map(async (p): Promise<Manifest[] | string> => {
        try {
            return await readApplyPath(entry, p.path, read, where, known);
        } catch (e) {
            if (e instanceof AppProblem) return e.message;
            throw e;
        }
    }))));

    const problems: string[] = [];
    const seen = new Map<string, { key: string; file: string }>();
    results.forEach((paths, i) => paths.forEach((r, j) => {
        const key = platformKey(i, `apply[${j}]`);
        if (typeof r === "string") {
            problems.push(`${key}: ${r}`);
            return;
        }
        for (const m of r) {
            const id = objectIdentity(m);
            const first = seen.get(id);
            if (first) problems.push(`${key}: ${m.kind} ${m.namespace}/${m.name} (${m.file}) is applied already by ${first.key} (${first.file})`);
            else seen.set(id, { key, file: m.file });
        }
    }));
    if (problems.length > 0) throw new ConfigError(problems);
    return results.map((paths) => (paths as Manifest[][]).flat());
}

/** What {@link readPlatform} reads: the releases, the objects applied after each, and the CRD entries. */
export interface PlatformRead {
    /** `platform.releases`, in install order. */
    releases: AppRelease[];
    /** By release: the objects its `apply` paths bring, in order. */
    apply: Manifest[][];
    /** `platform.crds`: the charts whose CRDs are applied before the first release. */
    crds: AppRelease[];
}

/**
 * Everything `cluster-bootstrap:platform` names, read from the repository in parallel before anything is registered.
 * Throws one {@link ConfigError} with every problem of the three.
 */
export async function readPlatform(platform: PlatformConfig, source: PlatformSource): Promise<PlatformRead> {
    const settle = <T>(p: Promise<T>) => p.catch((e: unknown) => {
        if (e instanceof ConfigError) return e;
        throw e;
    });
    const [releases, apply, crds] = await Promise.all([
        settle(readPlatformReleases(platform.releases, source)),
        settle(readPlatformApply(platform.releases, source)),
        settle(readPlatformReleases(platform.crds, source, platformCrdsKey)),
    ]);
    const problems = [releases, apply, crds].flatMap((r) => (r instanceof ConfigError ? r.problems : []));
    if (problems.length > 0) throw new ConfigError(problems);
    return { releases: releases as AppRelease[], apply: apply as Manifest[][], crds: crds as AppRelease[] };
}

/**
 * What Flux's substitution would refuse in what was read, judged against the contract's names before anything is
 * registered (`outline`: the contract with stand-in values, components/contract-outline.ts): a variable it does not
 * define under strict substitution, a cluster-secrets key in a CRD entry's values. Entries Flux has taken over are not
 * installed, so not judged. Throws one {@link ConfigError} with every problem; the components, which substitute the
 * real values, make the same checks again.
 */
export function refuseUnsubstitutable(
    read: PlatformRead, outline: ContractPart, strict: boolean,
    taken: { releases: ReadonlySet<number>; crds: ReadonlySet<number> },
): void {
    const names = [...Object.keys(outline.vars), ...Object.keys(outline.secrets)];
    const problems: string[] = [];
    read.releases.forEach((release, i) => {
        if (taken.releases.has(i)) return;
        for (const doc of [release, ...(read.apply[i] ?? [])]) {
            const unset = unsetVariableProblem(doc, names, strict);
            if (unset) problems.push(`${platformKey(i)}: ${unset}`);
        }
    });
    read.crds.forEach((entry, i) => {
        if (taken.crds.has(i)) return;
        for (const p of [crdSecretProblem(entry, outline), unsetVariableProblem(entry, names, strict)]) {
            if (p) problems.push(`${platformCrdsKey(i)}: ${p}`);
        }
    });
    if (problems.length > 0) throw new ConfigError(problems);
}

export interface PlatformReleasesArgs {
    /** The entries' releases in install order, as {@link readPlatformReleases} read them. */
    releases: AppRelease[];
    /** By release: the objects its `apply` paths bring ({@link readPlatformApply}); none when left out. */
    apply?: Manifest[][];
    /** The `platform.crds` entries ({@link readPlatform}): their charts' CRDs are applied before the first release. */
    crds?: AppRelease[];
    /** Indexes in `crds` whose HelmRelease Flux has taken over: their CRDs are not registered. */
    crdsTakenOver?: ReadonlySet<number>;
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
     * Indexes in `releases` of those Flux has taken over (cluster/handover.ts): not registered at all, nor the objects
     * their `apply` paths bring, so Pulumi drops them from its state (they were retained on delete) and leaves them to
     * Flux. The others keep their order.
     */
    takenOver?: ReadonlySet<number>;
    /**
     * The cluster's `kube-system` Namespace uid, the `replacementTrigger` of each release, CRD and applied object: on a
     * rebuilt cluster it changes, so Pulumi installs them again even where its state still holds the lost cluster's.
     */
    clusterUid: string;
}

/**
 * The CRDs of the `crds` entries first (a child {@link PlatformCrds}), then one Helm release per entry Flux has not
 * taken over, in order, each followed by the objects its `apply` paths bring: the first release waits for the CRDs,
 * each object for its release, and the next release for the previous one and its objects. All retained on delete.
 * Until Flux takes a release over the repository's current files are the truth, so a changed chart, version, value or
 * object is an update, as for any resource. A release (or object) depends on the resources behind the variables it
 * uses and on nothing else; its values are secret when it uses a cluster-secrets key. Pass the Kubernetes provider in
 * `opts.provider`.
 */
export class PlatformReleases extends pulumi.ComponentResource {
    /** The releases registered, in install order. */
    public readonly releases: k8s.helm.v3.Release[];
    /** The release of each entry, by its index in `releases` of the args; undefined where Flux has taken it over. */
    public readonly byEntry: Array<k8s.helm.v3.Release | undefined>;
    /** `namespace/name` of each release registered, in install order. */
    public readonly names: string[];
    /** The CRDs of the `crds` entries, once rendered; undefined without entries. */
    public readonly crds?: PlatformCrds;
    /**
     * What must wait for the platform: the last release registered (it waited for all the others) and the objects
     * applied after it; without a release, the CRDs; or nothing.
     */
    public readonly last: pulumi.Output<pulumi.Resource[]>;

    constructor(name: string, args: PlatformReleasesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:platform:PlatformReleases", name, {}, opts);
        const contract = mergeContract(args.parts);
        this.crds = args.crds && args.crds.length > 0
            ? new PlatformCrds(`${name}-crds`, {
                entries: args.crds, takenOver: args.crdsTakenOver, parts: args.parts, strict: args.strict, clusterUid: args.clusterUid,
            }, { parent: this })
            : undefined;

        this.releases = [];
        // What the next release waits for: the CRDs, then each release registered and the objects applied after it.
        let previous: pulumi.Input<pulumi.Resource[]> = this.crds?.crds ?? [];
        this.byEntry = args.releases.map((r, i) => {
            if (args.takenOver?.has(i)) return undefined;
            const values = releaseValues(r, contract, args.strict, (m) => new pulumi.ResourceError(`${platformKey(i)}: ${m}`, this, true));
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
                // Strictly in order: the CRDs, the CNI, then whatever needs a network.
                dependsOn: pulumi.output(previous).apply((p) => [...p, ...(args.before?.get(i) ?? [])]),
                // Like every in-cluster object: a destroy, and the handover to Flux, leave the release running.
                retainOnDelete: true,
                replacementTrigger: args.clusterUid,
            });
            this.releases.push(release);
            const applied = args.apply?.[i] ?? [];
            previous = applied.length === 0 ? [release] : applyManifests(`${name}-${r.namespace}-${r.name}`, applied, {
                contract, strict: args.strict, after: release, clusterUid: args.clusterUid, key: platformKey(i),
            }, this).apply((objects) => [release, ...objects]);
            return release;
        });

        this.names = args.releases.filter((_, i) => this.byEntry[i] !== undefined).map((r) => `${r.namespace}/${r.name}`);
        this.last = pulumi.output(previous);
        this.registerOutputs({ names: this.names });
    }
}
