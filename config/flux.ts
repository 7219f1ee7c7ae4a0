// `cluster-bootstrap:flux.managedBy`: who installs and runs Flux. `program` (the default): the program installs the
// Flux Operator and a FluxInstance of its own, then the GitRepository and root Kustomization. `repository`: the GitOps
// repository manages Flux itself (onedr0p/cluster-template and the home-ops repos built on it), with flux-operator and
// flux-instance HelmReleases among its apps; they are then two of `platform.releases`, and the FluxInstance's
// `spec.sync` creates the GitRepository and Kustomization. The schema is in config/schema.ts; the rules across keys are
// here. What needs the repository's files (the two releases, the instance's sync) is checked once they are read
// (flux/repository-check.ts).
import { fullKey } from "./keys";

/** `flux` with `managedBy: program`: what the program's own Flux Operator release and FluxInstance install. */
export interface FluxConfig {
    version: string;
    imageAutomation: boolean;
    operatorChartVersion: string;
}

export const FLUX_MANAGED_BY = ["program", "repository"] as const;
export type FluxManagedBy = (typeof FLUX_MANAGED_BY)[number];

/**
 * How Flux fetches the repository: `ssh` with a deploy key the program creates (the default), or `https` with no
 * credential at all, which works for a public repository only (onedr0p/home-ops syncs so). `gitops.transport` chooses
 * it with the program's Flux; with the repository's, its FluxInstance's `sync.url` does.
 */
export const GIT_TRANSPORTS = ["ssh", "https"] as const;
export type GitTransport = (typeof GIT_TRANSPORTS)[number];

/** `flux` when the repository runs Flux: its flux-instance HelmRelease decides everything but the deploy key's access. */
export interface RepositoryFluxConfig {
    managedBy: "repository";
    /**
     * Whether the deploy key may push. The repository's FluxInstance decides whether image-automation-controller runs;
     * this must agree with it (checked once the files are read), so write access is never granted by a commit alone.
     */
    imageAutomation: boolean;
}

/** `cluster-bootstrap:flux` as the program uses it, one shape per mode. */
export type FluxSettings = (FluxConfig & { managedBy: "program" }) | RepositoryFluxConfig;

/** The parsed `flux` value, defaults filled, as the schema hands it over. */
export interface ParsedFlux {
    managedBy: FluxManagedBy;
    version?: string;
    imageAutomation: boolean;
    operatorChartVersion: string;
}

/** The typed value for the mode; call only once {@link fluxModeProblems} found nothing. */
export function fluxSettings(flux: ParsedFlux): FluxSettings {
    if (flux.managedBy === "repository") return { managedBy: "repository", imageAutomation: flux.imageAutomation };
    return { managedBy: "program", version: flux.version!, imageAutomation: flux.imageAutomation, operatorChartVersion: flux.operatorChartVersion };
}

const key = (...path: string[]) => fullKey(path);
const REPOSITORY = `with ${key("flux", "managedBy")} "repository"`;

/** Image automation pushes to Git, which an anonymous HTTPS fetch cannot. */
const HTTPS_CANNOT_PUSH = `${key("flux", "imageAutomation")}: true cannot work with ${key("gitops", "transport")} "https": ` +
    "image-automation-controller pushes to the repository, which needs a credential, and over HTTPS Flux has none " +
    `(the program creates deploy keys for SSH only): set ${key("gitops", "transport")} to "ssh", or turn image automation off`;

/**
 * Rules across keys, on the raw values (a key set to its default counts as set). Program mode needs `flux.version`.
 * Repository mode refuses every setting the repository's files decide instead, since it would be ignored, and needs
 * `platform.releases` (the flux-operator and flux-instance app directories are checked once read).
 */
export function fluxModeProblems(values: Record<string, unknown>): string[] {
    const flux = values.flux as Record<string, unknown> | undefined;
    if (typeof flux !== "object" || flux === null || Array.isArray(flux)) return []; // the schema reports it
    const managedBy = flux.managedBy ?? "program";
    const gitops = values.gitops as Record<string, unknown> | undefined;
    const gitopsSet = typeof gitops === "object" && gitops !== null && !Array.isArray(gitops);
    const problems: string[] = [];
    if (managedBy === "program") {
        if (flux.version === undefined) problems.push(`${key("flux", "version")}: is required`);
        if (gitopsSet && gitops.transport === "https" && flux.imageAutomation === true) problems.push(HTTPS_CANNOT_PUSH);
        return problems;
    }
    if (managedBy !== "repository") return []; // the schema reports it

    if (flux.version !== undefined) {
        problems.push(`${key("flux", "version")}: must not be set ${REPOSITORY}: the repository's flux-instance HelmRelease decides ` +
            "the Flux version (spec.values.instance.distribution.version)");
    }
    if (flux.operatorChartVersion !== undefined) {
        problems.push(`${key("flux", "operatorChartVersion")}: must not be set ${REPOSITORY}: the repository's flux-operator ` +
            "HelmRelease and its chart source decide the operator's version");
    }
    if (gitopsSet) {
        if (gitops.name !== undefined) {
            problems.push(`${key("gitops", "name")}: must not be set ${REPOSITORY}: the FluxInstance names its GitRepository and ` +
                "Kustomization (spec.values.instance.sync.name, else flux-system)");
        }
        if (gitops.interval !== undefined) {
            problems.push(`${key("gitops", "interval")}: must not be set ${REPOSITORY}: the FluxInstance's ` +
                "spec.values.instance.sync.interval decides how often Flux fetches");
        }
        if (gitops.transport !== undefined) {
            problems.push(`${key("gitops", "transport")}: must not be set ${REPOSITORY}: the FluxInstance's ` +
                "spec.values.instance.sync.url decides (ssh://git@github.com/<owner>/<name> with a pullSecret, or " +
                "https://github.com/<owner>/<name> without one for a public repository)");
        }
        if (gitops.wait === false) {
            problems.push(`${key("gitops", "wait")}: must not be false ${REPOSITORY}: the Flux Operator reports the FluxInstance ` +
                "Ready only once its GitRepository and Kustomization are ready, and nothing else tells that Flux's CRDs exist for " +
                "the Receiver; use gitops.timeout to bound the wait");
        }
    }
    const platform = values.platform as { releases?: unknown } | undefined;
    if (platform === undefined) {
        problems.push(`${key("platform")}: is required ${REPOSITORY}: list the app directories of the repository's flux-operator ` +
            "and flux-instance HelmReleases (after the CNI and what else Flux needs to run)");
    }
    return problems;
}
