import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { kubernetesProviderArgs } from "./kubernetes";

describe("Kubernetes provider settings", () => {
    it("identifies the cluster by name, adopts existing objects and updates ConfigMaps and Secrets in place", () => {
        expect(kubernetesProviderArgs({ clusterName: "infra" })).toEqual({
            clusterIdentifier: "infra",
            upsertExistingObjects: true,
            enableConfigMapMutable: true,
            enableSecretMutable: true,
        });
    });

    it("leaves the kubeconfig out when unset, so the ambient KUBECONFIG applies", () => {
        expect(kubernetesProviderArgs({ clusterName: "apps" })).not.toHaveProperty("kubeconfig");
    });

    it("passes a given kubeconfig as a secret", async () => {
        const args = kubernetesProviderArgs({ clusterName: "apps", kubeconfig: pulumi.output("apiVersion: v1") });
        expect(pulumi.Output.isInstance(args.kubeconfig)).toBe(true);
        expect(await pulumi.isSecret(args.kubeconfig as pulumi.Output<string>)).toBe(true);
    });
});

describe("Kubernetes provider context", () => {
    it("passes the stack's named context, so the current context never decides the cluster", () => {
        expect(kubernetesProviderArgs({ clusterName: "infra", context: "admin@infra" })).toMatchObject({ context: "admin@infra" });
        expect(kubernetesProviderArgs({ clusterName: "infra" })).not.toHaveProperty("context");
    });
});
