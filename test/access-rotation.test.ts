// rotation.accessServiceTokens: an Access service token's client secret rotated in place (same client id), the old
// secret accepted until the given time, so the spoke has until then to pick up the new one.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import { withAccess } from "./access-fixtures";
import { runStack, type Values } from "./harness";

const TOKEN = "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken";
const withRotation = (rotation: unknown) => (v: Values): Values => ({ ...withAccess(v), rotation });

describe("rotating an Access service token's client secret", () => {
    it("sends the version and the old secret's end to that token only, replacing nothing", async () => {
        const plain = await runStack({ stack: "infra", edit: withRotation({}) });
        const rotated = await runStack({
            stack: "infra",
            edit: withRotation({ accessServiceTokens: { "apps-to-hub": { version: 2, previousSecretExpiresAt: "2027-01-31T00:00:00Z" } } }),
        });
        expect(rotated.error).toBeUndefined();
        const before = plain.one(TOKEN, "access-token-apps-to-hub");
        const after = rotated.one(TOKEN, "access-token-apps-to-hub");
        expect(before.inputs).not.toHaveProperty("clientSecretVersion");
        expect(after.inputs).toMatchObject({ clientSecretVersion: 2, previousClientSecretExpiresAt: "2027-01-31T00:00:00Z" });
        // A new secret under the same client id, as the API answers a new version.
        expect(after.outputs.clientId).toEqual(before.outputs.clientId);
        expect(after.outputs.clientSecret).not.toEqual(before.outputs.clientSecret);
        // An update of the same token: no replacement trigger, nothing deleted first.
        expect(after.options.deleteBeforeReplace).toBe(false);
        expect("replacementTrigger" in after.options).toBe(false);
    });

    it("refuses a token that does not exist, a version below 2 and a time that is not RFC 3339, naming the key", async () => {
        const run = await runStack({
            stack: "infra",
            edit: withRotation({
                accessServiceTokens: {
                    "apps-to-hub": { version: 1, previousSecretExpiresAt: "next week" },
                    "nobody": { version: 2, previousSecretExpiresAt: "2027-01-31T00:00:00Z" },
                },
            }),
        });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect((run.error as ConfigError).problems).toEqual([
            "cluster-bootstrap:rotation.accessServiceTokens.apps-to-hub.version: must be a whole number from 2 up (the token starts at 1)",
            'cluster-bootstrap:rotation.accessServiceTokens.apps-to-hub.previousSecretExpiresAt: "next week" is not an RFC 3339 time such as 2026-12-31T00:00:00Z',
            "cluster-bootstrap:rotation.accessServiceTokens.nobody: is not one of cluster-bootstrap:access.serviceTokens",
        ]);
    });
});
