// The pack against what the program really plans: every resource of both stacks through every rule, each rule
// shown to apply to the resources it guards, and each rule catching one of those resources once broken.
import { beforeAll, describe, expect, it } from "vitest";
import { runStack, type RecordedResource, type StackRun } from "./harness";
import { evaluate, violations, type Evaluation } from "./policy-analyzer";
import {
    deployKeyReadOnly, fluxStableApis, kubernetesRetainedOnDelete, kubernetesSecretDataSecret, policies, r2BucketProtected,
    r2TokenBucketScoped, RETAIN_ON_DELETE_NOT_SENT, tunnelDnsProxied, tunnelEndsInCatchAll, TYPES,
} from "../policy/rules";

const FLUX = {
    gitRepository: "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
    kustomization: "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
    receiver: "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver",
};

/** Types each rule must find in every stack's plan: a rule that matches nothing guards nothing. */
const GUARDED: Record<string, string[]> = {
    "r2-bucket-protected": [TYPES.r2Bucket],
    "kubernetes-retained-on-delete": [
        "kubernetes:core/v1:Namespace", "kubernetes:core/v1:ConfigMap", TYPES.secret, "kubernetes:helm.sh/v3:Release",
        TYPES.fluxInstance, FLUX.gitRepository, FLUX.kustomization, FLUX.receiver,
    ],
    "kubernetes-secret-data-secret": [TYPES.secret],
    "deploy-key-read-only": [TYPES.deployKey, TYPES.fluxInstance],
    "tunnel-ends-in-catch-all": [TYPES.tunnelConfig],
    "tunnel-dns-proxied": [TYPES.dnsRecord],
    "r2-token-bucket-scoped": [TYPES.accountToken],
    "flux-stable-api-versions": [TYPES.fluxInstance, FLUX.gitRepository, FLUX.kustomization, FLUX.receiver],
    "zone-token-single-zone": [TYPES.accountToken],
};

const withImageAutomation = (v: Record<string, unknown>) => ({ ...v, flux: { ...(v.flux as object), imageAutomation: true } });

/** A planned resource, deep-copied and changed, to show a rule catches it once broken. */
function broken(r: RecordedResource, change: (copy: RecordedResource) => void): RecordedResource {
    const copy = structuredClone(r);
    change(copy);
    return copy;
}

describe.each(["infra", "apps"])("the %s stack's plan", (stack) => {
    let run: StackRun;
    let asToday: Evaluation;
    let withRetain: Evaluation;
    const planned = (type: string) => {
        const found = run.ofType(type);
        expect(found, `the ${stack} plan has no ${type}`).not.toEqual([]);
        return found[0];
    };

    beforeAll(async () => {
        run = await runStack({ stack });
        expect(run.error).toBeUndefined();
        asToday = await evaluate(policies, run.resources);
        withRetain = await evaluate(policies, run.resources, { exposeRetainOnDelete: true });
    });

    it("passes every rule, reading no value a preview cannot know", () => {
        expect(withRetain.violations).toEqual([]);
        expect(withRetain.unknown).toEqual([]);
        expect(asToday.violations).toEqual([]);
        expect(asToday.unknown).toEqual([]);
    });

    it.each(Object.entries(GUARDED))("%s judges every resource it guards", (policy, types) => {
        for (const type of types) expect(run.ofType(type).length, `the ${stack} plan has no ${type}`).toBeGreaterThan(0);
        const judged = (ev: Evaluation) => {
            const skipped = new Set(ev.notApplicable.filter((f) => f.policy === policy).map((f) => f.resource));
            return new Set(run.resources.filter((r) => r.custom && !skipped.has(r.name)).map((r) => r.type));
        };
        if (policy === "deploy-key-read-only") {
            // A stack rule: judged once, over the whole stack.
            expect(withRetain.notApplicable.filter((f) => f.policy === policy)).toEqual([]);
            return;
        }
        expect([...judged(withRetain)].sort()).toEqual(expect.arrayContaining(types));
    });

    it("under today's CrossGuard, which does not send retainOnDelete, says so for every Kubernetes object", () => {
        const k8s = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
        expect(k8s.length).toBeGreaterThan(0);
        expect(asToday.notApplicable.filter((f) => f.policy === "kubernetes-retained-on-delete" && f.message === RETAIN_ON_DELETE_NOT_SENT)
            .map((f) => f.resource).sort()).toEqual(k8s.map((r) => r.name).sort());
    });

    describe("each rule catches a planned resource once broken", () => {
        it("an R2 bucket without protect", async () => {
            const bucket = broken(planned(TYPES.r2Bucket), (b) => { b.options.protect = false; });
            expect(await violations(r2BucketProtected, bucket)).toEqual([expect.stringMatching(/^R2 bucket ".+" \(.+\) is not protected/)]);
        });

        it("a Flux object a destroy would delete", async () => {
            const source = broken(planned(FLUX.gitRepository), (g) => { g.options.retainOnDelete = false; });
            expect(await violations(kubernetesRetainedOnDelete, source, { exposeRetainOnDelete: true }))
                .toEqual([expect.stringMatching(/^GitRepository .+ is not retained on delete/)]);
        });

        it("a Secret that would keep its data in plain text", async () => {
            const s = broken(planned(TYPES.secret), (x) => { x.options.additionalSecretOutputs = []; });
            expect(await violations(kubernetesSecretDataSecret, s)).toEqual([expect.stringContaining("does not keep data and stringData secret")]);
        });

        it("a writable deploy key in a stack whose Flux does not push", async () => {
            const writable = broken(planned(TYPES.deployKey), (k) => { k.inputs.readOnly = false; k.outputs.readOnly = false; });
            const rest = run.resources.filter((r) => r.type !== TYPES.deployKey);
            expect(await violations(deployKeyReadOnly, [writable, ...rest])).toEqual([expect.stringContaining("is not read-only (readOnly: false)")]);
        });

        it("a tunnel config that sends unmatched hostnames to the gateway", async () => {
            const cfg = broken(planned(TYPES.tunnelConfig), (c) => {
                const ingresses = (c.inputs.config as { ingresses: { service: string }[] }).ingresses;
                ingresses[ingresses.length - 1] = { service: ingresses[0].service };
            });
            expect(await violations(tunnelEndsInCatchAll, cfg)).toEqual([expect.stringContaining('not the bare catch-all {service: "http_status:404"}')]);
        });

        it("an unproxied tunnel CNAME", async () => {
            const record = broken(planned(TYPES.dnsRecord), (r) => { r.inputs.proxied = false; });
            expect(await violations(tunnelDnsProxied, record)).toEqual([expect.stringContaining("points at a Cloudflare tunnel")]);
        });

        it("an R2 token widened to the account", async () => {
            const token = broken(run.one(TYPES.accountToken, "backups-token"), (t) => {
                const [policy] = t.inputs.policies as { resources: string }[];
                const account = String(t.inputs.accountId);
                policy.resources = JSON.stringify({ ...JSON.parse(policy.resources), [`com.cloudflare.api.account.${account}`]: "*" });
            });
            expect(await violations(r2TokenBucketScoped, token)).toEqual([expect.stringContaining("is the whole account")]);
        });

        it("a GitRepository on a beta API", async () => {
            const source = broken(planned(FLUX.gitRepository), (g) => { g.type = "kubernetes:source.toolkit.fluxcd.io/v1beta2:GitRepository"; });
            expect(await violations(fluxStableApis, source)).toEqual([expect.stringContaining("the stable API is source.toolkit.fluxcd.io/v1")]);
        });
    });
});

describe("a stack with image automation on", () => {
    let run: StackRun;

    beforeAll(async () => {
        run = await runStack({ stack: "infra", edit: withImageAutomation });
        expect(run.error).toBeUndefined();
    });

    it("plans a writable deploy key and passes every rule, because its Flux pushes image updates", async () => {
        expect(run.one(TYPES.deployKey).inputs.readOnly).toBe(false);
        const ev = await evaluate(policies, run.resources, { exposeRetainOnDelete: true });
        expect(ev.violations).toEqual([]);
        expect(ev.unknown).toEqual([]);
    });

    it("fails the same key once the FluxInstance stops running image-automation-controller", async () => {
        const resources = run.resources.map((r) => r.type !== TYPES.fluxInstance ? r : broken(r, (f) => {
            const spec = f.outputs.spec as { components: string[] };
            spec.components = spec.components.filter((c) => c !== "image-automation-controller");
        }));
        expect(await violations(deployKeyReadOnly, resources)).toEqual([expect.stringContaining("is not read-only (readOnly: false)")]);
    });
});
