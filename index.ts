// The stack as a dependency graph: validated config first, then each capability gets exactly what it needs.
// Pulumi calls the exported function and takes what it returns as the stack outputs.
import type * as github from "@pulumi/github";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readyWait, type ReadyWait } from "./cluster/flux-await";
import { existingOperatorRelease } from "./cluster/operator-release";
import { handoverReport, readHandover } from "./cluster/handover";
import { verifyClusterIdentity } from "./cluster/identity";
import { ClusterAccess } from "./components/access";
import { adoptExisting, CREDENTIAL_DIGESTS_OUTPUT, IMPORT_IDS_OUTPUT } from "./components/adopt";
import { BackupBuckets } from "./components/backups";
import { BootstrapSecrets } from "./components/bootstrap-secrets";
import { ClusterContract, clusterPart, type ContractPart } from "./components/contract";
import { DnsToken } from "./components/dns-token";
import { ClusterEdge } from "./components/edge";
import { FluxInstall, FLUX_READY_TIMEOUT_SECONDS } from "./components/flux";
import { FluxHandover, FluxNamespace } from "./components/flux-handover";
import { GitOpsHandoff } from "./components/gitops";
import { connectHub } from "./components/hub";
import { PlatformReleases, readPlatform, refuseUnsubstitutable, strictSubstitution, type PlatformRead } from "./components/platform";
import { contractOutline } from "./components/contract-outline";
import { PushReconcile } from "./components/webhook";
import { loadConfig, type FluxConfig, type StackConfig } from "./config";
import { liveContext, type ProgramContext } from "./context";
import { refuseRepositoryFlux, repositoryFlux, type RepositoryFlux } from "./flux/repository-check";
import { githubProvider } from "./providers/github";
import { kubernetesProvider } from "./providers/kubernetes";
import { credentialDigest } from "./providers/adoption";
import { serviceTokenSecretRotations } from "./providers/rotation";

async function clusterBootstrap(ctx: ProgramContext = liveContext()) {
    // Throws with every problem, each naming its key, before anything is registered.
    const cfg = await loadConfig({ placeholders: ctx.placeholders, note: ctx.note });
    // Says which cluster this run changes, and refuses another stack's cluster before anything is registered.
    const cluster = await verifyClusterIdentity({
        stack: cfg.stack,
        clusterName: cfg.cluster.name,
        kubeconfig: cfg.kubeconfig,
        context: cfg.kubeContext,
        renameFrom: cfg.renameFrom,
    }, ctx.cluster, ctx.note);
    // `pulumi up` waits for each Flux object on that cluster, and on no other.
    const wait = readyWait(cluster.target);
    // A spoke reads its hub's stack (infra, run first) and stops here if the hub does not open what it sends to.
    const hub = cfg.hub && await connectHub("hub", { hub: cfg.hub });

    // The platform releases' app directories, the files they apply and the CRD entries' app directories, read from the
    // GitOps repository at gitops.branch with the stack's GitHub token before anything is registered, so a missing file
    // or an unsupported HelmRelease is a config error like any other.
    const platform = await readPlatform(cfg.platform, {
        files: ctx.github({ repository: cfg.gitops.repository, branch: cfg.gitops.branch, token: cfg.githubToken }),
        known: clusterPart(cfg.cluster).vars,
    });
    const platformReleases = platform.releases;
    // Who runs Flux, checked against the releases just read: the repository's own flux-operator and flux-instance, their
    // sync against gitops.* (`flux.managedBy: repository`), or the program, with no release of those charts.
    const fluxMode: FluxMode = cfg.flux.managedBy === "repository"
        ? {
            managedBy: "repository",
            repository: repositoryFlux(platformReleases, {
                gitops: cfg.gitops,
                imageAutomation: cfg.flux.imageAutomation,
                known: clusterPart(cfg.cluster).vars,
            }),
        }
        : { managedBy: "program", flux: cfg.flux };
    // With the program's Flux the repository must not bring its own: two owners of one FluxInstance.
    if (fluxMode.managedBy === "program") refuseRepositoryFlux(platformReleases);
    // What Flux has taken over has one owner now: read from the verified cluster, with the identity check's client,
    // before any of the cluster's objects is registered; those releases are said, listed and not registered.
    const handover = await readHandover(ctx.cluster, cluster.target, platformReleases,
        fluxMode.managedBy === "repository" ? fluxMode.repository : undefined, platform.crds);
    const report = handoverReport(platformReleases, handover.takeovers, platform.crds, handover.crdTakeovers);
    report.notes.forEach((n) => ctx.note(n));
    report.handedOver.forEach((h) => ctx.handedOver(h));
    // Flux's rule for an unset variable, of the Flux the cluster runs; what it would refuse in the files just read is
    // refused now, against the names cluster-vars and cluster-secrets will hold, before anything is registered.
    const strict = strictSubstitution(fluxMode.managedBy === "repository" ? fluxMode.repository.version : fluxMode.flux.version);
    refuseUnsubstitutable(platform, contractOutline(cfg), strict, { releases: report.takenOver, crds: report.crdsTakenOver });
    // `adopt` with the program's own Flux: an operator release the cluster already runs (a lost state) is imported.
    const operatorImportId = cfg.adopt && fluxMode.managedBy === "program" ? await existingOperatorRelease(ctx.cluster, cluster.target) : undefined;
    if (operatorImportId) ctx.note(`cluster-bootstrap:adopt: the Flux Operator's Helm release ${operatorImportId} runs already: imported and upgraded in place`);

    // The repository's owner, never the token's user: the deploy key and the webhook go through it.
    const ghProvider = githubProvider("github", { owner: cfg.gitops.owner, token: cfg.githubToken });
    // `adopt` (one run): what already exists in the account is found by name and imported instead of created; an
    // unclear case stops the run here, before any of it is registered.
    const adopt = cfg.adopt ? await adoptExisting({
        cfg, github: ghProvider, existing: ctx.existing, note: ctx.note,
        // A deploy key is made only over SSH: its namesakes matter only then.
        deployKey: (fluxMode.managedBy === "repository" ? fluxMode.repository.sync.transport : cfg.gitops.transport) === "ssh",
    }) : undefined;

    // Backups outlive the cluster: protected, retained buckets and an object-only token scoped to them.
    const backups = new BackupBuckets("backups", {
        accountId: cfg.cloudflareAccountId,
        r2: cfg.r2,
        clusterName: cfg.cluster.name,
        // Rotation: a new `rotation.backupToken` replaces the token and the S3 credentials in cluster-secrets.
        rotation: cfg.rotation.backupToken,
        adopt: adopt?.buckets,
    });

    // Cloudflare Access in front of chosen hostnames, with service tokens for machines (the hub's spokes).
    const access = cfg.access && new ClusterAccess("access", {
        accountId: cfg.cloudflareAccountId,
        clusterName: cfg.cluster.name,
        access: cfg.access,
        // Rotation: a new `rotation.accessServiceTokens.<name>.version` gives that token a new client secret, the old
        // one accepted until `previousSecretExpiresAt`.
        secretRotations: serviceTokenSecretRotations(cfg.rotation),
        adopt,
    });

    // The only way in: the cluster's own tunnel, its routes and their CNAMEs; no public port anywhere.
    const edge = new ClusterEdge("edge", {
        accountId: cfg.cloudflareAccountId,
        clusterName: cfg.cluster.name,
        domain: cfg.cluster.domain,
        tunnel: cfg.tunnel,
        // Rotation: a new `rotation.tunnelSecret` gives the same tunnel a new secret and connector token.
        rotation: cfg.rotation.tunnelSecret,
        // cloudflared checks the Access token itself on each rule of a protected hostname.
        access: access?.ruleAccess,
        adopt,
    });

    // The cluster's DNS credential for external-dns and cert-manager: Zone Read and DNS Write on its zone, nothing else.
    const dns = new DnsToken("dns", {
        accountId: cfg.cloudflareAccountId,
        clusterName: cfg.cluster.name,
        zoneId: edge.zoneId,
        // Rotation: a new `rotation.dnsToken` replaces the token and CLOUDFLARE_DNS_TOKEN in cluster-secrets.
        rotation: cfg.rotation.dnsToken,
    });

    // The one Kubernetes provider, and the only reader of the kubeconfig: every in-cluster object goes through it.
    const k8sProvider = kubernetesProvider("k8s", { clusterName: cfg.cluster.name, kubeconfig: cfg.kubeconfig, context: cfg.kubeContext });
    // cluster-vars and cluster-secrets: each capability's keys, built in one place (contractOutline names the same parts
    // ahead of their resources).
    const contractParts = [
        clusterPart(cfg.cluster),
        edge.contract,
        backups.contract,
        dns.contract,
        // the hub's URLs and service token, on a spoke
        ...(hub ? [hub.contract] : []),
    ];

    // Flux, one wiring per mode (below): both end with flux-system, the contract and secret zero in it, the handoff's
    // deploy key and Secrets, and the object the Receiver waits for.
    const shared: FluxWiring = {
        cfg, wait, platform, takenOver: report.takenOver, crdsTakenOver: report.crdsTakenOver, clusterUid: handover.clusterUid,
        parts: contractParts, strict, operatorImportId, k8s: k8sProvider, github: ghProvider,
    };
    const flux = fluxMode.managedBy === "program" ? programFlux(shared, fluxMode.flux) : repositoryRunsFlux(shared, fluxMode.repository);

    // A push reconciles in seconds: GitHub calls Flux's Receiver through the tunnel's flux-webhook route.
    const pushReconcile = new PushReconcile("push-reconcile", {
        namespace: flux.namespace,
        fluxReady: flux.ready,
        gitRepositoryName: flux.gitops.gitRepositoryName,
        repository: cfg.gitops.repositoryName,
        domain: cfg.cluster.domain,
        route: edge.webhookRoute,
        // Rotation: a new `rotation.webhookToken` replaces the token, the Receiver's path and GitHub's webhook URL.
        rotation: cfg.rotation.webhookToken,
        wait,
    }, { providers: [k8sProvider, ghProvider] });

    return {
        cluster: cfg.cluster.name,
        repositoryUrl: flux.gitops.repositoryUrl,
        branch: flux.gitops.branch,
        path: flux.gitops.path,
        // Only over SSH: a repository fetched over HTTPS has no deploy key.
        ...(flux.gitops.deployKeyFingerprint ? { deployKeyFingerprint: flux.gitops.deployKeyFingerprint } : {}),
        fluxVersion: flux.version,
        r2Endpoint: backups.endpoint,
        r2Buckets: backups.bucketNames,
        // Secret outputs, for a restore run from a workstation (`pulumi stack output --show-secrets`).
        r2AccessKeyId: backups.accessKeyId,
        r2SecretAccessKey: backups.secretAccessKey,
        tunnelId: edge.tunnelId,
        tunnelCname: edge.cnameTarget,
        tunnelHostnames: edge.hostnames,
        // Secret: the path derives from the webhook token.
        fluxWebhookUrl: pushReconcile.webhookUrl,
        // The platform releases' HelmRelease objects (`namespace/name`), installed or taken over: what `npm run verify`
        // expects Ready.
        platformReleases: platformReleases.map((r) => `${r.namespace}/${r.helmRelease}`),
        // With Access: what is protected, and (secret) the service tokens a spoke's stack reads as its hub's.
        ...(access ? {
            accessHostnames: access.hostnames,
            accessAudTags: access.audTags,
            hubHostnames: access.tokenHostnames,
            accessServiceTokens: access.serviceTokens,
            accessServiceTokenExpiry: access.tokenExpiry,
        } : {}),
        // On a spoke: the hub's URLs its repository gets as HUB_<NAME>_URL.
        ...(hub ? { hubUrls: hub.urls } : {}),
        // What a later run with `adopt` finds already in the state: the import ID of each adoptable Cloudflare object,
        // and (secret, as derived from the backup token's id) a digest of each credential's id, so that the stack's own
        // are never listed as old namesakes.
        [IMPORT_IDS_OUTPUT]: { ...backups.importIds, ...edge.importIds, ...(access ? access.importIds : {}) },
        [CREDENTIAL_DIGESTS_OUTPUT]: pulumi.secret(pulumi.all([
            backups.accessKeyId, dns.tokenId, pushReconcile.webhookId, ...(flux.gitops.deployKeyId ? [flux.gitops.deployKeyId] : []),
            ...(access ? Object.values(access.serviceTokenIds) : []),
        ]).apply((ids) => ids.map(credentialDigest).sort())),
    };
}

/** Who runs Flux, once the platform releases are read and checked. */
type FluxMode =
    | { managedBy: "program"; flux: FluxConfig }
    | { managedBy: "repository"; repository: RepositoryFlux };

/** What both Flux wirings take. */
interface FluxWiring {
    cfg: StackConfig;
    wait: ReadyWait;
    /** The platform releases, read and checked, in install order, with the objects they apply and the CRD entries. */
    platform: PlatformRead;
    /** Indexes of the releases Flux has taken over: not registered, nor what they apply. */
    takenOver: ReadonlySet<number>;
    /** Indexes of the CRD entries whose HelmRelease Flux has taken over: their CRDs are not registered. */
    crdsTakenOver: ReadonlySet<number>;
    /** The cluster's kube-system uid: a rebuilt cluster gets its releases installed again. */
    clusterUid: string;
    /** What each capability hands to Flux through cluster-vars and cluster-secrets. */
    parts: ContractPart[];
    /** Flux's rule for an unset variable without a default: fail, or substitute "" (see strictSubstitution). */
    strict: boolean;
    /** With `adopt`, the import ID of the operator release the cluster already runs (program mode). */
    operatorImportId?: string;
    k8s: k8s.Provider;
    github: github.Provider;
}

/** What both Flux wirings give the rest of the program. */
interface FluxWired {
    /** flux-system, as the namespace's output. */
    namespace: pulumi.Output<string>;
    gitops: GitOpsHandoff;
    /** Ready once Flux runs and has synced: the Receiver waits for it (nothing when Flux ran before this run). */
    ready: pulumi.Resource[];
    /** The Flux distribution version range the cluster follows. */
    version: string;
}

/** cluster-vars, cluster-secrets and secret zero, in flux-system. */
function inFluxNamespace(w: FluxWiring, namespace: pulumi.Output<string>) {
    const contract = new ClusterContract("contract", { namespace, parts: w.parts }, { provider: w.k8s });
    // Secret zero for the cluster's secret store, in place before Flux first reconciles; never waits for Flux.
    const bootstrapSecrets = w.cfg.bootstrapSecrets.length === 0 ? undefined
        : new BootstrapSecrets("bootstrap-secrets", { secrets: w.cfg.bootstrapSecrets, fluxNamespace: namespace }, { provider: w.k8s });
    return { contract, secretZero: bootstrapSecrets?.ready ?? [] };
}

/** The platform's arguments both wirings share: what was read, what Flux has taken over, the cluster. */
function platformArgs(w: FluxWiring) {
    return {
        releases: w.platform.releases,
        apply: w.platform.apply,
        crds: w.platform.crds,
        takenOver: w.takenOver,
        crdsTakenOver: w.crdsTakenOver,
        clusterUid: w.clusterUid,
        parts: w.parts,
        strict: w.strict,
    };
}

/** The handoff's common arguments: the deploy key and the Secrets Flux reads. */
function handoffArgs(w: FluxWiring, namespace: pulumi.Output<string>, contract: ClusterContract, secretZero: pulumi.Resource[]) {
    return {
        gitops: w.cfg.gitops,
        clusterName: w.cfg.cluster.name,
        imageAutomation: w.cfg.flux.imageAutomation,
        sopsAgeKey: w.cfg.sopsAgeKey,
        namespace,
        contract,
        // Rotation: a new `rotation.deployKey` replaces the deploy key on GitHub and in Flux's Secret.
        rotation: w.cfg.rotation.deployKey,
        beforeReconcile: secretZero,
        wait: w.wait,
    };
}

/**
 * The program runs Flux (default): the platform releases, then flux-system, the Flux Operator and a FluxInstance that
 * waits for Ready, then the GitRepository and root Kustomization.
 */
function programFlux(w: FluxWiring, config: FluxConfig): FluxWired {
    const platform = new PlatformReleases("platform", {
        ...platformArgs(w),
    }, { provider: w.k8s });
    const flux = new FluxInstall("flux", { flux: config, after: platform.last, wait: w.wait, operatorImportId: w.operatorImportId }, { provider: w.k8s });
    const { contract, secretZero } = inFluxNamespace(w, flux.namespace);
    const gitops = new GitOpsHandoff("gitops", {
        ...handoffArgs(w, flux.namespace, contract, secretZero), transport: w.cfg.gitops.transport, fluxReady: flux.ready,
    }, { providers: [w.k8s, w.github] });
    return { namespace: flux.namespace, gitops, ready: [flux.ready], version: flux.version };
}

/**
 * The repository runs Flux (`flux.managedBy: repository`, as in onedr0p/cluster-template): its own flux-operator and
 * flux-instance are two of the platform releases; flux-instance is installed only once everything its first sync
 * reads exists, and `pulumi up` returns once the FluxInstance is Ready (controllers up, the sync fetched and applied).
 * Once Flux has taken both releases over (the FluxInstance Ready when read), neither is registered, nor the wait.
 * The program creates no Operator, FluxInstance, GitRepository or Kustomization of its own.
 */
function repositoryRunsFlux(w: FluxWiring, repo: RepositoryFlux): FluxWired {
    const namespace = new FluxNamespace("flux", { provider: w.k8s }).namespace;
    const { contract, secretZero } = inFluxNamespace(w, namespace);
    // The deploy key's Secret under the name the FluxInstance's sync.pullSecret gives; none for an HTTPS sync.
    const gitops = new GitOpsHandoff("gitops", {
        ...handoffArgs(w, namespace, contract, secretZero),
        transport: repo.sync.transport,
        repositorySync: { name: repo.sync.name, pullSecret: repo.sync.pullSecret },
    }, { providers: [w.k8s, w.github] });
    const platform = new PlatformReleases("platform", {
        ...platformArgs(w),
        before: new Map([[repo.instance, [...gitops.prerequisites, contract, ...secretZero]]]),
    }, { provider: w.k8s });
    // Once Flux has taken the instance over (its FluxInstance Ready when read), there is no release to wait after.
    const handover = new FluxHandover("flux-handover", {
        instance: platform.byEntry[repo.instance],
        namespace,
        version: repo.version,
        components: repo.components,
        timeoutSeconds: FLUX_READY_TIMEOUT_SECONDS + w.cfg.gitops.timeoutSeconds,
        wait: w.wait,
    }, { provider: w.k8s });
    return { namespace, gitops, ready: handover.ready, version: handover.version };
}

export = clusterBootstrap;
