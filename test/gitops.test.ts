// The GitOps handoff as the engine would see it: every Flux object valid against the upstream API schemas, the
// deploy key's permissions, the order that keeps Flux objects behind a Ready Flux, retained in-cluster objects,
// secret Secrets, and the branch each stack tracks.
import { GitRepository } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1";
import { Kustomization } from "@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1";
import { Receiver } from "@kubernetes-models/flux-cd/notification.toolkit.fluxcd.io/v1";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_OPERATOR_CHART_VERSION } from "../config";
import { FLUX_OPERATOR_CHART } from "../components/flux";
import { criticalPath } from "../offline/graph";
import { toPlanJson } from "../offline/runtime";
import { at, isWireSecret, plainAt, redact, reveal, runStack, TEST_AGE_KEY, testKubeconfig, type RecordedResource, type StackRun } from "./harness";
import { FLUX_INSTANCE, GIT_REPOSITORY, KUSTOMIZATION, DEPLOY_KEY } from "./resource-types";

const K8S_PROVIDER = "pulumi:providers:kubernetes";

/** Model classes of every Flux toolkit kind the program may create; a kind missing here fails the test. */
const MODELS: Record<string, (data: never) => { validate(): void }> = {
    "source.toolkit.fluxcd.io/v1/GitRepository": (d) => new GitRepository(d),
    "kustomize.toolkit.fluxcd.io/v1/Kustomization": (d) => new Kustomization(d),
    "notification.toolkit.fluxcd.io/v1/Receiver": (d) => new Receiver(d),
};

const kubernetesObjects = (run: StackRun) => run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
const secretsOf = (run: StackRun) => run.ofType("kubernetes:core/v1:Secret");
const named = (run: StackRun, type: string, name: string) =>
    run.ofType(type).find((r) => plainAt(r, "metadata.name") === name);

function inFluxSystem(run: StackRun, type: string, name: string): RecordedResource {
    const r = named(run, type, name);
    if (!r) throw new Error(`no ${type} named ${name}`);
    expect(plainAt(r, "metadata.namespace")).toBe("flux-system");
    return r;
}

describe.each([
    ["infra", "main", "clusters/infra/flux"],
    ["apps", "release", "clusters/apps/flux"],
])("GitOps handoff on the %s stack", (stack, branch, path) => {
    let run: StackRun;
    const setup = async () => {
        run ??= await runStack({ stack });
        expect(run.error).toBeUndefined();
        return run;
    };

    it("creates only Flux objects that validate against the upstream API schemas", async () => {
        const r = await setup();
        const flux = r.resources.filter((x) => x.custom && /^kubernetes:[a-z]+\.toolkit\.fluxcd\.io\//.test(x.type));
        expect(flux.map((x) => x.type)).toEqual(expect.arrayContaining([GIT_REPOSITORY, KUSTOMIZATION]));
        for (const obj of flux) {
            const plain = reveal(obj.inputs) as { apiVersion: string; kind: string };
            const model = MODELS[`${plain.apiVersion}/${plain.kind}`];
            expect(model, `a schema check for ${plain.apiVersion} ${plain.kind}`).toBeDefined();
            expect(() => model(plain as never).validate(), `${obj.name} (${plain.kind})`).not.toThrow();
        }
    });

    it(`tracks the ${branch} branch over SSH with the deploy-key Secret`, async () => {
        const repo = (await setup()).one(GIT_REPOSITORY);
        expect(plainAt(repo, "metadata.name")).toBe("k8s-ops");
        expect(plainAt(repo, "spec.url")).toBe("ssh://git@github.com/monosense/k8s-ops");
        expect(plainAt(repo, "spec.ref")).toEqual({ branch });
        expect(plainAt(repo, "spec.interval")).toBe("1m");
        expect(plainAt(repo, "spec.secretRef.name")).toBe("github-deploy-key");
    });

    it("roots the Kustomization at the configured path with pruning, SOPS and both substitution sources", async () => {
        const ks = (await setup()).one(KUSTOMIZATION);
        expect(plainAt(ks, "metadata.name")).toBe("k8s-ops");
        expect(reveal(ks.inputs.spec)).toMatchObject({
            path: `./${path}`,
            prune: true,
            wait: false,
            sourceRef: { kind: "GitRepository", name: "k8s-ops" },
            decryption: { provider: "sops", secretRef: { name: "sops-age" } },
            postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "cluster-vars" }, { kind: "Secret", name: "cluster-secrets" }] },
        });
    });

    it("creates the GitRepository and Kustomization only after Flux is Ready", async () => {
        const r = await setup();
        const instance = r.one(FLUX_INSTANCE);
        expect(r.one(GIT_REPOSITORY).dependencies).toContain(instance.urn);
        expect(r.one(KUSTOMIZATION).dependencies).toContain(instance.urn);
    });

    it("creates the GitRepository only once the deploy key is on GitHub and its Secret exists", async () => {
        const r = await setup();
        const deps = r.one(GIT_REPOSITORY).dependencies;
        expect(deps).toContain(r.one(DEPLOY_KEY).urn);
        expect(deps).toContain(inFluxSystem(r, "Secret", "github-deploy-key").urn);
    });

    it("creates the Kustomization only once everything it references exists", async () => {
        const r = await setup();
        const deps = r.one(KUSTOMIZATION).dependencies;
        expect(deps).toContain(r.one(GIT_REPOSITORY).urn);
        expect(deps).toContain(inFluxSystem(r, "Secret", "sops-age").urn);
        expect(deps).toContain(inFluxSystem(r, "ConfigMap", "cluster-vars").urn);
        expect(deps).toContain(inFluxSystem(r, "Secret", "cluster-secrets").urn);
    });

    it("waits for the FluxInstance, GitRepository and Kustomization to be Ready, within the timeouts", async () => {
        const r = await setup();
        for (const obj of [r.one(GIT_REPOSITORY), r.one(KUSTOMIZATION)]) {
            expect(plainAt(obj, "metadata.annotations")).toEqual({ "pulumi.com/skipAwait": "true", "cluster-bootstrap/ready-timeout-seconds": "600" });
        }
        expect(plainAt(r.one(FLUX_INSTANCE), "metadata.annotations")).toEqual({ "pulumi.com/skipAwait": "true", "cluster-bootstrap/ready-timeout-seconds": "600" });
        // The wait itself is a hook the program binds in `pulumi up` (test/flux-await.test.ts).
    });

    it("retains every in-cluster object on destroy", async () => {
        const r = await setup();
        const objects = kubernetesObjects(r);
        expect(objects.length).toBeGreaterThanOrEqual(10);
        for (const obj of objects) expect(obj.options.retainOnDelete, `${obj.type} ${obj.name}`).toBe(true);
    });

    it("creates every in-cluster object through the stack's one Kubernetes provider", async () => {
        const r = await setup();
        const provider = r.one(K8S_PROVIDER);
        expect(plainAt(provider, "clusterIdentifier")).toBe(stack);
        expect(plainAt(provider, "upsertExistingObjects")).toBe("true");
        for (const obj of kubernetesObjects(r)) expect(obj.provider.startsWith(`${provider.urn}::`), obj.name).toBe(true);
    });

    it("keeps every Secret's data secret", async () => {
        const r = await setup();
        const secrets = secretsOf(r);
        expect(secrets.length).toBeGreaterThanOrEqual(3);
        for (const s of secrets) {
            const fields = ["stringData", "data"].filter((f) => s.inputs[f] !== undefined);
            expect(fields, s.name).not.toEqual([]);
            for (const f of fields) expect(isWireSecret(s.inputs[f]), `${s.name}.${f}`).toBe(true);
        }
    });

    it("never shows a Secret's value in plain text anywhere else", async () => {
        const r = await setup();
        // Public halves are meant to be seen: the deploy key's public key goes to GitHub, host keys are published.
        const PUBLIC = new Set(["identity.pub", "known_hosts"]);
        const values = secretsOf(r).flatMap((s) => Object.entries((plainAt(s, "stringData") ?? {}) as Record<string, string>))
            .filter(([k, v]) => !PUBLIC.has(k) && v.length >= 8)
            .map(([, v]) => v);
        expect(values).toContain(TEST_AGE_KEY);
        const visible = JSON.stringify([r.resources.map((x) => redact(x.inputs)), redact(r.outputs)]);
        for (const v of values) expect(visible.includes(v), `a secret value is visible: ${v.slice(0, 12)}…`).toBe(false);
    });

    it("hands Flux the deploy key with GitHub's published host keys, never trust on first use", async () => {
        const r = await setup();
        const data = plainAt(inFluxSystem(r, "Secret", "github-deploy-key"), "stringData") as Record<string, string>;
        expect(Object.keys(data).sort()).toEqual(["identity", "identity.pub", "known_hosts"]);
        expect(data["identity.pub"]).toMatch(/^ssh-ed25519 \S+$/);
        const lines = data.known_hosts.trim().split("\n");
        expect(lines.length).toBe(3);
        for (const line of lines) expect(line).toMatch(/^github\.com (ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) \S+$/);
        expect(plainAt(r.one(DEPLOY_KEY), "key")).toBe(data["identity.pub"]);
    });

    it("hands Flux the age identity as sops-age", async () => {
        const r = await setup();
        expect(plainAt(inFluxSystem(r, "Secret", "sops-age"), "stringData")).toEqual({ "age.agekey": TEST_AGE_KEY });
    });

    it("fills cluster-vars with the cluster's keys", async () => {
        const r = await setup();
        const vars = plainAt(inFluxSystem(r, "ConfigMap", "cluster-vars"), "data") as Record<string, string>;
        expect(vars).toMatchObject({ CLUSTER_NAME: stack, CLUSTER_ID: stack === "infra" ? "1" : "2" });
        expect(vars.CLUSTER_DOMAIN).toMatch(/^monosense\.(dev|io)$/);
    });

    it("keeps the deployment graph at most six custom resources deep, plus one per platform release", async () => {
        const r = await setup();
        const chain = criticalPath(r.resources);
        const platform = r.ofType("kubernetes:helm.sh/v3:Release").filter((x) => x.parent.includes("PlatformReleases")).length;
        expect(chain.length, chain.map((u) => u.split("::").pop()).join(" → ")).toBeLessThanOrEqual(6 + platform);
    });

    it("returns the handoff as plain outputs and leaks no secret into them", async () => {
        const r = await setup();
        for (const k of ["repositoryUrl", "branch", "path", "deployKeyFingerprint", "fluxVersion"]) {
            expect(isWireSecret(r.outputs[k]), k).toBe(false);
        }
        expect(r.plainOutputs()).toMatchObject({
            repositoryUrl: "ssh://git@github.com/monosense/k8s-ops",
            branch,
            path,
            fluxVersion: "2.7.x",
        });
        expect(r.outputs.deployKeyFingerprint).toMatch(/^SHA256:/);
        const plainText = JSON.stringify(Object.values(r.outputs).filter((v) => !isWireSecret(v)));
        expect(plainText).not.toContain(TEST_AGE_KEY);
        expect(plainText).not.toContain("privateKeyOpenssh");
    });
});

describe("deploy key permissions", () => {
    it("is read-only without image automation", async () => {
        const run = await runStack();
        expect(plainAt(run.one(DEPLOY_KEY), "readOnly")).toBe(true);
        expect(plainAt(run.one(DEPLOY_KEY), "repository")).toBe("k8s-ops");
        expect(plainAt(run.one(DEPLOY_KEY), "title")).toBe("flux-infra");
        expect(plainAt(run.one(FLUX_INSTANCE), "spec.components")).not.toContain("image-automation-controller");
    });

    it("is read-write, with the image controllers running, when image automation is on", async () => {
        const run = await runStack({ edit: (v) => ({ ...v, flux: { ...(v.flux as object), imageAutomation: true } }) });
        expect(run.error).toBeUndefined();
        expect(plainAt(run.one(DEPLOY_KEY), "readOnly")).toBe(false);
        expect(plainAt(run.one(FLUX_INSTANCE), "spec.components")).toEqual(expect.arrayContaining([
            "image-reflector-controller", "image-automation-controller",
        ]));
    });

    it("is titled after the apps cluster on the apps stack", async () => {
        const apps = await runStack({ stack: "apps" });
        expect(plainAt(apps.one(DEPLOY_KEY), "title")).toBe("flux-apps");
    });
});

describe("Flux installation", () => {
    it("installs the operator from its OCI chart at the pinned version into a restricted flux-system", async () => {
        const run = await runStack();
        const release = run.one("kubernetes:helm.sh/v3:Release", "flux-operator");
        expect(plainAt(release, "chart")).toBe(FLUX_OPERATOR_CHART);
        expect(plainAt(release, "version")).toBe(DEFAULT_OPERATOR_CHART_VERSION);
        expect(plainAt(release, "namespace")).toBe("flux-system");
        const ns = run.one("kubernetes:core/v1:Namespace");
        expect(plainAt(ns, "metadata.name")).toBe("flux-system");
        expect(plainAt(ns, "metadata.labels")).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
        expect(release.dependencies).toContain(ns.urn);
        expect(run.one(FLUX_INSTANCE).dependencies).toContain(release.urn);
    });

    it("uses the configured operator chart version and Flux version", async () => {
        const run = await runStack({ edit: (v) => ({ ...v, flux: { version: "2.8.x", operatorChartVersion: "0.55.1" } }) });
        expect(run.error).toBeUndefined();
        expect(plainAt(run.one("kubernetes:helm.sh/v3:Release", "flux-operator"), "version")).toBe("0.55.1");
        expect(plainAt(run.one(FLUX_INSTANCE), "spec.distribution.version")).toBe("2.8.x");
        expect(run.plainOutputs().fluxVersion).toBe("2.8.x");
    });
});

describe("waiting for the handoff", () => {
    it("bounds the wait by gitops.timeout", async () => {
        const run = await runStack({ edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), timeout: "15m" } }) });
        for (const type of [GIT_REPOSITORY, KUSTOMIZATION]) {
            expect(plainAt(run.one(type), "metadata.annotations")).toMatchObject({ "cluster-bootstrap/ready-timeout-seconds": "900" });
        }
    });

    it("does not wait at all when gitops.wait is false", async () => {
        const run = await runStack({ edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), wait: false } }) });
        for (const type of [GIT_REPOSITORY, KUSTOMIZATION]) {
            expect(plainAt(run.one(type), "metadata.annotations")).toEqual({ "pulumi.com/skipAwait": "true" });
        }
    });
});

describe("the kubeconfig", () => {
    it("reaches the Kubernetes provider only, as a secret", async () => {
        const marker = `${testKubeconfig()}# kubeconfig-marker\n`;
        const run = await runStack({ secrets: { kubeconfig: marker } });
        expect(run.error).toBeUndefined();
        const provider = run.one(K8S_PROVIDER);
        expect(isWireSecret(at(provider, "kubeconfig"))).toBe(true);
        expect(plainAt(provider, "kubeconfig")).toBe(marker);
        const others = run.resources.filter((r) => r.urn !== provider.urn && JSON.stringify(reveal(r.inputs)).includes("kubeconfig-marker"));
        expect(others.map((r) => r.name)).toEqual([]);
        expect(JSON.stringify(reveal(run.outputs))).not.toContain("kubeconfig-marker");
    });

    it("is left to the ambient KUBECONFIG when unset", async () => {
        const run = await runStack();
        expect(run.one(K8S_PROVIDER).inputs).not.toHaveProperty("kubeconfig");
    });
});

describe("the GitHub provider", () => {
    const GITHUB_PROVIDER = "pulumi:providers:github";

    it("is explicit, owned by the repository's owner, and carries every GitHub resource and read", async () => {
        const run = await runStack({ providerConfig: { "github:owner": undefined } });
        expect(run.error).toBeUndefined();
        const provider = run.one(GITHUB_PROVIDER);
        expect(provider.inputs.owner).toBe("monosense");
        const ref = `${provider.urn}::${provider.id}`;
        const githubResources = run.resources.filter((r) => r.custom && r.type.startsWith("github:"));
        expect(githubResources.map((r) => r.type).sort()).toEqual([
            "github:index/repositoryDeployKey:RepositoryDeployKey", "github:index/repositoryWebhook:RepositoryWebhook",
        ]);
        for (const r of githubResources) expect(r.provider, r.name).toBe(ref);
        const reads = run.invokes.filter((i) => i.token.startsWith("github:"));
        expect(reads.length).toBeGreaterThan(0);
        for (const i of reads) expect(i.provider, i.token).toBe(ref);
    });

    it("takes the owner from gitops.repository whatever github:owner says, and still refuses a disagreeing one", async () => {
        const run = await runStack({ edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), repository: "some-org/k8s-ops" } }), providerConfig: { "github:owner": undefined } });
        expect(run.one(GITHUB_PROVIDER).inputs.owner).toBe("some-org");
        const wrong = await runStack({ providerConfig: { "github:owner": "someone-else" } });
        expect(wrong.error).toBeInstanceOf(ConfigError);
        expect((wrong.error as ConfigError).problems).toEqual(['github:owner: "someone-else" must be the owner of cluster-bootstrap:gitops.repository ("monosense")']);
    });

    it("gets github:token only as a secret", async () => {
        const run = await runStack({ providerConfig: { "github:token": "ghp_notarealtokennotarealtoken0000000000" } });
        const token = at(run.one(GITHUB_PROVIDER), "token");
        expect(isWireSecret(token)).toBe(true);
        expect(JSON.stringify(toPlanJson(run))).not.toContain("ghp_notarealtoken");
    });
});
