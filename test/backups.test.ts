import { describe, expect, it } from "vitest";
import { customEdges } from "../offline/graph";
import { fakeInvoke } from "../offline/fakes";
import { toPlanJson } from "../offline/runtime";
import { at, isWireSecret, plainAt, reveal, runStack, type StackRun, type Values } from "./harness";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
// The fake provider's token value for `backups-token` (offline/fakes.ts) and its SHA-256, computed with
// printf '%s' 'placeholder:AccountToken/backups-token/value' | sha256sum
const FAKE_TOKEN_VALUE = "placeholder:AccountToken/backups-token/value";
const FAKE_TOKEN_SHA256 = "e11128a936a23d7c3c6b950b738ada34857ad2699d1865eeeea696b5031fe2aa";
const FAKE_TOKEN_ID = "placeholder:AccountToken/backups-token/id";

const STACK_BUCKETS: Record<string, Array<{ name: string; purpose: string }>> = {
    infra: [{ name: "infra-volsync", purpose: "volsync" }, { name: "infra-cnpg", purpose: "cnpg" }],
    apps: [{ name: "apps-volsync", purpose: "volsync" }, { name: "apps-cnpg", purpose: "cnpg" }],
};

const withR2 = (r2: (old: Record<string, unknown>) => Record<string, unknown>) => (v: Values): Values => ({
    ...v,
    r2: r2(v.r2 as Record<string, unknown>),
});

function parsedResources(run: StackRun): Record<string, unknown> {
    const policies = plainAt(run.one("AccountToken", "backups-token"), "policies") as Array<{ resources: string }>;
    expect(policies).toHaveLength(1);
    return JSON.parse(policies[0].resources) as Record<string, unknown>;
}

describe.each(Object.keys(STACK_BUCKETS))("backups on the %s stack", (stack) => {
    const buckets = STACK_BUCKETS[stack];

    it("creates one protected, retained bucket per configured bucket, named after it", async () => {
        const run = await runStack({ stack });
        expect(run.error).toBeUndefined();
        const component = run.resources.find((r) => r.type === "cluster-bootstrap:backups:BackupBuckets")!;
        expect(run.ofType("R2Bucket").map((r) => r.name).sort()).toEqual(buckets.map((b) => `backups-${b.name}`).sort());
        for (const b of buckets) {
            const bucket = run.one("R2Bucket", `backups-${b.name}`);
            expect(bucket.urn).toMatch(new RegExp(`::backups-${b.name}$`));
            expect(bucket.parent).toBe(component.urn);
            expect(bucket.inputs).toMatchObject({ accountId: ACCOUNT, name: b.name, jurisdiction: "default" });
            expect(bucket.inputs.location).toBeUndefined();
            expect(bucket.options).toMatchObject({ protect: true, retainOnDelete: true, ignoreChanges: ["location", "storageClass"] });
            // No class is set on a new bucket: the provider's default (Standard) applies, and a bucket's own class is never changed.
            expect(bucket.inputs.storageClass).toBeUndefined();
        }
    });

    it("scopes one token to exactly these buckets, with object permission groups looked up by name", async () => {
        const run = await runStack({ stack });
        const token = run.one("AccountToken", "backups-token");
        expect(Object.keys(parsedResources(run)).sort()).toEqual(
            buckets.map((b) => `com.cloudflare.edge.r2.bucket.${ACCOUNT}_default_${b.name}`).sort(),
        );
        expect(Object.values(parsedResources(run))).toEqual(buckets.map(() => "*"));
        expect(plainAt(token, "policies")).toMatchObject([{
            effect: "allow",
            permissionGroups: [
                { id: "placeholder:permission-group/Workers R2 Storage Bucket Item Write/id" },
                { id: "placeholder:permission-group/Workers R2 Storage Bucket Item Read/id" },
            ],
        }]);
        expect(token.inputs.accountId).toBe(ACCOUNT);
        expect(token.options.protect).toBe(false);
        // The token value leaves the provider as a secret.
        expect(isWireSecret(token.outputs.value)).toBe(true);
    });

    it("keeps the token off the buckets' path and the graph shallow", async () => {
        const run = await runStack({ stack });
        const edges = customEdges(run.resources);
        const bucketUrns = run.ofType("R2Bucket").map((r) => r.urn);
        expect(edges.get(run.one("AccountToken", "backups-token").urn)).toEqual([]);
        for (const urn of bucketUrns) expect(edges.get(urn)).toEqual([]);
        for (const b of buckets) {
            const lifecycle = run.one("R2BucketLifecycle", `backups-${b.name}-lifecycle`);
            expect(edges.get(lifecycle.urn)).toEqual([run.one("R2Bucket", `backups-${b.name}`).urn]);
        }
    });

    it("outputs the endpoint and bucket names in plain text and the credentials only as secrets", async () => {
        const run = await runStack({ stack });
        expect(run.outputs.r2Endpoint).toBe(`https://${ACCOUNT}.r2.cloudflarestorage.com`);
        expect(run.outputs.r2Buckets).toEqual(Object.fromEntries(buckets.map((b) => [b.purpose, b.name])));
        expect(isWireSecret(run.outputs.r2AccessKeyId)).toBe(true);
        expect(isWireSecret(run.outputs.r2SecretAccessKey)).toBe(true);
        expect(reveal(run.outputs.r2AccessKeyId)).toBe(FAKE_TOKEN_ID);
        expect(reveal(run.outputs.r2SecretAccessKey)).toBe(FAKE_TOKEN_SHA256);
    });

    it("hands endpoint and buckets to cluster-vars and the derived credentials, as a secret, to cluster-secrets", async () => {
        const run = await runStack({ stack });
        const vars = run.one("ConfigMap", "contract-vars");
        expect(plainAt(vars, "metadata.name")).toBe("cluster-vars");
        expect(at(vars, "data")).toMatchObject({
            R2_ENDPOINT: `https://${ACCOUNT}.r2.cloudflarestorage.com`,
            ...Object.fromEntries(buckets.map((b) => [`R2_BUCKET_${b.purpose.toUpperCase()}`, b.name])),
        });
        expect(Object.keys(at(vars, "data") as object).filter((k) => k.startsWith("R2_")).sort())
            .toEqual(["R2_ENDPOINT", ...buckets.map((b) => `R2_BUCKET_${b.purpose.toUpperCase()}`)].sort());
        // The bucket names come from the buckets, so the ConfigMap (and what Flux applies with it) waits for them.
        for (const r of run.ofType("R2Bucket")) expect(vars.dependencies).toContain(r.urn);

        const secrets = run.one("Secret", "contract-secrets");
        expect(plainAt(secrets, "metadata.name")).toBe("cluster-secrets");
        expect(isWireSecret(at(secrets, "stringData"))).toBe(true);
        expect(plainAt(secrets, "stringData")).toMatchObject({ R2_ACCESS_KEY_ID: FAKE_TOKEN_ID, R2_SECRET_ACCESS_KEY: FAKE_TOKEN_SHA256 });
        expect(secrets.dependencies).toContain(run.one("AccountToken", "backups-token").urn);
        expect(JSON.stringify(reveal(vars.inputs))).not.toContain(FAKE_TOKEN_SHA256);
    });

    it("never prints the token value or the derived key in the plan JSON", async () => {
        const run = await runStack({ stack });
        const json = JSON.stringify(toPlanJson(run));
        expect(json).toContain("backups-token");
        expect(json).not.toContain(FAKE_TOKEN_VALUE);
        expect(json).not.toContain(FAKE_TOKEN_SHA256);
        expect(json).not.toContain(FAKE_TOKEN_ID);
    });
});

describe("lifecycle rules", () => {
    it("re-add the multipart clean-up on every bucket and expire objects only where expireDays asks", async () => {
        const run = await runStack({
            edit: withR2((r2) => ({
                ...r2,
                buckets: [{ name: "infra-volsync", purpose: "volsync" }, { name: "infra-logs", purpose: "logs", expireDays: 14 }],
            })),
        });
        expect(run.error).toBeUndefined();
        const abort = {
            id: "abort-incomplete-multipart-uploads",
            enabled: true,
            conditions: { prefix: "" },
            abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 604800 } },
        };
        const volsync = run.one("R2BucketLifecycle", "backups-infra-volsync-lifecycle");
        expect(volsync.inputs).toMatchObject({ accountId: ACCOUNT, bucketName: "infra-volsync", jurisdiction: "default" });
        expect(at(volsync, "rules")).toEqual([abort]);
        expect(volsync.options).toMatchObject({ protect: false, retainOnDelete: true });
        const logs = run.one("R2BucketLifecycle", "backups-infra-logs-lifecycle");
        expect(at(logs, "rules")).toEqual([
            abort,
            { id: "expire-after-14-days", enabled: true, conditions: { prefix: "" }, deleteObjectsTransition: { condition: { type: "Age", maxAge: 14 * 86400 } } },
        ]);
        expect(run.outputs.r2Buckets).toEqual({ volsync: "infra-volsync", logs: "infra-logs" });
    });
});

describe("an EU jurisdiction", () => {
    it("changes the endpoint, the token's resource keys and the buckets' and rules' jurisdiction", async () => {
        const run = await runStack({ edit: withR2((r2) => ({ ...r2, jurisdiction: "eu", location: "weur" })) });
        expect(run.error).toBeUndefined();
        expect(run.outputs.r2Endpoint).toBe(`https://${ACCOUNT}.eu.r2.cloudflarestorage.com`);
        expect(Object.keys(parsedResources(run)).sort()).toEqual([
            `com.cloudflare.edge.r2.bucket.${ACCOUNT}_eu_infra-cnpg`,
            `com.cloudflare.edge.r2.bucket.${ACCOUNT}_eu_infra-volsync`,
        ]);
        for (const r of run.ofType("R2Bucket")) expect(r.inputs).toMatchObject({ jurisdiction: "eu", location: "weur" });
        for (const r of run.ofType("R2BucketLifecycle")) expect(r.inputs.jurisdiction).toBe("eu");
    });
});

describe("renaming a bucket in config", () => {
    it("registers a new resource under the new name, so the old protected one would be kept, not replaced", async () => {
        const before = await runStack();
        const after = await runStack({
            edit: withR2((r2) => ({ ...r2, buckets: [{ name: "infra-volsync-2", purpose: "volsync" }, { name: "infra-cnpg", purpose: "cnpg" }] })),
        });
        const urns = (run: StackRun) => run.ofType("R2Bucket").map((r) => r.urn);
        // The unchanged bucket keeps its URN; the renamed one is a different URN, which Pulumi would have to
        // delete — and protect refuses.
        expect(urns(after)).toContain(before.one("R2Bucket", "backups-infra-cnpg").urn);
        expect(urns(after)).not.toContain(before.one("R2Bucket", "backups-infra-volsync").urn);
    });
});

describe("the permission-group lookup", () => {
    const TOKEN = "cloudflare:index/getAccountApiTokenPermissionGroupsList:getAccountApiTokenPermissionGroupsList";
    const names = (name: string) => (fakeInvoke(TOKEN, { accountId: ACCOUNT, name }).outputs.results as Array<{ name: string }>).map((g) => g.name);

    it("finds a group by its plain name, as the API does", () => {
        expect(names("Workers R2 Storage Bucket Item Write")).toEqual(["Workers R2 Storage Bucket Item Write"]);
    });

    it("finds nothing for a name the program encoded itself (the provider's client encodes it again)", () => {
        expect(names("Workers%20R2%20Storage%20Bucket%20Item%20Write")).toEqual([]);
        expect(names("Workers R2 Storage Bucket Item Writ")).toEqual([]);
    });

    it("answers every group as grantable unless told which ones the calling token cannot grant", () => {
        const selectable = (name: string, unselectablePermissionGroups?: string[]) =>
            (fakeInvoke(TOKEN, { accountId: ACCOUNT, name }, { unselectablePermissionGroups }).outputs.results as Array<{ isSelectable: boolean }>)[0].isSelectable;
        expect(selectable("Workers R2 Storage Bucket Item Write")).toBe(true);
        expect(selectable("Workers R2 Storage Bucket Item Write", ["Workers R2 Storage Bucket Item Write"])).toBe(false);
        expect(selectable("Workers R2 Storage Bucket Item Read", ["Workers R2 Storage Bucket Item Write"])).toBe(true);
    });

    it("refuses a group cloudflare:apiToken cannot grant before the token is registered, naming it", async () => {
        const run = await runStack({ unselectablePermissionGroups: ["Workers R2 Storage Bucket Item Write"] });
        expect((run.error as Error | undefined)?.message).toContain('Cloudflare permission group "Workers R2 Storage Bucket Item Write": cloudflare:apiToken cannot grant it '
            + "(the account's list says isSelectable: false), so creating the token that needs it would fail");
        expect(run.ofType("AccountToken").map((r) => r.name)).not.toContain("backups-token");
    });
});
