import { describe, expect, it } from "vitest";
import { receiverAnnotations, receiverManifest, receiverWebhookPath, receiverWebhookUrl } from "./webhook";
import { RECEIVER_NAME, WEBHOOK_TOKEN_SECRET } from "../config/names";

describe("receiverWebhookPath", () => {
    // Vectors computed independently: printf '%s' "tokennamens" | sha256sum
    it("is /hook/ + hex(sha256(token + name + namespace)), as Flux computes it", () => {
        expect(receiverWebhookPath("token", "name", "ns")).toBe("/hook/9f3f1bb97bc2396f3fa58dc72a9c08a57c02e524af1250535429cdb90db6028e");
        // printf '%s' "s3cr3t-t0kengithub-receiverflux-system" | sha256sum
        expect(receiverWebhookPath("s3cr3t-t0ken", RECEIVER_NAME, "flux-system"))
            .toBe("/hook/b0fa0533de3c38d03a53393b6a2982d4f1aa1c697aeaf16ec08d55c54d53f6f3");
    });

    it("changes with each of its inputs", () => {
        const p = receiverWebhookPath("token", "name", "ns");
        expect(receiverWebhookPath("token2", "name", "ns")).not.toBe(p);
        expect(receiverWebhookPath("token", "name2", "ns")).not.toBe(p);
        expect(receiverWebhookPath("token", "name", "ns2")).not.toBe(p);
    });
});

describe("receiverWebhookUrl", () => {
    it("puts the path on the Flux webhook host the tunnel routes", () => {
        expect(receiverWebhookUrl("example.com", "/hook/abc")).toBe("https://flux-webhook.example.com/hook/abc");
    });
});

describe("receiverManifest", () => {
    const manifest = receiverManifest({
        name: RECEIVER_NAME,
        namespace: "flux-system",
        secretName: WEBHOOK_TOKEN_SECRET,
        gitRepositoryName: "k8s-ops",
    });

    it("reconciles the GitRepository on GitHub ping and push events", () => {
        expect(manifest).toEqual({
            apiVersion: "notification.toolkit.fluxcd.io/v1",
            kind: "Receiver",
            metadata: { name: "github-receiver", namespace: "flux-system" },
            spec: {
                type: "github",
                events: ["ping", "push"],
                secretRef: { name: "github-webhook-token" },
                resources: [{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: "k8s-ops" }],
            },
        });
    });

    it("is valid against the upstream Receiver schema", async () => {
        // ESM-only package: loaded dynamically from this CommonJS test.
        const { Receiver } = await import("@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1");
        expect(() => new Receiver(manifest).validate()).not.toThrow();
        // The schema does reject: a Receiver without its secretRef, or of an unknown type.
        const { secretRef: _, ...noSecret } = manifest.spec;
        expect(() => new Receiver({ ...manifest, spec: noSecret } as never).validate()).toThrow();
        expect(() => new Receiver({ ...manifest, spec: { ...manifest.spec, type: "gitea" } } as never).validate()).toThrow();
    });
});

describe("receiverAnnotations", () => {
    it("requests a reconcile and leaves the wait to the program, which holds out for that request (cluster/flux-await.ts)", () => {
        expect(receiverAnnotations("rotation-webhook-token-0123456789abcdef")).toEqual({
            "pulumi.com/skipAwait": "true",
            "cluster-bootstrap/ready-timeout-seconds": "300",
            "reconcile.fluxcd.io/requestedAt": "rotation-webhook-token-0123456789abcdef",
        });
    });
});
