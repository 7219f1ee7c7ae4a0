// Test-side stand-in for CrossGuard's analyzer: turns registrations recorded by test/harness into the arguments the
// analyzer passes to rules, calls the rules and collects what they report. Never loaded by the pack itself.
//
// Mirrors @pulumi/policy 1.21's server: props are the inputs with secrets unwrapped and unmarked, behind the
// SDK's own unknown-checking proxy; `notApplicable` throws; stack rules get every resource, props from outputs.
// Differs on purpose in one option: `retainOnDelete` is passed only when asked (`exposeRetainOnDelete`), since
// the real engine does not send it. Differs unavoidably in one input: the engine analyzes inputs after the
// provider's Check (defaults filled in), the mocks record them as the program wrote them.
import * as policySdk from "@pulumi/policy";
import type {
    Policies, PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { reveal, type RecordedResource, type ResourceOptions } from "../offline/runtime";
import type { RuleResourceOptions } from "../policy/rules";

// Exported at run time by @pulumi/policy's index.js, but its typings stub the module out (`export {}`), so the
// shape is declared here. These are the exact proxy and error the analyzer uses for unknown values.
const analyzerInternals = policySdk as unknown as {
    unknownCheckingProxy<T extends object>(props: T): T;
    UnknownValueError: new (...args: never[]) => Error;
};

export interface Finding {
    policy: string;
    /** Resource name, or the URN a stack rule reported against. */
    resource: string;
    message: string;
}

export interface Evaluation {
    violations: Finding[];
    /** Rules that declared themselves not applicable, with their reason as the message. */
    notApplicable: Finding[];
    /** Rules that read a value unknown during preview: CrossGuard turns these into advisory warnings. */
    unknown: Finding[];
}

export interface EvaluateOptions {
    /** Pass the recorded `retainOnDelete`, which CrossGuard does not (default false, as CrossGuard). */
    exposeRetainOnDelete?: boolean;
}

class NotApplicable extends Error {}

/** A registration for unit tests: a resource in the program's input shape, options defaulted as unset. */
export function recorded(r: {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    options?: Partial<ResourceOptions>;
}): RecordedResource {
    return {
        urn: `urn:pulumi:test::cluster-bootstrap::${r.type}::${r.name}`,
        type: r.type,
        name: r.name,
        custom: true,
        parent: "",
        provider: "",
        id: "",
        inputs: r.inputs,
        dependencies: [],
        options: {
            protect: false, retainOnDelete: false, dependsOn: [], deletedWith: "", ignoreChanges: [], additionalSecretOutputs: [],
            deleteBeforeReplace: false,
            ...r.options,
        },
        outputs: r.outputs ?? r.inputs,
    };
}

function options(r: RecordedResource, opts: EvaluateOptions): RuleResourceOptions {
    return {
        protect: r.options.protect,
        ignoreChanges: r.options.ignoreChanges,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.options.additionalSecretOutputs,
        ...(r.parent ? { parent: r.parent } : {}),
        ...(opts.exposeRetainOnDelete ? { retainOnDelete: r.options.retainOnDelete } : {}),
    };
}

function props(wire: Record<string, unknown>): Record<string, unknown> {
    return analyzerInternals.unknownCheckingProxy(reveal(wire) as Record<string, unknown>);
}

const typeOf = (type: string) => (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType === type;
const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason ?? "");
};

export function resourceArgs(r: RecordedResource, opts: EvaluateOptions = {}): ResourceValidationArgs {
    const p = props(r.inputs);
    return {
        type: r.type,
        props: p,
        urn: r.urn,
        name: r.name,
        opts: options(r, opts),
        stackTags: new Map(),
        isType: typeOf(r.type),
        asType: ((cls: unknown) => (typeOf(r.type)(cls) ? p : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
    };
}

export function stackArgs(resources: RecordedResource[], opts: EvaluateOptions = {}): StackValidationArgs {
    const byUrn = new Map<string, PolicyResource>();
    const list = resources.map((r) => {
        const p = props(r.outputs);
        const res: PolicyResource = {
            type: r.type,
            props: p,
            urn: r.urn,
            name: r.name,
            opts: options(r, opts),
            dependencies: [],
            propertyDependencies: {},
            isType: typeOf(r.type),
            asType: ((cls: unknown) => (typeOf(r.type)(cls) ? p : undefined)) as PolicyResource["asType"],
        };
        byUrn.set(r.urn, res);
        return res;
    });
    resources.forEach((r, i) => {
        list[i].parent = byUrn.get(r.parent);
        list[i].dependencies = r.dependencies.flatMap((d) => byUrn.get(d) ?? []);
    });
    return { resources: list, stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable };
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return "validateStack" in p;
}

async function collect(policy: string, resource: string, out: Evaluation, run: (report: ReportViolation) => unknown): Promise<void> {
    try {
        await run((message, urn) => out.violations.push({ policy, resource: urn ?? resource, message }));
    } catch (e) {
        if (e instanceof NotApplicable) out.notApplicable.push({ policy, resource, message: e.message });
        else if (e instanceof analyzerInternals.UnknownValueError) out.unknown.push({ policy, resource, message: e.message });
        else throw e;
    }
}

/**
 * Every policy over every resource: resource rules see each custom resource (as the engine analyzes custom
 * resources), stack rules see the whole stack once.
 */
export async function evaluate(policies: Policies, resources: RecordedResource[], opts: EvaluateOptions = {}): Promise<Evaluation> {
    const out: Evaluation = { violations: [], notApplicable: [], unknown: [] };
    for (const policy of policies) {
        if (isStackPolicy(policy)) {
            await collect(policy.name, "(stack)", out, (report) => policy.validateStack(stackArgs(resources, opts), report));
            continue;
        }
        const validations = [(policy as ResourceValidationPolicy).validateResource ?? []].flat();
        for (const r of resources.filter((x) => x.custom)) {
            for (const validate of validations) {
                await collect(policy.name, r.name, out, (report) => validate(resourceArgs(r, opts), report));
            }
        }
    }
    return out;
}

/** The messages one policy reports for these resources (one resource for a resource rule, a stack for a stack rule). */
export async function violations(
    policy: Policies[number], resources: RecordedResource | RecordedResource[], opts: EvaluateOptions = {},
): Promise<string[]> {
    return (await evaluate([policy], [resources].flat(), opts)).violations.map((v) => v.message);
}
