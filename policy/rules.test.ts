// Each rule on hand-made resources in the providers' input shapes: what passes, what breaks it and the exact words a
// reviewer reads. The rules are called the way CrossGuard calls them (test/policy-analyzer.ts), never through a PolicyPack.
import * as cloudflare from "@pulumi/cloudflare";
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { evaluate, recorded, violations } from "../test/policy-analyzer";
import {
    deployKeyReadOnly, fluxStableApis, kubernetesRetainedOnDelete, kubernetesSecretDataSecret, kubernetesType, policies,
    r2BucketProtected, r2TokenBucketScoped, RETAIN_ON_DELETE_NOT_SENT, tunnelDnsProxied, tunnelEndsInCatchAll, TYPES,
} from "./rules";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
// Wire forms, as the engine receives them (see offline/runtime.ts).
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("the pack", () => {
    it("has uniquely named, mandatory rules", () => {
        const names = policies.map((p) => p.name);
        expect(new Set(names).size).toBe(names.length);
        expect(names).not.toContain("all");
        expect(policies.every((p) => p.enforcementLevel === "mandatory")).toBe(true);
    });

    it("looks for the type tokens the provider SDKs register", () => {
        const registered = (cls: unknown) => (cls as { __pulumiType: string }).__pulumiType;
        expect(TYPES).toEqual({
            r2Bucket: registered(cloudflare.R2Bucket),
            accountToken: registered(cloudflare.AccountToken),
            tunnelConfig: registered(cloudflare.ZeroTrustTunnelCloudflaredConfig),
            dnsRecord: registered(cloudflare.DnsRecord),
            deployKey: registered(github.RepositoryDeployKey),
            secret: registered(k8s.core.v1.Secret),
            // apiextensions.CustomResource registers `kubernetes:<apiVersion>:<kind>`.
            fluxInstance: "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
        });
    });

    it("reads Kubernetes type tokens, the core group included", () => {
        expect(kubernetesType("kubernetes:source.toolkit.fluxcd.io/v1:GitRepository")).toEqual({ group: "source.toolkit.fluxcd.io", version: "v1", kind: "GitRepository" });
        expect(kubernetesType("kubernetes:core/v1:Secret")).toEqual({ group: "core", version: "v1", kind: "Secret" });
        expect(kubernetesType("kubernetes:v1:Secret")).toEqual({ group: "core", version: "v1", kind: "Secret" });
        expect(kubernetesType("pulumi:providers:kubernetes")).toBeUndefined();
        expect(kubernetesType("cloudflare:index/r2Bucket:R2Bucket")).toBeUndefined();
    });
});

describe("r2-bucket-protected", () => {
    const bucket = (options: { protect?: boolean; retainOnDelete?: boolean }) => recorded({
        type: TYPES.r2Bucket, name: "backups-infra-volsync",
        inputs: { accountId: ACCOUNT, name: "infra-volsync", jurisdiction: "default" }, options,
    });

    it("passes a protected, retained bucket", async () => {
        expect(await violations(r2BucketProtected, bucket({ protect: true, retainOnDelete: true }), { exposeRetainOnDelete: true })).toEqual([]);
    });

    it("fails an unprotected bucket", async () => {
        expect(await violations(r2BucketProtected, bucket({ protect: false, retainOnDelete: true }))).toEqual([
            'R2 bucket "infra-volsync" (backups-infra-volsync) is not protected: a rename or a destroy would delete it and every backup in it. Register it with protect: true.',
        ]);
    });

    it("fails a bucket not retained on delete, where the engine says so", async () => {
        const b = bucket({ protect: true, retainOnDelete: false });
        expect(await violations(r2BucketProtected, b, { exposeRetainOnDelete: true })).toEqual([
            'R2 bucket "infra-volsync" (backups-infra-volsync) is not retained on delete: once unprotected, a destroy would empty R2 of its backups. Register it with retainOnDelete: true.',
        ]);
        // CrossGuard today: the option is not sent, so only protect is enforced.
        expect(await violations(r2BucketProtected, b)).toEqual([]);
    });

    it("leaves other resources alone", async () => {
        const ev = await evaluate([r2BucketProtected], [recorded({ type: TYPES.dnsRecord, name: "x", inputs: {} })]);
        expect(ev.notApplicable.map((f) => f.message)).toEqual([`applies to ${TYPES.r2Bucket} only`]);
    });
});

describe("kubernetes-retained-on-delete", () => {
    const object = (type: string, retainOnDelete: boolean) =>
        recorded({ type, name: "gitops-source", inputs: { metadata: { name: "k8s-ops" } }, options: { retainOnDelete } });

    it("passes retained objects of every group, custom resources and Helm releases included", async () => {
        for (const type of ["kubernetes:core/v1:Namespace", "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository", "kubernetes:helm.sh/v3:Release"]) {
            expect(await violations(kubernetesRetainedOnDelete, object(type, true), { exposeRetainOnDelete: true })).toEqual([]);
        }
    });

    it("fails an object a destroy would delete", async () => {
        expect(await violations(kubernetesRetainedOnDelete, object("kubernetes:source.toolkit.fluxcd.io/v1:GitRepository", false), { exposeRetainOnDelete: true })).toEqual([
            "GitRepository gitops-source is not retained on delete: a destroy (or a replacement) would delete it from the cluster, " +
            "and with a namespace, a CRD or the Flux instance everything Flux deployed goes too. Register it with retainOnDelete: true.",
        ]);
    });

    it("says it cannot tell when the engine does not send the option, as CrossGuard does not", async () => {
        const ev = await evaluate([kubernetesRetainedOnDelete], [object("kubernetes:core/v1:ConfigMap", false)]);
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable).toEqual([{ policy: "kubernetes-retained-on-delete", resource: "gitops-source", message: RETAIN_ON_DELETE_NOT_SENT }]);
    });

    it("does not apply to the Kubernetes provider, which must be replaceable", async () => {
        const ev = await evaluate([kubernetesRetainedOnDelete], [recorded({ type: "pulumi:providers:kubernetes", name: "k8s", inputs: {} })], { exposeRetainOnDelete: true });
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable).toHaveLength(1);
    });
});

describe("kubernetes-secret-data-secret", () => {
    const stringData = secret({ "age.agekey": "AGE-SECRET-KEY-1..." });

    it("passes a Secret registered through k8s.core.v1.Secret", async () => {
        const s = recorded({
            type: TYPES.secret, name: "gitops-sops-age",
            inputs: { apiVersion: "v1", kind: "Secret", metadata: { name: "sops-age" }, stringData },
            options: { additionalSecretOutputs: ["data", "stringData"] },
        });
        expect(await violations(kubernetesSecretDataSecret, s)).toEqual([]);
    });

    it("fails a Secret whose data Pulumi would not keep secret", async () => {
        const s = recorded({ type: TYPES.secret, name: "gitops-sops-age", inputs: { stringData }, options: { additionalSecretOutputs: ["data"] } });
        expect(await violations(kubernetesSecretDataSecret, s)).toEqual([
            'Secret gitops-sops-age does not keep stringData secret (additionalSecretOutputs: ["data"]): the values would be stored and ' +
            "shown in plain text. Register it with k8s.core.v1.Secret and leave its additionalSecretOutputs alone.",
        ]);
    });

    it("fails a Secret registered as a CustomResource, which marks nothing secret", async () => {
        const s = recorded({ type: "kubernetes:v1:Secret", name: "cluster-secrets", inputs: { stringData: { TOKEN: "plain" } } });
        expect(await violations(kubernetesSecretDataSecret, s)).toEqual([
            "Secret cluster-secrets is registered as kubernetes:v1:Secret: only k8s.core.v1.Secret (kubernetes:core/v1:Secret) marks data " +
            "and stringData secret, so its values would sit in plain text in the state. Use k8s.core.v1.Secret.",
        ]);
    });
});

describe("deploy-key-read-only", () => {
    const key = (readOnly: boolean | undefined) => recorded({
        type: TYPES.deployKey, name: "gitops-deploy-key",
        inputs: { title: "flux-infra", repository: "k8s-ops", key: "ssh-ed25519 AAAA", ...(readOnly === undefined ? {} : { readOnly }) },
    });
    const instance = (components: string[]) => recorded({
        type: TYPES.fluxInstance, name: "flux-instance",
        inputs: { apiVersion: "fluxcd.controlplane.io/v1", kind: "FluxInstance", spec: { components } },
    });
    const defaults = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];
    const automation = [...defaults, "image-reflector-controller", "image-automation-controller"];

    it("passes a read-only key", async () => {
        expect(await violations(deployKeyReadOnly, [key(true), instance(defaults)])).toEqual([]);
    });

    it("passes a writable key when the stack's Flux pushes image updates", async () => {
        expect(await violations(deployKeyReadOnly, [key(false), instance(automation)])).toEqual([]);
    });

    it("fails a writable key when nothing in the stack pushes, and reports it against the key", async () => {
        const ev = await evaluate([deployKeyReadOnly], [key(false), instance(defaults)]);
        expect(ev.violations).toEqual([{
            policy: "deploy-key-read-only",
            resource: `urn:pulumi:test::cluster-bootstrap::${TYPES.deployKey}::gitops-deploy-key`,
            message: 'Deploy key "flux-infra" (gitops-deploy-key) on k8s-ops is not read-only (readOnly: false), but no FluxInstance ' +
                "in this stack runs image-automation-controller. Flux only reads the repository; a key that can push lets anyone who " +
                "reads the cluster's flux-system Secrets rewrite what the cluster runs. Set readOnly: true, or turn on " +
                "cluster-bootstrap:flux.imageAutomation.",
        }]);
    });

    it("fails a key that leaves read-only to a default, and one in a stack without Flux", async () => {
        expect(await violations(deployKeyReadOnly, [key(undefined), instance(defaults)])).toEqual([
            expect.stringContaining("is not read-only (readOnly: unset)"),
        ]);
        expect(await violations(deployKeyReadOnly, [key(false)])).toHaveLength(1);
    });
});

describe("tunnel-ends-in-catch-all", () => {
    const gateway = "https://envoy-external.networking.svc.cluster.local";
    const config = (ingresses: Record<string, unknown>[]) => recorded({
        type: TYPES.tunnelConfig, name: "edge-tunnel-config",
        inputs: { accountId: ACCOUNT, tunnelId: UNKNOWN, config: { ingresses } },
    });

    it("passes named rules closed by the bare 404 catch-all, with the tunnel id still unknown", async () => {
        const ev = await evaluate([tunnelEndsInCatchAll], [config([
            { hostname: "external.monosense.dev", service: gateway },
            { hostname: "*.monosense.dev", service: gateway },
            { service: "http_status:404" },
        ])]);
        expect(ev).toEqual({ violations: [], notApplicable: [], unknown: [] });
    });

    it("fails a config whose last rule routes unmatched hostnames to an origin", async () => {
        expect(await violations(tunnelEndsInCatchAll, config([{ hostname: "external.monosense.dev", service: gateway }, { service: gateway }]))).toEqual([
            `Tunnel config edge-tunnel-config ends with {"service":"${gateway}"}, not the bare catch-all {service: "http_status:404"}: ` +
            "a hostname no rule names must get a 404, never reach an origin.",
        ]);
    });

    it("fails a config that ends with a named rule, or a catch-all limited to a path", async () => {
        expect(await violations(tunnelEndsInCatchAll, config([{ hostname: "external.monosense.dev", service: gateway }]))).toHaveLength(1);
        expect(await violations(tunnelEndsInCatchAll, config([{ path: "^/$", service: "http_status:404" }]))).toEqual([
            expect.stringContaining('ends with {"path":"^/$","service":"http_status:404"}'),
        ]);
    });

    it("fails a catch-all before the end, which hides the rules after it", async () => {
        expect(await violations(tunnelEndsInCatchAll, config([{ service: gateway }, { hostname: "a.monosense.dev", service: gateway }, { service: "http_status:404" }]))).toEqual([
            `Tunnel config edge-tunnel-config: ingress rule 0 (${gateway}) has no hostname, so it matches every request and hides the ` +
            "rules after it. Only the last rule may be a catch-all.",
        ]);
    });

    it("fails a config without rules", async () => {
        expect(await violations(tunnelEndsInCatchAll, config([]))).toEqual([
            'Tunnel config edge-tunnel-config has no ingress rules: it must end in the catch-all {service: "http_status:404"}.',
        ]);
    });
});

describe("tunnel-dns-proxied", () => {
    const record = (inputs: Record<string, unknown>) => recorded({
        type: TYPES.dnsRecord, name: "edge-cname-external.monosense.dev",
        inputs: { zoneId: "zone", name: "external.monosense.dev", type: "CNAME", ttl: 1, ...inputs },
    });
    const target = "0f6a2c1e-5b7d-4f3a-9c1e-2d4b6a8c0e1f.cfargotunnel.com";

    it("passes a proxied tunnel CNAME, without reading a target still unknown in preview", async () => {
        expect(await evaluate([tunnelDnsProxied], [record({ content: UNKNOWN, proxied: true })])).toEqual({ violations: [], notApplicable: [], unknown: [] });
    });

    it("fails an unproxied CNAME to a tunnel", async () => {
        expect(await violations(tunnelDnsProxied, record({ content: target, proxied: false }))).toEqual([
            `DNS record "external.monosense.dev" (edge-cname-external.monosense.dev) points at a Cloudflare tunnel (${target}) but is not ` +
            "proxied: the name would not resolve to anything that answers, and the tunnel id would be published in DNS. Set proxied: true.",
        ]);
        expect(await violations(tunnelDnsProxied, record({ content: target }))).toHaveLength(1);
    });

    it("passes unproxied records that are not tunnel CNAMEs", async () => {
        expect(await violations(tunnelDnsProxied, record({ type: "A", content: "198.51.100.4", proxied: false }))).toEqual([]);
        expect(await violations(tunnelDnsProxied, record({ content: "example.net", proxied: false }))).toEqual([]);
    });

    it("cannot judge an unproxied CNAME whose target is unknown until apply: CrossGuard warns, and rules again at `up`", async () => {
        const ev = await evaluate([tunnelDnsProxied], [record({ content: UNKNOWN, proxied: false })]);
        expect(ev.violations).toEqual([]);
        expect(ev.unknown.map((f) => f.message)).toEqual(["string value at .content can't be known during preview"]);
    });
});

describe("r2-token-bucket-scoped", () => {
    const bucketKey = (b: string) => `com.cloudflare.edge.r2.bucket.${ACCOUNT}_default_${b}`;
    const token = (...policies: { effect: string; resources: string }[]) => recorded({
        type: TYPES.accountToken, name: "backups-token",
        inputs: { accountId: ACCOUNT, name: "infra cluster backups (R2 objects)", policies: policies.map((p) => ({ permissionGroups: [{ id: "pg" }], ...p })) },
    });
    const allow = (resources: unknown) => ({ effect: "allow", resources: JSON.stringify(resources) });

    it("passes a token that names each bucket", async () => {
        expect(await violations(r2TokenBucketScoped, token(allow({ [bucketKey("infra-volsync")]: "*", [bucketKey("infra-cnpg")]: "*" })))).toEqual([]);
        expect(await violations(r2TokenBucketScoped, token({ effect: "allow", resources: JSON.stringify({ [`com.cloudflare.edge.r2.bucket.${ACCOUNT}_eu_infra-cnpg`]: "*" }) }))).toEqual([]);
    });

    it("fails an account-wide token", async () => {
        expect(await violations(r2TokenBucketScoped, token(allow({ [`com.cloudflare.api.account.${ACCOUNT}`]: "*" })))).toEqual([
            'Account token "infra cluster backups (R2 objects)" (backups-token): policies[0] allows more than named buckets: ' +
            `com.cloudflare.api.account.${ACCOUNT} is the whole account. A leaked cluster credential must not reach other buckets or ` +
            "the account; list each bucket's com.cloudflare.edge.r2.bucket key.",
        ]);
    });

    it("fails wildcards, nested scopes, other resources and an empty scope", async () => {
        const problems = async (resources: unknown) => (await violations(r2TokenBucketScoped, token(allow(resources))))
            .map((m) => m.replace(/^.*allows more than named buckets: /, "").replace(/\. A leaked.*$/, ""));
        expect(await problems({ [`com.cloudflare.edge.r2.bucket.${ACCOUNT}_default_*`]: "*" })).toEqual([`com.cloudflare.edge.r2.bucket.${ACCOUNT}_default_* is a wildcard`]);
        expect(await problems({ [bucketKey("infra-cnpg")]: { "com.cloudflare.edge.r2.bucket.*": "*" } }))
            .toEqual([`${bucketKey("infra-cnpg")} is scoped by {"com.cloudflare.edge.r2.bucket.*":"*"} instead of "*"`]);
        // A policy that names a zone is judged by zone-token-single-zone instead (policy/zone-token.test.ts).
        expect(await problems({ "com.cloudflare.api.account.zone.abc": "*" })).toEqual([]);
        expect(await problems({ "com.cloudflare.api.account.zone.*": "*" })).toEqual([]);
        expect(await problems({ "com.cloudflare.edge.r2.bucket.infra-cnpg": "*" }))
            .toEqual(["com.cloudflare.edge.r2.bucket.infra-cnpg is not a single R2 bucket (com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>)"]);
        expect(await violations(r2TokenBucketScoped, token(allow({})))).toEqual(['Account token "infra cluster backups (R2 objects)" (backups-token): policies[0] names no bucket.']);
        expect(await violations(r2TokenBucketScoped, token({ effect: "allow", resources: "{not json" }))).toEqual([
            'Account token "infra cluster backups (R2 objects)" (backups-token): policies[0].resources is not JSON: {not json',
        ]);
    });

    it("lets a deny be as wide as it likes", async () => {
        expect(await violations(r2TokenBucketScoped, token(allow({ [bucketKey("infra-cnpg")]: "*" }), { effect: "deny", resources: JSON.stringify({ [`com.cloudflare.api.account.${ACCOUNT}`]: "*" }) }))).toEqual([]);
    });
});

describe("flux-stable-api-versions", () => {
    const object = (type: string) => recorded({ type, name: "gitops-source", inputs: {} });

    it("passes the stable APIs", async () => {
        for (const type of [
            "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository", "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
            "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver", "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease",
            "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
        ]) expect(await violations(fluxStableApis, object(type))).toEqual([]);
    });

    it("fails a beta API, naming the stable one", async () => {
        expect(await violations(fluxStableApis, object("kubernetes:source.toolkit.fluxcd.io/v1beta2:GitRepository"))).toEqual([
            "GitRepository gitops-source uses source.toolkit.fluxcd.io/v1beta2; the stable API is source.toolkit.fluxcd.io/v1. " +
            "Beta Flux APIs are deprecated and removed in later releases, which would break the handoff on a Flux upgrade.",
        ]);
        expect(await violations(fluxStableApis, object("kubernetes:helm.toolkit.fluxcd.io/v2beta2:HelmRelease"))).toEqual([expect.stringContaining("the stable API is helm.toolkit.fluxcd.io/v2")]);
        // Alerts and Providers have no v1 yet: this pack keeps them out of the stacks.
        expect(await violations(fluxStableApis, object("kubernetes:notification.toolkit.fluxcd.io/v1beta3:Alert"))).toHaveLength(1);
    });

    it("fails a Flux API group it knows no stable version of", async () => {
        expect(await violations(fluxStableApis, object("kubernetes:swapi.fluxcd.io/v1alpha1:Thing"))).toEqual([
            "Thing gitops-source uses swapi.fluxcd.io/v1alpha1, a Flux API group this pack knows no stable version of. " +
            "Use a stable Flux API, or add the group to STABLE_FLUX_APIS once it has one.",
        ]);
    });

    it("leaves other Kubernetes objects alone", async () => {
        const ev = await evaluate([fluxStableApis], [object("kubernetes:core/v1:ConfigMap"), object("kubernetes:helm.sh/v3:Release")]);
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable).toHaveLength(2);
    });
});
