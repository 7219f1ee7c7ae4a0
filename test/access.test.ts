// Cloudflare Access as the program plans it: applications, policies and service tokens with every field the provider
// would otherwise fill set to its default, cloudflared's check on exactly the protected rules, secret credentials, and
// the refusals that stop a run before anything is registered.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import { HUB_HOSTNAMES_OUTPUT, SERVICE_TOKENS_OUTPUT } from "../config/hub";
import { toPlanJson } from "../offline/runtime";
import { IDP, withAccess } from "./access-fixtures";
import { isWireSecret, plainAt, redact, runStack, secretStrings, type StackRun, type Values } from "./harness";
import { TUNNEL_CONFIG, DNS } from "./resource-types";

const APP = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";
const POLICY = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy";
const TOKEN = "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken";
const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
const GATEWAY = "https://envoy-external.networking.svc.cluster.local";
const TLS = { originServerName: "external.monosense.dev", http2Origin: true };

const ingresses = (run: StackRun) => plainAt(run.one(TUNNEL_CONFIG), "config.ingresses") as Array<Record<string, any>>;

describe("Access on the infra stack", () => {
    it("creates one self-hosted application per hostname, every provider-filled field set to its default", async () => {
        const run = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
        expect(run.error).toBeUndefined();
        const allow = run.one(POLICY, "access-allow");
        const tokenPolicy = run.one(POLICY, "access-token-policy-apps-to-hub");
        const grafana = run.one(APP, "access-app-grafana.monosense.dev");
        const common = {
            accountId: ACCOUNT,
            type: "self_hosted",
            sessionDuration: "24h",
            appLauncherVisible: true,
            httpOnlyCookieAttribute: true,
            autoRedirectToIdentity: false,
            enableBindingCookie: false,
            optionsPreflightBypass: false,
            skipInterstitial: false,
        };
        expect(grafana.inputs).toEqual({
            ...common,
            name: "grafana.monosense.dev",
            domain: "grafana.monosense.dev",
            destinations: [{ type: "public", uri: "grafana.monosense.dev" }],
            policies: [{ id: allow.id, precedence: 1 }],
            serviceAuth401Redirect: false,
        });
        // The service token's policy first, then the people allowed; a machine with a bad token gets a 401.
        expect(run.one(APP, "access-app-vm.monosense.dev").inputs).toEqual({
            ...common,
            name: "vm.monosense.dev",
            domain: "vm.monosense.dev",
            destinations: [{ type: "public", uri: "vm.monosense.dev" }],
            policies: [{ id: tokenPolicy.id, precedence: 1 }, { id: allow.id, precedence: 2 }],
            serviceAuth401Redirect: true,
        });
        for (const app of run.ofType(APP)) expect(app.options.ignoreChanges).toEqual(["selfHostedDomains"]);
        expect(run.ofType(APP).map((a) => a.parent)).toEqual(run.ofType(APP).map(() => run.resources.find((r) => r.type === "cluster-bootstrap:access:ClusterAccess")!.urn));
    });

    it("allows the configured people with one reusable policy, and each service token with a non_identity policy", async () => {
        const run = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
        expect(run.one(POLICY, "access-allow").inputs).toEqual({
            accountId: ACCOUNT,
            name: "infra: allow",
            decision: "allow",
            includes: [
                { email: { email: "ops@monosense.dev" } },
                { emailDomain: { domain: "monosense.dev" } },
                { githubOrganization: { name: "monosense", identityProviderId: IDP } },
            ],
            sessionDuration: "24h",
        });
        const token = run.one(TOKEN);
        expect(token.inputs).toEqual({ accountId: ACCOUNT, name: "apps-to-hub", duration: "8760h", enabled: true });
        expect(token.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["clientId", "clientSecret"]));
        expect(run.one(POLICY, "access-token-policy-apps-to-hub").inputs).toEqual({
            accountId: ACCOUNT,
            name: "infra: service token apps-to-hub",
            decision: "non_identity",
            includes: [{ serviceToken: { tokenId: token.id } }],
            sessionDuration: "24h",
        });
    });

    it("puts cloudflared's check on exactly the protected hostnames' rules, never at the top level or on the webhook", async () => {
        const run = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
        const aud = (host: string) => `placeholder:ZeroTrustAccessApplication/access-app-${host}/aud`;
        const check = (host: string) => ({ required: true, teamName: "monosense", audTags: [aud(host)] });
        expect(ingresses(run)).toEqual([
            { hostname: "external.monosense.dev", service: GATEWAY, originRequest: TLS },
            { hostname: "flux-webhook.monosense.dev", service: "http://webhook-receiver.flux-system.svc.cluster.local" },
            { hostname: "vm.monosense.dev", service: "http://vminsert.monitoring.svc.cluster.local:8480", originRequest: { access: check("vm.monosense.dev") } },
            { hostname: "grafana.monosense.dev", service: GATEWAY, originRequest: { ...TLS, access: check("grafana.monosense.dev") } },
            { hostname: "*.monosense.dev", service: GATEWAY, originRequest: TLS },
            { service: "http_status:404" },
        ]);
        expect(Object.keys(plainAt(run.one(TUNNEL_CONFIG), "config") as object)).toEqual(["ingresses"]);
        // The tags are the applications' own: the config waits for them.
        const cfg = run.one(TUNNEL_CONFIG);
        for (const app of run.ofType(APP)) expect(cfg.dependencies).toContain(app.urn);
    });

    it("leaves the DNS of a name under the zone wildcard to external-dns, and keeps the explicit route's record", async () => {
        const run = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
        expect(run.ofType(DNS).map((r) => r.inputs.name).sort()).toEqual(["external.monosense.dev", "flux-webhook.monosense.dev", "vm.monosense.dev"]);
    });

    it("keeps the credentials secret in the state, the component outputs and the stack outputs, and exports what a spoke reads", async () => {
        const run = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
        const token = run.one(TOKEN);
        for (const k of ["clientId", "clientSecret"]) expect(isWireSecret(token.outputs[k]), k).toBe(true);
        const component = run.resources.find((r) => r.type === "cluster-bootstrap:access:ClusterAccess")!;
        expect(isWireSecret(run.componentOutputs[component.urn].serviceTokens)).toBe(true);
        expect(isWireSecret(run.outputs[SERVICE_TOKENS_OUTPUT])).toBe(true);
        expect(isWireSecret(run.outputs[HUB_HOSTNAMES_OUTPUT])).toBe(false);
        expect(run.plainOutputs()).toMatchObject({
            [HUB_HOSTNAMES_OUTPUT]: { "apps-to-hub": ["vm.monosense.dev"] },
            [SERVICE_TOKENS_OUTPUT]: {
                "apps-to-hub": {
                    clientId: "placeholder:ZeroTrustAccessServiceToken/access-token-apps-to-hub/clientId",
                    clientSecret: "placeholder:ZeroTrustAccessServiceToken/access-token-apps-to-hub/clientSecret",
                },
            },
            accessHostnames: ["grafana.monosense.dev", "vm.monosense.dev"],
            accessAudTags: { "grafana.monosense.dev": "placeholder:ZeroTrustAccessApplication/access-app-grafana.monosense.dev/aud" },
            accessServiceTokenExpiry: { "apps-to-hub": "placeholder:ZeroTrustAccessServiceToken/access-token-apps-to-hub/expiresAt" },
        });
        const printed = JSON.stringify(toPlanJson(run));
        expect(printed).not.toContain("/clientSecret");
        expect(printed).not.toContain("/clientId");
    });

    it("gives a token named without hostnames every protected hostname", async () => {
        const run = await runStack({ stack: "infra", edit: (v) => withAccess(v, { serviceTokens: ["ci"] }) });
        expect(run.error).toBeUndefined();
        const ci = run.one(POLICY, "access-token-policy-ci");
        for (const app of run.ofType(APP)) expect(app.inputs.policies).toContainEqual({ id: ci.id, precedence: 1 });
        expect(run.plainOutputs()[HUB_HOSTNAMES_OUTPUT]).toEqual({ ci: ["grafana.monosense.dev", "vm.monosense.dev"] });
    });

    it("plans the same inputs every time, so nothing changes between two runs of the same config", async () => {
        const inputs = async () => {
            const run = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
            return run.resources.filter((r) => r.type.includes("zeroTrust")).map((r) => [r.urn, redact(r.inputs), r.options]);
        };
        expect(await inputs()).toEqual(await inputs());
    });

    it("adds nothing without the access key", async () => {
        // The committed infra stack sets it: the same stack without it, its hub routes still routed.
        const run = await runStack({ stack: "infra", edit: (v) => ({ ...v, access: undefined }) });
        expect(run.error).toBeUndefined();
        expect(run.resources.filter((r) => r.type.includes("zeroTrustAccess") || r.type.includes(":access:"))).toEqual([]);
        expect(ingresses(run).some((r) => r.originRequest?.access)).toBe(false);
        expect(Object.keys(run.outputs)).not.toContain(SERVICE_TOKENS_OUTPUT);
    });
});

describe("Access refusals stop the run before anything is registered", () => {
    async function refused(access: Record<string, unknown>): Promise<string[]> {
        const run = await runStack({ stack: "infra", edit: (v) => withAccess(v, access) });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect(run.resources.filter((r) => r.custom)).toEqual([]);
        return (run.error as ConfigError).problems;
    }

    it("the Flux webhook host", async () => {
        expect(await refused({ hostnames: ["flux-webhook.monosense.dev"], serviceTokens: [] })).toEqual([
            'cluster-bootstrap:access.hostnames[0]: "flux-webhook.monosense.dev" is the Flux webhook host, which is never behind Access: '
            + "GitHub cannot log in to Access, and the Receiver's token already guards it",
        ]);
    });

    it("a hostname the tunnel does not route", async () => {
        expect(await refused({ hostnames: ["grafana.monosense.dev", "monosense.dev"], serviceTokens: [] })).toEqual([
            'cluster-bootstrap:access.hostnames[1]: "monosense.dev" is not routed by the tunnel (the zone wildcard *.monosense.dev never '
            + "takes monosense.dev itself); add a cluster-bootstrap:tunnel.routes entry for it",
        ]);
    });

    it("an allow list that lets nobody in, or holds a bad entry", async () => {
        expect(await refused({ allow: { emails: [] } })).toEqual([
            "cluster-bootstrap:access.allow: must let someone in: set emails, emailDomains or githubOrganization",
        ]);
        expect(await refused({ allow: { emails: ["ops"], githubOrganization: { name: "monosense" } } })).toEqual([
            'cluster-bootstrap:access.allow.emails[0]: "ops" is not an email address',
            "cluster-bootstrap:access.allow.githubOrganization.identityProviderId: is required",
        ]);
    });
});

describe("secrets with Access and a hub", () => {
    it.each([
        ["infra", (v: Values) => withAccess(v)],
        ["apps", (v: Values) => ({ ...v, hub: { stack: "infra", hostnames: ["vm.monosense.dev"] } })],
    ])("are never in plain text in the %s stack's inputs, component outputs or stack outputs", async (stack, edit) => {
        const run = await runStack({ stack, edit });
        expect(run.error).toBeUndefined();
        const secrets = [...secretStrings(run)];
        expect(secrets.some((s) => s.includes("clientSecret"))).toBe(true);
        const visible = JSON.stringify([
            run.resources.map((r) => redact(r.inputs)),
            Object.values(run.componentOutputs).map(redact),
            redact(run.outputs),
            toPlanJson(run),
        ]);
        for (const s of secrets) expect(visible.includes(s), `visible: ${s.slice(0, 24)}…`).toBe(false);
    });
});
