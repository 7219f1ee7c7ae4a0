// Flux's post-build substitution of a resource, checked against Flux's own sources and documentation:
// - fluxcd/pkg kustomize/kustomize_varsub.go (name check, "\n" removal, strict mapping, YAMLToJSON);
// - kustomize-controller docs/spec/v1/kustomizations.md, "Post build variable substitution".
import { describe, expect, it } from "vitest";
import { loadVariables, parseResource, substituteVariables, substitutionDisabled, SubstitutionError } from "./kustomize-varsub";

describe("Flux post-build substitution of a resource (kustomize_varsub.go)", () => {
    const strict = { strict: true };
    const lax = { strict: false };

    it("substitutes an unset variable with an empty string unless a default is given (docs: undefined variables)", () => {
        expect(substituteVariables("a: ${UNSET}\nb: ${UNSET:=x}\nc: ${UNSET:-y}\n", { SET: "1" }, lax)).toBe("a: \nb: x\nc: y\n");
    });

    it("fails on an unset variable without a default when strict (StrictPostBuildSubstitutions, default from Flux 2.9)", () => {
        expect(() => substituteVariables("a: ${UNSET}\n", { SET: "1" }, strict))
            .toThrow('envsubst error: variable substitution failed: variable not set (strict mode): "UNSET"');
        expect(substituteVariables("a: ${UNSET:=x}\n", { SET: "1" }, strict)).toBe("a: x\n");
    });

    it("leaves $VAR without braces alone and prints $${VAR} as ${VAR} (docs: Note)", () => {
        expect(substituteVariables("cmd: echo $HOME $${HOME} ${HOME}\n", { HOME: "/root" }, lax)).toBe("cmd: echo $HOME ${HOME} /root\n");
    });

    it("does nothing when there is no variable, unless substituteStrategy is Always", () => {
        expect(substituteVariables("a: ${A:=x}\n", {}, lax)).toBeUndefined();
        expect(substituteVariables("a: ${A:=x}\n", {}, { strict: false, always: true })).toBe("a: x\n");
    });

    it("refuses variable names Flux refuses", () => {
        expect(() => substituteVariables("a: 1", { "BAD-NAME": "x" }, lax)).toThrow(SubstitutionError);
        expect(() => substituteVariables("a: 1", { "1ST": "x" }, lax)).toThrow(/var name is invalid/);
    });

    it("reports a malformed expression as Flux does", () => {
        expect(() => substituteVariables("a: ${A-b}\n", { A: "x" }, lax)).toThrow("envsubst error: variable substitution failed: missing closing brace");
    });

    it("removes newlines from every value, as LoadVariables does", () => {
        expect(loadVariables({ A: "line1\nline2\n" })).toEqual({ A: "line1line2" });
    });

    it("substitutes before parsing, so types come from the substituted text (YAML 1.1 through go-yaml v2)", () => {
        const text = substituteVariables("id: ${ID}\nquoted: \"${ID}\"\nflag: ${FLAG}\ncidr: ${CIDR}\n", { ID: "1", FLAG: "yes", CIDR: "10.42.0.0/16" }, lax)!;
        expect(parseResource(text, true)).toEqual({ id: 1, quoted: "1", flag: true, cidr: "10.42.0.0/16" });
    });

    it("parses like go-yaml v2 after substitution: no base-60 numbers, timestamps stay strings", () => {
        expect(parseResource("a: 190:20:30\nb: 2001-12-14\nc: 0777\nd: off\n", true)).toEqual({ a: "190:20:30", b: "2001-12-14", c: 511, d: false });
        // Without substitution the object comes from kustomize as YAML 1.2 parsed it.
        expect(parseResource("d: off\nc: 0777\n", false)).toEqual({ d: "off", c: 777 });
    });

    it("is turned off by the kustomize.toolkit.fluxcd.io/substitute: disabled label or annotation", () => {
        expect(substitutionDisabled({ metadata: { annotations: { "kustomize.toolkit.fluxcd.io/substitute": "disabled" } } })).toBe(true);
        expect(substitutionDisabled({ metadata: { labels: { "kustomize.toolkit.fluxcd.io/substitute": "disabled" } } })).toBe(true);
        expect(substitutionDisabled({ metadata: { annotations: { "kustomize.toolkit.fluxcd.io/substitute": "enabled" } } })).toBe(false);
        expect(substitutionDisabled({ metadata: {} })).toBe(false);
    });
});
