// Handed over means handed over: what Flux has taken over is no longer registered, what it has not is installed as
// before. Each case is a cluster captured as `kubectl get -o yaml` prints it (test/fixtures/cluster-state), planned
// in-process as `npm run plan -- <stack> --cluster-state FILE` plans it; one run of the CLI itself at the end.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import { yamlErrorDescription } from "../config/yaml-errors";
import { ClusterIdentityError } from "../cluster/identity";
import { ROOT } from "../config/keys";
import { ClusterStateFileError, parseClusterState, readClusterState } from "../offline/cluster-state";
import { toPlanJson } from "../offline/runtime";
import { parseArgs } from "../scripts/plan";
import { plainAt, runStack, waitsFor, type StackRun, type Values } from "./harness";
import { runPlan } from "./plan-command";
import { app, FIXTURES } from "./gitops-fixtures";
import { RELEASE, PATCH, RECEIVER, DEPLOY_KEY } from "./resource-types";

const GITOPS = FIXTURES.gitops;
const STATES = path.join(ROOT, "test", "fixtures", "cluster-state");
const state = (name: string) => readClusterState(path.join(STATES, name));

const INFRA_UID = "5c0d3f8a-2e47-4b1c-9a6d-8f3e2b1c0d7a";

const platformReleases = (run: StackRun) => run.ofType(RELEASE).filter((r) => r.parent.endsWith("PlatformReleases::platform"));
const releaseNames = (run: StackRun) => platformReleases(run).map((r) => plainAt(r, "name"));
const operator = (run: StackRun) => run.one(RELEASE, "flux-operator");
/** The committed infra stack, its platform releases read from the fixture repository. */
const infra = (file: string, extra: Parameters<typeof runStack>[0] = {}) => runStack({ gitopsDir: GITOPS, clusterState: state(file), ...extra });

describe("a cluster state file, as kubectl prints it", () => {
    it("reads a List, several documents and an empty file (an empty cluster)", () => {
        const objects = state("infra-taken-over.yaml");
        expect(objects.map((o) => `${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}`)).toEqual([
            "Namespace /kube-system", "ConfigMap flux-system/cluster-vars",
            "HelmRelease kube-system/cilium", "HelmRelease kube-system/coredns", "HelmRelease kube-system/spegel",
        ]);
        expect(state("empty.yaml")).toEqual([]);
        expect(parseClusterState("---\n---\n", "f.yaml")).toEqual([]);
    });

    it("refuses what is not Kubernetes objects with FILE:LINE:COL and a fixed description, never a line of the file", () => {
        const secret = "cfut_not-a-real-token-but-it-looks-like-one";
        const problems = (text: string) => {
            try {
                parseClusterState(text, "state.yaml");
            } catch (e) {
                expect(e).toBeInstanceOf(ClusterStateFileError);
                return (e as ClusterStateFileError).problems;
            }
            throw new Error("not refused");
        };
        const broken = problems(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: ${secret}\n   bad: [\n`);
        // The place, and the fixed description of the parser's error code (config/yaml-errors.ts), never the line.
        expect(broken).toEqual([`state.yaml:6:10: ${yamlErrorDescription("BLOCK_AS_IMPLICIT_KEY")}`]);
        expect(broken.join("\n")).not.toContain(secret);
        expect(problems(`apiVersion: v1\nitems:\n- kind: ConfigMap\n  data:\n    token: ${secret}\nkind: List\n`)).toEqual([
            "state.yaml:3:3: not a Kubernetes object: apiVersion, kind and metadata.name are required",
        ]);
        const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\n";
        expect(problems(`${cm}---\n${cm}`)).toEqual(["state.yaml:7:1: the same object again (first at state.yaml:1:1): a cluster holds each object once"]);
        expect(problems("apiVersion: v1\nkind: List\nitems: {a: 1}\n")).toEqual(["state.yaml:3:8: a List's items must be a list of objects"]);
        expect(() => readClusterState(path.join(STATES, "nothing.yaml"))).toThrow(/nothing\.yaml: cannot be read \(ENOENT\)/);
    });
});

describe("what Flux has taken over, in program mode", () => {
    it("an empty cluster: every release registered, in order, nothing handed over", async () => {
        const run = await infra("empty.yaml");
        expect(run.error).toBeUndefined();
        expect(releaseNames(run)).toEqual(["cilium", "coredns", "spegel"]);
        expect(run.handedOver).toEqual([]);
        expect(run.notes.filter((n) => n.includes("Flux"))).toEqual([]);
    });

    it("all taken over: none registered, each named in a note and in handedOver, and the Flux Operator waits for nothing", async () => {
        const run = await infra("infra-taken-over.yaml");
        expect(run.error).toBeUndefined();
        expect(platformReleases(run)).toEqual([]);
        expect(run.notes.slice(1)).toEqual(["cilium", "coredns", "spegel"].map((name, i) =>
            `kube-system/${name}: taken over by Flux (HelmRelease Ready, chart ${name}@${["1.18.5", "1.45.0", "0.4.0"][i]}): no longer managed by this stack`));
        expect(toPlanJson(run).handedOver).toEqual(["cilium", "coredns", "spegel"].map((name, i) => ({
            kind: "HelmRelease", namespace: "kube-system", name, evidence: `HelmRelease Ready, chart ${name}@${["1.18.5", "1.45.0", "0.4.0"][i]}`,
        })));
        expect(operator(run).options.dependsOn).toEqual([]);
        // The identity came from the same file: this stack's own cluster.
        expect(run.notes[0]).toContain('CLUSTER_NAME "infra"');
    });

    it("the committed apps stack, all taken over: none registered, each listed, its own cluster's identity", async () => {
        const run = await runStack({ stack: "apps", gitopsDir: GITOPS, clusterState: state("apps-taken-over.yaml") });
        expect(run.error).toBeUndefined();
        expect(platformReleases(run)).toEqual([]);
        expect(toPlanJson(run).handedOver.map((h) => `${h.namespace}/${h.name}: ${h.evidence}`)).toEqual(["cilium", "coredns", "spegel"].map((name, i) =>
            `kube-system/${name}: HelmRelease Ready, chart ${name}@${["1.18.5", "1.45.0", "0.4.0"][i]}`));
        expect(operator(run).options.dependsOn).toEqual([]);
        expect(run.notes[0]).toContain('CLUSTER_NAME "apps"');
    });

    it("only the first taken over: the rest registered in order, the first in no dependsOn", async () => {
        const run = await infra("infra-first-taken-over.yaml");
        expect(run.error).toBeUndefined();
        const [coredns, spegel] = platformReleases(run);
        expect(releaseNames(run)).toEqual(["coredns", "spegel"]);
        expect(coredns.options.dependsOn).toEqual([]);
        expect(spegel.options.dependsOn).toEqual([coredns.urn]);
        expect(operator(run).options.dependsOn).toEqual([spegel.urn]);
        expect(run.resources.some((r) => r.dependencies.some((d) => d.includes("cilium")))).toBe(false);
        // Taken over by its history (v2 deployed) while Flux reconciles a newer generation.
        expect(run.handedOver).toEqual([{ kind: "HelmRelease", namespace: "kube-system", name: "cilium", evidence: "HelmRelease history: v2 deployed, chart cilium@1.18.5" }]);
    });

    it("judges only what it installs: a variable the contract lacks, in a release Flux has taken over, refuses nothing", async () => {
        // Flux 2.9's strict substitution, and no cluster.cidr: the cilium fixture's ${CLUSTER_CIDR} is unset.
        const noCidr = (v: Values) => ({ ...v, cluster: { ...(v.cluster as object), cidr: undefined }, flux: { ...(v.flux as object), version: "2.9.x" } });
        const fresh = await infra("empty.yaml", { edit: noCidr });
        expect(fresh.error).toBeInstanceOf(ConfigError);
        expect((fresh.error as ConfigError).problems).toEqual([expect.stringMatching(/^cluster-bootstrap:platform\.releases\[0\]: .*"CLUSTER_CIDR"/)]);
        const handed = await infra("infra-first-taken-over.yaml", { edit: noCidr });
        expect(handed.error).toBeUndefined();
        expect(releaseNames(handed)).toEqual(["coredns", "spegel"]);
    });

    it("a HelmRelease that failed its install (Ready=False, no history): still registered, and said so", async () => {
        const run = await infra("infra-failed-install.yaml");
        expect(run.error).toBeUndefined();
        expect(releaseNames(run)).toEqual(["cilium", "coredns", "spegel"]);
        expect(run.handedOver).toEqual([]);
        expect(run.notes).toContain("kube-system/cilium: not taken over by Flux: its HelmRelease has not installed or upgraded it yet: "
            + "Ready=False (InstallFailed), no successful release in its history; still installed by this stack");
    });

    it("a rebuilt cluster: an empty cluster state installs every release again, whatever a previous run registered", async () => {
        // The previous runs, on the lost cluster: Flux had taken cilium over; the state held coredns and spegel, tied to it.
        const lost = await infra("infra-first-taken-over.yaml");
        expect(platformReleases(lost).map((r) => [plainAt(r, "name"), r.options.replacementTrigger])).toEqual([["coredns", INFRA_UID], ["spegel", INFRA_UID]]);
        const rebuilt = await infra("empty.yaml");
        // Every release registered again, cilium included, each tied to the new cluster: Pulumi creates cilium and
        // replaces (so installs) the two its state holds, whose old release it drops without touching anything.
        expect(releaseNames(rebuilt)).toEqual(["cilium", "coredns", "spegel"]);
        for (const r of platformReleases(rebuilt)) expect(r.options.replacementTrigger, r.name).not.toBe(INFRA_UID);
    });

    it("refuses a cluster whose cluster-vars names another cluster, or none, naming both, before anything is registered", async () => {
        for (const [file, found] of [["foreign-cluster.yaml", 'belongs to "apps" (CLUSTER_NAME in flux-system/cluster-vars)'],
            ["unnamed-cluster-vars.yaml", "has a flux-system/cluster-vars without CLUSTER_NAME"]]) {
            const run = await infra(file);
            expect(run.error, file).toBeInstanceOf(ClusterIdentityError);
            expect((run.error as Error).message).toContain(found);
            expect((run.error as Error).message).toContain('this stack\'s cluster.name "infra"');
            expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
        }
    });
});

describe("what Flux has taken over, when the repository runs Flux", () => {
    const repositoryMode = (v: Values) => ({
        ...v,
        cluster: { ...(v.cluster as object), cidr: "10.42.0.0/16" },
        gitops: { repository: "monosense/k8s-ops", branch: "main", path: "kubernetes/flux/cluster" },
        flux: { managedBy: "repository" },
        platform: { releases: [app("kube-system", "cilium"), app("kube-system", "coredns"), app("flux-system", "flux-operator"), app("flux-system", "flux-instance")] },
    });
    const named = (run: StackRun, type: string, name: string) => run.ofType(type).filter((r) => plainAt(r, "metadata.name") === name);

    it("with the operator and instance taken over and the FluxInstance Ready: neither registered, nor the patch; the rest stays", async () => {
        const run = await infra("repository-taken-over.yaml", { edit: repositoryMode });
        expect(run.error).toBeUndefined();
        expect(platformReleases(run)).toEqual([]);
        expect(run.ofType(PATCH)).toEqual([]);
        expect(run.handedOver.map((h) => `${h.namespace}/${h.name}`)).toEqual(["kube-system/cilium", "kube-system/coredns", "flux-system/flux-operator", "flux-system/flux-instance"]);
        expect(run.handedOver[3].evidence).toBe("HelmRelease Ready, chart flux-instance@0.60.0; FluxInstance flux-system/flux Ready");
        // What cannot live in Git stays the program's.
        expect(run.ofType(DEPLOY_KEY)).toHaveLength(1);
        for (const [type, name] of [["Secret", "github-deploy-key"], ["Secret", "sops-age"], ["ConfigMap", "cluster-vars"], ["Secret", "cluster-secrets"]]) {
            expect(named(run, `kubernetes:core/v1:${type}`, name), name).toHaveLength(1);
        }
        // Flux already runs: the Receiver waits for no release and no patch, only for what it is made of.
        const receiver = run.one(RECEIVER);
        expect([...waitsFor(run, receiver)].filter((u) => u.includes("helm.sh") || u.includes("FluxInstancePatch"))).toEqual([]);
        // The repository's Flux, as the policy pack judges the deploy key by it.
        const handover = Object.entries(run.componentOutputs).find(([urn]) => urn.endsWith("FluxHandover::flux-handover"))![1];
        expect(handover).toMatchObject({ version: "2.7.x", components: ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"] });
    });

    it("with the FluxInstance not Ready: the operator and instance are still the program's, and the patch waits for it", async () => {
        const objects = state("repository-taken-over.yaml").map((o) => (o.kind !== "FluxInstance" ? o : {
            ...o, status: { conditions: [{ type: "Ready", status: "False", reason: "ReconciliationFailed", observedGeneration: 1 }] },
        }));
        const run = await runStack({ gitopsDir: GITOPS, clusterState: objects, edit: repositoryMode });
        expect(run.error).toBeUndefined();
        expect(releaseNames(run)).toEqual(["flux-operator", "flux-instance"]);
        // Installed over a running Flux in the migrations: a failed install is never uninstalled (no `atomic`).
        expect(platformReleases(run).map((r) => plainAt(r, "atomic"))).toEqual([false, false]);
        expect(run.one(PATCH).options.dependsOn).toEqual([run.one(RELEASE, "platform-flux-system-flux-instance").urn]);
        expect(run.one(RECEIVER).options.dependsOn).toContain(run.one(PATCH).urn);
    });
});

describe("what Flux has taken over, of the CRDs and the objects applied after a release", () => {
    const HOME_OPS = FIXTURES.homeOps;
    const homeOps = (v: Values) => ({
        ...v,
        platform: {
            crds: [app("network", "envoy-gateway")],
            releases: [app("kube-system", "cilium", ["networking.yaml"]), app("kube-system", "coredns"),
                app("external-secrets", "onepassword-connect", ["clustersecretstore.yaml"])],
        },
    });
    const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
    const applied = (run: StackRun, file: string) => run.resources.filter((r) => r.custom && r.name.includes(`:kubernetes/apps/${file}-`));

    it("an empty cluster: the CRDs, the releases and the objects they apply are all registered", async () => {
        const run = await runStack({ gitopsDir: HOME_OPS, clusterState: state("empty.yaml"), edit: homeOps });
        expect(run.error).toBeUndefined();
        expect(run.ofType(CRD)).toHaveLength(1);
        expect(applied(run, "kube-system/cilium/app/networking.yaml")).toHaveLength(6);
        expect(releaseNames(run)).toEqual(["cilium", "coredns", "onepassword-connect"]);
    });

    it("a CRD entry's HelmRelease and a release taken over: its CRDs, the release and its objects leave; the rest stays, in order", async () => {
        const run = await runStack({ gitopsDir: HOME_OPS, clusterState: state("home-ops-cilium-and-envoy-gateway-taken-over.yaml"), edit: homeOps });
        expect(run.error).toBeUndefined();
        expect(run.ofType(CRD)).toEqual([]);
        expect(run.invokes.filter((i) => i.token === "kubernetes:helm:template")).toEqual([]);
        expect(applied(run, "kube-system/cilium/app/networking.yaml")).toEqual([]);
        expect(releaseNames(run)).toEqual(["coredns", "onepassword-connect"]);
        const [coredns, onepassword] = platformReleases(run);
        // Nothing left before coredns: no CRD, no cilium, none of cilium's objects.
        expect(coredns.options.dependsOn).toEqual([]);
        const store = applied(run, "external-secrets/onepassword-connect/app/clustersecretstore.yaml");
        expect(store.map((o) => o.options.dependsOn)).toEqual([[onepassword.urn]]);
        expect(store[0].options.replacementTrigger).toBe("9a7e1c42-58d3-4f0b-8e26-3b4c5d6e7f80");
        expect(run.handedOver).toEqual([
            { kind: "HelmRelease", namespace: "kube-system", name: "cilium", evidence: "HelmRelease Ready, chart cilium@1.18.4" },
            { kind: "HelmRelease", namespace: "network", name: "envoy-gateway", evidence: "HelmRelease Ready, chart gateway-helm@1.7.0" },
        ]);
        expect(run.notes).toContain("network/envoy-gateway: taken over by Flux (HelmRelease Ready, chart gateway-helm@1.7.0): the "
            + "CustomResourceDefinitions of its chart are no longer managed by this stack");
        expect(run.notes).toContain("kube-system/cilium: taken over by Flux (HelmRelease Ready, chart cilium@1.18.4): no longer managed by this stack");
    });
});

describe("npm run plan --cluster-state", () => {
    it("resolves FILE from where npm ran", () => {
        expect(parseArgs(["infra", "--cluster-state", "s.yaml"], { INIT_CWD: "/home/me" }).clusterState).toBe("/home/me/s.yaml");
    });

    it("plans what Flux has not taken over, says what it has on stderr and lists it under handedOver", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-state-"));
        fs.copyFileSync(path.join(STATES, "infra-first-taken-over.yaml"), path.join(dir, "state.yaml"));
        const r = await runPlan(["infra", "--json", "--gitops-dir", GITOPS, "--cluster-state", "state.yaml"], { INIT_CWD: dir });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toContain("note: kube-system/cilium: taken over by Flux (HelmRelease history: v2 deployed, chart cilium@1.18.5): no longer managed by this stack\n");
        const plan = JSON.parse(r.stdout);
        expect(Object.keys(plan)).toEqual(["project", "stack", "resources", "invokes", "handedOver", "outputs"]);
        expect(plan.handedOver).toEqual([{ kind: "HelmRelease", namespace: "kube-system", name: "cilium", evidence: "HelmRelease history: v2 deployed, chart cilium@1.18.5" }]);
        expect(plan.resources.filter((x: { type: string }) => x.type === RELEASE).map((x: { name: string }) => x.name).sort())
            .toEqual(["flux-operator", "platform-kube-system-coredns", "platform-kube-system-spegel"]);
    });
});
