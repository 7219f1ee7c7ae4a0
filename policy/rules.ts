// What this project promises, as CrossGuard rules. Plain policy objects: tests call `validateResource` and
// `validateStack` directly, and only index.ts builds the pack (building one starts a server).
//
// CrossGuard passes a resource's inputs with secrets already decrypted and unmarked, unknown values behind a
// proxy that throws when read during a preview, and resource options without `retainOnDelete` (the analyzer
// protocol does not carry it). Each rule reads only what it needs, cheapest and always-known fields first.
//
// Provider SDKs are imported for their types only: the pack loads nothing but @pulumi/policy at run time.
import type * as cloudflare from "@pulumi/cloudflare";
import type * as github from "@pulumi/github";
import type {
    Policies, PolicyResource, PolicyResourceOptions, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { Unwrap } from "@pulumi/pulumi";

/** Type tokens the rules look for, as the provider SDKs register them (a test checks them against the SDKs). */
export const TYPES = {
    r2Bucket: "cloudflare:index/r2Bucket:R2Bucket",
    accountToken: "cloudflare:index/accountToken:AccountToken",
    tunnelConfig: "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
    dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
    deployKey: "github:index/repositoryDeployKey:RepositoryDeployKey",
    secret: "kubernetes:core/v1:Secret",
    fluxInstance: "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
} as const;

/**
 * Resource options as a rule reads them. `retainOnDelete` is not in CrossGuard's options (@pulumi/policy 1.21,
 * analyzer protocol of @pulumi/pulumi 3.270): a rule that needs it checks it when present and otherwise says
 * it cannot, so the same rule starts enforcing the day the engine sends it.
 */
export type RuleResourceOptions = PolicyResourceOptions & { retainOnDelete?: boolean };

export const RETAIN_ON_DELETE_NOT_SENT =
    "the Pulumi engine does not pass retainOnDelete to policy packs; the program tests assert it instead";

/** The one catch-all a tunnel config may end with: anything no rule names gets a 404, never the gateway. */
export const TUNNEL_CATCH_ALL_SERVICE = "http_status:404";

/** Stable API version per Flux API group; anything else is a beta that may change or go away. */
export const STABLE_FLUX_APIS: Readonly<Record<string, string>> = {
    "source.toolkit.fluxcd.io": "v1",
    "kustomize.toolkit.fluxcd.io": "v1",
    "notification.toolkit.fluxcd.io": "v1",
    "helm.toolkit.fluxcd.io": "v2",
    "image.toolkit.fluxcd.io": "v1",
    "fluxcd.controlplane.io": "v1",
};

/** The controller that pushes image updates to Git, the only Flux component that needs write access. */
export const IMAGE_AUTOMATION_COMPONENT = "image-automation-controller";

/** A Helm release as the Kubernetes SDK registers it (`k8s.helm.v3.Release`). */
export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
/**
 * The Flux Operator's charts by their own name, the last segment of the chart reference: a stack installs them itself
 * (`flux.managedBy: program`) or from the repository's HelmReleases (`repository`).
 */
export const FLUX_CHARTS = { operator: "flux-operator", instance: "flux-instance" } as const;
/** The chart's own name: `oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance` → `flux-instance`. */
export function chartOf(r: PolicyResource): string | undefined {
    if (r.type !== HELM_RELEASE_TYPE) return undefined;
    const chart = (r.props as { chart?: unknown }).chart;
    return typeof chart === "string" ? chart.replace(/\/+$/, "").split("/").pop() : undefined;
}

// Access-policy key of one R2 bucket: com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>.
const R2_BUCKET_KEY = /^com\.cloudflare\.edge\.r2\.bucket\.[0-9a-f]{32}_(default|eu|fedramp)_[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const ACCOUNT_KEY = /^com\.cloudflare\.api\.account\./;
const TUNNEL_CNAME_SUFFIX = ".cfargotunnel.com";

/** Props in the provider's input shape, with Outputs resolved, as CrossGuard hands them over. */
type Props<Args> = Unwrap<NonNullable<Args>>;

/** A rule for one resource type; every other type is reported not applicable, as `validateResourceOfType` does. */
function rule<Args>(
    type: string,
    policy: Omit<ResourceValidationPolicy, "validateResource" | "enforcementLevel">,
    check: (props: Props<Args>, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidationPolicy {
    return {
        ...policy,
        enforcementLevel: "mandatory",
        validateResource: (args, report) => {
            if (args.type !== type) return args.notApplicable(`applies to ${type} only`);
            check(args.props as Props<Args>, args, report);
        },
    };
}

function retainOnDelete(opts: PolicyResourceOptions): boolean | undefined {
    return (opts as RuleResourceOptions).retainOnDelete;
}

/** `kubernetes:<group>/<version>:<Kind>` (`core` for the core group); undefined for anything else. */
export function kubernetesType(type: string): { group: string; version: string; kind: string } | undefined {
    const m = /^kubernetes:(?:([^/:]+)\/)?([^/:]+):([^/:]+)$/.exec(type);
    return m ? { group: m[1] ?? "core", version: m[2], kind: m[3] } : undefined;
}

export const r2BucketProtected = rule<cloudflare.R2BucketArgs>(TYPES.r2Bucket, {
    name: "r2-bucket-protected",
    description: "R2 buckets hold the cluster's backups: they are protected and retained, so no update or destroy deletes them.",
}, (bucket, args, report) => {
    const what = `R2 bucket "${bucket.name}" (${args.name})`;
    if (args.opts.protect !== true) {
        report(`${what} is not protected: a rename or a destroy would delete it and every backup in it. Register it with protect: true.`);
    }
    if (retainOnDelete(args.opts) === false) {
        report(`${what} is not retained on delete: once unprotected, a destroy would empty R2 of its backups. Register it with retainOnDelete: true.`);
    }
});

export const kubernetesRetainedOnDelete: ResourceValidationPolicy = {
    name: "kubernetes-retained-on-delete",
    description: "Every in-cluster object is retained on delete, so destroying a stack never cascades into Flux and what it runs.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const k = kubernetesType(args.type);
        if (!k) return args.notApplicable("applies to Kubernetes objects only");
        const retain = retainOnDelete(args.opts);
        if (retain === undefined) return args.notApplicable(RETAIN_ON_DELETE_NOT_SENT);
        if (!retain) {
            report(`${k.kind} ${args.name} is not retained on delete: a destroy (or a replacement) would delete it from the cluster, ` +
                "and with a namespace, a CRD or the Flux instance everything Flux deployed goes too. Register it with retainOnDelete: true.");
        }
    },
};

export const kubernetesSecretDataSecret: ResourceValidationPolicy = {
    name: "kubernetes-secret-data-secret",
    description: "Kubernetes Secrets are registered so that Pulumi keeps their data secret: encrypted in state, masked in previews.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const k = kubernetesType(args.type);
        if (!k || k.kind !== "Secret") return args.notApplicable("applies to Kubernetes Secrets only");
        // CrossGuard shows no secret marks (pulumi/pulumi-policy#241); what it shows is how the Secret was registered.
        // k8s.core.v1.Secret wraps data and stringData in pulumi.secret and lists both in additionalSecretOutputs.
        if (args.type !== TYPES.secret) {
            report(`Secret ${args.name} is registered as ${args.type}: only k8s.core.v1.Secret (${TYPES.secret}) marks data and ` +
                "stringData secret, so its values would sit in plain text in the state. Use k8s.core.v1.Secret.");
            return;
        }
        const missing = ["data", "stringData"].filter((p) => !args.opts.additionalSecretOutputs.includes(p));
        if (missing.length > 0) {
            report(`Secret ${args.name} does not keep ${missing.join(" and ")} secret (additionalSecretOutputs: ` +
                `${JSON.stringify(args.opts.additionalSecretOutputs)}): the values would be stored and shown in plain text. ` +
                "Register it with k8s.core.v1.Secret and leave its additionalSecretOutputs alone.");
        }
    },
};

export const tunnelEndsInCatchAll = rule<cloudflare.ZeroTrustTunnelCloudflaredConfigArgs>(TYPES.tunnelConfig, {
    name: "tunnel-ends-in-catch-all",
    description: `A tunnel's ingress rules each name a hostname and end in one bare catch-all, {service: "${TUNNEL_CATCH_ALL_SERVICE}"}.`,
}, (cfg, args, report) => {
    const rules = cfg.config?.ingresses ?? [];
    const what = `Tunnel config ${args.name}`;
    if (rules.length === 0) {
        report(`${what} has no ingress rules: it must end in the catch-all {service: "${TUNNEL_CATCH_ALL_SERVICE}"}.`);
        return;
    }
    rules.slice(0, -1).forEach((r, i) => {
        if (!r.hostname) {
            report(`${what}: ingress rule ${i} (${r.service}) has no hostname, so it matches every request and hides the rules after it. ` +
                "Only the last rule may be a catch-all.");
        }
    });
    const last = rules[rules.length - 1];
    if (last.hostname || last.path || last.service !== TUNNEL_CATCH_ALL_SERVICE) {
        report(`${what} ends with ${JSON.stringify({ hostname: last.hostname, path: last.path, service: last.service })}, ` +
            `not the bare catch-all {service: "${TUNNEL_CATCH_ALL_SERVICE}"}: a hostname no rule names must get a 404, ` +
            "never reach an origin.");
    }
});

export const tunnelDnsProxied = rule<cloudflare.DnsRecordArgs>(TYPES.dnsRecord, {
    name: "tunnel-dns-proxied",
    description: "DNS records that point at a Cloudflare tunnel are proxied: only Cloudflare's proxy can route to a tunnel.",
}, (record, args, report) => {
    // `proxied` and `type` are always known; the target is the tunnel id, unknown until the tunnel exists.
    if (record.proxied === true || record.type !== "CNAME") return;
    if (!record.content?.endsWith(TUNNEL_CNAME_SUFFIX)) return;
    report(`DNS record "${record.name}" (${args.name}) points at a Cloudflare tunnel (${record.content}) but is not proxied: ` +
        "the name would not resolve to anything that answers, and the tunnel id would be published in DNS. Set proxied: true.");
});

/** Why one access-policy resource key is not a single R2 bucket, or undefined when it is one. */
export function tokenScopeProblem(key: string, value: unknown): string | undefined {
    if (key.includes("*")) return `${key} is a wildcard`;
    if (ACCOUNT_KEY.test(key)) return `${key} is the whole account`;
    if (!R2_BUCKET_KEY.test(key)) return `${key} is not a single R2 bucket (com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>)`;
    if (value !== "*") return `${key} is scoped by ${JSON.stringify(value)} instead of "*"`;
    return undefined;
}

/** A policy's `resources` as the API reads them: the JSON text parsed (a string since provider 6.12), or `unreadable`. */
function policyResources(resources: unknown): { value: unknown } | "unreadable" {
    try {
        return { value: typeof resources === "string" ? JSON.parse(resources) : resources };
    } catch {
        return "unreadable";
    }
}

export const r2TokenBucketScoped = rule<cloudflare.AccountTokenArgs>(TYPES.accountToken, {
    name: "r2-token-bucket-scoped",
    description: "The stack's account token names its R2 buckets one by one: never the whole account, never a wildcard.",
}, (token, args, report) => {
    const what = `Account token "${token.name}" (${args.name})`;
    token.policies.forEach((p, i) => {
        // A deny can be as wide as it likes; only what a policy allows widens the token.
        if (p.effect !== "allow") return;
        const parsed = policyResources(p.resources);
        if (parsed === "unreadable") {
            report(`${what}: policies[${i}].resources is not JSON: ${p.resources}`);
            return;
        }
        const resources = parsed.value;
        if (typeof resources !== "object" || resources === null || Array.isArray(resources)) {
            report(`${what}: policies[${i}].resources must be an object of resource keys, got ${JSON.stringify(resources)}`);
            return;
        }
        // A policy that names a zone is judged by zone-token-single-zone, which allows exactly one zone.
        if (namesZone(resources)) return;
        const entries = Object.entries(resources);
        if (entries.length === 0) report(`${what}: policies[${i}] names no bucket.`);
        for (const [key, value] of entries) {
            const problem = tokenScopeProblem(key, value);
            if (problem) {
                report(`${what}: policies[${i}] allows more than named buckets: ${problem}. A leaked cluster credential ` +
                    "must not reach other buckets or the account; list each bucket's com.cloudflare.edge.r2.bucket key.");
            }
        }
    });
});

export const fluxStableApis: ResourceValidationPolicy = {
    name: "flux-stable-api-versions",
    description: "Flux objects use the stable APIs: source, kustomize and notification v1, helm v2 (image v1, FluxInstance v1).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const k = kubernetesType(args.type);
        if (!k || !(k.group in STABLE_FLUX_APIS || k.group.endsWith(".fluxcd.io"))) return args.notApplicable("applies to Flux objects only");
        const stable = STABLE_FLUX_APIS[k.group];
        if (stable === undefined) {
            report(`${k.kind} ${args.name} uses ${k.group}/${k.version}, a Flux API group this pack knows no stable version of. ` +
                "Use a stable Flux API, or add the group to STABLE_FLUX_APIS once it has one.");
        } else if (k.version !== stable) {
            report(`${k.kind} ${args.name} uses ${k.group}/${k.version}; the stable API is ${k.group}/${stable}. ` +
                "Beta Flux APIs are deprecated and removed in later releases, which would break the handoff on a Flux upgrade.");
        }
    },
};

/**
 * The program's component for a repository that runs Flux (components/flux-handover.ts). Its `components` output is
 * what the repository's flux-instance release says the instance runs: the one word on it left in the stack once Flux
 * has taken that release over and the stack no longer registers it.
 */
export const FLUX_HANDOVER_TYPE = "cluster-bootstrap:flux-repository:FluxHandover";

/**
 * The FluxInstance's components: the program's own, those the repository's flux-instance release renders, or, once
 * Flux has taken that release over, those the program's FluxHandover reports for it.
 */
function runsImageAutomation(r: PolicyResource): boolean {
    const components = r.type === TYPES.fluxInstance
        ? (r.props.spec as { components?: unknown } | undefined)?.components
        : r.type === FLUX_HANDOVER_TYPE ? r.props.components
        // The chart's default components (values.instance.components unset) do not include it.
        : ((r.props.values as { instance?: { components?: unknown } } | undefined)?.instance)?.components;
    return Array.isArray(components) && components.includes(IMAGE_AUTOMATION_COMPONENT);
}

export const deployKeyReadOnly: StackValidationPolicy = {
    name: "deploy-key-read-only",
    description: `GitHub deploy keys are read-only unless the same stack's FluxInstance (its own, or the one its flux-instance ` +
        `release renders) runs ${IMAGE_AUTOMATION_COMPONENT}, which pushes to Git.`,
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const keys = args.resources.filter((r) => r.type === TYPES.deployKey);
        if (keys.length === 0) return args.notApplicable("no GitHub deploy key in this stack");
        // Read only when a key asks for write access: that is the only case the answer matters.
        const writable = keys.filter((k) => (k.props as Props<github.RepositoryDeployKeyArgs>).readOnly !== true);
        if (writable.length === 0) return;
        const instances = args.resources.filter((r) => r.type === TYPES.fluxInstance || r.type === FLUX_HANDOVER_TYPE || chartOf(r) === FLUX_CHARTS.instance);
        if (instances.some(runsImageAutomation)) return;
        for (const k of writable) {
            const key = k.props as Props<github.RepositoryDeployKeyArgs>;
            report(`Deploy key "${key.title}" (${k.name}) on ${key.repository} is not read-only (readOnly: ${key.readOnly ?? "unset"}), but no ` +
                `FluxInstance in this stack runs ${IMAGE_AUTOMATION_COMPONENT}. Flux only reads the repository; a key that can push ` +
                "lets anyone who reads the cluster's flux-system Secrets rewrite what the cluster runs. Set readOnly: true, or turn on " +
                "cluster-bootstrap:flux.imageAutomation.", k.urn);
        }
    },
};

// ---------------------------------------------------------------- Cloudflare Access (issue 18)

/** Type token of an Access application, as the provider SDK registers it (a test checks it against the SDK). */
export const ACCESS_APPLICATION_TYPE = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";

/** The Flux notification-controller's receiver, which the webhook host's tunnel rule sends to (config/routing.ts). */
export const FLUX_RECEIVER_SERVICE = "http://webhook-receiver.flux-system.svc.cluster.local";

type IngressProps = NonNullable<NonNullable<Props<cloudflare.ZeroTrustTunnelCloudflaredConfigArgs>["config"]>["ingresses"]>[number];

/** cloudflared's host match: the same name, or a `*.d` rule and any name under `d`. */
function takes(ruleHost: string, host: string): boolean {
    return ruleHost === host || (ruleHost.startsWith("*.") && host.endsWith(ruleHost.slice(1)));
}

/** The hostnames an Access application protects: its domain and its public destinations, paths left off. */
function protectedHosts(app: PolicyResource): string[] {
    const props = app.props as Props<cloudflare.ZeroTrustAccessApplicationArgs>;
    const uris = [props.domain, ...(props.destinations ?? []).filter((d) => (d.type ?? "public") === "public").map((d) => d.uri)];
    return [...new Set(uris.filter((u): u is string => typeof u === "string" && u !== "").map((u) => u.split("/")[0]))];
}

/**
 * The rules of one tunnel config that can take requests for `host`, in order: every rule whose hostname takes it up to
 * and including the first without a path (later ones never see it). For a wildcard `host` (an application on `*.d`),
 * also every rule for a name under it.
 */
function rulesTaking(rules: IngressProps[], host: string): Array<{ rule: IngressProps; index: number }> {
    const out: Array<{ rule: IngressProps; index: number }> = [];
    let taken = false;
    rules.forEach((rule, index) => {
        const h = rule.hostname;
        if (!h) return;
        if (!taken && takes(h, host)) {
            out.push({ rule, index });
            taken = rule.path === undefined;
        } else if (host.startsWith("*.") && h.endsWith(host.slice(1))) {
            out.push({ rule, index });
        }
    });
    return out;
}

export const accessEnforcedPerRule: StackValidationPolicy = {
    name: "access-enforced-per-tunnel-rule",
    description: "A hostname behind a Cloudflare Access application is checked by cloudflared too: every tunnel rule that takes its "
        + "requests carries originRequest.access with required: true. A top-level access block is refused: cloudflared ignores it.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const configs = args.resources.filter((r) => r.type === TYPES.tunnelConfig);
        const apps = args.resources.filter((r) => r.type === ACCESS_APPLICATION_TYPE);
        for (const c of configs) {
            const config = (c.props as Props<cloudflare.ZeroTrustTunnelCloudflaredConfigArgs>).config;
            if (config?.originRequest?.access !== undefined) {
                report(`Tunnel config ${c.name} sets originRequest.access at the top level, which cloudflared ignores (cloudflare/cloudflared#784): `
                    + "no request is checked. Put access on each rule of a protected hostname.", c.urn);
            }
        }
        if (apps.length === 0) return args.notApplicable("no Access application in this stack");
        for (const app of apps) {
            for (const host of protectedHosts(app)) {
                let routed = false;
                for (const c of configs) {
                    const rules = (c.props as Props<cloudflare.ZeroTrustTunnelCloudflaredConfigArgs>).config?.ingresses ?? [];
                    for (const { rule, index } of rulesTaking(rules, host)) {
                        routed = true;
                        if (rule.originRequest?.access?.required === true) continue;
                        report(`Tunnel config ${c.name}: ingress rule ${index} (${rule.hostname}${rule.path ? ` path ${rule.path}` : ""}) takes requests for `
                            + `"${host}", which Access application ${app.name} protects, but does not carry originRequest.access with required: true. `
                            + "Anyone who reaches the tunnel another way (a DNS record pointed at it, a second application) skips Access; "
                            + "cloudflared's own check on the rule stops them.", c.urn);
                    }
                }
                if (!routed) {
                    report(`Access application ${app.name} protects "${host}", which no tunnel config in this stack routes: cloudflared cannot `
                        + "check its requests. Route it through the stack's tunnel or drop the application.", app.urn);
                }
            }
        }
    },
};

export const webhookNotBehindAccess: StackValidationPolicy = {
    name: "flux-webhook-not-behind-access",
    description: "The Flux webhook host is never behind Cloudflare Access: GitHub cannot log in to Access, and the Receiver's token "
        + "already guards it.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const hooks: Array<{ host: string; config: PolicyResource; index: number; rule: IngressProps }> = [];
        for (const c of args.resources.filter((r) => r.type === TYPES.tunnelConfig)) {
            const rules = (c.props as Props<cloudflare.ZeroTrustTunnelCloudflaredConfigArgs>).config?.ingresses ?? [];
            rules.forEach((rule, index) => {
                if (rule.service === FLUX_RECEIVER_SERVICE && rule.hostname) hooks.push({ host: rule.hostname, config: c, index, rule });
            });
        }
        if (hooks.length === 0) return args.notApplicable("no tunnel rule to the Flux receiver in this stack");
        const apps = args.resources.filter((r) => r.type === ACCESS_APPLICATION_TYPE);
        for (const hook of hooks) {
            if (hook.rule.originRequest?.access !== undefined) {
                report(`Tunnel config ${hook.config.name}: ingress rule ${hook.index} (${hook.host}) sends GitHub's webhook to Flux but carries `
                    + "originRequest.access: cloudflared would refuse every delivery, since GitHub cannot log in to Access. Remove it.", hook.config.urn);
            }
            for (const app of apps) {
                const covering = protectedHosts(app).find((h) => takes(h, hook.host));
                if (covering) {
                    report(`Access application ${app.name} protects "${covering}", which covers the Flux webhook host "${hook.host}": GitHub `
                        + "cannot log in to Access, so pushes would no longer reach Flux. The Receiver's token guards the host; keep it out of Access.", app.urn);
                }
            }
        }
    },
};
// Access-policy key of one zone (com.cloudflare.api.account.zone.<zone id>), and the prefix every zone key starts with.
const ZONE_KEY_PREFIX = "com.cloudflare.api.account.zone.";

/** True when a policy's resources name a zone anywhere: at the top, or nested under an account (its zones). */
export function namesZone(resources: unknown): boolean {
    if (typeof resources !== "object" || resources === null || Array.isArray(resources)) return false;
    return Object.entries(resources).some(([k, v]) => k.startsWith(ZONE_KEY_PREFIX) || namesZone(v));
}

/**
 * Why a policy that names a zone reaches more than one zone, or anything account-wide; [] when it names exactly one
 * zone by its id. The wider forms are Cloudflare's own: `com.cloudflare.api.account.zone.*` (every zone of every
 * account) and `{"com.cloudflare.api.account.<id>": {"com.cloudflare.api.account.zone.*": "*"}}` (every zone of one).
 */
export function zoneScopeProblems(resources: Record<string, unknown>): string[] {
    const problems: string[] = [];
    let zones = 0;
    for (const [key, value] of Object.entries(resources)) {
        if (key.includes("*")) problems.push(`${key} is a wildcard`);
        else if (key.startsWith(ZONE_KEY_PREFIX)) {
            if (key.length === ZONE_KEY_PREFIX.length) problems.push(`${key} names no zone`);
            else if (value !== "*") problems.push(`${key} is scoped by ${JSON.stringify(value)} instead of "*"`);
            else zones++;
        } else if (ACCOUNT_KEY.test(key)) problems.push(`${key} is account-wide${namesZone(value) ? " (every zone of the account)" : ""}`);
        else problems.push(`${key} is not a zone (${ZONE_KEY_PREFIX}<zone id>)`);
    }
    if (problems.length === 0 && zones !== 1) problems.push(`it names ${zones} zones`);
    return problems;
}

export const zoneTokenSingleZone = rule<cloudflare.AccountTokenArgs>(TYPES.accountToken, {
    name: "zone-token-single-zone",
    description: "An account token whose policy names a zone reaches exactly that one zone: never every zone, never the account.",
}, (token, args, report) => {
    const what = `Account token "${token.name}" (${args.name})`;
    let judged = false;
    token.policies.forEach((p, i) => {
        if (p.effect !== "allow") return;
        const parsed = policyResources(p.resources);
        // Unreadable resources are r2-token-bucket-scoped's to report; here they name no zone.
        if (parsed === "unreadable" || !namesZone(parsed.value)) return;
        const resources = parsed.value;
        judged = true;
        for (const problem of zoneScopeProblems(resources as Record<string, unknown>)) {
            report(`${what}: policies[${i}] reaches more than one zone: ${problem}. A leaked cluster credential must not ` +
                "reach other zones or the account; name the cluster's zone alone, as com.cloudflare.api.account.zone.<zone id>.");
        }
    });
    if (!judged) args.notApplicable("no policy of this token names a zone");
});

/** GitRepository and Kustomization types of any version: the objects a FluxInstance's `spec.sync` creates. */
function isSyncObject(type: string): boolean {
    const k = kubernetesType(type);
    return (k?.group === "source.toolkit.fluxcd.io" && k.kind === "GitRepository")
        || (k?.group === "kustomize.toolkit.fluxcd.io" && k.kind === "Kustomization");
}

export const fluxSingleOwner: StackValidationPolicy = {
    name: "flux-single-owner",
    description: "Flux has one owner: the stack's own Flux Operator release and FluxInstance, or the repository's flux-operator " +
        "and flux-instance releases, never both; when the repository runs Flux, its FluxInstance creates the GitRepository and " +
        "Kustomization, so the stack registers none.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        // Only always-known fields: types and chart references.
        const operators = args.resources.filter((r) => chartOf(r) === FLUX_CHARTS.operator);
        const releasedInstances = args.resources.filter((r) => chartOf(r) === FLUX_CHARTS.instance);
        const ownInstances = args.resources.filter((r) => r.type === TYPES.fluxInstance);
        if (operators.length + releasedInstances.length + ownInstances.length === 0) return args.notApplicable("no Flux in this stack");
        for (const r of operators.slice(1)) {
            report(`Helm release ${r.name} installs the Flux Operator a second time (${operators[0].name} does already): two operator ` +
                "releases fight over one set of CRDs and one FluxInstance. Install it once, from the program or from the repository " +
                "(cluster-bootstrap:flux.managedBy).", r.urn);
        }
        const instances = [...ownInstances, ...releasedInstances];
        for (const r of instances.slice(1)) {
            report(`${r.type === TYPES.fluxInstance ? "FluxInstance" : "Helm release"} ${r.name} is a second FluxInstance (${instances[0].name} ` +
                "is one): the Flux Operator accepts one instance, named flux, and two owners would overwrite each other's spec. Let " +
                "either the program or the repository's flux-instance release own it (cluster-bootstrap:flux.managedBy).", r.urn);
        }
        if (releasedInstances.length === 0) return;
        for (const r of args.resources.filter((x) => isSyncObject(x.type))) {
            report(`${kubernetesType(r.type)!.kind} ${r.name} is registered by the stack, but the repository's flux-instance release ` +
                `(${releasedInstances[0].name}) runs Flux: its FluxInstance creates the GitRepository and Kustomization from spec.sync, ` +
                "and a second root with prune: true would fight it over what the cluster runs. Leave them to the FluxInstance.", r.urn);
        }
    },
};

/** Every rule, in the order the pack reports them. */
export const policies: Policies = [
    r2BucketProtected,
    kubernetesRetainedOnDelete,
    kubernetesSecretDataSecret,
    deployKeyReadOnly,
    tunnelEndsInCatchAll,
    tunnelDnsProxied,
    r2TokenBucketScoped,
    fluxStableApis,
    accessEnforcedPerRule,
    webhookNotBehindAccess,
    zoneTokenSingleZone,
    fluxSingleOwner,
];
