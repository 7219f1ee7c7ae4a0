import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { criticalPath } from "../offline/graph";
import { toPlanJson } from "../offline/runtime";
import { at, isWireSecret, plainAt, reveal, runStack, type RecordedResource } from "./harness";
import { RECEIVER_NAME, WEBHOOK_TOKEN_SECRET } from "../config/names";
import { RECEIVER, WEBHOOK, TUNNEL_CONFIG, DNS } from "./resource-types";

const PASSWORD = "random:index/randomPassword:RandomPassword";

const webhookSecret = (rs: RecordedResource[]) =>
    rs.filter((r) => r.type === "kubernetes:core/v1:Secret" && plainAt(r, "metadata.name") === WEBHOOK_TOKEN_SECRET);

describe.each([
    { stack: "infra", domain: "monosense.dev" },
    { stack: "apps", domain: "monosense.io" },
])("push-to-reconcile on the $stack stack", ({ stack, domain }) => {
    it("keeps a random 40-character token, letters and digits, in flux-system/github-webhook-token as a secret", async () => {
        const run = await runStack({ stack });
        expect(run.error).toBeUndefined();
        const password = run.one(PASSWORD, "push-reconcile-token");
        expect(password.inputs).toMatchObject({ length: 40, special: false });
        const [secret] = webhookSecret(run.resources);
        expect(webhookSecret(run.resources)).toHaveLength(1);
        expect(plainAt(secret, "metadata.namespace")).toBe("flux-system");
        expect(isWireSecret(secret.inputs.stringData)).toBe(true);
        expect(plainAt(secret, "stringData.token")).toBe(reveal(password.outputs.result));
        expect(secret.options.retainOnDelete).toBe(true);
        expect(secret.provider).not.toBe("");
    });

    it("creates a Receiver that upstream's schema accepts, reconciling the GitRepository on ping and push", async () => {
        const run = await runStack({ stack });
        const receiver = run.one(RECEIVER);
        const manifest = reveal(receiver.inputs) as Record<string, unknown>;
        const { Receiver } = await import("@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1");
        expect(() => new Receiver(manifest as never).validate()).not.toThrow();
        expect(manifest.metadata).toMatchObject({ name: RECEIVER_NAME, namespace: "flux-system" });
        expect(manifest.spec).toEqual({
            type: "github",
            events: ["ping", "push"],
            secretRef: { name: WEBHOOK_TOKEN_SECRET },
            resources: [{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "k8s-ops" }],
        });
        // The GitRepository it names is the one the program creates.
        const repos = run.resources.filter((r) => r.custom && r.type === "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository");
        expect(repos.map((r) => plainAt(r, "metadata.name"))).toEqual(["k8s-ops"]);
        expect(receiver.options.retainOnDelete).toBe(true);
        expect(receiver.provider).not.toBe("");
    });

    it("makes the Receiver wait only for Flux being ready and its token Secret", async () => {
        const run = await runStack({ stack });
        const receiver = run.one(RECEIVER);
        const flux = run.one("kubernetes:fluxcd.controlplane.io/v1:FluxInstance");
        const [secret] = webhookSecret(run.resources);
        const customDeps = receiver.dependencies.filter((u) => run.resources.find((r) => r.urn === u)?.custom);
        expect(customDeps).toContain(flux.urn);
        expect(customDeps).toContain(secret.urn);
        // Anything else is part of Flux's own install (its namespace), never the GitRepository or other objects.
        const fluxInstall = run.resources.find((r) => r.type === "cluster-bootstrap:flux:FluxInstall")!;
        for (const u of customDeps.filter((d) => d !== secret.urn)) {
            expect(run.resources.find((r) => r.urn === u)?.parent).toBe(fluxInstall.urn);
        }
        // Ready, and the reconcile request of the current token handled: the controller serves this token's path. The
        // program waits for both (cluster/flux-await.ts reads the request from the object's own annotation).
        const annotations = plainAt(receiver, "metadata.annotations") as Record<string, string>;
        const request = annotations["reconcile.fluxcd.io/requestedAt"];
        expect(request).toMatch(/^rotation-webhook-token-[0-9a-f]{16}$/);
        expect(annotations).toEqual({
            "pulumi.com/skipAwait": "true", "cluster-bootstrap/ready-timeout-seconds": "300", "reconcile.fluxcd.io/requestedAt": request,
        });
    });

    it("registers the GitHub webhook: JSON, push events, the token as its secret, TLS verified, active", async () => {
        const run = await runStack({ stack });
        const hook = run.one(WEBHOOK);
        const token = reveal(run.one(PASSWORD, "push-reconcile-token").outputs.result) as string;
        expect(hook.inputs).toMatchObject({ repository: "k8s-ops", events: ["push"], active: true });
        expect(isWireSecret(at(hook, "configuration.url"))).toBe(true);
        expect(isWireSecret(at(hook, "configuration.secret"))).toBe(true);
        // Flux's rule, recomputed here independently of the component.
        const digest = crypto.createHash("sha256").update(`${token}${RECEIVER_NAME}flux-system`).digest("hex");
        expect(plainAt(hook, "configuration")).toEqual({
            url: `https://flux-webhook.${domain}/hook/${digest}`,
            contentType: "json",
            secret: token,
            insecureSsl: false,
        });
        expect(hook.dependencies).toContain(run.one(RECEIVER).urn);
    });

    it("registers the webhook only once the Receiver is Ready and the tunnel routes its host", async () => {
        const run = await runStack({ stack });
        const hook = run.one(WEBHOOK);
        const record = run.ofType(DNS).filter((r) => r.inputs.name === `flux-webhook.${domain}`);
        expect(record).toHaveLength(1);
        // GitHub pings the hook as soon as it exists: the Receiver, the route and the CNAME must all be there.
        expect(hook.options.dependsOn.sort()).toEqual([run.one(RECEIVER).urn, run.one(TUNNEL_CONFIG).urn, record[0].urn].sort());
    });

    it("keeps the Receiver's status secret: its webhook path derives from the token", async () => {
        const run = await runStack({ stack });
        const receiver = run.one(RECEIVER);
        expect(receiver.options.additionalSecretOutputs).toEqual(["status"]);
        expect(isWireSecret(receiver.outputs.status)).toBe(true);
    });

    it("agrees on one hostname across the webhook URL, the tunnel route and the DNS record", async () => {
        const run = await runStack({ stack });
        const host = new URL(plainAt(run.one(WEBHOOK), "configuration.url") as string).hostname;
        const ingresses = plainAt(run.one(TUNNEL_CONFIG), "config.ingresses") as Array<{ hostname?: string; service: string }>;
        const route = ingresses.filter((r) => r.service === "http://webhook-receiver.flux-system.svc.cluster.local");
        expect(route.map((r) => r.hostname)).toEqual([host]);
        expect(run.ofType(DNS).filter((r) => r.inputs.name === host)).toHaveLength(1);
        expect(host).toBe(`flux-webhook.${domain}`);
    });

    it("outputs the webhook URL as a secret and never shows the token in the plan", async () => {
        const run = await runStack({ stack });
        expect(isWireSecret(run.outputs.fluxWebhookUrl)).toBe(true);
        expect(run.plainOutputs().fluxWebhookUrl).toMatch(new RegExp(`^https://flux-webhook\\.${domain.replace(".", "\\.")}/hook/[0-9a-f]{64}$`));
        const token = reveal(run.one(PASSWORD, "push-reconcile-token").outputs.result) as string;
        const path = (run.plainOutputs().fluxWebhookUrl as string).split("/hook/")[1];
        const json = JSON.stringify(toPlanJson(run));
        expect(json).not.toContain(token);
        expect(json).not.toContain(path);
    });

    it("keeps the deployment graph at most 6 custom resources deep, plus one per platform release", async () => {
        const run = await runStack({ stack });
        const platform = run.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.parent.includes("PlatformReleases")).length;
        expect(criticalPath(run.resources).length).toBeLessThanOrEqual(6 + platform);
    });
});
