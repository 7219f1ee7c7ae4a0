// The Access and hub components' pure parts, and the one input of ClusterAccess that no config key sets yet: a client
// secret rotation per service token (the rotation helper passes it in), checked on the registrations it makes.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { AccessConfig } from "../config/access";
import { allowIncludes, ClusterAccess, tokensFor } from "./access";
import { mergeContract } from "./contract";
import { hubContractPart, hubUrls } from "./hub";

const IDP = "2b9b0c4e-5a1f-4e0e-9d53-3c2f1b7a8e61";
const ACCESS: AccessConfig = {
    teamName: "monosense",
    allow: { emails: ["ops@monosense.dev"], emailDomains: [], githubOrganization: { name: "monosense", identityProviderId: IDP } },
    hostnames: ["grafana.monosense.dev", "vm.monosense.dev"],
    serviceTokens: [{ name: "apps-to-hub", hostnames: ["vm.monosense.dev"] }, { name: "ci", hostnames: ["grafana.monosense.dev", "vm.monosense.dev"] }],
};

describe("access pure parts", () => {
    it("includes each address, domain and the GitHub organization with its login method", () => {
        expect(allowIncludes({ emails: ["a@x.dev", "b@x.dev"], emailDomains: ["y.dev"], githubOrganization: { name: "org", identityProviderId: IDP } })).toEqual([
            { email: { email: "a@x.dev" } },
            { email: { email: "b@x.dev" } },
            { emailDomain: { domain: "y.dev" } },
            { githubOrganization: { name: "org", identityProviderId: IDP } },
        ]);
        expect(allowIncludes({ emails: [], emailDomains: ["y.dev"] })).toEqual([{ emailDomain: { domain: "y.dev" } }]);
    });

    it("finds the tokens that open a hostname", () => {
        expect(tokensFor(ACCESS, "vm.monosense.dev")).toEqual(["apps-to-hub", "ci"]);
        expect(tokensFor(ACCESS, "grafana.monosense.dev")).toEqual(["ci"]);
    });
});

describe("hub pure parts", () => {
    it("gives a URL variable per hub hostname and the token as the only secrets, merging with the other parts", () => {
        expect(hubUrls(["vm.monosense.dev", "logs.monosense.dev"])).toEqual({ HUB_VM_URL: "https://vm.monosense.dev", HUB_LOGS_URL: "https://logs.monosense.dev" });
        const part = hubContractPart({ hostnames: ["vm.monosense.dev"], clientId: "id", clientSecret: "secret" });
        expect(part).toEqual({ vars: { HUB_VM_URL: "https://vm.monosense.dev" }, secrets: { HUB_ACCESS_CLIENT_ID: "id", HUB_ACCESS_CLIENT_SECRET: "secret" } });
        expect(() => mergeContract([part])).not.toThrow();
    });
});

describe("ClusterAccess service token rotation", () => {
    const registered: pulumi.runtime.MockResourceArgs[] = [];
    const settle = () => (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

    beforeAll(async () => {
        await pulumi.runtime.setMocks({
            newResource: (args) => {
                registered.push(args);
                return { id: `${args.name}-id`, state: { ...args.inputs, aud: `${args.name}-aud`, clientId: `${args.name}-cid`, clientSecret: `${args.name}-cs` } };
            },
            call: () => ({}),
        }, "cluster-bootstrap", "test", true);
    });

    const tokenInputs = (name: string) => registered.find((r) => r.type.endsWith(":ZeroTrustAccessServiceToken") && r.name === name)?.inputs;

    it("leaves the version to the provider's default unless a rotation is given, and then passes both halves", async () => {
        new ClusterAccess("access", {
            accountId: "eca0833f608b5745af030307a99bdbb4",
            clusterName: "infra",
            access: ACCESS,
            secretRotations: { "apps-to-hub": { clientSecretVersion: 2, previousClientSecretExpiresAt: "2027-01-31T00:00:00Z" } },
        });
        await settle();
        expect(tokenInputs("access-token-apps-to-hub")).toEqual({
            accountId: "eca0833f608b5745af030307a99bdbb4", name: "apps-to-hub", duration: "8760h", enabled: true,
            clientSecretVersion: 2, previousClientSecretExpiresAt: "2027-01-31T00:00:00Z",
        });
        expect(tokenInputs("access-token-ci")).toEqual({ accountId: "eca0833f608b5745af030307a99bdbb4", name: "ci", duration: "8760h", enabled: true });
    });

    it("refuses a rotation for a token it does not create", () => {
        expect(() => new ClusterAccess("other", {
            accountId: "eca0833f608b5745af030307a99bdbb4", clusterName: "infra", access: ACCESS,
            secretRotations: { "apps-to-hubb": { clientSecretVersion: 2, previousClientSecretExpiresAt: "2027-01-31T00:00:00Z" } },
        })).toThrow('a secret rotation names "apps-to-hubb", which is not a service token');
    });
});
