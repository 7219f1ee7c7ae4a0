import { describe, expect, it } from "vitest";
import { mergeContract } from "./contract";
import { dnsContractPart, dnsTokenName, dnsTokenResources, zoneResourceKey } from "./dns-token";
import { edgeContractPart } from "./edge";
import { DNS_PERMISSION_GROUPS, ZONE_PERMISSION_SCOPE } from "../providers/cloudflare-permissions";

const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";

describe("DNS token scope", () => {
    it("names the one zone, by Cloudflare's single-zone key, and nothing else", () => {
        expect(zoneResourceKey(ZONE)).toBe(`com.cloudflare.api.account.zone.${ZONE}`);
        expect(JSON.parse(dnsTokenResources(ZONE))).toEqual({ [`com.cloudflare.api.account.zone.${ZONE}`]: "*" });
        expect(dnsTokenResources(ZONE)).toBe(`{"com.cloudflare.api.account.zone.${ZONE}":"*"}`);
    });

    it("refuses an empty or wildcard zone id, which would widen the token", () => {
        expect(() => dnsTokenResources("")).toThrow(/one zone/);
        expect(() => dnsTokenResources("*")).toThrow(/one zone/);
    });

    it("asks for Zone Read and DNS Write, the dashboard's Zone: Read and DNS: Edit, in the zone scope", () => {
        expect([...DNS_PERMISSION_GROUPS]).toEqual(["Zone Read", "DNS Write"]);
        expect(ZONE_PERMISSION_SCOPE).toBe("com.cloudflare.api.account.zone");
    });

    it("is named after the cluster and its users", () => {
        expect(dnsTokenName("infra")).toBe("infra cluster DNS (external-dns, cert-manager)");
    });
});

describe("DNS contract part", () => {
    it("puts the zone id in cluster-vars and the token only in cluster-secrets", () => {
        const part = dnsContractPart({ zoneId: ZONE, token: "tok" });
        expect(part).toEqual({ vars: { CLOUDFLARE_ZONE_ID: ZONE }, secrets: { CLOUDFLARE_DNS_TOKEN: "tok" } });
        const merged = mergeContract([part, edgeContractPart({ id: "tid", originHost: "external.example.com", token: "t" })]);
        expect(Object.keys(merged.vars).sort()).toEqual(["CLOUDFLARE_ZONE_ID", "TUNNEL_HOSTNAME", "TUNNEL_ID"]);
        expect(Object.keys(merged.secrets).sort()).toEqual(["CLOUDFLARE_DNS_TOKEN", "CLOUDFLARE_TUNNEL_TOKEN"]);
    });

    it("cannot be given twice: two capabilities would fight over the same keys", () => {
        const part = dnsContractPart({ zoneId: ZONE, token: "tok" });
        expect(() => mergeContract([part, part])).toThrow("contract key CLOUDFLARE_ZONE_ID is provided twice");
        expect(() => mergeContract([part, { vars: {}, secrets: { CLOUDFLARE_DNS_TOKEN: "x" } }])).toThrow("contract key CLOUDFLARE_DNS_TOKEN is provided twice");
    });
});
