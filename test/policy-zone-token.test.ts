// zone-token-single-zone: a token that names a zone reaches that one zone only. On hand-made tokens in the provider's
// input shape, and on the DNS token both stacks really plan, widened the ways Cloudflare lets a token be widened.
import { beforeAll, describe, expect, it } from "vitest";
import { runStack, type RecordedResource, type StackRun } from "./harness";
import { evaluate, recorded, violations } from "./policy-analyzer";
import { namesZone, policies, r2TokenBucketScoped, TYPES, zoneScopeProblems, zoneTokenSingleZone } from "../policy/rules";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
const OTHER_ZONE = "22b1de5f1c0e4b3ea97bb1e963b06a43";
const zoneKey = (z: string) => `com.cloudflare.api.account.zone.${z}`;
const bucketKey = (b: string) => `com.cloudflare.edge.r2.bucket.${ACCOUNT}_default_${b}`;

const token = (...policies: { effect: string; resources: string }[]) => recorded({
    type: TYPES.accountToken, name: "dns-token",
    inputs: { accountId: ACCOUNT, name: "infra cluster DNS (external-dns, cert-manager)", policies: policies.map((p) => ({ permissionGroups: [{ id: "pg" }], ...p })) },
});
const allow = (resources: unknown) => ({ effect: "allow", resources: JSON.stringify(resources) });
const problems = async (resources: unknown) => (await violations(zoneTokenSingleZone, token(allow(resources))))
    .map((m) => m.replace(/^.*reaches more than one zone: /, "").replace(/\. A leaked.*$/, ""));

describe("zone-token-single-zone", () => {
    it("is in the pack", () => {
        expect(policies).toContain(zoneTokenSingleZone);
    });

    it("passes a token on exactly one zone", async () => {
        expect(await violations(zoneTokenSingleZone, token(allow({ [zoneKey(ZONE)]: "*" })))).toEqual([]);
    });

    it("fails every zone, every zone of the account, two zones and anything account-wide beside the zone, with the exact words", async () => {
        expect(await violations(zoneTokenSingleZone, token(allow({ "com.cloudflare.api.account.zone.*": "*" })))).toEqual([
            'Account token "infra cluster DNS (external-dns, cert-manager)" (dns-token): policies[0] reaches more than one zone: ' +
            "com.cloudflare.api.account.zone.* is a wildcard. A leaked cluster credential must not reach other zones or the account; " +
            "name the cluster's zone alone, as com.cloudflare.api.account.zone.<zone id>.",
        ]);
        expect(await problems({ [`com.cloudflare.api.account.${ACCOUNT}`]: { "com.cloudflare.api.account.zone.*": "*" } }))
            .toEqual([`com.cloudflare.api.account.${ACCOUNT} is account-wide (every zone of the account)`]);
        expect(await problems({ [zoneKey(ZONE)]: "*", [zoneKey(OTHER_ZONE)]: "*" })).toEqual(["it names 2 zones"]);
        expect(await problems({ [zoneKey(ZONE)]: "*", [`com.cloudflare.api.account.${ACCOUNT}`]: "*" }))
            .toEqual([`com.cloudflare.api.account.${ACCOUNT} is account-wide`]);
        expect(await problems({ [zoneKey(ZONE)]: "*", "com.cloudflare.api.account.*": "*" })).toEqual(["com.cloudflare.api.account.* is a wildcard"]);
        expect(await problems({ [zoneKey(ZONE)]: "*", [bucketKey("infra-cnpg")]: "*" }))
            .toEqual([`${bucketKey("infra-cnpg")} is not a zone (com.cloudflare.api.account.zone.<zone id>)`]);
        expect(await problems({ [zoneKey(ZONE)]: { "com.cloudflare.api.account.zone.*": "*" } }))
            .toEqual([`${zoneKey(ZONE)} is scoped by {"com.cloudflare.api.account.zone.*":"*"} instead of "*"`]);
        expect(await problems({ "com.cloudflare.api.account.zone.": "*" })).toEqual(["com.cloudflare.api.account.zone. names no zone"]);
    });

    it("judges each allowing policy and lets a deny be as wide as it likes", async () => {
        const deny = { effect: "deny", resources: JSON.stringify({ "com.cloudflare.api.account.zone.*": "*" }) };
        expect(await violations(zoneTokenSingleZone, token(allow({ [zoneKey(ZONE)]: "*" }), deny))).toEqual([]);
        expect(await violations(zoneTokenSingleZone, token(allow({ [zoneKey(ZONE)]: "*" }), allow({ [zoneKey(OTHER_ZONE)]: "*" }))))
            .toEqual([]);
    });

    it("leaves tokens that name no zone to r2-token-bucket-scoped, and that rule leaves zone policies to this one", async () => {
        const backup = token(allow({ [bucketKey("infra-volsync")]: "*" }));
        const ev = await evaluate([zoneTokenSingleZone], [backup]);
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable.map((f) => f.message)).toEqual(["no policy of this token names a zone"]);
        expect(await violations(r2TokenBucketScoped, token(allow({ [zoneKey(ZONE)]: "*" })))).toEqual([]);
        // A token on the account alone names no zone: the bucket rule still refuses it, so no allowing policy goes unjudged.
        expect(await violations(r2TokenBucketScoped, token(allow({ [`com.cloudflare.api.account.${ACCOUNT}`]: "*" }))))
            .toEqual([expect.stringContaining("is the whole account")]);
    });

    it("finds a zone at the top of the resources or nested under an account", () => {
        expect(namesZone({ [zoneKey(ZONE)]: "*" })).toBe(true);
        expect(namesZone({ [`com.cloudflare.api.account.${ACCOUNT}`]: { "com.cloudflare.api.account.zone.*": "*" } })).toBe(true);
        expect(namesZone({ [bucketKey("b")]: "*" })).toBe(false);
        expect(namesZone("not an object")).toBe(false);
        expect(zoneScopeProblems({})).toEqual(["it names 0 zones"]);
    });
});

describe.each(["infra", "apps"])("the %s stack's DNS token", (stack) => {
    let run: StackRun;
    let dnsToken: RecordedResource;

    beforeAll(async () => {
        run = await runStack({ stack });
        expect(run.error).toBeUndefined();
        dnsToken = run.one(TYPES.accountToken, "dns-token");
    });

    it("passes the rule, which judges it, while the bucket rule leaves it alone", async () => {
        const ev = await evaluate([zoneTokenSingleZone, r2TokenBucketScoped], [dnsToken]);
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable).toEqual([]);
        expect(ev.unknown).toEqual([]);
    });

    it("fails once widened to every zone of the account", async () => {
        const wide = structuredClone(dnsToken);
        const [policy] = wide.inputs.policies as { resources: string }[];
        policy.resources = JSON.stringify({ [`com.cloudflare.api.account.${ACCOUNT}`]: { "com.cloudflare.api.account.zone.*": "*" } });
        expect(await violations(zoneTokenSingleZone, wide)).toEqual([expect.stringContaining("is account-wide (every zone of the account)")]);
    });

    it("fails once a second zone is added", async () => {
        const two = structuredClone(dnsToken);
        const [policy] = two.inputs.policies as { resources: string }[];
        policy.resources = JSON.stringify({ ...JSON.parse(policy.resources), [zoneKey(OTHER_ZONE)]: "*" });
        expect(await violations(zoneTokenSingleZone, two)).toEqual([expect.stringContaining("it names 2 zones")]);
    });

    it("leaves the backup token to the bucket rule, which still passes it", async () => {
        const backups = run.one(TYPES.accountToken, "backups-token");
        const ev = await evaluate([zoneTokenSingleZone, r2TokenBucketScoped], [backups]);
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable).toEqual([{ policy: "zone-token-single-zone", resource: "backups-token", message: "no policy of this token names a zone" }]);
    });
});
