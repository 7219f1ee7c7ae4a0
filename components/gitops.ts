// The handoff: a deploy key on the GitOps repository, the Secrets Flux needs to read and decrypt it, and the
// GitRepository and root Kustomization that make Flux own every later delivery. `pulumi up` waits until both
// report Ready, so a finished run proves that the key, the host keys and the path really work. A public repository
// may be fetched over HTTPS instead (`gitops.transport: https`, or the repository's own FluxInstance syncing an
// https:// URL): then there is no deploy key, no key pair and no deploy-key Secret, and Flux reads anonymously.
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { GitOpsConfig, GitTransport } from "../config";
import { programAwaitAnnotations, type ReadyWait } from "../cluster/flux-await";
import { rotationOptions } from "../providers/rotation";
import { DEPLOY_KEY_SECRET, GITHUB_SSH_HOST, repositoryHttpsUrl, repositoryUrl, SOPS_AGE_SECRET } from "../config/names";

/** Root Kustomization timings: drift correction every 10m, a failed apply retried after 1m, 5m per apply. */
export const ROOT_KUSTOMIZATION_TIMING = { interval: "10m", retryInterval: "1m", timeout: "5m" } as const;

/** Title of the deploy key on GitHub: one per cluster, so two clusters reading one repo never collide. */
export function deployKeyTitle(clusterName: string): string {
    return `flux-${clusterName}`;
}

/** Flux only pushes to Git for image automation; otherwise the key stays read-only. */
export function deployKeyReadOnly(imageAutomation: boolean): boolean {
    return !imageAutomation;
}

/**
 * known_hosts from GitHub's published host keys (the meta API's `ssh_keys`, `<type> <base64>` each), one line
 * per key. Refuses an empty or malformed list: Flux must never learn the host key on first use.
 */
export function knownHosts(keys: readonly string[]): string {
    if (keys.length === 0) throw new Error("GitHub published no SSH host keys; refusing to build known_hosts without them");
    for (const key of keys) {
        if (!/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) \S+$/.test(key.trim())) {
            throw new Error(`unexpected GitHub SSH host key ${JSON.stringify(key)}`);
        }
    }
    return keys.map((k) => `${GITHUB_SSH_HOST} ${k.trim()}`).join("\n") + "\n";
}

/**
 * Annotations on the GitRepository and root Kustomization: the provider applies them and returns; the program waits
 * for Ready (cluster/flux-await.ts), bounded by `gitops.timeout`, unless `gitops.wait` is false.
 */
export function awaitAnnotations(wait: boolean, timeoutSeconds: number): Record<string, string> {
    return programAwaitAnnotations(wait ? timeoutSeconds : undefined);
}

/** How the GitRepository fetches: over SSH with the deploy key's Secret, or over HTTPS with no credential. */
export type GitAccess<S> = { transport: "ssh"; secretName: S } | { transport: "https" };

/** The URL Flux fetches the repository from, by transport. */
export function fetchUrl(gitops: Pick<GitOpsConfig, "owner" | "repositoryName">, transport: GitTransport): string {
    return transport === "ssh" ? repositoryUrl(gitops.owner, gitops.repositoryName) : repositoryHttpsUrl(gitops.owner, gitops.repositoryName);
}

/** `spec` of the GitRepository (source.toolkit.fluxcd.io/v1). */
export function gitRepositorySpec<S extends pulumi.Input<string> = string>(
    gitops: Pick<GitOpsConfig, "owner" | "repositoryName" | "branch" | "interval">,
    access: GitAccess<S>,
) {
    return {
        url: fetchUrl(gitops, access.transport),
        ref: { branch: gitops.branch },
        interval: gitops.interval,
        // Over HTTPS, no secretRef: source-controller then clones without credentials.
        ...(access.transport === "ssh" ? { secretRef: { name: access.secretName } } : {}),
    };
}

/** What the root Kustomization refers to; each name should carry its object as a dependency. */
export interface KustomizationRefs<S> {
    source: S;
    sopsSecret: S;
    vars: S;
    secrets: S;
}

/** `spec` of the root Kustomization (kustomize.toolkit.fluxcd.io/v1). */
export function kustomizationSpec<S extends pulumi.Input<string>>(path: string, refs: KustomizationRefs<S>) {
    return {
        ...ROOT_KUSTOMIZATION_TIMING,
        path: `./${path}`,
        prune: true,
        // Ready as soon as the root is applied; the repo's own Kustomizations report their health themselves.
        wait: false,
        sourceRef: { kind: "GitRepository" as const, name: refs.source },
        decryption: { provider: "sops" as const, secretRef: { name: refs.sopsSecret } },
        postBuild: {
            substituteFrom: [
                { kind: "ConfigMap" as const, name: refs.vars },
                { kind: "Secret" as const, name: refs.secrets },
            ],
        },
    };
}

export interface GitOpsHandoffArgs {
    /** `cluster-bootstrap:gitops`: repository, branch, path, object name, interval, wait and timeout. */
    gitops: GitOpsConfig;
    /** Cluster name; titles the deploy key. */
    clusterName: string;
    /**
     * How Flux fetches the repository: `ssh` with the deploy key made here, or `https` with none (a public repository;
     * no key pair, deploy key or deploy-key Secret is created). `gitops.transport` with the program's Flux; with
     * `repositorySync`, what the FluxInstance's `sync.url` says.
     */
    transport: GitTransport;
    /** `flux.imageAutomation`: the deploy key may push only when image automation is on (never with `https`). */
    imageAutomation: boolean;
    /** Secret age identity for SOPS decryption. */
    sopsAgeKey: pulumi.Output<string>;
    /** flux-system, as the FluxInstall's output (carries the dependency on the namespace). */
    namespace: pulumi.Input<string>;
    /**
     * The FluxInstance: the GitRepository and Kustomization are created only once Flux is Ready. Unset exactly when
     * `repositorySync` is set: the repository's FluxInstance then creates them itself.
     */
    fluxReady?: pulumi.Resource;
    /**
     * Set when the repository runs Flux (`flux.managedBy: repository`): its FluxInstance's `spec.sync` creates the
     * GitRepository and Kustomization (named `name`) and reads the deploy key from the Secret `pullSecret` (set exactly
     * with `ssh`). Only the key and the Secrets are created here, and `prerequisites` go before the flux-instance release.
     */
    repositorySync?: { name: string; pullSecret?: string };
    /** Names of the ConfigMap and Secret of the contract, as outputs of the objects themselves. */
    contract: { configMapName: pulumi.Input<string>; secretName: pulumi.Input<string> };
    /** `rotation.deployKey`: a new value replaces the key, on GitHub and in Flux's Secret, create-before-delete. */
    rotation?: string;
    /** What the first reconcile needs in place (secret zero for the cluster's secret store): the root Kustomization waits for it. */
    beforeReconcile?: pulumi.Resource[];
    /** How `pulumi up` waits for the Flux objects: hooks that poll the cluster the run verified (cluster/flux-await.ts). */
    wait: ReadyWait;
}

/**
 * Deploy key, its Secret, the sops-age Secret, the GitRepository and the root Kustomization. In-cluster objects
 * are retained on delete. Pass the Kubernetes provider in `opts.provider`; GitHub uses the stack's provider config
 * (`github:owner`, `github:token`).
 */
export class GitOpsHandoff extends pulumi.ComponentResource {
    /** The URL Flux clones: `ssh://git@github.com/…`, or `https://github.com/…` over HTTPS. */
    public readonly repositoryUrl: string;
    public readonly branch: string;
    /** Path of the root Kustomization inside the repository. */
    public readonly path: string;
    /** Name of the GitRepository (and root Kustomization), known before they exist: naming it waits on nothing. */
    public readonly gitRepositoryName: string;
    /** The GitRepository; Ready (when waiting) means Flux fetched the branch (with the deploy key over SSH). None with `repositorySync`. */
    public readonly gitRepository?: k8s.apiextensions.CustomResource;
    /** The root Kustomization. None with `repositorySync`. */
    public readonly kustomization?: k8s.apiextensions.CustomResource;
    /** What Flux needs before its first fetch: the key on GitHub and the deploy-key Secret (over SSH), sops-age. */
    public readonly prerequisites: pulumi.Resource[];
    /** SHA256 fingerprint of the deploy key, as GitHub shows it; undefined over HTTPS, where there is none. */
    public readonly deployKeyFingerprint?: pulumi.Output<string>;
    /** The deploy key's public half (OpenSSH format); undefined over HTTPS. */
    public readonly deployKeyPublic?: pulumi.Output<string>;
    /** The deploy key's id on GitHub (`<repository>:<key id>`), what a later `adopt` recognises as this stack's own; undefined over HTTPS. */
    public readonly deployKeyId?: pulumi.Output<string>;

    constructor(name: string, args: GitOpsHandoffArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:gitops:GitOpsHandoff", name, {}, opts);
        const { gitops } = args;
        const retain = { parent: this, retainOnDelete: true };
        if ((args.fluxReady === undefined) === (args.repositorySync === undefined)) {
            throw new pulumi.ResourceError("GitOpsHandoff takes exactly one of fluxReady and repositorySync", this);
        }
        const ssh = args.transport === "ssh";
        if (args.repositorySync && (args.repositorySync.pullSecret !== undefined) !== ssh) {
            throw new pulumi.ResourceError("GitOpsHandoff takes repositorySync.pullSecret exactly over SSH", this);
        }
        if (!ssh && args.imageAutomation) {
            throw new pulumi.ResourceError("GitOpsHandoff cannot give image automation a credential over HTTPS", this);
        }

        // Over SSH: the deploy key, and its Secret for Flux. Over HTTPS: neither, nor the key pair behind them.
        const withKey = ssh ? this.deployKey(name, args, retain) : undefined;
        this.deployKeyPublic = withKey?.publicKey;

        const sopsAge = new k8s.core.v1.Secret(`${name}-sops-age`, {
            metadata: { name: SOPS_AGE_SECRET, namespace: args.namespace },
            type: "Opaque",
            stringData: pulumi.secret(args.sopsAgeKey.apply((k) => ({ "age.agekey": k }))),
        }, retain);

        const annotations = awaitAnnotations(gitops.wait, gitops.timeoutSeconds);
        const awaited = args.wait(gitops.wait ? gitops.timeoutSeconds : undefined);
        // None when the repository's FluxInstance syncs itself (`repositorySync`).
        this.gitRepository = args.fluxReady === undefined ? undefined
            : new k8s.apiextensions.CustomResource(`${name}-source`, {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            metadata: { name: gitops.name, namespace: args.namespace, annotations },
            spec: gitRepositorySpec(gitops, withKey ? { transport: "ssh", secretName: withKey.secret.metadata.name } : { transport: "https" }),
        }, {
            ...retain,
            // The CRD must exist, and the key must be on GitHub before Flux first tries it.
            dependsOn: [args.fluxReady, ...(withKey ? [withKey.deployKey] : [])],
            ...awaited,
        });

        this.kustomization = args.fluxReady === undefined || this.gitRepository === undefined ? undefined
            : new k8s.apiextensions.CustomResource(`${name}-root`, {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: { name: gitops.name, namespace: args.namespace, annotations },
            spec: kustomizationSpec(gitops.path, {
                source: this.gitRepository.metadata.name,
                sopsSecret: sopsAge.metadata.name,
                vars: args.contract.configMapName,
                secrets: args.contract.secretName,
            }),
        }, { ...retain, dependsOn: [args.fluxReady, ...(args.beforeReconcile ?? [])], ...awaited });

        this.repositoryUrl = fetchUrl(gitops, args.transport);
        this.branch = gitops.branch;
        this.path = gitops.path;
        this.gitRepositoryName = args.repositorySync?.name ?? gitops.name;
        this.prerequisites = [...(withKey ? [withKey.deployKey, withKey.secret] : []), sopsAge];
        this.deployKeyFingerprint = withKey?.fingerprint;
        this.deployKeyId = withKey?.deployKey.id;
        this.registerOutputs({
            repositoryUrl: this.repositoryUrl,
            branch: this.branch,
            path: this.path,
            gitRepositoryName: this.gitRepositoryName,
            ...(withKey ? { deployKeyFingerprint: this.deployKeyFingerprint, deployKeyPublic: this.deployKeyPublic } : {}),
        });
    }

    /** The key pair, the deploy key on GitHub and the Secret Flux reads it from (SSH only). */
    private deployKey(name: string, args: GitOpsHandoffArgs, retain: pulumi.CustomResourceOptions) {
        const { gitops } = args;
        const title = deployKeyTitle(args.clusterName);
        const readOnly = deployKeyReadOnly(args.imageAutomation);
        // GitHub refuses a public key it already has, and every input of a deploy key forces a new one: so whatever
        // replaces the deploy key (title, repository, access) replaces this key too, and the new deploy key can be
        // added before the old one is removed.
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ED25519" }, {
            parent: this,
            ...rotationOptions(args.rotation, { repository: gitops.repository, title, readOnly }),
        });
        const publicKey = key.publicKeyOpenssh.apply((k) => k.trim());

        // Create-before-delete: Flux holds a key GitHub accepts at every moment of a rotation.
        const deployKey = new github.RepositoryDeployKey(`${name}-deploy-key`, {
            repository: gitops.repositoryName,
            title,
            key: publicKey,
            readOnly,
        }, { parent: this });

        const hostKeys = github.getSshKeysOutput({ parent: this }).apply((r) => knownHosts(r.keys));
        const secret = new k8s.core.v1.Secret(`${name}-deploy-key-secret`, {
            metadata: { name: args.repositorySync?.pullSecret ?? DEPLOY_KEY_SECRET, namespace: args.namespace },
            type: "Opaque",
            stringData: pulumi.secret(pulumi.all([key.privateKeyOpenssh, publicKey, hostKeys])
                .apply(([identity, pub, hosts]) => ({ identity, "identity.pub": pub, known_hosts: hosts }))),
        }, {
            ...retain,
            // A rotated key reaches Flux only once GitHub has it.
            dependsOn: [deployKey],
        });
        return { publicKey, fingerprint: key.publicKeyFingerprintSha256, deployKey, secret };
    }
}
