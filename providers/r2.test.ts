import { describe, expect, it } from "vitest";
import { bucketResourceKey, lifecycleRules, r2Endpoint, s3SecretAccessKey, tokenResources } from "./r2";
import { R2_OBJECT_PERMISSION_GROUPS } from "./cloudflare-permissions";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";

describe("endpoint", () => {
    it("is the account host, with the jurisdiction in it for jurisdictional buckets", () => {
        expect(r2Endpoint(ACCOUNT, "default")).toBe(`https://${ACCOUNT}.r2.cloudflarestorage.com`);
        expect(r2Endpoint(ACCOUNT, "eu")).toBe(`https://${ACCOUNT}.eu.r2.cloudflarestorage.com`);
        expect(r2Endpoint(ACCOUNT, "fedramp")).toBe(`https://${ACCOUNT}.fedramp.r2.cloudflarestorage.com`);
    });
});

describe("token scope", () => {
    it("names each bucket with its jurisdiction and nothing account-wide", () => {
        const resources = JSON.parse(tokenResources(ACCOUNT, "default", ["infra-volsync", "infra-cnpg"]));
        expect(resources).toEqual({
            [`com.cloudflare.edge.r2.bucket.${ACCOUNT}_default_infra-volsync`]: "*",
            [`com.cloudflare.edge.r2.bucket.${ACCOUNT}_default_infra-cnpg`]: "*",
        });
        expect(Object.keys(resources).some((k) => k.startsWith("com.cloudflare.api.account"))).toBe(false);
    });

    it("uses the jurisdiction in the key of an EU bucket", () => {
        expect(bucketResourceKey(ACCOUNT, "eu", "b1")).toBe(`com.cloudflare.edge.r2.bucket.${ACCOUNT}_eu_b1`);
        expect(Object.keys(JSON.parse(tokenResources(ACCOUNT, "eu", ["b1"])))).toEqual([`com.cloudflare.edge.r2.bucket.${ACCOUNT}_eu_b1`]);
    });

    it("refuses an empty scope", () => {
        expect(() => tokenResources(ACCOUNT, "default", [])).toThrow(/at least one bucket/);
    });

    it("asks for object groups only", () => {
        expect([...R2_OBJECT_PERMISSION_GROUPS]).toEqual(["Workers R2 Storage Bucket Item Write", "Workers R2 Storage Bucket Item Read"]);
    });

    it("writes the resources JSON with sorted keys, whatever the bucket order", () => {
        const a = tokenResources(ACCOUNT, "default", ["zeta", "alpha", "mid"]);
        expect(a).toBe(tokenResources(ACCOUNT, "default", ["mid", "zeta", "alpha"]));
        expect(Object.keys(JSON.parse(a))).toEqual(["alpha", "mid", "zeta"].map((b) => bucketResourceKey(ACCOUNT, "default", b)));
    });
});

describe("S3 credentials", () => {
    it("derive the secret access key as the hex SHA-256 of the token value", () => {
        // Test vectors from: printf '%s' <value> | sha256sum
        expect(s3SecretAccessKey("Lpm9cY2nV0x7-test-token-value")).toBe("3043e26a19bcca96ab42dc4618695025d7e1ae16190fa78e7ba32e10194b77db");
        expect(s3SecretAccessKey("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    });
});

describe("lifecycle rules", () => {
    const abort = {
        id: "abort-incomplete-multipart-uploads",
        enabled: true,
        conditions: { prefix: "" },
        abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 7 * 86400 } },
    };

    it("re-add the multipart clean-up that setting rules removes, and expire nothing by default", () => {
        expect(lifecycleRules({ name: "infra-volsync", purpose: "volsync" })).toEqual([abort]);
    });

    it("expire objects after expireDays, in seconds, for the whole bucket", () => {
        expect(lifecycleRules({ name: "infra-logs", purpose: "logs", expireDays: 30 })).toEqual([
            abort,
            {
                id: "expire-after-30-days",
                enabled: true,
                conditions: { prefix: "" },
                deleteObjectsTransition: { condition: { type: "Age", maxAge: 30 * 86400 } },
            },
        ]);
    });
});
