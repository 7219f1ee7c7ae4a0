// The two Access rules: a protected hostname is checked by cloudflared on every tunnel rule that takes it (a stack rule,
// since it must see the applications and the tunnel config together), and the Flux webhook host is never behind
// Access. On hand-made resources, then on what the program plans with Access configured.
import * as cloudflare from "@pulumi/cloudflare";
import { beforeAll, describe, expect, it } from "vitest";
import { FLUX_WEBHOOK_SERVICE } from "../config/routing";
import { withAccess } from "./access-fixtures";
import { runStack, type RecordedResource, type StackRun } from "./harness";
import { evaluate, recorded, violations } from "./policy-analyzer";
import { ACCESS_APPLICATION_TYPE, accessEnforcedPerRule, FLUX_RECEIVER_SERVICE, policies, TYPES, webhookNotBehindAccess } from "../policy/rules";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const GATEWAY = "https://envoy-external.networking.svc.cluster.local";
const access = { required: true, teamName: "monosense", audTags: ["aud-1"] };

const app = (domain: string, name = `access-app-${domain}`) => recorded({
    type: ACCESS_APPLICATION_TYPE, name,
    inputs: { domain, type: "self_hosted", destinations: [{ type: "public", uri: domain }], aud: "aud-1" },
});
const tunnelConfig = (ingresses: Record<string, unknown>[], topLevel?: Record<string, unknown>) => recorded({
    type: TYPES.tunnelConfig, name: "edge-tunnel-config",
    inputs: { config: { ingresses: [...ingresses, { service: "http_status:404" }], ...(topLevel ? { originRequest: topLevel } : {}) } },
});
const webhookRule = { hostname: "flux-webhook.monosense.dev", service: FLUX_RECEIVER_SERVICE };

describe("the rules' constants", () => {
    it("match the provider SDK's type token and the program's webhook service", () => {
        expect(ACCESS_APPLICATION_TYPE).toBe((cloudflare.ZeroTrustAccessApplication as unknown as { __pulumiType: string }).__pulumiType);
        expect(FLUX_RECEIVER_SERVICE).toBe(FLUX_WEBHOOK_SERVICE);
    });

    it("are in the pack", () => {
        expect(policies).toEqual(expect.arrayContaining([accessEnforcedPerRule, webhookNotBehindAccess]));
    });
});

describe("access-enforced-per-tunnel-rule", () => {
    it("passes when every rule that takes a protected hostname checks Access, path rules included", async () => {
        const cfg = tunnelConfig([
            webhookRule,
            { hostname: "vm.monosense.dev", path: "^/api/", service: "http://vminsert.monitoring.svc", originRequest: { access } },
            { hostname: "vm.monosense.dev", service: "http://vmselect.monitoring.svc", originRequest: { access } },
            { hostname: "grafana.monosense.dev", service: GATEWAY, originRequest: { originServerName: "external.monosense.dev", access } },
            { hostname: "*.monosense.dev", service: GATEWAY },
        ]);
        expect(await violations(accessEnforcedPerRule, [cfg, app("vm.monosense.dev"), app("grafana.monosense.dev")])).toEqual([]);
    });

    it("fails a protected hostname only the zone wildcard routes, and says which rule", async () => {
        const cfg = tunnelConfig([webhookRule, { hostname: "*.monosense.dev", service: GATEWAY }]);
        expect(await violations(accessEnforcedPerRule, [cfg, app("grafana.monosense.dev")])).toEqual([
            "Tunnel config edge-tunnel-config: ingress rule 1 (*.monosense.dev) takes requests for \"grafana.monosense.dev\", which Access "
            + "application access-app-grafana.monosense.dev protects, but does not carry originRequest.access with required: true. Anyone "
            + "who reaches the tunnel another way (a DNS record pointed at it, a second application) skips Access; cloudflared's own check "
            + "on the rule stops them.",
        ]);
    });

    it("fails a path rule without the check, and a check that is not required", async () => {
        const cfg = tunnelConfig([
            { hostname: "vm.monosense.dev", path: "^/api/", service: "http://vminsert.monitoring.svc" },
            { hostname: "vm.monosense.dev", service: "http://vmselect.monitoring.svc", originRequest: { access: { ...access, required: false } } },
            // Never reached for vm.monosense.dev: the rule above takes every path.
            { hostname: "*.monosense.dev", service: GATEWAY },
        ]);
        const found = await violations(accessEnforcedPerRule, [cfg, app("vm.monosense.dev")]);
        expect(found).toHaveLength(2);
        expect(found[0]).toContain("ingress rule 0 (vm.monosense.dev path ^/api/)");
        expect(found[1]).toContain("ingress rule 1 (vm.monosense.dev)");
    });

    it("fails an access block at the top level, which cloudflared ignores, even with no application", async () => {
        const cfg = tunnelConfig([{ hostname: "*.monosense.dev", service: GATEWAY }], { access });
        expect(await violations(accessEnforcedPerRule, [cfg])).toEqual([
            "Tunnel config edge-tunnel-config sets originRequest.access at the top level, which cloudflared ignores (cloudflare/cloudflared#784): "
            + "no request is checked. Put access on each rule of a protected hostname.",
        ]);
    });

    it("fails an application for a hostname no tunnel config in the stack routes", async () => {
        const cfg = tunnelConfig([{ hostname: "grafana.monosense.dev", service: GATEWAY, originRequest: { access } }]);
        expect(await violations(accessEnforcedPerRule, [cfg, app("monosense.dev")])).toEqual([
            'Access application access-app-monosense.dev protects "monosense.dev", which no tunnel config in this stack routes: cloudflared '
            + "cannot check its requests. Route it through the stack's tunnel or drop the application.",
        ]);
    });

    it("holds a wildcard application to every rule under it", async () => {
        const cfg = tunnelConfig([
            { hostname: "a.lab.monosense.dev", service: GATEWAY, originRequest: { access } },
            { hostname: "*.lab.monosense.dev", service: GATEWAY },
        ]);
        const found = await violations(accessEnforcedPerRule, [cfg, app("*.lab.monosense.dev")]);
        expect(found).toEqual([expect.stringContaining("ingress rule 1 (*.lab.monosense.dev) takes requests for \"*.lab.monosense.dev\"")]);
    });

    it("reads no value a preview cannot know (the applications' audience tags)", async () => {
        const cfg = tunnelConfig([{ hostname: "grafana.monosense.dev", service: GATEWAY, originRequest: { access: { ...access, audTags: [UNKNOWN] } } }]);
        const pending = recorded({ type: ACCESS_APPLICATION_TYPE, name: "app", inputs: { domain: "grafana.monosense.dev", destinations: [{ type: "public", uri: "grafana.monosense.dev" }], aud: UNKNOWN } });
        expect(await evaluate([accessEnforcedPerRule], [cfg, pending])).toEqual({ violations: [], notApplicable: [], unknown: [] });
    });

    it("does not apply to a stack without Access applications", async () => {
        const ev = await evaluate([accessEnforcedPerRule], [tunnelConfig([{ hostname: "*.monosense.dev", service: GATEWAY }])]);
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable.map((f) => f.message)).toEqual(["no Access application in this stack"]);
    });
});

describe("flux-webhook-not-behind-access", () => {
    it("passes a webhook rule without Access next to protected hostnames", async () => {
        const cfg = tunnelConfig([webhookRule, { hostname: "grafana.monosense.dev", service: GATEWAY, originRequest: { access } }]);
        expect(await violations(webhookNotBehindAccess, [cfg, app("grafana.monosense.dev")])).toEqual([]);
    });

    it("fails an application on the webhook host, or on a wildcard that covers it", async () => {
        const cfg = tunnelConfig([webhookRule]);
        expect(await violations(webhookNotBehindAccess, [cfg, app("flux-webhook.monosense.dev"), app("*.monosense.dev", "all")])).toEqual([
            'Access application access-app-flux-webhook.monosense.dev protects "flux-webhook.monosense.dev", which covers the Flux webhook '
            + 'host "flux-webhook.monosense.dev": GitHub cannot log in to Access, so pushes would no longer reach Flux. The Receiver\'s '
            + "token guards the host; keep it out of Access.",
            'Access application all protects "*.monosense.dev", which covers the Flux webhook host "flux-webhook.monosense.dev": GitHub '
            + "cannot log in to Access, so pushes would no longer reach Flux. The Receiver's token guards the host; keep it out of Access.",
        ]);
    });

    it("fails a check on the webhook rule itself", async () => {
        const cfg = tunnelConfig([{ ...webhookRule, originRequest: { access } }]);
        expect(await violations(webhookNotBehindAccess, [cfg])).toEqual([
            "Tunnel config edge-tunnel-config: ingress rule 0 (flux-webhook.monosense.dev) sends GitHub's webhook to Flux but carries "
            + "originRequest.access: cloudflared would refuse every delivery, since GitHub cannot log in to Access. Remove it.",
        ]);
    });

    it("does not apply without a tunnel rule to the Flux receiver", async () => {
        const ev = await evaluate([webhookNotBehindAccess], [tunnelConfig([{ hostname: "*.monosense.dev", service: GATEWAY }])]);
        expect(ev.notApplicable.map((f) => f.message)).toEqual(["no tunnel rule to the Flux receiver in this stack"]);
    });
});

describe("the infra stack's plan with Access", () => {
    let run: StackRun;
    const ingresses = (r: RecordedResource) => (r.outputs.config as { ingresses: Array<Record<string, any>> }).ingresses;

    beforeAll(async () => {
        run = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
        expect(run.error).toBeUndefined();
    });

    it("passes every rule of the pack, reading no value a preview cannot know", async () => {
        const ev = await evaluate(policies, run.resources, { exposeRetainOnDelete: true });
        expect(ev.violations).toEqual([]);
        expect(ev.unknown).toEqual([]);
        // Both Access rules judged the stack rather than stepping aside.
        expect(ev.notApplicable.filter((f) => f.policy === accessEnforcedPerRule.name || f.policy === webhookNotBehindAccess.name)).toEqual([]);
    });

    it("fails once a protected rule loses its check", async () => {
        const cfg = structuredClone(run.one(TYPES.tunnelConfig));
        const grafana = ingresses(cfg).find((r) => r.hostname === "grafana.monosense.dev")!;
        delete grafana.originRequest.access;
        const rest = run.resources.filter((r) => r.type !== TYPES.tunnelConfig);
        expect(await violations(accessEnforcedPerRule, [cfg, ...rest])).toEqual([
            expect.stringContaining('takes requests for "grafana.monosense.dev", which Access application access-app-grafana.monosense.dev protects'),
        ]);
    });

    it("fails once an application is put on the webhook host", async () => {
        const hooked = structuredClone(run.one(ACCESS_APPLICATION_TYPE, "access-app-grafana.monosense.dev"));
        hooked.outputs.domain = "flux-webhook.monosense.dev";
        hooked.outputs.destinations = [{ type: "public", uri: "flux-webhook.monosense.dev" }];
        expect(await violations(webhookNotBehindAccess, [hooked, ...run.resources])).toEqual([
            expect.stringContaining('protects "flux-webhook.monosense.dev", which covers the Flux webhook host'),
        ]);
    });
});
