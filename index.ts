// The stack as a dependency graph: validated config first, then each capability gets exactly what it needs.
// Pulumi calls the exported function and takes what it returns as the stack outputs.
import { ClusterAccess } from "./components/access";
import { BackupBuckets } from "./components/backups";
import { BootstrapSecrets } from "./components/bootstrap-secrets";
import { ClusterContract, clusterPart } from "./components/contract";
import { verifyClusterIdentity } from "./cluster/identity";
import { DnsToken } from "./components/dns-token";
import { ClusterEdge } from "./components/edge";
import { FluxInstall, FLUX_READY_TIMEOUT_SECONDS } from "./components/flux";
import { FluxHandover, FluxNamespace } from "./components/flux-handover";
import { refuseRepositoryFlux, repositoryFlux } from "./flux/repository-check";
import { githubProvider } from "./providers/github";
import { GitOpsHandoff } from "./components/gitops";
import { connectHub } from "./components/hub";
import { kubernetesProvider } from "./providers/kubernetes";
import { PlatformReleases, readPlatformReleases, strictSubstitution } from "./components/platform";
import { serviceTokenSecretRotations } from "./providers/rotation";
import { PushReconcile } from "./components/webhook";
import { loadConfig } from "./config";

async function clusterBootstrap() {
    // Throws with every problem, each naming its key, before anything is registered.
    const cfg = await loadConfig();
    // Says which cluster this run changes, and refuses another stack's cluster before anything is registered.
    await verifyClusterIdentity({
        stack: cfg.stack,
        clusterName: cfg.cluster.name,
        kubeconfig: cfg.kubeconfig,
        context: cfg.kubeContext,
        renameFrom: cfg.renameFrom,
    });
    // A spoke reads its hub's stack (infra, run first) and stops here if the hub does not open what it sends to.
    const hub = cfg.hub && await connectHub("hub", { hub: cfg.hub });

    // The repository's owner, never the token's user: the deploy key, the webhook and every file read go through it.
    const ghProvider = githubProvider("github", { owner: cfg.gitops.owner, token: cfg.githubToken });

    // The platform releases' app directories, read from the GitOps repository before any cloud or cluster object is
    // registered, so a missing file or an unsupported HelmRelease is a config error like any other.
    const platformReleases = await readPlatformReleases(cfg.platform.releases, {
        repository: cfg.gitops.repository,
        branch: cfg.gitops.branch,
        known: clusterPart(cfg.cluster).vars,
    }, { provider: ghProvider });
    // Who runs Flux, checked against the releases just read: the repository's own flux-operator and flux-instance, their
    // sync against gitops.* (`flux.managedBy: repository`), or the program, with no release of those charts.
    const repoFlux = cfg.flux.managedBy === "repository"
        ? repositoryFlux(platformReleases, {
            gitops: cfg.gitops,
            imageAutomation: cfg.flux.imageAutomation,
            known: clusterPart(cfg.cluster).vars,
        })
        : refuseRepositoryFlux(platformReleases);

    // Backups outlive the cluster: protected, retained buckets and an object-only token scoped to them.
    const backups = new BackupBuckets("backups", {
        accountId: cfg.cloudflareAccountId,
        r2: cfg.r2,
        clusterName: cfg.cluster.name,
        // Rotation: a new `rotation.backupToken` replaces the token and the S3 credentials in cluster-secrets.
        rotation: cfg.rotation.backupToken,
    });

    // Cloudflare Access in front of chosen hostnames, with service tokens for machines (the hub's spokes).
    const access = cfg.access && new ClusterAccess("access", {
        accountId: cfg.cloudflareAccountId,
        clusterName: cfg.cluster.name,
        access: cfg.access,
        // Rotation: a new `rotation.accessServiceTokens.<name>.version` gives that token a new client secret, the old
        // one accepted until `previousSecretExpiresAt`.
        secretRotations: serviceTokenSecretRotations(cfg.rotation),
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
    // cluster-vars and cluster-secrets: each capability's keys, built in one place.
    const contractParts = [
        clusterPart(cfg.cluster),
        // contract parts: each capability's keys
        edge.contract,
        backups.contract,
        dns.contract,
        // the hub's URLs and service token, on a spoke
        ...(hub ? [hub.contract] : []),
    ];

    // Who installs Flux. The program (default): the platform releases, then flux-system, the Flux Operator and a
    // FluxInstance that waits for Ready. The repository (`flux.managedBy: repository`, as in onedr0p/cluster-template):
    // its own flux-operator and flux-instance are two of the platform releases, installed further down, once what
    // cannot live in Git is in place; the program creates no Operator, FluxInstance, GitRepository or Kustomization.
    const programFlux = cfg.flux.managedBy === "program" ? cfg.flux : undefined;
    const repo = programFlux ? undefined : repoFlux!;
    const flux = programFlux && new FluxInstall("flux", {
        flux: programFlux,
        after: new PlatformReleases("platform", {
            releases: platformReleases,
            parts: contractParts,
            strict: strictSubstitution(programFlux.version),
        }, { provider: k8sProvider }).last,
    }, { provider: k8sProvider });
    const fluxNamespace = flux ? flux.namespace : new FluxNamespace("flux", { provider: k8sProvider }).namespace;

    const contract = new ClusterContract("contract", { namespace: fluxNamespace, parts: contractParts }, { provider: k8sProvider });

    // Secret zero for the cluster's secret store, in place before Flux first reconciles; never waits for Flux.
    const bootstrapSecrets = cfg.bootstrapSecrets.length === 0 ? undefined
        : new BootstrapSecrets("bootstrap-secrets", { secrets: cfg.bootstrapSecrets, fluxNamespace }, { provider: k8sProvider });

    // The handoff: deploy key and Secrets; with the program's Flux also the GitRepository and root Kustomization, with
    // the repository's the deploy key's Secret under the name its FluxInstance's sync.pullSecret gives.
    const gitops = new GitOpsHandoff("gitops", {
        gitops: cfg.gitops,
        clusterName: cfg.cluster.name,
        imageAutomation: cfg.flux.imageAutomation,
        sopsAgeKey: cfg.sopsAgeKey,
        namespace: fluxNamespace,
        ...(flux ? { fluxReady: flux.ready } : { repositorySync: { name: repo!.sync.name, pullSecret: repo!.sync.pullSecret } }),
        contract,
        // Rotation: a new `rotation.deployKey` replaces the deploy key on GitHub and in Flux's Secret.
        rotation: cfg.rotation.deployKey,
        beforeReconcile: bootstrapSecrets?.ready ?? [],
    }, { providers: [k8sProvider, ghProvider] });

    // The repository's Flux: the platform releases, flux-instance only once everything its first sync reads exists;
    // `pulumi up` returns once the FluxInstance is Ready (controllers up, the sync fetched and applied).
    const handover = repo && new FluxHandover("flux-handover", {
        instance: new PlatformReleases("platform", {
            releases: platformReleases,
            parts: contractParts,
            strict: strictSubstitution(repo.version),
            before: new Map([[repo.instance, [...gitops.prerequisites, contract, ...(bootstrapSecrets?.ready ?? [])]]]),
        }, { provider: k8sProvider }).releases[repo.instance],
        namespace: fluxNamespace,
        version: repo.version,
        timeoutSeconds: FLUX_READY_TIMEOUT_SECONDS + cfg.gitops.timeoutSeconds,
    }, { provider: k8sProvider });
    const fluxReady = flux ? flux.ready : handover!.ready;

    // A push reconciles in seconds: GitHub calls Flux's Receiver through the tunnel's flux-webhook route.
    const pushReconcile = new PushReconcile("push-reconcile", {
        namespace: fluxNamespace,
        fluxReady: [fluxReady],
        gitRepositoryName: gitops.gitRepositoryName,
        repository: cfg.gitops.repositoryName,
        domain: cfg.cluster.domain,
        route: edge.webhookRoute,
        // Rotation: a new `rotation.webhookToken` replaces the token, the Receiver's path and GitHub's webhook URL.
        rotation: cfg.rotation.webhookToken,
    }, { providers: [k8sProvider, ghProvider] });

    return {
        cluster: cfg.cluster.name,
        repositoryUrl: gitops.repositoryUrl,
        branch: gitops.branch,
        path: gitops.path,
        deployKeyFingerprint: gitops.deployKeyFingerprint,
        fluxVersion: flux ? flux.version : handover!.version,
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
    };
}

export = clusterBootstrap;
