import { describe, expect, it } from "vitest";
import { edgeContractPart, routedHostnames, tunnelCnameTarget } from "./edge";
import { mergeContract } from "./contract";
import { ingressRules } from "../config/routing";

describe("edge pure parts", () => {
    it("points CNAMEs at <tunnel id>.cfargotunnel.com", () => {
        expect(tunnelCnameTarget("c1744f8b-faa1-48a4-9e5c-02ac921467fa")).toBe("c1744f8b-faa1-48a4-9e5c-02ac921467fa.cfargotunnel.com");
    });

    it("hands the tunnel id and origin host as variables, the token as the only secret", () => {
        const part = edgeContractPart({ id: "tid", originHost: "external.example.com", token: "tok" });
        expect(part).toEqual({
            vars: { TUNNEL_ID: "tid", TUNNEL_HOSTNAME: "external.example.com" },
            secrets: { CLOUDFLARE_TUNNEL_TOKEN: "tok" },
        });
        // Valid substitution names that merge with the cluster's own keys.
        expect(() => mergeContract([part])).not.toThrow();
    });

    it("lists routed hostnames in rule order, wildcards in, catch-all out", () => {
        const rules = ingressRules({
            domain: "example.com",
            originHost: "external.example.com",
            gateway: "https://envoy.networking.svc.cluster.local",
            routes: [{ hostname: "git.example.com", service: "http://gitea.dev.svc:3000" }],
        });
        expect(routedHostnames(rules)).toEqual(["external.example.com", "flux-webhook.example.com", "git.example.com", "*.example.com"]);
    });
});
