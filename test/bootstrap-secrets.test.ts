// Secret zero through the whole program: the Secrets and their namespaces, exact bytes, ordering against Flux, and the
// sentinel values that must never show: not in an input, an output, a component output, an error, the plan JSON or
// the plan's tree, stdout or stderr.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROGRAM_SECRETS } from "../config/bootstrap-secrets";
import { ConfigError } from "../config";
import { toPlanJson } from "../offline/runtime";
import { ROOT } from "../config/keys";
import { isWireSecret, plainAt, redact, runStack, waitsFor, type RecordedResource, type StackRun } from "./harness";
import { CLUSTER_SECRETS, DEPLOY_KEY_SECRET, SOPS_AGE_SECRET, WEBHOOK_TOKEN_SECRET } from "../config/names";
import { runPlan } from "./plan-command";
import { KUSTOMIZATION, SECRET } from "./resource-types";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const COMPONENT = "cluster-bootstrap:bootstrap-secrets:BootstrapSecrets";

// What 1Password Connect's credentials file looks like, sentinels in every value, ending in a newline that must stay.
const CREDENTIALS = '{"verifier":{"salt":"SENTINEL-salt-0b7e","localHash":"SENTINEL-hash-0b7e"},\n'
    + ' "encCredentials":{"kid":"SENTINEL-kid-0b7e","enc":"A256GCM","cty":"b5+jwk+json","iv":"SENTINEL-iv","data":"SENTINEL-data"},\n'
    + ' "version":"2","deviceUuid":"SENTINEL-device-0b7e","uniqueKey":{"alg":"A256GCM","ext":true,"k":"SENTINEL-k-0b7e"}}\n';
const CONNECT_TOKEN = "SENTINEL-connect-token-0b7e";
const VAULT_TOKEN = "SENTINEL-vault-token-0b7e";
const SENTINELS = [CONNECT_TOKEN, VAULT_TOKEN, "SENTINEL-salt-0b7e", "SENTINEL-k-0b7e", "SENTINEL-data"];

const BOOTSTRAP = [
    { namespace: "external-secrets", name: "onepassword-connect", data: { "1password-credentials.json": CREDENTIALS, token: CONNECT_TOKEN } },
    { namespace: "flux-system", name: "vault-token", data: { token: VAULT_TOKEN } },
    { namespace: "external-secrets", name: "onepassword-sa", data: { token: "SENTINEL-sa-0b7e" } },
];

const secret = (run: StackRun, namespace: string, name: string): RecordedResource => {
    const found = run.ofType(SECRET).filter((s) => plainAt(s, "metadata.name") === name && plainAt(s, "metadata.namespace") === namespace);
    expect(found, `${namespace}/${name}`).toHaveLength(1);
    return found[0];
};

const visible = (run: StackRun) => JSON.stringify([
    run.resources.map((r) => redact(r.inputs)),
    run.resources.map((r) => redact(r.outputs)),
    Object.values(run.componentOutputs).map(redact),
    redact(run.outputs),
    toPlanJson(run),
    run.notes,
]);

it("refuses the Secrets the program itself writes in flux-system, whatever components call them", () => {
    expect([...PROGRAM_SECRETS].sort()).toEqual([CLUSTER_SECRETS, SOPS_AGE_SECRET, DEPLOY_KEY_SECRET, WEBHOOK_TOKEN_SECRET].sort());
});

describe.each(["infra", "apps"])("bootstrap Secrets on the %s stack", (stack) => {
    let run: StackRun;

    beforeAll(async () => {
        run = await runStack({ stack, config: { bootstrapSecrets: BOOTSTRAP } });
        expect(run.error).toBeUndefined();
    });

    it("creates one Secret per entry, its data secret and exactly as given, the credentials file's bytes included", () => {
        const connect = secret(run, "external-secrets", "onepassword-connect");
        expect(isWireSecret(connect.inputs.stringData)).toBe(true);
        expect(plainAt(connect, "stringData")).toEqual({ "1password-credentials.json": CREDENTIALS, token: CONNECT_TOKEN });
        const file = (plainAt(connect, "stringData") as Record<string, string>)["1password-credentials.json"];
        expect(Buffer.from(file, "utf8").equals(Buffer.from(CREDENTIALS, "utf8"))).toBe(true);
        expect(plainAt(connect, "type")).toBe("Opaque");
        expect(plainAt(secret(run, "flux-system", "vault-token"), "stringData")).toEqual({ token: VAULT_TOKEN });
        for (const s of run.ofType(SECRET).filter((x) => x.parent.endsWith(`${COMPONENT}::bootstrap-secrets`))) {
            expect(s.options.retainOnDelete, s.name).toBe(true);
            expect(plainAt(s, "metadata.labels")).toEqual({ "kustomize.toolkit.fluxcd.io/prune": "disabled" });
            expect(s.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["data", "stringData"]));
        }
    });

    it("makes sure of each namespace once, retained and unprunable, and uses Flux's own flux-system", () => {
        const namespaces = run.ofType(NAMESPACE).filter((n) => n.parent.endsWith(`${COMPONENT}::bootstrap-secrets`));
        expect(namespaces.map((n) => plainAt(n, "metadata.name"))).toEqual(["external-secrets"]);
        expect(plainAt(namespaces[0], "metadata.labels")).toEqual({ "kustomize.toolkit.fluxcd.io/prune": "disabled" });
        expect(namespaces[0].options.retainOnDelete).toBe(true);
        expect(secret(run, "external-secrets", "onepassword-connect").dependencies).toContain(namespaces[0].urn);
        expect(secret(run, "flux-system", "vault-token").dependencies).toContain(run.one(NAMESPACE, "flux-namespace").urn);
    });

    it("has the root Kustomization wait for every bootstrap Secret", () => {
        const ks = run.one(KUSTOMIZATION);
        const bootstrap = run.ofType(SECRET).filter((s) => s.parent.endsWith(`${COMPONENT}::bootstrap-secrets`));
        expect(bootstrap).toHaveLength(BOOTSTRAP.length);
        for (const s of bootstrap) expect(ks.options.dependsOn, s.name).toContain(s.urn);
    });

    it("never has a bootstrap Secret wait for Flux: the store's credentials are there before the first reconcile", async () => {
        const flux = [
            ...["kubernetes:fluxcd.controlplane.io/v1:FluxInstance", KUSTOMIZATION, "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"]
                .map((t) => run.one(t).urn),
            // The operator's release and the platform releases before it.
            ...run.ofType("kubernetes:helm.sh/v3:Release").map((r) => r.urn),
        ];
        for (const s of run.ofType(SECRET).filter((x) => x.parent.endsWith(`${COMPONENT}::bootstrap-secrets`))) {
            const before = waitsFor(run, s);
            for (const urn of flux) expect(before.has(urn), `${s.name} waits for ${urn}`).toBe(false);
        }
    });

    it("never shows a value: not in inputs, outputs, component outputs, stack outputs or the plan", async () => {
        const shown = visible(run);
        for (const s of SENTINELS) expect(shown.includes(s), s).toBe(false);
        expect(shown).not.toContain("SENTINEL");
        // The names are not secret: the plan shows which Secrets it writes.
        const component = run.resources.find((r) => r.type === COMPONENT)!;
        expect(run.componentOutputs[component.urn]).toEqual({
            secretNames: ["external-secrets/onepassword-connect", "flux-system/vault-token", "external-secrets/onepassword-sa"],
        });
    });
});

describe("without bootstrapSecrets", () => {
    it("writes no bootstrap Secret and the root Kustomization waits for Flux alone", async () => {
        const run = await runStack();
        expect(run.error).toBeUndefined();
        expect(run.resources.some((r) => r.type === COMPONENT)).toBe(false);
        expect(run.one(KUSTOMIZATION).options.dependsOn).toEqual([run.one("kubernetes:fluxcd.controlplane.io/v1:FluxInstance").urn]);
    });
});

describe("bootstrapSecrets that are wrong", () => {
    const problems = async (opts: Parameters<typeof runStack>[0]) => {
        const run = await runStack(opts);
        expect(run.error).toBeInstanceOf(ConfigError);
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
        const found = (run.error as ConfigError).problems;
        expect(JSON.stringify([found, (run.error as Error).message])).not.toContain("SENTINEL");
        return found;
    };

    it("are refused before anything is registered, naming the key and never a value", async () => {
        expect(await problems({
            config: {
                bootstrapSecrets: [
                    { namespace: "SENTINEL-ns", name: "sops-age", data: { "SENTINEL key": CONNECT_TOKEN } },
                    { namespace: "flux-system", name: "sops-age", data: { token: VAULT_TOKEN } },
                    { namespace: "flux-system", name: "sops-age", data: { token: VAULT_TOKEN } },
                ],
            },
        })).toEqual([
            "cluster-bootstrap:bootstrapSecrets[0].namespace: is not a valid namespace name (a DNS label: lowercase letters, digits and '-', 63 at most); the value is not shown",
            "cluster-bootstrap:bootstrapSecrets[0].data: key #1 is not a valid Secret key (letters, digits, '-', '_' and '.', 253 at most); the key is not shown",
            "cluster-bootstrap:bootstrapSecrets[1].name: is a Secret the program writes in flux-system (cluster-secrets, sops-age, github-deploy-key, github-webhook-token); choose another name or namespace",
            "cluster-bootstrap:bootstrapSecrets[2].name: is a Secret the program writes in flux-system (cluster-secrets, sops-age, github-deploy-key, github-webhook-token); choose another name or namespace",
            "cluster-bootstrap:bootstrapSecrets[2]: repeats cluster-bootstrap:bootstrapSecrets[1] (the same namespace and name)",
        ]);
    });

    it("are refused when no value was set with --secret, without showing one", async () => {
        expect(await problems({ config: { bootstrapSecrets: BOOTSTRAP }, plainValues: ["bootstrapSecrets"] })).toEqual([
            "cluster-bootstrap:bootstrapSecrets: holds no secret value: its data was set without --secret and sits in plain text in the stack file; set every data value with --secret (and replace the credentials that were exposed)",
        ]);
    });

    it("are refused when the text is not JSON, without the SDK's message, which quotes it", async () => {
        expect(await problems({ config: { bootstrapSecrets: `[{"namespace": "SENTINEL-${VAULT_TOKEN}"` } })).toEqual([
            "cluster-bootstrap:bootstrapSecrets: is not a JSON list of Secrets, each {namespace, name, data}; the value is not shown",
        ]);
    });
});

describe("npm run plan with bootstrapSecrets", () => {
    const plan = (...args: string[]) => runPlan(args);
    const stackFile = (extra: string) => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-")), "Pulumi.test.yaml");
        fs.writeFileSync(file, fs.readFileSync(path.join(ROOT, "Pulumi.infra.yaml"), "utf8") + extra);
        return file;
    };
    const plainList = (entries: unknown) => `  cluster-bootstrap:bootstrapSecrets: ${JSON.stringify(entries)}\n`;

    it("plans the Secrets from values given in plain text and prints none of them, as a tree or as JSON", async () => {
        const file = stackFile(plainList(BOOTSTRAP));
        for (const args of [[], ["--json"]]) {
            const r = await plan("infra", ...args, "--config", file);
            expect(r.status, r.stderr).toBe(0);
            expect(r.stdout).toContain("bootstrap-secrets-external-secrets.onepassword-connect");
            expect(r.stdout + r.stderr).not.toContain("SENTINEL");
        }
        const json = JSON.parse((await plan("infra", "--json", "--config", file)).stdout) as { resources: Array<{ name: string; inputs: Record<string, unknown> }> };
        const connect = json.resources.find((r) => r.name === "bootstrap-secrets-external-secrets.onepassword-connect")!;
        expect(connect.inputs.stringData).toBe("[secret]");
    });

    it("exits 1 on bad entries, every problem on stderr and none showing a value", async () => {
        const file = stackFile(plainList([{ namespace: "Bad_SENTINEL", name: "x", data: { "SENTINEL key": VAULT_TOKEN, n: 7 } }]));
        const r = await plan("infra", "--json", "--config", file);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr.split("\n").filter((l) => l.startsWith("cluster-bootstrap:"))).toEqual([
            "cluster-bootstrap:bootstrapSecrets[0].namespace: is not a valid namespace name (a DNS label: lowercase letters, digits and '-', 63 at most); the value is not shown",
            "cluster-bootstrap:bootstrapSecrets[0].data: key #1 is not a valid Secret key (letters, digits, '-', '_' and '.', 253 at most); the key is not shown",
            "cluster-bootstrap:bootstrapSecrets[0].data: the value of key #2 is not a string: set it with --secret, which keeps it as text; the value is not shown",
        ]);
        expect(r.stderr).not.toContain("SENTINEL");
    });

    it("plans placeholders for values set with --secret --path, and notes a list set as one secret that it cannot read", async () => {
        const leaves = await plan("infra", "--json", "--config", stackFile(
            "  cluster-bootstrap:bootstrapSecrets:\n    - namespace: vault\n      name: vault-token\n      data:\n        token:\n          secure: v1:U0VOVElORUw=\n"));
        expect(leaves.status, leaves.stderr).toBe(0);
        expect(leaves.stderr).toContain("note: cluster-bootstrap:bootstrapSecrets holds offline placeholders for its secret values; its Secrets are planned with them\n");
        expect(leaves.stdout).toContain("bootstrap-secrets-vault.vault-token");
        expect(leaves.stdout).not.toContain("U0VOVElORUw=");

        const whole = await plan("infra", "--json", "--config", stackFile("  cluster-bootstrap:bootstrapSecrets:\n    secure: v1:U0VOVElORUw=\n"));
        expect(whole.status, whole.stderr).toBe(0);
        expect(whole.stderr).toContain("note: cluster-bootstrap:bootstrapSecrets is an offline placeholder for the whole list, which cannot be read offline; no bootstrap Secret is planned\n");
        expect(whole.stdout).not.toContain("bootstrap-secrets");
        expect(whole.stdout).not.toContain("U0VOVElORUw=");
    });
});
