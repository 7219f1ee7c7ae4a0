// Flux's envsubst, checked against Flux's own test tables: fluxcd/pkg envsubst/eval_test.go (TestExpand,
// TestExpandStrict) and envsubst/parse/parse_test.go, at e2cfd1a2.
import { describe, expect, it } from "vitest";
import { parseTemplate } from "./parse";
import { pathMatch } from "./path-match";
import { evaluate, templateVariables } from "./template";

/** envsubst.Eval with the mapping Flux uses when not strict: every name exists, unset ones are "". */
const expand = (text: string, params: Record<string, string>) => evaluate(parseTemplate(text), (n) => [params[n] ?? "", true]);
/** The mapping of strict mode: unset names do not exist. */
const expandStrict = (text: string, params: Record<string, string>) =>
    evaluate(parseTemplate(text), (n) => [params[n] ?? "", Object.prototype.hasOwnProperty.call(params, n)]);

describe("envsubst, as Flux forked it (eval_test.go TestExpand)", () => {
    const cases: Array<[Record<string, string>, string, string]> = [
        [{}, "abcdEFGH28ij", "abcdEFGH28ij"],
        [{ var01: "abcdEFGH28ij" }, "${#var01}", "12"],
        [{ var01: "abcdEFGH28ij" }, "${var01^}", "AbcdEFGH28ij"],
        [{ var01: "abcdEFGH28ij" }, "${var01^^}", "ABCDEFGH28IJ"],
        [{ var01: "ABCDEFGH28IJ" }, "${var01,}", "aBCDEFGH28IJ"],
        [{ var01: "ABCDEFGH28IJ" }, "${var01,,}", "abcdefgh28ij"],
        [{ path_name: "/home/bozo/ideas/thoughts.for.today" }, "${path_name:11}", "ideas/thoughts.for.today"],
        [{ path_name: "/home/bozo/ideas/thoughts.for.today" }, "${path_name:11:5}", "ideas"],
        [{ var: "abc" }, "${var=xyz}", "abc"],
        [{}, "${var=xyz}", "xyz"],
        [{ default_var: "foo" }, "something ${var=${default_var}}", "something foo"],
        [{ default_var: "foo1" }, "foo: ${var=${default_var}-suffix}", "foo: foo1-suffix"],
        [{ default_var: "foo1" }, "foo: ${var=prefix${default_var}-suffix}", "foo: prefixfoo1-suffix"],
        [{}, "${var:=xyz}", "xyz"],
        [{ stringZ: "abcABC123ABCabc" }, "${stringZ/%abc/XYZ}", "abcABC123ABCXYZ"],
        [{ stringZ: "abcABC123ABCabc" }, "${stringZ/#abc/XYZ}", "XYZABC123ABCabc"],
        [{ stringZ: "abcABC123ABCabc" }, "${stringZ//abc/xyz}", "xyzABC123ABCxyz"],
        [{ stringZ: "abcABC123ABCabc" }, "${stringZ/abc/xyz}", "xyzABC123ABCabc"],
        [{ filename: "bash.string.txt" }, "${filename#*.}", "string.txt"],
        [{ filename: "path/to/file" }, "${filename#*/}", "to/file"],
        [{ filename: "/path/to/file" }, "${filename#*/}", "path/to/file"],
        [{ filename: "bash.string.txt" }, "${filename##*.}", "txt"],
        [{ filename: "path/to/file" }, "${filename##*/}", "file"],
        [{ filename: "/path/to/file" }, "${filename##*/}", "file"],
        [{ filename: "bash.string.txt" }, "${filename%.*}", "bash.string"],
        [{ filename: "bash.string.txt" }, "${filename%%.*}", "bash"],
        [{ var01: "abcdEFGH28ij" }, "${var=${var01^^}}", "ABCDEFGH28IJ"],
        [{ var01: "abcdEFGH28ij" }, "$${var01}", "${var01}"],
        [{ var01: "abcdEFGH28ij" }, "some text ${var01}$${var$${var01}$var01${var01}", "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij"],
        [{ default_var: "foo" }, "something $${var=${default_var}}", "something ${var=foo}"],
        [{ stringZ: "foo/bar" }, "${stringZ/\\//-}", "foo-bar"],
        [{ stringZ: "foo/bar/baz" }, "${stringZ//\\//-}", "foo-bar-baz"],
        [{ default_var: "foo" }, "\\\\something ${var=${default_var}}", "\\\\something foo"],
        [{ stringZ: "foo.bar" }, "${stringZ/./}", "foobar"],
    ];
    it.each(cases)("%j: %s", (params, input, output) => {
        expect(expand(input, params)).toBe(output);
    });
});

describe("envsubst strict mode (eval_test.go TestExpandStrict)", () => {
    it("expands set variables, empty ones included", () => {
        expect(expandStrict("${foo}", { foo: "bar" })).toBe("bar");
        expect(expandStrict("${foo}", { foo: "" })).toBe("");
    });
    it("refuses an unset variable, bare or transformed", () => {
        for (const input of ["${missing}", "${#missing}", "${missing^}", "${missing^^}", "${missing,}", "${missing,,}", "${missing:0}",
            "${missing:0:10}", "${missing/pattern/replacement}", "${missing//pattern/replacement}", "${missing/#pattern/replacement}",
            "${missing/%pattern/replacement}", "${missing#pattern}", "${missing##pattern}", "${missing%pattern}", "${missing%%pattern}"]) {
            expect(() => expandStrict(input, {}), input).toThrow('variable not set (strict mode): "missing"');
        }
    });
    it("lets the default-providing operators through", () => {
        expect(expandStrict("${missing:=default}", { foo: "bar" })).toBe("default");
        expect(expandStrict("${missing:-fallback}", {})).toBe("fallback");
        expect(expandStrict("${missing:=assigned}", {})).toBe("assigned");
        expect(expandStrict("${missing=assigned}", {})).toBe("assigned");
    });
});

describe("envsubst parsing (parse_test.go)", () => {
    it("keeps text, double slashes and backslashes; $$ is a literal $", () => {
        expect(parseTemplate("}text")).toEqual({ kind: "text", value: "}text" });
        expect(parseTemplate("http://github.com")).toEqual({ kind: "text", value: "http://github.com" });
        expect(parseTemplate("$${string}")).toEqual({ kind: "text", value: "${string}" });
        expect(parseTemplate("$$string")).toEqual({ kind: "text", value: "$string" });
        expect(parseTemplate("\\\\.\\pipe\\pipename")).toEqual({ kind: "text", value: "\\\\.\\pipe\\pipename" });
    });
    it("reads special characters in an argument as text", () => {
        expect(parseTemplate("${string#$%:*{}")).toEqual({ kind: "func", param: "string", name: "#", args: [{ kind: "text", value: "$%:*{" }] });
    });
    it("lists the variables a template looks up, nested defaults included", () => {
        expect(templateVariables("a ${A} ${B:=${C}} $${D} $E ${#F} ${A}")).toEqual(["A", "C", "B", "F"]);
    });
    it("fails where Flux's parser fails, with its message", () => {
        expect(() => parseTemplate("${VAR-default}")).toThrow("missing closing brace");
        expect(() => parseTemplate("${foo.bar}")).toThrow("missing closing brace");
        expect(() => parseTemplate("${}")).toThrow("unable to parse variable name");
        expect(() => parseTemplate("${A")).toThrow("missing closing brace");
        expect(() => parseTemplate("${A/x}")).toThrow("bad substitution");
    });
});

describe("path.Match of Flux's fork: * and ? also match /", () => {
    it("matches like Go's path.Match otherwise", () => {
        expect(pathMatch("*.txt", "a.txt")).toBe(true);
        expect(pathMatch("*/b", "a/x/b")).toBe(true);
        expect(pathMatch("a?c", "a/c")).toBe(true);
        expect(pathMatch("[a-c]x", "bx")).toBe(true);
        expect(pathMatch("[^a-c]x", "bx")).toBe(false);
        expect(pathMatch("\\*", "*")).toBe(true);
        expect(() => pathMatch("[", "a")).toThrow();
    });
});
