// The check of a repository that runs Flux itself (`flux.managedBy: repository`), as in onedr0p/cluster-template and the
// home-ops repos built on it: `kubernetes/apps/flux-system/flux-operator` and `flux-instance` are HelmReleases in the
// repository, installed here as two of the platform releases and then taken over by Flux. The FluxInstance the
// flux-instance chart renders carries `spec.sync`, from which the Flux Operator creates the GitRepository and the
// Kustomization (named after the FluxInstance's namespace unless `sync.name` says otherwise). The program creates no
// FluxInstance, operator release, GitRepository or root Kustomization of its own; it provides what cannot live in Git
// (the deploy key's Secret under the instance's `sync.pullSecret` when it syncs over SSH; nothing of the kind for a
// public repository synced over HTTPS, as onedr0p/home-ops does; sops-age, cluster-vars, cluster-secrets) before
// the flux-instance release, and waits for the FluxInstance's own Ready, which the operator reports only once its
// sync has applied. This module checks the repository's releases (pure); components/flux-handover.ts does the rest.
import type * as pulumi from "@pulumi/pulumi";
import * as semver from "semver";
import { ConfigError, isKubernetesName, isRecord, normaliseRepoPath, platformKey, quoted, type GitOpsConfig, type GitTransport } from "../config";
import { AppProblem, knownNow, renderValues, unknownStandIn, unknownVariableIn, type AppRelease } from "./helmrelease";
import {
    CLUSTER_SECRETS, DEFAULT_COMPONENTS, FLUX_INSTANCE_NAME, FLUX_NAMESPACE, IMAGE_AUTOMATION_COMPONENTS, repositoryHttpsUrl, repositoryUrl,
    SOPS_AGE_SECRET, WEBHOOK_TOKEN_SECRET,
} from "../config/names";

/** The charts, by their own name (the last segment of an `oci://` reference, or a HelmRepository chart's name). */
export const FLUX_OPERATOR_CHART_NAME = "flux-operator";
export const FLUX_INSTANCE_CHART_NAME = "flux-instance";

/**
 * What the flux-instance chart renders when the values leave it out (controlplaneio-fluxcd/charts,
 * charts/flux-instance/values.yaml and templates/instance.yaml): the FluxInstance is named `fullnameOverride`
 * (`flux`), the distribution is `2.x`, the four default controllers run and the sync kind is GitRepository.
 */
export const INSTANCE_CHART_DEFAULTS = {
    fullnameOverride: FLUX_INSTANCE_NAME,
    version: "2.x",
    components: [...DEFAULT_COMPONENTS] as string[],
    syncKind: "GitRepository",
} as const;

/** The controller that pushes image updates to Git: the one reason for a deploy key with write access. */
const IMAGE_AUTOMATION: (typeof IMAGE_AUTOMATION_COMPONENTS)[number] = "image-automation-controller";

/** Secrets the program fills under fixed names: the pull secret must not be one of them. */
const RESERVED_SECRETS = [SOPS_AGE_SECRET, CLUSTER_SECRETS, WEBHOOK_TOKEN_SECRET];

/** A chart's own name: `oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator` → `flux-operator`. */
export function chartName(chart: string): string {
    return chart.replace(/\/+$/, "").split("/").pop() ?? chart;
}

/** The FluxInstance's `spec.sync`, as the program relies on it. */
export interface InstanceSync {
    /** The GitRepository and Kustomization the operator creates: `sync.name`, else the FluxInstance's namespace. */
    name: string;
    /**
     * `ssh://git@github.com/<owner>/<name>` or `https://github.com/<owner>/<name>` of `gitops.repository` (a `.git`
     * suffix allowed).
     */
    url: string;
    /** How Flux fetches: `ssh` with the deploy key in `pullSecret`, or `https` anonymously (a public repository). */
    transport: GitTransport;
    /** `refs/heads/<gitops.branch>`. */
    ref: string;
    /** The path the Kustomization applies, normalised: `gitops.path`. */
    path: string;
    /** The Secret the program fills with the deploy key (identity, identity.pub, known_hosts); undefined over HTTPS. */
    pullSecret?: string;
}

/** The repository's Flux, as read from its flux-operator and flux-instance releases. */
export interface RepositoryFlux {
    /** Index of the flux-operator release in `platform.releases`. */
    operator: number;
    /** Index of the flux-instance release; always after the operator. */
    instance: number;
    sync: InstanceSync;
    /** The Flux distribution the instance follows (`instance.distribution.version`, or the chart's `2.x`). */
    version: string;
    /** The controllers the instance runs. */
    components: string[];
}

/** What the instance is checked against. */
export interface RepositoryFluxCheck {
    gitops: Pick<GitOpsConfig, "repository" | "owner" | "repositoryName" | "branch" | "path">;
    /** `flux.imageAutomation`: must agree with whether the instance runs image-automation-controller. */
    imageAutomation: boolean;
    /** Variables known before anything is registered (the cluster's own): the fields checked may use these only. */
    known: Record<string, pulumi.Input<string>>;
}


/** `spec.values` with the variables known up front substituted; every other variable stands as a marker. */
export function valuesKnownUpFront(release: AppRelease, known: Record<string, pulumi.Input<string>>): Record<string, unknown> {
    const vars = knownNow(known);
    for (const v of release.variables) if (!(v in vars)) vars[v] = unknownStandIn(v);
    return renderValues(release, vars, false);
}

/** A string value at `dotted` under `spec.values`; refuses a non-string and a value built from an unknown variable. */
function valueAt(values: Record<string, unknown>, dotted: string, file: string): string | undefined {
    let v: unknown = values;
    for (const k of dotted.split(".")) v = isRecord(v) ? v[k] : undefined;
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new AppProblem(`${file}: spec.values.${dotted} must be a string`);
    const unknown = unknownVariableIn(v);
    if (unknown !== undefined) {
        throw new AppProblem(`${file}: spec.values.${dotted} uses \${${unknown}}, which is known only once the stack's resources exist; ` +
            "write it out, or use only the cluster's own variables (cluster-vars from cluster.*)");
    }
    return v;
}

/** How a sync URL fetches: `ssh://` with a deploy key, `https://` anonymously; undefined for anything else. */
export function syncTransport(url: string): GitTransport | undefined {
    return /^ssh:\/\//i.test(url) ? "ssh" : /^https:\/\//i.test(url) ? "https" : undefined;
}

/**
 * Why a sync URL is not `gitops.repository` on github.com, over SSH (`ssh://git@github.com/<owner>/<name>`, read with
 * the program's deploy key) or HTTPS (`https://github.com/<owner>/<name>`, a public repository read anonymously), or
 * undefined when it is.
 */
export function syncUrlProblem(url: string, gitops: RepositoryFluxCheck["gitops"]): string | undefined {
    const expected = repositoryUrl(gitops.owner, gitops.repositoryName);
    const https = repositoryHttpsUrl(gitops.owner, gitops.repositoryName);
    const repo = "cluster-bootstrap:gitops.repository";
    if (/^http:\/\//i.test(url)) {
        return `is a plain HTTP URL: use ${expected} (with the program's deploy key), or ${https} for a public repository`;
    }
    if (/^[^/:]+@[^/:]+:/.test(url)) return `is an scp-like address, which Flux does not take: use ${expected}`;
    const m = /^(?:ssh:\/\/git@github\.com|https:\/\/github\.com)\/([^/]+)\/([^/]+?)(?:\.git)?$/i.exec(url);
    if (!m) {
        return `is not ${expected}: the program's deploy key is for ${repo} ${gitops.repository} on github.com, over SSH ` +
            `(or, for a public repository, ${https} over HTTPS with no pull secret)`;
    }
    if (m[1].toLowerCase() !== gitops.owner.toLowerCase() || m[2].toLowerCase() !== gitops.repositoryName.toLowerCase()) {
        return syncTransport(url) === "https"
            ? `is ${m[1]}/${m[2]}, not ${repo} ${gitops.repository}: Flux must sync the repository the program read this file from (use ${https})`
            : `is ${m[1]}/${m[2]}, not ${repo} ${gitops.repository}: the program's deploy key reads exactly that repository (use ${expected})`;
    }
    return undefined;
}

/** Problems with the instance's `spec.sync` (`sync` is filled as it is read), each `<field> <value> <rule>`. */
function syncProblems(at: (dotted: string) => string | undefined, sync: InstanceSync, check: RepositoryFluxCheck): string[] {
    const problems: string[] = [];
    const { gitops } = check;
    const kind = at("instance.sync.kind") ?? INSTANCE_CHART_DEFAULTS.syncKind;
    if (kind !== "GitRepository") {
        problems.push(`spec.values.instance.sync.kind ${quoted(kind)} is not supported: the program provides a Git deploy key, so the ` +
            "instance syncs a GitRepository");
    }
    const urlProblem = syncUrlProblem(sync.url, gitops);
    if (urlProblem) problems.push(`spec.values.instance.sync.url ${quoted(sync.url)} ${urlProblem}`);
    // An unusable URL is judged as SSH, the program's default, for what follows.
    sync.transport = urlProblem ? "ssh" : syncTransport(sync.url)!;

    const wantRef = `refs/heads/${gitops.branch}`;
    sync.ref = at("instance.sync.ref") ?? "";
    if (sync.ref !== wantRef) {
        problems.push(`spec.values.instance.sync.ref ${sync.ref ? quoted(sync.ref) : "is not set and"} must be ${wantRef}: Flux must ` +
            "sync cluster-bootstrap:gitops.branch, the branch the program read this file from");
    }
    const path = at("instance.sync.path");
    sync.path = path === undefined ? "" : normaliseRepoPath(path);
    if (sync.path !== gitops.path) {
        problems.push(`spec.values.instance.sync.path ${path === undefined ? "is not set and" : quoted(path)} must be ` +
            `cluster-bootstrap:gitops.path ${quoted(gitops.path)}: both name the directory the cluster applies`);
    }
    sync.pullSecret = at("instance.sync.pullSecret");
    if (sync.transport === "https") {
        // Over HTTPS, Flux reads a pull secret as a username and password or a bearer token, which the program never makes.
        if (sync.pullSecret !== undefined) {
            problems.push(`spec.values.instance.sync.pullSecret ${quoted(sync.pullSecret)} is set with an HTTPS sync.url, where Flux ` +
                "would read it as a username and password or a token; the program provides only SSH deploy keys: remove pullSecret to " +
                `read the public repository anonymously, or sync ${repositoryUrl(gitops.owner, gitops.repositoryName)} with it`);
        }
        sync.pullSecret = undefined;
    } else if (!sync.pullSecret) {
        problems.push("spec.values.instance.sync.pullSecret is required: name the Secret the program fills with the deploy key " +
            "(identity, identity.pub, known_hosts), for example github-deploy-key");
    } else if (!isKubernetesName(sync.pullSecret)) {
        problems.push(`spec.values.instance.sync.pullSecret ${quoted(sync.pullSecret)} is not a valid Secret name`);
    } else if (RESERVED_SECRETS.includes(sync.pullSecret)) {
        problems.push(`spec.values.instance.sync.pullSecret ${quoted(sync.pullSecret)} names another Secret the program fills ` +
            `(${RESERVED_SECRETS.join(", ")}): choose another, for example github-deploy-key`);
    }
    const provider = at("instance.sync.provider");
    if (provider !== undefined) {
        problems.push(`spec.values.instance.sync.provider ${quoted(provider)} is not supported: Flux would authenticate through it ` +
            "instead of the deploy key the program provides");
    }
    const name = at("instance.sync.name");
    if (name !== undefined) {
        if (isKubernetesName(name) && name.length <= 63) sync.name = name;
        else problems.push(`spec.values.instance.sync.name ${quoted(name)} is not a valid object name (63 characters at most)`);
    }
    return problems;
}

/** The instance's sync, version and components; throws {@link AppProblem}, one problem a line, each naming the file. */
function instanceOf(release: AppRelease, check: RepositoryFluxCheck): Omit<RepositoryFlux, "operator" | "instance"> {
    const values = valuesKnownUpFront(release, check.known);
    const at = (dotted: string) => valueAt(values, dotted, release.file);
    const problems: string[] = [];

    const fullname = values.fullnameOverride;
    if (fullname !== undefined && fullname !== INSTANCE_CHART_DEFAULTS.fullnameOverride) {
        problems.push(`spec.values.fullnameOverride ${quoted(fullname)} would name the FluxInstance otherwise than ` +
            `${FLUX_INSTANCE_NAME}, the one name the Flux Operator accepts`);
    }

    const url = at("instance.sync.url");
    const sync: InstanceSync = { name: FLUX_NAMESPACE, url: url ?? "", transport: "ssh", ref: "", path: "" };
    if (url === undefined) {
        // The chart renders no `spec.sync` without a URL: nothing else of the sync is worth reporting then.
        problems.push(`spec.values.instance.sync.url is required: with cluster-bootstrap:flux.managedBy "repository" the ` +
            `FluxInstance syncs the repository itself (instance.sync: kind GitRepository, url ` +
            `${repositoryUrl(check.gitops.owner, check.gitops.repositoryName)}, ref refs/heads/${check.gitops.branch}, path ` +
            `${check.gitops.path}, pullSecret <Secret name>)`);
    } else {
        problems.push(...syncProblems(at, sync, check));
    }

    const version = at("instance.distribution.version") ?? INSTANCE_CHART_DEFAULTS.version;
    if (!/^\d[\w.*+-]*$/.test(version) || semver.validRange(version) === null) {
        problems.push(`spec.values.instance.distribution.version ${quoted(version)} is not a Flux version or semver range such as 2.7.x`);
    }
    const given = isRecord(values.instance) ? values.instance.components : undefined;
    let components: string[] = [...INSTANCE_CHART_DEFAULTS.components];
    if (given !== undefined && given !== null) {
        if (Array.isArray(given) && given.every((c) => typeof c === "string")) components = given;
        else problems.push("spec.values.instance.components must be a list of controller names");
    }
    const pushes = components.includes(IMAGE_AUTOMATION);
    if (url !== undefined && sync.transport === "https" && (pushes || check.imageAutomation)) {
        // Pushing needs a credential, and an HTTPS sync has none.
        const ssh = repositoryUrl(check.gitops.owner, check.gitops.repositoryName);
        problems.push(check.imageAutomation
            ? "cluster-bootstrap:flux.imageAutomation is true, but spec.values.instance.sync.url is HTTPS: image-automation-controller " +
                "pushes to the repository, which needs a credential, and the program provides one only as an SSH deploy key: sync " +
                `${ssh} with a pullSecret, or set cluster-bootstrap:flux.imageAutomation to false`
            : `the FluxInstance runs ${IMAGE_AUTOMATION}, which pushes to Git, but spec.values.instance.sync.url is HTTPS, with no ` +
                "credential to push with: remove the controller, or sync over SSH with a pullSecret and set " +
                "cluster-bootstrap:flux.imageAutomation to true");
    } else if (pushes && !check.imageAutomation) {
        problems.push(`the FluxInstance runs ${IMAGE_AUTOMATION}, which pushes to Git: set cluster-bootstrap:flux.imageAutomation to ` +
            "true to give the deploy key write access, or remove the controller");
    } else if (!pushes && check.imageAutomation) {
        problems.push(`cluster-bootstrap:flux.imageAutomation is true, but the FluxInstance does not run ${IMAGE_AUTOMATION}: the ` +
            "deploy key would be writable for nothing");
    }
    if (problems.length > 0) throw new AppProblem(problems.map((p) => `${release.file}: ${p}`).join("\n"));
    return { sync, version, components };
}

/**
 * Finds the repository's flux-operator and flux-instance among the platform releases (by chart) and checks what the
 * program relies on: both in flux-system, the operator first, the instance syncing `gitops.repository` at
 * `gitops.branch` and `gitops.path`, over SSH with a pull secret or over HTTPS without one. Throws {@link ConfigError}
 * listing every problem, each naming `cluster-bootstrap:platform.releases[i]` and the file, before anything is registered.
 */
export function repositoryFlux(releases: AppRelease[], check: RepositoryFluxCheck): RepositoryFlux {
    const problems: string[] = [];
    const find = (chart: string) => releases.flatMap((r, i) => (chartName(r.chart) === chart ? [i] : []));
    const operators = find(FLUX_OPERATOR_CHART_NAME);
    const instances = find(FLUX_INSTANCE_CHART_NAME);
    const list = "cluster-bootstrap:platform.releases";
    for (const [chart, found] of [[FLUX_OPERATOR_CHART_NAME, operators], [FLUX_INSTANCE_CHART_NAME, instances]] as const) {
        if (found.length === 0) {
            problems.push(`${list}: has no ${chart} release (an app directory whose HelmRelease installs the ${chart} chart), which ` +
                `cluster-bootstrap:flux.managedBy "repository" needs: add its app directory, e.g. kubernetes/apps/${FLUX_NAMESPACE}/${chart}/app`);
        }
        for (const i of found.slice(1)) problems.push(`${platformKey(i)}: installs ${chart} again (${platformKey(found[0])} does): Flux runs once`);
        for (const i of found) {
            if (releases[i].namespace !== FLUX_NAMESPACE) {
                problems.push(`${platformKey(i, "namespace")}: ${quoted(releases[i].namespace)} must be ${FLUX_NAMESPACE} for ${chart}: the ` +
                    "FluxInstance lives with the operator, next to the Secrets, cluster-vars and Receiver the program creates there");
            }
        }
    }
    const [operator] = operators;
    const [instance] = instances;
    if (operator !== undefined && instance !== undefined && instance < operator) {
        problems.push(`${platformKey(instance)}: flux-instance comes before flux-operator (${platformKey(operator)}): the FluxInstance ` +
            "CRD comes with the operator, so list the operator first");
    }
    let found: Omit<RepositoryFlux, "operator" | "instance"> | undefined;
    if (instance !== undefined) {
        try {
            found = instanceOf(releases[instance], check);
        } catch (e) {
            if (!(e instanceof AppProblem)) throw e;
            problems.push(...e.message.split("\n").map((m) => `${platformKey(instance)}: ${m}`));
        }
    }
    if (problems.length > 0 || !found) throw new ConfigError(problems);
    return { operator, instance, ...found };
}

/**
 * With the program's own Flux (`flux.managedBy: program`), a platform release of the flux-operator or flux-instance chart
 * would be a second owner of the operator or the FluxInstance. Throws {@link ConfigError} naming each such entry.
 */
export function refuseRepositoryFlux(releases: AppRelease[]): void {
    const problems = releases.flatMap((r, i) => {
        const chart = chartName(r.chart);
        if (chart !== FLUX_OPERATOR_CHART_NAME && chart !== FLUX_INSTANCE_CHART_NAME) return [];
        return [`${platformKey(i)}: installs ${chart} (${r.file}), but with cluster-bootstrap:flux.managedBy "program" the program ` +
            `installs Flux itself, and the two would fight over it: set cluster-bootstrap:flux.managedBy to "repository", or remove the entry`];
    });
    if (problems.length > 0) throw new ConfigError(problems);
}
