// The shared value checks, as plain calls.
import { describe, expect, it } from "vitest";
import { isRecord, parseJson } from "./checks";

describe("parseJson", () => {
    it("gives the JSON value of the text, null and lists included", () => {
        expect(parseJson('{"a":[1,"b"]}')).toEqual({ a: [1, "b"] });
        expect(parseJson("null")).toBeNull();
        expect(parseJson("[]")).toEqual([]);
    });

    it("gives undefined, and never throws a message quoting the text, when the text is not JSON", () => {
        for (const text of ["", "{", "secret-value-SENTINEL", '{"a":1}trailing']) expect(parseJson(text)).toBeUndefined();
    });
});

describe("isRecord", () => {
    it("accepts a mapping only", () => {
        expect(isRecord({})).toBe(true);
        for (const v of [null, undefined, [], "x", 1]) expect(isRecord(v)).toBe(false);
    });
});
