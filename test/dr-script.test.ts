// The disaster-recovery script: its command lines and decisions as pure functions, then the script itself against a
// fake pulumi CLI and fake APIs on 127.0.0.1 (test/preflight-fixture.ts): it starts with the preflight and changes
// nothing when a check fails.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
    display, DR_VERIFY_WAIT_SECONDS, drPreflight, failure, fluxRestoreNotes, isYes, judgePreview, parseDrArgs, previewErrors, previewSteps,
    recoverySteps, refusal, refusalLines, stackFacts, UsageError, urnParts,
} from "../scripts/dr";
import { ROOT } from "../config/keys";
import { SECRETS, world, type World } from "./preflight-fixture";
import { testKubeconfig } from "./harness";
import { ACCOUNT, HOOK_ID, OUTPUT_SECRETS, TUNNEL_ID, verifyWorld } from "./verify-fixture";

// A run of the script with its fake CLI calls and the SDKs loaded: a bound for a loaded machine, not a speed goal.
const SPAWN = 120_000;

const line = (c: { cmd: string; args: string[] }) => [c.cmd, ...c.args].join(" ");

describe("dr arguments", () => {
    it("takes one stack and the flags", () => {
        const defaults = { allowOutside: [], verifyWaitSeconds: DR_VERIFY_WAIT_SECONDS };
        expect(parseDrArgs(["infra"])).toEqual({ stack: "infra", yes: false, kubeconfigFile: undefined, ...defaults });
        expect(parseDrArgs(["--yes", "apps", "--kubeconfig", "new.yaml"], { INIT_CWD: "/home/me/clusters" }))
            .toEqual({ stack: "apps", yes: true, kubeconfigFile: "/home/me/clusters/new.yaml", ...defaults });
        expect(parseDrArgs(["monosense/infra", "--kubeconfig=/tmp/k"], { INIT_CWD: "/home/me" }))
            .toEqual({ stack: "monosense/infra", yes: false, kubeconfigFile: "/tmp/k", ...defaults });
        expect(DR_VERIFY_WAIT_SECONDS).toBe(600);
    });

    it("takes --allow-outside once per name, and --verify-wait in whole seconds", () => {
        expect(parseDrArgs(["infra", "--allow-outside", "edge-cname-a.monosense.dev", "--allow-outside=backups-token", "--verify-wait", "0"]))
            .toMatchObject({ allowOutside: ["edge-cname-a.monosense.dev", "backups-token"], verifyWaitSeconds: 0 });
        expect(parseDrArgs(["infra", "--verify-wait=1200"]).verifyWaitSeconds).toBe(1200);
        expect(() => parseDrArgs(["infra", "--allow-outside"])).toThrow("--allow-outside needs a resource name, as the refusal shows it");
        expect(() => parseDrArgs(["infra", "--verify-wait", "1.5"])).toThrow('--verify-wait "1.5": give a whole number of seconds from 0 to 3600');
        expect(() => parseDrArgs(["infra", "--verify-wait", "3601"])).toThrow(UsageError);
    });

    it("resolves the kubeconfig from where the user typed the command (npm's INIT_CWD), not the repository", () => {
        expect(parseDrArgs(["infra", "--kubeconfig", "../new.yaml"], { INIT_CWD: "/home/me/work" }).kubeconfigFile).toBe("/home/me/new.yaml");
        expect(parseDrArgs(["infra", "--kubeconfig", "new.yaml"], {}).kubeconfigFile).toBe(path.resolve("new.yaml"));
    });

    it("answers --help with an empty usage error, which the script prints as help with exit 0", () => {
        expect(() => parseDrArgs(["--help"])).toThrow(UsageError);
        expect(() => parseDrArgs(["--help"])).toThrow(/^$/);
    });

    it.each([
        [[], "name one stack"],
        [["infra", "apps"], "name one stack"],
        [["infra", "--force"], "unknown option --force"],
        [["infra", "--kubeconfig"], "--kubeconfig needs a file"],
        [["infra", "--kubeconfig", "--yes"], "--kubeconfig needs a file"],
        [["infra;rm -rf /"], '"infra;rm -rf /" is not a stack name'],
    ])("rejects %j", (argv, message) => {
        expect(() => parseDrArgs(argv)).toThrow(UsageError);
        expect(() => parseDrArgs(argv)).toThrow(message);
    });
});

describe("dr without a terminal", () => {
    it("refuses to run unless --yes", () => {
        expect(refusal({ stack: "infra", yes: false }, false)).toMatch(/--yes/);
        expect(refusal({ stack: "infra", yes: true }, false)).toBeUndefined();
        expect(refusal({ stack: "infra", yes: false }, true)).toBeUndefined();
    });

    it("applies a step only on an explicit yes", () => {
        for (const a of ["y", "Y", "yes", " YES \n"]) expect(isYes(a)).toBe(true);
        for (const a of ["", "\n", "n", "no", "yep", "sure", "y es"]) expect(isYes(a)).toBe(false);
    });
});

describe("dr prerequisites", () => {
    it("are the preflight's, with the rebuilt cluster's kubeconfig read from the file", () => {
        expect(drPreflight({ stack: "infra", yes: true, kubeconfigFile: "/tmp/new.yaml" }, () => "kubeconfig text"))
            .toEqual({ stack: "infra", kubeconfig: { text: "kubeconfig text", source: "/tmp/new.yaml" } });
        expect(drPreflight({ stack: "infra", yes: true })).toEqual({ stack: "infra" });
    });

    it("says whether a command is missing or ran and failed", () => {
        const c = { cmd: "pulumi", args: ["up", "--stack", "infra"] };
        expect(failure(c, { error: Object.assign(new Error("spawnSync pulumi ENOENT"), { code: "ENOENT" }), status: null, signal: null }))
            .toBe("pulumi is not on PATH: install it, then re-run");
        expect(failure(c, { error: undefined, status: 255, signal: null })).toBe("pulumi up --stack infra failed (exit code 255)");
        expect(failure(c, { error: undefined, status: null, signal: "SIGINT" })).toBe("pulumi up --stack infra failed (stopped by SIGINT)");
    });
});

describe("dr steps", () => {
    it("refreshes, then updates, each previewed first, all running the program", () => {
        const steps = recoverySteps({ stack: "infra", yes: false });
        expect(steps.map((s) => [s.preview && line(s.preview), line(s.apply)])).toEqual([
            ["pulumi refresh --stack infra --run-program --preview-only --diff", "pulumi refresh --stack infra --run-program --yes"],
            ["pulumi preview --stack infra --json", "pulumi up --stack infra --yes"],
        ]);
        // The update's preview is read and judged, not only shown; the refresh's is shown.
        expect(steps.map((st) => st.judged === true)).toEqual([false, true]);
    });

    it("never destroys, replaces or skips a preview", () => {
        for (const opts of [{ stack: "apps", yes: true, kubeconfigFile: "k" }, { stack: "apps", yes: false }]) {
            const all = recoverySteps(opts).flatMap((s) => [s.preview, s.apply]).filter((c) => c !== undefined);
            for (const c of all) {
                expect(c.args).not.toContain("destroy");
                expect(c.args.join(" ")).not.toMatch(/--skip-preview|--replace|--target|--remove|--show-secrets/);
                expect(c.args.join(" ")).toContain("--stack apps");
            }
        }
    });

    it("with --yes adds --non-interactive and still previews", () => {
        const steps = recoverySteps({ stack: "apps", yes: true });
        expect(steps.every((s) => s.preview?.args.includes("--non-interactive") && s.apply.args.includes("--non-interactive"))).toBe(true);
    });

    it("stores a new kubeconfig first, from standard input, as a secret", () => {
        const [first, ...rest] = recoverySteps({ stack: "infra", yes: false, kubeconfigFile: "/tmp/new.yaml" });
        expect(first.apply).toEqual({
            cmd: "pulumi", args: ["config", "set", "--secret", "kubeconfig", "--stack", "infra"], stdinFile: "/tmp/new.yaml",
        });
        // Never on the command line, where the process list and shell history would show it.
        expect(first.apply.args).not.toContain("/tmp/new.yaml");
        expect(display(first.apply)).toBe("pulumi config set --secret kubeconfig --stack infra < /tmp/new.yaml");
        expect(rest.map((s) => s.apply.args[0])).toEqual(["refresh", "up"]);
    });

    it("quotes what it shows", () => {
        expect(display({ cmd: "pulumi", args: ["up", "--message", "it's back"] })).toBe(`pulumi up --message 'it'\\''s back'`);
    });
});

// `pulumi preview --json` output in the CLI's own shape (pulumi pkg/display/json.go PreviewDigest): `same` steps left out,
// a replacement as one `replace` step, old and new state as apitype.ResourceV3 with the resource's type and options.
const URN = (parent: string, type: string, name: string) => `urn:pulumi:infra::cluster-bootstrap::${parent ? `${parent}$` : ""}${type}::${name}`;
const step = (op: string, parent: string, type: string, name: string, state: Record<string, unknown> = {}) => {
    const urn = URN(parent, type, name);
    const res = { urn, custom: true, type, ...state };
    return {
        op, urn, provider: "",
        ...(op === "create" ? { newState: res } : op === "delete" ? { oldState: res } : { oldState: res, newState: res }),
        ...(op === "update" ? { diffReasons: ["kubeconfig"] } : {}),
        detailedDiff: null,
    };
};
const digest = (...steps: unknown[]) => JSON.stringify({ config: { "cluster-bootstrap:cluster": "[secret]" }, steps, duration: 1200000000, changeSummary: {} }, null, 4);
const CNAME = step("create", "cluster-bootstrap:edge:ClusterEdge", "cloudflare:index/dnsRecord:DnsRecord", "edge-cname-grafana.monosense.dev");
const IN_CLUSTER = [
    step("update", "", "pulumi:providers:kubernetes", "k8s"),
    step("create", "cluster-bootstrap:flux:FluxInstall", "kubernetes:core/v1:Namespace", "flux-namespace"),
    step("create", "cluster-bootstrap:flux:FluxInstall", "kubernetes:fluxcd.controlplane.io/v1:FluxInstance", "flux-instance"),
    step("replace", "cluster-bootstrap:contract:ClusterContract", "kubernetes:core/v1:ConfigMap", "contract-vars"),
    // The handover: Flux took cilium over, the program no longer registers it, retainOnDelete leaves it in the cluster.
    step("delete", "cluster-bootstrap:platform:PlatformReleases", "kubernetes:helm.sh/v3:Release", "platform-kube-system-cilium", { retainOnDelete: true }),
    step("create", "", "pulumi:providers:cloudflare", "default_6_22_1"),
];

describe("dr judges the update's preview", () => {
    it("reads the steps of `pulumi preview --json`: op, type and name from the URN, retained deletes", () => {
        expect(urnParts(URN("cluster-bootstrap:edge:ClusterEdge", "cloudflare:index/dnsRecord:DnsRecord", "edge-cname-a.monosense.dev")))
            .toEqual({ type: "cloudflare:index/dnsRecord:DnsRecord", name: "edge-cname-a.monosense.dev" });
        const steps = previewSteps(digest(...IN_CLUSTER, CNAME))!;
        expect(steps.map((st) => `${st.op} ${st.type} ${st.name} ${st.retained}`)).toEqual([
            "update pulumi:providers:kubernetes k8s false",
            "create kubernetes:core/v1:Namespace flux-namespace false",
            "create kubernetes:fluxcd.controlplane.io/v1:FluxInstance flux-instance false",
            "replace kubernetes:core/v1:ConfigMap contract-vars false",
            "delete kubernetes:helm.sh/v3:Release platform-kube-system-cilium true",
            "create pulumi:providers:cloudflare default_6_22_1 false",
            "create cloudflare:index/dnsRecord:DnsRecord edge-cname-grafana.monosense.dev false",
        ]);
        // A preview of no change has no steps key at all (omitempty).
        expect(previewSteps(JSON.stringify({ config: {}, changeSummary: { same: 40 } }))).toEqual([]);
        expect(previewSteps("error: could not load plugin")).toBeUndefined();
        expect(previewSteps("[]")).toBeUndefined();
    });

    it("refuses a Cloudflare create, naming the step and the flag that allows it", () => {
        const j = judgePreview(previewSteps(digest(...IN_CLUSTER, CNAME))!, []);
        expect(j.refused.map((st) => st.name)).toEqual(["edge-cname-grafana.monosense.dev"]);
        expect(refusalLines({ stack: "infra", yes: true, allowOutside: [] }, j)).toEqual([
            "Refused: the preview would change 1 resource outside the cluster, which a rebuild has no reason to touch:",
            "  ✗ create cloudflare:index/dnsRecord:DnsRecord edge-cname-grafana.monosense.dev",
            "Nothing was applied. Look at why first (`pulumi preview --diff`): a resource changed or deleted by hand, a changed",
            "config value, a provider upgrade. If the change is wanted, allow each step by name:",
            "  npm run dr -- infra --yes --allow-outside edge-cname-grafana.monosense.dev",
        ]);
    });

    it("gives back the user's own --verify-wait in the command that allows the step", () => {
        const j = judgePreview(previewSteps(digest(...IN_CLUSTER, CNAME))!, []);
        expect(refusalLines({ stack: "infra", yes: true, allowOutside: [], verifyWaitSeconds: 1200 }, j).at(-1))
            .toBe("  npm run dr -- infra --yes --verify-wait 1200 --allow-outside edge-cname-grafana.monosense.dev");
        expect(refusalLines({ stack: "infra", yes: false, allowOutside: [], verifyWaitSeconds: 0 }, j).at(-1))
            .toBe("  npm run dr -- infra --verify-wait 0 --allow-outside edge-cname-grafana.monosense.dev");
        expect(refusalLines({ stack: "infra", yes: false, allowOutside: [], verifyWaitSeconds: DR_VERIFY_WAIT_SECONDS }, j).at(-1))
            .toBe("  npm run dr -- infra --allow-outside edge-cname-grafana.monosense.dev");
    });

    it("passes it with --allow-outside naming it, and says which names matched nothing", () => {
        const j = judgePreview(previewSteps(digest(...IN_CLUSTER, CNAME))!, ["edge-cname-grafana.monosense.dev", "edge-cname-typo"]);
        expect(j.refused).toEqual([]);
        expect(j.allowed.map((st) => st.name)).toEqual(["edge-cname-grafana.monosense.dev"]);
        expect(j.unused).toEqual(["edge-cname-typo"]);
    });

    it("passes in-cluster steps, the handover's retained delete and provider steps", () => {
        const j = judgePreview(previewSteps(digest(...IN_CLUSTER))!, []);
        expect(j.refused).toEqual([]);
        expect(j.changes).toHaveLength(IN_CLUSTER.length);
    });

    it.each([
        ["create", "cluster-bootstrap:backups:BackupBuckets", "cloudflare:index/r2Bucket:R2Bucket", "backups-infra-volsync"],
        ["replace", "cluster-bootstrap:edge:ClusterEdge", "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared", "edge-tunnel"],
        ["delete", "cluster-bootstrap:access:ClusterAccess", "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication", "access-app-grafana.monosense.dev"],
        ["replace", "cluster-bootstrap:gitops:GitOpsHandoff", "github:index/repositoryDeployKey:RepositoryDeployKey", "gitops-deploy-key"],
        ["create-replacement", "cluster-bootstrap:webhook:PushReconcile", "github:index/repositoryWebhook:RepositoryWebhook", "push-reconcile-github"],
        ["replace", "cluster-bootstrap:webhook:PushReconcile", "random:index/randomPassword:RandomPassword", "push-reconcile-token"],
        ["delete-replaced", "cluster-bootstrap:gitops:GitOpsHandoff", "tls:index/privateKey:PrivateKey", "gitops-key"],
    ])("refuses a %s of %s's %s", (op, parent, type, name) => {
        expect(judgePreview(previewSteps(digest(step(op, parent, type, name)))!, []).refused.map((st) => `${st.op} ${st.name}`)).toEqual([`${op} ${name}`]);
    });

    it("refuses a retained delete outside the cluster too: the object stays, but the stack would stop owning it", () => {
        const bucket = step("delete", "cluster-bootstrap:backups:BackupBuckets", "cloudflare:index/r2Bucket:R2Bucket", "backups-infra-volsync", { retainOnDelete: true, protect: true });
        const j = judgePreview(previewSteps(digest(bucket))!, []);
        expect(refusalLines({ stack: "infra", yes: false, allowOutside: [] }, j)[1])
            .toBe("  ✗ delete cloudflare:index/r2Bucket:R2Bucket backups-infra-volsync (retained: the object stays, the stack stops owning it)");
    });

    it("shows an update in place outside the cluster without refusing it", () => {
        const j = judgePreview(previewSteps(digest(step("update", "cluster-bootstrap:edge:ClusterEdge",
            "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig", "edge-tunnel-config")))!, []);
        expect([j.refused.length, j.updates.map((st) => st.name)]).toEqual([0, ["edge-tunnel-config"]]);
    });

    it("passes on the errors a failed preview reports", () => {
        expect(previewErrors(JSON.stringify({ diagnostics: [
            { message: "stack infra changes cluster \"infra\"", severity: "info" },
            { urn: "x", message: "error: ClusterIdentityError: the cluster belongs to \"apps\"\n", severity: "error" },
        ] }))).toEqual(['error: ClusterIdentityError: the cluster belongs to "apps"']);
    });
});

describe("dr closing notes", () => {
    it.each(["infra", "apps"])("name what Flux restores for %s from the committed stack file", (stack) => {
        const facts = stackFacts(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
        expect(facts.repository).toBe("monosense/k8s-ops");
        expect(facts.path).toBe(`clusters/${stack}/flux`);
        expect(facts.buckets.map((b) => b.name)).toEqual([`${stack}-volsync`, `${stack}-cnpg`]);
        const text = fluxRestoreNotes(stack, facts).join("\n");
        expect(text).toContain(`monosense/k8s-ops@${facts.branch} path clusters/${stack}/flux`);
        expect(text).toContain(`${stack}-volsync (volsync)`);
        expect(text).toContain("sops-age");
    });

    it("copes with a stack file without gitops or buckets", () => {
        const facts = stackFacts("config:\n  github:owner: x\n");
        expect(facts).toEqual({ repository: undefined, branch: undefined, path: undefined, buckets: [] });
        expect(fluxRestoreNotes("edge", facts).join("\n")).toContain("the stack's GitOps repository");
    });

    it("copes with a stack file that does not parse, without the parser's message, which quotes the line", () => {
        // The parser's error would read `Not a YAML token: ghp_…`, and the script would print it as it exits.
        expect(stackFacts("config:\n  github:token: > ghp_SENTINELsentinelSENTINELsentinel0042\n"))
            .toEqual({ buckets: [] });
    });
});

describe("npm run dr", () => {
    const worlds: World[] = [];
    afterAll(async () => {
        await Promise.all(worlds.map((w) => w.close()));
    });
    // Asynchronous: the fake APIs answer from this process.
    const dr = (env: NodeJS.ProcessEnv, ...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "./scripts/register.mjs", "scripts/dr.ts", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

    it("changes nothing when the preflight fails, and says which check", async () => {
        const w = await world();
        worlds.push(w);
        w.scenario.version = "v3.200.0";
        w.save();
        const r = await dr(w.env(), "infra", "--yes");
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("  ✗ Pulumi CLI: 3.200.0 is older than 3.238.0");
        expect(r.stdout).toMatch(/Stopped: 1 check failed; nothing was changed\.\n$/);
        expect(w.pulumiCalls().map((c) => c[0])).toEqual(["version"]);
    });

    it("checks the rebuilt cluster through the given kubeconfig, stores it from standard input, refreshes, judges the preview, updates, then verifies", async () => {
        const w = await verifyWorld();
        worlds.push(w);
        // The stack still holds the lost cluster's kubeconfig; the new one, relative to where the user is, reaches the fake API.
        w.scenario.config["cluster-bootstrap:kubeconfig"].value = testKubeconfig({ server: "https://127.0.0.9:6443", token: "old-cluster-token-not-real" });
        w.scenario.run = { "config set": "", refresh: "", preview: digest(...IN_CLUSTER), up: "" };
        w.save();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dr-"));
        const kubeconfig = testKubeconfig({ server: w.kube.url, token: SECRETS.kubeToken, caData: w.kube.caData, context: "admin@infra" });
        fs.writeFileSync(path.join(dir, "new.yaml"), kubeconfig);
        const r = await dr(w.env({ INIT_CWD: dir }), "infra", "--yes", "--kubeconfig", "new.yaml", "--verify-wait", "0");
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toContain(`  ✓ Kubernetes API: answers at ${w.kube.url} (context "admin@infra"), kubeconfig: ${path.join(dir, "new.yaml")}`);
        const calls = w.pulumiCalls().map((c) => c.join(" "));
        // The preflight reads what the stack's state holds (its outputs, for what exists already), before anything changes.
        const start = calls.indexOf("config set --secret kubeconfig --stack infra");
        expect(calls.slice(0, start).filter((c) => c.startsWith("stack output"))).toEqual(["stack output --json --stack infra"]);
        const steps = calls.slice(start).filter((c) => !/^(version|whoami|stack ls|config --json|config get)/.test(c));
        expect(steps.slice(0, 5)).toEqual([
            "config set --secret kubeconfig --stack infra",
            "refresh --stack infra --run-program --preview-only --diff --non-interactive",
            "refresh --stack infra --run-program --yes --non-interactive",
            "preview --stack infra --json --non-interactive",
            "up --stack infra --yes --non-interactive",
        ]);
        // Then verify, after the apply, with the kubeconfig the run stored: the outputs, blinded and revealed, side by side.
        expect(steps.slice(5).sort()).toEqual(["stack output --json --show-secrets --stack infra", "stack output --json --stack infra"]);
        expect(fs.readFileSync(`${w.env().FAKE_PULUMI_LOG}.stdin`, "utf8")).toBe(kubeconfig);
        expect(r.stdout).toContain("  The preview changes 6 resources:\n    update pulumi:providers:kubernetes k8s\n");
        expect(r.stdout).toContain("    delete kubernetes:helm.sh/v3:Release platform-kube-system-cilium (retained: the object stays, the stack stops owning it)\n");
        expect(r.stdout).toContain("Pulumi's part for infra is done.");
        expect(r.stdout).toMatch(/\nKubernetes and Flux\n  ✓ FluxInstance flux-system\/flux: Ready/);
        expect(r.stdout).toMatch(/Everything checked holds for stack infra\.\nStack infra is recovered and verified\.\n$/);
        for (const secret of [SECRETS.kubeToken, ...Object.values(OUTPUT_SECRETS)]) expect(r.stdout + r.stderr).not.toContain(secret);
    }, SPAWN);

    it("refuses a preview that creates a Cloudflare record, before anything is applied, naming it and the flag", async () => {
        const w = await world();
        worlds.push(w);
        w.scenario.run = { refresh: "", preview: digest(...IN_CLUSTER, CNAME), up: "" };
        w.save();
        const r = await dr(w.env(), "infra", "--yes");
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("Refused: the preview would change 1 resource outside the cluster, which a rebuild has no reason to touch:\n"
            + "  ✗ create cloudflare:index/dnsRecord:DnsRecord edge-cname-grafana.monosense.dev\n");
        expect(r.stdout).toMatch(/\n {2}npm run dr -- infra --yes --allow-outside edge-cname-grafana\.monosense\.dev\n$/);
        expect(w.pulumiCalls().map((c) => c[0])).not.toContain("up");
    }, SPAWN);

    it("stops before the update when its preview fails, applying nothing of that step", async () => {
        const w = await world();
        worlds.push(w);
        w.scenario.run = { refresh: "", up: "" };
        w.scenario.fail = { preview: { code: 255, stderr: "error: ClusterIdentityError: the cluster belongs to \"apps\"" } };
        w.save();
        const r = await dr(w.env(), "infra", "--yes");
        expect(r.status).toBe(1);
        expect(r.stdout).toMatch(/Preview failed: pulumi preview --stack infra --json --non-interactive failed \(exit code 255\)\. Stopped before step 2; nothing of this step was applied\.\n$/);
        expect(w.pulumiCalls().map((c) => c[0])).not.toContain("up");
    }, SPAWN);

    it("pings the webhook once the way to the Receiver is back, when a push sent while the cluster was down failed", async () => {
        const w = await verifyWorld();
        worlds.push(w);
        w.scenario.run = { refresh: "", preview: digest(...IN_CLUSTER), up: "" };
        w.save();
        (w.githubRoutes[`/repos/monosense/k8s-ops/hooks/${HOOK_ID}/deliveries`] as { body: unknown[] }).body.unshift(
            { id: 102, delivered_at: "2025-06-02T12:00:00Z", status: "Invalid HTTP Response: 530", status_code: 530, event: "push" });
        // A wait long enough for a second round; the re-check after the ping comes at once, not after the poll.
        const r = await dr(w.env(), "infra", "--yes", "--verify-wait", "60");
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(w.pings).toBe(1);
        expect(r.stdout).toContain(`Pinged webhook ${HOOK_ID} on monosense/k8s-ops: the tunnel and the Receiver are ready, and its last delivery had failed\n`);
        expect(r.stdout).toContain("  ✓ GitHub webhook: the last delivery (ping at 2025-06-03T08:00:00Z) was answered 200 (OK)");
        expect(r.stdout).toMatch(/Stack infra is recovered and verified\.\n$/);
    }, SPAWN);

    it("applies it with --allow-outside naming the step, then ends with verify's result", async () => {
        const w = await verifyWorld();
        worlds.push(w);
        w.scenario.run = { refresh: "", preview: digest(...IN_CLUSTER, CNAME), up: "" };
        w.save();
        // cloudflared has not connected: verify fails, and so does the run.
        w.cloudflareRoutes[`/accounts/${ACCOUNT}/cfd_tunnel/${TUNNEL_ID}/connections`] = { status: 200, body: { success: true, errors: [], messages: [], result: [] } };
        const r = await dr(w.env(), "infra", "--yes", "--allow-outside", "edge-cname-grafana.monosense.dev", "--verify-wait", "0");
        expect(r.stdout).toContain("  ! outside the cluster, allowed by --allow-outside: create cloudflare:index/dnsRecord:DnsRecord edge-cname-grafana.monosense.dev\n");
        const calls = w.pulumiCalls().map((c) => c.slice(0, 2).join(" "));
        // Verify reads the outputs after the apply (twice: blinded and revealed); before it, only the preflight did, once.
        const up = calls.indexOf("up --stack");
        expect(up).toBeGreaterThan(-1);
        expect(calls.slice(up).filter((c) => c === "stack output")).toHaveLength(2);
        expect(calls.slice(0, up).filter((c) => c === "stack output")).toHaveLength(1);
        expect(r.stdout).toContain("  ✗ Tunnel infra: no connector: cloudflared has not connected");
        expect(r.stdout).toMatch(/The recovery of infra is applied but not verified: see the failed checks above\.\n$/);
        expect(r.status).toBe(1);
    }, SPAWN);
});
