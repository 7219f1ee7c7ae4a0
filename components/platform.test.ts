import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { ContractPart } from "./contract";
import { appRelease, type AppFile } from "../flux/helmrelease";
import { releaseValues, strictSubstitution } from "./platform";

const DIR = "kubernetes/apps/network/demo/app";
const demo = (values: string): AppFile[] => [
    { file: `${DIR}/ocirepository.yaml`, text: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: demo\nspec:\n  url: oci://127.0.0.1:5000/demo\n  ref:\n    tag: 1.0.0\n" },
    { file: `${DIR}/helmrelease.yaml`, text: `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: demo\nspec:\n  chartRef:\n    kind: OCIRepository\n    name: demo\n  values:\n${values}` },
];
const release = (values: string) => appRelease(DIR, demo(values), "network", {});

const settle = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply((v) => { resolve(v); return v; }));

// Secret in the contract even when a capability handed it over in plain text.
const contract: ContractPart = { vars: { CLUSTER_NAME: "infra", CLUSTER_ID: "1" }, secrets: { TOKEN: "plain-token" } };

describe("a platform release's values", () => {
    it("are secret when the HelmRelease uses a cluster-secrets key, even one given in plain text", async () => {
        const values = releaseValues(release("    token: ${TOKEN}\n    name: ${CLUSTER_NAME}\n"), contract, false);
        expect(await pulumi.isSecret(values)).toBe(true);
        expect(await settle(values)).toEqual({ token: "plain-token", name: "infra" });
    });

    it("are not secret otherwise", async () => {
        const values = releaseValues(release("    id: ${CLUSTER_ID}\n"), contract, false);
        expect(await pulumi.isSecret(values)).toBe(false);
        expect(await settle(values)).toEqual({ id: 1 });
    });

    it("wait only for the Outputs of the variables the HelmRelease uses", async () => {
        let resolveTunnel: (v: string) => void = () => undefined;
        const tunnel = pulumi.output(new Promise<string>((r) => { resolveTunnel = r; }));
        const withTunnel: ContractPart = { vars: { ...contract.vars, TUNNEL_ID: tunnel }, secrets: contract.secrets };
        // Known at once: TUNNEL_ID is not used, so its pending Output does not hold the values back.
        expect(await settle(releaseValues(release("    id: ${CLUSTER_ID}\n"), withTunnel, false))).toEqual({ id: 1 });
        const pending = releaseValues(release("    tunnel: ${TUNNEL_ID}\n"), withTunnel, false);
        resolveTunnel("tunnel-id");
        expect(await settle(pending)).toEqual({ tunnel: "tunnel-id" });
    });

    it("turn an unset variable into \"\" before Flux 2.9 even when it is the only one used: Flux substitutes whenever cluster-vars exists", async () => {
        expect(await settle(releaseValues(release("    cidr: ${CLUSTER_CIDR}\n    keep: $${CLUSTER_NAME}\n"), contract, strictSubstitution("2.7.x"))))
            .toEqual({ cidr: null, keep: "${CLUSTER_NAME}" });
    });

    it("follow Flux's rule for an unset variable of the configured version", () => {
        expect(() => releaseValues(release("    cidr: ${CLUSTER_CIDR}\n"), contract, strictSubstitution("2.9.x")))
            .toThrow(`${DIR}/helmrelease.yaml: envsubst error: variable substitution failed: variable not set (strict mode): "CLUSTER_CIDR"`);
        expect(releaseValues(release("    cidr: ${CLUSTER_CIDR}\n"), contract, strictSubstitution("2.7.x"))).toBeDefined();
    });
});
