import { describe, expect, it } from "vitest";
import { ROTATABLE, type Rotatable } from "../config/rotation";
import { reveal, runStack, type RecordedResource, type Values } from "./harness";

type Run = Awaited<ReturnType<typeof runStack>>;

/** `<short type> <name>`: how the expectations below name a resource (several share a name across types). */
const label = (r: RecordedResource) => `${r.type.split(":").pop()} ${r.name}`;

/** Everything the engine would diff for a resource: its inputs and options, secrets revealed. */
const diffable = (r: RecordedResource) => JSON.stringify(reveal({ inputs: r.inputs, options: r.options, provider: r.provider }));

/** Labels of the resources whose inputs or options differ between two runs; both must register the same URNs. */
function changed(a: Run, b: Run): string[] {
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(b.resources.map((r) => r.urn).sort()).toEqual(a.resources.map((r) => r.urn).sort());
    const before = new Map(a.resources.map((r) => [r.urn, r]));
    return b.resources.filter((r) => diffable(r) !== diffable(before.get(r.urn)!)).map(label).sort();
}

const withRotation = (rotation: Partial<Record<Rotatable, string>>) => (v: Values) => ({ ...v, rotation });

/** What a new value of each key replaces, and what consumes it; nothing else may change. */
const ROTATES: Record<Rotatable, string[]> = {
    deployKey: [
        "PrivateKey gitops-key", // the trigger
        "RepositoryDeployKey gitops-deploy-key", // a new key on GitHub
        "Secret gitops-deploy-key-secret", // Flux's identity
    ],
    tunnelSecret: [
        "RandomBytes edge-tunnel-secret", // the trigger
        "ZeroTrustTunnelCloudflared edge-tunnel", // the same tunnel, a new secret
        "Secret contract-secrets", // CLOUDFLARE_TUNNEL_TOKEN
    ],
    backupToken: [
        "AccountToken backups-token", // the trigger: a new token, a new S3 key pair
        "Secret contract-secrets", // R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY
    ],
    dnsToken: [
        "AccountToken dns-token", // the trigger: a new token
        "Secret contract-secrets", // CLOUDFLARE_DNS_TOKEN
    ],
    webhookToken: [
        "RandomPassword push-reconcile-token", // the trigger
        "Secret push-reconcile-token", // the Receiver's token
        "Receiver push-reconcile-receiver", // reconciles at once, so it serves the new path
        "RepositoryWebhook push-reconcile-github", // the new URL and secret
    ],
};

/** A stack's run without rotation values: the same config plans the same bytes, so one run serves every key's test. */
const bases = new Map<string, Promise<Run>>();
const baseOf = (stack: string) => {
    if (!bases.has(stack)) bases.set(stack, runStack({ stack }));
    return bases.get(stack)!;
};

describe.each(["infra", "apps"])("rotation on the %s stack", (stack) => {
    it.each(ROTATABLE.map((k) => [k]))("a new rotation.%s replaces that credential and updates its consumers, nothing else", async (key) => {
        const base = await baseOf(stack);
        const first = await runStack({ stack, edit: withRotation({ [key]: "2026-12" }) });
        expect(changed(base, first)).toEqual([...ROTATES[key]].sort());
        // Changing the value again rotates again, the same resources.
        const next = await runStack({ stack, edit: withRotation({ [key]: "2027-06" }) });
        expect(changed(first, next)).toEqual([...ROTATES[key]].sort());
        // The same value plans the same: nothing rotates by itself.
        const again = await runStack({ stack, edit: withRotation({ [key]: "2026-12" }) });
        expect(changed(first, again)).toEqual([]);
    });

    it("rotates each credential through its replacement trigger, create-before-delete", async () => {
        const all = Object.fromEntries(ROTATABLE.map((k) => [k, `${k}-2026-12`]));
        const run = await runStack({ stack, edit: withRotation(all) });
        expect(run.error).toBeUndefined();
        // The platform releases carry their cluster's kube-system uid instead: no rotation value changes it.
        const releases = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.parent.endsWith("PlatformReleases::platform"));
        expect(releases.map((r) => r.options.replacementTrigger)).toEqual(["placeholder:kube-system-uid", "placeholder:kube-system-uid", "placeholder:kube-system-uid"]);
        const triggers = Object.fromEntries(run.resources.filter((r) => "replacementTrigger" in r.options && !releases.includes(r))
            .map((r) => [label(r), reveal(r.options.replacementTrigger)]));
        expect(triggers).toEqual({
            "AccountToken backups-token": "backupToken-2026-12",
            "AccountToken dns-token": "dnsToken-2026-12",
            "RandomBytes edge-tunnel-secret": "tunnelSecret-2026-12",
            "PrivateKey gitops-key": {
                readOnly: true, repository: "monosense/k8s-ops", rotation: "deployKey-2026-12", title: `flux-${stack}`,
            },
            "RandomPassword push-reconcile-token": "webhookToken-2026-12",
        });
        // No resource of the stack is deleted before its replacement exists: never a window without a credential.
        for (const r of run.resources) expect(r.options.deleteBeforeReplace, label(r)).toBe(false);
        // The tunnel stays protected: a new secret is an update of the same tunnel, never a replacement.
        expect(run.one("ZeroTrustTunnelCloudflared").options.protect).toBe(true);
    });
});

describe("consumers in the cluster", () => {
    it("labels cluster-secrets for Flux to watch: what substitutes from it reconciles as soon as a credential rotates", async () => {
        const run = await runStack({ stack: "infra" });
        const secrets = run.one("Secret", "contract-secrets");
        expect(reveal(secrets.inputs.metadata)).toMatchObject({ name: "cluster-secrets", labels: { "reconcile.fluxcd.io/watch": "Enabled" } });
    });
});

describe("deploy key replacements GitHub would refuse", () => {
    // GitHub refuses a public key it already has: whatever replaces the deploy key must bring a new key.
    const key = (run: Run) => run.one("PrivateKey", "gitops-key");
    const deployKey = (run: Run) => run.one("RepositoryDeployKey", "gitops-deploy-key");

    it("toggling flux.imageAutomation (read-only ↔ read-write) rotates the key too", async () => {
        const readOnly = await runStack({ stack: "infra" });
        const readWrite = await runStack({ stack: "infra", edit: (v) => ({ ...v, flux: { ...(v.flux as object), imageAutomation: true } }) });
        expect(deployKey(readOnly).inputs.readOnly).toBe(true);
        expect(deployKey(readWrite).inputs.readOnly).toBe(false);
        expect(reveal(key(readWrite).options.replacementTrigger)).not.toEqual(reveal(key(readOnly).options.replacementTrigger));
        // So the replaced deploy key carries another public key, and Flux's Secret the matching identity.
        expect(reveal(deployKey(readWrite).inputs.key)).not.toBe(reveal(deployKey(readOnly).inputs.key));
        for (const r of [...readOnly.resources, ...readWrite.resources]) expect(r.options.deleteBeforeReplace).toBe(false);
    });

    it("moving to another repository rotates the key too", async () => {
        const before = await runStack({ stack: "infra" });
        const after = await runStack({ stack: "infra", edit: (v) => ({ ...v, gitops: { ...(v.gitops as object), repository: "monosense/home-ops" } }) });
        expect(deployKey(after).inputs.repository).toBe("home-ops");
        expect(reveal(deployKey(after).inputs.key)).not.toBe(reveal(deployKey(before).inputs.key));
    });

    it("makes Flux's Secret wait for the deploy key, so a new identity reaches Flux only once GitHub has it", async () => {
        const run = await runStack({ stack: "infra" });
        const secret = run.one("Secret", "gitops-deploy-key-secret");
        expect(secret.options.dependsOn).toContain(deployKey(run).urn);
    });
});
