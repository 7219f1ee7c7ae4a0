// The pack with Flux run by the repository (`flux.managedBy: repository`) and by the program: the planned stacks of both
// modes pass every rule, the rules that guard Flux judge the repository's releases and the wait patch, and the rule
// for one owner of Flux catches each way two owners could meet.
import * as k8s from "@pulumi/kubernetes";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";
import { runStack, type RecordedResource, type StackRun, type Values } from "./harness";
import { evaluate, recorded, violations } from "./policy-analyzer";
import { readClusterState } from "../offline/cluster-state";
import {
    deployKeyReadOnly, FLUX_CHARTS, FLUX_HANDOVER_TYPE, fluxSingleOwner, fluxStableApis, HELM_RELEASE_TYPE, kubernetesRetainedOnDelete, policies, TYPES,
} from "../policy/rules";
import { app, FIXTURES } from "./gitops-fixtures";
import { PATCH, GIT_REPOSITORY, KUSTOMIZATION } from "./resource-types";

const FIXTURE = FIXTURES.gitops;

const repositoryMode = (v: Values): Values => ({
    ...v,
    cluster: { ...(v.cluster as object), cidr: "10.42.0.0/16" },
    gitops: { repository: "monosense/k8s-ops", branch: "main", path: "kubernetes/flux/cluster" },
    flux: { managedBy: "repository" },
    platform: { releases: [app("kube-system", "cilium"), app("flux-system", "flux-operator"), app("flux-system", "flux-instance")] },
});

/** A copy of the fixture repository whose flux-instance runs these controllers. */
function fixtureWith(components: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-"));
    fs.cpSync(FIXTURE, dir, { recursive: true });
    const file = path.join(dir, "kubernetes/apps/flux-system/flux-instance/app/helmrelease.yaml");
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    doc.setIn(["spec", "values", "instance", "components"], components);
    fs.writeFileSync(file, doc.toString());
    return dir;
}

const release = (name: string, chart: string, values: Record<string, unknown> = {}) => recorded({
    type: HELM_RELEASE_TYPE, name, inputs: { name: chart.split("/").pop(), namespace: "flux-system", chart, values },
});
const OCI = "oci://ghcr.io/controlplaneio-fluxcd/charts";
const fluxInstance = recorded({ type: TYPES.fluxInstance, name: "flux-instance", inputs: { spec: { components: ["source-controller"] } } });

describe("the pack on a stack whose repository runs Flux", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack({ edit: repositoryMode, gitopsDir: FIXTURE });
        expect(run.error).toBeUndefined();
    });

    it("passes every rule on a repository-run Flux, reading no value a preview cannot know", async () => {
        for (const exposeRetainOnDelete of [false, true]) {
            const ev = await evaluate(policies, run.resources, { exposeRetainOnDelete });
            expect(ev.violations).toEqual([]);
            expect(ev.unknown).toEqual([]);
        }
    });

    it("judges the wait patch as a retained Flux object on a stable API, and the repository's releases as retained", async () => {
        const ev = await evaluate([kubernetesRetainedOnDelete, fluxStableApis], run.resources, { exposeRetainOnDelete: true });
        const judged = (policy: string) => {
            const skipped = new Set(ev.notApplicable.filter((f) => f.policy === policy).map((f) => f.resource));
            return run.resources.filter((r) => r.custom && !skipped.has(r.name)).map((r) => r.name);
        };
        expect(judged("flux-stable-api-versions")).toEqual(expect.arrayContaining(["flux-handover-instance", "push-reconcile-receiver"]));
        expect(judged("kubernetes-retained-on-delete")).toEqual(expect.arrayContaining([
            "flux-handover-instance", "platform-flux-system-flux-operator", "platform-flux-system-flux-instance",
        ]));
        const patch = structuredClone(run.one(PATCH));
        patch.options.retainOnDelete = false;
        expect(await violations(kubernetesRetainedOnDelete, patch, { exposeRetainOnDelete: true })).toEqual([
            expect.stringMatching(/^FluxInstancePatch flux-handover-instance is not retained on delete/),
        ]);
    });

    it("fails a GitRepository or Kustomization the stack would register beside the FluxInstance's own", async () => {
        const source = recorded({ type: GIT_REPOSITORY, name: "gitops-source", inputs: { metadata: { name: "k8s-ops" } } });
        const root = recorded({ type: KUSTOMIZATION, name: "gitops-root", inputs: { metadata: { name: "k8s-ops" } } });
        const ev = await evaluate([fluxSingleOwner], [...run.resources, source, root]);
        expect(ev.violations).toEqual([
            {
                policy: "flux-single-owner",
                resource: source.urn,
                message: "GitRepository gitops-source is registered by the stack, but the repository's flux-instance release " +
                    "(platform-flux-system-flux-instance) runs Flux: its FluxInstance creates the GitRepository and Kustomization from " +
                    "spec.sync, and a second root with prune: true would fight it over what the cluster runs. Leave them to the FluxInstance.",
            },
            expect.objectContaining({ resource: root.urn, message: expect.stringMatching(/^Kustomization gitops-root is registered by the stack/) }),
        ]);
    });

    it("fails a writable deploy key unless the repository's FluxInstance runs image automation", async () => {
        const writable = run.resources.map((r) => r.type !== TYPES.deployKey ? r : {
            ...r, inputs: { ...r.inputs, readOnly: false }, outputs: { ...r.outputs, readOnly: false },
        });
        expect(await violations(deployKeyReadOnly, writable)).toEqual([expect.stringContaining("is not read-only (readOnly: false)")]);
        const pushing = writable.map((r) => r.name !== "platform-flux-system-flux-instance" ? r : structuredClone(r));
        const instance = pushing.find((r) => r.name === "platform-flux-system-flux-instance")!;
        const values = instance.outputs.values as { instance: { components: string[] } };
        values.instance.components = [...values.instance.components, "image-reflector-controller", "image-automation-controller"];
        expect(await violations(deployKeyReadOnly, pushing)).toEqual([]);
    });
});

describe("the pack once Flux has taken the repository's own Flux over", () => {
    // No flux-instance release in the stack any more: the deploy key is judged by what the FluxHandover reports.
    const handedOver = () => runStack({
        edit: (v) => ({ ...repositoryMode(v), flux: { managedBy: "repository", imageAutomation: true } }),
        gitopsDir: fixtureWith(["source-controller", "kustomize-controller", "image-reflector-controller", "image-automation-controller"]),
        clusterState: readClusterState(path.join(ROOT, "test", "fixtures", "cluster-state", "repository-taken-over.yaml")),
    });

    it("finds the program's component under the type the rule looks for", async () => {
        const run = await handedOver();
        expect(run.error).toBeUndefined();
        expect(run.ofType(HELM_RELEASE_TYPE)).toEqual([]);
        expect(run.resources.filter((r) => r.type === FLUX_HANDOVER_TYPE).map((r) => r.name)).toEqual(["flux-handover"]);
    });

    it("passes a writable deploy key when the repository's instance runs image automation, and fails it when it does not", async () => {
        const run = await handedOver();
        // A stack rule sees a component's registered outputs as its props, as the engine stores them.
        const withOutputs = run.resources.map((r) => (r.type !== FLUX_HANDOVER_TYPE ? r : { ...r, outputs: run.componentOutputs[r.urn] }));
        expect(await violations(deployKeyReadOnly, withOutputs)).toEqual([]);
        const without = withOutputs.map((r) => (r.type !== FLUX_HANDOVER_TYPE ? r : { ...r, outputs: { ...r.outputs, components: ["source-controller"] } }));
        expect(await violations(deployKeyReadOnly, without)).toEqual([expect.stringContaining("is not read-only (readOnly: false)")]);
    });
});

describe("flux-single-owner", () => {
    it("looks for the Helm release type the Kubernetes SDK registers", () => {
        expect(HELM_RELEASE_TYPE).toBe((k8s.helm.v3.Release as unknown as { __pulumiType: string }).__pulumiType);
        expect(FLUX_CHARTS).toEqual({ operator: "flux-operator", instance: "flux-instance" });
    });

    it("passes the program's own Flux as planned", async () => {
        const run = await runStack({ stack: "apps" });
        expect(run.error).toBeUndefined();
        const ev = await evaluate([fluxSingleOwner], run.resources);
        expect(ev.violations).toEqual([]);
        expect(ev.notApplicable).toEqual([]);
    });

    it("fails a second Flux Operator release and a second FluxInstance, by chart, OCI or by name", async () => {
        const ownOperator = release("flux-operator", `${OCI}/flux-operator`);
        const repoOperator = release("platform-flux-system-flux-operator", "flux-operator");
        const repoInstance = release("platform-flux-system-flux-instance", `${OCI}/flux-instance/`);
        const ev = await evaluate([fluxSingleOwner], [ownOperator, fluxInstance, repoOperator, repoInstance]);
        expect(ev.violations.map((v) => [v.resource, v.message])).toEqual([
            [repoOperator.urn, "Helm release platform-flux-system-flux-operator installs the Flux Operator a second time (flux-operator " +
                "does already): two operator releases fight over one set of CRDs and one FluxInstance. Install it once, from the program or " +
                "from the repository (cluster-bootstrap:flux.managedBy)."],
            [repoInstance.urn, "Helm release platform-flux-system-flux-instance is a second FluxInstance (flux-instance is one): the Flux " +
                "Operator accepts one instance, named flux, and two owners would overwrite each other's spec. Let either the program or " +
                "the repository's flux-instance release own it (cluster-bootstrap:flux.managedBy)."],
        ]);
    });

    it("does not apply to a stack without Flux, and leaves other releases alone", async () => {
        const ev = await evaluate([fluxSingleOwner], [release("platform-kube-system-cilium", "oci://127.0.0.1:5000/cilium/charts/cilium")]);
        expect(ev.notApplicable.map((f) => f.message)).toEqual(["no Flux in this stack"]);
        const plain: RecordedResource[] = [release("a", `${OCI}/flux-operator`), release("b", "flux-instance"), release("c", "other")];
        expect(await violations(fluxSingleOwner, plain)).toEqual([]);
    });
});
