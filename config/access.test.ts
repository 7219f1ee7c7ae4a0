// The `access` and `hub` keys through validateConfig: each refusal names its full key, nothing is echoed that must not
// be, and a valid value comes back typed with its defaults.
import { describe, expect, it } from "vitest";
import { TEST_AGE_KEY, validValues } from "../test/harness";
import { validateConfig } from ".";
import { accessConfig, accessSchema, isServiceTokenName } from "./access";
import { hubConfig, hubLinkProblems, hubSchema, hubServiceTokenName, hubUrlVariable, isStackName, type HubConfig } from "./hub";

const AGE_KEY = TEST_AGE_KEY;
const IDP = "2b9b0c4e-5a1f-4e0e-9d53-3c2f1b7a8e61";

function valid(): Record<string, any> {
    return {
        ...validValues(),
        tunnel: {
            gateway: "https://envoy-external.networking.svc.cluster.local",
            routes: [{ hostname: "vm.monosense.dev", service: "http://vminsert.monitoring.svc.cluster.local:8480" }],
        },
        access: {
            teamName: "monosense",
            allow: { emails: ["ops@monosense.dev"] },
            hostnames: ["grafana.monosense.dev", "vm.monosense.dev"],
            serviceTokens: [{ name: "apps-to-hub", hostnames: ["vm.monosense.dev"] }],
        },
    };
}

async function problems(edit: (v: Record<string, any>) => void): Promise<string[]> {
    const values = valid();
    edit(values);
    return (await validateConfig({ values })).problems;
}

describe("access", () => {
    it("accepts names the zone wildcard routes and explicit routes, and returns them typed with each token's hostnames", async () => {
        const r = await validateConfig({ values: { ...valid(), access: { ...valid().access, serviceTokens: ["ci", { name: "apps-to-hub", hostnames: ["vm.monosense.dev"] }] } } });
        expect(r.problems).toEqual([]);
        expect(r.config?.access).toEqual({
            teamName: "monosense",
            allow: { emails: ["ops@monosense.dev"], emailDomains: [] },
            hostnames: ["grafana.monosense.dev", "vm.monosense.dev"],
            serviceTokens: [
                { name: "ci", hostnames: ["grafana.monosense.dev", "vm.monosense.dev"] },
                { name: "apps-to-hub", hostnames: ["vm.monosense.dev"] },
            ],
        });
    });

    it("is optional", async () => {
        const r = await validateConfig({ values: { ...valid(), access: undefined } });
        expect(r.problems).toEqual([]);
        expect(r.config?.access).toBeUndefined();
    });

    it("refuses the Flux webhook host: GitHub cannot log in to Access", async () => {
        expect(await problems((v) => v.access.hostnames.push("flux-webhook.monosense.dev"))).toEqual([
            'cluster-bootstrap:access.hostnames[2]: "flux-webhook.monosense.dev" is the Flux webhook host, which is never behind Access: '
            + "GitHub cannot log in to Access, and the Receiver's token already guards it",
        ]);
    });

    it("refuses a hostname the tunnel does not route, and one outside the zone", async () => {
        expect(await problems((v) => { v.access.hostnames = ["monosense.dev", "grafana.monosense.io"]; v.access.serviceTokens = []; })).toEqual([
            'cluster-bootstrap:access.hostnames[0]: "monosense.dev" is not routed by the tunnel (the zone wildcard *.monosense.dev never '
            + "takes monosense.dev itself); add a cluster-bootstrap:tunnel.routes entry for it",
            'cluster-bootstrap:access.hostnames[1]: "grafana.monosense.io" is outside the zone monosense.dev',
        ]);
    });

    it("takes the apex once a route names it", async () => {
        expect(await problems((v) => {
            v.access.hostnames.push("monosense.dev");
            v.tunnel.routes.push({ hostname: "monosense.dev", service: "http://www.web.svc.cluster.local" });
        })).toEqual([]);
    });

    it("refuses wildcards, bad names, repeats and an empty list", async () => {
        expect(await problems((v) => { v.access.hostnames = ["*.monosense.dev", "Grafana.monosense.dev", "vm.monosense.dev", "vm.monosense.dev"]; })).toEqual([
            'cluster-bootstrap:access.hostnames[0]: "*.monosense.dev" is a wildcard: list each hostname to protect (cloudflared checks Access per hostname)',
            'cluster-bootstrap:access.hostnames[1]: "Grafana.monosense.dev" is not a valid DNS name',
            'cluster-bootstrap:access.hostnames[3]: "vm.monosense.dev" repeats cluster-bootstrap:access.hostnames[2]',
        ]);
        expect(await problems((v) => { v.access.hostnames = []; v.access.serviceTokens = []; }))
            .toEqual(["cluster-bootstrap:access.hostnames: must name at least one hostname"]);
    });

    it("refuses an allow list that lets nobody in", async () => {
        for (const allow of [{}, { emails: [], emailDomains: [] }]) {
            expect(await problems((v) => { v.access.allow = allow; }))
                .toEqual(["cluster-bootstrap:access.allow: must let someone in: set emails, emailDomains or githubOrganization"]);
        }
    });

    it("refuses bad entries in the allow lists, each with its key", async () => {
        expect(await problems((v) => {
            v.access.allow = {
                emails: ["ops@monosense.dev", "OPS@monosense.dev", "not-an-address", "*@monosense.dev"],
                emailDomains: ["@monosense.dev", "monosense.dev", "Monosense.dev"],
                githubOrganization: { name: "-monosense", identityProviderId: "github" },
                everyone: true,
            };
        })).toEqual([
            'cluster-bootstrap:access.allow.emails[2]: "not-an-address" is not an email address',
            'cluster-bootstrap:access.allow.emails[3]: "*@monosense.dev" is not an email address',
            'cluster-bootstrap:access.allow.emailDomains[0]: "@monosense.dev": give the domain without the @',
            'cluster-bootstrap:access.allow.emailDomains[2]: "Monosense.dev" is not an email domain such as example.com',
            'cluster-bootstrap:access.allow.githubOrganization.name: "-monosense" is not a GitHub organization name',
            'cluster-bootstrap:access.allow.githubOrganization.identityProviderId: "github" is not the id of a Zero Trust identity provider '
            + "(a lowercase UUID: Zero Trust > Settings > Authentication > the GitHub login method)",
            "cluster-bootstrap:access.allow.everyone: is not a known setting",
            'cluster-bootstrap:access.allow.emails[1]: "OPS@monosense.dev" repeats cluster-bootstrap:access.allow.emails[0]',
        ]);
    });

    it("requires the GitHub login method's id with an organization, as the API does", async () => {
        expect(await problems((v) => { v.access.allow = { githubOrganization: { name: "monosense" } }; }))
            .toEqual(["cluster-bootstrap:access.allow.githubOrganization.identityProviderId: is required"]);
        const r = await validateConfig({ values: { ...valid(), access: { ...valid().access, allow: { githubOrganization: { name: "monosense", identityProviderId: IDP } } } } });
        expect(r.problems).toEqual([]);
        expect(r.config?.access?.allow).toEqual({ emails: [], emailDomains: [], githubOrganization: { name: "monosense", identityProviderId: IDP } });
    });

    it("refuses bad team and token names, repeated tokens and tokens on hostnames Access does not protect", async () => {
        expect(await problems((v) => {
            v.access.teamName = "Monosense Team";
            v.access.serviceTokens = ["apps-to-hub", { name: "apps-to-hub" }, "Bad_Name", { name: "ci", hostnames: ["git.monosense.dev"] }, { name: "x", hostnames: [] }];
        })).toEqual([
            'cluster-bootstrap:access.teamName: "Monosense Team" is not a Zero Trust team name (the <team> of <team>.cloudflareaccess.com)',
            'cluster-bootstrap:access.serviceTokens[2].name: "Bad_Name" is not a service token name (lowercase letters, digits and hyphens)',
            "cluster-bootstrap:access.serviceTokens[4].hostnames: must name at least one hostname (leave it out for all of them)",
            'cluster-bootstrap:access.serviceTokens[1]: "apps-to-hub" repeats cluster-bootstrap:access.serviceTokens[0]',
            'cluster-bootstrap:access.serviceTokens[3].hostnames[0]: "git.monosense.dev" is not one of cluster-bootstrap:access.hostnames: '
            + "a token opens only protected hostnames",
        ]);
    });

    it("never echoes a secret pasted into it", async () => {
        const found = await problems((v) => { v.access.allow.emails = [AGE_KEY]; v.access.hostnames.push(AGE_KEY); });
        expect(found.length).toBe(2);
        expect(found.join("\n")).not.toContain(AGE_KEY);
    });

    it("has the schema's shape in its typed form", () => {
        const parsed = accessSchema.parse({ teamName: "t", allow: { emailDomains: ["monosense.dev"] }, hostnames: ["a.monosense.dev"] });
        expect(accessConfig(parsed)).toEqual({ teamName: "t", allow: { emails: [], emailDomains: ["monosense.dev"] }, hostnames: ["a.monosense.dev"], serviceTokens: [] });
        expect(isServiceTokenName("apps-to-hub")).toBe(true);
        expect(isServiceTokenName("-x")).toBe(false);
    });
});

describe("hub", () => {
    const spoke = (hub: unknown) => ({
        ...valid(), cluster: { name: "apps", id: 2, domain: "monosense.io" }, tunnel: { gateway: "https://envoy.networking.svc.cluster.local" }, access: undefined, hub,
    });

    it("takes the hub's stack and hostnames, the token defaulting to <cluster>-to-hub", async () => {
        const r = await validateConfig({ values: spoke({ stack: "monosense/cluster-bootstrap/infra", hostnames: ["vm.monosense.dev", "logs.monosense.dev"] }) });
        expect(r.problems).toEqual([]);
        expect(r.config?.hub).toEqual({ stack: "monosense/cluster-bootstrap/infra", hostnames: ["vm.monosense.dev", "logs.monosense.dev"], serviceToken: "apps-to-hub" });
        const named = await validateConfig({ values: spoke({ stack: "infra", hostnames: ["vm.monosense.dev"], serviceToken: "metrics-writer" }) });
        expect(named.config?.hub?.serviceToken).toBe("metrics-writer");
    });

    it("refuses bad stacks, hostnames, repeats and two hostnames that give one variable", async () => {
        const r = await validateConfig({ values: spoke({ stack: "a/b/c/d", hostnames: ["vm.monosense.dev", "vm.monosense.dev", "vm.monosense.io", "*.monosense.dev"], serviceToken: "X" }) });
        expect(r.problems).toEqual([
            'cluster-bootstrap:hub.stack: "a/b/c/d" is not a stack name (stack, organization/stack or organization/project/stack)',
            'cluster-bootstrap:hub.hostnames[3]: "*.monosense.dev" is a wildcard: list each hub hostname this cluster sends to',
            'cluster-bootstrap:hub.serviceToken: "X" is not a service token name (lowercase letters, digits and hyphens)',
            'cluster-bootstrap:hub.hostnames[1]: "vm.monosense.dev" repeats cluster-bootstrap:hub.hostnames[0]',
            'cluster-bootstrap:hub.hostnames[2]: "vm.monosense.io" gives HUB_VM_URL like cluster-bootstrap:hub.hostnames[0] ("vm.monosense.dev"): '
            + "the first labels must differ",
        ]);
        expect((await validateConfig({ values: spoke({ hostnames: [] }) })).problems).toEqual([
            "cluster-bootstrap:hub.stack: is required",
            "cluster-bootstrap:hub.hostnames: must name at least one hostname",
        ]);
    });

    it("refuses this stack itself, in every form a StackReference resolves to it (pulumi's ParseStackReference: org/stack, org/project/stack)", async () => {
        const self = { organization: "organization", project: "cluster-bootstrap", stack: "apps" };
        const problem = (stack: string) => `cluster-bootstrap:hub.stack: ${JSON.stringify(stack)} is this stack itself: name the hub's stack `
            + "(the one whose cluster-bootstrap:access.serviceTokens issues this cluster's token), or remove cluster-bootstrap:hub on the hub";
        for (const stack of ["apps", "organization/apps", "organization/cluster-bootstrap/apps"]) {
            expect((await validateConfig({ values: spoke({ stack, hostnames: ["vm.monosense.dev"] }), self })).problems, stack).toEqual([problem(stack)]);
        }
        for (const stack of ["infra", "organization/other-project/apps", "monosense/cluster-bootstrap/apps", "monosense/apps"]) {
            expect((await validateConfig({ values: spoke({ stack, hostnames: ["vm.monosense.dev"] }), self })).problems, stack).toEqual([]);
        }
        // Without the organization only the bare name can be judged.
        const unknownOrg = { project: "cluster-bootstrap", stack: "apps" };
        expect((await validateConfig({ values: spoke({ stack: "apps", hostnames: ["vm.monosense.dev"] }), self: unknownOrg })).problems).toEqual([problem("apps")]);
        expect((await validateConfig({ values: spoke({ stack: "organization/apps", hostnames: ["vm.monosense.dev"] }), self: unknownOrg })).problems).toEqual([]);
    });

    it("names variables after the first label", () => {
        expect(hubUrlVariable("vm-insert.monosense.dev")).toBe("HUB_VM_INSERT_URL");
        expect(hubUrlVariable("logs.monosense.dev")).toBe("HUB_LOGS_URL");
        expect(hubServiceTokenName("apps")).toBe("apps-to-hub");
        expect(isStackName("organization/cluster-bootstrap/infra")).toBe(true);
        expect(isStackName("../infra")).toBe(false);
        expect(hubConfig(hubSchema.parse({ stack: "infra", hostnames: ["vm.monosense.dev"] }), "edge")).toEqual({ stack: "infra", hostnames: ["vm.monosense.dev"], serviceToken: "edge-to-hub" });
    });
});

describe("hubLinkProblems: the spoke's hub against what the hub's stack exports", () => {
    const hub: HubConfig = { stack: "infra", hostnames: ["vm.monosense.dev", "logs.monosense.dev"], serviceToken: "apps-to-hub" };
    const exported = { hubHostnames: { "apps-to-hub": ["vm.monosense.dev", "logs.monosense.dev"] }, hubHostnamesSecret: false, tokenNames: ["apps-to-hub"] };

    it("passes when the hub issues the token and opens every hostname with it", () => {
        expect(hubLinkProblems(hub, exported)).toEqual([]);
    });

    it("says to run the hub first when it exports nothing", () => {
        expect(hubLinkProblems(hub, { hubHostnames: undefined, hubHostnamesSecret: false })).toEqual([
            'cluster-bootstrap:hub.stack: stack "infra" exports no hubHostnames and accessServiceTokens: set its '
            + 'cluster-bootstrap:access.serviceTokens to include "apps-to-hub" and run it before this stack',
        ]);
    });

    it("names the tokens the hub does issue", () => {
        expect(hubLinkProblems({ ...hub, serviceToken: "edge-to-hub" }, exported)).toEqual([
            'cluster-bootstrap:hub.serviceToken: stack "infra" issues no service token "edge-to-hub" (its tokens: "apps-to-hub"); add it to '
            + "that stack's cluster-bootstrap:access.serviceTokens and run it first, or name one of its tokens here",
        ]);
    });

    it("refuses a hostname the token does not open, echoing the hub's list only when it is not secret", () => {
        const narrow = { ...exported, hubHostnames: { "apps-to-hub": ["vm.monosense.dev"] } };
        expect(hubLinkProblems(hub, narrow)).toEqual([
            'cluster-bootstrap:hub.hostnames[1]: "logs.monosense.dev" is not a hostname stack "infra" opens to service token "apps-to-hub" (it opens "vm.monosense.dev")',
        ]);
        expect(hubLinkProblems(hub, { ...narrow, hubHostnamesSecret: true })).toEqual([
            'cluster-bootstrap:hub.hostnames[1]: "logs.monosense.dev" is not a hostname stack "infra" opens to service token "apps-to-hub"',
        ]);
    });
});
