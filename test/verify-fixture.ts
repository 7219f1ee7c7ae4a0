// A deployed stack for verify to check, all on 127.0.0.1: the preflight's world (fake `pulumi` CLI, Kubernetes, GitHub
// and Cloudflare APIs) plus the stack's outputs, a connected tunnel, its DNS records, a webhook with a successful last
// delivery, Ready Flux objects, a cluster-vars as the stack writes it, and a fake R2 S3 endpoint. It starts healthy;
// each test breaks one thing.
import { createHash } from "node:crypto";
import type { FluxObject } from "../cluster/flux-await";
import { fakeS3, type FakeS3 } from "./fake-s3";
import { k8sStatus, type FakeAnswer, type FakeRequest } from "./fake-apis";
import { SECRETS, world, type World } from "./preflight-fixture";

export const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
export const TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef";
export const HOOK_ID = 7;

/** Secret outputs, marked so a test can look for them in everything printed. */
export const OUTPUT_SECRETS = {
    accessKeyId: "r2akid0SENTINEL0005notreal0000000",
    secretAccessKey: "r2secret-SENTINEL-0006-not-real-0000000000000000000000000000",
    webhookUrl: "https://flux-webhook.monosense.dev/hook/5e1f0c7a9b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f",
    // The hub's service token for the apps cluster (accessServiceTokens), in Cloudflare's shapes.
    hubClientId: "SENTINEL0007notreal0000000000000.access",
    hubClientSecret: "SENTINEL0008-not-real-000000000000000000000000000000000000000000",
};

/** The names the committed infra stack gives a DNS record: the explicit hostnames of its tunnel's rules. */
export const RECORDED_HOSTS = ["external.monosense.dev", "flux-webhook.monosense.dev", "vm.monosense.dev", "logs.monosense.dev"];
/** The names the committed infra stack puts behind Access (cluster-bootstrap:access.hostnames), in its order. */
export const PROTECTED_HOSTS = ["grafana.monosense.dev", "alertmanager.monosense.dev", "vmui.monosense.dev", "hubble.monosense.dev",
    "vm.monosense.dev", "logs.monosense.dev"];
/** An application's AUD tag as Cloudflare makes them (64 hex digits), one per hostname. */
const audOf = (host: string) => createHash("sha256").update(`aud:${host}`).digest("hex");

const fine = (result: unknown): FakeAnswer => ({ status: 200, body: { success: true, errors: [], messages: [], result } });

/** A Flux object with a Ready condition for its current generation. */
export function fluxObject(apiVersion: string, kind: string, namespace: string, name: string, ready: boolean | "unknown" = true,
    reason = ready === true ? "Succeeded" : "Progressing", message = ready === true ? "Applied revision: main@sha1:0123abcd" : "Reconciliation in progress"): FluxObject {
    return {
        apiVersion, kind,
        metadata: { name, namespace, generation: 1 },
        status: { observedGeneration: 1, conditions: [{ type: "Ready", status: ready === true ? "True" : ready === false ? "False" : "Unknown", reason, message, observedGeneration: 1 }] },
    };
}

export interface VerifyWorld extends World {
    s3: FakeS3;
    /** Kubernetes objects by API path (`/apis/<group>/<version>/namespaces/<ns>/<plural>/<name>`). */
    objects: Map<string, FluxObject>;
    /** flux-system/cluster-vars's data; undefined: not found. */
    clusterVars?: Record<string, string>;
    /** Environment for verify: the preflight's plus the fake R2 endpoint. */
    env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
    /** Pings of the stack's webhook GitHub was asked for (`POST …/hooks/7/pings`); each adds a delivered ping. */
    pings: number;
}

export const objectPathOf = (apiVersion: string, plural: string, namespace: string, name: string) => `/apis/${apiVersion}/namespaces/${namespace}/${plural}/${name}`;

export async function verifyWorld(stack = "infra"): Promise<VerifyWorld> {
    const w = await world(stack) as VerifyWorld;
    w.s3 = await fakeS3({ accessKeyId: OUTPUT_SECRETS.accessKeyId, secretAccessKey: OUTPUT_SECRETS.secretAccessKey, buckets: [`${stack}-volsync`, `${stack}-cnpg`] });
    const base = w.env.bind(w);
    w.env = (extra = {}) => base({ CLUSTER_BOOTSTRAP_TEST_R2_ENDPOINT: w.s3.url, ...extra });
    const closeBase = w.close.bind(w);
    w.close = async () => {
        await Promise.all([closeBase(), w.s3.close()]);
    };

    w.scenario.outputs = {
        cluster: { value: stack },
        tunnelId: { value: TUNNEL_ID },
        tunnelCname: { value: `${TUNNEL_ID}.cfargotunnel.com` },
        // As the program lists them: the origin host, the webhook, the routes, the protected names under the wildcard, the wildcard.
        tunnelHostnames: { value: [...RECORDED_HOSTS, ...PROTECTED_HOSTS.filter((h) => !RECORDED_HOSTS.includes(h)), "*.monosense.dev"] },
        r2Endpoint: { value: `https://${ACCOUNT}.r2.cloudflarestorage.com` },
        r2Buckets: { value: { volsync: `${stack}-volsync`, cnpg: `${stack}-cnpg` } },
        r2AccessKeyId: { value: OUTPUT_SECRETS.accessKeyId, secret: true },
        r2SecretAccessKey: { value: OUTPUT_SECRETS.secretAccessKey, secret: true },
        fluxWebhookUrl: { value: OUTPUT_SECRETS.webhookUrl, secret: true },
        platformReleases: { value: ["kube-system/cilium", "kube-system/coredns", "kube-system/spegel"] },
        accessHostnames: { value: PROTECTED_HOSTS },
        accessAudTags: { value: Object.fromEntries(PROTECTED_HOSTS.map((h) => [h, audOf(h)])) },
        hubHostnames: { value: { "apps-to-hub": ["vm.monosense.dev", "logs.monosense.dev"] } },
        accessServiceTokens: { value: { "apps-to-hub": { clientId: OUTPUT_SECRETS.hubClientId, clientSecret: OUTPUT_SECRETS.hubClientSecret } }, secret: true },
        accessServiceTokenExpiry: { value: { "apps-to-hub": "2027-06-01T09:00:00Z" } },
    };
    w.save();

    // Cloudflare: a connected tunnel, the zone, a proxied CNAME per hostname the program gave a record, a self-hosted
    // Access application per protected hostname (the list endpoint filtered to that exact domain).
    const zone = "023e105f4ecef8ad9ca31a8372d0c353";
    w.cloudflareRoutes[`/accounts/${ACCOUNT}/cfd_tunnel/${TUNNEL_ID}/connections`] = fine([
        { id: "1bedc50d-42b3-473c-b108-ff3d10c0d925", version: "2025.8.0", conns: [{ colo_name: "ams01", is_pending_reconnect: false }, { colo_name: "fra06", is_pending_reconnect: false }] },
    ]);
    w.cloudflareRoutes[`/zones?${new URLSearchParams({ name: "monosense.dev", "account.id": ACCOUNT })}`] = fine([{ id: zone, name: "monosense.dev", status: "active" }]);
    for (const host of RECORDED_HOSTS) {
        w.cloudflareRoutes[`/zones/${zone}/dns_records?${new URLSearchParams({ "name.exact": host })}`] = fine([
            { id: `r-${host}`, type: "CNAME", name: host, content: `${TUNNEL_ID}.cfargotunnel.com`, proxied: true },
        ]);
    }

    for (const host of PROTECTED_HOSTS) {
        w.cloudflareRoutes[`/accounts/${ACCOUNT}/access/apps?${new URLSearchParams({ domain: host, exact: "true" })}`] = fine([
            { id: `app-${host}`, aud: audOf(host), name: host, domain: host, type: "self_hosted", destinations: [{ type: "public", uri: host }] },
        ]);
    }

    // GitHub: the webhook posting to the Receiver, whose first ping failed and whose last push succeeded.
    const repo = "/repos/monosense/k8s-ops";
    w.githubRoutes[`${repo}/hooks`] = { status: 200, body: [
        { id: 3, active: true, config: { url: "https://ci.example.invalid/hook", content_type: "json" } },
        { id: HOOK_ID, active: true, config: { url: OUTPUT_SECRETS.webhookUrl, content_type: "json", insecure_ssl: "0", secret: "********" } },
    ] };
    w.githubRoutes[`${repo}/hooks/${HOOK_ID}/deliveries`] = { status: 200, body: [
        { id: 101, guid: "b", delivered_at: "2025-06-02T10:00:00Z", redelivery: false, duration: 0.2, status: "OK", status_code: 200, event: "push", action: null },
        { id: 100, guid: "a", delivered_at: "2025-06-01T09:00:00Z", redelivery: false, duration: 10, status: "Invalid HTTP Response: 530", status_code: 530, event: "ping", action: null },
    ] };
    // A ping, as GitHub answers it (204, no body), delivered at once to the Receiver, which answers 200; every other
    // write is refused, as a read-only token's would be.
    w.pings = 0;
    const reads = w.github.handler;
    w.github.handler = (req: FakeRequest) => {
        if (req.method === "GET") return reads(req);
        if (req.method !== "POST" || req.path !== `${repo}/hooks/${HOOK_ID}/pings`) return { status: 404, body: { message: "Not Found" } };
        if (req.authorization !== `Bearer ${SECRETS.github}`) return { status: 401, body: { message: "Bad credentials" } };
        w.pings++;
        const deliveries = w.githubRoutes[`${repo}/hooks/${HOOK_ID}/deliveries`] as { body: Array<Record<string, unknown>> };
        deliveries.body.unshift({ id: 200 + w.pings, guid: `ping-${w.pings}`, delivered_at: "2025-06-03T08:00:00Z", redelivery: false, duration: 0.1,
            status: "OK", status_code: 200, event: "ping", action: null });
        return { status: 204, text: "" };
    };

    // Kubernetes: Flux Ready, the platform releases' HelmReleases Ready, cluster-vars as the stack writes it.
    w.objects = new Map();
    const put = (o: FluxObject, plural: string) => w.objects.set(objectPathOf(o.apiVersion!, plural, o.metadata!.namespace!, o.metadata!.name!), o);
    put(fluxObject("fluxcd.controlplane.io/v1", "FluxInstance", "flux-system", "flux"), "fluxinstances");
    put(fluxObject("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system", "k8s-ops"), "gitrepositories");
    put(fluxObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "k8s-ops"), "kustomizations");
    put(fluxObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "cluster-apps"), "kustomizations");
    for (const name of ["cilium", "coredns", "spegel"]) put(fluxObject("helm.toolkit.fluxcd.io/v2", "HelmRelease", "kube-system", name), "helmreleases");
    const receiver = fluxObject("notification.toolkit.fluxcd.io/v1", "Receiver", "flux-system", "github-receiver", true, "Succeeded",
        "Receiver initialized for path: /hook/5e1f0c7a9b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f");
    receiver.metadata!.annotations = { "reconcile.fluxcd.io/requestedAt": "rotation-webhook-token-00" };
    receiver.status!.lastHandledReconcileAt = "rotation-webhook-token-00";
    put(receiver, "receivers");
    w.clusterVars = {
        CLUSTER_NAME: stack, CLUSTER_ID: stack === "infra" ? "1" : "2", CLUSTER_DOMAIN: "monosense.dev", CLUSTER_CIDR: stack === "infra" ? "10.42.0.0/16" : "10.52.0.0/16",
        TUNNEL_ID, TUNNEL_HOSTNAME: "external.monosense.dev",
        R2_ENDPOINT: `https://${ACCOUNT}.r2.cloudflarestorage.com`, R2_BUCKET_VOLSYNC: `${stack}-volsync`, R2_BUCKET_CNPG: `${stack}-cnpg`,
        CLOUDFLARE_ZONE_ID: zone,
    };
    const preflightKube = w.kube.handler;
    w.kube.handler = (req: FakeRequest) => {
        if (req.authorization !== `Bearer ${SECRETS.kubeToken}`) return k8sStatus(401, "Unauthorized");
        if (req.method !== "GET") return k8sStatus(405, "MethodNotAllowed");
        if (req.path === "/api/v1/namespaces/flux-system/configmaps/cluster-vars") {
            return w.clusterVars === undefined ? k8sStatus(404, "NotFound")
                : { status: 200, body: { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "cluster-vars", namespace: "flux-system" }, data: w.clusterVars } };
        }
        if (req.path.startsWith("/apis/")) {
            const one = w.objects.get(req.path);
            if (one) return { status: 200, body: one };
            // A list: every object under the path.
            const items = [...w.objects].filter(([p]) => p.startsWith(`${req.path}/`) && !p.slice(req.path.length + 1).includes("/")).map(([, o]) => o);
            if (/^\/apis\/[^/]+\/[^/]+\/namespaces\/[^/]+\/[^/]+$/.test(req.path)) return { status: 200, body: { apiVersion: "v1", kind: "List", metadata: {}, items } };
            return k8sStatus(404, "NotFound");
        }
        return preflightKube(req);
    };
    return w;
}
