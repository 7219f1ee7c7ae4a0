// Platform releases: what a cluster needs before Flux can run (a CNI above all: Talos with `cni: none` keeps its
// nodes NotReady until one is installed, and the Flux Operator cannot start). Each comes from an app directory of the
// GitOps repository, read from GitHub at `gitops.branch`, so the bootstrap installs exactly the chart, version and
// values Flux will later reconcile, and Renovate updates one place. Installed in list order before the Flux Operator;
// helm-controller then takes each release over (found in storage without HelmRelease history: upgraded in place).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import { ConfigError, platformKey, type PlatformReleaseConfig } from "../config";
import { mergeContract, type ContractPart } from "./contract";
import type { RepositoryAt, RepositoryFiles } from "../providers/github-files";
import {
    AppProblem, appRelease, kustomizationResources, KUSTOMIZATION_FILES, renderValues, unsetVariableProblem, type AppFile, type AppRelease,
} from "../flux/helmrelease";

/**
 * Inputs Pulumi keeps as first installed: once Flux owns a release, the repository changes its chart, version and
 * values, and Pulumi must neither show that as a diff nor roll it back. `version` must be named: the Helm provider
 * then takes the version of the release as last read (pulumi-kubernetes helm_release.go Diff), so a refresh that
 * saw Flux's upgrade does not turn into a downgrade. `name` and `namespace` are not listed: they are the release's
 * identity, and the resource name carries them, so they never change for one resource. `compat` is the SDK's own
 * marker, listed so that an SDK upgrade cannot turn into an update either.
 */
export const HANDED_OVER = ["chart", "version", "repositoryOpts", "values", "createNamespace", "timeout", "compat"];

/** Bound on one release becoming ready: the CNI's agents pull their images on every node of a fresh cluster. */
export const PLATFORM_RELEASE_TIMEOUT_SECONDS = 600;

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

/**
 * Where app directories conventionally keep their HelmRelease and its chart source (onedr0p/home-ops,
 * onedr0p/cluster-template and the repositories built on them): read first, and the directory's other files only when
 * these do not hold the release and its source.
 */
const RELEASE_FILES = new Set(["helmrelease.yaml", "helmrelease.yml"]);
const SOURCE_FILES = new Set(["ocirepository.yaml", "ocirepository.yml", "helmrepository.yaml", "helmrepository.yml"]);
const baseName = (file: string) => file.slice(file.lastIndexOf("/") + 1);

/** `branch main of owner/name`: where messages say a file was looked for. */
export function describeSource(files: RepositoryAt): string {
    return `branch ${files.branch} of ${files.repository}`;
}

/** One file, or undefined when it is not there; a failed read is an {@link AppProblem} naming the file. */
async function readFile(files: RepositoryFiles, file: string): Promise<string | undefined> {
    try {
        return await files.file(file);
    } catch (e) {
        const why = (e instanceof Error ? e.message : String(e)).split("\n")[0];
        throw new AppProblem(`${file}: reading it from ${describeSource(files)} failed: ${why}`);
    }
}

/**
 * The kustomization of directory `dir`: the first of {@link KUSTOMIZATION_FILES} there, in kustomize's order, one read
 * each until found. Throws {@link AppProblem} when there is none.
 */
export async function readKustomization(files: RepositoryFiles, dir: string): Promise<AppFile> {
    for (const name of KUSTOMIZATION_FILES) {
        const file = `${dir}/${name}`;
        const text = await readFile(files, file);
        if (text !== undefined) return { file, text };
    }
    throw new AppProblem(`${dir}: no kustomization.yaml on ${describeSource(files)}`);
}

/**
 * Files the kustomization lists (repository paths, as {@link kustomizationResources} gives them), read in parallel,
 * one read each, in the order given. Throws {@link AppProblem} naming the first one that is not there.
 */
export async function readListedFiles(files: RepositoryFiles, kustomization: AppFile, paths: readonly string[]): Promise<AppFile[]> {
    const texts = await Promise.all(paths.map((file) => readFile(files, file)));
    return paths.map((file, i) => {
        const text = texts[i];
        if (text === undefined) throw new AppProblem(`${file}: not found on ${describeSource(files)} (${kustomization.file} lists it)`);
        return { file, text };
    });
}

/**
 * What one app directory installs, reading only what the release needs: the kustomization, then the files it lists
 * under the conventional names of a HelmRelease and its chart source. Only when those do not make a release (no
 * HelmRelease among them, its source elsewhere, or any problem) are the directory's other listed files read, and the
 * release judged on all of them, with the refusals as they always were. Dashboards, alert rules and the like are
 * therefore not read when the conventional files suffice.
 */
export async function readAppRelease(files: RepositoryFiles, entry: PlatformReleaseConfig, known: Record<string, string>): Promise<AppRelease> {
    const kustomization = await readKustomization(files, entry.path);
    const listed = kustomizationResources(entry.path, kustomization, entry.namespace);
    let read: AppFile[] = [];
    if (listed.some((f) => RELEASE_FILES.has(baseName(f)))) {
        read = await readListedFiles(files, kustomization, listed.filter((f) => RELEASE_FILES.has(baseName(f)) || SOURCE_FILES.has(baseName(f))));
        try {
            return appRelease(entry.path, read, entry.namespace, known);
        } catch (e) {
            if (!(e instanceof AppProblem)) throw e;
        }
    }
    const done = new Map(read.map((f) => [f.file, f]));
    const rest = await readListedFiles(files, kustomization, listed.filter((f) => !done.has(f)));
    for (const f of rest) done.set(f.file, f);
    return appRelease(entry.path, listed.map((f) => done.get(f)!), entry.namespace, known);
}

/**
 * Reads and checks every entry's app directory (in parallel, see {@link readAppRelease}), before any resource is
 * registered. Throws {@link ConfigError} listing every problem, each naming `cluster-bootstrap:platform.releases[i]`
 * and the file.
 */
export async function readPlatformReleases(releases: PlatformReleaseConfig[], source: PlatformSource): Promise<AppRelease[]> {
    const known = Object.fromEntries(Object.entries(source.known).filter((e): e is [string, string] => typeof e[1] === "string"));
    const results = await Promise.all(releases.map(async (entry): Promise<AppRelease | string> => {
        try {
            return await readAppRelease(source.files, entry, known);
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
}

/**
 * One Helm release per entry, in order, each waiting for the previous one to be ready; retained on delete and never
 * updated by Pulumi once installed (see {@link HANDED_OVER}). A release depends on the resources behind the
 * variables its HelmRelease uses and on nothing else; its values are secret when it uses a cluster-secrets key.
 * Pass the Kubernetes provider in `opts.provider`.
 */
export class PlatformReleases extends pulumi.ComponentResource {
    /** The releases, in install order. */
    public readonly releases: k8s.helm.v3.Release[];
    /** `namespace/name` of each release, in install order. */
    public readonly names: string[];
    /** What must wait for the platform: the last release (it waited for all the others), or nothing. */
    public readonly last: pulumi.Resource[];

    constructor(name: string, args: PlatformReleasesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:platform:PlatformReleases", name, {}, opts);
        const contract = mergeContract(args.parts);

        this.releases = [];
        args.releases.forEach((r, i) => {
            const values = releaseValues(r, contract, args.strict, (m) => new pulumi.ResourceError(`${platformKey(i)}: ${m}`, this));
            const previous = this.releases[this.releases.length - 1];
            this.releases.push(new k8s.helm.v3.Release(`${name}-${r.namespace}-${r.name}`, {
                name: r.name,
                namespace: r.namespace,
                chart: r.chart,
                version: r.version,
                ...(r.repositoryUrl ? { repositoryOpts: { repo: r.repositoryUrl } } : {}),
                values,
                // The repos create most namespaces with the apps themselves, which Flux has not applied yet.
                createNamespace: true,
                timeout: PLATFORM_RELEASE_TIMEOUT_SECONDS,
            }, {
                parent: this,
                // Strictly in order: the CNI first, then whatever needs a network.
                dependsOn: [...(previous ? [previous] : []), ...(args.before?.get(i) ?? [])],
                retainOnDelete: true,
                ignoreChanges: HANDED_OVER,
            }));
        });

        this.names = args.releases.map((r) => `${r.namespace}/${r.name}`);
        this.last = this.releases.slice(-1);
        this.registerOutputs({ names: this.names });
    }
}
