// `npm run verify` against a deployed stack on 127.0.0.1 (test/verify-fixture.ts): a healthy one passes line by line,
// read-only; each promise broken in turn fails with one line that names it and what to do, without printing a secret;
// and `--wait` keeps checking until a check turns green.
import { spawn } from "node:child_process";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";
import { renderLine, type CheckResult } from "../preflight/result";
import { parseVerifyArgs } from "../scripts/verify";
import { runVerify, type VerifyOptions } from "../verify";
import { activeConnectors, dnsLine } from "../verify/cloudflare";
import { parseOutputs, secretOutputStrings } from "../verify/facts";
import { deliveryLine, newestFirst, pingWebhook, pingWouldHelp } from "../verify/github";
import { expectedClusterVars } from "../verify/kubernetes";
import { probeBucket } from "../verify/r2";
import { TEST_AGE_KEY } from "./harness";
import { SECRETS } from "./preflight-fixture";
import { ACCOUNT, fluxObject, HOOK_ID, objectPathOf, OUTPUT_SECRETS, TUNNEL_ID, verifyWorld, type VerifyWorld } from "./verify-fixture";

let w: VerifyWorld;
const worlds: VerifyWorld[] = [];

async function fresh(): Promise<VerifyWorld> {
    w = await verifyWorld();
    worlds.push(w);
    return w;
}

afterAll(async () => {
    await Promise.all(worlds.map((x) => x.close()));
});

const ALL_SECRETS = [...Object.values(SECRETS), ...Object.values(OUTPUT_SECRETS), TEST_AGE_KEY,
    // The Receiver's path derives from the webhook token.
    OUTPUT_SECRETS.webhookUrl.split("/hook/")[1]];

/** A push GitHub delivered while the cluster was down, newer than every delivery the healthy world has. */
function pushWhileDown() {
    (w.githubRoutes[`/repos/monosense/k8s-ops/hooks/${HOOK_ID}/deliveries`] as { body: unknown[] }).body.unshift(
        { id: 102, delivered_at: "2025-06-02T12:00:00Z", status: "Invalid HTTP Response: 530", status_code: 530, event: "push" });
}

async function verify(opts: Partial<VerifyOptions> = {}) {
    w.save();
    // The `pulumi` CLI answered in-process from the scenario; the spawn path runs in "npm run verify" below.
    const report = await runVerify({ stack: w.scenario.stack, env: w.env(), timeoutMs: 20_000, pulumi: w.pulumi, ...opts });
    const results = report.sections.flatMap((s) => s.results);
    const lines = results.map(renderLine);
    // Whatever happened, no secret is printed.
    for (const secret of ALL_SECRETS) expect(lines.join("\n")).not.toContain(secret);
    return { report, results, lines, line: (title: string) => lines.find((l) => l.slice(2).startsWith(`${title}:`)) };
}

// Two runs of the script, each loading the SDKs: a bound for a loaded machine, not a speed goal.
const SPAWNS = 120_000;

const statuses = (results: CheckResult[]) => results.map((r) => `${r.status} ${r.title}`);

describe("verify of a healthy stack", () => {
    beforeEach(fresh);

    it("passes every check, family by family, one line each", async () => {
        const { report, results, lines } = await verify();
        expect(report.failures, lines.join("\n")).toBe(0);
        expect(report.sections.map((s) => s.name)).toEqual(["Stack infra", "Cloudflare", "GitHub", "Kubernetes and Flux", "R2"]);
        expect(statuses(results)).toEqual([
            "ok Pulumi CLI", "ok Pulumi login", "ok Pulumi stack infra", "ok Stack secrets", "ok Stack config", "ok Stack outputs",
            "ok Tunnel infra", "ok DNS external.monosense.dev", "ok DNS flux-webhook.monosense.dev", "ok DNS vm.monosense.dev", "ok DNS logs.monosense.dev",
            "ok Access grafana.monosense.dev", "ok Access alertmanager.monosense.dev", "ok Access vmui.monosense.dev", "ok Access hubble.monosense.dev",
            "ok Access vm.monosense.dev", "ok Access logs.monosense.dev",
            "ok GitHub webhook",
            "ok FluxInstance flux-system/flux", "ok GitRepository flux-system/k8s-ops",
            "ok Kustomization flux-system/cluster-apps", "ok Kustomization flux-system/k8s-ops",
            "ok HelmRelease kube-system/cilium", "ok HelmRelease kube-system/coredns", "ok HelmRelease kube-system/spegel",
            "ok ConfigMap flux-system/cluster-vars", "ok Receiver flux-system/github-receiver",
            "ok R2 bucket infra-volsync", "ok R2 bucket infra-cnpg", "ok R2 token scope", "ok R2 token: bucket list",
        ]);
        expect(lines).toContain("✓ Tunnel infra: 1 active connector (ams01, fra06)");
        expect(lines).toContain(`✓ DNS flux-webhook.monosense.dev: proxied CNAME to ${TUNNEL_ID}.cfargotunnel.com`);
        expect(lines).toContain("✓ GitHub webhook: the last delivery (push at 2025-06-02T10:00:00Z) was answered 200 (OK)");
        expect(lines).toContain("✓ Receiver flux-system/github-receiver: Ready: Receiver initialized for path: /hook/[secret]");
        expect(lines).toContain(`✓ DNS vm.monosense.dev: proxied CNAME to ${TUNNEL_ID}.cfargotunnel.com`);
        expect(lines).toContain('✓ Access vm.monosense.dev: application "vm.monosense.dev" (self_hosted)');
        expect(lines).toContain("✓ ConfigMap flux-system/cluster-vars: matches the stack (9 keys: CLUSTER_NAME, CLUSTER_ID, CLUSTER_DOMAIN, CLUSTER_CIDR, "
            + "TUNNEL_ID, TUNNEL_HOSTNAME, R2_ENDPOINT, R2_BUCKET_VOLSYNC, R2_BUCKET_CNPG)");
        expect(lines).toContain("✓ R2 token scope: refused on infra-scope-probe, a bucket outside the stack (403 AccessDenied): the token reaches only its own buckets");
        expect(lines).toContain("✓ R2 token: bucket list: refused (403 AccessDenied): the token cannot list, create or delete buckets");
    });

    it("changes nothing: every call is a read", async () => {
        await verify();
        for (const api of [w.github, w.cloudflare, w.kube]) expect(api.requests.every((r) => r.method === "GET")).toBe(true);
        expect(w.s3.requests.every((r) => r.method === "GET")).toBe(true);
        expect(w.github.requests.every((r) => r.authorization === `Bearer ${SECRETS.github}`)).toBe(true);
        expect(w.cloudflare.requests.every((r) => r.authorization === `Bearer ${SECRETS.cloudflare}`)).toBe(true);
        // The pulumi commands: the preflight's reads, then the outputs, blinded and revealed, and nothing that writes.
        const calls = w.pulumiCalls().map((c) => c.join(" "));
        expect(calls.filter((c) => c.startsWith("stack output"))).toEqual(expect.arrayContaining([
            "stack output --json --stack infra", "stack output --json --show-secrets --stack infra",
        ]));
        expect(calls.some((c) => /^(up|refresh|preview|destroy|config set|import|state)/.test(c))).toBe(false);
    });

    it("uses the backup token's S3 credentials, signed for R2's region, path-style", async () => {
        await verify();
        expect(w.s3.requests.map((r) => `${r.accessKeyId} ${r.region} ${r.path}`).sort()).toEqual([
            `${OUTPUT_SECRETS.accessKeyId} auto /`,
            `${OUTPUT_SECRETS.accessKeyId} auto /infra-cnpg/`,
            `${OUTPUT_SECRETS.accessKeyId} auto /infra-scope-probe/`,
            `${OUTPUT_SECRETS.accessKeyId} auto /infra-volsync/`,
        ]);
    });
});

describe("verify names each broken promise", () => {
    beforeEach(fresh);

    it("a tunnel without a connector", async () => {
        w.cloudflareRoutes[`/accounts/${ACCOUNT}/cfd_tunnel/${TUNNEL_ID}/connections`] = { status: 200, body: { success: true, errors: [], messages: [], result: [] } };
        const { report, line } = await verify();
        expect(report.failures).toBe(1);
        expect(line("Tunnel infra")).toMatch(/^✗ Tunnel infra: no connector: cloudflared has not connected → Flux deploys cloudflared/);
    });

    it("a tunnel whose connections all dropped (pending reconnect)", () => {
        const clients = [{ id: "a", conns: [{ colo_name: "ams01", is_pending_reconnect: true }] }];
        expect(activeConnectors(clients)).toEqual([]);
        expect(activeConnectors([{ id: "b", conns: [{ colo_name: "ams01", is_pending_reconnect: true }, { colo_name: "fra06" }] }])).toHaveLength(1);
    });

    it("a DNS record that points elsewhere, is missing, or is not proxied", async () => {
        const zone = "023e105f4ecef8ad9ca31a8372d0c353";
        const route = (host: string) => `/zones/${zone}/dns_records?${new URLSearchParams({ "name.exact": host })}`;
        const answer = (result: unknown) => ({ status: 200, body: { success: true, errors: [], messages: [], result } });
        w.cloudflareRoutes[route("external.monosense.dev")] = answer([{ type: "CNAME", name: "external.monosense.dev", content: "other.cfargotunnel.com", proxied: true }]);
        w.cloudflareRoutes[route("flux-webhook.monosense.dev")] = answer([]);
        const { report, line } = await verify();
        expect(report.failures).toBe(2);
        expect(line("DNS external.monosense.dev")).toBe(`✗ DNS external.monosense.dev: CNAME to other.cfargotunnel.com, not to this tunnel (${TUNNEL_ID}.cfargotunnel.com) `
            + "→ run `pulumi up` (the record is the program's), or remove what replaced it");
        expect(line("DNS flux-webhook.monosense.dev")).toMatch(/^✗ DNS flux-webhook\.monosense\.dev: no record → /);
        const target = `${TUNNEL_ID}.cfargotunnel.com`;
        expect(dnsLine("a.monosense.dev", [{ type: "CNAME", content: target, proxied: false }], target).detail).toMatch(/not proxied/);
        expect(dnsLine("a.monosense.dev", [{ type: "A", content: "192.0.2.1" }], target).detail).toBe(`A record, not a CNAME to ${target}`);
    });

    it("a protected hostname without its Access application, and one with it", async () => {
        w.scenario.config["cluster-bootstrap:access"] = { value: { teamName: "monosense", allow: { emails: ["ops@monosense.dev"] }, hostnames: ["grafana.monosense.dev", "vmui.monosense.dev"] } };
        const apps = (domain: string) => `/accounts/${ACCOUNT}/access/apps?${new URLSearchParams({ domain, exact: "true" })}`;
        w.cloudflareRoutes[apps("grafana.monosense.dev")] = { status: 200, body: { success: true, errors: [], messages: [], result: [
            { id: "a1", name: "grafana.monosense.dev", domain: "grafana.monosense.dev", type: "self_hosted", destinations: [{ type: "public", uri: "grafana.monosense.dev" }] },
        ] } };
        w.cloudflareRoutes[apps("vmui.monosense.dev")] = { status: 200, body: { success: true, errors: [], messages: [], result: [] } };
        const { report, line } = await verify();
        expect(report.failures).toBe(1);
        expect(line("Access grafana.monosense.dev")).toBe('✓ Access grafana.monosense.dev: application "grafana.monosense.dev" (self_hosted)');
        expect(line("Access vmui.monosense.dev")).toMatch(/^✗ Access vmui\.monosense\.dev: no Access application: .* → run `pulumi up`/);
    });

    it("a webhook whose only delivery is the first ping, sent before cloudflared ran, with the command that redelivers it", async () => {
        w.githubRoutes[`/repos/monosense/k8s-ops/hooks/${HOOK_ID}/deliveries`] = { status: 200, body: [
            { id: 100, delivered_at: "2025-06-01T09:00:00Z", status: "Invalid HTTP Response: 530", status_code: 530, event: "ping" },
        ] };
        const { report, line } = await verify();
        expect(report.failures).toBe(1);
        expect(line("GitHub webhook")).toBe("✗ GitHub webhook: the only delivery is GitHub's first ping (at 2025-06-01T09:00:00Z), sent before the tunnel "
            + "had a connector: answered 530 (Invalid HTTP Response: 530) → once the Tunnel line passes, redeliver it: "
            + `gh api -X POST repos/monosense/k8s-ops/hooks/${HOOK_ID}/deliveries/100/attempts`);
    });

    it("a webhook whose last push failed, whatever the API's order", () => {
        const deliveries = [
            { id: 1, delivered_at: "2025-06-01T09:00:00Z", status_code: 200, event: "ping" },
            { id: 3, delivered_at: "2025-06-03T09:00:00Z", status_code: 502, status: "Bad Gateway", event: "push" },
            { id: 2, delivered_at: "2025-06-02T09:00:00Z", status_code: 200, event: "push" },
        ];
        expect(newestFirst(deliveries).map((d) => d.id)).toEqual([3, 2, 1]);
        const l = deliveryLine("monosense/k8s-ops", 7, deliveries);
        expect(renderLine(l)).toBe("✗ GitHub webhook: the last delivery (push at 2025-06-03T09:00:00Z) was answered 502 (Bad Gateway) → see the Tunnel and "
            + "Receiver lines; once they pass, redeliver it: gh api -X POST repos/monosense/k8s-ops/hooks/7/deliveries/3/attempts");
        expect(deliveryLine("monosense/k8s-ops", 7, []).fix).toBe("push a commit, or ping it: gh api -X POST repos/monosense/k8s-ops/hooks/7/pings");
    });

    it("a push sent while the cluster was down: verify names it and never pings, even while it waits", async () => {
        pushWhileDown();
        const { report, line } = await verify({ waitSeconds: 1, pollMs: 100 });
        expect(report.failures).toBe(1);
        expect(line("GitHub webhook")).toMatch(/^✗ GitHub webhook: the last delivery \(push at 2025-06-02T12:00:00Z\) was answered 530/);
        expect(w.pings).toBe(0);
    });

    it("a caller that may write mends it between rounds: one ping, and the webhook is checked again at once", async () => {
        pushWhileDown();
        const said: string[] = [];
        const seen: string[][] = [];
        // A poll longer than the wait: only a re-check right after the mend can pass within it.
        const { report, line } = await verify({
            waitSeconds: 5, pollMs: 60_000,
            mend: async (failing, facts) => {
                seen.push(failing.map((r) => r.title));
                if (!pingWouldHelp(failing) || w.pings > 0) return false;
                said.push(await pingWebhook(facts));
                return true;
            },
        });
        expect(report.failures).toBe(0);
        expect(report.rounds).toBe(2);
        expect(seen).toEqual([["GitHub webhook"]]);
        expect(w.pings).toBe(1);
        expect(said).toEqual([`Pinged webhook ${HOOK_ID} on monosense/k8s-ops: the tunnel and the Receiver are ready, and its last delivery had failed`]);
        expect(line("GitHub webhook")).toBe("✓ GitHub webhook: the last delivery (ping at 2025-06-03T08:00:00Z) was answered 200 (OK)");
    });

    it("pings only where a ping can land: the tunnel, the webhook's record and the Receiver pass", () => {
        const f = (...titles: string[]) => titles.map((title): CheckResult => ({ status: "fail", title }));
        expect(pingWouldHelp(f("GitHub webhook"))).toBe(true);
        expect(pingWouldHelp(f("GitHub webhook", "R2 bucket infra-volsync", "HelmRelease kube-system/cilium"))).toBe(true);
        expect(pingWouldHelp(f("GitHub webhook", "Tunnel infra"))).toBe(false);
        expect(pingWouldHelp(f("GitHub webhook", "Receiver flux-system/github-receiver"))).toBe(false);
        expect(pingWouldHelp(f("GitHub webhook", "DNS flux-webhook.monosense.dev"))).toBe(false);
        expect(pingWouldHelp(f("Tunnel infra"))).toBe(false);
    });

    it("no webhook posting to this stack's Receiver, without printing its URL", async () => {
        w.githubRoutes["/repos/monosense/k8s-ops/hooks"] = { status: 200, body: [{ id: 3, active: true, config: { url: "https://ci.example.invalid/hook" } }] };
        const { line } = await verify();
        expect(line("GitHub webhook")).toBe("✗ GitHub webhook: monosense/k8s-ops has no webhook posting to this stack's Receiver URL (the fluxWebhookUrl output) "
            + "→ run `pulumi up` (the webhook is the program's)");
    });

    it("a Kustomization that is not Ready, named with Flux's own message", async () => {
        w.objects.set(objectPathOf("kustomize.toolkit.fluxcd.io/v1", "kustomizations", "flux-system", "cluster-apps"),
            fluxObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "cluster-apps", false, "BuildFailed",
                "kustomize build failed: accumulating resources: 'kubernetes/apps/x' not found"));
        const { report, line } = await verify();
        expect(report.failures).toBe(1);
        expect(line("Kustomization flux-system/cluster-apps")).toBe("✗ Kustomization flux-system/cluster-apps: not Ready: BuildFailed: kustomize build "
            + "failed: accumulating resources: 'kubernetes/apps/x' not found → Flux retries on its own; fix what the message names, then see `flux get all -A`");
    });

    it("a FluxInstance that Flux reports Stalled, and a GitRepository still progressing", async () => {
        const instance = fluxObject("fluxcd.controlplane.io/v1", "FluxInstance", "flux-system", "flux", false, "BuildFailed", "build failed: x");
        instance.status!.conditions!.push({ type: "Stalled", status: "True", reason: "BuildFailed", message: "build failed: x" });
        w.objects.set(objectPathOf("fluxcd.controlplane.io/v1", "fluxinstances", "flux-system", "flux"), instance);
        w.objects.set(objectPathOf("source.toolkit.fluxcd.io/v1", "gitrepositories", "flux-system", "k8s-ops"),
            fluxObject("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system", "k8s-ops", "unknown"));
        const { line } = await verify();
        expect(line("FluxInstance flux-system/flux")).toMatch(/^✗ FluxInstance flux-system\/flux: not Ready \(Stalled\): BuildFailed: build failed: x → /);
        expect(line("GitRepository flux-system/k8s-ops")).toMatch(/^✗ GitRepository flux-system\/k8s-ops: not Ready yet: Progressing: Reconciliation in progress → /);
    });

    it("with flux.managedBy repository, the GitRepository the FluxInstance's sync names (else the namespace's name)", async () => {
        w.scenario.config["cluster-bootstrap:flux"] = { value: { managedBy: "repository" } };
        const instancePath = objectPathOf("fluxcd.controlplane.io/v1", "fluxinstances", "flux-system", "flux");
        w.objects.set(objectPathOf("source.toolkit.fluxcd.io/v1", "gitrepositories", "flux-system", "flux-system"),
            fluxObject("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system", "flux-system"));
        const first = await verify();
        expect(first.line("GitRepository flux-system/flux-system")).toMatch(/^✓ /);
        (w.objects.get(instancePath) as { spec?: unknown }).spec = { sync: { kind: "GitRepository", name: "k8s-ops", url: "ssh://git@github.com/monosense/k8s-ops" } };
        const named = await verify();
        expect(named.line("GitRepository flux-system/k8s-ops")).toMatch(/^✓ /);
        w.objects.delete(instancePath);
        const none = await verify();
        expect(none.line("FluxInstance flux-system/flux")).toMatch(/^✗ FluxInstance flux-system\/flux: not found in the cluster → /);
        expect(none.line("GitRepository")).toBe("- GitRepository: not checked: the FluxInstance whose sync names it was not found");
    });

    it("a platform release's HelmRelease that is missing or failing", async () => {
        w.objects.delete(objectPathOf("helm.toolkit.fluxcd.io/v2", "helmreleases", "kube-system", "coredns"));
        w.objects.set(objectPathOf("helm.toolkit.fluxcd.io/v2", "helmreleases", "kube-system", "spegel"),
            fluxObject("helm.toolkit.fluxcd.io/v2", "HelmRelease", "kube-system", "spegel", false, "UpgradeFailed", "Helm upgrade failed: timed out waiting for the condition"));
        const { report, line } = await verify();
        expect(report.failures).toBe(2);
        expect(line("HelmRelease kube-system/coredns")).toMatch(/^✗ HelmRelease kube-system\/coredns: not found in the cluster → /);
        expect(line("HelmRelease kube-system/spegel")).toMatch(/^✗ HelmRelease kube-system\/spegel: not Ready yet: UpgradeFailed: Helm upgrade failed: timed out/);
    });

    it("a cluster-vars that differs from the stack, each key named", async () => {
        w.clusterVars = { ...w.clusterVars!, CLUSTER_ID: "2", TUNNEL_ID: "0ld-tunnel" };
        delete w.clusterVars.R2_BUCKET_CNPG;
        const { report, line } = await verify();
        expect(report.failures).toBe(1);
        expect(line("ConfigMap flux-system/cluster-vars")).toBe('✗ ConfigMap flux-system/cluster-vars: CLUSTER_ID is "2", the stack says "1"; '
            + `TUNNEL_ID is "0ld-tunnel", the stack says "${TUNNEL_ID}"; R2_BUCKET_CNPG missing (the stack says "infra-cnpg") `
            + "→ run `pulumi up` (cluster-vars is the program's; Flux substitutes from it)");
    });

    it("a Receiver that has not handled this run's reconcile request", async () => {
        const path = objectPathOf("notification.toolkit.fluxcd.io/v1", "receivers", "flux-system", "github-receiver");
        w.objects.get(path)!.metadata!.annotations = { "reconcile.fluxcd.io/requestedAt": "rotation-webhook-token-01" };
        const { report, line } = await verify();
        expect(report.failures).toBe(1);
        expect(line("Receiver flux-system/github-receiver")).toMatch(/^✗ Receiver flux-system\/github-receiver: not Ready yet: Progressing: the controller has not handled/);
    });

    it("S3 credentials R2 does not know", async () => {
        w.s3.accessKeyId = "another-key-id";
        const { line } = await verify();
        expect(line("R2 bucket infra-volsync")).toBe("✗ R2 bucket infra-volsync: the backup token cannot list it: 403 InvalidAccessKeyId "
            + "→ run `pulumi up`; to replace the token, change cluster-bootstrap:rotation.backupToken");
    });

    it("a secret access key that is not the key id's: R2 recomputes the signature", async () => {
        w.s3.secretAccessKey = "another-secret-of-the-same-length-0000000000000000000000000000";
        const { line } = await verify();
        expect(line("R2 bucket infra-volsync")).toBe("✗ R2 bucket infra-volsync: the backup token cannot list it: 403 SignatureDoesNotMatch "
            + "→ run `pulumi up`; to replace the token, change cluster-bootstrap:rotation.backupToken");
    });

    it("a token that reaches beyond the stack's buckets", async () => {
        w.s3.accountWide = true;
        w.s3.buckets.add("infra-scope-probe");
        const { line } = await verify();
        expect(line("R2 bucket infra-volsync")).toMatch(/^✓ /);
        expect(line("R2 token scope")).toBe("✗ R2 token scope: the backup token listed infra-scope-probe, a bucket outside the stack: it is not limited to "
            + "the stack's buckets → replace it: change cluster-bootstrap:rotation.backupToken and run `pulumi up` (the program scopes the new one to the buckets)");
        expect(line("R2 token: bucket list")).toMatch(/^✗ R2 token: bucket list: the backup token lists the account's buckets/);
    });

    it("an API error that quotes a secret output, printed with the secret blanked", async () => {
        w.githubRoutes["/repos/monosense/k8s-ops/hooks"] = { status: 403, body: { message: `Must have admin rights to see ${OUTPUT_SECRETS.webhookUrl}` } };
        const { line } = await verify();
        expect(line("GitHub webhook")).toBe("✗ GitHub webhook: listing the repository's webhooks answered HTTP 403: Must have admin rights to see [secret] "
            + "(token from github:token) → the token needs Webhooks: read on the repository (fine-grained) or admin:repo_hook (classic)");
    });

    it("an S3 endpoint that does not answer, given up on within the bound", async () => {
        w.s3.hang = true;
        const { line } = await verify({ timeoutMs: 1000 });
        expect(line("R2 bucket infra-volsync")).toMatch(/^✗ R2 bucket infra-volsync: the backup token cannot list it: no answer within 1 s → /);
        expect(line("R2 token scope")).toBe("✗ R2 token scope: not proven: listing infra-scope-probe, a bucket outside the stack, got no answer within 1 s");
    });

    it("a stack that cannot be read: every section still printed, with what was not checked", async () => {
        w.scenario.version = "v3.200.0";
        const { report, lines } = await verify();
        expect(report.sections.map((s) => s.name)).toEqual(["Stack infra", "Cloudflare", "GitHub", "Kubernetes and Flux", "R2"]);
        expect(lines).toEqual([
            expect.stringMatching(/^✗ Pulumi CLI: 3\.200\.0 is older than 3\.238\.0/),
            // The preflight's Pulumi checks list what they did not reach, as every other family does.
            "- Pulumi login: not checked: the Pulumi CLI is older than 3.238.0",
            "- Pulumi stack infra: not checked: the Pulumi CLI is older than 3.238.0",
            "- Cloudflare: not checked: the stack could not be read (see above)",
            "- GitHub: not checked: the stack could not be read (see above)",
            "- Kubernetes and Flux: not checked: the stack could not be read (see above)",
            "- R2: not checked: the stack could not be read (see above)",
        ]);
    });

    it("a stack deployed by an older program, without the platformReleases output", async () => {
        delete w.scenario.outputs!.platformReleases;
        const { report, line } = await verify();
        expect(report.failures).toBe(0);
        expect(line("HelmReleases of the platform releases")).toBe("- HelmReleases of the platform releases: the stack has no output platformReleases "
            + "(deployed by an older version of the program: run `pulumi up` once)");
    });
});

describe("verify --wait", () => {
    beforeEach(fresh);

    it("checks again until a check turns green, then reports the round that passed", async () => {
        const route = `/accounts/${ACCOUNT}/cfd_tunnel/${TUNNEL_ID}/connections`;
        const connected = w.cloudflareRoutes[route];
        w.cloudflareRoutes[route] = { status: 200, body: { success: true, errors: [], messages: [], result: [] } };
        const seen: string[][] = [];
        // The fake turns green after the first round: cloudflared connects.
        const { report, line } = await verify({
            waitSeconds: 600, pollMs: 1,
            onRound: (failing) => {
                seen.push(failing.map((r) => r.title));
                w.cloudflareRoutes[route] = connected;
            },
        });
        expect(seen).toEqual([["Tunnel infra"]]);
        expect(report.rounds).toBe(2);
        expect(report.failures).toBe(0);
        expect(line("Tunnel infra")).toMatch(/^✓ Tunnel infra: 1 active connector/);
        // The stack was read once, not once per round.
        expect(w.pulumiCalls().filter((c) => c[0] === "stack" && c[1] === "output")).toHaveLength(2);
    });

    it("without a wait, checks once", async () => {
        w.cloudflareRoutes[`/accounts/${ACCOUNT}/cfd_tunnel/${TUNNEL_ID}/connections`] = { status: 200, body: { success: true, errors: [], messages: [], result: [] } };
        let rounds = 0;
        const { report } = await verify({ onRound: () => rounds++ });
        expect([report.rounds, report.failures, rounds]).toEqual([1, 1, 0]);
    });
});

describe("verify's pure parts", () => {
    it("finds the secret outputs by comparing the blinded and revealed outputs, at any depth", () => {
        const blinded = parseOutputs('{"a":"x","b":"[secret]","c":{"d":"[secret]","e":["p","[secret]"]}}');
        const revealed = parseOutputs('{"a":"x","b":"s1","c":{"d":{"id":"s2","k":"s3"},"e":["p","s4"]}}');
        expect(secretOutputStrings(blinded, revealed).sort()).toEqual(["s1", "s2", "s3", "s4"]);
        expect(parseOutputs("[1]")).toBeUndefined();
        expect(parseOutputs("not json")).toBeUndefined();
    });

    it("probes a bucket named after the cluster that is none of the stack's", () => {
        expect(probeBucket("infra", ["infra-volsync"])).toBe("infra-scope-probe");
        expect(probeBucket("infra", ["infra-scope-probe"])).toBe("infra-scope-probe-1");
        const long = probeBucket("a".repeat(63), []);
        expect(long.length).toBeLessThanOrEqual(63);
        expect(long).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
    });

    it("expects the cluster-vars the program's contract parts write, a spoke's hub URLs included", () => {
        const cfg = {
            cluster: { name: "apps", id: 2, domain: "monosense.dev", cidr: "10.44.0.0/16" },
            tunnel: { originHost: "external.monosense.dev", gateway: "https://g.svc", routes: [] },
            cloudflareAccountId: ACCOUNT,
            r2: { jurisdiction: "eu", buckets: [{ name: "apps-volsync", purpose: "volsync" }] },
            hub: { stack: "infra", hostnames: ["vminsert.monosense.dev"], serviceToken: "apps-to-hub" },
        } as unknown as Parameters<typeof expectedClusterVars>[0];
        expect(expectedClusterVars(cfg, TUNNEL_ID)).toEqual({
            CLUSTER_NAME: "apps", CLUSTER_ID: "2", CLUSTER_DOMAIN: "monosense.dev", CLUSTER_CIDR: "10.44.0.0/16",
            TUNNEL_ID, TUNNEL_HOSTNAME: "external.monosense.dev",
            R2_ENDPOINT: `https://${ACCOUNT}.eu.r2.cloudflarestorage.com`, R2_BUCKET_VOLSYNC: "apps-volsync",
            HUB_VMINSERT_URL: "https://vminsert.monosense.dev",
        });
        expect(expectedClusterVars(cfg, undefined)).not.toHaveProperty("TUNNEL_ID");
    });
});

describe("npm run verify", () => {
    beforeEach(fresh);
    const run = (env: NodeJS.ProcessEnv, ...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "./scripts/register.mjs", "scripts/verify.ts", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });

    it("prints every section and exits 0 when everything holds, 1 when something does not", async () => {
        w.save();
        const good = await run(w.env(), "infra", "--timeout", "20");
        expect(good.status, good.stdout + good.stderr).toBe(0);
        expect(good.stdout).toMatch(/\nCloudflare\n  ✓ Tunnel infra: /);
        expect(good.stdout).toMatch(/\nEverything checked holds for stack infra\.\n$/);
        w.clusterVars = { ...w.clusterVars!, CLUSTER_DOMAIN: "other.dev" };
        const bad = await run(w.env(), "infra", "--timeout", "20");
        expect(bad.status).toBe(1);
        expect(bad.stdout).toContain('  ✗ ConfigMap flux-system/cluster-vars: CLUSTER_DOMAIN is "other.dev", the stack says "monosense.dev"');
        expect(bad.stdout).toMatch(/\n1 check failed: fix it .*\n$/);
        for (const secret of ALL_SECRETS) expect(good.stdout + good.stderr + bad.stdout + bad.stderr).not.toContain(secret);
    }, SPAWNS);

    it("parses its arguments", () => {
        expect(parseVerifyArgs(["infra"])).toEqual({ stack: "infra", waitSeconds: 0, timeoutMs: 15_000 });
        expect(parseVerifyArgs(["org/apps", "--wait", "600", "--timeout=5"])).toEqual({ stack: "org/apps", waitSeconds: 600, timeoutMs: 5000 });
        for (const [argv, message] of [
            [[], "name the stack to verify"],
            [["infra", "--wait", "-1"], "--wait needs a number of seconds"],
            [["infra", "--wait", "3601"], '--wait "3601": give a number of seconds from 0, at most 3600'],
            [["infra", "--timeout", "0"], '--timeout "0": give a number of seconds above 0, at most 600'],
            [["infra", "--force"], "unknown option --force"],
        ] as const) expect(() => parseVerifyArgs([...argv]), argv.join(" ")).toThrow(message);
    });
});
