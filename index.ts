// The stack as a dependency graph: validated config first, then each capability gets exactly what it needs.
// Pulumi calls the exported function and takes what it returns as the stack outputs.
import type * as pulumi from "@pulumi/pulumi";
import { BackupBuckets } from "./components/backups";
import { ClusterContract, clusterPart } from "./components/contract";
import { verifyClusterIdentity } from "./components/cluster-identity";
import { ClusterEdge } from "./components/edge";
import { FluxInstall, FLUX_READY_TIMEOUT_SECONDS } from "./components/flux";
import { FluxHandover, FluxNamespace, refuseRepositoryFlux, repositoryFlux } from "./components/flux-repository";
import { githubProvider } from "./components/github";
import { GitOpsHandoff } from "./components/gitops";
import { kubernetesProvider } from "./components/kubernetes";
import { PlatformReleases, readPlatformReleases, strictSubstitution } from "./components/platform";
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
    });

    // The only way in: the cluster's own tunnel, its routes and their CNAMEs; no public port anywhere.
    const edge = new ClusterEdge("edge", {
        accountId: cfg.cloudflareAccountId,
        clusterName: cfg.cluster.name,
        domain: cfg.cluster.domain,
        tunnel: cfg.tunnel,
    });

    // The one Kubernetes provider, and the only reader of the kubeconfig: every in-cluster object goes through it.
    const k8sProvider = kubernetesProvider("k8s", { clusterName: cfg.cluster.name, kubeconfig: cfg.kubeconfig, context: cfg.kubeContext });
    // cluster-vars and cluster-secrets: each capability's keys, built in one place.
    const contractParts = [
        clusterPart(cfg.cluster),
        // contract parts: edge.contract, backups.contract
        edge.contract,
        backups.contract,
    ];

    // Flux run by the repository itself (`flux.managedBy: repository`, as in onedr0p/cluster-template): its own
    // flux-operator and flux-instance HelmReleases are two of the platform releases, and the program creates no Flux
    // Operator, FluxInstance, GitRepository or root Kustomization. It provides, before the flux-instance release, what
    // cannot live in Git, then waits for the FluxInstance's own Ready, which includes its sync.
    if (cfg.flux.managedBy === "repository") {
        const { instance, sync, version } = repoFlux!; // read and checked above, in this mode
        const fluxNamespace = new FluxNamespace("flux", { provider: k8sProvider });
        const contract = new ClusterContract("contract", { namespace: fluxNamespace.namespace, parts: contractParts }, { provider: k8sProvider });
        // The deploy key under the Secret name the instance's sync.pullSecret gives, and sops-age; no sync objects.
        const gitops = new GitOpsHandoff("gitops", {
            gitops: cfg.gitops,
            clusterName: cfg.cluster.name,
            imageAutomation: cfg.flux.imageAutomation,
            sopsAgeKey: cfg.sopsAgeKey,
            namespace: fluxNamespace.namespace,
            repositorySync: { name: sync.name, pullSecret: sync.pullSecret },
            contract,
        }, { providers: [k8sProvider, ghProvider] });

        // What must exist before the flux-instance release: everything its FluxInstance's first sync reads.
        const beforeFluxInstance: pulumi.Resource[] = [...gitops.prerequisites, contract];
        const platform = new PlatformReleases("platform", {
            releases: platformReleases,
            parts: contractParts,
            strict: strictSubstitution(version),
            before: new Map([[instance, beforeFluxInstance]]),
        }, { provider: k8sProvider });

        // `pulumi up` returns once the FluxInstance is Ready: controllers up, the sync fetched and applied.
        const handover = new FluxHandover("flux-handover", {
            instance: platform.releases[instance],
            namespace: fluxNamespace.namespace,
            version,
            timeoutSeconds: FLUX_READY_TIMEOUT_SECONDS + cfg.gitops.timeoutSeconds,
        }, { provider: k8sProvider });

        // The Receiver reconciles the GitRepository the FluxInstance creates.
        const pushReconcile = new PushReconcile("push-reconcile", {
            namespace: fluxNamespace.namespace,
            fluxReady: [handover.ready],
            gitRepositoryName: gitops.gitRepositoryName,
            repository: cfg.gitops.repositoryName,
            domain: cfg.cluster.domain,
            route: edge.webhookRoute,
        }, { providers: [k8sProvider, ghProvider] });

        return {
            cluster: cfg.cluster.name,
            repositoryUrl: gitops.repositoryUrl,
            branch: gitops.branch,
            path: gitops.path,
            deployKeyFingerprint: gitops.deployKeyFingerprint,
            fluxVersion: handover.version,
            r2Endpoint: backups.endpoint,
            r2Buckets: backups.bucketNames,
            r2AccessKeyId: backups.accessKeyId,
            r2SecretAccessKey: backups.secretAccessKey,
            tunnelId: edge.tunnelId,
            tunnelCname: edge.cnameTarget,
            tunnelHostnames: edge.hostnames,
            fluxWebhookUrl: pushReconcile.webhookUrl,
        };
    }

    // Before Flux: the CNI and what else the repository lists, in order, with the values Flux will substitute.
    const platform = new PlatformReleases("platform", {
        releases: platformReleases,
        parts: contractParts,
        strict: strictSubstitution(cfg.flux.version),
    }, { provider: k8sProvider });

    // flux-system, the Flux Operator (after the platform) and a FluxInstance that waits for Ready; `flux.ready` gates
    // every Flux object.
    const flux = new FluxInstall("flux", { flux: cfg.flux, after: platform.last }, { provider: k8sProvider });

    const contract = new ClusterContract("contract", { namespace: flux.namespace, parts: contractParts }, { provider: k8sProvider });

    // The handoff: deploy key, Secrets, GitRepository and root Kustomization; from here on Flux owns delivery.
    const gitops = new GitOpsHandoff("gitops", {
        gitops: cfg.gitops,
        clusterName: cfg.cluster.name,
        imageAutomation: cfg.flux.imageAutomation,
        sopsAgeKey: cfg.sopsAgeKey,
        namespace: flux.namespace,
        fluxReady: flux.ready,
        contract,
    }, { providers: [k8sProvider, ghProvider] });

    // A push reconciles in seconds: GitHub calls Flux's Receiver through the tunnel's flux-webhook route.
    const pushReconcile = new PushReconcile("push-reconcile", {
        namespace: flux.namespace,
        fluxReady: [flux.ready],
        gitRepositoryName: gitops.gitRepositoryName,
        repository: cfg.gitops.repositoryName,
        domain: cfg.cluster.domain,
        route: edge.webhookRoute,
    }, { providers: [k8sProvider, ghProvider] });

    return {
        cluster: cfg.cluster.name,
        repositoryUrl: gitops.repositoryUrl,
        branch: gitops.branch,
        path: gitops.path,
        deployKeyFingerprint: gitops.deployKeyFingerprint,
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
    };
}

export = clusterBootstrap;
