// Secret zero: the few Secrets the cluster's own secret store needs before External Secrets can pull anything else
// (1Password Connect's credentials file and token, a 1Password service-account token, an OpenBao or Vault token).
// They can come neither from Git nor from the store itself, so the program writes them, before the root Kustomization
// exists, so that Flux's first reconcile finds the store ready to start.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BootstrapSecretConfig } from "../config/bootstrap-secrets";
import { FLUX_NAMESPACE } from "../config/names";

/**
 * Labels on every namespace and Secret this component writes. kustomize-controller's garbage collection skips an
 * object whose in-cluster labels or annotations carry `kustomize.toolkit.fluxcd.io/prune: disabled`: should the
 * repository also declare one of these namespaces (it usually does, with its own labels), later dropping that manifest
 * or its Kustomization does not delete the namespace, and with it secret zero. Flux's server-side apply leaves fields
 * of other field managers alone, so the label stays beside whatever the repository sets.
 */
export function bootstrapLabels(): Record<string, string> {
    return { "kustomize.toolkit.fluxcd.io/prune": "disabled" };
}

/** The namespaces to make sure of: each one once, in first-seen order, flux-system left out (Flux's install owns it). */
export function namespacesToEnsure(secrets: ReadonlyArray<{ namespace: string }>): string[] {
    return [...new Set(secrets.map((s) => s.namespace))].filter((ns) => ns !== FLUX_NAMESPACE);
}

/**
 * Resource name of a bootstrap Secret: `<component>-<namespace>.<name>`. A namespace is a DNS label (no dots), so the
 * first dot after the prefix separates it from the name and no two Secrets share a resource name.
 */
export function secretResourceName(component: string, namespace: string, name: string): string {
    return `${component}-${namespace}.${name}`;
}

export interface BootstrapSecretsArgs {
    /** `cluster-bootstrap:bootstrapSecrets`, validated: names in plain text, each Secret's data a secret Output. */
    secrets: BootstrapSecretConfig[];
    /**
     * flux-system, as the FluxInstall's output, for Secrets that live there: it depends on the namespace only, never on
     * the Flux Operator or the FluxInstance.
     */
    fluxNamespace: pulumi.Input<string>;
}

/**
 * One Secret per entry, in its namespace; each namespace other than flux-system made sure of. Everything is retained
 * on delete. Nothing here waits for Flux: the store's credentials are in place before the first reconcile. Pass the
 * Kubernetes provider in `opts.provider`.
 */
export class BootstrapSecrets extends pulumi.ComponentResource {
    /**
     * What must exist before Flux first reconciles the repository: the Secrets (their namespaces come with them). The
     * root Kustomization, or whatever replaces it, depends on these.
     */
    public readonly ready: pulumi.Resource[];
    /** `namespace/name` of each Secret, for the plan and the tests (never a value). */
    public readonly secretNames: string[];

    constructor(name: string, args: BootstrapSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:bootstrap-secrets:BootstrapSecrets", name, {}, opts);
        const retain = { parent: this, retainOnDelete: true };

        const namespaces = new Map<string, pulumi.Input<string>>([[FLUX_NAMESPACE, args.fluxNamespace]]);
        for (const ns of namespacesToEnsure(args.secrets)) {
            // Adopted when it exists already (the provider upserts), and only this label is set: pod-security and the
            // rest are the repository's to declare, so the two never manage the same field with different values.
            const namespace = new k8s.core.v1.Namespace(`${name}-namespace-${ns}`, {
                metadata: { name: ns, labels: bootstrapLabels() },
            }, retain);
            namespaces.set(ns, namespace.metadata.name);
        }

        this.ready = args.secrets.map((s) => new k8s.core.v1.Secret(secretResourceName(name, s.namespace, s.name), {
            metadata: { name: s.name, namespace: namespaces.get(s.namespace)!, labels: bootstrapLabels() },
            type: "Opaque",
            // stringData keeps each value's text as given: the API server stores its UTF-8 bytes unchanged.
            stringData: pulumi.secret(s.data),
        }, retain));
        this.secretNames = args.secrets.map((s) => `${s.namespace}/${s.name}`);

        this.registerOutputs({ secretNames: this.secretNames });
    }
}
