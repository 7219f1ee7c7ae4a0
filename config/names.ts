// The names every layer shares: what the program hands to Flux in the cluster (namespace, ConfigMap, Secrets, the
// FluxInstance and its controllers). The components create these objects; the cluster reads, the Flux emulation and
// the preflight look them up by the same names.

/** Flux's namespace: everything the program hands to Flux lands here. */
export const FLUX_NAMESPACE = "flux-system";

export const CLUSTER_VARS = "cluster-vars";
export const CLUSTER_SECRETS = "cluster-secrets";

/** The deploy-key Secret: `identity`, `identity.pub`, `known_hosts`. */
export const DEPLOY_KEY_SECRET = "github-deploy-key";
/** The age identity for SOPS: `age.agekey`. */
export const SOPS_AGE_SECRET = "sops-age";
export const GITHUB_SSH_HOST = "github.com";

/** Flux's SSH URL of a GitHub repository. */
export function repositoryUrl(owner: string, repositoryName: string): string {
    return `ssh://git@${GITHUB_SSH_HOST}/${owner}/${repositoryName}`;
}

/** The HTTPS URL of a GitHub repository, which Flux fetches with no credential when the repository is public. */
export function repositoryHttpsUrl(owner: string, repositoryName: string): string {
    return `https://github.com/${owner}/${repositoryName}`;
}

export const RECEIVER_NAME = "github-receiver";
export const WEBHOOK_TOKEN_SECRET = "github-webhook-token";

/** The operator accepts exactly one FluxInstance, named `flux`, in its own namespace. */
export const FLUX_INSTANCE_NAME = "flux";
export const DEFAULT_COMPONENTS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"] as const;
export const IMAGE_AUTOMATION_COMPONENTS = ["image-reflector-controller", "image-automation-controller"] as const;

/**
 * Pod Security labels of flux-system. The Flux controllers and the operator are compliant with `restricted`,
 * so it is enforced, not only warned about (the operator itself only sets `warn`).
 */
export function namespaceLabels(): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const mode of ["enforce", "audit", "warn"]) {
        labels[`pod-security.kubernetes.io/${mode}`] = "restricted";
        labels[`pod-security.kubernetes.io/${mode}-version`] = "latest";
    }
    return labels;
}

