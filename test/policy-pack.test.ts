// The pack as the Pulumi CLI runs it: Pulumi's own policy-pack runner (`@pulumi/pulumi/cmd/run-policy-pack`,
// resolved from the pack's directory as the Node language host does) started in a child process, and talked to over
// the analyzer gRPC protocol the engine speaks. Shows the pack compiles under the runner's ts-node, registers every
// rule, and what the engine gets back: decrypted secrets, unknown values and the missing retainOnDelete included.
// No PolicyPack is built in this process: the runner builds it in the child, which is killed afterwards.
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
    AnalyzeRequest, AnalyzeResponse, AnalyzerInfo, AnalyzerResource, AnalyzerResourceOptions, AnalyzeStackRequest, EnforcementLevel,
} from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";
import { policies, r2BucketProtected, RETAIN_ON_DELETE_NOT_SENT, TYPES } from "../policy/rules";

const PACK_DIR = path.join(ROOT, "policy");
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

interface Resource {
    type: string;
    name: string;
    props: Record<string, unknown>;
    protect?: boolean;
    additionalSecretOutputs?: string[];
}

const urnOf = (r: Resource) => `urn:pulumi:ci::cluster-bootstrap::${r.type}::${r.name}`;

function options(r: Resource): AnalyzerResourceOptions {
    return new AnalyzerResourceOptions().setProtect(r.protect ?? false).setAdditionalsecretoutputsList(r.additionalSecretOutputs ?? []);
}

function request(r: Resource): AnalyzeRequest {
    return new AnalyzeRequest().setType(r.type).setName(r.name).setUrn(urnOf(r))
        .setProperties(Struct.fromJavaScript(r.props as never)).setOptions(options(r));
}

function stackRequest(rs: Resource[]): AnalyzeStackRequest {
    return new AnalyzeStackRequest().setResourcesList(rs.map((r) => new AnalyzerResource().setType(r.type).setName(r.name)
        .setUrn(urnOf(r)).setProperties(Struct.fromJavaScript(r.props as never)).setOptions(options(r))));
}

const summary = (resp: AnalyzeResponse) => ({
    diagnostics: resp.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage(), urn: d.getUrn() })),
    notApplicable: Object.fromEntries(resp.getNotApplicableList().map((n) => [n.getPolicyName(), n.getReason()])),
});

describe("the pack under Pulumi's policy-pack runner", () => {
    let child: ChildProcess;
    let client: AnalyzerClient;
    let stderr = "";
    const kill = () => child?.kill();

    const call = <Req, Resp>(method: (req: Req, cb: (err: grpc.ServiceError | null, resp: Resp) => void) => unknown, req: Req) =>
        new Promise<Resp>((resolve, reject) => method.call(client, req, (err, resp) => (err ? reject(err) : resolve(resp))));
    const analyze = async (r: Resource) => summary(await call(client.analyze, request(r)));

    beforeAll(async () => {
        // The Node language host locates the runner from the pack's directory and runs it there.
        const runner = createRequire(path.join(PACK_DIR, "package.json")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
        child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
        process.once("exit", kill);
        child.stderr?.on("data", (d: Buffer) => { stderr += d.toString(); });
        const port = await new Promise<string>((resolve, reject) => {
            child.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim()));
            child.once("exit", (code) => reject(new Error(`the policy pack exited with ${code} before serving:\n${stderr}`)));
        });
        expect(port).toMatch(/^\d+$/);
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    }, 120_000);

    afterAll(() => {
        client?.close();
        kill();
        process.off("exit", kill);
    });

    it("compiles, serves and lists every rule as mandatory", async () => {
        const info = await call<Empty, AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
        expect(info.getName()).toBe("cluster-bootstrap");
        expect(info.getVersion()).toBe("0.1.0");
        expect(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()])).toEqual(
            policies.map((p) => [p.name, EnforcementLevel.MANDATORY]),
        );
        expect(stderr).toBe("");
    });

    it("blocks an unprotected R2 bucket with the rule's message", async () => {
        const bucket = { type: TYPES.r2Bucket, name: "backups-infra-cnpg", props: { accountId: "a", name: "infra-cnpg" } };
        expect((await analyze(bucket)).diagnostics).toEqual([{
            policy: "r2-bucket-protected",
            level: EnforcementLevel.MANDATORY,
            // The runner puts the rule's description above the report; a resource rule names no URN, the engine
            // attaches the diagnostic to the resource it asked about.
            message: `${r2BucketProtected.description}\n` +
                'R2 bucket "infra-cnpg" (backups-infra-cnpg) is not protected: a rename or a destroy would delete it and every backup in it. Register it with protect: true.',
            urn: "",
        }]);
        expect((await analyze({ ...bucket, protect: true })).diagnostics).toEqual([]);
    });

    it("reads secret values decrypted, and cannot judge retainOnDelete: the engine does not send it", async () => {
        const s = {
            type: TYPES.secret, name: "contract-secrets", additionalSecretOutputs: ["data", "stringData"],
            props: { apiVersion: "v1", kind: "Secret", metadata: { name: "cluster-secrets" }, stringData: secret({ R2_ACCESS_KEY_ID: "id" }) },
        };
        const result = await analyze(s);
        expect(result.diagnostics).toEqual([]);
        expect(result.notApplicable["kubernetes-retained-on-delete"]).toBe(RETAIN_ON_DELETE_NOT_SENT);
        expect((await analyze({ ...s, additionalSecretOutputs: [] })).diagnostics.map((d) => d.policy)).toEqual(["kubernetes-secret-data-secret"]);
    });

    it("turns a value unknown during preview into an advisory warning", async () => {
        const record = { type: TYPES.dnsRecord, name: "edge-cname-x", props: { name: "x.monosense.dev", type: "CNAME", content: UNKNOWN, proxied: false } };
        expect((await analyze(record)).diagnostics).toEqual([{
            policy: "tunnel-dns-proxied",
            level: EnforcementLevel.ADVISORY,
            message: "can't run policy 'tunnel-dns-proxied' from policy pack 'cluster-bootstrap@v0.1.0' during preview: string value at .content can't be known during preview",
            urn: "",
        }]);
    });

    it("judges the deploy key against the stack's FluxInstance", async () => {
        const key = { type: TYPES.deployKey, name: "gitops-deploy-key", props: { title: "flux-infra", repository: "k8s-ops", readOnly: false } };
        const instance = (components: string[]) => ({ type: TYPES.fluxInstance, name: "flux-instance", props: { spec: { components } } });
        const blocked = summary(await call(client.analyzeStack, stackRequest([key, instance(["source-controller"])])));
        expect(blocked.diagnostics).toEqual([expect.objectContaining({ policy: "deploy-key-read-only", level: EnforcementLevel.MANDATORY, urn: urnOf(key) })]);
        const allowed = summary(await call(client.analyzeStack, stackRequest([key, instance(["source-controller", "image-automation-controller"])])));
        expect(allowed.diagnostics).toEqual([]);
    });
});
