// Deterministic stand-ins for what only a provider or an API can know. Each value says what it stands for,
// and the same type, name and inputs always give the same value, so the same config prints the same plan.
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import { HELM_TEMPLATE } from "../components/platform-crds";
import { HUB_HOSTNAMES_OUTPUT, hubServiceTokenName, SERVICE_TOKENS_OUTPUT } from "../config/hub";
import type { OfflineCloudState } from "./cloud-state";

type State = Record<string, unknown>;

/** `placeholder:<what>`: readable in a plan, obviously not real. */
export function placeholder(what: string): string {
    return `placeholder:${what}`;
}

function digest(...parts: string[]): Buffer {
    return crypto.createHash("sha256").update(parts.join("\0")).digest();
}

const shortType = (type: string) => type.split(":").pop() ?? type;

/**
 * Outputs for a custom resource: its inputs, as the engine echoes them, plus what the provider computes. A resource
 * with a `replacementTrigger` (a credential) is created anew whenever the trigger changes, so what the provider makes
 * for it (key material, random bytes, token ids and values) also depends on the trigger; without one, or with the
 * unrotated empty trigger, the values are those of the resource's first creation.
 */
export function fakeOutputs(type: string, name: string, inputs: State, replacementTrigger?: unknown, importId?: string): { id: string; state: State } {
    const generation = replacementTrigger === undefined || replacementTrigger === ""
        ? ""
        : `@${digest(JSON.stringify(replacementTrigger)).toString("hex").slice(0, 8)}`;
    const what = `${shortType(type)}/${name}${generation}`;
    // An adopted object keeps its id: the one the provider's read gives it, from the import ID.
    const id = importId ? importedId(type, importId) : placeholder(`${what}/id`);
    const extra: State = {};
    switch (type) {
        case "tls:index/privateKey:PrivateKey": {
            const d = digest(what);
            // A syntactically valid ed25519 public key made from a hash: the plan can show its real format.
            const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), d]);
            extra.publicKeyOpenssh = `ssh-ed25519 ${blob.toString("base64")}\n`;
            extra.publicKeyFingerprintSha256 = `SHA256:${digest(blob.toString("base64")).toString("base64").replace(/=+$/, "")}`;
            extra.publicKeyPem = placeholder(`${what}/publicKeyPem`);
            extra.privateKeyOpenssh = placeholder(`${what}/privateKeyOpenssh`);
            extra.privateKeyPem = placeholder(`${what}/privateKeyPem`);
            extra.privateKeyPemPkcs8 = placeholder(`${what}/privateKeyPemPkcs8`);
            break;
        }
        case "random:index/randomBytes:RandomBytes": {
            const d = digest(what).subarray(0, Number(inputs.length ?? 32));
            extra.base64 = d.toString("base64");
            extra.hex = d.toString("hex");
            break;
        }
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString":
            extra.result = digest(what).toString("hex").slice(0, Number(inputs.length ?? 32));
            break;
        case "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared":
            extra.status = "inactive";
            break;
        case "cloudflare:index/accountToken:AccountToken":
            extra.value = placeholder(`${what}/value`);
            extra.status = "active";
            break;
        case "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication":
            // The audience tag cloudflared checks tokens against: known only once the application exists.
            extra.aud = placeholder(`${what}/aud`);
            break;
        case "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken":
            extra.clientId = placeholder(`${what}/clientId`);
            // As the API does: a new client secret version is a new secret, under the same client id.
            extra.clientSecretVersion = inputs.clientSecretVersion ?? 1;
            extra.clientSecret = placeholder(`${what}/clientSecret${extra.clientSecretVersion === 1 ? "" : `/v${String(extra.clientSecretVersion)}`}`);
            extra.expiresAt = placeholder(`${what}/expiresAt`);
            break;
        case "github:index/repositoryDeployKey:RepositoryDeployKey":
            extra.etag = placeholder(`${what}/etag`);
            break;
        case "github:index/repositoryWebhook:RepositoryWebhook":
            extra.url = placeholder(`${what}/url`);
            break;
        case "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver":
            // What the notification-controller reports once Ready; the path derives from the token.
            extra.status = { webhookPath: placeholder(`${what}/webhookPath`) };
            break;
        default:
            break;
    }
    // Kubernetes objects are identified by namespace/name, as the provider does.
    const metadata = inputs.metadata as { name?: string; namespace?: string } | undefined;
    const k8sId = type.startsWith("kubernetes:") && metadata?.name
        ? (metadata.namespace ? `${metadata.namespace}/${metadata.name}` : metadata.name)
        : undefined;
    return { id: k8sId ?? id, state: { ...inputs, ...extra, id: k8sId ?? id } };
}

/**
 * The id the provider gives an imported resource: a bucket's is its name (`<account>/<name>/<jurisdiction>`), the
 * others' is the import ID's last segment (the tunnel's, for its configuration); terraform-provider-cloudflare v5 sets
 * `data.ID` so in each resource's ImportState.
 */
export function importedId(type: string, importId: string): string {
    const parts = importId.split("/");
    return type === "cloudflare:index/r2Bucket:R2Bucket" ? parts[1] : parts[parts.length - 1];
}

/**
 * Names of Cloudflare API token permission groups as the account's list returns them (a subset: the groups this
 * program asks for and their account-wide neighbours). The dashboard's "DNS: Edit" is the group "DNS Write".
 */
export const PERMISSION_GROUPS = [
    "Workers R2 Storage Bucket Item Write",
    "Workers R2 Storage Bucket Item Read",
    "Workers R2 Storage Write",
    "Workers R2 Storage Read",
    "Zone Read",
    "DNS Write",
    "DNS Read",
] as const;

/** The scope each of {@link PERMISSION_GROUPS} applies to, as the list reports it in `scopes`. */
export const PERMISSION_GROUP_SCOPES: Readonly<Record<(typeof PERMISSION_GROUPS)[number], string>> = {
    "Workers R2 Storage Bucket Item Write": "com.cloudflare.edge.r2.bucket",
    "Workers R2 Storage Bucket Item Read": "com.cloudflare.edge.r2.bucket",
    "Workers R2 Storage Write": "com.cloudflare.api.account",
    "Workers R2 Storage Read": "com.cloudflare.api.account",
    "Zone Read": "com.cloudflare.api.account.zone",
    "DNS Write": "com.cloudflare.api.account.zone",
    "DNS Read": "com.cloudflare.api.account.zone",
};

/** GitHub's published SSH host key types; the plan shows placeholders in their place. */
const GITHUB_HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"];

/** A registered resource's inputs (secrets unwrapped) by type and id, for answers that derive from them. */
export type Registered = (type: string, id: string) => State | undefined;

const TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared";

/** What an offline run knows beyond the invoke's inputs. */
export interface InvokeContext {
    /** What the answer depends on beyond its arguments, as the API has it (the tunnel's secret, for its token). */
    registered?: Registered;
    /**
     * Permission groups the calling token cannot grant: the list answers them with `isSelectable: false`, as the API
     * does for a group the token may not put in a token it creates. None by default.
     */
    unselectablePermissionGroups?: readonly string[];
    /** What already exists in the account and the repository (`--cloud-state`); without it, nothing does. */
    cloud?: OfflineCloudState;
}

/** An error as the provider reports a failed read (the API's 404): the invoke fails, like the real one. */
function notFound(what: string): Error {
    return new Error(`failed to make http request: GET ${what}: 404 Not Found`);
}

/** Answers for provider functions (invokes). An invoke with no answer here fails loudly, never silently. */
export function fakeInvoke(token: string, inputs: State, ctx: InvokeContext = {}): { outputs: State } {
    switch (token) {
        case "cloudflare:index/getZone:getZone": {
            const name = (inputs.filter as { name?: string } | undefined)?.name ?? String(inputs.zoneId);
            const zid = placeholder(`zone/${name}/id`);
            return { outputs: { id: zid, zoneId: zid, name, status: "active" } };
        }
        case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken": {
            // The connector token embeds the tunnel's secret: a new secret, a new token.
            const secret = ctx.registered?.(TUNNEL, String(inputs.tunnelId))?.tunnelSecret;
            const of = secret === undefined ? "" : `/${digest(String(secret)).toString("hex").slice(0, 8)}`;
            return {
                outputs: { ...inputs, token: placeholder(`tunnel-token/${String(inputs.tunnelId)}${of}`) },
            };
        }
        case "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList": {
            // As the API does: the name the provider sends is matched against the real group names. It is sent as
            // given (cloudflare-go encodes the query), so a name encoded by the program (`Workers%20R2…`) finds nothing.
            // A scope filters the same way, exactly.
            const name = inputs.name === undefined ? undefined : String(inputs.name);
            const scope = inputs.scope === undefined ? undefined : String(inputs.scope);
            const groups = PERMISSION_GROUPS.filter((g) => (name === undefined || g === name) && (scope === undefined || PERMISSION_GROUP_SCOPES[g] === scope));
            return {
                outputs: {
                    ...inputs,
                    results: groups.map((g) => ({
                        id: placeholder(`permission-group/${g}/id`), name: g, category: "",
                        isSelectable: !(ctx.unselectablePermissionGroups ?? []).includes(g), scopes: [PERMISSION_GROUP_SCOPES[g]],
                    })),
                },
            };
        }
        // `adopt`'s lookups, answered from the cloud state with the filters the APIs apply.
        case "cloudflare:index/getZeroTrustTunnelCloudflareds:getZeroTrustTunnelCloudflareds": {
            // The list's `name` matches exactly; `is_deleted: false` leaves out deleted tunnels, which are listed otherwise.
            const results = (ctx.cloud?.tunnels ?? [])
                .filter((t) => inputs.name === undefined || t.name === inputs.name)
                .filter((t) => inputs.isDeleted !== false || !t.deletedAt)
                .map((t) => ({ id: t.id, name: t.name, accountTag: String(inputs.accountId), configSrc: t.configSrc ?? "cloudflare",
                    remoteConfig: (t.configSrc ?? "cloudflare") === "cloudflare", deletedAt: t.deletedAt ?? "", status: "healthy" }));
            return { outputs: { ...inputs, results } };
        }
        case "cloudflare:index/getZeroTrustTunnelCloudflaredConfig:getZeroTrustTunnelCloudflaredConfig": {
            const t = (ctx.cloud?.tunnels ?? []).find((x) => x.id === inputs.tunnelId && !x.deletedAt);
            if (!t) throw notFound(`cfd_tunnel/${String(inputs.tunnelId)}/configurations`);
            return { outputs: { ...inputs, source: t.configSrc ?? "cloudflare", config: { ingresses: [] }, version: 1, createdAt: "" } };
        }
        case "cloudflare:index/getDnsRecords:getDnsRecords": {
            const exact = (inputs.name as { exact?: string } | undefined)?.exact;
            const results = (ctx.cloud?.dnsRecords ?? [])
                .filter((r) => exact === undefined || r.name === exact)
                .filter((r) => inputs.type === undefined || r.type === inputs.type)
                .map((r) => ({ id: r.id, name: r.name, type: r.type, content: r.content ?? "", proxied: r.proxied ?? false, ttl: 1, comment: "" }));
            return { outputs: { ...inputs, results } };
        }
        case "cloudflare:index/getZeroTrustAccessApplications:getZeroTrustAccessApplications": {
            // `exact: true` makes the domain filter an equality; without it the API matches a part of the domain.
            const domain = inputs.domain === undefined ? undefined : String(inputs.domain);
            const results = (ctx.cloud?.accessApplications ?? [])
                .filter((a) => domain === undefined || (inputs.exact === true ? a.domain === domain : a.domain.includes(domain)))
                .map((a) => ({ id: a.id, name: a.name ?? a.domain, domain: a.domain, type: "self_hosted", aud: placeholder(`access-app/${a.id}/aud`) }));
            return { outputs: { ...inputs, results } };
        }
        case "cloudflare:index/getZeroTrustAccessPolicies:getZeroTrustAccessPolicies":
            return { outputs: { ...inputs, results: (ctx.cloud?.accessPolicies ?? []).map((p) => ({ id: p.id, name: p.name, reusable: true })) } };
        case "cloudflare:index/getAccountTokens:getAccountTokens":
            return { outputs: { ...inputs, results: (ctx.cloud?.accountTokens ?? []).map((t) => ({ id: t.id, name: t.name, status: "active" })) } };
        case "cloudflare:index/getZeroTrustAccessServiceTokens:getZeroTrustAccessServiceTokens": {
            const results = (ctx.cloud?.accessServiceTokens ?? [])
                .filter((t) => inputs.name === undefined || t.name === inputs.name)
                .map((t) => ({ id: t.id, name: t.name }));
            return { outputs: { ...inputs, results } };
        }
        case "github:index/getRepositoryDeployKeys:getRepositoryDeployKeys":
            return {
                outputs: {
                    ...inputs,
                    id: String(inputs.repository),
                    keys: (ctx.cloud?.deployKeys ?? []).map((k) => ({ id: Number(k.id), title: k.title, key: placeholder(`deploy-key/${k.id}`), verified: true })),
                },
            };
        case HELM_TEMPLATE:
            return { outputs: helmTemplate(inputs) };
        case "github:index/getSshKeys:getSshKeys":
            return {
                outputs: {
                    id: "github-ssh-keys",
                    keys: GITHUB_HOST_KEY_TYPES.map((t) => `${t} ${placeholder(`github-host-key/${t}`)}`),
                },
            };
        default:
            throw new Error(`offline plan: no fake answer for the provider function ${token}; add one to offline/fakes.ts`);
    }
}

/**
 * `kubernetes:helm:template` without a chart: the plan cannot pull and render one, so it answers with one placeholder
 * CustomResourceDefinition named after the chart and version, and one placeholder object of another kind, which the
 * program must leave out, as a real chart's Deployments and Services. It takes what the provider takes
 * (provider/pkg/provider/provider.go `Invoke`, invoke_helm_template.go `HelmChartOpts`) and refuses what it refuses:
 * no `jsonOpts` string, JSON that does not parse or whose fields are not of `HelmChartOpts`' Go types (a number for
 * `version`, a list for `values`), an http(s) URL in `repo` (a repository's name there), no chart.
 */
export function helmTemplate(inputs: State): State {
    if (typeof inputs.jsonOpts !== "string") throw new Error("missing required field 'jsonOpts' of type string");
    let opts: { chart?: unknown; path?: unknown; repo?: unknown; version?: unknown; namespace?: unknown; fetch_opts?: { version?: unknown } };
    try {
        opts = JSON.parse(inputs.jsonOpts) as typeof opts;
    } catch (e) {
        throw new Error(`failed to unmarshal 'jsonOpts': ${(e as Error).message}`);
    }
    const mismatch = unmarshalMismatch(opts);
    if (mismatch) throw new Error(`failed to unmarshal 'jsonOpts': ${mismatch}`);
    opts ??= {};
    if (typeof opts.repo === "string" && opts.repo.startsWith("http")) {
        throw new Error("'repo' option specifies the name of the Helm Chart repo, not the URL.Use 'fetchOpts.repo' to specify a URL for a remote Chart");
    }
    if (typeof opts.chart !== "string" || opts.chart === "") throw new Error("failed to pull chart: no chart given");
    const chart = opts.chart.replace(/\/+$/, "").split("/").pop();
    const version = typeof opts.version === "string" ? opts.version : typeof opts.fetch_opts?.version === "string" ? opts.fetch_opts.version : "latest";
    const namespace = typeof opts.namespace === "string" && opts.namespace !== "" ? opts.namespace : "default";
    return {
        result: [
            {
                apiVersion: "apiextensions.k8s.io/v1",
                kind: "CustomResourceDefinition",
                metadata: { name: placeholder(`crds/${chart}@${version}`) },
                spec: {
                    group: placeholder(`crds/${chart}@${version}/group`),
                    names: { kind: "Placeholder", plural: "placeholders" },
                    scope: "Namespaced",
                    versions: [],
                },
            },
            { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: placeholder(`not-a-crd/${chart}@${version}`), namespace } },
        ],
    };
}

/** The Go types of `HelmChartOpts`' JSON fields (invoke_helm_template.go); keys it does not name are ignored, as by Go. */
const HELM_CHART_OPTS: Record<string, "string" | "bool" | "[]string" | "map[string]interface {}"> = {
    api_versions: "[]string", chart: "string", include_test_hook_resources: "bool", skip_crd_rendering: "bool", namespace: "string",
    path: "string", release_name: "string", repo: "string", values: "map[string]interface {}", version: "string",
    helm_chart_debug: "bool", helm_registry_config: "string", kube_version: "string",
};
const HELM_FETCH_OPTS: Record<string, "string" | "bool"> = {
    ca_file: "string", cert_file: "string", destination: "string", devel: "bool", home: "string", key_file: "string", keyring: "string",
    password: "string", prov: "bool", repo: "string", untar_dir: "string", username: "string", verify: "bool", version: "string",
};

/** Go's name for the kind of a JSON value, as its unmarshal errors say it. */
const jsonKind = (v: unknown) => (Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v === "object" ? "object" : typeof v);

/** Whether a JSON value fits a Go type (null fits every one: Go leaves the field alone). */
function fitsGo(v: unknown, type: string): boolean {
    if (v === null) return true;
    switch (type) {
        case "string": return typeof v === "string";
        case "bool": return typeof v === "boolean";
        case "[]string": return Array.isArray(v) && v.every((x) => x === null || typeof x === "string");
        default: return typeof v === "object" && !Array.isArray(v);
    }
}

/** The error `json.Unmarshal` gives for the first field of the wrong type, as Go words it; undefined when all fit. */
function unmarshalMismatch(opts: unknown): string | undefined {
    if (opts === null) return undefined;
    if (typeof opts !== "object" || Array.isArray(opts)) return `json: cannot unmarshal ${jsonKind(opts)} into Go value of type provider.HelmChartOpts`;
    const o = opts as Record<string, unknown>;
    const wrong = (field: string, v: unknown, type: string) =>
        `json: cannot unmarshal ${jsonKind(v)} into Go struct field HelmChartOpts.${field} of type ${type}`;
    for (const [k, type] of Object.entries(HELM_CHART_OPTS)) if (k in o && !fitsGo(o[k], type)) return wrong(k, o[k], type);
    const fetch = o.fetch_opts;
    if (fetch === undefined || fetch === null) return undefined;
    if (typeof fetch !== "object" || Array.isArray(fetch)) return wrong("fetch_opts", fetch, "provider.HelmFetchOpts");
    for (const [k, type] of Object.entries(HELM_FETCH_OPTS)) {
        const v = (fetch as Record<string, unknown>)[k];
        if (k in fetch && !fitsGo(v, type)) return wrong(`fetch_opts.${k}`, v, type);
    }
    return undefined;
}

/** The type a `pulumi.StackReference` reads. */
export const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/** What the engine answers for a referenced stack: its outputs and which of them are secret. */
export interface StackOutputs {
    outputs: Record<string, unknown>;
    secretOutputNames: string[];
}

/**
 * The state a StackReference read returns, as the engine gives it: `outputs` with the secret ones wrapped as secrets,
 * and their names in `secretOutputNames`, which is how the SDK decides the secret-ness of each `getOutput`.
 */
export function stackReferenceState(name: string, stack: StackOutputs): State {
    const outputs = Object.fromEntries(Object.entries(stack.outputs)
        .map(([k, v]) => [k, stack.secretOutputNames.includes(k) ? pulumi.secret(v) : v]));
    return { name, outputs, secretOutputNames: [...stack.secretOutputNames] };
}

/**
 * Stand-in outputs of a referenced stack when no real ones are given: what a hub exports for this spoke's `hub`
 * config (its token opening exactly the configured hostnames, credentials as secret placeholders), nothing for any
 * other stack.
 */
export function placeholderStackOutputs(stack: string, config: Readonly<Record<string, string>>): StackOutputs {
    let hub: { stack?: unknown; hostnames?: unknown; serviceToken?: unknown } | null = null;
    let cluster: { name?: unknown } | null = null;
    try {
        hub = JSON.parse(config["cluster-bootstrap:hub"] ?? "null");
        cluster = JSON.parse(config["cluster-bootstrap:cluster"] ?? "null");
    } catch {
        // Config the program refuses before it reads any stack.
    }
    if (hub?.stack !== stack || !Array.isArray(hub.hostnames) || typeof cluster?.name !== "string") return { outputs: {}, secretOutputNames: [] };
    const token = hubServiceTokenName(cluster.name, typeof hub.serviceToken === "string" ? hub.serviceToken : undefined);
    const credential = (what: string) => placeholder(`stack/${stack}/${SERVICE_TOKENS_OUTPUT}/${token}/${what}`);
    return {
        outputs: {
            [HUB_HOSTNAMES_OUTPUT]: { [token]: hub.hostnames },
            [SERVICE_TOKENS_OUTPUT]: { [token]: { clientId: credential("clientId"), clientSecret: credential("clientSecret") } },
        },
        secretOutputNames: [SERVICE_TOKENS_OUTPUT],
    };
}
