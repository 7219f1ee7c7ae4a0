// What the program does for a repository that runs Flux itself (`flux.managedBy: repository`): flux-system before the
// repository's releases, and the wait for its FluxInstance once the flux-instance release is installed. The check
// of the repository's releases is flux/repository-check.ts.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { programAwaitAnnotations, type ReadyWait } from "../cluster/flux-await";
import { FLUX_INSTANCE_NAME, FLUX_NAMESPACE, namespaceLabels } from "../config/names";

/**
 * Annotations of the patch that `pulumi up` waits on, bounded, until the Flux Operator reports the FluxInstance Ready:
 * the program's own wait (cluster/flux-await.ts), which shows the operator's reason and message, as for the program's Flux.
 */
export function handoverAnnotations(timeoutSeconds: number): Record<string, string> {
    return {
        ...programAwaitAnnotations(timeoutSeconds),
        // The annotations are the patch's only fields; forced, so a FluxInstance that already carries them from the
        // program's own (`managedBy: program`, before a switch) is taken over instead of failing on a conflict.
        "pulumi.com/patchForce": "true",
    };
}

/** `flux-system`, made by the program before the repository's releases so the Secrets have a place. */
export class FluxNamespace extends pulumi.ComponentResource {
    /** `flux-system`, resolved once the namespace exists: depend on it through this output. */
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:flux-repository:FluxNamespace", name, {}, opts);
        // The same labels as with the program's own Flux: the operator and the controllers run under `restricted`.
        const ns = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: FLUX_NAMESPACE, labels: namespaceLabels() },
        }, { parent: this, retainOnDelete: true });
        this.namespace = ns.metadata.name;
        this.registerOutputs({ namespace: this.namespace });
    }
}

export interface FluxHandoverArgs {
    /**
     * The flux-instance Helm release (the platform release at {@link RepositoryFlux.instance}); undefined once Flux has
     * taken it over, the FluxInstance Ready when the run read it (cluster/handover.ts): then nothing is waited for.
     */
    instance?: pulumi.Resource;
    /** flux-system, as the namespace's output. */
    namespace: pulumi.Input<string>;
    /** The distribution the instance follows, for the stack output. */
    version: string;
    /** The controllers the instance runs, as the repository's flux-instance release says. */
    components: string[];
    /** Bound on the wait: the controllers coming up, then the sync's first fetch and apply. */
    timeoutSeconds: number;
    /** How `pulumi up` waits for the Flux objects: hooks that poll the cluster the run verified (cluster/flux-await.ts). */
    wait: ReadyWait;
}

/**
 * The wait for the repository's FluxInstance. The program does not own it (the flux-instance Helm release does, then
 * Flux), and neither the Helm release's wait (Helm knows no custom resource's conditions) nor a read (`.get` never
 * awaits) tells when it is Ready. A server-side-apply patch does: it owns only its annotations, and the Kubernetes
 * provider awaits a Patch resource's `pulumi.com/waitFor` like any object's (pulumi-kubernetes await.go Creation). The
 * operator marks the instance Ready after its health check of everything it applied, the sync's GitRepository and
 * Kustomization included (flux-operator fluxinstance_controller.go apply, `spec.wait` defaults to true), so Ready means
 * the handoff worked. Once Flux has taken the flux-instance release over with its FluxInstance Ready, there is nothing
 * to wait for and no patch. Pass the Kubernetes provider in `opts.provider`.
 */
export class FluxHandover extends pulumi.ComponentResource {
    /**
     * The patch, created once the FluxInstance is Ready: depend on it for any Flux object (the Receiver). Empty when
     * Flux has taken the instance over: the FluxInstance was Ready before anything was registered, so its CRDs and
     * the GitRepository of its sync exist already, and there is nothing to wait for.
     */
    public readonly ready: pulumi.Resource[];
    /** The distribution version range the instance follows. */
    public readonly version: string;
    /** The controllers the instance runs: the policy pack judges a writable deploy key by them. */
    public readonly components: string[];

    constructor(name: string, args: FluxHandoverArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:flux-repository:FluxHandover", name, {}, opts);
        this.version = args.version;
        this.components = args.components;
        this.ready = args.instance === undefined ? [] : [new k8s.apiextensions.CustomResourcePatch(`${name}-instance`, {
            apiVersion: "fluxcd.controlplane.io/v1",
            kind: "FluxInstance",
            metadata: { name: FLUX_INSTANCE_NAME, namespace: args.namespace, annotations: handoverAnnotations(args.timeoutSeconds) },
        }, {
            parent: this,
            // The object exists once the release is installed; the patch never creates it.
            dependsOn: [args.instance],
            // Like every in-cluster object: a destroy leaves the annotations, and Flux, alone.
            retainOnDelete: true,
            // In `pulumi up`, polls the FluxInstance and logs the operator's reason until Ready (cluster/flux-await.ts).
            ...args.wait(args.timeoutSeconds),
        })];
        this.registerOutputs({ version: this.version, components: this.components });
    }
}
