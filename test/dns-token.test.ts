// The DNS token through the whole program: its scope and permission groups as the provider receives them, the one zone
// lookup it shares with the CNAMEs, and the contract keys it adds, the token secret everywhere it goes.
import { describe, expect, it } from "vitest";
import { isWireSecret, plainAt, redact, runStack, reveal } from "./harness";
import { SECRET } from "./resource-types";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
const TOKEN = "cloudflare:index/accountToken:AccountToken";
const GROUPS = "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";
const ZONE_LOOKUP = "cloudflare:index/getZone:getZone";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const FAKE_TOKEN_VALUE = "placeholder:AccountToken/dns-token/value";

describe.each([
    { stack: "infra", domain: "monosense.dev" },
    { stack: "apps", domain: "monosense.io" },
])("DNS token on the $stack stack", ({ stack, domain }) => {
    const zoneId = `placeholder:zone/${domain}/id`;

    it("reaches the cluster's zone alone, with Zone Read and DNS Write looked up by name in the zone scope", async () => {
        const run = await runStack({ stack });
        expect(run.error).toBeUndefined();
        const token = run.one(TOKEN, "dns-token");
        expect(token.inputs.accountId).toBe(ACCOUNT);
        expect(token.inputs.name).toBe(`${stack} cluster DNS (external-dns, cert-manager)`);
        const policies = plainAt(token, "policies") as Array<{ effect: string; permissionGroups: Array<{ id: string }>; resources: string }>;
        expect(policies).toHaveLength(1);
        expect(policies[0].effect).toBe("allow");
        expect(policies[0].resources).toBe(JSON.stringify({ [`com.cloudflare.api.account.zone.${zoneId}`]: "*" }));
        expect(policies[0].permissionGroups).toEqual([
            { id: "placeholder:permission-group/Zone Read/id" },
            { id: "placeholder:permission-group/DNS Write/id" },
        ]);
        const lookups = run.invokes.filter((i) => i.token === GROUPS && i.args.scope !== undefined).map((i) => reveal(i.args));
        expect(lookups).toEqual([
            { accountId: ACCOUNT, name: "Zone Read", scope: "com.cloudflare.api.account.zone" },
            { accountId: ACCOUNT, name: "DNS Write", scope: "com.cloudflare.api.account.zone" },
        ]);
    });

    it("uses the zone id of ClusterEdge's one lookup, which it exposes", async () => {
        const run = await runStack({ stack });
        expect(run.invokes.filter((i) => i.token === ZONE_LOOKUP)).toHaveLength(1);
        const edge = run.resources.find((r) => r.type === "cluster-bootstrap:edge:ClusterEdge")!;
        expect(run.componentOutputs[edge.urn].zoneId).toBe(zoneId);
        const dns = run.resources.find((r) => r.type === "cluster-bootstrap:dns-token:DnsToken")!;
        expect(run.componentOutputs[dns.urn].zoneId).toBe(zoneId);
    });

    it("hands CLOUDFLARE_ZONE_ID to cluster-vars and CLOUDFLARE_DNS_TOKEN, secret, to cluster-secrets only", async () => {
        const run = await runStack({ stack });
        const vars = run.one(CONFIG_MAP, "contract-vars");
        expect(plainAt(vars, "data.CLOUDFLARE_ZONE_ID")).toBe(zoneId);
        expect(plainAt(vars, "data.CLOUDFLARE_DNS_TOKEN")).toBeUndefined();
        const secrets = run.one(SECRET, "contract-secrets");
        expect(isWireSecret(secrets.inputs.stringData)).toBe(true);
        expect(plainAt(secrets, "stringData.CLOUDFLARE_DNS_TOKEN")).toBe(FAKE_TOKEN_VALUE);
        expect(plainAt(secrets, "stringData.CLOUDFLARE_ZONE_ID")).toBeUndefined();
        expect(secrets.dependencies).toContain(run.one(TOKEN, "dns-token").urn);
    });

    it("keeps the token secret where the component hands it on, and out of the stack outputs", async () => {
        const run = await runStack({ stack });
        const dns = run.resources.find((r) => r.type === "cluster-bootstrap:dns-token:DnsToken")!;
        expect(isWireSecret(run.componentOutputs[dns.urn].token)).toBe(true);
        expect(isWireSecret(run.componentOutputs[dns.urn].zoneId)).toBe(false);
        expect(run.one(TOKEN, "dns-token").options.additionalSecretOutputs).toContain("value");
        expect(JSON.stringify([redact(run.outputs), Object.values(run.componentOutputs).map(redact)])).not.toContain(FAKE_TOKEN_VALUE);
    });
});
