// A world for the preflight to check, all on 127.0.0.1: a fake `pulumi` CLI holding the stack's config (answered
// in-process through the preflight's runner seam, or as a script on PATH), and fake Kubernetes, GitHub, Cloudflare
// and chart registry APIs. It starts healthy; each test breaks one thing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { DEFAULT_OPERATOR_CHART_VERSION } from "../config";
import { ROOT } from "../config/keys";
import type { PulumiRunner } from "../preflight";
import { fakeApi, k8sStatus, type FakeAnswer, type FakeApi, type FakeRequest } from "./fake-apis";
import { answer } from "./fake-pulumi.cjs";
import { TEST_AGE_KEY, TEST_AGE_RECIPIENT, testKubeconfig } from "./harness";
import { FIXTURES } from "./gitops-fixtures";

/** The GitOps repository's files the fake GitHub serves: the app directories of the committed stacks' platform releases. */
const GITOPS = FIXTURES.gitops;

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
    /** The config of the project's other stacks, by name, for the commands that read it (`config get … --stack apps`). */
    others?: Record<string, Record<string, { value: unknown; secret?: boolean }>>;
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
    /** Every chart registry and Helm repository: the preflight's test-only override sends each chart request here. */
    registry: FakeApi;
    /** Tags of each OCI repository the registry holds (`cilium/charts/cilium` → ["1.18.4"]). */
    charts: Record<string, string[]>;
    /** Each Helm repository's index.yaml by the repository's path (`spegel-org/charts`): chart name → versions. */
    helmIndexes: Record<string, Record<string, string[]>>;
    /** Permission groups the fake Cloudflare answers with `is_selectable: false`. */
    unselectable: string[];
    /** The `pulumi` CLI answered in-process from the scenario, as the script on PATH would answer it. */
    pulumi: PulumiRunner;
    /** What the Kubernetes API says: CLUSTER_NAME (undefined: no cluster-vars) and node readiness. */
    cluster: { clusterName?: string; nodes: boolean[] };
    /** Directories on the repository's main branch: gitops.path and the stack file's platform release paths. */
    directories: string[];
    /** Overrides per GitHub/Cloudflare path (`GET /repos/…`); anything else answers as a healthy account. */
    githubRoutes: Record<string, FakeAnswer>;
    cloudflareRoutes: Record<string, FakeAnswer>;
    /** Environment for the preflight: PATH with the fake CLI first, the fake APIs' base URLs. */
    env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
    /** Arguments of every `pulumi` call so far: the script's, then the in-process runner's. */
    pulumiCalls(): string[][];
    /** Writes the scenario for the fake CLI script; call after changing it (the in-process runner reads it live). */
    save(): void;
    close(): Promise<void>;
}

const sopsYaml = (recipient: string) => Buffer.from(`creation_rules:\n  - path_regex: .*\\.sops\\.ya?ml\n    encrypted_regex: ^(data|stringData)$\n    key_groups:\n      - age:\n          - ${recipient}\n`).toString("base64");

export async function world(stack = "infra"): Promise<World> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const scenarioFile = path.join(dir, "scenario.json");
    const log = path.join(dir, "calls.log");
    const answers = path.join(dir, "answers");
    // The CLI on PATH: the answers save() rendered for the commands the preflight runs, without a Node start per call;
    // anything else (the DR script's `config set`, `refresh`, `up` …) is answered by the fake CLI script itself.
    fs.writeFileSync(path.join(bin, "pulumi"), [
        "#!/bin/sh",
        `a="${answers}/$(printf '%s\\n' "$*" | tr -c 'A-Za-z0-9.\\n-' '_')"`,
        `if [ -f "$a.code" ]; then`,
        `  [ -n "$FAKE_PULUMI_LOG" ] && cat "$a.args" >> "$FAKE_PULUMI_LOG"`,
        `  [ -f "$a.hang" ] && exec sleep 3600`,
        `  cat "$a.out"; cat "$a.err" >&2; exit "$(cat "$a.code")"`,
        "fi",
        `FAKE_PULUMI_ANSWERS="${answers}" exec "${process.execPath}" "${path.join(ROOT, "test", "fake-pulumi.cjs")}" "$@"`,
        "",
    ].join("\n"), { mode: 0o755 });

    const kube = await fakeApi({ tls: true });
    const github = await fakeApi();
    const cloudflare = await fakeApi();
    const registry = await fakeApi();
    const w: Partial<World> = {
        kube, github, cloudflare, registry, cluster: { nodes: [true, true] }, githubRoutes: {}, cloudflareRoutes: {}, unselectable: [],
        // The tags test/fixtures/gitops pins, and the Flux Operator chart at the default operatorChartVersion.
        charts: {
            "cilium/charts/cilium": ["1.18.3", "1.18.4"],
            "coredns/charts/coredns": ["1.45.0"],
            "controlplaneio-fluxcd/charts/flux-operator": ["0.59.0", DEFAULT_OPERATOR_CHART_VERSION],
        },
        helmIndexes: { "spegel-org/charts": { spegel: ["0.3.0", "0.4.0"] } },
    };

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
            // A file of an app directory, as the contents API answers it: its own bytes for the raw media type (the
            // program's reader asks for that), else the JSON object with the content in base64.
            const file = path.join(GITOPS, p);
            if (!p.split("/").includes("..") && fs.existsSync(file) && fs.statSync(file).isFile()) {
                return req.accept?.includes("application/vnd.github.raw")
                    ? { status: 200, text: fs.readFileSync(file, "utf8"), headers: { "content-type": "application/vnd.github.raw+json; charset=utf-8" } }
                    : { status: 200, body: { type: "file", encoding: "base64", content: fs.readFileSync(file).toString("base64") } };
            }
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
        if (req.path === "/zones/z/dns_records") return fine([]);
        // An account with no Access objects yet: the lists answer empty, as they do (the committed infra stack has Access).
        if (req.path === `/accounts/${ACCOUNT}/access/apps` || req.path === `/accounts/${ACCOUNT}/access/policies`) return fine([]);
        if (req.path === `/accounts/${ACCOUNT}/tokens/permission_groups`) {
            const name = req.query.get("name");
            // As the list answers: `is_selectable` says whether this token may grant the group.
            return fine(["Workers R2 Storage Bucket Item Write", "Workers R2 Storage Bucket Item Read", "Zone Read", "DNS Write"]
                .filter((g) => g === name).map((g) => ({ id: `id-${g}`, name: g, is_selectable: !w.unselectable!.includes(g) })));
        }
        return { status: 404, body: { success: false, errors: [{ code: 7003, message: "Could not route" }], messages: [], result: null } };
    };

    registry.handler = (req: FakeRequest) => registryAnswer(req, w as World);

    // The committed stack file as the CLI would list it, plus the secrets a real stack holds.
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const config: Scenario["config"] = {};
    for (const [k, v] of Object.entries(doc.config)) config[k.includes(":") ? k : `cluster-bootstrap:${k}`] = { value: v };
    config["cluster-bootstrap:sops"] = { value: { recipient: TEST_AGE_RECIPIENT } };
    config["cluster-bootstrap:sopsAgeKey"] = { value: TEST_AGE_KEY, secret: true };
    config["cluster-bootstrap:kubeconfig"] = { value: testKubeconfig({ server: kube.url, token: SECRETS.kubeToken, caData: kube.caData, context: `admin@${stack}` }), secret: true };
    config["cloudflare:apiToken"] = { value: SECRETS.cloudflare, secret: true };
    config["github:token"] = { value: SECRETS.github, secret: true };
    // The other committed stack's own settings, as the backend holds them (no secrets are read from it).
    const others = Object.fromEntries(["infra", "apps"].filter((s) => s !== stack).map((s) => {
        const other = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${s}.yaml`), "utf8")) as { config: Record<string, unknown> };
        return [s, Object.fromEntries(Object.entries(other.config).map(([k, v]) => [k.includes(":") ? k : `cluster-bootstrap:${k}`, { value: v }]))];
    }));
    const scenario: Scenario = { stack, stacks: ["infra", "apps"], config, others };
    const platform = (config["cluster-bootstrap:platform"]?.value as { releases?: Array<{ path: string }> } | undefined)?.releases ?? [];
    w.directories = [`clusters/${stack}/flux`, ...platform.map((r) => r.path)];

    const calls: string[][] = [];
    Object.assign(w, {
        scenario,
        pulumi: (async (args) => {
            calls.push(args);
            const r = answer(scenario, args);
            // A command that never finishes: only the preflight's own bound ends the call.
            if (r === "hang") return new Promise(() => undefined);
            return { ok: r.code === 0, missing: false, timedOut: false, code: r.code, stdout: r.stdout, stderr: r.stderr };
        }) satisfies PulumiRunner,
        save: () => {
            fs.writeFileSync(scenarioFile, JSON.stringify(scenario));
            renderAnswers(answers, scenario);
        },
        env: (extra: NodeJS.ProcessEnv = {}) => ({
            PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
            HOME: dir,
            FAKE_PULUMI_SCENARIO: scenarioFile,
            FAKE_PULUMI_LOG: log,
            PULUMI_CONFIG_PASSPHRASE: SECRETS.passphrase,
            CLUSTER_BOOTSTRAP_TEST_GITHUB_API: github.url,
            CLUSTER_BOOTSTRAP_TEST_CLOUDFLARE_API: cloudflare.url,
            CLUSTER_BOOTSTRAP_TEST_CHARTS: registry.url,
            ...extra,
        }),
        pulumiCalls: () => [
            ...(fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]) : []),
            ...calls,
        ],
        close: async () => {
            await Promise.all([kube.close(), github.close(), cloudflare.close(), registry.close()]);
        },
    });
    w.save!();
    return w as World;
}

/** The token the fake registry hands out for anonymous pulls of one repository. */
export const anonymousToken = (repository: string) => `anonymous-pull-${repository}`;

/**
 * A chart registry as the distribution spec and Docker token auth describe it, plus classic Helm repositories:
 * - `/v2/<name>/manifests/<tag>` and `/v2/<name>/tags/list` answer 401 with a Bearer challenge unless the request
 *   carries the anonymous token for `<name>`, which `/token?service=…&scope=repository:<name>:pull` hands out;
 * - a manifest is found only when the Accept header admits an OCI image manifest, as distribution answers 404 to a
 *   client that does not accept OCI manifests (Helm charts are OCI image manifests);
 * - `/<repository path>/index.yaml` serves a Helm repository's index.
 */
function registryAnswer(req: FakeRequest, w: World): FakeAnswer {
    if (req.path === "/token") {
        const scope = /^repository:(.+):pull$/.exec(req.query.get("scope") ?? "");
        if (req.query.get("service") !== "fake-registry" || !scope) return { status: 400, body: { errors: [{ code: "UNSUPPORTED" }] } };
        return { status: 200, body: { token: anonymousToken(scope[1]) } };
    }
    const oci = /^\/v2\/(.+)\/(manifests\/([^/]+)|tags\/list)$/.exec(req.path);
    if (oci) {
        const [, name, , tag] = oci;
        if (req.authorization !== `Bearer ${anonymousToken(name)}`) {
            return {
                status: 401,
                body: { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
                headers: { "www-authenticate": `Bearer realm="${w.registry.url}/token",service="fake-registry",scope="repository:${name}:pull"` },
            };
        }
        const tags = w.charts[name];
        if (tag === undefined) return tags ? { status: 200, body: { name, tags } } : { status: 404, body: { errors: [{ code: "NAME_UNKNOWN" }] } };
        const acceptsOci = (req.accept ?? "").split(",").map((t) => t.trim()).includes("application/vnd.oci.image.manifest.v1+json");
        if (!tags?.includes(decodeURIComponent(tag)) || !acceptsOci) return { status: 404, body: { errors: [{ code: "MANIFEST_UNKNOWN" }] } };
        return { status: 200, headers: { "content-type": "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": `sha256:${"0".repeat(64)}` } };
    }
    const index = /^\/(.+)\/index\.yaml$/.exec(req.path);
    if (index && w.helmIndexes[index[1]]) {
        const entries = Object.entries(w.helmIndexes[index[1]]).map(([chart, versions]) =>
            `  ${chart}:\n${versions.map((v) => `    - name: ${chart}\n      version: ${v}\n      urls: [${chart}-${v}.tgz]\n`).join("")}`).join("");
        return { status: 200, text: `apiVersion: v1\nentries:\n${entries}generated: "2026-01-01T00:00:00Z"\n` };
    }
    return { status: 404, body: { errors: [{ code: "NOT_FOUND" }] } };
}

/** The commands the preflight runs for a scenario: its version, login, stack list, config and each key's value. */
function preflightCommands(scenario: Scenario): string[][] {
    const stack = ["--stack", scenario.stack];
    return [["version"], ["whoami", "--json"], ["stack", "ls", "--json"], ["config", "--json", ...stack],
        ...Object.keys(scenario.config).map((key) => ["config", "get", "--json", key, ...stack]),
        ...scenario.stacks.filter((s) => s !== scenario.stack).map((s) => ["config", "get", "--json", "cluster-bootstrap:cluster", "--stack", s])];
}

/**
 * Writes what the fake CLI answers to each of {@link preflightCommands}, under the name the shell script on PATH
 * derives from its arguments (every character but letters, digits, `.` and `-` as `_`): the same answers as the
 * script's own, read with `cat` instead of a Node start.
 */
function renderAnswers(dir: string, scenario: Scenario): void {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    for (const args of preflightCommands(scenario)) {
        const file = path.join(dir, args.join(" ").replace(/[^A-Za-z0-9.\n-]/g, "_"));
        const r = answer(scenario, args);
        fs.writeFileSync(`${file}.args`, `${JSON.stringify(args)}\n`);
        if (r === "hang") fs.writeFileSync(`${file}.hang`, "");
        fs.writeFileSync(`${file}.out`, r === "hang" ? "" : r.stdout);
        fs.writeFileSync(`${file}.err`, r === "hang" ? "" : r.stderr);
        fs.writeFileSync(`${file}.code`, r === "hang" ? "0" : String(r.code));
    }
}
