import { describe, expect, it } from "vitest";
import { bootstrapLabels, namespacesToEnsure, secretResourceName } from "./bootstrap-secrets";

describe("bootstrap Secrets", () => {
    it("make sure of each namespace once, flux-system left to Flux's install", () => {
        expect(namespacesToEnsure([
            { namespace: "external-secrets" }, { namespace: "flux-system" }, { namespace: "vault" }, { namespace: "external-secrets" },
        ])).toEqual(["external-secrets", "vault"]);
        expect(namespacesToEnsure([])).toEqual([]);
    });

    it("get resource names that no two Secrets share", () => {
        expect(secretResourceName("bootstrap-secrets", "a-b", "c")).toBe("bootstrap-secrets-a-b.c");
        expect(secretResourceName("bootstrap-secrets", "a", "b-c")).toBe("bootstrap-secrets-a.b-c");
        expect(secretResourceName("bootstrap-secrets", "a", "b.c")).not.toBe(secretResourceName("bootstrap-secrets", "a-b", "c"));
    });

    it("are labelled so Flux's garbage collection never deletes them", () => {
        expect(bootstrapLabels()).toEqual({ "kustomize.toolkit.fluxcd.io/prune": "disabled" });
    });
});
