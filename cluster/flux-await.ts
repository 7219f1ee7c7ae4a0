// Waiting for Flux objects, in Flux's own words. Of the Ready condition, the Kubernetes provider's
// `pulumi.com/waitFor: condition=Ready` await shows only "Resource has condition Ready=False (want True)", and of the
// object's Warning events what fits a status line, each replaced by the next (LogStatus); after 10 minutes it fails
// with "timed out waiting for the condition" (pulumi-kubernetes provider/pkg/await/condition/kubectl.go, watchers.go,
// internal/awaiter.go; pulumi/pulumi-kubernetes#4428). Flux's reason and message do not stay with the user, and a
// cause that waiting cannot cure still costs the whole timeout.
//
// So an awaited object is applied with `pulumi.com/skipAwait` and the program waits for it instead, in an
// after-create and after-update resource hook. The engine runs the hook inside the resource's step, so whatever
// depends on the object still waits for it; a failing hook fails the deployment and stops it (Pulumi CLI 3.238+,
// pulumi/pulumi#22935). The hook reads the object's conditions every few seconds from the cluster the run verified,
// logs the Ready condition's reason and message on the object whenever they change, and fails with them: at once
// when Flux reports the object Stalled, after a short grace when the cause is one waiting does not cure (a deploy
// key GitHub refuses, a path the repository lacks), else at the timeout. Hooks run only in `pulumi up`: a preview,
// the offline plan and the tests never contact a cluster through this module.
import { networkCause } from "../config/network";
import * as pulumi from "@pulumi/pulumi";
import { loadKubeConfig, withTimeout, type ClusterTarget } from "./identity";

/** Says on the object (and in the plan) how long `pulumi up` waits for it to be Ready. */
export const READY_TIMEOUT_ANNOTATION = "cluster-bootstrap/ready-timeout-seconds";

/**
 * Annotations of an object the program awaits itself: the provider applies it and returns at once, and the wait's
 * bound is written beside it. Undefined: not awaited at all. Pair with a {@link ReadyWait} given the same bound.
 */
export function programAwaitAnnotations(timeoutSeconds: number | undefined): Record<string, string> {
    return {
        "pulumi.com/skipAwait": "true",
        ...(timeoutSeconds !== undefined ? { [READY_TIMEOUT_ANNOTATION]: String(timeoutSeconds) } : {}),
    };
}

/** How often the object is read while waiting. */
export const POLL_SECONDS = 5;
/** How long a cause that waiting does not cure must persist before the wait gives up (one Flux retry may fit in). */
export const PERMANENT_CAUSE_GRACE_SECONDS = 30;
/** Bound on each read of the object. */
export const READ_TIMEOUT_MS = 15_000;

export interface Condition {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    observedGeneration?: number;
}

/** The parts of a Flux object the wait reads. */
export interface FluxObject {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string; namespace?: string; generation?: number; annotations?: Record<string, string> };
    status?: { conditions?: Condition[]; observedGeneration?: number; lastHandledReconcileAt?: string };
}

/** Flux's reconcile request: the controller reconciles when it changes and records it in `status.lastHandledReconcileAt`. */
export const RECONCILE_REQUEST_ANNOTATION = "reconcile.fluxcd.io/requestedAt";

/** Where an object stands: Ready, still worth waiting for, or failed in a way that waiting does not cure. */
export type Readiness =
    | { state: "ready"; message: string }
    | { state: "waiting"; reason: string; message: string; failing: boolean }
    | { state: "failed"; reason: string; message: string; stalled: boolean };

/**
 * Ready=False causes that no amount of waiting cures: only a change in the repository, on GitHub or in the stack
 * does. Flux keeps retrying them, so its condition alone does not say so. Messages as Flux writes them
 * (source-controller GitRepository: go-git's and x/crypto/ssh's errors; kustomize-controller's build step).
 */
export function permanentCause(kind: string, reason: string, message: string): boolean {
    switch (kind) {
        case "GitRepository":
            // AuthenticationFailed: the Secret is missing or unusable. The rest: GitHub refused the deploy key, the
            // host key is not GitHub's, the branch does not exist, or a repository fetched over HTTPS with no
            // credential is private (go-git's "authentication required").
            return reason === "AuthenticationFailed" || (reason === "GitOperationFailed"
                && /unable to authenticate|knownhosts: key (?:mismatch|is unknown)|couldn't find remote ref|repository not found|authentication required/i
                    .test(message));
        case "Kustomization":
            // BuildFailed: kustomize build, SOPS decryption or variable substitution failed on the repository's files.
            return reason === "BuildFailed" || (reason === "ArtifactFailed" && /^kustomization path not found/.test(message));
        default:
            return false;
    }
}

/**
 * A condition's message as it may be shown: a Receiver's says `Receiver initialized for path: /hook/<sha256>`, and the
 * path derives from the webhook token (a secret, see docs/gitops-contract.md: Push to reconcile), so webhook paths
 * are blanked.
 */
export function shownMessage(message: string): string {
    return message.replace(/\/hook\/[0-9a-f]{8,}/gi, "/hook/[secret]");
}

/** Reads an object's conditions the way kstatus and Flux define them. */
export function readiness(obj: FluxObject): Readiness {
    const conditions = obj.status?.conditions ?? [];
    const find = (type: string) => conditions.find((c) => c.type === type);
    const stalled = find("Stalled");
    if (stalled?.status === "True") {
        return { state: "failed", reason: stalled.reason ?? "Stalled", message: shownMessage(stalled.message ?? ""), stalled: true };
    }
    const ready = find("Ready");
    if (!ready) return { state: "waiting", reason: "NoStatus", message: "the controller has not reported a Ready condition yet", failing: false };
    const generation = obj.metadata?.generation;
    const observed = ready.observedGeneration ?? obj.status?.observedGeneration;
    if (generation !== undefined && observed !== undefined && observed < generation) {
        return { state: "waiting", reason: "Progressing", message: `the controller has not reconciled generation ${generation} yet`, failing: false };
    }
    // A Ready from before the request the object carries says nothing about it (a rotated Receiver token). The value
    // is not shown: it only says that something changed.
    const requested = obj.metadata?.annotations?.[RECONCILE_REQUEST_ANNOTATION];
    if (requested !== undefined && obj.status?.lastHandledReconcileAt !== requested) {
        return { state: "waiting", reason: "Progressing", message: "the controller has not handled the reconcile request this run made yet", failing: false };
    }
    const reason = ready.reason ?? "";
    const message = shownMessage(ready.message ?? "");
    if (ready.status === "True") return { state: "ready", message };
    if (ready.status === "False" && permanentCause(obj.kind ?? "", reason, message)) {
        return { state: "failed", reason, message, stalled: false };
    }
    return { state: "waiting", reason, message, failing: ready.status === "False" };
}

/** Thrown when an object does not become Ready; the message is what the user sees under the object. */
export class NotReadyError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "NotReadyError";
    }
}

export interface WaitOptions {
    /** `GitRepository flux-system/k8s-ops`: how messages name the object. */
    describe: string;
    /** Reads the object; undefined when it does not exist. Errors carry the HTTP status in `code` when there is one. */
    read: () => Promise<FluxObject | undefined>;
    timeoutSeconds: number;
    /** Where progress goes (under `pulumi up`: the object's diagnostics). */
    log: (severity: "info" | "warn", message: string) => void;
    pollMs?: number;
    graceMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the object is Ready; throws {@link NotReadyError} with Flux's reason and message otherwise. */
export async function waitUntilReady(opts: WaitOptions): Promise<void> {
    const pollMs = opts.pollMs ?? POLL_SECONDS * 1000;
    const graceMs = opts.graceMs ?? PERMANENT_CAUSE_GRACE_SECONDS * 1000;
    const started = Date.now();
    const deadline = started + opts.timeoutSeconds * 1000;
    let shown = "";
    let last: Readiness | undefined;
    let permanentSince: number | undefined;
    const show = (severity: "info" | "warn", line: string) => {
        if (line === shown) return;
        shown = line;
        opts.log(severity, line);
    };
    for (;;) {
        let obj: FluxObject | undefined;
        let readProblem: string | undefined;
        try {
            obj = await opts.read();
        } catch (e) {
            const code = (e as { code?: number }).code;
            // The run's own credentials refused: no retry changes that.
            if (code === 401 || code === 403) {
                throw new NotReadyError(`${opts.describe}: cannot be read to wait for it (HTTP ${code}): the run's Kubernetes credentials need get on it`);
            }
            readProblem = code !== undefined ? `reading it answered HTTP ${code}` : `reading it failed: ${networkCause(e) ?? (e as Error).message}`;
        }
        const now = Date.now();
        if (readProblem !== undefined) {
            show("warn", `${opts.describe}: ${readProblem}; retrying`);
        } else if (obj === undefined) {
            show("warn", `${opts.describe}: not found in the cluster; retrying`);
        } else {
            const state = readiness(obj);
            last = state;
            if (state.state === "ready") {
                show("info", `${opts.describe}: Ready${state.message ? `: ${state.message}` : ""}`);
                return;
            }
            const cause = `${state.reason}${state.message ? `: ${state.message}` : ""}`;
            if (state.state === "failed") {
                permanentSince ??= now;
                if (state.stalled || now - permanentSince >= graceMs) {
                    throw new NotReadyError(`${opts.describe} is not Ready and waiting will not change that: ${cause}. `
                        + "Flux keeps retrying on its own; fix the cause (repository, deploy key, stack config), then check with "
                        + "`flux get all -A` or run `pulumi up` again.");
                }
                show("warn", `${opts.describe}: not Ready: ${cause}`);
            } else {
                permanentSince = undefined;
                show(state.failing ? "warn" : "info", `${opts.describe}: waiting for Ready: ${cause}`);
            }
        }
        if (now >= deadline) {
            const why = last && last.state !== "ready" ? `${last.reason}${last.message ? `: ${last.message}` : ""}` : readProblem ?? "never read";
            throw new NotReadyError(`${opts.describe} is not Ready after ${opts.timeoutSeconds} s: ${why}`);
        }
        await sleep(Math.min(pollMs, Math.max(0, deadline - now)));
    }
}

/** `fluxcd.controlplane.io/v1` + `FluxInstance` → where the API serves it. */
export function objectPath(apiVersion: string, kind: string): { group: string; version: string; plural: string } {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    // Flux's kinds and their resource names; a kind not listed here is not awaited by this module.
    const plurals: Record<string, string> = {
        FluxInstance: "fluxinstances",
        GitRepository: "gitrepositories",
        OCIRepository: "ocirepositories",
        HelmRepository: "helmrepositories",
        Kustomization: "kustomizations",
        HelmRelease: "helmreleases",
        Receiver: "receivers",
    };
    const plural = plurals[kind];
    if (!plural || !group) throw new Error(`cannot wait for ${apiVersion} ${kind}: not a Flux kind this program knows`);
    return { group, version, plural };
}

/** Reads one namespaced custom object with the given cluster's kubeconfig and context, each read bounded. */
export async function objectReader(target: ClusterTarget, apiVersion: string, kind: string, namespace: string, name: string):
    Promise<() => Promise<FluxObject | undefined>> {
    const { group, version, plural } = objectPath(apiVersion, kind);
    const { k8s, kc } = await loadKubeConfig(target);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    return async () => {
        try {
            return await withTimeout(api.getNamespacedCustomObject({ group, version, namespace, plural, name }), READ_TIMEOUT_MS, "the API server") as FluxObject;
        } catch (e) {
            if ((e as { code?: number }).code === 404) return undefined;
            throw e;
        }
    };
}

/** `pulumi.log` attributes a message to a resource through its URN only; the hook has the URN, not the object. */
function onResource(urn: string): pulumi.Resource {
    return { urn: pulumi.output(urn) } as unknown as pulumi.Resource;
}

/** The hook body: waits for the object the step just created or updated, on the cluster the run verified. */
export async function waitForApplied(target: ClusterTarget, args: pulumi.ResourceHookArgs, timeoutSeconds: number,
    timing: Pick<WaitOptions, "pollMs" | "graceMs"> = {}): Promise<void> {
    const live = (args.newOutputs ?? args.newInputs ?? {}) as FluxObject;
    const apiVersion = live.apiVersion ?? "";
    const kind = live.kind ?? "";
    const name = live.metadata?.name ?? args.name;
    const namespace = live.metadata?.namespace ?? "";
    const describe = `${kind} ${namespace}/${name}`;
    const resource = onResource(args.urn);
    await waitUntilReady({
        describe,
        read: await objectReader(target, apiVersion, kind, namespace, name),
        timeoutSeconds,
        log: (severity, message) => void (severity === "warn" ? pulumi.log.warn(message, resource) : pulumi.log.info(message, resource)),
        ...timing,
    });
}

/**
 * Resource options that make `pulumi up` wait until the object is Ready, within `timeoutSeconds`; undefined means
 * not awaited. Pair with {@link programAwaitAnnotations} given the same bound. Nothing in a preview: hooks do not run
 * there.
 */
export type ReadyWait = (timeoutSeconds: number | undefined) => Pick<pulumi.CustomResourceOptions, "hooks">;

/** The waits of one run, on the cluster it verified (`target`): the only cluster its hooks ever read. */
export function readyWait(target: ClusterTarget): ReadyWait {
    return (timeoutSeconds) => {
        if (timeoutSeconds === undefined || pulumi.runtime.isDryRun()) return {};
        const wait = (args: pulumi.ResourceHookArgs) => waitForApplied(target, args, timeoutSeconds);
        return { hooks: { afterCreate: [wait], afterUpdate: [wait] } };
    };
}
