// What the platform applies besides its releases (issue 22): the CRDs of `platform.crds` before the first release, the
// objects of `platform.releases[i].apply` after their release; read from a repository shaped like onedr0p/home-ops
// (test/fixtures/home-ops), planned in-process with the program's own Flux (the repository's Flux is in
// test/repositories.test.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, validateConfig } from "../config";
import { yamlErrorDescription } from "../config/yaml-errors";
import { helmTemplate } from "../offline/fakes";
import { placeholderNote } from "../offline/gitops";
import { toPlanJson } from "../offline/runtime";
import {
    isWireSecret, plainAt, reveal, runStack, secretStrings, validValues, waitsFor, type RecordedResource, type StackRun, type Values,
} from "./harness";
import { app, FIXTURES } from "./gitops-fixtures";
import { RELEASE } from "./resource-types";

const HOME_OPS = FIXTURES.homeOps;
const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
const HELM_TEMPLATE = "kubernetes:helm:template";
const OPERATOR = "flux-operator";

const ENVOY_GATEWAY = app("network", "envoy-gateway");
const CILIUM_DIR = "kubernetes/apps/kube-system/cilium/app";
const NETWORKING = `${CILIUM_DIR}/networking.yaml`;
const STORE = "kubernetes/apps/external-secrets/onepassword-connect/app/clustersecretstore.yaml";
/** home-ops' bootstrap as its helmfiles have it, the program running Flux: crds.yaml's envoy-gateway, then the apps and hooks. */
const HOME_OPS_PLATFORM = {
    crds: [ENVOY_GATEWAY],
    releases: [
        app("kube-system", "cilium", ["networking.yaml"]), app("kube-system", "coredns"), app("kube-system", "spegel"),
        app("cert-manager", "cert-manager"), app("external-secrets", "external-secrets"),
        app("external-secrets", "onepassword-connect", ["clustersecretstore.yaml"]),
    ],
};

const withPlatform = (platform: unknown) => (v: Values) => ({ ...v, platform });
const plan = (platform: unknown = HOME_OPS_PLATFORM, extra: Parameters<typeof runStack>[0] = {}) =>
    runStack({ edit: withPlatform(platform), gitopsDir: HOME_OPS, ...extra });

const releases = (run: StackRun) => run.ofType(RELEASE).filter((r) => r.parent.endsWith("PlatformReleases::platform"));
const release = (run: StackRun, name: string) => releases(run).find((r) => plainAt(r, "name") === name)!;
/** The objects applied from a file, by the file's path in the repository. */
const appliedFrom = (run: StackRun, file: string) => run.resources.filter((r) => r.custom && r.name.includes(`:${file}-`));
const crds = (run: StackRun) => run.ofType(CRD);
const urns = (rs: RecordedResource[]) => rs.map((r) => r.urn);

/** A copy of the home-ops fixture with files replaced (text) or removed (null). */
function homeOpsWith(files: Record<string, string | null>): string {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? "/tmp"), "home-ops-"));
    fs.cpSync(HOME_OPS, dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
        if (text === null) fs.rmSync(path.join(dir, file), { recursive: true });
        else {
            fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            fs.writeFileSync(path.join(dir, file), text);
        }
    }
    return dir;
}

describe("cluster-bootstrap:platform.crds and platform.releases[i].apply in the stack config", () => {
    const check = (platform: unknown) => validateConfig({ values: { ...validValues(), platform } });

    it("are optional; apply paths are kept as given and joined with their app directory", async () => {
        const r = await check({ releases: [app("kube-system", "cilium", ["networking.yaml", "../config/", "./x.yaml"])], crds: [ENVOY_GATEWAY] });
        expect(r.problems).toEqual([]);
        expect(r.config?.platform).toEqual({
            releases: [{ ...app("kube-system", "cilium"), apply: [
                { given: "networking.yaml", path: NETWORKING },
                { given: "../config/", path: "kubernetes/apps/kube-system/cilium/config" },
                { given: "./x.yaml", path: `${CILIUM_DIR}/x.yaml` },
            ] }],
            crds: [ENVOY_GATEWAY],
        });
    });

    it("refuses an apply path that leaves the repository, is absolute, repeats, or is no path; and a CRD entry like a release", async () => {
        const r = await check({
            releases: [app("kube-system", "cilium", ["../../../../../../etc/passwd", "/etc/passwd", "networking.yaml", "./networking.yaml", "a b", ""])],
            crds: [ENVOY_GATEWAY, { ...ENVOY_GATEWAY, path: `./${ENVOY_GATEWAY.path}` }, { path: "../x", namespace: "Net", chart: "x" }],
        });
        expect(r.problems).toEqual([
            'cluster-bootstrap:platform.releases[0].apply[1]: "/etc/passwd" must be a relative path with forward slashes',
            'cluster-bootstrap:platform.releases[0].apply[4]: "a b" must not contain spaces',
            'cluster-bootstrap:platform.releases[0].apply[5]: "" must name a file or a directory',
            'cluster-bootstrap:platform.crds[2].path: "../x" must not contain ".." (it could leave the repository)',
            'cluster-bootstrap:platform.crds[2].namespace: "Net" is not a Kubernetes namespace name (a DNS label)',
            "cluster-bootstrap:platform.crds[2].chart: is not a known setting",
            'cluster-bootstrap:platform.releases[0].apply[0]: "../../../../../../etc/passwd" leaves the repository (taken from ' +
                `${CILIUM_DIR}): an apply path must name a file or a directory inside it`,
            `cluster-bootstrap:platform.releases[0].apply[3]: "./networking.yaml" is ${NETWORKING} again, as cluster-bootstrap:platform.releases[0].apply[2]`,
            `cluster-bootstrap:platform.crds[1].path: "./${ENVOY_GATEWAY.path}" repeats cluster-bootstrap:platform.crds[0].path`,
        ]);
        expect((await check({ releases: [{ ...app("kube-system", "cilium"), apply: "networking.yaml" }], crds: {} })).problems).toEqual([
            "cluster-bootstrap:platform.releases[0].apply: must be a list of paths relative to the app directory",
            "cluster-bootstrap:platform.crds: must be a list of app directories",
        ]);
    });
});

describe("a repository shaped like home-ops, its bootstrap's CRDs and hooks included", () => {
    it("applies the CRDs of envoy-gateway's chart before the first release, each retained and tied to its cluster", async () => {
        const run = await plan();
        expect(run.error).toBeUndefined();
        // Offline the chart is not rendered: one placeholder for the entry, named after its chart and version.
        expect(crds(run).map((c) => c.name)).toEqual(["platform-crds-network-envoy-gateway/placeholder:crds/gateway-helm@1.7.0"]);
        const [crd] = crds(run);
        expect(crd.options.retainOnDelete).toBe(true);
        expect(crd.options.replacementTrigger).toBe("placeholder:kube-system-uid");
        expect(crd.parent).toMatch(/PlatformCrds::platform-crds$/);
        expect(crd.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
        // Only the CRDs of what the chart renders: the fake's other object (a ServiceAccount) is left out.
        expect(run.resources.filter((r) => r.type === "kubernetes:core/v1:ServiceAccount")).toEqual([]);
        // The first release waits for them, and through it every other one.
        expect(release(run, "cilium").options.dependsOn).toEqual([crd.urn]);
        for (const r of releases(run)) expect(waitsFor(run, r).has(crd.urn), r.name).toBe(true);
    });

    it("renders the chart through the Kubernetes provider's helm template, at the chart, version and values the app directory names", async () => {
        const run = await plan();
        const calls = run.invokes.filter((i) => i.token === HELM_TEMPLATE);
        expect(calls).toHaveLength(1);
        expect(calls[0].provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
        expect(JSON.parse(reveal(calls[0].args.jsonOpts) as string)).toEqual({
            chart: "oci://127.0.0.1:5000/envoyproxy/gateway-helm", version: "1.7.0", namespace: "network", release_name: "envoy-gateway",
            values: { global: { imageRegistry: "mirror.gcr.io" }, config: { envoyGateway: { provider: { type: "Kubernetes", kubernetes: { deploy: { type: "GatewayNamespace" } } } } } },
        });
    });

    it("names each CRD entry's chart and version in the plan JSON, in invokes and in resources", async () => {
        const run = await plan({ ...HOME_OPS_PLATFORM, crds: [ENVOY_GATEWAY, app("kube-system", "spegel")] });
        const json = toPlanJson(run);
        const charts = json.invokes.filter((i) => i.token === HELM_TEMPLATE).map((i) => JSON.parse((i.args as { jsonOpts: string }).jsonOpts))
            .map((o: { chart: string; version: string }) => `${o.chart}@${o.version}`);
        expect(charts.sort()).toEqual(["oci://127.0.0.1:5000/envoyproxy/gateway-helm@1.7.0", "oci://127.0.0.1:5000/spegel-org/helm-charts/spegel@0.7.4"].sort());
        expect(json.resources.filter((r) => r.type === CRD).map((r) => r.name).sort()).toEqual([
            "platform-crds-kube-system-spegel/placeholder:crds/spegel@0.7.4", "platform-crds-network-envoy-gateway/placeholder:crds/gateway-helm@1.7.0",
        ]);
    });

    it("applies networking.yaml once cilium is ready, every object named after its entry and file, before coredns starts", async () => {
        const run = await plan();
        const cilium = release(run, "cilium");
        const objects = appliedFrom(run, NETWORKING);
        // Registered as they resolve (the order of a file's objects does not matter: each is retried until its kind is served).
        expect(objects.map((o) => `${o.type} ${o.name}`).sort()).toEqual([
            "kubernetes:cilium.io/v2:CiliumLoadBalancerIPPool", "kubernetes:cilium.io/v2alpha1:CiliumL2AnnouncementPolicy",
            "kubernetes:cilium.io/v2:CiliumBGPAdvertisement", "kubernetes:cilium.io/v2:CiliumBGPPeerConfig", "kubernetes:cilium.io/v2:CiliumBGPClusterConfig",
            "kubernetes:core/v1:Service",
        ].map((type, i) => `${type} platform-kube-system-cilium:${NETWORKING}-kube-system/${["pool", "l2-policy", "l3-bgp-advertisement",
            "l3-bgp-peer-config", "l3-bgp-cluster-config", "kube-api"][i]}`).sort());
        for (const o of objects) {
            expect(o.options.dependsOn, o.name).toEqual([cilium.urn]);
            expect(o.options.retainOnDelete, o.name).toBe(true);
            expect(o.options.replacementTrigger, o.name).toBe("placeholder:kube-system-uid");
            expect(o.provider, o.name).toMatch(/pulumi:providers:kubernetes::k8s::/);
        }
        // The next release waits for the release and every object applied after it.
        expect([...release(run, "coredns").options.dependsOn].sort()).toEqual([cilium.urn, ...urns(objects)].sort());
        // The object as the file has it, in the entry's namespace.
        expect(reveal(objects.find((o) => o.type === "kubernetes:core/v1:Service")!.inputs)).toEqual({
            apiVersion: "v1", kind: "Service",
            metadata: { name: "kube-api", namespace: "kube-system", annotations: { "lbipam.cilium.io/ips": "192.168.42.120" } },
            spec: { type: "LoadBalancer", selector: { "k8s-app": "kube-apiserver", tier: "control-plane" },
                ports: [{ name: "https", port: 6443, protocol: "TCP", targetPort: 6443 }] },
        });
    });

    it("applies clustersecretstore.yaml once onepassword-connect is ready, and the Flux Operator waits for it", async () => {
        const run = await plan();
        const [store] = appliedFrom(run, STORE);
        expect(store.type).toBe("kubernetes:external-secrets.io/v1:ClusterSecretStore");
        expect(store.options.dependsOn).toEqual([release(run, "onepassword-connect").urn]);
        expect([...run.one(RELEASE, OPERATOR).options.dependsOn].sort()).toEqual([release(run, "onepassword-connect").urn, store.urn].sort());
    });

    it("reads each apply file once, with the app directories, and nothing else", async () => {
        const run = await plan();
        const needed = [...HOME_OPS_PLATFORM.releases, ENVOY_GATEWAY]
            .flatMap((a) => ["kustomization.yaml", "helmrelease.yaml", "ocirepository.yaml"].map((f) => `${a.path}/${f}`));
        expect(run.reads.map((r) => r.path).sort()).toEqual([...needed, NETWORKING, STORE].sort());
    });

    it("applies a kustomize directory (../config) as kubectl apply -k would: the files its kustomization lists", async () => {
        const run = await plan({ ...HOME_OPS_PLATFORM, releases: [app("kube-system", "cilium", ["../config"]), ...HOME_OPS_PLATFORM.releases.slice(1)] });
        expect(run.error).toBeUndefined();
        const config = "kubernetes/apps/kube-system/cilium/config";
        const objects = run.resources.filter((r) => r.custom && r.name.startsWith(`platform-kube-system-cilium:${config}/`));
        expect(objects.map((o) => `${o.type} ${o.name}`).sort()).toEqual([
            `kubernetes:cilium.io/v2alpha1:CiliumBGPPeeringPolicy platform-kube-system-cilium:${config}/l3.yaml-kube-system/l3-policy`,
            `kubernetes:cilium.io/v2alpha1:CiliumLoadBalancerIPPool platform-kube-system-cilium:${config}/pool.yaml-kube-system/pool`,
            `kubernetes:core/v1:Service platform-kube-system-cilium:${config}/kube-api.yaml-kube-system/kube-api`,
        ]);
        for (const o of objects) expect(o.options.dependsOn).toEqual([release(run, "cilium").urn]);
        expect([...release(run, "coredns").options.dependsOn].sort()).toEqual([release(run, "cilium").urn, ...urns(objects)].sort());
        expect(run.reads.map((r) => r.path).filter((p) => p.startsWith(config)).sort())
            .toEqual([`${config}/kube-api.yaml`, `${config}/kustomization.yaml`, `${config}/l3.yaml`, `${config}/pool.yaml`]);
    });
});

describe("substitution and secrets in what is applied, as Flux's post-build substitution", () => {
    const EXTRA = `${CILIUM_DIR}/extra.yaml`;
    const extra = (text: string) => plan({ releases: [app("kube-system", "cilium", ["extra.yaml"])] }, { gitopsDir: homeOpsWith({ [EXTRA]: text }) });

    it("substitutes the stack's variables, waits for the resources behind them and nothing else", async () => {
        const run = await extra("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${CLUSTER_NAME}-tunnel\n  labels:\n    id: \"${CLUSTER_ID}\"\n"
            + "data:\n  tunnel: ${TUNNEL_ID}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  name: ${CLUSTER_NAME}\n");
        expect(run.error).toBeUndefined();
        const tunnelMap = appliedFrom(run, EXTRA).find((o) => o.name.endsWith("/infra-tunnel"))!;
        const plain = appliedFrom(run, EXTRA).find((o) => o.name.endsWith("/plain"))!;
        expect(reveal(tunnelMap.inputs)).toEqual({
            apiVersion: "v1", kind: "ConfigMap", metadata: { name: "infra-tunnel", namespace: "kube-system", labels: { id: "1" } },
            data: { tunnel: "placeholder:ZeroTrustTunnelCloudflared/edge-tunnel/id" },
        });
        const tunnel = run.one("cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared");
        expect(waitsFor(run, tunnelMap).has(tunnel.urn)).toBe(true);
        expect([...waitsFor(run, plain)].some((u) => u.includes("cloudflare:"))).toBe(false);
        expect(isWireSecret(tunnelMap.inputs.data)).toBe(false);
    });

    it("keeps an object that uses a cluster-secrets key secret, and nowhere else in plain text", async () => {
        const run = await extra("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: token\ndata:\n  token: ${CLOUDFLARE_TUNNEL_TOKEN}\n");
        const [object] = appliedFrom(run, EXTRA);
        expect(isWireSecret(object.inputs.data)).toBe(true);
        const token = plainAt(object, "data.token") as string;
        expect(token).toMatch(/^placeholder:tunnel-token\//);
        expect(secretStrings(run).has(token)).toBe(true);
        expect(JSON.stringify(toPlanJson(run))).not.toContain(token);
    });

    it("follows Flux's rule for an unset variable of the configured version", async () => {
        const text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unset\ndata:\n  x: ${NOT_IN_THE_CONTRACT}\n";
        const strict = await runStack({
            edit: (v) => ({ ...withPlatform({ releases: [app("kube-system", "cilium", ["extra.yaml"])] })(v), flux: { version: "2.9.x" } }),
            gitopsDir: homeOpsWith({ [EXTRA]: text }),
        });
        expect(strict.error).toBeInstanceOf(ConfigError);
        expect((strict.error as ConfigError).problems).toEqual([`cluster-bootstrap:platform.releases[0]: ${EXTRA}: envsubst error: variable substitution failed: ` +
            'variable not set (strict mode): "NOT_IN_THE_CONTRACT": the stack\'s cluster-vars and cluster-secrets do not define it']);
        expect(strict.resources.filter((r) => r.custom)).toEqual([]);
        const lax = await extra(text);
        expect(lax.error).toBeUndefined();
        // `x: ${…}` becomes `x: ` before parsing: null, as Flux hands it on.
        expect(plainAt(appliedFrom(lax, EXTRA)[0], "data")).toEqual({ x: null });
    });
});

describe("refusals, before anything is registered", () => {
    const refused = async (platform: unknown, files: Record<string, string | null> = {}) => {
        const run = await plan(platform, { gitopsDir: homeOpsWith(files) });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
        return (run.error as ConfigError).problems;
    };
    const cilium = (...apply: string[]) => ({ releases: [app("kube-system", "cilium", apply)] });

    it("an apply path that is not in the repository, as a file or as a directory", async () => {
        expect(await refused(cilium("missing.yaml", "../missing"))).toEqual([
            `cluster-bootstrap:platform.releases[0].apply[0]: ${CILIUM_DIR}/missing.yaml: not found on branch main of monosense/k8s-ops: ` +
                "neither a file nor a directory with a kustomization.yaml",
            "cluster-bootstrap:platform.releases[0].apply[1]: kubernetes/apps/kube-system/cilium/missing: not found on branch main of " +
                "monosense/k8s-ops: neither a file nor a directory with a kustomization.yaml",
        ]);
    });

    it("an apply file that does not parse: its place and the fixed description of the mistake, never its text", async () => {
        const secret = "ghp_notarealtokennotarealtoken012345";
        const problems = await refused(cilium("networking.yaml"), { [NETWORKING]: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  token: ${secret}\n   bad: [\n` });
        expect(problems).toEqual([`cluster-bootstrap:platform.releases[0].apply[0]: ${NETWORKING}:6:10: does not parse as YAML: ${yamlErrorDescription("BLOCK_AS_IMPLICIT_KEY")}`]);
        expect(problems.join("\n")).not.toContain(secret);
    });

    it("a directory whose kustomization rewrites what it lists, a file it lists that is missing, an empty file", async () => {
        const config = "kubernetes/apps/kube-system/cilium/config";
        expect(await refused(cilium("../config"), { [`${config}/kustomization.yaml`]: "namePrefix: x-\nresources: [pool.yaml]\n" })).toEqual([
            `cluster-bootstrap:platform.releases[0].apply[0]: ${config}/kustomization.yaml: namePrefix is not supported: they make kubectl apply -k ` +
                "apply other objects than the files hold, which the bootstrap would not reproduce",
        ]);
        expect(await refused(cilium("../config"), { [`${config}/l3.yaml`]: null })).toEqual([
            `cluster-bootstrap:platform.releases[0].apply[0]: ${config}/l3.yaml: not found on branch main of monosense/k8s-ops (${config}/kustomization.yaml lists it)`,
        ]);
        expect(await refused(cilium("networking.yaml"), { [NETWORKING]: "---\n# nothing yet\n" })).toEqual([
            `cluster-bootstrap:platform.releases[0].apply[0]: ${NETWORKING}: holds no object to apply`,
        ]);
    });

    it("an object applied twice, by two paths of one release or two releases", async () => {
        expect(await refused({ releases: [app("kube-system", "cilium", ["networking.yaml", "../config"]), app("kube-system", "coredns", ["../../cilium/config/pool.yaml"])] })).toEqual([
            "cluster-bootstrap:platform.releases[0].apply[1]: Service kube-system/kube-api (kubernetes/apps/kube-system/cilium/config/kube-api.yaml) is " +
                `applied already by cluster-bootstrap:platform.releases[0].apply[0] (${NETWORKING})`,
            "cluster-bootstrap:platform.releases[0].apply[1]: CiliumLoadBalancerIPPool kube-system/pool (kubernetes/apps/kube-system/cilium/config/pool.yaml) " +
                `is applied already by cluster-bootstrap:platform.releases[0].apply[0] (${NETWORKING})`,
            "cluster-bootstrap:platform.releases[1].apply[0]: CiliumLoadBalancerIPPool kube-system/pool (kubernetes/apps/kube-system/cilium/config/pool.yaml) " +
                `is applied already by cluster-bootstrap:platform.releases[0].apply[0] (${NETWORKING})`,
        ]);
    });

    it("a CRD entry's app directory, with the refusals of a release's, naming platform.crds[i], together with the rest", async () => {
        const problems = await refused({ releases: [app("kube-system", "cilium", ["nothing.yaml"])], crds: [app("network", "nothing")] });
        expect(problems).toEqual([
            `cluster-bootstrap:platform.releases[0].apply[0]: ${CILIUM_DIR}/nothing.yaml: not found on branch main of monosense/k8s-ops: ` +
                "neither a file nor a directory with a kustomization.yaml",
            "cluster-bootstrap:platform.crds[0]: kubernetes/apps/network/nothing/app: no kustomization.yaml on branch main of monosense/k8s-ops",
        ]);
        const withValuesFrom = await refused({ releases: [], crds: [ENVOY_GATEWAY] }, {
            [`${ENVOY_GATEWAY.path}/helmrelease.yaml`]: fs.readFileSync(path.join(HOME_OPS, ENVOY_GATEWAY.path, "helmrelease.yaml"), "utf8")
                .replace("  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n      name: x\n  values:\n"),
        });
        expect(withValuesFrom).toEqual([`cluster-bootstrap:platform.crds[0]: ${ENVOY_GATEWAY.path}/helmrelease.yaml: spec.valuesFrom is not supported: ` +
            "bootstrap values come from spec.values only"]);
    });

});

describe("refusals of the CRD entries, where Flux or the charts would fail: the platform registers none of its resources", () => {
    it("a CRD two entries' charts both define, once rendered: none of their CRDs is registered", async () => {
        const copy = "kubernetes/apps/network/envoy-gateway-internal/app";
        const files = Object.fromEntries(["kustomization.yaml", "helmrelease.yaml", "ocirepository.yaml", "podmonitor.yaml"].map((f) => [`${copy}/${f}`,
            fs.readFileSync(path.join(HOME_OPS, ENVOY_GATEWAY.path, f), "utf8").replace("kind: HelmRelease\nmetadata:\n  name: envoy-gateway\n",
                "kind: HelmRelease\nmetadata:\n  name: envoy-gateway-internal\n")]));
        const run = await plan({ releases: [app("kube-system", "cilium")], crds: [ENVOY_GATEWAY, { path: copy, namespace: "network" }] }, { gitopsDir: homeOpsWith(files) });
        expect(String((run.error as Error).message)).toContain("cluster-bootstrap:platform.crds[1]: the chart of " +
            `${copy}/helmrelease.yaml defines the CustomResourceDefinition placeholder:crds/gateway-helm@1.7.0, which the chart of ` +
            "cluster-bootstrap:platform.crds[0] defines too: list one of them");
        // The user's problem, printed by the CLI as its message without the program's stack.
        expect((run.error as { hideStack?: boolean }).hideStack).toBe(true);
        expect(crds(run)).toEqual([]);
        expect(releases(run)).toEqual([]);
    });

    it("a CRD entry whose values use a cluster-secrets key: they go to the chart renderer unmarked", async () => {
        const run = await plan({ releases: [], crds: [ENVOY_GATEWAY] }, {
            gitopsDir: homeOpsWith({
                [`${ENVOY_GATEWAY.path}/helmrelease.yaml`]: fs.readFileSync(path.join(HOME_OPS, ENVOY_GATEWAY.path, "helmrelease.yaml"), "utf8")
                    .replace("  values:\n", "  values:\n    token: ${CLOUDFLARE_TUNNEL_TOKEN}\n"),
            }),
        });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect((run.error as ConfigError).problems).toEqual([`cluster-bootstrap:platform.crds[0]: ${ENVOY_GATEWAY.path}/helmrelease.yaml: uses ` +
            "${CLOUDFLARE_TUNNEL_TOKEN}, a cluster-secrets key: the values of a CRD entry are passed to the chart renderer unmarked, so they may not " +
            "hold a secret (and no chart needs one to define its CustomResourceDefinitions)"]);
        expect(run.invokes.filter((i) => i.token === HELM_TEMPLATE)).toEqual([]);
        // Nothing at all: the names of cluster-secrets are known before the tunnel that gives this one its value.
        expect(run.resources.filter((r) => r.custom)).toEqual([]);
    });
});

describe("without a checkout, and with the release's CRDs rendered by the provider's rules", () => {
    it("plans placeholders for the CRD entries and the apply paths, each saying what it stands for", async () => {
        const run = await runStack({ edit: withPlatform(HOME_OPS_PLATFORM) });
        expect(run.error).toBeUndefined();
        expect(crds(run).map((c) => c.name)).toEqual([
            "platform-crds-network-envoy-gateway/placeholder:crds/app@placeholder:chart-version/kubernetes/apps/network/envoy-gateway/app",
        ]);
        expect(appliedFrom(run, NETWORKING).map((o) => [o.type, plainAt(o, "data.placeholder")]))
            .toEqual([["kubernetes:core/v1:ConfigMap", `placeholder:objects of ${NETWORKING}`]]);
        const dir = await runStack({ edit: withPlatform({ releases: [app("kube-system", "cilium", ["../config"])] }) });
        expect(dir.resources.filter((r) => r.custom && r.name.includes(":kubernetes/apps/kube-system/cilium/config/")).map((o) => plainAt(o, "data.placeholder")))
            .toEqual(["placeholder:objects of kubernetes/apps/kube-system/cilium/config"]);
    });

    it("says in its note that they are placeholders", () => {
        const config = { "cluster-bootstrap:platform": JSON.stringify(HOME_OPS_PLATFORM), "cluster-bootstrap:gitops": JSON.stringify({ repository: "onedr0p/home-ops" }) };
        expect(placeholderNote(config, undefined)).toBe("note: no --gitops-dir: the 6 platform releases' charts, versions and values, the 1 CRD " +
            "entry's chart, the objects of 2 apply paths are placeholders (pass --gitops-dir with a checkout of onedr0p/home-ops to read them)");
    });

    it("the fake helm template takes and refuses what the provider does", () => {
        expect(() => helmTemplate({})).toThrow("missing required field 'jsonOpts' of type string");
        expect(() => helmTemplate({ jsonOpts: "{" })).toThrow(/failed to unmarshal 'jsonOpts'/);
        // json.Unmarshal into HelmChartOpts refuses a field of another type than its Go field's, and ignores unknown keys.
        const opts = (o: unknown) => () => helmTemplate({ jsonOpts: JSON.stringify(o) });
        expect(opts({ chart: "spegel", version: 1 })).toThrow(
            "failed to unmarshal 'jsonOpts': json: cannot unmarshal number into Go struct field HelmChartOpts.version of type string");
        expect(opts({ chart: "spegel", values: [] })).toThrow("cannot unmarshal array into Go struct field HelmChartOpts.values of type map[string]interface {}");
        expect(opts({ chart: "spegel", fetch_opts: "https://127.0.0.1:8443/charts" })).toThrow("Go struct field HelmChartOpts.fetch_opts of type provider.HelmFetchOpts");
        expect(opts({ chart: "spegel", fetch_opts: { repo: ["https://127.0.0.1:8443/charts"] } })).toThrow("Go struct field HelmChartOpts.fetch_opts.repo of type string");
        expect(opts(["spegel"])).toThrow("cannot unmarshal array into Go value of type provider.HelmChartOpts");
        expect(opts(null)).toThrow("failed to pull chart: no chart given");
        expect(opts({ chart: "spegel", releaseName: 1, fetchOpts: 2 })).not.toThrow();
        expect(() => helmTemplate({ jsonOpts: JSON.stringify({ chart: "spegel", repo: "https://127.0.0.1:8443/charts" }) }))
            .toThrow("'repo' option specifies the name of the Helm Chart repo, not the URL");
        const out = helmTemplate({ jsonOpts: JSON.stringify({ chart: "spegel", version: "0.4.0", fetch_opts: { repo: "https://127.0.0.1:8443/charts" }, namespace: "kube-system" }) });
        expect((out.result as Array<{ kind: string; metadata: { name: string } }>).map((o) => `${o.kind} ${o.metadata.name}`))
            .toEqual(["CustomResourceDefinition placeholder:crds/spegel@0.4.0", "ServiceAccount placeholder:not-a-crd/spegel@0.4.0"]);
    });
});

describe("what Flux has taken over", () => {
    it("a release's objects are not registered when it is taken over; the next release then waits for the CRDs", async () => {
        const uid = "5c0d3f8a-2e47-4b1c-9a6d-8f3e2b1c0d7a";
        const run = await plan(HOME_OPS_PLATFORM, {
            clusterState: [
                { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", uid } },
                {
                    apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name: "cilium", namespace: "kube-system", generation: 1 },
                    status: { conditions: [{ type: "Ready", status: "True", reason: "UpgradeSucceeded", observedGeneration: 1 }] },
                },
            ],
        });
        expect(run.error).toBeUndefined();
        expect(release(run, "cilium")).toBeUndefined();
        expect(appliedFrom(run, NETWORKING)).toEqual([]);
        expect(release(run, "coredns").options.dependsOn).toEqual(urns(crds(run)));
        for (const r of [...crds(run), ...appliedFrom(run, STORE)]) expect(r.options.replacementTrigger, r.name).toBe(uid);
        expect(run.handedOver).toEqual([{ kind: "HelmRelease", namespace: "kube-system", name: "cilium", evidence: "HelmRelease Ready" }]);
    });
});
