import { describe, expect, it } from "vitest";
import {
    adoptionKey, credentialDigest, emptyCloudState, namesakeNotes, nothingToAdopt, planAdoption, removeKeyNote, wantedCloudflare,
    type CloudState, type WantedCloudflare,
} from "./adoption";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
const wanted: WantedCloudflare = {
    accountId: ACCOUNT, jurisdiction: "default", buckets: ["b1"], tunnel: "infra", dnsNames: ["x.example.com"],
    accessHostnames: [], serviceTokens: [], clusterName: "infra",
};
const found = (over: Partial<CloudState>): CloudState => ({ ...emptyCloudState(), ...over });

describe("what the program manages", () => {
    it("takes the CNAMEs from the routes and the policies only with Access", () => {
        const w = wantedCloudflare({
            cluster: { name: "infra", domain: "example.com" },
            cloudflareAccountId: ACCOUNT,
            r2: { jurisdiction: "eu", buckets: [{ name: "b1" }] },
            tunnel: { originHost: "external.example.com", gateway: "https://envoy.networking.svc.cluster.local", routes: [{ hostname: "app.example.com", service: "http://a.b.svc" }] },
        });
        // The zone wildcard gets no record: its DNS is external-dns's.
        expect(w.dnsNames).toEqual(["external.example.com", "flux-webhook.example.com", "app.example.com"]);
        expect(w).toMatchObject({ jurisdiction: "eu", buckets: ["b1"], tunnel: "infra", accessHostnames: [] });
        expect(planAdoption(w, found({}), {}, "z").items.filter((i) => i.kind === "Access policy")).toEqual([]);
    });
});

describe("the decision", () => {
    it("adopts what exists, creates what does not", () => {
        const plan = planAdoption(wanted, found({ r2Buckets: [{ name: "b1", location: "ENAM" }] }), {}, "z");
        expect(plan.problems).toEqual([]);
        expect(plan.imports.buckets).toEqual({ b1: { importId: `${ACCOUNT}/b1/default`, location: "ENAM", storageClass: undefined } });
        expect(plan.items.map((i) => `${i.kind}:${i.action}`)).toEqual([
            "R2 bucket:adopt", "tunnel:create", "tunnel configuration:create", "DNS record:create",
        ]);
        expect(nothingToAdopt(plan)).toBe(false);
    });

    it("never takes a bucket of another jurisdiction for this one", () => {
        const plan = planAdoption(wanted, found({ r2Buckets: [{ name: "b1", jurisdiction: "eu" }] }), {}, "z");
        expect(plan.imports.buckets).toEqual({});
    });

    it("leaves alone what the state already holds, and says the key can go when nothing is left", () => {
        const cloud = found({
            r2Buckets: [{ name: "b1" }], tunnels: [{ id: "t1", name: "infra" }], tunnelConfigs: [{ tunnelId: "t1", source: "cloudflare" }],
            dnsRecords: [{ id: "r1", name: "x.example.com", type: "CNAME" }],
        });
        const recorded = {
            [adoptionKey("R2 bucket", "b1")]: `${ACCOUNT}/b1/default`,
            [adoptionKey("tunnel", "infra")]: `${ACCOUNT}/t1`,
            [adoptionKey("tunnel configuration", "infra")]: `${ACCOUNT}/t1`,
            [adoptionKey("DNS record", "x.example.com")]: "z/r1",
        };
        const plan = planAdoption(wanted, cloud, recorded, "z");
        expect(plan.items.every((i) => i.action === "in-state")).toBe(true);
        expect(plan.imports).toEqual({ buckets: {}, dnsRecords: {}, accessApplications: {}, accessPolicies: {} });
        expect(nothingToAdopt(plan)).toBe(true);
        expect(removeKeyNote(plan, "infra")).toContain("remove the key: pulumi config rm adopt --stack infra");
        // Recorded but gone from the account: still the state's (a refresh notices), never "created" here.
        expect(planAdoption(wanted, found({}), recorded, "z").items.map((i) => i.action)).toEqual(["in-state", "in-state", "in-state", "in-state"]);
    });

    it("refuses when the state holds another object than the account's under the same name", () => {
        const plan = planAdoption(wanted, found({ tunnels: [{ id: "t2", name: "infra" }] }), { [adoptionKey("tunnel", "infra")]: `${ACCOUNT}/t1` }, "z");
        expect(plan.problems).toEqual([
            `cluster-bootstrap:adopt: this stack's state holds the tunnel infra as ${ACCOUNT}/t1, but the account's is ${ACCOUNT}/t2: to adopt the account's, `
            + "drop the state's first (`pulumi state delete <urn>`, `pulumi stack --show-urns` lists them); to keep the state's, delete or rename the "
            + "account's; then run again",
        ]);
        expect(plan.imports.tunnel).toBeUndefined();
    });

    it("refuses two CNAMEs of one name, and a tunnel whose configuration is local", () => {
        const plan = planAdoption(wanted, found({
            dnsRecords: [{ id: "r1", name: "x.example.com", type: "CNAME" }, { id: "r2", name: "x.example.com", type: "CNAME" }],
            tunnels: [{ id: "t1", name: "infra", configSrc: "cloudflare" }], tunnelConfigs: [{ tunnelId: "t1", source: "local" }],
        }), {}, "z");
        expect(plan.problems).toHaveLength(2);
        expect(plan.problems[0]).toContain('the tunnel "infra" (id t1) is locally managed');
        expect(plan.problems[1]).toContain("the DNS name x.example.com has 2 CNAME records (ids r1, r2)");
    });
});

describe("credentials", () => {
    const names = {
        accountTokens: ["infra cluster backups (R2 objects)"], accessServiceTokens: [], deployKeyTitle: "flux-infra",
        webhookUrlPrefix: "https://flux-webhook.example.com/", repository: "o/r", accountId: ACCOUNT,
    };

    it("lists old namesakes, never the stack's own (recorded as digests, a deploy key's as the listing gives its id)", () => {
        const cloud = found({
            accountTokens: [
                { id: "0123456789abcdef0123456789ab01d0", name: "infra cluster backups (R2 objects)" },
                { id: "mine", name: "infra cluster backups (R2 objects)" },
            ],
            deployKeys: [{ id: "1", title: "flux-infra" }, { id: "2", title: "flux-infra" }],
            webhooks: [{ id: "7", url: "https://flux-webhook.example.com/hook/aa" }],
        });
        const own = new Set([credentialDigest("mine"), credentialDigest("r:2"), credentialDigest("7")]);
        const notes = namesakeNotes(names, cloud, own);
        expect(notes).toHaveLength(2);
        // The old token's id is an S3 access key id: only its end, to tell it from the new namesake.
        expect(notes[0]).toContain("(id ending in 01d0)");
        expect(notes[0]).not.toContain("0123456789abcdef");
        expect(notes[1]).toContain("gh repo deploy-key delete 1 -R o/r");
        expect(credentialDigest("r:2")).toBe(credentialDigest("2"));
    });
});
