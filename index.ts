// The stack as a dependency graph: validated config first, then each capability gets exactly what it needs.
// Pulumi calls the exported function and takes what it returns as the stack outputs.
import { BackupBuckets } from "./components/backups";
import { BootstrapSecrets } from "./components/bootstrap-secrets";
import { ClusterContract, clusterPart } from "./components/contract";
import { verifyClusterIdentity } from "./components/cluster-identity";
import { DnsToken } from "./components/dns-token";
import { ClusterEdge } from "./components/edge";
import { FluxInstall } from "./components/flux";
import { githubProvider } from "./components/github";
import { GitOpsHandoff } from "./components/gitops";
import { kubernetesProvider } from "./components/kubernetes";
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

    // The cluster's DNS credential for external-dns and cert-manager: Zone Read and DNS Write on its zone, nothing else.
    const dns = new DnsToken("dns", { accountId: cfg.cloudflareAccountId, clusterName: cfg.cluster.name, zoneId: edge.zoneId });

    // The one Kubernetes provider, and the only reader of the kubeconfig: every in-cluster object goes through it.
    const k8sProvider = kubernetesProvider("k8s", { clusterName: cfg.cluster.name, kubeconfig: cfg.kubeconfig, context: cfg.kubeContext });
    // The repository's owner, never the token's user: the deploy key, the webhook and every file read go through it.
    const ghProvider = githubProvider("github", { owner: cfg.gitops.owner, token: cfg.githubToken });

    // flux-system, the Flux Operator and a FluxInstance that waits for Ready; `flux.ready` gates every Flux object.
    const flux = new FluxInstall("flux", { flux: cfg.flux }, { provider: k8sProvider });

    // cluster-vars and cluster-secrets: each capability's keys, built in one place.
    const contract = new ClusterContract("contract", {
        namespace: flux.namespace,
        parts: [
            clusterPart(cfg.cluster),
            // contract parts: edge.contract, backups.contract
            edge.contract,
            backups.contract,
            dns.contract,
        ],
    }, { provider: k8sProvider });

    // Secret zero for the cluster's secret store, in place before Flux first reconciles; never waits for Flux.
    const bootstrapSecrets = cfg.bootstrapSecrets.length === 0 ? undefined
        : new BootstrapSecrets("bootstrap-secrets", { secrets: cfg.bootstrapSecrets, fluxNamespace: flux.namespace }, { provider: k8sProvider });

    // The handoff: deploy key, Secrets, GitRepository and root Kustomization; from here on Flux owns delivery.
    const gitops = new GitOpsHandoff("gitops", {
        gitops: cfg.gitops,
        clusterName: cfg.cluster.name,
        imageAutomation: cfg.flux.imageAutomation,
        sopsAgeKey: cfg.sopsAgeKey,
        namespace: flux.namespace,
        fluxReady: flux.ready,
        contract,
        beforeReconcile: bootstrapSecrets?.ready ?? [],
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
