// The resource and invoke types the whole-program tests look for, spelled once: a provider that renames a type
// fails every test that relies on it from here.
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const FLUX_INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance";
export const PATCH = "kubernetes:fluxcd.controlplane.io/v1:FluxInstancePatch";
export const GIT_REPOSITORY = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository";
export const KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
export const RECEIVER = "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver";
export const SECRET = "kubernetes:core/v1:Secret";
export const DEPLOY_KEY = "github:index/repositoryDeployKey:RepositoryDeployKey";
export const WEBHOOK = "github:index/repositoryWebhook:RepositoryWebhook";
export const TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared";
export const TUNNEL_CONFIG = "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig";
export const DNS = "cloudflare:index/dnsRecord:DnsRecord";
