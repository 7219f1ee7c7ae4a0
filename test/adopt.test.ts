// `cluster-bootstrap:adopt` on the whole program: an account that already holds everything, half of it, or something
// unclear; a later run with everything in the state; and `--cloud-state` read as the offline plan reads it. The
// lookups answer from the cloud state as the APIs would (offline/fakes.ts); what the state holds comes from the stack's
// own outputs, as a StackReference to itself reads them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import { ROOT } from "../config/keys";
import { readClusterState } from "../offline/cluster-state";
import { CloudStateFileError, parseCloudState, type OfflineCloudState } from "../offline/cloud-state";
import { toPlanJson } from "../offline/runtime";
import { credentialDigest, emptyCloudState } from "../providers/adoption";
import { withAccess } from "./access-fixtures";
import { plainAt, runStack, type StackRun, type Values } from "./harness";
import { runPlan } from "./plan-command";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
const ZONE = "placeholder:zone/monosense.dev/id";
const TUNNEL = "c4f1a3e2-6b7d-4e8f-9a0b-1c2d3e4f5a6b";
const T = {
    bucket: "cloudflare:index/r2Bucket:R2Bucket",
    lifecycle: "cloudflare:index/r2BucketLifecycle:R2BucketLifecycle",
    tunnel: "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
    config: "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
    record: "cloudflare:index/dnsRecord:DnsRecord",
    app: "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
    policy: "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy",
    accountToken: "cloudflare:index/accountToken:AccountToken",
    serviceToken: "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken",
    deployKey: "github:index/repositoryDeployKey:RepositoryDeployKey",
    webhook: "github:index/repositoryWebhook:RepositoryWebhook",
    stackRef: "pulumi:pulumi:StackReference",
};
const ADOPTABLE = [T.bucket, T.tunnel, T.config, T.record, T.app, T.policy];

/** The infra stack with Access (CNAMEs external, flux-webhook and vm; applications grafana and vm) and `adopt`. */
const adopting = (adopt = true) => (v: Values): Values => ({ ...withAccess(v), adopt });

/** An account that holds every object the infra stack with Access manages, and old credentials of the same names. */
function everything(): OfflineCloudState {
    return {
        ...emptyCloudState(),
        r2Buckets: [
            { name: "infra-volsync", location: "WEUR", storageClass: "InfrequentAccess" },
            { name: "infra-cnpg", location: "WEUR", storageClass: "Standard" },
            // Another jurisdiction's bucket of the same name is another bucket: never adopted for a default one.
            { name: "infra-cnpg", jurisdiction: "eu", location: "WEUR", storageClass: "Standard" },
        ],
        tunnels: [
            { id: TUNNEL, name: "infra", configSrc: "cloudflare" },
            // A deleted tunnel keeps its name in the list: never adopted.
            { id: "0d0d0d0d-0000-4000-8000-000000000000", name: "infra", deletedAt: "2026-01-02T03:04:05Z" },
        ],
        dnsRecords: [
            { id: "rec-external", name: "external.monosense.dev", type: "CNAME", content: `${TUNNEL}.cfargotunnel.com`, proxied: true },
            { id: "rec-webhook", name: "flux-webhook.monosense.dev", type: "CNAME", content: `${TUNNEL}.cfargotunnel.com`, proxied: true },
            { id: "rec-vm", name: "vm.monosense.dev", type: "CNAME", content: "old-tunnel.cfargotunnel.com", proxied: false },
            // Names the program does not manage are left alone.
            { id: "rec-www", name: "www.monosense.dev", type: "A", content: "192.0.2.1" },
        ],
        accessApplications: [
            { id: "app-grafana", name: "grafana.monosense.dev", domain: "grafana.monosense.dev" },
            { id: "app-vm", name: "vm.monosense.dev", domain: "vm.monosense.dev" },
        ],
        accessPolicies: [
            { id: "pol-allow", name: "infra: allow" },
            { id: "pol-token", name: "infra: service token apps-to-hub" },
            { id: "pol-other", name: "apps: allow" },
        ],
        accountTokens: [
            { id: "tok-backups", name: "infra cluster backups (R2 objects)" },
            { id: "tok-dns", name: "infra cluster DNS (external-dns, cert-manager)" },
            { id: "tok-other", name: "someone else's token" },
        ],
        accessServiceTokens: [{ id: "st-old", name: "apps-to-hub" }],
        deployKeys: [{ id: "4711", title: "flux-infra" }, { id: "4712", title: "flux-apps" }],
        webhooks: [
            { id: "815", url: "https://flux-webhook.monosense.dev/hook/0123abcd" },
            { id: "816", url: "https://ci.example.com/hook" },
        ],
    };
}

const importOf = (run: StackRun, type: string, name: string) => run.one(type, name).options.import;

describe("adopt, on an account where everything exists", () => {
    it("imports every bucket, the tunnel and its configuration, every CNAME and Access object by its provider import ID", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything() });
        expect(run.error).toBeUndefined();
        expect(importOf(run, T.bucket, "backups-infra-volsync")).toBe(`${ACCOUNT}/infra-volsync/default`);
        expect(importOf(run, T.bucket, "backups-infra-cnpg")).toBe(`${ACCOUNT}/infra-cnpg/default`);
        expect(importOf(run, T.tunnel, "edge-tunnel")).toBe(`${ACCOUNT}/${TUNNEL}`);
        expect(importOf(run, T.config, "edge-tunnel-config")).toBe(`${ACCOUNT}/${TUNNEL}`);
        expect(importOf(run, T.record, "edge-cname-external.monosense.dev")).toBe(`${ZONE}/rec-external`);
        expect(importOf(run, T.record, "edge-cname-flux-webhook.monosense.dev")).toBe(`${ZONE}/rec-webhook`);
        expect(importOf(run, T.record, "edge-cname-vm.monosense.dev")).toBe(`${ZONE}/rec-vm`);
        expect(importOf(run, T.app, "access-app-grafana.monosense.dev")).toBe(`accounts/${ACCOUNT}/app-grafana`);
        expect(importOf(run, T.app, "access-app-vm.monosense.dev")).toBe(`accounts/${ACCOUNT}/app-vm`);
        expect(importOf(run, T.policy, "access-allow")).toBe(`${ACCOUNT}/pol-allow`);
        expect(importOf(run, T.policy, "access-token-policy-apps-to-hub")).toBe(`${ACCOUNT}/pol-token`);
    });

    it("creates nothing twice: every adoptable resource is imported, retained while adopting, and registered once", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything() });
        const adoptable = run.resources.filter((r) => ADOPTABLE.includes(r.type));
        expect(adoptable).toHaveLength(2 + 1 + 1 + 3 + 2 + 2);
        for (const r of adoptable) {
            expect(r.options.import, r.name).toMatch(/\//);
            // An import the engine turned into an import-replacement would only drop the old state entry.
            expect(r.options.retainOnDelete, r.name).toBe(true);
        }
        // Adopted backups are protected like created ones: the import neither drops protect nor lets a later run delete them.
        for (const b of run.ofType(T.bucket)) expect(b.options.protect, b.name).toBe(true);
        // The bucket keeps its location and storage class, not the config's hint or the provider's default.
        expect(run.one(T.bucket, "backups-infra-volsync").inputs).toMatchObject({ location: "WEUR", storageClass: "InfrequentAccess" });
        expect(run.one(T.bucket, "backups-infra-volsync").options.ignoreChanges).toEqual(["location", "storageClass"]);
        // The lifecycle has no import: it is written again over the bucket's rules.
        for (const l of run.ofType(T.lifecycle)) expect(l.options.import).toBeUndefined();
        expect(run.ofType(T.lifecycle)).toHaveLength(2);
    });

    it("keeps the tunnel's id: the CNAMEs, cluster-vars and the outputs name the tunnel cloudflared already runs", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything() });
        expect(run.plainOutputs().tunnelId).toBe(TUNNEL);
        for (const r of run.ofType(T.record)) expect(plainAt(r, "content")).toBe(`${TUNNEL}.cfargotunnel.com`);
        expect(plainAt(run.one("ConfigMap", "contract-vars"), "data.TUNNEL_ID")).toBe(TUNNEL);
        // The old secret cannot be read back: the adopted tunnel gets the program's, rotated in place (same id).
        expect(plainAt(run.one(T.tunnel, "edge-tunnel"), "tunnelSecret")).toEqual(expect.any(String));
    });

    it("mints new tokens, a new deploy key and a new webhook, and lists their old namesakes for the user to delete", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything() });
        for (const type of [T.accountToken, T.serviceToken, T.deployKey, T.webhook]) {
            for (const r of run.ofType(type)) expect(r.options.import, r.name).toBeUndefined();
        }
        const notes = run.notes.filter((n) => n.includes(" is not adopted "));
        expect(notes).toHaveLength(5);
        expect(notes.join("\n")).toContain('old Cloudflare account token "infra cluster backups (R2 objects)" (id ending in kups)');
        expect(notes.join("\n")).toContain('old Cloudflare account token "infra cluster DNS (external-dns, cert-manager)" (id ending in -dns)');
        // An account token's id is its S3 access key id: never whole in a log line.
        expect(notes.join("\n")).not.toMatch(/tok-backups|tok-dns/);
        expect(notes.join("\n")).toContain('old Access service token "apps-to-hub" (id st-old)');
        expect(notes.join("\n")).toContain('old deploy key "flux-infra" (id 4711) on monosense/k8s-ops');
        expect(notes.join("\n")).toContain("gh repo deploy-key delete 4711 -R monosense/k8s-ops");
        expect(notes.join("\n")).toContain("old webhook 815 on monosense/k8s-ops posts to https://flux-webhook.monosense.dev/…");
        // Nobody else's: another token, another cluster's key, another hook.
        expect(notes.join("\n")).not.toMatch(/tok-other|4712|816/);
        // The old webhook's path derives from its token: never printed.
        expect(run.notes.join("\n")).not.toContain("0123abcd");
    });

    it("says per object what is adopted, one note each, and shows options.import in the plan JSON only where it is set", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything() });
        expect(run.notes).toContain(`cluster-bootstrap:adopt: tunnel infra: adopted, import ID ${ACCOUNT}/${TUNNEL} (id ${TUNNEL}, remotely managed)`);
        expect(run.notes).toContain("cluster-bootstrap:adopt: R2 bucket infra-volsync: adopted, import ID "
            + `${ACCOUNT}/infra-volsync/default (jurisdiction default, location WEUR, storage class InfrequentAccess)`);
        expect(run.notes.filter((n) => /: (adopted, import ID|created \(none exists\))/.test(n))).toHaveLength(11);
        const plan = toPlanJson(run);
        const bucket = plan.resources.find((r) => r.name === "backups-infra-volsync")!;
        expect(bucket.options).toMatchObject({ import: `${ACCOUNT}/infra-volsync/default` });
        const token = plan.resources.find((r) => r.name === "backups-token")!;
        expect("import" in token.options).toBe(false);
    });

    it("looks everything up through the providers' data sources, by the names the program gives", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything() });
        const args = (token: string) => run.invokes.filter((i) => i.token === token).map((i) => i.args);
        expect(args("cloudflare:index/getZeroTrustTunnelCloudflareds:getZeroTrustTunnelCloudflareds"))
            .toEqual([{ accountId: ACCOUNT, name: "infra", isDeleted: false }]);
        expect(args("cloudflare:index/getZeroTrustTunnelCloudflaredConfig:getZeroTrustTunnelCloudflaredConfig"))
            .toEqual([{ accountId: ACCOUNT, tunnelId: TUNNEL }]);
        expect(args("cloudflare:index/getDnsRecords:getDnsRecords").map((a) => (a.name as { exact: string }).exact).sort())
            .toEqual(["external.monosense.dev", "flux-webhook.monosense.dev", "vm.monosense.dev"]);
        expect(args("cloudflare:index/getZeroTrustAccessApplications:getZeroTrustAccessApplications"))
            .toEqual(expect.arrayContaining([{ accountId: ACCOUNT, domain: "grafana.monosense.dev", exact: true }]));
        expect(args("cloudflare:index/getZeroTrustAccessPolicies:getZeroTrustAccessPolicies")).toEqual([{ accountId: ACCOUNT }]);
        expect(args("cloudflare:index/getAccountTokens:getAccountTokens")).toEqual([{ accountId: ACCOUNT }]);
        expect(args("cloudflare:index/getZeroTrustAccessServiceTokens:getZeroTrustAccessServiceTokens")).toEqual([{ accountId: ACCOUNT, name: "apps-to-hub" }]);
        expect(args("github:index/getRepositoryDeployKeys:getRepositoryDeployKeys")).toEqual([{ repository: "k8s-ops" }]);
        // What the stack's state holds: its own last outputs.
        expect(run.resources.filter((r) => r.type === T.stackRef).map((r) => r.inputs.name)).toEqual(["infra"]);
    });
});

describe("adopt, on an account where half exists", () => {
    const half = (): OfflineCloudState => {
        const all = everything();
        return { ...all, r2Buckets: all.r2Buckets.slice(0, 1), dnsRecords: all.dnsRecords.slice(1, 2), accessApplications: [], accessPolicies: all.accessPolicies.slice(0, 1) };
    };

    it("imports what exists and creates the rest, saying which is which", async () => {
        const run = await runStack({ edit: adopting(), cloudState: half() });
        expect(run.error).toBeUndefined();
        expect(importOf(run, T.bucket, "backups-infra-volsync")).toBe(`${ACCOUNT}/infra-volsync/default`);
        expect(importOf(run, T.bucket, "backups-infra-cnpg")).toBeUndefined();
        expect(importOf(run, T.tunnel, "edge-tunnel")).toBe(`${ACCOUNT}/${TUNNEL}`);
        expect(importOf(run, T.record, "edge-cname-flux-webhook.monosense.dev")).toBe(`${ZONE}/rec-webhook`);
        expect(importOf(run, T.record, "edge-cname-external.monosense.dev")).toBeUndefined();
        expect(importOf(run, T.app, "access-app-grafana.monosense.dev")).toBeUndefined();
        expect(importOf(run, T.policy, "access-allow")).toBe(`${ACCOUNT}/pol-allow`);
        expect(importOf(run, T.policy, "access-token-policy-apps-to-hub")).toBeUndefined();
        // The new bucket gets the config's location and the provider's default class.
        expect(run.one(T.bucket, "backups-infra-cnpg").inputs.storageClass).toBeUndefined();
        expect(run.notes).toContain("cluster-bootstrap:adopt: R2 bucket infra-cnpg: created (none exists)");
        expect(run.notes).toContain("cluster-bootstrap:adopt: DNS record external.monosense.dev: created (none exists)");
        // A new CNAME points at the adopted tunnel, like the adopted ones.
        expect(plainAt(run.one(T.record, "edge-cname-external.monosense.dev"), "content")).toBe(`${TUNNEL}.cfargotunnel.com`);
    });

    it("imports nothing without the key, whatever exists", async () => {
        const run = await runStack({ edit: adopting(false), cloudState: everything() });
        expect(run.error).toBeUndefined();
        expect(run.resources.filter((r) => r.options.import !== undefined)).toEqual([]);
        expect(run.invokes.some((i) => i.token.includes("getZeroTrustTunnelCloudflareds"))).toBe(false);
        expect(run.notes.join("\n")).not.toContain("cluster-bootstrap:adopt");
    });
});

describe("adopt, on an ambiguous account", () => {
    const refused = async (cloud: OfflineCloudState) => {
        const run = await runStack({ edit: adopting(), cloudState: cloud });
        expect(run.error).toBeInstanceOf(ConfigError);
        // Refused before anything the program manages is registered.
        expect(run.resources.filter((r) => r.custom && r.type.startsWith("cloudflare:") && !r.type.includes("Provider"))).toEqual([]);
        return (run.error as ConfigError).problems;
    };

    it("refuses two tunnels of the name, naming both and the choice", async () => {
        const cloud = everything();
        cloud.tunnels.push({ id: "99999999-9999-4999-8999-999999999999", name: "infra" });
        expect(await refused(cloud)).toEqual([
            `cluster-bootstrap:adopt: 2 tunnels are named "infra" (ids ${TUNNEL}, 99999999-9999-4999-8999-999999999999), and the program manages one: `
            + "keep the one cloudflared connects with (Zero Trust > Networks > Tunnels shows its connectors), delete the others, then run again",
        ]);
    });

    it("refuses a record of the right name and the wrong type", async () => {
        const cloud = everything();
        cloud.dnsRecords[0] = { id: "rec-a", name: "external.monosense.dev", type: "A", content: "192.0.2.7" };
        const problems = await refused(cloud);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^cluster-bootstrap:adopt: the DNS name external\.monosense\.dev has a A record \(id rec-a\), where the program manages a proxied CNAME/);
        expect(problems[0]).toContain("delete that record (the CNAME takes its place) or take the hostname out of cluster-bootstrap:tunnel.routes");
    });

    it("refuses a locally-managed tunnel, whose import would replace it", async () => {
        const cloud = everything();
        cloud.tunnels[0] = { ...cloud.tunnels[0], configSrc: "local" };
        expect((await refused(cloud))[0]).toContain(`the tunnel "infra" (id ${TUNNEL}) is locally managed`);
    });

    it("refuses two Access applications for a hostname and two policies of a name", async () => {
        const cloud = everything();
        cloud.accessApplications.push({ id: "app-vm-2", domain: "vm.monosense.dev" });
        cloud.accessPolicies.push({ id: "pol-allow-2", name: "infra: allow" });
        const problems = await refused(cloud);
        expect(problems).toHaveLength(2);
        expect(problems.join("\n")).toContain("2 Access applications are for vm.monosense.dev (ids app-vm, app-vm-2)");
        expect(problems.join("\n")).toContain('2 Access policies are named "infra: allow" (ids pol-allow, pol-allow-2)');
    });
});

describe("adopt, on a later run with everything already in the state", () => {
    /** The stack's own outputs after the adopting run, as a StackReference to itself reads them. */
    async function afterAdopting() {
        const first = await runStack({ edit: adopting(), cloudState: everything() });
        expect(first.error).toBeUndefined();
        const outputs = first.plainOutputs();
        return { first, own: { infra: { outputs, secretOutputNames: ["credentialDigests"] } } };
    }

    it("imports nothing, changes nothing the run without the key would not, and says the key can go", async () => {
        const { first, own } = await afterAdopting();
        // What exists now: the adopted objects, and what the first run created (its tokens, key and hook among them).
        const cloud = everything();
        const created = (type: string) => first.ofType(type).map((r) => r.id);
        cloud.accountTokens.push(...created(T.accountToken).map((id) => ({ id, name: "infra cluster backups (R2 objects)" })));
        cloud.deployKeys.push({ id: "4713", title: "flux-infra" });
        const second = await runStack({ edit: adopting(), cloudState: cloud, stackOutputs: own });
        expect(second.error).toBeUndefined();
        expect(second.resources.filter((r) => r.options.import !== undefined)).toEqual([]);
        expect(second.notes).toContain("cluster-bootstrap:adopt: nothing left to adopt (11 of 11 objects already in this stack's state, the rest "
            + "created by this run): remove the key: pulumi config rm adopt --stack infra");
        expect(second.notes.filter((n) => n.includes(": already in this stack's state"))).toHaveLength(11);
        // The stack's own new token is not an old namesake; the old ones are still listed until the user deletes them.
        const namesakes = second.notes.filter((n) => n.includes(" is not adopted "));
        // Only the two old tokens, each named by the end of its id (the whole id is its S3 access key id).
        expect(namesakes.filter((n) => n.includes("old Cloudflare account token")).map((n) => /\(id ending in (.{4})\)/.exec(n)?.[1]).sort())
            .toEqual(["-dns", "kups"]);
        for (const id of created(T.accountToken)) expect(namesakes.join("\n")).not.toContain(id.slice(-4));

        // Everything but the retained flag is what a run without the key registers.
        const plain = await runStack({ edit: adopting(false), cloudState: cloud, stackOutputs: own });
        const shape = (run: StackRun) => run.resources.filter((r) => r.custom && r.type !== T.stackRef)
            .map((r) => ({ urn: r.urn, inputs: r.inputs, options: { ...r.options, retainOnDelete: ADOPTABLE.includes(r.type) ? "any" : r.options.retainOnDelete } }))
            .sort((a, b) => (a.urn < b.urn ? -1 : 1));
        expect(shape(second)).toEqual(shape(plain));
    });

    it("refuses a stack whose last run recorded no import IDs: its state holds objects an import would replace", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything(), stackOutputs: { infra: { outputs: { cluster: "infra", tunnelId: TUNNEL }, secretOutputNames: [] } } });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect((run.error as ConfigError).problems).toEqual(["cluster-bootstrap:adopt: this stack's last run did not record cloudflareImportIds (a version "
            + "of the program before adopt), so what its state holds is unknown and an import could replace it: run `pulumi up` once without adopt, "
            + "then with it if anything is still missing"]);
        expect(run.resources.filter((r) => ADOPTABLE.includes(r.type))).toEqual([]);
    });

    it("records what the state holds in the outputs: each object's import ID, and only digests of the credentials' ids", async () => {
        const { first } = await afterAdopting();
        const outputs = first.plainOutputs();
        expect(outputs.cloudflareImportIds).toMatchObject({
            "R2 bucket infra-volsync": `${ACCOUNT}/infra-volsync/default`,
            "tunnel infra": `${ACCOUNT}/${TUNNEL}`,
            "tunnel configuration infra": `${ACCOUNT}/${TUNNEL}`,
            "DNS record vm.monosense.dev": `${ZONE}/rec-vm`,
            "Access application grafana.monosense.dev": `accounts/${ACCOUNT}/app-grafana`,
            "Access policy infra: allow": `${ACCOUNT}/pol-allow`,
        });
        expect(Object.keys(outputs.cloudflareImportIds as object)).toHaveLength(11);
        const token = first.one(T.accountToken, "backups-token").id;
        expect(outputs.credentialDigests).toContain(credentialDigest(token));
        expect(JSON.stringify(first.outputs.credentialDigests)).not.toContain(token);
        expect(toPlanJson(first).outputs).toMatchObject({ credentialDigests: "[secret]" });
    });
});

describe("--cloud-state", () => {
    it("takes the issue's shape with extra fields, and nothing else", async () => {
        const state = parseCloudState(JSON.stringify({
            r2Buckets: [{ name: "b", location: "WNAM", storageClass: "Standard", jurisdiction: "default", creation_date: "2024-01-01" }],
            tunnels: [{ id: "t", name: "infra", status: "healthy" }],
            dnsRecords: [{ id: "r", name: "x.monosense.dev", type: "CNAME", content: "t.cfargotunnel.com", proxied: true, ttl: 1 }],
            accessApplications: [{ id: "a", name: "x", domain: "x.monosense.dev", aud: "aud" }],
        }), "cloud.json");
        expect(state.r2Buckets).toEqual([{ name: "b", location: "WNAM", storageClass: "Standard", jurisdiction: "default" }]);
        expect(state.tunnels).toEqual([{ id: "t", name: "infra" }]);
        expect(state.accessPolicies).toEqual([]);
    });

    it("refuses a file it cannot read as that, with every problem naming the entry", async () => {
        const problems = (text: string) => {
            try {
                parseCloudState(text, "cloud.json");
            } catch (e) {
                return (e as CloudStateFileError).problems;
            }
            throw new Error("accepted");
        };
        expect(problems("{")).toEqual(["cloud.json: is not JSON"]);
        expect(problems("[]")[0]).toMatch(/^cloud\.json: must be a JSON object of lists \(r2Buckets, tunnels, /);
        expect(problems(JSON.stringify({
            tunnel: [],
            tunnels: [{ name: "infra" }],
            dnsRecords: [{ id: "r", name: "x", type: "CNAME", proxied: "yes" }],
            r2Buckets: [{ name: "b", jurisdiction: "us" }],
            deployKeys: [{ id: "key-1", title: "flux-infra" }],
        }))).toEqual([
            "cloud.json: tunnel: is not a known list (r2Buckets, tunnels, dnsRecords, accessApplications, accessPolicies, accountTokens, "
            + "accessServiceTokens, deployKeys, webhooks)",
            "cloud.json: tunnels[0].id: must be a string",
            "cloud.json: dnsRecords[0].proxied: must be true or false",
            "cloud.json: r2Buckets[0].jurisdiction: must be one of default, eu, fedramp",
            "cloud.json: deployKeys[0].id: must be a whole number",
        ]);
    });
});

describe("npm run plan -- <stack> --cloud-state FILE", () => {
    it("answers the lookups from FILE, shows each import ID in the plan JSON and the notes on stderr, and refuses a bad FILE", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adopt-"));
        const stack = path.join(dir, "Pulumi.infra.yaml");
        fs.writeFileSync(stack, `${fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8")}  cluster-bootstrap:adopt: true\n`);
        const cloud = path.join(dir, "cloud.json");
        fs.writeFileSync(cloud, JSON.stringify({
            r2Buckets: [{ name: "infra-volsync", location: "WEUR", storageClass: "Standard", jurisdiction: "default" }],
            tunnels: [{ id: TUNNEL, name: "infra" }],
            dnsRecords: [{ id: "rec-webhook", name: "flux-webhook.monosense.dev", type: "CNAME", content: "x.cfargotunnel.com", proxied: true }],
            accessApplications: [],
        }));
        const plan = (...args: string[]) => runPlan(["infra", "--config", stack, ...args]);
        const r = await plan("--json", "--cloud-state", cloud);
        expect(r.status, r.stderr).toBe(0);
        const json = JSON.parse(r.stdout) as ReturnType<typeof toPlanJson>;
        const imports = Object.fromEntries(json.resources.filter((x) => "import" in x.options).map((x) => [x.name, x.options.import]));
        expect(imports).toEqual({
            "backups-infra-volsync": `${ACCOUNT}/infra-volsync/default`,
            "edge-tunnel": `${ACCOUNT}/${TUNNEL}`,
            "edge-tunnel-config": `${ACCOUNT}/${TUNNEL}`,
            "edge-cname-flux-webhook.monosense.dev": `${ZONE}/rec-webhook`,
        });
        expect(r.stderr).toContain(`note: cluster-bootstrap:adopt: tunnel infra: adopted, import ID ${ACCOUNT}/${TUNNEL} (id ${TUNNEL}, remotely managed)\n`);
        expect(r.stderr).toContain("note: cluster-bootstrap:adopt: R2 bucket infra-cnpg: created (none exists)\n");

        // Without the file nothing exists: everything is created, nothing imported.
        const none = await plan("--json");
        expect(none.status, none.stderr).toBe(0);
        expect((JSON.parse(none.stdout) as ReturnType<typeof toPlanJson>).resources.filter((x) => "import" in x.options)).toEqual([]);

        fs.writeFileSync(cloud, JSON.stringify({ tunnels: [{ id: 7, name: "infra" }] }));
        const bad = await plan("--cloud-state", cloud);
        expect(bad.status).toBe(1);
        expect(bad.stdout).toBe("");
        expect(bad.stderr).toBe(`${cloud}: tunnels[0].id: must be a string\n`);
        expect((await plan("--cloud-state", path.join(dir, "missing.json"))).status).toBe(2);
    });
});

describe("adopt, in the cluster: the Flux Operator's Helm release a lost state left running", () => {
    const STATES = path.join(ROOT, "test", "fixtures", "cluster-state");
    // What the operator chart's install leaves: its Deployment, annotated by Helm with the release that owns it.
    const operatorDeployment = {
        apiVersion: "apps/v1", kind: "Deployment",
        metadata: { name: "flux-operator", namespace: "flux-system", annotations: { "meta.helm.sh/release-name": "flux-operator", "meta.helm.sh/release-namespace": "flux-system" } },
    };
    const running = () => [...readClusterState(path.join(STATES, "infra-taken-over.yaml")), operatorDeployment];
    const operator = (run: StackRun) => run.one("kubernetes:helm.sh/v3:Release", "flux-operator");
    const NOTE = "cluster-bootstrap:adopt: the Flux Operator's Helm release flux-system/flux-operator runs already: imported and upgraded in place";

    it("imports it by <namespace>/<name> and says so, where installing it again would fail on the name in use", async () => {
        const run = await runStack({ edit: adopting(), cloudState: everything(), clusterState: running() });
        expect(run.error).toBeUndefined();
        expect(operator(run).options.import).toBe("flux-system/flux-operator");
        // Upgraded in place with the program's own chart, version and the rest as always.
        expect(plainAt(operator(run), "version")).toBe(plainAt((await runStack({ clusterState: running() })).one("kubernetes:helm.sh/v3:Release", "flux-operator"), "version"));
        expect(operator(run).options.retainOnDelete).toBe(true);
        expect(run.notes).toContain(NOTE);
    });

    it("imports nothing without adopt, on a cluster without the operator, or where another release owns the Deployment", async () => {
        const off = await runStack({ clusterState: running() });
        expect(operator(off).options.import).toBeUndefined();
        expect(off.notes).not.toContain(NOTE);
        const fresh = await runStack({ edit: adopting(), cloudState: everything(), clusterState: readClusterState(path.join(STATES, "infra-taken-over.yaml")) });
        expect(operator(fresh).options.import).toBeUndefined();
        const other = await runStack({ edit: adopting(), cloudState: everything(), clusterState: [
            ...readClusterState(path.join(STATES, "infra-taken-over.yaml")),
            { ...operatorDeployment, metadata: { ...operatorDeployment.metadata, annotations: { "meta.helm.sh/release-name": "operator", "meta.helm.sh/release-namespace": "flux-system" } } },
        ] });
        expect(operator(other).options.import).toBeUndefined();
    });
});
