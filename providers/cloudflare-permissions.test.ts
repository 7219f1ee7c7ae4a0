import { describe, expect, it } from "vitest";
import { permissionGroupId, policyResourcesJson } from "./cloudflare-permissions";

describe("token policy resources", () => {
    it("are written with sorted keys, each once, all \"*\"", () => {
        expect(policyResourcesJson(["b", "a", "b"])).toBe('{"a":"*","b":"*"}');
        expect(policyResourcesJson(["com.cloudflare.api.account.zone.z1"])).toBe('{"com.cloudflare.api.account.zone.z1":"*"}');
    });
});

describe("permission groups", () => {
    it("picks the group with exactly that name and fails clearly when there is none", () => {
        const results = [
            { id: "w1", name: "Workers R2 Storage Write" },
            { id: "b1", name: "Workers R2 Storage Bucket Item Write" },
        ];
        expect(permissionGroupId(results, "Workers R2 Storage Bucket Item Write")).toBe("b1");
        expect(() => permissionGroupId(results, "Workers R2 Storage Bucket Item Read")).toThrow(
            'Cloudflare permission group "Workers R2 Storage Bucket Item Read": expected exactly one, found 0 '
            + '(groups returned: "Workers R2 Storage Write", "Workers R2 Storage Bucket Item Write")',
        );
        expect(() => permissionGroupId([], "X")).toThrow('Cloudflare permission group "X": expected exactly one, found 0 (groups returned: none)');
    });

    it("refuses a group the calling token cannot grant, and takes one that says nothing of it", () => {
        expect(() => permissionGroupId([{ id: "d", name: "DNS Write", isSelectable: false }], "DNS Write")).toThrow(
            'Cloudflare permission group "DNS Write": cloudflare:apiToken cannot grant it (the account\'s list says isSelectable: false), '
            + "so creating the token that needs it would fail; give cloudflare:apiToken this permission itself (docs/configuration.md: Tokens and their minimal permissions)");
        expect(permissionGroupId([{ id: "d", name: "DNS Write", isSelectable: true }], "DNS Write")).toBe("d");
        expect(permissionGroupId([{ id: "d", name: "DNS Write" }], "DNS Write")).toBe("d");
    });

    it("refuses two groups of the same name rather than picking one", () => {
        expect(() => permissionGroupId([{ id: "a", name: "DNS Write" }, { id: "b", name: "DNS Write" }], "DNS Write"))
            .toThrow('Cloudflare permission group "DNS Write": expected exactly one, found 2');
    });
});
