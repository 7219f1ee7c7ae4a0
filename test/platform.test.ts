// Platform releases end to end: config rules, the app directories read through the program's GitHub reader (served
// from the fixture checkout, as `--gitops-dir` does), the order and options of the releases, what they depend on, and
// the offline plan with and without a checkout.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { installOptions, strictSubstitution } from "../components/platform";
import { ConfigError, validateConfig } from "../config";
import { criticalPath } from "../offline/graph";
import { fileFromDir, offlineRepositoryReader, placeholderFile, placeholderNote } from "../offline/gitops";
import { ROOT } from "../config/keys";
import { isWireSecret, plainAt, redact, reveal, runStack, validValues, waitsFor, type StackRun, type Values } from "./harness";
import { runPlan } from "./plan-command";
import { app, FIXTURES } from "./gitops-fixtures";
import { RELEASE } from "./resource-types";

const FIXTURE = FIXTURES.gitops;
const CILIUM = app("kube-system", "cilium");
const COREDNS = app("kube-system", "coredns");
const SPEGEL = app("kube-system", "spegel");
const CLOUDFLARED = app("network", "cloudflared");

function withPlatform(releases: unknown[], extra: (v: Values) => Values = (v) => v) {
    return (v: Values) => extra({ ...v, platform: { releases }, cluster: { ...(v.cluster as object), cidr: "10.42.0.0/16" } });
}

const platformReleases = (run: StackRun) => run.ofType(RELEASE).filter((r) => r.parent.endsWith("PlatformReleases::platform"));
const operator = (run: StackRun) => run.one(RELEASE, "flux-operator");


describe("cluster-bootstrap:platform in the stack config", () => {
    const base = validValues;
    const check = (platform: unknown) => validateConfig({ values: { ...base(), platform } });

    it("is optional, and normalises the paths", async () => {
        expect((await validateConfig({ values: base() })).config?.platform).toEqual({ releases: [], crds: [] });
        const r = await check({ releases: [{ path: "./kubernetes/apps/kube-system/cilium/app/", namespace: "kube-system" }] });
        expect(r.problems).toEqual([]);
        expect(r.config?.platform.releases).toEqual([{ ...CILIUM, apply: [] }]);
    });

    it("checks each path like gitops.path, on a single line, and each namespace as a DNS label, naming the field", async () => {
        const r = await check({
            releases: [
                { path: "../outside", namespace: "kube-system" },
                { path: "a/b\nc", namespace: "Kube_System" },
                { path: "/abs", namespace: "kube-system" },
            ],
        });
        expect(r.problems).toEqual([
            'cluster-bootstrap:platform.releases[0].path: "../outside" must not contain ".." (it could leave the repository)',
            "cluster-bootstrap:platform.releases[1].path: contains the control character \\n (a line break): a URL, hostname or path must be one line of printable characters; the value is not shown",
            'cluster-bootstrap:platform.releases[1].namespace: "Kube_System" is not a Kubernetes namespace name (a DNS label)',
            'cluster-bootstrap:platform.releases[2].path: "/abs" must be a relative path with forward slashes',
        ]);
    });

    it("refuses the same app directory twice and unknown keys", async () => {
        const r = await check({ releases: [CILIUM, { path: `./${CILIUM.path}/`, namespace: "kube-system", chart: "x" }], extra: true });
        expect(r.problems).toEqual([
            "cluster-bootstrap:platform.releases[1].chart: is not a known setting",
            "cluster-bootstrap:platform.extra: is not a known setting",
            `cluster-bootstrap:platform.releases[1].path: "./${CILIUM.path}/" repeats cluster-bootstrap:platform.releases[0].path`,
        ]);
        expect((await check({})).problems).toEqual(["cluster-bootstrap:platform.releases: is required"]);
    });
});

describe("platform releases from the GitOps repository", () => {
    it("are installed strictly in list order, and the Flux Operator waits for the last one", async () => {
        const run = await runStack({ edit: withPlatform([CILIUM, COREDNS, SPEGEL]), gitopsDir: FIXTURE });
        expect(run.error).toBeUndefined();
        const releases = platformReleases(run);
        expect(releases.map((r) => plainAt(r, "name"))).toEqual(["cilium", "coredns", "spegel"]);
        expect(releases[0].options.dependsOn).toEqual([]);
        expect(releases[1].options.dependsOn).toEqual([releases[0].urn]);
        expect(releases[2].options.dependsOn).toEqual([releases[1].urn]);
        expect(operator(run).options.dependsOn).toEqual([releases[2].urn]);
        // The FluxInstance (and so every Flux object) comes after the operator, as before.
        expect(run.one("kubernetes:fluxcd.controlplane.io/v1:FluxInstance").dependencies).toContain(operator(run).urn);
    });

    it("are named in the platformReleases output by their HelmReleases (namespace/name), for `npm run verify`", async () => {
        const run = await runStack({ edit: withPlatform([CILIUM, COREDNS, SPEGEL]), gitopsDir: FIXTURE });
        expect(run.plainOutputs().platformReleases).toEqual(["kube-system/cilium", "kube-system/coredns", "kube-system/spegel"]);
        expect((await runStack({ gitopsDir: FIXTURE, edit: (v) => ({ ...v, platform: undefined }) })).plainOutputs().platformReleases).toEqual([]);
    });

    it("install the chart, version and values of the app directory, substituted with this stack's cluster-vars", async () => {
        const run = await runStack({ edit: withPlatform([CILIUM, SPEGEL]), gitopsDir: FIXTURE });
        const [cilium, spegel] = platformReleases(run);
        expect(reveal(cilium.inputs)).toMatchObject({
            name: "cilium", namespace: "kube-system", chart: "oci://127.0.0.1:5000/cilium/charts/cilium", version: "1.18.4",
        });
        expect(plainAt(cilium, "values.cluster")).toEqual({ name: "infra", id: 1 });
        expect(plainAt(cilium, "values.ipv4NativeRoutingCIDR")).toBe("10.42.0.0/16");
        expect(plainAt(cilium, "values.ipam.operator.clusterPoolIPv4PodCIDRList")).toEqual(["10.42.0.0/16"]);
        expect(reveal(spegel.inputs)).toMatchObject({ chart: "spegel", version: "0.4.0", repositoryOpts: { repo: "https://127.0.0.1:8443/spegel-org/charts" } });
        expect(cilium.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
    });

    it("are retained on delete and diffed like any resource until Flux takes them over: no input is ignored", async () => {
        const run = await runStack({ edit: withPlatform([CILIUM, SPEGEL]), gitopsDir: FIXTURE });
        for (const r of platformReleases(run)) {
            expect(r.options.retainOnDelete, r.name).toBe(true);
            // Before the takeover the repository's current files are the truth: a changed value is an update.
            expect(r.options.ignoreChanges, r.name).toEqual([]);
        }
    });

    it("are tied to the cluster they run on: a rebuilt cluster (another kube-system uid) replaces, so installs, each of them", async () => {
        const on = (uid: string) => runStack({
            edit: withPlatform([CILIUM, SPEGEL]), gitopsDir: FIXTURE,
            clusterState: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", uid } }],
        });
        const [lost, again, rebuilt] = [await on("uid-of-the-lost-cluster"), await on("uid-of-the-lost-cluster"), await on("uid-of-the-new-cluster")];
        // The engine replaces a resource whose trigger changed (pulumi/pulumi shouldTriggerReplace): create, then a
        // delete that retainOnDelete turns into dropping the old release from the state.
        expect(platformReleases(lost).map((r) => r.options.replacementTrigger)).toEqual(["uid-of-the-lost-cluster", "uid-of-the-lost-cluster"]);
        expect(platformReleases(again).map((r) => r.options.replacementTrigger)).toEqual(["uid-of-the-lost-cluster", "uid-of-the-lost-cluster"]);
        expect(platformReleases(rebuilt).map((r) => r.options.replacementTrigger)).toEqual(["uid-of-the-new-cluster", "uid-of-the-new-cluster"]);
        // Nothing else is tied to it.
        expect(rebuilt.resources.filter((r) => r.options.replacementTrigger === "uid-of-the-new-cluster").map((r) => r.type))
            .toEqual([RELEASE, RELEASE]);
    });
    it("depend only on the variables they use: a release of cluster values waits for nothing of Cloudflare", async () => {
        const run = await runStack({ edit: withPlatform([CILIUM, CLOUDFLARED]), gitopsDir: FIXTURE });
        expect(run.error).toBeUndefined();
        const [cilium, cloudflared] = platformReleases(run);
        expect(cilium.dependencies).toEqual([]);
        const tunnel = run.one("cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared");
        expect(waitsFor(run, cloudflared)).toContain(tunnel.urn);
        expect([...waitsFor(run, cilium)].some((u) => u.includes("cloudflare:"))).toBe(false);
        expect(plainAt(cloudflared, "values.controllers.cloudflared.containers.app.args")).toEqual(["tunnel", "run", "placeholder:ZeroTrustTunnelCloudflared/edge-tunnel/id"]);
    });

    it("keep values that use cluster-secrets secret, and only those", async () => {
        const run = await runStack({ edit: withPlatform([CILIUM, CLOUDFLARED]), gitopsDir: FIXTURE });
        const [cilium, cloudflared] = platformReleases(run);
        expect(isWireSecret(cloudflared.inputs.values)).toBe(true);
        const token = plainAt(cloudflared, "values.controllers.cloudflared.containers.app.env.TUNNEL_TOKEN") as string;
        expect(token).toMatch(/^placeholder:tunnel-token\//);
        expect(JSON.stringify(run.resources.map((r) => redact(r.inputs)))).not.toContain(token);
        expect(isWireSecret(cilium.inputs.values)).toBe(false);
    });

    it("nothing else waits for them but the Flux Operator: not flux-system, the contract, Cloudflare or GitHub", async () => {
        const run = await runStack({ edit: withPlatform([CILIUM, COREDNS, SPEGEL]), gitopsDir: FIXTURE });
        const releases = platformReleases(run);
        const urns = new Set(releases.map((r) => r.urn));
        // Directly, only the next release and the operator.
        const direct = run.resources.filter((r) => r.dependencies.some((d) => urns.has(d))).map((r) => r.urn);
        expect(direct.sort()).toEqual([releases[1].urn, releases[2].urn, operator(run).urn].sort());
        // What waits for Flux itself (the webhook waits for the Receiver) waits through the operator, and only so.
        const independent = run.resources.filter((r) => r.custom && (r.type.startsWith("cloudflare:") || r.type.startsWith("github:")
            || ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"].includes(r.type)));
        expect(independent.length).toBeGreaterThan(8);
        const viaOperator = new Set([operator(run).urn]);
        for (const r of independent) expect([...waitsFor(run, r, viaOperator)].filter((u) => urns.has(u)), r.name).toEqual([]);
        for (const type of ["kubernetes:core/v1:Namespace", "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"]) {
            for (const r of run.ofType(type)) expect(waitsFor(run, r).has(operator(run).urn), r.name).toBe(false);
        }
    });

    it("lengthen the critical path by at most the number of releases", async () => {
        const without = criticalPath((await runStack({ gitopsDir: FIXTURE, edit: (v) => ({ ...v, platform: undefined }) })).resources);
        for (const list of [[CILIUM], [CILIUM, COREDNS], [CILIUM, COREDNS, SPEGEL]]) {
            const run = await runStack({ edit: withPlatform(list), gitopsDir: FIXTURE });
            const chain = criticalPath(run.resources);
            expect(chain.length, chain.join("\n")).toBeLessThanOrEqual(without.length + list.length);
            // The same Flux objects end the chain as without releases.
            expect(chain.slice(-4)).toEqual(without.slice(-4));
        }
        // With several releases the chain runs through each of them, in order, to the operator.
        const run = await runStack({ edit: withPlatform([CILIUM, COREDNS, SPEGEL]), gitopsDir: FIXTURE });
        const chain = criticalPath(run.resources);
        expect(chain.slice(1, 5)).toEqual([...platformReleases(run).map((r) => r.urn), operator(run).urn]);
    });
});

describe("how Helm installs a platform release (the helmfile options of home-ops and cluster-template)", () => {
    const releases = async () => platformReleases(await runStack({ edit: withPlatform([CILIUM, COREDNS, SPEGEL]), gitopsDir: FIXTURE }));

    it("waits for the release's Jobs to complete before the next release starts (waitForJobs)", async () => {
        for (const r of await releases()) expect(plainAt(r, "waitForJobs"), r.name).toBe(true);
    });

    it("deletes what a failed upgrade created (cleanupOnFail)", async () => {
        for (const r of await releases()) expect(plainAt(r, "cleanupOnFail"), r.name).toBe(true);
    });

    it("uninstalls a failed install, so the next run installs it afresh (atomic), except the repository's own Flux", async () => {
        for (const r of await releases()) expect(plainAt(r, "atomic"), r.name).toBe(true);
        // Installed over a running Flux in the migrations: uninstalling them would delete the FluxInstance.
        expect(installOptions({ chart: "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-instance" }).atomic).toBe(false);
        expect(installOptions({ chart: "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator" }).atomic).toBe(false);
        expect(installOptions({ chart: "spegel" })).toEqual({ atomic: true, cleanupOnFail: true, waitForJobs: true });
    });
});

describe("problems in the app directories are config errors, before anything is registered", () => {
    const failing = async (releases: unknown[], extra?: (v: Values) => Values, gitopsDir = FIXTURE) => {
        const run = await runStack({ edit: withPlatform(releases, extra), gitopsDir });
        expect(run.error).toBeInstanceOf(ConfigError);
        // Nothing at all: the files are read through the program's own GitHub reader, before any provider.
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.type)).toEqual([]);
        return (run.error as ConfigError).problems;
    };

    it("names the entry and the file: a missing directory, a missing file, a duplicate release", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-"));
        fs.cpSync(FIXTURE, dir, { recursive: true });
        fs.rmSync(path.join(dir, SPEGEL.path, "helmrepository.yaml"));
        fs.mkdirSync(path.join(dir, "kubernetes/apps/kube-system/cilium-copy/app"), { recursive: true });
        fs.cpSync(path.join(dir, CILIUM.path), path.join(dir, "kubernetes/apps/kube-system/cilium-copy/app"), { recursive: true });
        expect(await failing([CILIUM, app("kube-system", "nothing"), SPEGEL, app("kube-system", "cilium-copy")], undefined, dir)).toEqual([
            "cluster-bootstrap:platform.releases[1]: kubernetes/apps/kube-system/nothing/app: no kustomization.yaml on branch main of monosense/k8s-ops",
            "cluster-bootstrap:platform.releases[2]: kubernetes/apps/kube-system/spegel/app/helmrepository.yaml: not found on branch main of monosense/k8s-ops " +
                "(kubernetes/apps/kube-system/spegel/app/kustomization.yaml lists it)",
            "cluster-bootstrap:platform.releases[3]: release kube-system/cilium (kubernetes/apps/kube-system/cilium-copy/app/helmrelease.yaml) repeats cluster-bootstrap:platform.releases[0]",
        ]);
    });

    it("reads the stack's branch of its repository", async () => {
        const problems = await failing([app("kube-system", "nothing")], (v) => ({ ...v, gitops: { ...(v.gitops as object), branch: "release" } }));
        expect(problems).toEqual(["cluster-bootstrap:platform.releases[0]: kubernetes/apps/kube-system/nothing/app: no kustomization.yaml on branch release of monosense/k8s-ops"]);
    });

    it("an unset variable fails with Flux 2.9's strict substitution, naming the entry", async () => {
        expect(strictSubstitution("2.7.x")).toBe(false);
        expect(strictSubstitution("2.9.x")).toBe(true);
        expect(strictSubstitution(">=2.8.0")).toBe(true);
        const run = await runStack({
            gitopsDir: FIXTURE,
            // A cluster without cluster.cidr: its cluster-vars has no CLUSTER_CIDR, which the cilium fixture substitutes.
            edit: (v) => ({ ...v, cluster: { ...(v.cluster as object), cidr: undefined }, platform: { releases: [CILIUM] }, flux: { ...(v.flux as object), version: "2.9.x" } }),
        });
        // Refused before anything is registered, the tunnel, buckets and tokens included: the names are known from the config.
        expect(run.error).toBeInstanceOf(ConfigError);
        expect((run.error as ConfigError).problems).toEqual(['cluster-bootstrap:platform.releases[0]: kubernetes/apps/kube-system/cilium/app/helmrelease.yaml: ' +
            'envsubst error: variable substitution failed: variable not set (strict mode): "CLUSTER_CIDR": the stack\'s cluster-vars and cluster-secrets do not define it']);
        expect(run.resources.filter((r) => r.custom)).toEqual([]);
    });
});

describe("the GitOps files, served offline as the program's GitHub reader serves them", () => {
    const files = (dir?: string) => offlineRepositoryReader(dir)({ repository: "monosense/k8s-ops", branch: "main" });

    it("answers a file with its text", async () => {
        const file = `${CILIUM.path}/kustomization.yaml`;
        expect(await files(FIXTURE).file(file)).toBe(fs.readFileSync(path.join(FIXTURE, file), "utf8"));
    });

    it("answers a missing file and a directory with nothing, as the reader does (GitHub's 404, and a directory's JSON listing)", async () => {
        expect(await files(FIXTURE).file("kubernetes/nothing.yaml")).toBeUndefined();
        expect(await files(FIXTURE).file(CILIUM.path)).toBeUndefined();
    });

    it("refuses a path that leaves the checkout, also through a symbolic link", async () => {
        expect(() => fileFromDir(FIXTURE, "../../package.json")).toThrow(/refused to read "..\/..\/package.json": it is outside --gitops-dir/);
        expect(() => fileFromDir(FIXTURE, "/etc/hostname")).toThrow(/refused/);
        await expect(files(FIXTURE).file("../../package.json")).rejects.toThrow(/outside --gitops-dir/);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-"));
        fs.symlinkSync(path.join(ROOT, "package.json"), path.join(dir, "link.yaml"));
        expect(() => fileFromDir(dir, "link.yaml")).toThrow(/links outside --gitops-dir/);
    });

    it("without a checkout, shows a placeholder app directory, and the plan says so in one note", async () => {
        expect(placeholderFile(`${CILIUM.path}/helmrelease.yaml`)).toContain("name: cilium");
        expect(placeholderFile(`${CILIUM.path}/other.yaml`)).toBeUndefined();
        expect(await files().file(`${CILIUM.path}/ocirepository.yaml`)).toContain(`oci://placeholder/${CILIUM.path}`);
        const config = { "cluster-bootstrap:platform": JSON.stringify({ releases: [CILIUM] }), "cluster-bootstrap:gitops": JSON.stringify({ repository: "monosense/k8s-ops" }) };
        expect(placeholderNote(config, undefined)).toMatch(/^note: no --gitops-dir: the 1 platform release's charts, versions and values are placeholders .*monosense\/k8s-ops/);
        expect(placeholderNote(config, FIXTURE)).toBeUndefined();
        expect(placeholderNote({}, undefined)).toBeUndefined();
    });
});

describe("npm run plan with platform releases", () => {
    const plan = (...a: string[]) => runPlan(a);
    const stackFile = (releases: unknown[]) => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), "Pulumi.test.yaml");
        const settings = fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8").replace(/\n {2}cluster-bootstrap:platform:[\s\S]*?(?=\n {2}\S|\n?$)/, "");
        fs.writeFileSync(file, `${settings.trimEnd()}\n  cluster-bootstrap:platform: ${JSON.stringify({ releases })}\n`);
        return file;
    };

    it("reads the releases from --gitops-dir, with no note", async () => {
        const r = await plan("infra", "--json", "--config", stackFile([CILIUM, COREDNS, SPEGEL]), "--gitops-dir", FIXTURE);
        expect(r.stderr).not.toContain("--gitops-dir");
        expect(r.status).toBe(0);
        const releases = JSON.parse(r.stdout).resources.filter((x: { type: string; parent: string }) => x.type === RELEASE && x.parent.includes("PlatformReleases"));
        expect(releases.map((x: { inputs: { chart: string } }) => x.inputs.chart)).toEqual([
            "oci://127.0.0.1:5000/cilium/charts/cilium", "oci://127.0.0.1:5000/coredns/charts/coredns", "spegel",
        ]);
    });

    it("shows placeholders without --gitops-dir and says so in one line on stderr", async () => {
        const r = await plan("infra", "--json", "--config", stackFile([CILIUM, COREDNS]));
        expect(r.status).toBe(0);
        expect(r.stderr.split("\n").filter((l) => l.includes("--gitops-dir"))).toEqual([
            "note: no --gitops-dir: the 2 platform releases' charts, versions and values are placeholders (pass --gitops-dir with a checkout of monosense/k8s-ops to read them)",
        ]);
        expect(r.stdout).toContain("oci://placeholder/kubernetes/apps/kube-system/cilium/app");
    });

    it("exits 1 naming the entry when a directory is missing from the checkout, and 2 when the checkout is not a directory", async () => {
        const missing = await plan("infra", "--config", stackFile([app("kube-system", "nothing")]), "--gitops-dir", FIXTURE);
        expect(missing.status).toBe(1);
        expect(missing.stdout).toBe("");
        expect(missing.stderr).toContain("cluster-bootstrap:platform.releases[0]: kubernetes/apps/kube-system/nothing/app: no kustomization.yaml");
        expect((await plan("infra", "--gitops-dir", path.join(FIXTURE, "nothing"))).status).toBe(2);
        expect((await plan("infra", "--gitops-dir")).status).toBe(2);
    });
});
