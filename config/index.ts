// Stack configuration: the schema (schema.ts), validation across keys (validate.ts and one file per area), and
// reading it from Pulumi (load.ts). Everything the other layers need is re-exported here.
export * from "./checks";
export * from "./keys";
export * from "./load";
export * from "./schema";
export * from "./secret-values";
export * from "./validate";
export * from "./yaml-errors";
export { FLUX_MANAGED_BY, GIT_TRANSPORTS, type FluxConfig, type FluxManagedBy, type FluxSettings, type GitTransport, type RepositoryFluxConfig } from "./flux";
export { otherKeyProblems } from "./hygiene";
export { kubeconfigProblem } from "./kubeconfig";
export { platformCrdsKey, platformKey, type ApplyPathConfig, type PlatformAppConfig, type PlatformConfig, type PlatformReleaseConfig } from "./platform";
export { purposeVariable } from "./r2";
