// Flux itself: the flux-system namespace, the Flux Operator from its OCI Helm chart, and the FluxInstance the
// operator turns into the Flux controllers. Everything below Flux waits on `ready`, so nothing races its CRDs.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { FluxConfig } from "../config";
import { programAwaitAnnotations, type ReadyWait } from "../cluster/flux-await";
import { FLUX_OPERATOR_RELEASE } from "../cluster/operator-release";
import { DEFAULT_COMPONENTS, FLUX_INSTANCE_NAME, FLUX_NAMESPACE, IMAGE_AUTOMATION_COMPONENTS, namespaceLabels } from "../config/names";

/** The operator's Helm chart; its version (the operator's version) comes from `flux.operatorChartVersion`. */
export const FLUX_OPERATOR_CHART = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator";
/** Where the operator pulls the Flux distribution manifests from, so a range such as 2.7.x gets new patches. */
export const FLUX_DISTRIBUTION_ARTIFACT = "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests";
export const FLUX_REGISTRY = "ghcr.io/fluxcd";
/** Bound on waiting for the FluxInstance: controllers pulled, CRDs established, every deployment ready. */
export const FLUX_READY_TIMEOUT_SECONDS = 600;

/** The four default controllers, plus the image reflector and automation controllers when asked for. */
export function fluxComponents(imageAutomation: boolean): string[] {
    return [...DEFAULT_COMPONENTS, ...(imageAutomation ? IMAGE_AUTOMATION_COMPONENTS : [])];
}

/** `spec` of the FluxInstance (fluxcd.controlplane.io/v1). */
export function fluxInstanceSpec(flux: FluxConfig) {
    return {
        distribution: {
            version: flux.version,
            registry: FLUX_REGISTRY,
            artifact: FLUX_DISTRIBUTION_ARTIFACT,
        },
        components: fluxComponents(flux.imageAutomation),
        cluster: {
            type: "kubernetes",
            // Only the webhook receiver (and metrics) are reachable from other namespaces.
            networkPolicy: true,
        },
    };
}

/** The provider applies the instance and returns; the program waits for Ready (cluster/flux-await.ts). */
export function fluxInstanceAnnotations(): Record<string, string> {
    return programAwaitAnnotations(FLUX_READY_TIMEOUT_SECONDS);
}

export interface FluxInstallArgs {
    /** `cluster-bootstrap:flux`: distribution version range, image automation, operator chart version. */
    flux: FluxConfig;
    /** What the operator installs after: the last platform release and what it applies (the CNI the operator's pods need). */
    after?: pulumi.Input<pulumi.Resource[]>;
    /** How `pulumi up` waits for the Flux objects: hooks that poll the cluster the run verified (cluster/flux-await.ts). */
    wait: ReadyWait;
    /**
     * With `adopt`, the import ID of an operator release the cluster already runs (cluster/operator-release.ts): it is
     * imported and upgraded in place, where installing it again would fail on the name in use.
     */
    operatorImportId?: string;
}

/**
 * The flux-system namespace, the Flux Operator and a FluxInstance that waits for Ready. Every child is retained
 * on delete: `pulumi destroy` never uninstalls Flux, its CRDs or anything Flux runs. Pass the stack's Kubernetes
 * provider in `opts.provider`.
 */
export class FluxInstall extends pulumi.ComponentResource {
    /** `flux-system`, resolved once the namespace exists: depend on it through this output. */
    public readonly namespace: pulumi.Output<string>;
    /** The FluxInstance; Ready means the Flux CRDs and controllers are up. Depend on it for any Flux object. */
    public readonly ready: k8s.apiextensions.CustomResource;
    /** The distribution version range the instance follows. */
    public readonly version: string;

    constructor(name: string, args: FluxInstallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:flux:FluxInstall", name, {}, opts);
        const retain = { parent: this, retainOnDelete: true };

        const ns = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: FLUX_NAMESPACE, labels: namespaceLabels() },
        }, retain);
        this.namespace = ns.metadata.name;

        // Pinned chart version: an unpinned OCI chart would upgrade the operator (and its CRDs) on any run.
        const operator = new k8s.helm.v3.Release(`${name}-operator`, {
            name: FLUX_OPERATOR_RELEASE,
            chart: FLUX_OPERATOR_CHART,
            version: args.flux.operatorChartVersion,
            namespace: this.namespace,
            createNamespace: false,
        }, { ...retain, dependsOn: args.after ?? [], ...(args.operatorImportId ? { import: args.operatorImportId } : {}) });

        this.ready = new k8s.apiextensions.CustomResource(`${name}-instance`, {
            apiVersion: "fluxcd.controlplane.io/v1",
            kind: "FluxInstance",
            metadata: {
                name: FLUX_INSTANCE_NAME,
                namespace: this.namespace,
                annotations: fluxInstanceAnnotations(),
            },
            spec: fluxInstanceSpec(args.flux),
        }, { ...retain, dependsOn: [operator], ...args.wait(FLUX_READY_TIMEOUT_SECONDS) });

        this.version = args.flux.version;
        this.registerOutputs({ namespace: this.namespace, ready: this.ready, version: this.version });
    }
}
