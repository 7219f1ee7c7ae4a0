// The stack's one Kubernetes provider: the only thing in the program that reads the kubeconfig. Every in-cluster
// object is created through it, so a new kubeconfig (rotated credentials, a rebuilt cluster) touches nothing else.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface KubernetesProviderArgs {
    /** Cluster name from `cluster.name`: the provider's identity, stable across kubeconfig changes. */
    clusterName: string;
    /** Secret kubeconfig contents; undefined means the ambient KUBECONFIG (or ~/.kube/config). */
    kubeconfig?: pulumi.Output<string>;
    /** Context of this stack's cluster (`cluster-bootstrap:kubeContext`); undefined means the kubeconfig's current one. */
    context?: string;
}

/** Provider settings, built without side effects so tests can check every choice. */
export function kubernetesProviderArgs(args: KubernetesProviderArgs): k8s.ProviderArgs {
    return {
        // Only a change of this value replaces the provider (and with it every object it manages); a new
        // kubeconfig for the same cluster, or the rebuilt cluster of the same name, is a provider update.
        clusterIdentifier: args.clusterName,
        // Left out when unset so the provider falls back to KUBECONFIG; never put in plain text into the state.
        ...(args.kubeconfig ? { kubeconfig: pulumi.secret(args.kubeconfig) } : {}),
        // Named, never whatever context happens to be current: that may be the other stack's cluster.
        ...(args.context ? { context: args.context } : {}),
        // A re-run after lost state, or against a rebuilt cluster that already has flux-system, adopts the
        // existing objects instead of failing with AlreadyExists (the default since 4.29).
        upsertExistingObjects: true,
        // cluster-vars and the Secrets change in place when a capability adds a key; the default would
        // replace them, i.e. delete (skipped: retainOnDelete) and re-create under the same name.
        enableConfigMapMutable: true,
        enableSecretMutable: true,
    };
}

/** The stack's Kubernetes provider, named `${name}` and identified by the cluster name. */
export function kubernetesProvider(name: string, args: KubernetesProviderArgs, opts?: pulumi.CustomResourceOptions): k8s.Provider {
    return new k8s.Provider(name, kubernetesProviderArgs(args), opts);
}
