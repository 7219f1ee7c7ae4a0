// Deterministic stand-ins for what only a provider or an API can know. Each value says what it stands for,
// and the same type, name and inputs always give the same value, so the same config prints the same plan.
import * as crypto from "node:crypto";

type State = Record<string, unknown>;

/** `placeholder:<what>`: readable in a plan, obviously not real. */
export function placeholder(what: string): string {
    return `placeholder:${what}`;
}

function digest(...parts: string[]): Buffer {
    return crypto.createHash("sha256").update(parts.join("\0")).digest();
}

const shortType = (type: string) => type.split(":").pop() ?? type;

/** Outputs for a custom resource: its inputs, as the engine echoes them, plus what the provider computes. */
export function fakeOutputs(type: string, name: string, inputs: State): { id: string; state: State } {
    const what = `${shortType(type)}/${name}`;
    const id = placeholder(`${what}/id`);
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

/** Answers for provider functions (invokes). An invoke with no answer here fails loudly, never silently. */
export function fakeInvoke(token: string, inputs: State): { outputs: State } {
    switch (token) {
        case "cloudflare:index/getZone:getZone": {
            const name = (inputs.filter as { name?: string } | undefined)?.name ?? String(inputs.zoneId);
            const zid = placeholder(`zone/${name}/id`);
            return { outputs: { id: zid, zoneId: zid, name, status: "active" } };
        }
        case "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken":
            return {
                outputs: { ...inputs, token: placeholder(`tunnel-token/${String(inputs.tunnelId)}`) },
            };
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
                        id: placeholder(`permission-group/${g}/id`), name: g, category: "", isSelectable: true, scopes: [PERMISSION_GROUP_SCOPES[g]],
                    })),
                },
            };
        }
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
