// A world for the preflight to check, all on 127.0.0.1: a fake `pulumi` CLI on PATH holding the stack's config,
// and fake Kubernetes, GitHub and Cloudflare APIs. It starts healthy; each test breaks one thing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { ROOT } from "../config/keys";
import { fakeApi, k8sStatus, type FakeAnswer, type FakeApi, type FakeRequest } from "./fake-apis";
import { TEST_AGE_KEY, TEST_AGE_RECIPIENT, testKubeconfig } from "./harness";

export const SECRETS = {
    kubeToken: "kube-token-SENTINEL-0001-not-real",
    github: "github_pat_SENTINEL0002notrealnotrealnotreal",
    cloudflare: "cf-token-SENTINEL-0003-not-real-at-all",
    passphrase: "passphrase-SENTINEL-0004",
};

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";

export interface Scenario {
    stack: string;
    stacks: string[];
    version?: string;
    config: Record<string, { value: unknown; secret?: boolean }>;
    fail?: Record<string, { code?: number; stderr?: string }>;
    hang?: string[];
    noPassphrase?: boolean;
    run?: Record<string, string>;
    /** What `pulumi stack output --json` prints; a secret value shows as `[secret]` unless `--show-secrets`. */
    outputs?: Record<string, { value: unknown; secret?: boolean }>;
}

export interface World {
    scenario: Scenario;
    kube: FakeApi;
    github: FakeApi;
    cloudflare: FakeApi;
    /** What the Kubernetes API says: CLUSTER_NAME (undefined: no cluster-vars) and node readiness. */
    cluster: { clusterName?: string; nodes: boolean[] };
    /** Directories on the repository's main branch: gitops.path and the stack file's platform release paths. */
    directories: string[];
    /** Overrides per GitHub/Cloudflare path (`GET /repos/…`); anything else answers as a healthy account. */
    githubRoutes: Record<string, FakeAnswer>;
    cloudflareRoutes: Record<string, FakeAnswer>;
    /** Environment for the preflight: PATH with the fake CLI first, the fake APIs' base URLs. */
    env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
    /** Arguments of every `pulumi` call so far. */
    pulumiCalls(): string[][];
    /** Writes the scenario for the fake CLI; call after changing it. */
    save(): void;
    close(): Promise<void>;
}

const sopsYaml = (recipient: string) => Buffer.from(`creation_rules:\n  - path_regex: .*\\.sops\\.ya?ml\n    encrypted_regex: ^(data|stringData)$\n    key_groups:\n      - age:\n          - ${recipient}\n`).toString("base64");

export async function world(stack = "infra"): Promise<World> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, "test", "fake-pulumi.cjs")}" "$@"\n`, { mode: 0o755 });
    const scenarioFile = path.join(dir, "scenario.json");
    const log = path.join(dir, "calls.log");

    const kube = await fakeApi({ tls: true });
    const github = await fakeApi();
    const cloudflare = await fakeApi();
    const w: Partial<World> = { kube, github, cloudflare, cluster: { nodes: [true, true] }, githubRoutes: {}, cloudflareRoutes: {} };

    kube.handler = (req: FakeRequest) => {
        if (req.authorization !== `Bearer ${SECRETS.kubeToken}`) return k8sStatus(401, "Unauthorized");
        if (req.path === "/api/v1/namespaces/flux-system/configmaps/cluster-vars") {
            return w.cluster!.clusterName === undefined ? k8sStatus(404, "NotFound")
                : { status: 200, body: { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "cluster-vars" }, data: { CLUSTER_NAME: w.cluster!.clusterName } } };
        }
        if (req.path === "/api/v1/nodes") {
            return {
                status: 200,
                body: {
                    kind: "NodeList", apiVersion: "v1", metadata: {},
                    items: w.cluster!.nodes.map((ready, i) => ({
                        metadata: { name: `node-${i}` }, status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
                    })),
                },
            };
        }
        return k8sStatus(404, "NotFound");
    };

    github.handler = (req: FakeRequest) => {
        if (req.authorization !== `Bearer ${SECRETS.github}`) return { status: 401, body: { message: "Bad credentials" } };
        const key = `${req.path}${req.query.size ? `?${req.query}` : ""}`;
        if (w.githubRoutes![key]) return w.githubRoutes![key];
        if (w.githubRoutes![req.path]) return w.githubRoutes![req.path];
        const repo = "/repos/monosense/k8s-ops";
        if (req.path === "/rate_limit") return { status: 200, body: { resources: {} } };
        if (req.path === repo) return { status: 200, body: { full_name: "monosense/k8s-ops" } };
        if (req.path === `${repo}/branches/main`) return { status: 200, body: { name: "main" } };
        if (req.path.startsWith(`${repo}/contents/`) && req.query.get("ref") === "main") {
            const p = req.path.slice(`${repo}/contents/`.length);
            if (p === ".sops.yaml") return { status: 200, body: { type: "file", encoding: "base64", content: sopsYaml(TEST_AGE_RECIPIENT) } };
            if (w.directories!.includes(p)) return { status: 200, body: [{ name: "kustomization.yaml", type: "file" }] };
        }
        if (req.path === `${repo}/keys` || req.path === `${repo}/hooks`) return { status: 200, body: [] };
        return { status: 404, body: { message: "Not Found" } };
    };

    cloudflare.handler = (req: FakeRequest) => {
        const key = `${req.path}${req.query.size ? `?${req.query}` : ""}`;
        if (w.cloudflareRoutes![key]) return w.cloudflareRoutes![key];
        if (w.cloudflareRoutes![req.path]) return w.cloudflareRoutes![req.path];
        const fine = (result: unknown) => ({ status: 200, body: { success: true, errors: [], messages: [], result } });
        if (req.authorization !== `Bearer ${SECRETS.cloudflare}`) {
            return { status: 401, body: { success: false, errors: [{ code: 1000, message: "Invalid API Token" }], messages: [], result: null } };
        }
        if (req.path === "/user/tokens/verify") return fine({ id: "t", status: "active" });
        if (req.path === "/zones") {
            return fine(req.query.get("name") === "monosense.dev" && req.query.get("account.id") === ACCOUNT ? [{ id: "z", name: "monosense.dev", status: "active" }] : []);
        }
        if (req.path === `/accounts/${ACCOUNT}/r2/buckets`) return fine({ buckets: [] });
        if (req.path === `/accounts/${ACCOUNT}/cfd_tunnel`) return fine([]);
        if (req.path === `/accounts/${ACCOUNT}/tokens/permission_groups`) {
            const name = req.query.get("name");
            return fine(["Workers R2 Storage Bucket Item Write", "Workers R2 Storage Bucket Item Read", "Zone Read", "DNS Write"]
                .filter((g) => g === name).map((g) => ({ id: `id-${g}`, name: g })));
        }
        return { status: 404, body: { success: false, errors: [{ code: 7003, message: "Could not route" }], messages: [], result: null } };
    };

    // The committed stack file as the CLI would list it, plus the secrets a real stack holds.
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const config: Scenario["config"] = {};
    for (const [k, v] of Object.entries(doc.config)) config[k.includes(":") ? k : `cluster-bootstrap:${k}`] = { value: v };
    config["cluster-bootstrap:sops"] = { value: { recipient: TEST_AGE_RECIPIENT } };
    config["cluster-bootstrap:sopsAgeKey"] = { value: TEST_AGE_KEY, secret: true };
    config["cluster-bootstrap:kubeconfig"] = { value: testKubeconfig({ server: kube.url, token: SECRETS.kubeToken, caData: kube.caData, context: `admin@${stack}` }), secret: true };
    config["cloudflare:apiToken"] = { value: SECRETS.cloudflare, secret: true };
    config["github:token"] = { value: SECRETS.github, secret: true };
    const scenario: Scenario = { stack, stacks: ["infra", "apps"], config };
    const platform = (config["cluster-bootstrap:platform"]?.value as { releases?: Array<{ path: string }> } | undefined)?.releases ?? [];
    w.directories = [`clusters/${stack}/flux`, ...platform.map((r) => r.path)];

    Object.assign(w, {
        scenario,
        save: () => fs.writeFileSync(scenarioFile, JSON.stringify(scenario)),
        env: (extra: NodeJS.ProcessEnv = {}) => ({
            PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
            HOME: dir,
            FAKE_PULUMI_SCENARIO: scenarioFile,
            FAKE_PULUMI_LOG: log,
            PULUMI_CONFIG_PASSPHRASE: SECRETS.passphrase,
            CLUSTER_BOOTSTRAP_TEST_GITHUB_API: github.url,
            CLUSTER_BOOTSTRAP_TEST_CLOUDFLARE_API: cloudflare.url,
            ...extra,
        }),
        pulumiCalls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]) : []),
        close: async () => {
            await Promise.all([kube.close(), github.close(), cloudflare.close()]);
        },
    });
    w.save!();
    return w as World;
}
