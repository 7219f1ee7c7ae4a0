// Push-to-reconcile: GitHub calls Flux's Receiver through the tunnel on every push, so a commit reconciles in
// seconds instead of waiting for the next poll. The Receiver's URL is computed up front with Flux's own rule,
// so the GitHub webhook is created in the same run, without reading the Receiver's status.
import * as github from "@pulumi/github";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as crypto from "node:crypto";
import { fluxWebhookHostname } from "../config/routing";
import { programAwaitAnnotations, type ReadyWait } from "../cluster/flux-await";
import { reconcileRequest, rotationOptions, rotationTrigger } from "../providers/rotation";
import { RECEIVER_NAME, WEBHOOK_TOKEN_SECRET } from "../config/names";

/** Bound on waiting for the Receiver to be Ready. */
export const RECEIVER_READY_TIMEOUT_SECONDS = 300;

/**
 * The path the notification-controller serves a Receiver on: `/hook/` + hex(sha256(token + name + namespace)),
 * as `Receiver.GetWebhookPath` computes it (notification-controller api/v1).
 */
export function receiverWebhookPath(token: string, name: string, namespace: string): string {
    return `/hook/${crypto.createHash("sha256").update(token + name + namespace).digest("hex")}`;
}

/** The public URL GitHub posts to: the Flux webhook host the tunnel routes, plus the Receiver's path. */
export function receiverWebhookUrl(domain: string, path: string): string {
    return `https://${fluxWebhookHostname(domain)}${path}`;
}

export interface ReceiverManifestArgs<N, S> {
    name: string;
    namespace: N;
    /** Secret in the same namespace whose `token` key is the shared HMAC secret. */
    secretName: S;
    /** GitRepository (same namespace) that a push reconciles. */
    gitRepositoryName: string;
}

/**
 * A `notification.toolkit.fluxcd.io/v1` Receiver for GitHub `ping` and `push` events. Namespace and Secret
 * name may be Outputs, so the object depends on what creates them.
 */
export function receiverManifest<N = string, S = string>(a: ReceiverManifestArgs<N, S>) {
    return {
        apiVersion: "notification.toolkit.fluxcd.io/v1" as const,
        kind: "Receiver" as const,
        metadata: { name: a.name, namespace: a.namespace },
        spec: {
            type: "github" as const,
            // GitHub sends `ping` once when the hook is created; answering it marks the hook healthy there.
            events: ["ping", "push"],
            secretRef: { name: a.secretName },
            resources: [{ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository" as const, name: a.gitRepositoryName }],
        },
    };
}

/**
 * The Receiver's annotations: the program waits (cluster/flux-await.ts) until it is Ready and has handled `request`, a
 * reconcile request that changes with the token. The notification-controller watches Receivers, not their Secret,
 * and keeps serving the path of the token it last read: the request makes it read a rotated token at once, and the
 * wait holds GitHub's new URL back until the Receiver serves it.
 */
export function receiverAnnotations(request: string): Record<string, string> {
    return {
        ...programAwaitAnnotations(RECEIVER_READY_TIMEOUT_SECONDS),
        "reconcile.fluxcd.io/requestedAt": request,
    };
}

export interface PushReconcileArgs {
    /** Flux's namespace (flux-system); pass the Namespace's output so the token Secret waits only for it. */
    namespace: pulumi.Input<string>;
    /** What makes Receivers creatable: Flux's CRDs and notification-controller up (the FluxInstance, Ready). */
    fluxReady: pulumi.Resource[];
    /** GitRepository a push reconciles. */
    gitRepositoryName: string;
    /** GitHub repository name (without owner; the github provider's owner is the repository's owner). */
    repository: string;
    /** Cluster domain; GitHub reaches the Receiver at `flux-webhook.<domain>` through the tunnel. */
    domain: string;
    /** The tunnel config and CNAME that route `flux-webhook.<domain>`: GitHub's first ping needs them in place. */
    route: pulumi.Resource[];
    /** `rotation.webhookToken`: a new value replaces the token, the Receiver's path and GitHub's webhook URL. */
    rotation?: string;
    /** How `pulumi up` waits for the Flux objects: hooks that poll the cluster the run verified (cluster/flux-await.ts). */
    wait: ReadyWait;
}

/**
 * A webhook token, a Flux Receiver for GitHub pushes, and the GitHub repository webhook that calls it. The
 * in-cluster objects are retained on delete. Pass the stack's Kubernetes provider in `opts.provider`.
 */
export class PushReconcile extends pulumi.ComponentResource {
    /** `https://flux-webhook.<domain>/hook/<sha256>`; secret, since the path derives from the token. */
    public readonly webhookUrl: pulumi.Output<string>;
    /** Name of the Receiver in flux-system. */
    public readonly receiverName: string;
    /** The GitHub webhook's id: what a later `adopt` recognises as this stack's own. */
    public readonly webhookId: pulumi.Output<string>;

    constructor(name: string, args: PushReconcileArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:webhook:PushReconcile", name, {}, opts);
        const k8sOpts = { parent: this, retainOnDelete: true };

        // Letters and digits only: the token travels in a Secret, a URL hash and GitHub's form, never escaped.
        const token = new random.RandomPassword(`${name}-token`, { length: 40, special: false }, {
            parent: this,
            ...rotationOptions(args.rotation),
        });
        const secret = new k8s.core.v1.Secret(`${name}-token`, {
            metadata: { name: WEBHOOK_TOKEN_SECRET, namespace: args.namespace },
            type: "Opaque",
            stringData: { token: token.result },
        }, k8sOpts);

        // The Secret's name as its output: the Receiver waits for the token, not only for Flux.
        const manifest = receiverManifest({
            name: RECEIVER_NAME,
            namespace: args.namespace,
            secretName: secret.metadata.name,
            gitRepositoryName: args.gitRepositoryName,
        });
        const receiver = new k8s.apiextensions.CustomResource(`${name}-receiver`, {
            ...manifest,
            metadata: {
                ...manifest.metadata,
                // Ready, with the current token's request handled, means the controller serves the token's path: only
                // then register or update the hook (and only once the tunnel routes the host, see `route`), so
                // GitHub's first ping succeeds.
                annotations: receiverAnnotations(reconcileRequest("webhookToken", rotationTrigger(args.rotation))),
            },
        }, {
            ...k8sOpts,
            dependsOn: args.fluxReady,
            // Its status carries the webhook path, which derives from the token: secret in the state.
            additionalSecretOutputs: ["status"],
            ...args.wait(RECEIVER_READY_TIMEOUT_SECONDS),
        });

        this.receiverName = RECEIVER_NAME;
        this.webhookUrl = pulumi.secret(pulumi.all([token.result, args.namespace]).apply(([t, ns]) =>
            receiverWebhookUrl(args.domain, receiverWebhookPath(t, RECEIVER_NAME, ns))));

        const hook = new github.RepositoryWebhook(`${name}-github`, {
            repository: args.repository,
            events: ["push"],
            active: true,
            configuration: {
                url: this.webhookUrl,
                contentType: "json",
                secret: token.result,
                insecureSsl: false,
            },
        }, { parent: this, dependsOn: [receiver, ...args.route] });
        this.webhookId = hook.id;

        this.registerOutputs({ webhookUrl: this.webhookUrl, receiverName: this.receiverName });
    }
}
