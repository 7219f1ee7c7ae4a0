// The shared value checks, as plain calls.
import { describe, expect, it } from "vitest";
import { dnsNameMessage, isRecord, keyName, nonAsciiHint, parseJson, quoted } from "./checks";

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

describe("how a value is shown in a message", () => {
    it("writes the characters a terminal would hide or turn around as \\u escapes", () => {
        // U+202E turns the rest of the line around; U+200B is invisible; U+2028 breaks the line in some terminals.
        expect(quoted("abc\u202Etxt.exe")).toBe('"abc\\u202etxt.exe"');
        expect(quoted("a\u200Bb")).toBe('"a\\u200bb"');
        expect(quoted("a\u2028b")).toBe('"a\\u2028b"');
        expect(quoted("grafana.monosense.dev")).toBe('"grafana.monosense.dev"');
        expect(quoted(undefined)).toBe("undefined");
        expect(keyName("we\u202Eird")).toBe('"we\\u202eird"');
        expect(nonAsciiHint("a\u202Eb")).toBe(': "\\u202e" (U+202E) is not an ASCII character');
    });

    it("names the look-alike in a DNS name", () => {
        expect(dnsNameMessage("grafana.monosense.dеv")).toBe('"grafana.monosense.dеv" is not a valid DNS name: "е" (U+0435) is not an ASCII character');
        expect(dnsNameMessage("bad_name")).toBe('"bad_name" is not a valid DNS name');
    });
});
