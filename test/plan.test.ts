import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readStackSettings, redact, toPlanJson, type OfflineRun } from "../offline/runtime";
import { ROOT } from "../config/keys";
import { runPlan } from "./plan-command";
import { ResourceError } from "@pulumi/pulumi";
import { ClusterIdentityError } from "../cluster/identity";
import { ConfigError } from "../config/validate";
import { STACK_REFERENCE } from "../offline/fakes";
import { planCommand, renderTree } from "../scripts/plan";
import { TEST_AGE_KEY, TEST_AGE_RECIPIENT, testKubeconfig } from "./harness";
import { FIXTURES } from "./gitops-fixtures";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = (value: unknown) => ({ [SIG]: "1b47061264138c4ac30d75fd1eb44270", value });

/** The plan as a process: for what only a process shows (the environment it starts with). */
function planProcess(env: NodeJS.ProcessEnv, ...args: string[]) {
    return spawnSync(process.execPath, ["--import", "./scripts/register.mjs", "scripts/plan.ts", ...args], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "", ...env },
    });
}

const plan = (...args: string[]) => runPlan(args);

function stackFile(edit: (yaml: string) => string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
    const file = path.join(dir, "Pulumi.test.yaml");
    fs.writeFileSync(file, edit(fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8")));
    return file;
}

describe("redaction", () => {
    it("prints every secret at any depth as [secret]", () => {
        expect(redact({ a: SECRET("x"), b: [1, { c: SECRET({ d: "y" }) }], e: { f: { g: SECRET(["z"]) } } })).toEqual({
            a: "[secret]", b: [1, { c: "[secret]" }], e: { f: { g: "[secret]" } },
        });
    });
});

describe("plan JSON", () => {
    it("redacts secret arguments of data-source reads and sorts the reads", () => {
        const plan = toPlanJson({
            project: "p", stack: "s", resources: [], outputs: {}, componentOutputs: {}, notes: [], handedOver: [], reads: [],
            invokes: [
                { token: "b:index/x:x", args: { token: SECRET("hunter2-secret"), nested: { k: SECRET(["v"]) } }, provider: "" },
                { token: "a:index/y:y", args: { name: "plain" }, provider: "" },
            ],
        });
        expect(plan.invokes).toEqual([
            { token: "a:index/y:y", args: { name: "plain" } },
            { token: "b:index/x:x", args: { nested: { k: "[secret]" }, token: "[secret]" } },
        ]);
        expect(JSON.stringify(plan)).not.toContain("hunter2");
    });
});

describe("plan JSON options", () => {
    const resource = (name: string, options: Partial<OfflineRun["resources"][number]["options"]> = {}) => ({
        urn: `urn:pulumi:s::p::t::${name}`, type: "t", name, custom: true, parent: "", provider: "", id: "", inputs: {}, dependencies: [],
        options: { protect: false, retainOnDelete: false, dependsOn: [], deletedWith: "", ignoreChanges: [], additionalSecretOutputs: [], deleteBeforeReplace: false, ...options },
        outputs: {},
    });

    it("shows a replacement trigger after the other options, only on resources that have one, secrets redacted", async () => {
        const plan = toPlanJson({
            project: "p", stack: "s", outputs: {}, componentOutputs: {}, notes: [], handedOver: [], reads: [], invokes: [],
            resources: [
                resource("a", { replacementTrigger: "2026-12" }),
                resource("b"),
                resource("c", { replacementTrigger: { rotation: "", readOnly: true } }),
                resource("d", { replacementTrigger: SECRET("hunter2-trigger") }),
                resource("e", { replacementTrigger: "" }),
            ],
        });
        const options = Object.fromEntries(plan.resources.map((r) => [r.name, r.options]));
        expect(Object.keys(options.a)).toEqual(["protect", "retainOnDelete", "dependsOn", "deletedWith", "ignoreChanges", "additionalSecretOutputs", "replacementTrigger"]);
        expect(options.a.replacementTrigger).toBe("2026-12");
        expect("replacementTrigger" in options.b).toBe(false);
        expect(options.c.replacementTrigger).toEqual({ readOnly: true, rotation: "" });
        expect(options.d.replacementTrigger).toBe("[secret]");
        // The unrotated trigger is shown as it is: a value, which the engine compares; absent would mean no trigger.
        expect(options.e.replacementTrigger).toBe("");
        expect(JSON.stringify(plan)).not.toContain("hunter2");
    });
});

describe("stack settings files", () => {
    it("turns secure values and missing required secrets into secret placeholders", async () => {
        const file = stackFile((y) => `${y}  cluster-bootstrap:kubeconfig:\n    secure: v1:AAAABBBB\n`);
        const s = readStackSettings(file);
        expect(s.placeholders).toEqual(["cluster-bootstrap:kubeconfig", "cluster-bootstrap:sopsAgeKey"]);
        expect(s.secretKeys).toEqual(["cluster-bootstrap:kubeconfig", "cluster-bootstrap:sopsAgeKey"]);
        expect(s.config["cluster-bootstrap:kubeconfig"]).not.toContain("AAAABBBB");
    });
});

describe("how the plan prints an error of the program", () => {
    // The program's own errors, from a runtime that returns them: the command prints them as the Pulumi CLI does.
    const printed = async (error: Error) => {
        let stderr = "";
        const status = await planCommand(["infra"], { out: () => undefined, err: (t) => { stderr += t; }, env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "" } },
            () => ({ runOffline: async () => ({ error, notes: [] }) as unknown as OfflineRun, toPlanJson, STACK_REFERENCE, ConfigError, ClusterIdentityError, ResourceError }));
        return { status, stderr };
    };

    it("a component's error about the user's files (hideStack) as its message alone; any other with its stack", async () => {
        const message = "cluster-bootstrap:platform.crds[1]: the chart of a/helmrelease.yaml defines the CustomResourceDefinition x, which the chart "
            + "of cluster-bootstrap:platform.crds[0] defines too: list one of them";
        const user = await printed(new ResourceError(message, undefined, true));
        expect(user.status).toBe(1);
        // After the notes (no --gitops-dir here): the message, and nothing else.
        expect(user.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("note: "))).toEqual([message]);
        const bug = await printed(new ResourceError("GitOpsHandoff takes exactly one of fluxReady and repositorySync", undefined));
        expect(bug.status).toBe(1);
        expect(bug.stderr).toMatch(/^Error: GitOpsHandoff takes exactly one of fluxReady and repositorySync\n\s+at /m);
    });
});

describe("npm run plan", () => {
    it("prints JSON of the documented shape, the same bytes every time", async () => {
        const a = await plan("infra", "--json");
        const b = await plan("infra", "--json");
        expect(a.status).toBe(0);
        expect(a.stdout).toBe(b.stdout);
        const json = JSON.parse(a.stdout);
        expect(Object.keys(json)).toEqual(["project", "stack", "resources", "invokes", "handedOver", "outputs"]);
        // An empty cluster (no --cluster-state): nothing taken over by Flux.
        expect(json.handedOver).toEqual([]);
        expect(json).toMatchObject({ project: "cluster-bootstrap", stack: "infra" });
        const optionKeys = ["protect", "retainOnDelete", "dependsOn", "deletedWith", "ignoreChanges", "additionalSecretOutputs"];
        for (const r of json.resources) {
            expect(Object.keys(r)).toEqual(["urn", "type", "name", "custom", "parent", "provider", "inputs", "dependencies", "options"]);
            // A replacement trigger only where there is one: the credentials, so a reviewer sees what a change rotates,
            // and the platform releases, tied to the cluster they run on (its kube-system uid).
            expect(Object.keys(r.options)).toEqual("replacementTrigger" in r.options ? [...optionKeys, "replacementTrigger"] : optionKeys);
        }
        const triggered = json.resources.filter((r: { options: object }) => "replacementTrigger" in r.options);
        expect(triggered.map((r: { name: string; options: { replacementTrigger: unknown } }) => [r.name, r.options.replacementTrigger])).toEqual([
            ["backups-token", ""],
            ["dns-token", ""],
            ["edge-tunnel-secret", ""],
            ["gitops-key", { readOnly: true, repository: "monosense/k8s-ops", rotation: "", title: "flux-infra" }],
            ["platform-kube-system-cilium", "placeholder:kube-system-uid"],
            ["platform-kube-system-coredns", "placeholder:kube-system-uid"],
            ["platform-kube-system-spegel", "placeholder:kube-system-uid"],
            ["push-reconcile-token", ""],
        ]);
        expect(a.stderr).toContain("cluster-bootstrap:sopsAgeKey is an offline placeholder");
        for (const i of json.invokes) expect(Object.keys(i)).toEqual(["token", "args"]);
    });

    it("lists every data-source read with the arguments it sends, in a stable order", async () => {
        const json = JSON.parse((await plan("infra", "--json")).stdout) as { invokes: Array<{ token: string; args: Record<string, unknown> }> };
        const keys = json.invokes.map((i) => `${i.token}\0${JSON.stringify(i.args)}`);
        expect(keys).toEqual([...keys].sort());
        const groups = json.invokes.filter((i) => i.token.endsWith("getAccountApiTokenPermissionGroupsList"));
        // The plain names: the provider's HTTP client encodes the query itself.
        expect(groups.map((i) => i.args)).toEqual([
            { accountId: "eca0833f608b5745af030307a99bdbb4", name: "DNS Write", scope: "com.cloudflare.api.account.zone" },
            { accountId: "eca0833f608b5745af030307a99bdbb4", name: "Workers R2 Storage Bucket Item Read" },
            { accountId: "eca0833f608b5745af030307a99bdbb4", name: "Workers R2 Storage Bucket Item Write" },
            { accountId: "eca0833f608b5745af030307a99bdbb4", name: "Zone Read", scope: "com.cloudflare.api.account.zone" },
        ]);
        expect(json.invokes.map((i) => i.token)).toEqual(expect.arrayContaining([
            "cloudflare:index/getZone:getZone",
            "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken",
            "github:index/getSshKeys:getSshKeys",
        ]));
    });

    it("prints the same bytes whatever the machine's KUBECONFIG and PULUMI_K8S_* settings", async () => {
        // The Kubernetes provider SDK copies these into its inputs when the program leaves a setting unset.
        const bare = planProcess({ KUBECONFIG: "", PULUMI_K8S_DELETE_UNREACHABLE: "" }, "infra", "--json");
        const dressed = planProcess({ KUBECONFIG: "/home/someone/.kube/config", PULUMI_K8S_DELETE_UNREACHABLE: "true" }, "infra", "--json");
        expect(bare.status).toBe(0);
        expect(dressed.stdout).toBe(bare.stdout);
        expect(dressed.stdout).not.toContain("/home/someone");
    });

    it("prints a readable tree without --json", async () => {
        const r = await plan("apps");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/^Plan for cluster-bootstrap\/apps: \d+ resources\n/);
        expect(r.stdout).toContain("+ pulumi:pulumi:Stack  cluster-bootstrap-apps");
    });

    it("says how many inputs the readable tree leaves out of a resource, so a cut list never reads as the whole", async () => {
        const resource = (name: string, inputs: Record<string, unknown>) => ({
            urn: `urn:pulumi:s::p::t::${name}`, type: "t", name, custom: true, parent: "", provider: "", inputs, dependencies: [],
            options: { protect: false, retainOnDelete: false, dependsOn: [], deletedWith: "", ignoreChanges: [], additionalSecretOutputs: [] },
        });
        const inputs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${String(i).padStart(2, "0")}`, i]));
        const tree = renderTree({
            project: "p", stack: "s", invokes: [], handedOver: [], outputs: {},
            resources: [resource("twelve", inputs(12)), resource("thirteen", inputs(13)), resource("rules", { ingresses: [{ hostname: "a", service: "x" }, { hostname: "b", service: "y" }, { service: "z" }, ...Array.from({ length: 8 }, () => ({ service: "w" }))] })],
        }).split("\n");
        // The input lines under a resource: those after its own line, up to the next resource's.
        const under = (name: string) => {
            const rest = tree.slice(tree.findIndex((l) => l.endsWith(`  ${name}`)) + 1);
            const end = rest.findIndex((l) => !l.startsWith("    "));
            return rest.slice(0, end === -1 ? rest.length : end);
        };
        expect(under("twelve")).toHaveLength(12);
        expect(under("twelve").join("\n")).not.toContain("more input");
        expect(under("thirteen")).toEqual([...Array.from({ length: 12 }, (_, i) => `    k${String(i).padStart(2, "0")}: ${i}`), "    … 1 more input (--json prints every one)"]);
        expect(under("rules").at(-1)).toBe("    … 1 more input (--json prints every one)");
        // The committed infra stack's tunnel rules run past the cut: the tree says so under the tunnel's config.
        const infra = (await plan("infra")).stdout.split("\n");
        const config = infra.findIndex((l) => l.endsWith("  edge-tunnel-config"));
        expect(infra.slice(config + 1, config + 14).at(-1)).toMatch(/^ {8}… \d+ more inputs \(--json prints every one\)$/);
    });

    it("never prints a secret given in plain text, and checks it", async () => {
        const kubeconfig = `${testKubeconfig()}# KUBECONFIG-SENTINEL-4711\n`;
        const file = stackFile((y) => y.replace(/age1\w+/, TEST_AGE_RECIPIENT)
            + `  cluster-bootstrap:sopsAgeKey: ${TEST_AGE_KEY}\n  cluster-bootstrap:kubeconfig: ${JSON.stringify(kubeconfig)}\n`);
        // The fixture checkout serves the platform releases' files: no placeholder, so no note but the cluster the run
        // targets, read from the kubeconfig.
        const r = await plan("infra", "--json", "--config", file, "--gitops-dir", FIXTURES.gitops);
        expect(r.stderr).toBe('note: stack infra changes cluster "infra" at https://127.0.0.1:6443 (context "admin@infra"): no flux-system/cluster-vars yet\n');
        expect(r.status).toBe(0);
        expect(r.stdout).not.toContain("KUBECONFIG-SENTINEL-4711");
        expect(r.stdout).not.toContain(TEST_AGE_KEY);
        expect(r.stdout).not.toMatch(/AGE-SECRET-KEY-|PRIVATE KEY/);

        const wrong = stackFile((y) => `${y}  cluster-bootstrap:sopsAgeKey: ${TEST_AGE_KEY}\n`);
        const bad = await plan("infra", "--config", wrong);
        expect(bad.status).toBe(1);
        expect(bad.stderr).toMatch(/^cluster-bootstrap:sopsAgeKey: derives to age1\w+, not to cluster-bootstrap:sops.recipient/m);
        expect(bad.stderr).not.toContain(TEST_AGE_KEY);
    });

    it("exits 1 on invalid config with every problem on stderr and nothing planned", async () => {
        const file = stackFile((y) => y.replace("id: 1", "id: 300").replace("monosense.dev", "monosense..dev").replace("branch: main", "branch: a..b"));
        const r = await plan("infra", "--json", "--config", file);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("");
        const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("note:"));
        expect(lines).toEqual([
            "cluster-bootstrap:cluster.id: must be an integer from 1 to 255",
            'cluster-bootstrap:cluster.domain: "monosense..dev" is not a valid DNS name',
            'cluster-bootstrap:gitops.branch: "a..b" is not a valid branch name: must not contain "..", "//" or "@{", nor be "@"',
        ]);
    });

    it("refuses usage errors with exit 2", async () => {
        expect((await plan()).status).toBe(2);
        expect((await plan("nosuchstack")).status).toBe(2);
    });
});

// Keeps the README's documented command honest: the first run it shows is `npm run plan`, and that runs this script.
it("package.json runs the plan the README documents", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.plan).toContain("scripts/plan.ts");
    expect(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain("\nnpm run plan -- infra ");
});
