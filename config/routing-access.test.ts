// Access on the tunnel's rules: cloudflared checks the Access token only where a rule carries `originRequest.access`,
// so every rule that can take a protected hostname's requests must carry it, and no other rule.
import { describe, expect, it } from "vitest";
import {
    CATCH_ALL, FLUX_WEBHOOK_SERVICE, hostMatches, ingressRules, routesHostname, tunnelDnsNames, type IngressRule, type RuleAccess,
    type RoutingInput, type TunnelRoute,
} from "./routing";

const GATEWAY = "https://envoy-external.networking.svc.cluster.local";
const TLS = { originServerName: "external.example.com", http2Origin: true };
const access = (aud: string): RuleAccess => ({ required: true, teamName: "monosense", audTags: [aud] });
const input = (routes: TunnelRoute[], protectedHosts: Record<string, RuleAccess>): RoutingInput & { gateway: string } => ({
    domain: "example.com",
    originHost: "external.example.com",
    gateway: GATEWAY,
    routes,
    access: protectedHosts,
});

describe("hostMatches (cloudflared's matchHost)", () => {
    it("takes the same name, or any name under a *. rule at any depth, never the apex", () => {
        expect(hostMatches("a.example.com", "a.example.com")).toBe(true);
        expect(hostMatches("*.example.com", "a.example.com")).toBe(true);
        expect(hostMatches("*.example.com", "a.b.example.com")).toBe(true);
        expect(hostMatches("*.example.com", "example.com")).toBe(false);
        expect(hostMatches("a.example.com", "b.example.com")).toBe(false);
        expect(hostMatches("*.b.example.com", "a.example.com")).toBe(false);
    });
});

describe("ingressRules with Access hostnames", () => {
    it("attaches the check to the explicit rules of a protected hostname, path rules included, and to nothing else", () => {
        const rules = ingressRules(input([
            { hostname: "git.example.com", path: "^/api/", service: "http://gitea-api.dev.svc.cluster.local:3000" },
            { hostname: "git.example.com", service: "http://gitea.dev.svc.cluster.local:3000" },
            { hostname: "wiki.example.com", service: "http://wiki.dev.svc.cluster.local" },
        ], { "git.example.com": access("aud-git"), "external.example.com": access("aud-origin") }));
        expect(rules).toEqual([
            { hostname: "external.example.com", service: GATEWAY, originRequest: { ...TLS, access: access("aud-origin") } },
            { hostname: "flux-webhook.example.com", service: FLUX_WEBHOOK_SERVICE },
            { hostname: "git.example.com", path: "^/api/", service: "http://gitea-api.dev.svc.cluster.local:3000", originRequest: { access: access("aud-git") } },
            { hostname: "git.example.com", service: "http://gitea.dev.svc.cluster.local:3000", originRequest: { access: access("aud-git") } },
            { hostname: "wiki.example.com", service: "http://wiki.dev.svc.cluster.local" },
            { hostname: "*.example.com", service: GATEWAY, originRequest: TLS },
            CATCH_ALL,
        ]);
    });

    it("gives a name only the zone wildcard routes its own rule to the gateway, right before the wildcard, which stays open", () => {
        const rules = ingressRules(input([], { "grafana.example.com": access("aud-grafana"), "vm.example.com": access("aud-vm") }));
        expect(rules.slice(2)).toEqual([
            { hostname: "grafana.example.com", service: GATEWAY, originRequest: { ...TLS, access: access("aud-grafana") } },
            { hostname: "vm.example.com", service: GATEWAY, originRequest: { ...TLS, access: access("aud-vm") } },
            { hostname: "*.example.com", service: GATEWAY, originRequest: TLS },
            CATCH_ALL,
        ]);
    });

    it("copies a configured wildcard route for a name it routes, before that route, and leaves the zone wildcard alone", () => {
        const rules = ingressRules(input([
            { hostname: "*.lab.example.com", service: "http://lab-gateway.lab.svc.cluster.local" },
        ], { "ui.lab.example.com": access("aud-ui") }));
        expect(rules.slice(2)).toEqual([
            { hostname: "ui.lab.example.com", service: "http://lab-gateway.lab.svc.cluster.local", originRequest: { access: access("aud-ui") } },
            { hostname: "*.lab.example.com", service: "http://lab-gateway.lab.svc.cluster.local" },
            { hostname: "*.example.com", service: GATEWAY, originRequest: TLS },
            CATCH_ALL,
        ]);
    });

    it("guards the rest of a name whose own routes all have a path: its requests on other paths reach the zone wildcard", () => {
        const rules = ingressRules(input([
            { hostname: "vm.example.com", path: "^/api/v1/write$", service: "http://vminsert.monitoring.svc.cluster.local:8480" },
        ], { "vm.example.com": access("aud-vm") }));
        expect(rules.slice(2)).toEqual([
            { hostname: "vm.example.com", path: "^/api/v1/write$", service: "http://vminsert.monitoring.svc.cluster.local:8480", originRequest: { access: access("aud-vm") } },
            { hostname: "vm.example.com", service: GATEWAY, originRequest: { ...TLS, access: access("aud-vm") } },
            { hostname: "*.example.com", service: GATEWAY, originRequest: TLS },
            CATCH_ALL,
        ]);
    });

    it("adds nothing without Access hostnames, and never an access block on the catch-all", () => {
        const plain = ingressRules(input([{ hostname: "a.example.com", service: "http://a.b.svc" }], {}));
        expect(plain.some((r) => r.originRequest?.access !== undefined)).toBe(false);
        const guarded = ingressRules(input([], { "a.example.com": access("x") }));
        expect(guarded.at(-1)).toEqual(CATCH_ALL);
        expect(guarded.filter((r) => r.originRequest?.access !== undefined).map((r) => r.hostname)).toEqual(["a.example.com"]);
    });

    it("keeps tags given as provider outputs as they are", () => {
        const aud = { pending: "the application's aud" };
        const rules: IngressRule<typeof aud>[] = ingressRules<typeof aud>({
            domain: "example.com", originHost: "external.example.com", gateway: GATEWAY, routes: [],
            access: { "a.example.com": { required: true, teamName: "t", audTags: [aud] } },
        });
        expect(rules.find((r) => r.hostname === "a.example.com")?.originRequest?.access?.audTags[0]).toBe(aud);
    });

    it("refuses a hostname no rule routes (the apex, which the zone wildcard never takes)", () => {
        expect(() => ingressRules(input([], { "example.com": access("x") }))).toThrow('"example.com" is not routed by the tunnel');
    });

    it("gives no copy a DNS record when DNS names come from the rules without Access, as the edge takes them", () => {
        const base = input([{ hostname: "git.example.com", service: "http://gitea.dev.svc" }], {});
        const withAccess = { ...base, access: { "git.example.com": access("g"), "grafana.example.com": access("x") } };
        expect(tunnelDnsNames(ingressRules(base))).toEqual(["external.example.com", "flux-webhook.example.com", "git.example.com"]);
        expect(tunnelDnsNames(ingressRules(withAccess))).toContain("grafana.example.com");
    });
});

describe("routesHostname", () => {
    const check = { domain: "example.com", originHost: "external.example.com", routes: [{ hostname: "git.example.com", service: "http://a.b.svc" }] };

    it("counts the origin host, the webhook host, routes and names under the zone wildcard", () => {
        for (const h of ["external.example.com", "flux-webhook.example.com", "git.example.com", "grafana.example.com", "a.b.example.com"]) {
            expect(routesHostname(check, h), h).toBe(true);
        }
    });

    it("does not count the apex or names outside the zone", () => {
        expect(routesHostname(check, "example.com")).toBe(false);
        expect(routesHostname(check, "grafana.example.org")).toBe(false);
        expect(routesHostname({ ...check, domain: undefined }, "grafana.example.com")).toBe(false);
    });
});
