// Secret-ness across the whole program: whatever is secret anywhere (a config secret, a provider's secret output,
// a derived credential) must not appear in plain text in any resource input, component output or stack output,
// which is what the engine stores and what a preview shows.
import { describe, expect, it } from "vitest";
import { toPlanJson } from "../offline/runtime";
import { isWireSecret, redact, runStack, secretStrings, TEST_AGE_KEY, testKubeconfig, type StackRun } from "./harness";

const componentOutput = (run: StackRun, type: string, key: string) => {
    const c = run.resources.find((r) => r.type === type);
    expect(c, type).toBeDefined();
    return run.componentOutputs[c!.urn]?.[key];
};

describe.each(["infra", "apps"])("secrets of the %s stack", (stack) => {
    it("are never in plain text in an input, a component output or a stack output", async () => {
        const run = await runStack({
            stack,
            secrets: { kubeconfig: `${testKubeconfig({ context: `admin@${stack}` })}# kubeconfig-under-test\n` },
            config: { bootstrapSecrets: [{ namespace: "external-secrets", name: "store-token", data: { token: "bootstrap-secret-under-test" } }] },
        });
        expect(run.error).toBeUndefined();
        const secrets = secretStrings(run);
        // The collection sees the config secrets and what providers and the program derive.
        expect(secrets).toContain(TEST_AGE_KEY);
        expect([...secrets].some((s) => s.includes("kubeconfig-under-test"))).toBe(true);
        expect(secrets).toContain("bootstrap-secret-under-test");
        expect(secrets).toContain("placeholder:AccountToken/dns-token/value");
        expect([...secrets].some((s) => s.startsWith("placeholder:tunnel-token/"))).toBe(true);
        expect([...secrets].some((s) => /^[0-9a-f]{64}$/.test(s))).toBe(true);
        const visible = JSON.stringify([
            run.resources.map((r) => redact(r.inputs)),
            Object.values(run.componentOutputs).map(redact),
            redact(run.outputs),
            toPlanJson(run),
        ]);
        for (const s of secrets) expect(visible.includes(s), `visible: ${s.slice(0, 16)}…`).toBe(false);
    });

    it("are secret where components hand them on, not only where a Secret re-wraps them", async () => {
        const run = await runStack({ stack });
        expect(isWireSecret(componentOutput(run, "cluster-bootstrap:edge:ClusterEdge", "token"))).toBe(true);
        for (const key of ["accessKeyId", "secretAccessKey"]) {
            expect(isWireSecret(componentOutput(run, "cluster-bootstrap:backups:BackupBuckets", key)), key).toBe(true);
        }
        expect(isWireSecret(componentOutput(run, "cluster-bootstrap:webhook:PushReconcile", "webhookUrl"))).toBe(true);
        expect(isWireSecret(componentOutput(run, "cluster-bootstrap:dns-token:DnsToken", "token"))).toBe(true);
        expect(isWireSecret(componentOutput(run, "cluster-bootstrap:gitops:GitOpsHandoff", "deployKeyPublic"))).toBe(false);
    });
});
