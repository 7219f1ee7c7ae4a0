import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import { toPlanJson } from "../offline/runtime";
import { isWireSecret, plainAt, runStack } from "./harness";
import { TUNNEL, TUNNEL_CONFIG, DNS } from "./resource-types";

// cloudflared's Access check on a protected hostname's rule, with the tag of that hostname's application.
const accessCheck = (host: string) => ({ access: { required: true, teamName: "monosense", audTags: [`placeholder:ZeroTrustAccessApplication/access-app-${host}/aud`] } });
const INFRA_GATEWAY = "https://envoy-external.networking.svc.cluster.local";
type Rule = { hostname: string; service: string; originRequest: Record<string, unknown> };

describe.each([
    {
        stack: "infra", domain: "monosense.dev", gateway: INFRA_GATEWAY,
        // The rules between the webhook's and the wildcard's: the hub's write endpoints on their own routes, then the
        // operator UIs under the zone wildcard on rules of their own; each behind Access. Only the routes get a record.
        rules: [
            { hostname: "vm.monosense.dev", service: "http://vminsert-victoria.observability.svc.cluster.local:8480", originRequest: accessCheck("vm.monosense.dev") },
            { hostname: "logs.monosense.dev", service: "http://victoria-logs.observability.svc.cluster.local:9428", originRequest: accessCheck("logs.monosense.dev") },
            ...["grafana", "alertmanager", "vmui", "hubble"].map((name) => ({
                hostname: `${name}.monosense.dev`, service: INFRA_GATEWAY,
                originRequest: { originServerName: "external.monosense.dev", http2Origin: true, ...accessCheck(`${name}.monosense.dev`) },
            })),
        ] as Rule[],
        records: ["vm.monosense.dev", "logs.monosense.dev"],
    },
    { stack: "apps", domain: "monosense.io", gateway: "https://envoy-gateway-external.networking.svc.cluster.local", rules: [] as Rule[], records: [] },
])("edge on the $stack stack", ({ stack, domain, gateway, rules, records: routed }) => {
    it("creates one protected, remotely-managed tunnel named after the cluster, with a secret 32-byte secret", async () => {
        const run = await runStack({ stack });
        expect(run.error).toBeUndefined();
        const tunnel = run.one(TUNNEL);
        expect(tunnel.inputs.name).toBe(stack);
        expect(tunnel.inputs.configSrc).toBe("cloudflare");
        expect(tunnel.options.protect).toBe(true);
        expect(isWireSecret(tunnel.inputs.tunnelSecret)).toBe(true);
        const bytes = run.one("random:index/randomBytes:RandomBytes", "edge-tunnel-secret");
        expect(bytes.inputs.length).toBe(32);
        expect(tunnel.dependencies).toContain(bytes.urn);
        expect(Buffer.from(plainAt(tunnel, "tunnelSecret") as string, "base64")).toHaveLength(32);
    });

    it(`routes the origin host and *.${domain} to the stack's gateway, the webhook to Flux, then 404`, async () => {
        const run = await runStack({ stack });
        const tunnel = run.one(TUNNEL);
        const config = run.one(TUNNEL_CONFIG);
        expect(config.inputs.tunnelId).toBe(tunnel.id);
        expect(config.inputs.accountId).toBe("eca0833f608b5745af030307a99bdbb4");
        const tls = { originServerName: `external.${domain}`, http2Origin: true };
        expect(plainAt(config, "config.ingresses")).toEqual([
            { hostname: `external.${domain}`, service: gateway, originRequest: tls },
            { hostname: `flux-webhook.${domain}`, service: "http://webhook-receiver.flux-system.svc.cluster.local" },
            ...rules,
            { hostname: `*.${domain}`, service: gateway, originRequest: tls },
            { service: "http_status:404" },
        ]);
    });

    it("gives every explicit hostname a proxied, auto-TTL CNAME to the tunnel in the cluster's zone", async () => {
        const run = await runStack({ stack });
        const tunnel = run.one(TUNNEL);
        const records = run.ofType(DNS);
        expect(records.map((r) => r.inputs.name).sort()).toEqual([`external.${domain}`, `flux-webhook.${domain}`, ...routed].sort());
        for (const r of records) {
            expect(r.inputs).toMatchObject({
                type: "CNAME",
                content: `${tunnel.id}.cfargotunnel.com`,
                proxied: true,
                ttl: 1,
                // The fake zone lookup answers with the name it was asked for: the zone is the cluster's domain.
                zoneId: `placeholder:zone/${domain}/id`,
            });
            expect(r.dependencies).toContain(tunnel.urn);
        }
    });

    it("outputs the tunnel id, the CNAME target and the routed hostnames", async () => {
        const run = await runStack({ stack });
        const tunnel = run.one(TUNNEL);
        expect(run.plainOutputs()).toMatchObject({
            tunnelId: tunnel.id,
            tunnelCname: `${tunnel.id}.cfargotunnel.com`,
            tunnelHostnames: [`external.${domain}`, `flux-webhook.${domain}`, ...rules.map((r) => r.hostname), `*.${domain}`],
        });
    });

    it("hands Flux TUNNEL_ID and TUNNEL_HOSTNAME in cluster-vars, the token only in cluster-secrets", async () => {
        const run = await runStack({ stack });
        const tunnel = run.one(TUNNEL);
        const vars = run.one("kubernetes:core/v1:ConfigMap", "contract-vars");
        expect(plainAt(vars, "data")).toMatchObject({ TUNNEL_ID: tunnel.id, TUNNEL_HOSTNAME: `external.${domain}` });
        expect(plainAt(vars, "data.CLOUDFLARE_TUNNEL_TOKEN")).toBeUndefined();
        const secrets = run.one("kubernetes:core/v1:Secret", "contract-secrets");
        expect(isWireSecret(secrets.inputs.stringData)).toBe(true);
        // The token the invoke returns for this tunnel and its secret (see offline/fakes.ts), so it was asked for the
        // right one.
        const secretDigest = crypto.createHash("sha256").update(plainAt(tunnel, "tunnelSecret") as string).digest("hex").slice(0, 8);
        expect(plainAt(secrets, "stringData.CLOUDFLARE_TUNNEL_TOKEN")).toBe(`placeholder:tunnel-token/${tunnel.id}/${secretDigest}`);
        expect(secrets.dependencies).toContain(tunnel.urn);
    });

    it("never shows the tunnel token or secret in the plan", async () => {
        const run = await runStack({ stack });
        const json = JSON.stringify(toPlanJson(run));
        expect(json).not.toContain("placeholder:tunnel-token/");
        const secretBytes = plainAt(run.one(TUNNEL), "tunnelSecret") as string;
        expect(json).not.toContain(secretBytes);
    });
});

describe("edge with configured routes", () => {
    // The infra stack with these routes instead of its own, and without the Access that protects its own.
    const tunnel = (routes: unknown[], originHost?: string) => (v: Record<string, unknown>) => ({
        ...v,
        tunnel: { ...(v.tunnel as object), routes, ...(originHost ? { originHost } : {}) },
        access: undefined,
    });

    it("adds the routes before the zone wildcard and a CNAME for each explicit one", async () => {
        const run = await runStack({
            edit: tunnel([
                { hostname: "git.monosense.dev", service: "http://gitea.dev.svc.cluster.local:3000" },
                { hostname: "*.lab.monosense.dev", service: "http://lab.dev.svc.cluster.local" },
            ], "ingress.monosense.dev"),
        });
        expect(run.error).toBeUndefined();
        const ingresses = plainAt(run.one(TUNNEL_CONFIG), "config.ingresses") as Array<{ hostname?: string }>;
        expect(ingresses.map((r) => r.hostname)).toEqual([
            "ingress.monosense.dev", "flux-webhook.monosense.dev", "git.monosense.dev", "*.lab.monosense.dev", "*.monosense.dev", undefined,
        ]);
        expect(run.ofType(DNS).map((r) => r.inputs.name).sort()).toEqual(["flux-webhook.monosense.dev", "git.monosense.dev", "ingress.monosense.dev"]);
    });

    it("refuses a shadowed route with its key and registers nothing", async () => {
        const run = await runStack({
            edit: tunnel([{ hostname: "flux-webhook.monosense.dev", service: "http://x.y.svc.cluster.local" }]),
        });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect((run.error as ConfigError).problems).toEqual([
            'cluster-bootstrap:tunnel.routes[0].hostname: "flux-webhook.monosense.dev" duplicates the Flux webhook route the program adds (flux-webhook.monosense.dev); remove one',
        ]);
        expect(run.resources.filter((r) => r.custom)).toEqual([]);
    });
});
