// Hub and spoke: the apps stack reads the infra stack's outputs through a StackReference and hands its repository the
// hub's URLs (cluster-vars) and the service token (cluster-secrets, secret). Offline, the referenced stack's outputs
// come from a file (--stack-outputs) or are placeholders, with a note saying so.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { ConfigError } from "../config";
import { HUB_HOSTNAMES_OUTPUT, SERVICE_TOKENS_OUTPUT } from "../config/hub";
import type { StackOutputs } from "../offline/fakes";
import { toPlanJson } from "../offline/runtime";
import { ROOT } from "../config/keys";
import { parseStackOutputs, StackOutputsFileError, unusedStackOutputsNote } from "../offline/stack-outputs";
import { withAccess } from "./access-fixtures";
import { isWireSecret, plainAt, reveal, runStack, type StackRun, type Values } from "./harness";
import { runPlan } from "./plan-command";

const HUB = { stack: "infra", hostnames: ["vm.monosense.dev"] };
const spoke = (hub: Record<string, unknown> = HUB) => (v: Values) => ({ ...v, hub });
const CREDENTIALS = { clientId: "0123abcd.access", clientSecret: "hub-client-secret-under-test" };
const hubOutputs = (over: Partial<StackOutputs["outputs"]> = {}, secretOutputNames = [SERVICE_TOKENS_OUTPUT]): Record<string, StackOutputs> => ({
    infra: {
        outputs: { [HUB_HOSTNAMES_OUTPUT]: { "apps-to-hub": ["vm.monosense.dev", "logs.monosense.dev"] }, [SERVICE_TOKENS_OUTPUT]: { "apps-to-hub": CREDENTIALS }, ...over },
        secretOutputNames,
    },
});
const vars = (run: StackRun) => plainAt(run.one("kubernetes:core/v1:ConfigMap", "contract-vars"), "data") as Record<string, string>;
const secretsOf = (run: StackRun) => run.one("kubernetes:core/v1:Secret", "contract-secrets");

describe("a spoke with its hub's outputs", () => {
    let run: StackRun;
    beforeAll(async () => {
        run = await runStack({ stack: "apps", edit: spoke({ stack: "infra", hostnames: ["vm.monosense.dev", "logs.monosense.dev"] }), stackOutputs: hubOutputs() });
        expect(run.error).toBeUndefined();
    });

    it("hands its repository HUB_<NAME>_URL in cluster-vars and the token only in cluster-secrets", () => {
        expect(vars(run)).toMatchObject({ HUB_VM_URL: "https://vm.monosense.dev", HUB_LOGS_URL: "https://logs.monosense.dev" });
        expect(Object.keys(vars(run)).filter((k) => k.startsWith("HUB_ACCESS"))).toEqual([]);
        expect(JSON.stringify(vars(run))).not.toContain(CREDENTIALS.clientSecret);
        const secrets = secretsOf(run);
        expect(isWireSecret(secrets.inputs.stringData)).toBe(true);
        expect(plainAt(secrets, "stringData")).toMatchObject({ HUB_ACCESS_CLIENT_ID: CREDENTIALS.clientId, HUB_ACCESS_CLIENT_SECRET: CREDENTIALS.clientSecret });
    });

    it("reads the hub's stack once, by the configured name, under the link component, and shows the read in the plan", () => {
        const reads = run.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
        expect(reads).toHaveLength(1);
        const link = run.resources.find((r) => r.type === "cluster-bootstrap:hub:HubLink")!;
        expect(reads[0]).toMatchObject({ name: "hub-stack", id: "infra", inputs: { name: "infra" }, parent: link.urn });
        expect(toPlanJson(run).resources.find((r) => r.type === "pulumi:pulumi:StackReference")?.inputs).toEqual({ name: "infra" });
    });

    it("gets the read answered as the engine answers it: the hub's secret outputs secret, the others plain", () => {
        const read = run.resources.find((r) => r.type === "pulumi:pulumi:StackReference")!;
        const state = read.outputs as { outputs: Record<string, unknown>; secretOutputNames: string[] };
        expect(state.secretOutputNames).toEqual([SERVICE_TOKENS_OUTPUT]);
        expect(isWireSecret(state.outputs[SERVICE_TOKENS_OUTPUT])).toBe(true);
        expect(isWireSecret(state.outputs[HUB_HOSTNAMES_OUTPUT])).toBe(false);
    });

    it("keeps the credentials secret where the link hands them on, and outputs the URLs in plain text", () => {
        const link = run.resources.find((r) => r.type === "cluster-bootstrap:hub:HubLink")!;
        const outputs = run.componentOutputs[link.urn];
        expect(isWireSecret(outputs.clientId)).toBe(true);
        expect(isWireSecret(outputs.clientSecret)).toBe(true);
        expect(isWireSecret(outputs.urls)).toBe(false);
        expect(run.plainOutputs().hubUrls).toEqual({ HUB_VM_URL: "https://vm.monosense.dev", HUB_LOGS_URL: "https://logs.monosense.dev" });
        expect(JSON.stringify(toPlanJson(run))).not.toContain(CREDENTIALS.clientSecret);
        expect(run.notes.filter((n) => n.includes("placeholders"))).toEqual([]);
    });
});

describe("the hub's credentials", () => {
    it("stay secret even when the hub's stack exported them in plain text", async () => {
        const run = await runStack({ stack: "apps", edit: spoke(), stackOutputs: hubOutputs({}, []) });
        expect(run.error).toBeUndefined();
        const link = run.resources.find((r) => r.type === "cluster-bootstrap:hub:HubLink")!;
        expect(isWireSecret(run.componentOutputs[link.urn].clientSecret)).toBe(true);
        expect(isWireSecret(secretsOf(run).inputs.stringData)).toBe(true);
    });

    it("come from the token of the infra stack's own plan: infra first, then apps with its outputs", async () => {
        const infra = await runStack({ stack: "infra", edit: (v) => withAccess(v) });
        expect(infra.error).toBeUndefined();
        // What `pulumi stack output --json --show-secrets` gives, with the names the engine marks secret.
        const outputs = reveal(infra.outputs) as Record<string, unknown>;
        const secretOutputNames = Object.entries(infra.outputs).filter(([, v]) => isWireSecret(v)).map(([k]) => k);
        expect(secretOutputNames).toContain(SERVICE_TOKENS_OUTPUT);
        const apps = await runStack({ stack: "apps", edit: spoke(), stackOutputs: { infra: { outputs, secretOutputNames } } });
        expect(apps.error).toBeUndefined();
        expect(plainAt(secretsOf(apps), "stringData")).toMatchObject({
            HUB_ACCESS_CLIENT_ID: "placeholder:ZeroTrustAccessServiceToken/access-token-apps-to-hub/clientId",
            HUB_ACCESS_CLIENT_SECRET: "placeholder:ZeroTrustAccessServiceToken/access-token-apps-to-hub/clientSecret",
        });
    });
});

describe("placeholders for the hub's outputs", () => {
    it("say so in a note, and stand for what the hub would export for this config", async () => {
        const run = await runStack({ stack: "apps", edit: spoke({ stack: "monosense/cluster-bootstrap/infra", hostnames: ["vm.monosense.dev"], serviceToken: "metrics" }) });
        expect(run.error).toBeUndefined();
        expect(run.notes).toContain('outputs of stack "monosense/cluster-bootstrap/infra" are placeholders: no --stack-outputs file gives them');
        expect(plainAt(secretsOf(run), "stringData")).toMatchObject({
            HUB_ACCESS_CLIENT_ID: "placeholder:stack/monosense/cluster-bootstrap/infra/accessServiceTokens/metrics/clientId",
            HUB_ACCESS_CLIENT_SECRET: "placeholder:stack/monosense/cluster-bootstrap/infra/accessServiceTokens/metrics/clientSecret",
        });
        expect(vars(run).HUB_VM_URL).toBe("https://vm.monosense.dev");
    });

    it("are not needed without a hub: no read, no note, no HUB_ keys", async () => {
        // The committed apps stack is a spoke: the same stack without its hub.
        const run = await runStack({ stack: "apps", edit: (v) => ({ ...v, hub: undefined }) });
        expect(run.error).toBeUndefined();
        expect(run.resources.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
        expect(run.notes.filter((n) => n.includes("placeholders"))).toEqual([]);
        expect(Object.keys(vars(run)).filter((k) => k.startsWith("HUB_"))).toEqual([]);
    });
});

describe("a hub that does not open what the spoke sends to stops the run before anything else is registered", () => {
    async function refused(stackOutputs: Record<string, StackOutputs>, hub: Record<string, unknown> = HUB): Promise<string[]> {
        const run = await runStack({ stack: "apps", edit: spoke(hub), stackOutputs });
        expect(run.error).toBeInstanceOf(ConfigError);
        // Only the read of the hub's stack.
        expect(run.resources.filter((r) => r.custom).map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);
        return (run.error as ConfigError).problems;
    }

    it("a hostname the token does not open", async () => {
        expect(await refused(hubOutputs(), { stack: "infra", hostnames: ["vm.monosense.dev", "traces.monosense.dev"] })).toEqual([
            'cluster-bootstrap:hub.hostnames[1]: "traces.monosense.dev" is not a hostname stack "infra" opens to service token "apps-to-hub" '
            + '(it opens "vm.monosense.dev", "logs.monosense.dev")',
        ]);
    });

    it("a token the hub does not issue", async () => {
        expect(await refused(hubOutputs(), { ...HUB, serviceToken: "edge-to-hub" })).toEqual([
            'cluster-bootstrap:hub.serviceToken: stack "infra" issues no service token "edge-to-hub" (its tokens: "apps-to-hub"); add it to '
            + "that stack's cluster-bootstrap:access.serviceTokens and run it first, or name one of its tokens here",
        ]);
    });

    it("a hub that is this stack itself, refused before its own outputs are read", async () => {
        const run = await runStack({ stack: "apps", edit: spoke({ ...HUB, stack: "apps" }) });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect(run.resources.filter((r) => r.custom)).toEqual([]);
        expect((run.error as ConfigError).problems).toEqual([
            'cluster-bootstrap:hub.stack: "apps" is this stack itself: name the hub\'s stack (the one whose cluster-bootstrap:access.serviceTokens '
            + "issues this cluster's token), or remove cluster-bootstrap:hub on the hub",
        ]);
    });

    it("a hub stack that exports nothing (not run yet, or without access)", async () => {
        expect(await refused({ infra: { outputs: {}, secretOutputNames: [] } })).toEqual([
            'cluster-bootstrap:hub.stack: stack "infra" exports no hubHostnames and accessServiceTokens: set its '
            + 'cluster-bootstrap:access.serviceTokens to include "apps-to-hub" and run it before this stack',
        ]);
    });
});

describe("stack outputs files", () => {
    it("read stacks with their outputs and secret names; without names every output is secret", () => {
        expect(parseStackOutputs(JSON.stringify({ infra: { outputs: { a: 1, b: "x" }, secretOutputNames: ["b"] }, other: { outputs: { c: 2 } } }), "f.json")).toEqual({
            infra: { outputs: { a: 1, b: "x" }, secretOutputNames: ["b"] },
            other: { outputs: { c: 2 }, secretOutputNames: ["c"] },
        });
    });

    it("refuse what they cannot use without echoing a value", () => {
        const problems = (text: string) => {
            try {
                parseStackOutputs(text, "f.json");
            } catch (e) {
                expect(e).toBeInstanceOf(StackOutputsFileError);
                return (e as StackOutputsFileError).problems;
            }
            return [];
        };
        expect(problems('{"infra": {"outputs": {"t": "hunter2-secret"}')).toEqual(["f.json: is not JSON"]);
        expect(problems("[]")).toEqual(['f.json: must be a JSON object of stacks: { "<stack>": { "outputs": {…}, "secretOutputNames": [...] } }']);
        expect(problems(JSON.stringify({ infra: { t: "hunter2-secret" }, apps: { outputs: {}, secretOutputNames: "all", extra: "hunter2-secret" } }))).toEqual([
            'f.json: infra: must be { "outputs": {…}, "secretOutputNames": [...] } (secretOutputNames optional)',
            "f.json: apps.extra: is not a known setting (outputs, secretOutputNames)",
            "f.json: apps.secretOutputNames: must be a list of output names",
        ]);
    });
});

describe("npm run plan -- apps with a hub", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-hub-"));
    const settings = path.join(dir, "Pulumi.apps.yaml");
    // The committed apps stack with its hub named as the outputs file below names it.
    const doc = parseDocument(fs.readFileSync(path.join(ROOT, "Pulumi.apps.yaml"), "utf8"));
    doc.setIn(["config", "cluster-bootstrap:hub"], doc.createNode({ stack: "infra", hostnames: ["vm.monosense.dev"] }));
    fs.writeFileSync(settings, doc.toString());
    const plan = (...args: string[]) => runPlan(["apps", "--json", "--config", settings, ...args]);

    it("takes the hub's outputs from --stack-outputs FILE and never prints the secret ones", async () => {
        const file = path.join(dir, "outputs.json");
        fs.writeFileSync(file, JSON.stringify(hubOutputs()));
        const r = await plan("--stack-outputs", file);
        expect(r.stderr).not.toContain("no --stack-outputs file gives them");
        expect(r.stderr).not.toContain("unused");
        expect(r.status).toBe(0);
        expect(r.stdout).not.toContain(CREDENTIALS.clientSecret);
        expect(r.stdout).not.toContain(CREDENTIALS.clientId);
        const json = JSON.parse(r.stdout);
        const cm = json.resources.find((x: { name: string }) => x.name === "contract-vars");
        expect(cm.inputs.data.HUB_VM_URL).toBe("https://vm.monosense.dev");
        expect(json.resources.find((x: { type: string }) => x.type === "pulumi:pulumi:StackReference").inputs).toEqual({ name: "infra" });
    });

    it("uses placeholders without the file and says so on stderr", async () => {
        const r = await plan();
        expect(r.status).toBe(0);
        expect(r.stderr).toContain('note: outputs of stack "infra" are placeholders: no --stack-outputs file gives them\n');
    });

    it("says on stderr that --stack-outputs is unused on a stack with no hub, and still plans", async () => {
        const file = path.join(dir, "outputs-for-infra.json");
        fs.writeFileSync(file, JSON.stringify(hubOutputs()));
        // The committed infra stack has no hub: it references no stack.
        const r = await runPlan(["infra", "--json", "--stack-outputs", file]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toContain(`note: --stack-outputs ${file} is unused: this stack references no other stack (it sets no cluster-bootstrap:hub)\n`);
        expect(JSON.parse(r.stdout).resources.some((x: { type: string }) => x.type === "pulumi:pulumi:StackReference")).toBe(false);
        expect(r.stderr).not.toContain(CREDENTIALS.clientSecret);
    });

    it("names the stacks of a --stack-outputs file the program does not reference", async () => {
        expect(unusedStackOutputsNote("o.json", ["infra", "edge"], ["infra"]))
            .toBe('o.json: the outputs of "edge" are unused: this stack references only "infra" (cluster-bootstrap:hub.stack)');
        expect(unusedStackOutputsNote("o.json", ["infra"], ["infra"])).toBeUndefined();
        expect(unusedStackOutputsNote("o.json", ["infra"], [])).toBe("--stack-outputs o.json is unused: this stack references no other stack (it sets no cluster-bootstrap:hub)");
    });

    it("exits 1 on a file it cannot use, 2 on a missing one, echoing nothing", async () => {
        const bad = path.join(dir, "bad.json");
        fs.writeFileSync(bad, '{"infra": {"outputs": {"x": "hunter2-secret"}');
        const r = await plan("--stack-outputs", bad);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`${bad}: is not JSON\n`);
        expect((await plan("--stack-outputs", path.join(dir, "missing.json"))).status).toBe(2);
        expect((await plan("--stack-outputs")).status).toBe(2);
    });
});
