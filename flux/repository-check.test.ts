import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import {
    chartName, INSTANCE_CHART_DEFAULTS, refuseRepositoryFlux, repositoryFlux, syncUrlProblem, valuesKnownUpFront,
    type RepositoryFluxCheck,
} from "./repository-check";
import { appRelease, type AppFile, type AppRelease } from "./helmrelease";

const FIXTURE = path.join(__dirname, "..", "test", "fixtures", "gitops");
const OPERATOR_DIR = "kubernetes/apps/flux-system/flux-operator/app";
const INSTANCE_DIR = "kubernetes/apps/flux-system/flux-instance/app";
const CLUSTER = { CLUSTER_NAME: "infra", CLUSTER_ID: "1", CLUSTER_DOMAIN: "monosense.dev" };

const fixture = (dir: string, ...names: string[]): AppFile[] =>
    names.map((n) => ({ file: `${dir}/${n}`, text: fs.readFileSync(path.join(FIXTURE, dir, n), "utf8") }));
const operator = (namespace = "flux-system") => appRelease(OPERATOR_DIR, fixture(OPERATOR_DIR, "helmrelease.yaml", "ocirepository.yaml"), namespace, CLUSTER);
const fixtureInstance = (namespace = "flux-system") => appRelease(INSTANCE_DIR, fixture(INSTANCE_DIR, "helmrelease.yaml", "ocirepository.yaml"), namespace, CLUSTER);

const SYNC = {
    kind: "GitRepository",
    url: "ssh://git@github.com/monosense/k8s-ops",
    ref: "refs/heads/main",
    path: "kubernetes/flux/cluster",
    pullSecret: "github-deploy-key",
};
/** A flux-instance release whose HelmRelease has these values (the fixture's OCIRepository beside it). */
function instance(values: Record<string, unknown>, namespace = "flux-system"): AppRelease {
    const hr = { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name: "flux-instance" },
        spec: { chartRef: { kind: "OCIRepository", name: "flux-instance" }, values } };
    return appRelease(INSTANCE_DIR, [
        { file: `${INSTANCE_DIR}/helmrelease.yaml`, text: stringify(hr) },
        ...fixture(INSTANCE_DIR, "ocirepository.yaml"),
    ], namespace, CLUSTER);
}
const withSync = (sync: Record<string, unknown>, rest: Record<string, unknown> = {}) =>
    instance({ ...rest, instance: { ...(rest.instance as object), sync: { ...SYNC, ...sync } } });

const CHECK: RepositoryFluxCheck = {
    gitops: { repository: "monosense/k8s-ops", owner: "monosense", repositoryName: "k8s-ops", branch: "main", path: "kubernetes/flux/cluster" },
    imageAutomation: false,
    known: CLUSTER,
};
const problems = (releases: AppRelease[], check: RepositoryFluxCheck = CHECK): string[] => {
    try {
        repositoryFlux(releases, check);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
};
const HR = `${INSTANCE_DIR}/helmrelease.yaml`;

describe("the repository's flux-operator and flux-instance", () => {
    it("are found by their charts, and the instance's sync, version and components are read", () => {
        expect(chartName("oci://127.0.0.1:5000/controlplaneio-fluxcd/charts/flux-instance")).toBe("flux-instance");
        expect(chartName("flux-operator")).toBe("flux-operator");
        expect(repositoryFlux([operator(), fixtureInstance()], CHECK)).toEqual({
            operator: 0,
            instance: 1,
            sync: { name: "flux-system", url: SYNC.url, transport: "ssh", ref: "refs/heads/main", path: "kubernetes/flux/cluster", pullSecret: "github-deploy-key" },
            version: "2.7.x",
            components: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
        });
    });

    it("read an instance laid out as cluster-template's: patches, common metadata, a Receiver and a SOPS Secret beside it", () => {
        const files: AppFile[] = [
            { file: `${INSTANCE_DIR}/helmrelease.yaml`, text: [
                "apiVersion: helm.toolkit.fluxcd.io/v2",
                "kind: HelmRelease",
                "metadata:",
                "  name: flux-instance",
                "spec:",
                "  chartRef:",
                "    kind: OCIRepository",
                "    name: flux-instance",
                "  interval: 1h",
                "  values:",
                "    commonAnnotations:",
                "      fluxcd.controlplane.io/reconcileArtifactEvery: 1h",
                "    instance:",
                "      cluster:",
                "        networkPolicy: false",
                "      commonMetadata:",
                "        labels:",
                "          app.kubernetes.io/name: flux",
                "      sync:",
                "        kind: GitRepository",
                '        url: "ssh://git@github.com/monosense/k8s-ops"',
                "        pullSecret: deploy-key",
                '        ref: "refs/heads/main"',
                "        path: kubernetes/flux/cluster",
                "      kustomize:",
                "        patches:",
                "          - patch: |",
                "              - op: add",
                "                path: /spec/template/spec/containers/0/args/-",
                "                value: --sops-age-secret=sops-age",
                "            target:",
                "              kind: Deployment",
                "              name: kustomize-controller",
                "",
            ].join("\n") },
            ...fixture(INSTANCE_DIR, "ocirepository.yaml"),
            { file: `${INSTANCE_DIR}/receiver.yaml`, text: "apiVersion: notification.toolkit.fluxcd.io/v1\nkind: Receiver\nmetadata:\n  name: flux-webhook\nspec:\n  type: github\n  secretRef:\n    name: flux-webhook-token\n" },
            { file: `${INSTANCE_DIR}/secret.sops.yaml`, text: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: flux-webhook-token\nstringData:\n  token: ENC[AES256_GCM,data:AAAA,type:str]\nsops:\n  version: 3.10.2\n" },
        ];
        const r = repositoryFlux([operator(), appRelease(INSTANCE_DIR, files, "flux-system", CLUSTER)], CHECK);
        expect(r.sync).toEqual({ name: "flux-system", url: SYNC.url, transport: "ssh", ref: "refs/heads/main", path: "kubernetes/flux/cluster", pullSecret: "deploy-key" });
        expect(r.version).toBe("2.x");
    });

    it("take the chart's defaults for what the values leave out, and sync.name when given", () => {
        const r = repositoryFlux([operator(), instance({ instance: { sync: { url: SYNC.url, ref: SYNC.ref, path: "./kubernetes/flux/cluster/", pullSecret: "deploy-key", name: "home-ops" } } })], CHECK);
        expect(r.version).toBe(INSTANCE_CHART_DEFAULTS.version);
        expect(r.components).toEqual(INSTANCE_CHART_DEFAULTS.components);
        expect(r.sync).toMatchObject({ name: "home-ops", pullSecret: "deploy-key", path: "kubernetes/flux/cluster" });
    });

    it("accept a .git suffix and GitHub's case-insensitive names, and the cluster's own variables", () => {
        expect(syncUrlProblem("ssh://git@github.com/Monosense/K8s-Ops.git", CHECK.gitops)).toBeUndefined();
        expect(problems([operator(), withSync({ path: "kubernetes/flux/${CLUSTER_NAME}" })], { ...CHECK, gitops: { ...CHECK.gitops, path: "kubernetes/flux/infra" } })).toEqual([]);
    });

    it("refuse a missing entry, a second one, another namespace and the instance before the operator", () => {
        expect(problems([fixtureInstance()])).toEqual([
            'cluster-bootstrap:platform.releases: has no flux-operator release (an app directory whose HelmRelease installs the flux-operator chart), ' +
                'which cluster-bootstrap:flux.managedBy "repository" needs: add its app directory, e.g. kubernetes/apps/flux-system/flux-operator/app',
        ]);
        expect(problems([operator()])).toEqual([expect.stringMatching(/^cluster-bootstrap:platform.releases: has no flux-instance release/)]);
        expect(problems([fixtureInstance(), operator()])).toEqual([
            "cluster-bootstrap:platform.releases[0]: flux-instance comes before flux-operator (cluster-bootstrap:platform.releases[1]): " +
                "the FluxInstance CRD comes with the operator, so list the operator first",
        ]);
        expect(problems([operator(), operator(), fixtureInstance("flux")])).toEqual([
            "cluster-bootstrap:platform.releases[1]: installs flux-operator again (cluster-bootstrap:platform.releases[0] does): Flux runs once",
            'cluster-bootstrap:platform.releases[2].namespace: "flux" must be flux-system for flux-instance: the FluxInstance lives with the ' +
                "operator, next to the Secrets, cluster-vars and Receiver the program creates there",
        ]);
    });

    it("refuse an instance without a sync, naming what it needs", () => {
        expect(problems([operator(), instance({ instance: { components: ["source-controller"] } })])).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: spec.values.instance.sync.url is required: with cluster-bootstrap:flux.managedBy ` +
                '"repository" the FluxInstance syncs the repository itself (instance.sync: kind GitRepository, url ' +
                "ssh://git@github.com/monosense/k8s-ops, ref refs/heads/main, path kubernetes/flux/cluster, pullSecret <Secret name>)",
        ]);
    });

    it("accept a public repository synced over HTTPS with no pull secret, as onedr0p/home-ops syncs", () => {
        const r = repositoryFlux([operator(), withSync({ url: "https://github.com/Monosense/k8s-ops.git", pullSecret: undefined })], CHECK);
        expect(r.sync).toEqual({
            name: "flux-system", url: "https://github.com/Monosense/k8s-ops.git", transport: "https", ref: "refs/heads/main", path: "kubernetes/flux/cluster",
        });
        expect(syncUrlProblem("https://github.com/monosense/k8s-ops", CHECK.gitops)).toBeUndefined();
    });

    it("refuse an HTTPS sync with a pull secret: the program provides only SSH deploy keys", () => {
        expect(problems([operator(), withSync({ url: "https://github.com/monosense/k8s-ops" })])).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: spec.values.instance.sync.pullSecret "github-deploy-key" is set with an HTTPS ` +
                "sync.url, where Flux would read it as a username and password or a token; the program provides only SSH deploy keys: " +
                "remove pullSecret to read the public repository anonymously, or sync ssh://git@github.com/monosense/k8s-ops with it",
        ]);
    });

    it("refuse image automation over HTTPS, naming both keys: pushing needs a credential", () => {
        const https = { url: "https://github.com/monosense/k8s-ops", pullSecret: undefined };
        const pushing = withSync(https, { instance: { components: ["source-controller", "image-reflector-controller", "image-automation-controller"] } });
        const hr = `cluster-bootstrap:platform.releases[1]: ${HR}: `;
        expect(problems([operator(), pushing], { ...CHECK, imageAutomation: true })).toEqual([
            `${hr}cluster-bootstrap:flux.imageAutomation is true, but spec.values.instance.sync.url is HTTPS: image-automation-controller ` +
                "pushes to the repository, which needs a credential, and the program provides one only as an SSH deploy key: sync " +
                "ssh://git@github.com/monosense/k8s-ops with a pullSecret, or set cluster-bootstrap:flux.imageAutomation to false",
        ]);
        expect(problems([operator(), withSync(https)], { ...CHECK, imageAutomation: true })).toEqual([
            expect.stringContaining(`${hr}cluster-bootstrap:flux.imageAutomation is true, but spec.values.instance.sync.url is HTTPS`),
        ]);
        expect(problems([operator(), pushing])).toEqual([
            `${hr}the FluxInstance runs image-automation-controller, which pushes to Git, but spec.values.instance.sync.url is HTTPS, ` +
                "with no credential to push with: remove the controller, or sync over SSH with a pullSecret and set " +
                "cluster-bootstrap:flux.imageAutomation to true",
        ]);
    });

    it("refuse a sync of another repository, over plain HTTP, or in scp form", () => {
        expect(problems([operator(), withSync({ url: "ssh://git@github.com/onedr0p/home-ops" })])).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: spec.values.instance.sync.url "ssh://git@github.com/onedr0p/home-ops" is ` +
                "onedr0p/home-ops, not cluster-bootstrap:gitops.repository monosense/k8s-ops: the program's deploy key reads exactly that " +
                "repository (use ssh://git@github.com/monosense/k8s-ops)",
        ]);
        expect(syncUrlProblem("https://github.com/onedr0p/home-ops", CHECK.gitops)).toBe("is onedr0p/home-ops, not cluster-bootstrap:gitops.repository " +
            "monosense/k8s-ops: Flux must sync the repository the program read this file from (use https://github.com/monosense/k8s-ops)");
        expect(syncUrlProblem("http://github.com/monosense/k8s-ops", CHECK.gitops)).toBe("is a plain HTTP URL: use " +
            "ssh://git@github.com/monosense/k8s-ops (with the program's deploy key), or https://github.com/monosense/k8s-ops for a public repository");
        expect(syncUrlProblem("https://gitlab.com/monosense/k8s-ops", CHECK.gitops)).toMatch(/^is not ssh:\/\/git@github.com\/monosense\/k8s-ops: /);
        expect(syncUrlProblem("git@github.com:monosense/k8s-ops.git", CHECK.gitops)).toBe(
            "is an scp-like address, which Flux does not take: use ssh://git@github.com/monosense/k8s-ops");
        expect(syncUrlProblem("ssh://git@gitlab.com/monosense/k8s-ops", CHECK.gitops)).toMatch(/^is not ssh:\/\/git@github.com\/monosense\/k8s-ops: /);
    });

    it("refuse another branch, another path, another kind, a provider and a missing or taken pull secret", () => {
        const found = problems([operator(), withSync({ kind: "OCIRepository", ref: "main", path: "clusters/infra", pullSecret: undefined, provider: "github" })]);
        expect(found.map((p) => p.replace(`cluster-bootstrap:platform.releases[1]: ${HR}: `, ""))).toEqual([
            'spec.values.instance.sync.kind "OCIRepository" is not supported: the program provides a Git deploy key, so the instance syncs a GitRepository',
            'spec.values.instance.sync.ref "main" must be refs/heads/main: Flux must sync cluster-bootstrap:gitops.branch, the branch the program read this file from',
            'spec.values.instance.sync.path "clusters/infra" must be cluster-bootstrap:gitops.path "kubernetes/flux/cluster": both name the directory the cluster applies',
            "spec.values.instance.sync.pullSecret is required: name the Secret the program fills with the deploy key (identity, identity.pub, known_hosts), for example github-deploy-key",
            'spec.values.instance.sync.provider "github" is not supported: Flux would authenticate through it instead of the deploy key the program provides',
        ]);
        expect(problems([operator(), withSync({ pullSecret: "sops-age" })])).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: spec.values.instance.sync.pullSecret "sops-age" names another Secret the program ` +
                "fills (sops-age, cluster-secrets, github-webhook-token): choose another, for example github-deploy-key",
        ]);
    });

    it("refuse a FluxInstance named otherwise than flux, and a sync field known only once the stack's resources exist", () => {
        expect(problems([operator(), withSync({}, { fullnameOverride: "flux-system" })])).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: spec.values.fullnameOverride "flux-system" would name the FluxInstance otherwise ` +
                "than flux, the one name the Flux Operator accepts",
        ]);
        expect(problems([operator(), withSync({ pullSecret: "${TUNNEL_ID}" })])).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: spec.values.instance.sync.pullSecret uses \${TUNNEL_ID}, which is known only once ` +
                "the stack's resources exist; write it out, or use only the cluster's own variables (cluster-vars from cluster.*)",
        ]);
        // The values a release gets later are substituted in full; only the check sees markers.
        expect(valuesKnownUpFront(withSync({ path: "${CLUSTER_NAME}/${TUNNEL_ID}" }), CLUSTER)).toMatchObject({
            instance: { sync: { path: "infra/\uE000TUNNEL_ID\uE001" } },
        });
    });

    it("grant write access only when both the stack and the instance say so", () => {
        const pushing = withSync({}, { instance: { components: ["source-controller", "image-reflector-controller", "image-automation-controller"] } });
        expect(problems([operator(), pushing])).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: the FluxInstance runs image-automation-controller, which pushes to Git: set ` +
                "cluster-bootstrap:flux.imageAutomation to true to give the deploy key write access, or remove the controller",
        ]);
        expect(problems([operator(), pushing], { ...CHECK, imageAutomation: true })).toEqual([]);
        expect(problems([operator(), fixtureInstance()], { ...CHECK, imageAutomation: true })).toEqual([
            `cluster-bootstrap:platform.releases[1]: ${HR}: cluster-bootstrap:flux.imageAutomation is true, but the FluxInstance does not ` +
                "run image-automation-controller: the deploy key would be writable for nothing",
        ]);
    });

    it("with the program's own Flux, are refused as a second owner", () => {
        expect(refuseRepositoryFlux([])).toBeUndefined();
        expect(() => refuseRepositoryFlux([operator()])).toThrow(ConfigError);
        let error: unknown;
        try {
            refuseRepositoryFlux([fixtureInstance(), operator()]);
        } catch (e) {
            error = e;
        }
        expect((error as ConfigError).problems).toEqual([
            `cluster-bootstrap:platform.releases[0]: installs flux-instance (${HR}), but with cluster-bootstrap:flux.managedBy "program" the ` +
                'program installs Flux itself, and the two would fight over it: set cluster-bootstrap:flux.managedBy to "repository", or remove the entry',
            expect.stringMatching(/^cluster-bootstrap:platform.releases\[1\]: installs flux-operator /),
        ]);
    });
});
