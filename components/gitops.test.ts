import { GitRepository } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1";
import { Kustomization } from "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1";
import { describe, expect, it } from "vitest";
import { awaitAnnotations, deployKeyReadOnly, deployKeyTitle, gitRepositorySpec, knownHosts, kustomizationSpec } from "./gitops";
import { repositoryUrl } from "../config/names";

const gitops = { owner: "monosense", repositoryName: "k8s-ops", branch: "release", interval: "1m" };
const refs = { source: "k8s-ops", sopsSecret: "sops-age", vars: "cluster-vars", secrets: "cluster-secrets" };

describe("deploy key", () => {
    it("is read-only unless image automation must push", () => {
        expect(deployKeyReadOnly(false)).toBe(true);
        expect(deployKeyReadOnly(true)).toBe(false);
    });

    it("is titled per cluster", () => {
        expect(deployKeyTitle("infra")).toBe("flux-infra");
        expect(deployKeyTitle("apps")).not.toBe(deployKeyTitle("infra"));
    });
});

describe("known_hosts", () => {
    it("pins every published GitHub host key to github.com, one line each", () => {
        expect(knownHosts(["ssh-ed25519 AAAAC3Nz", "ecdsa-sha2-nistp256 AAAAE2Vj", "ssh-rsa AAAAB3Nz"])).toBe(
            "github.com ssh-ed25519 AAAAC3Nz\ngithub.com ecdsa-sha2-nistp256 AAAAE2Vj\ngithub.com ssh-rsa AAAAB3Nz\n",
        );
    });

    it("refuses to trust on first use when no host key is known", () => {
        expect(() => knownHosts([])).toThrow("GitHub published no SSH host keys; refusing to build known_hosts without them");
    });

    it("refuses a line that is not a host key", () => {
        expect(() => knownHosts(["github.com ssh-ed25519 AAAA"])).toThrow('unexpected GitHub SSH host key "github.com ssh-ed25519 AAAA"');
    });
});

describe("waiting for the handoff", () => {
    it("leaves the wait to the program, within the configured timeout", () => {
        expect(awaitAnnotations(true, 600)).toEqual({ "pulumi.com/skipAwait": "true", "cluster-bootstrap/ready-timeout-seconds": "600" });
    });

    it("names no wait when gitops.wait is false", () => {
        expect(awaitAnnotations(false, 600)).toEqual({ "pulumi.com/skipAwait": "true" });
    });
});

describe("GitRepository", () => {
    it("clones the repository over SSH with the deploy key, at the configured branch and interval", () => {
        expect(repositoryUrl("monosense", "k8s-ops")).toBe("ssh://git@github.com/monosense/k8s-ops");
        expect(gitRepositorySpec(gitops, { transport: "ssh", secretName: "github-deploy-key" })).toEqual({
            url: "ssh://git@github.com/monosense/k8s-ops",
            ref: { branch: "release" },
            interval: "1m",
            secretRef: { name: "github-deploy-key" },
        });
    });

    it("clones a public repository over HTTPS with no secretRef, when the transport is https", () => {
        expect(gitRepositorySpec(gitops, { transport: "https" })).toEqual({
            url: "https://github.com/monosense/k8s-ops",
            ref: { branch: "release" },
            interval: "1m",
        });
    });

    it("is valid against the upstream CRD schema, over SSH and over HTTPS", () => {
        const spec = gitRepositorySpec(gitops, { transport: "ssh", secretName: "github-deploy-key" });
        expect(() => new GitRepository({ metadata: { name: "k8s-ops", namespace: "flux-system" }, spec }).validate()).not.toThrow();
        const https = gitRepositorySpec(gitops, { transport: "https" });
        expect(() => new GitRepository({ metadata: { name: "k8s-ops", namespace: "flux-system" }, spec: https }).validate()).not.toThrow();
    });

    it("is checked by the schema: a secretRef without a name is refused", () => {
        // Deliberately invalid: the cast gets it past the types so the schema is what refuses it.
        const spec = { ...gitRepositorySpec(gitops, { transport: "ssh", secretName: "github-deploy-key" }), secretRef: {} };
        expect(() => new GitRepository({ metadata: { name: "k8s-ops" }, spec } as never).validate())
            .toThrow("data/spec/secretRef must have required property name");
    });
});

describe("root Kustomization", () => {
    it("prunes, decrypts with sops-age and substitutes from both contract objects", () => {
        expect(kustomizationSpec("clusters/apps/flux", refs)).toEqual({
            interval: "10m",
            retryInterval: "1m",
            timeout: "5m",
            path: "./clusters/apps/flux",
            prune: true,
            wait: false,
            sourceRef: { kind: "GitRepository", name: "k8s-ops" },
            decryption: { provider: "sops", secretRef: { name: "sops-age" } },
            postBuild: {
                substituteFrom: [{ kind: "ConfigMap", name: "cluster-vars" }, { kind: "Secret", name: "cluster-secrets" }],
            },
        });
    });

    it("is valid against the upstream CRD schema", () => {
        const spec = kustomizationSpec("clusters/apps/flux", refs);
        expect(() => new Kustomization({ metadata: { name: "k8s-ops", namespace: "flux-system" }, spec }).validate()).not.toThrow();
    });

    it("is checked by the schema: a substitution source of an unknown kind is refused", () => {
        const spec = kustomizationSpec("clusters/apps/flux", refs);
        // Deliberately invalid, as above.
        const broken = { ...spec, postBuild: { substituteFrom: [{ kind: "Secrets", name: "cluster-secrets" }] } };
        expect(() => new Kustomization({ metadata: { name: "k8s-ops" }, spec: broken } as never).validate())
            .toThrow("data/spec/postBuild/substituteFrom/0/kind must be equal to one of the allowed values");
    });
});
