import { describe, expect, it } from "vitest";
import { NOT_ROTATED, reconcileRequest, rotationOptions, rotationTrigger } from "./rotation";

describe("rotationTrigger", () => {
    it("is the rotation value, or the empty string when unset: never null, which the engine ignores", () => {
        expect(rotationTrigger("2026-12")).toBe("2026-12");
        expect(rotationTrigger(undefined)).toBe(NOT_ROTATED);
        expect(NOT_ROTATED).toBe("");
    });

    it("with other values, is an object of them and the rotation value, keys sorted whatever the order given", () => {
        expect(rotationTrigger("2026-12", { title: "flux-infra", readOnly: true, repository: "o/r" })).toEqual({
            readOnly: true, repository: "o/r", rotation: "2026-12", title: "flux-infra",
        });
        expect(Object.keys(rotationTrigger(undefined, { z: "1", a: "2" }) as object)).toEqual(["a", "rotation", "z"]);
        expect(rotationTrigger(undefined, { readOnly: false })).toEqual({ readOnly: false, rotation: "" });
    });

    it("changes when the rotation value or any other value changes, and only then", () => {
        const base = JSON.stringify(rotationTrigger("a", { readOnly: true, title: "t" }));
        expect(JSON.stringify(rotationTrigger("a", { title: "t", readOnly: true }))).toBe(base);
        expect(JSON.stringify(rotationTrigger("b", { readOnly: true, title: "t" }))).not.toBe(base);
        expect(JSON.stringify(rotationTrigger("a", { readOnly: false, title: "t" }))).not.toBe(base);
        expect(JSON.stringify(rotationTrigger("a", { readOnly: true, title: "u" }))).not.toBe(base);
        expect(JSON.stringify(rotationTrigger(undefined, { readOnly: true, title: "t" }))).not.toBe(base);
    });

    it("refuses another value named rotation, which would hide the rotation value", () => {
        expect(() => rotationTrigger("a", { rotation: "b" })).toThrow(/rotation/);
    });
});

describe("rotationOptions", () => {
    it("sets the replacement trigger and nothing else: never deleteBeforeReplace", () => {
        expect(rotationOptions("2026-12")).toEqual({ replacementTrigger: "2026-12" });
        expect(rotationOptions(undefined)).toEqual({ replacementTrigger: "" });
        expect(rotationOptions("x", { readOnly: true })).toEqual({ replacementTrigger: { readOnly: true, rotation: "x" } });
    });
});

describe("reconcileRequest", () => {
    it("names the credential and changes exactly when its trigger does", () => {
        const r = reconcileRequest("webhookToken", "2026-12");
        expect(r).toMatch(/^rotation-webhook-token-[0-9a-f]{16}$/);
        expect(reconcileRequest("webhookToken", "2026-12")).toBe(r);
        expect(reconcileRequest("webhookToken", "2027-06")).not.toBe(r);
        expect(reconcileRequest("webhookToken", "")).not.toBe(r);
        expect(reconcileRequest("deployKey", "2026-12")).not.toBe(r);
    });

    it("holds nothing a pulumi.com/waitFor jsonpath would split on, and does not show the value", () => {
        const r = reconcileRequest("webhookToken", "a=b {c} \"d\"");
        expect(r).toMatch(/^[a-z0-9-]+$/);
        expect(r).not.toContain("a=b");
    });
});
