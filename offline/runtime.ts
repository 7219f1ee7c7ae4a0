// Runs the real program in-process on Pulumi's mock runtime and records what it registers, with the resource
// options and secret-ness the engine would see. Shared by the offline plan (scripts/plan.ts) and the tests.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { offlinePlaceholders } from "../config";
import { fakeInvoke, fakeOutputs } from "./fakes";

export const ROOT = path.resolve(__dirname, "..");

// Signatures of the Pulumi wire format (see @pulumi/pulumi runtime/rpc).
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A value the program marked secret, as the engine receives it. */
export interface WireSecret {
    [SIG]: typeof SECRET_SIG;
    value: unknown;
}

export function isWireSecret(v: unknown): v is WireSecret {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === SECRET_SIG;
}

export interface ResourceOptions {
    protect: boolean;
    retainOnDelete: boolean;
    /** Dependencies that are not explained by an input: what `dependsOn` added. */
    dependsOn: string[];
    deletedWith: string;
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
    customTimeouts?: { create?: string; update?: string; delete?: string };
}

/** One registration as the engine would receive it. `inputs` keep the wire form: secrets stay wrapped. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    /** `urn::id` of an explicit provider, or "" for the default one. */
    provider: string;
    id: string;
    inputs: Record<string, unknown>;
    /** Every direct dependency: inputs' resources and `dependsOn`. */
    dependencies: string[];
    options: ResourceOptions;
    /** What the fake provider returned, secrets wrapped. */
    outputs: Record<string, unknown>;
}

export interface OfflineRun {
    project: string;
    stack: string;
    resources: RecordedResource[];
    /** Stack outputs in wire form. */
    outputs: Record<string, unknown>;
    /** Every component's registered outputs in wire form, by URN: what the engine stores for each component. */
    componentOutputs: Record<string, Record<string, unknown>>;
    /** The error that stopped the program, if any. */
    error?: unknown;
}

export interface RunOptions {
    project?: string;
    stack: string;
    /** Full keys (`ns:key`) to string values, objects JSON-encoded, as the CLI passes them. */
    config: Record<string, string>;
    secretKeys?: string[];
    /** Secret keys whose values are offline placeholders. */
    placeholders?: string[];
    /** `pulumi preview` (default) or `pulumi up`. */
    preview?: boolean;
    /** A local checkout of the GitOps repository that serves its files instead of GitHub; placeholders without. */
    gitopsDir?: string;
}

type Callback = (err: unknown, resp?: unknown) => void;
interface Req {
    [k: string]: any;
}

function structToJs(s: { toJavaScript(): unknown } | undefined): Record<string, unknown> {
    return (s?.toJavaScript() as Record<string, unknown>) ?? {};
}

function wrapSecret(v: unknown): unknown {
    return isWireSecret(v) ? v : { [SIG]: SECRET_SIG, value: v };
}

let running: Promise<unknown> = Promise.resolve();

/**
 * Environment the Kubernetes provider SDK copies into its inputs when the program leaves a setting unset
 * (`KUBECONFIG`, `PULUMI_K8S_*`): cleared for the run, so the same config plans the same bytes on every machine.
 */
function clearProviderEnv(): () => void {
    const saved = Object.entries(process.env).filter(([k]) => k === "KUBECONFIG" || k.startsWith("PULUMI_K8S_"));
    for (const [k] of saved) delete process.env[k];
    return () => {
        for (const [k, v] of saved) process.env[k] = v;
    };
}

/**
 * Runs `index.ts` under the mock runtime with the given config and returns every registration.
 * Runs are serialised: the Pulumi runtime keeps process-wide state.
 */
export function runOffline(opts: RunOptions): Promise<OfflineRun> {
    const next = running.then(() => runOnce(opts));
    running = next.catch(() => undefined);
    return next;
}

async function runOnce(opts: RunOptions): Promise<OfflineRun> {
    const project = opts.project ?? "cluster-bootstrap";
    const resources: RecordedResource[] = [];
    let stackUrn = "";
    const outputsByUrn = new Map<string, Record<string, unknown>>();

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                if (!args.custom) return { id: "", state: {} };
                return fakeOutputs(args.type, args.name, args.inputs);
            },
            // The mock runtime takes the call's return value itself, not an `{ outputs }` wrapper.
            call: (args) => fakeInvoke(args.token, args.inputs, { gitopsDir: opts.gitopsDir }).outputs,
        },
        project,
        opts.stack,
        opts.preview ?? true,
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as Record<string, (req: Req, cb: Callback) => unknown>;
    const baseRegister = monitor.registerResource.bind(monitor);
    const baseOutputs = monitor.registerResourceOutputs.bind(monitor);

    // The mock monitor drops resource options and additionalSecretOutputs; record the former and honour the latter.
    monitor.registerResource = (req: Req, cb: Callback) =>
        baseRegister(req, (err, resp?: any) => {
            if (err || !resp) return cb(err, resp);
            const inputs = structToJs(req.getObject());
            const aso: string[] = req.getAdditionalsecretoutputsList();
            let outputs = structToJs(resp.getObject());
            if (aso.length > 0) {
                outputs = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, aso.includes(k) ? wrapSecret(v) : v]));
                const Struct = req.getObject().constructor as { fromJavaScript(o: unknown): unknown };
                resp.setObject(Struct.fromJavaScript(outputs));
            }
            const propertyDeps = new Set<string>();
            req.getPropertydependenciesMap().forEach((d: Req) => d.getUrnsList().forEach((u: string) => propertyDeps.add(u)));
            const deps: string[] = req.getDependenciesList();
            const ct = req.getCustomtimeouts();
            const rec: RecordedResource = {
                urn: resp.getUrn(),
                type: req.getType(),
                name: req.getName(),
                custom: req.getCustom(),
                parent: req.getParent(),
                provider: req.getProvider(),
                id: resp.getId(),
                inputs,
                dependencies: [...deps],
                options: {
                    protect: req.getProtect() === true,
                    retainOnDelete: req.getRetainondelete() === true,
                    dependsOn: deps.filter((d) => !propertyDeps.has(d)),
                    deletedWith: req.getDeletedwith(),
                    ignoreChanges: req.getIgnorechangesList(),
                    additionalSecretOutputs: aso,
                    ...(ct && (ct.getCreate() || ct.getUpdate() || ct.getDelete())
                        ? { customTimeouts: { create: ct.getCreate() || undefined, update: ct.getUpdate() || undefined, delete: ct.getDelete() || undefined } }
                        : {}),
                },
                outputs,
            };
            if (rec.type === "pulumi:pulumi:Stack") stackUrn = rec.urn;
            resources.push(rec);
            cb(err, resp);
        });
    monitor.registerResourceOutputs = (req: Req, cb: Callback) => {
        outputsByUrn.set(req.getUrn(), structToJs(req.getOutputs()));
        return baseOutputs(req, cb);
    };

    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    offlinePlaceholders.clear();
    for (const k of opts.placeholders ?? []) offlinePlaceholders.add(k.replace(/^[^:]+:/, ""));

    let error: unknown;
    // The Stack resource's own init promise rejects alongside runInPulumiStack; the CLI swallows that twin, so do we.
    const onUnhandled = (e: unknown) => {
        error ??= e;
    };
    process.on("unhandledRejection", onUnhandled);
    const restoreEnv = clearProviderEnv();
    try {
        // Resolved at run time: index.ts is CommonJS (`export =`), loaded the way the CLI loads it.
        const program = (await import(path.join(ROOT, "index"))).default as () => Promise<Record<string, unknown>>;
        await pulumi.runtime.runInPulumiStack(program);
    } catch (e) {
        error = e;
    }
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    await new Promise((resolve) => setImmediate(resolve));
    restoreEnv();
    process.off("unhandledRejection", onUnhandled);
    const componentOutputs = Object.fromEntries([...outputsByUrn].filter(([urn]) => urn !== stackUrn));
    return { project, stack: opts.stack, resources, outputs: outputsByUrn.get(stackUrn) ?? {}, componentOutputs, error };
}

// ---------------------------------------------------------------- stack settings files

export interface StackSettings {
    config: Record<string, string>;
    secretKeys: string[];
    placeholders: string[];
}

/** Secret keys of the project that the program needs and the committed stack files never hold. */
export const REQUIRED_SECRETS = ["cluster-bootstrap:sopsAgeKey"];
/** Every project key read as a secret. */
export const SECRET_CONFIG_KEYS = ["cluster-bootstrap:kubeconfig", "cluster-bootstrap:sopsAgeKey"];

/**
 * Reads a `Pulumi.<stack>.yaml` stack settings file. `secure:` values cannot be decrypted offline: they, and the
 * required secrets the file leaves out, become placeholders that are themselves secret.
 */
export function readStackSettings(file: string): StackSettings {
    const doc = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const placeholders = new Set<string>();
    for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
        const key = rawKey.includes(":") ? rawKey : `cluster-bootstrap:${rawKey}`;
        let secure = false;
        const replace = (v: unknown): unknown => {
            if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
                secure = true;
                return `[offline placeholder for ${key}]`;
            }
            if (Array.isArray(v)) return v.map(replace);
            if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
            return v;
        };
        const v = replace(value);
        config[key] = typeof v === "string" ? v : JSON.stringify(v);
        if (secure) {
            secretKeys.add(key);
            placeholders.add(key);
        }
    }
    for (const key of REQUIRED_SECRETS) {
        if (!(key in config)) {
            config[key] = `[offline placeholder for ${key}]`;
            secretKeys.add(key);
            placeholders.add(key);
        }
    }
    for (const key of SECRET_CONFIG_KEYS) if (key in config) secretKeys.add(key);
    return { config, secretKeys: [...secretKeys].sort(), placeholders: [...placeholders].sort() };
}

// ---------------------------------------------------------------- rendering

export const REDACTED = "[secret]";
export const UNKNOWN_TEXT = "(known after apply)";

/** Wire form to printable form: every secret at any depth becomes "[secret]", references become URNs. */
export function redact(v: unknown): unknown {
    if (isWireSecret(v)) return REDACTED;
    if (v === UNKNOWN) return UNKNOWN_TEXT;
    if (Array.isArray(v)) return v.map(redact);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SIG] === RESOURCE_SIG) return o.urn;
        return Object.fromEntries(Object.keys(o).sort().map((k) => [k, redact(o[k])]));
    }
    return v;
}

/** Wire form to plain values, secrets unwrapped: for assertions on content, never for printing. */
export function reveal(v: unknown): unknown {
    if (isWireSecret(v)) return reveal(v.value);
    if (Array.isArray(v)) return v.map(reveal);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SIG] === RESOURCE_SIG) return o.urn;
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reveal(x)]));
    }
    return v;
}

export interface PlanJson {
    project: string;
    stack: string;
    resources: Array<{
        urn: string;
        type: string;
        name: string;
        custom: boolean;
        parent: string;
        provider: string;
        inputs: unknown;
        dependencies: string[];
        options: {
            protect: boolean;
            retainOnDelete: boolean;
            dependsOn: string[];
            deletedWith: string;
            ignoreChanges: string[];
            additionalSecretOutputs: string[];
        };
    }>;
    outputs: unknown;
}

/** The documented JSON shape, resources ordered by URN so that the same input always prints the same bytes. */
export function toPlanJson(run: OfflineRun): PlanJson {
    const resources = [...run.resources]
        .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0))
        .map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            custom: r.custom,
            parent: r.parent,
            provider: r.provider,
            inputs: redact(r.inputs),
            dependencies: [...r.dependencies].sort(),
            options: {
                protect: r.options.protect,
                retainOnDelete: r.options.retainOnDelete,
                dependsOn: [...r.options.dependsOn].sort(),
                deletedWith: r.options.deletedWith,
                ignoreChanges: r.options.ignoreChanges,
                additionalSecretOutputs: r.options.additionalSecretOutputs,
            },
        }));
    return { project: run.project, stack: run.stack, resources, outputs: redact(run.outputs) };
}
