// Runs the real program in-process on Pulumi's mock runtime and records what it registers, with the resource
// options and secret-ness the engine would see. Shared by the offline plan (scripts/plan.ts) and the tests.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { HandedOver } from "../cluster/handover";
import type { ClusterIdentity } from "../cluster/identity";
import type { ClusterReader, KubeObject } from "../cluster/reader";
import { ROOT } from "../config/keys";
import { CLUSTER_VARS, FLUX_NAMESPACE } from "../config/names";
import type { ProgramContext } from "../context";
import { emptyCloudState } from "../providers/adoption";
import type { RepositoryReader } from "../providers/github-files";
import { offlineExistingReader, type OfflineCloudState } from "./cloud-state";
import { findObject } from "./cluster-state";
import { fakeInvoke, fakeOutputs, placeholder, placeholderStackOutputs, STACK_REFERENCE, stackReferenceState, type StackOutputs } from "./fakes";
import { applyPaths, offlineRepositoryReader, recordingReader, type RecordedRead } from "./gitops";


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
    /** Whether the old resource is deleted before its replacement is created (an outage for a credential). */
    deleteBeforeReplace: boolean;
    /** The `replacementTrigger` option in wire form; absent when the resource has none. */
    replacementTrigger?: unknown;
    /** Names of the resource hooks bound to it, by when they run; only when any is bound (`pulumi up` runs). */
    hooks?: { afterCreate: string[]; afterUpdate: string[] };
    /** The `import` option: the provider's import ID of an existing object the resource adopts; absent when unset. */
    import?: string;
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

/** One provider function call (data-source read) as the engine would receive it; secret args stay wrapped. */
export interface RecordedInvoke {
    token: string;
    args: Record<string, unknown>;
    /** `urn::id` of the explicit provider the call goes through, or "" for the default one. */
    provider: string;
}

export interface OfflineRun {
    project: string;
    stack: string;
    resources: RecordedResource[];
    /** Every provider function the program called, in call order. */
    invokes: RecordedInvoke[];
    /** Every GitOps file the program read through its GitHub reader, in call order: one request each in a real run. */
    reads: RecordedRead[];
    /** Stack outputs in wire form. */
    outputs: Record<string, unknown>;
    /** Every component's registered outputs in wire form, by URN: what the engine stores for each component. */
    componentOutputs: Record<string, Record<string, unknown>>;
    /** What the program noted (the cluster it targets, checks skipped for placeholders): the CLI shows them as info diagnostics. */
    notes: string[];
    /** What Flux has taken over and the program no longer registers, in the order of the platform releases. */
    handedOver: HandedOver[];
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
    /**
     * What the target cluster says about itself (default: what `clusterState` says, else a new cluster without
     * cluster-vars), or the error reading it raises. No cluster is contacted offline.
     */
    cluster?: Partial<ClusterIdentity> | Error;
    /**
     * The objects the target cluster holds (`--cluster-state`): they answer every cluster read, the identity check's
     * cluster-vars included. Default: an empty cluster, where nothing has been taken over by Flux.
     */
    clusterState?: readonly KubeObject[];
    /** A local checkout of the GitOps repository that serves its files instead of GitHub; placeholders without. */
    gitopsDir?: string;
    /** The GitHub reader the program gets instead of `gitopsDir`'s (a test's, against a fake API on 127.0.0.1). */
    github?: RepositoryReader;
    /**
     * Outputs of the stacks the program references, by the name it gives them (`hub.stack`). A stack not here gets
     * placeholders (see `placeholderStackOutputs`), with a note saying so.
     */
    stackOutputs?: Readonly<Record<string, StackOutputs>>;
    /** Permission groups the fake Cloudflare answers as not grantable by the calling token (`isSelectable: false`). */
    unselectablePermissionGroups?: readonly string[];
    /** What already exists in the account and repository, for `adopt`'s lookups (`--cloud-state`); nothing without it. */
    cloudState?: OfflineCloudState;
}

/** The kube-system Namespace of a cluster the plan knows nothing of: its uid is one only the cluster can know. */
const PLACEHOLDER_KUBE_SYSTEM: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system", uid: placeholder("kube-system-uid") } };

/**
 * The offline stand-in for the target cluster: the objects `state` holds, nothing else. Like the real reader it takes
 * the server and context from the stack's kubeconfig when there is one (read, never contacted); the ambient one is a
 * placeholder, as the plan ignores the machine's. The identity comes from the state's cluster-vars unless the run
 * gives it (`answer`).
 */
function offlineCluster(answer: RunOptions["cluster"], state: readonly KubeObject[] = []): ClusterReader {
    return {
        identity: async (target) => {
            if (answer instanceof Error) throw answer;
            let server = "placeholder:kubernetes-api-server";
            let context = target.context ?? "placeholder:current-context";
            if (target.kubeconfig !== undefined && !target.kubeconfig.startsWith("[offline placeholder")) {
                const kc = parseYaml(target.kubeconfig, { logLevel: "error" }) as {
                    "current-context"?: string;
                    contexts?: Array<{ name: string; context: { cluster: string } }>;
                    clusters?: Array<{ name: string; cluster: { server: string } }>;
                };
                context = target.context ?? kc["current-context"] ?? context;
                const clusterName = kc.contexts?.find((c) => c.name === context)?.context.cluster;
                server = kc.clusters?.find((c) => c.name === clusterName)?.cluster.server ?? server;
            }
            const vars = findObject(state, { apiVersion: "v1", kind: "ConfigMap", namespace: FLUX_NAMESPACE, name: CLUSTER_VARS }) as
                { data?: Record<string, unknown> } | undefined;
            const name = vars?.data?.CLUSTER_NAME;
            const fromState: Partial<ClusterIdentity> = !vars ? {}
                : typeof name === "string" && name !== "" ? { clusterName: name } : { clusterVarsWithoutName: true };
            return { server, context, ...fromState, ...answer };
        },
        objects: async (_target, refs) => refs.map((ref) => findObject(state, ref)
            ?? (ref.kind === "Namespace" && ref.name === "kube-system" ? PLACEHOLDER_KUBE_SYSTEM : undefined)),
    };
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
 * Environment the provider SDKs (and the program, for the GitHub token) copy into inputs when a setting is unset
 * (`KUBECONFIG`, `PULUMI_K8S_*`, `GITHUB_*`): cleared for the run, so the same config plans the same bytes on every
 * machine.
 */
function clearProviderEnv(): () => void {
    const saved = Object.entries(process.env).filter(([k]) => k === "KUBECONFIG" || k.startsWith("PULUMI_K8S_") || k.startsWith("GITHUB_"));
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
    const invokes: RecordedInvoke[] = [];
    const reads: RecordedRead[] = [];
    const notes: string[] = [];
    const handedOver: HandedOver[] = [];
    let stackUrn = "";
    const outputsByUrn = new Map<string, Record<string, unknown>>();

    const cloud: OfflineCloudState = opts.cloudState ?? { ...emptyCloudState(), tunnels: [] };
    // `MockResourceArgs` carries no options: the trigger of each registration, by type and name, so that the fakes
    // give a credential with another trigger (a replaced one) other values, as the provider would.
    const triggers = new Map<string, unknown>();
    // What the fakes may read back of a registered resource: its inputs, secrets unwrapped, found by type and id.
    const registered = (type: string, id: string) => {
        const r = resources.find((x) => x.type === type && x.id === id);
        return r && (reveal(r.inputs) as Record<string, unknown>);
    };
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                if (!args.custom) return { id: "", state: {} };
                if (args.type === STACK_REFERENCE) {
                    const stack = String(args.inputs.name);
                    const given = opts.stackOutputs?.[stack];
                    // `adopt` reads this stack's own last outputs: none given is a new stack, whose state holds nothing.
                    if (!given && stack === opts.stack) notes.push(`this stack's own outputs are not given (--stack-outputs FILE with ${JSON.stringify(stack)}): planned as a new stack`);
                    else if (!given) notes.push(`outputs of stack ${JSON.stringify(stack)} are placeholders: no --stack-outputs file gives them`);
                    return { id: stack, state: stackReferenceState(stack, given ?? placeholderStackOutputs(stack, opts.config)) };
                }
                return fakeOutputs(args.type, args.name, args.inputs, triggers.get(`${args.type}\0${args.name}`), args.id || undefined);
            },
            // The mock runtime takes the call's return value itself, not an `{ outputs }` wrapper.
            call: (args) => fakeInvoke(args.token, args.inputs, { registered, unselectablePermissionGroups: opts.unselectablePermissionGroups, cloud }).outputs,
        },
        project,
        opts.stack,
        opts.preview ?? true,
        // A self-managed backend's organization, which is what a StackReference to this stack is named under.
        "organization",
    );
    const monitor = pulumi.runtime.getMonitor() as unknown as Record<string, (req: Req, cb: Callback) => unknown>;
    const baseRegister = monitor.registerResource.bind(monitor);
    const baseOutputs = monitor.registerResourceOutputs.bind(monitor);
    const baseInvoke = monitor.invoke.bind(monitor);
    // The mock monitor has no hook registry; the engine's would call hooks only in a real `pulumi up`, so accepting
    // the registration is all a mock run needs.
    monitor.registerResourceHook = (_req: Req, cb: Callback) => cb(null, {});
    monitor.invoke = (req: Req, cb: Callback) => {
        // The request as sent, secrets still wrapped, so the plan can show what each lookup asks for.
        invokes.push({ token: req.getTok(), args: structToJs(req.getArgs()), provider: req.getProvider() });
        return baseInvoke(req, cb);
    };

    // The mock monitor drops resource options and additionalSecretOutputs; record the former and honour the latter.
    monitor.registerResource = (req: Req, cb: Callback) => {
        const trigger = req.hasReplacementTrigger() ? req.getReplacementTrigger().toJavaScript() : undefined;
        triggers.set(`${req.getType()}\0${req.getName()}`, trigger);
        return baseRegister(req, (err, resp?: any) => {
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
            const hooks = req.getHooks();
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
                    deleteBeforeReplace: req.getDeletebeforereplace() === true,
                    ...(trigger !== undefined ? { replacementTrigger: trigger } : {}),
                    ...(hooks ? { hooks: { afterCreate: hooks.getAfterCreateList(), afterUpdate: hooks.getAfterUpdateList() } } : {}),
                    // RegisterResourceRequest.importId: "" unless the program set `import`.
                    ...(req.getImportid() ? { import: req.getImportid() as string } : {}),
                },
                outputs,
            };
            if (rec.type === "pulumi:pulumi:Stack") stackUrn = rec.urn;
            resources.push(rec);
            cb(err, resp);
        });
    };
    // Reads (a StackReference) are recorded like registrations: the plan shows which other stack this one reads.
    const baseRead = monitor.readResource.bind(monitor);
    monitor.readResource = (req: Req, cb: Callback) =>
        baseRead(req, (err, resp?: any) => {
            if (!err && resp) {
                resources.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    custom: true,
                    parent: req.getParent(),
                    provider: req.getProvider(),
                    id: req.getId(),
                    inputs: structToJs(req.getProperties()),
                    dependencies: [...req.getDependenciesList()],
                    options: { protect: false, retainOnDelete: false, deleteBeforeReplace: false, dependsOn: [], deletedWith: "", ignoreChanges: [], additionalSecretOutputs: [] },
                    outputs: structToJs(resp.getProperties()),
                });
            }
            cb(err, resp);
        });
    monitor.registerResourceOutputs = (req: Req, cb: Callback) => {
        outputsByUrn.set(req.getUrn(), structToJs(req.getOutputs()));
        return baseOutputs(req, cb);
    };

    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    // What the program takes from its surroundings, given explicitly: no module state is patched for the run.
    const context: ProgramContext = {
        cluster: offlineCluster(opts.cluster, opts.clusterState),
        github: recordingReader(opts.github ?? offlineRepositoryReader(opts.gitopsDir, applyPaths(opts.config)), reads),
        note: (m) => {
            notes.push(m);
        },
        handedOver: (entry) => {
            handedOver.push(entry);
        },
        placeholders: new Set((opts.placeholders ?? []).map((k) => k.replace(/^[^:]+:/, ""))),
        existing: offlineExistingReader(cloud),
    };

    let error: unknown;
    // The Stack resource's own init promise rejects alongside runInPulumiStack; the CLI swallows that twin, so do we.
    const onUnhandled = (e: unknown) => {
        error ??= e;
    };
    process.on("unhandledRejection", onUnhandled);
    const restoreEnv = clearProviderEnv();
    try {
        // Resolved at run time: index.ts is CommonJS (`export =`), loaded the way the CLI loads it.
        const program = (await import(path.join(ROOT, "index"))).default as (ctx: ProgramContext) => Promise<Record<string, unknown>>;
        await pulumi.runtime.runInPulumiStack(() => program(context));
    } catch (e) {
        error = e;
    }
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    await new Promise((resolve) => setImmediate(resolve));
    restoreEnv();
    process.off("unhandledRejection", onUnhandled);
    const componentOutputs = Object.fromEntries([...outputsByUrn].filter(([urn]) => urn !== stackUrn));
    return { project, stack: opts.stack, resources, invokes, reads, notes, handedOver, outputs: outputsByUrn.get(stackUrn) ?? {}, componentOutputs, error };
}

// Stack settings files are read by ./stack-file; re-exported for the tests that take both (the scripts import it).
export { readStackSettings, SECRET_CONFIG_KEYS } from "./stack-file";

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
        /** `replacementTrigger` is present only on resources that have one (a credential's rotation), `import` only on adopted ones. */
        options: Pick<ResourceOptions,
            "protect" | "retainOnDelete" | "dependsOn" | "deletedWith" | "ignoreChanges" | "additionalSecretOutputs" | "replacementTrigger" | "import">;
    }>;
    /** Every data-source read: token and arguments, secrets redacted, sorted so the same config prints the same bytes. */
    invokes: Array<{ token: string; args: unknown }>;
    /** What Flux has taken over (the HelmRelease that owns it now, and the evidence), so the stack no longer registers it. */
    handedOver: HandedOver[];
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
                ...("replacementTrigger" in r.options ? { replacementTrigger: redact(r.options.replacementTrigger) } : {}),
                ...(r.options.import !== undefined ? { import: r.options.import } : {}),
            },
        }));
    const invokes = run.invokes
        .map((i) => ({ token: i.token, args: redact(i.args) }))
        .map((i) => ({ ...i, key: `${i.token}\0${JSON.stringify(i.args)}` }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map(({ token, args }) => ({ token, args }));
    return { project: run.project, stack: run.stack, resources, invokes, handedOver: run.handedOver, outputs: redact(run.outputs) };
}
