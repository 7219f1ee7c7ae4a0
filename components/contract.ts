// The contract with the GitOps repository: what each capability hands to Flux through the ConfigMap
// `cluster-vars` and the Secret `cluster-secrets` in flux-system, consumed by `postBuild.substituteFrom`.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../config";
import { CLUSTER_SECRETS, CLUSTER_VARS } from "../config/names";

/** What one capability adds to the contract. Secret values must be secret Outputs. */
export interface ContractPart {
    /** Non-secret keys for the ConfigMap `cluster-vars`. */
    vars: Record<string, pulumi.Input<string>>;
    /** Secret keys for the Secret `cluster-secrets`. */
    secrets: Record<string, pulumi.Input<string>>;
}

/** Flux's opt-in for reconciling whatever references a Secret or ConfigMap whenever it changes. */
export const FLUX_WATCH_LABEL = "reconcile.fluxcd.io/watch";

// Flux substitutes ${VAR} names of this shape only.
const VARIABLE = /^[A-Z_][A-Z0-9_]*$/;

/** The cluster's own keys: name, id, domain and, when set, the pod CIDR. */
export function clusterPart(cluster: ClusterConfig): ContractPart {
    return {
        vars: {
            CLUSTER_NAME: cluster.name,
            CLUSTER_ID: String(cluster.id),
            CLUSTER_DOMAIN: cluster.domain,
            ...(cluster.cidr ? { CLUSTER_CIDR: cluster.cidr } : {}),
        },
        secrets: {},
    };
}

/**
 * Merges the parts into one contract. Throws on a key given twice (two capabilities would fight over it),
 * on a name Flux cannot substitute, and on a key in both the ConfigMap and the Secret.
 */
export function mergeContract(parts: ContractPart[]): ContractPart {
    const merged: ContractPart = { vars: {}, secrets: {} };
    for (const part of parts) {
        for (const kind of ["vars", "secrets"] as const) {
            for (const [key, value] of Object.entries(part[kind])) {
                if (!VARIABLE.test(key)) throw new Error(`contract key ${JSON.stringify(key)} is not a valid substitution variable name`);
                if (key in merged.vars || key in merged.secrets) throw new Error(`contract key ${key} is provided twice`);
                merged[kind][key] = value;
            }
        }
    }
    return merged;
}

export interface ClusterContractArgs {
    /** Namespace the ConfigMap and Secret live in: flux-system, as the FluxInstall's output. */
    namespace: pulumi.Input<string>;
    /** What each capability hands to Flux; merged with {@link mergeContract}. */
    parts: ContractPart[];
}

/**
 * The ConfigMap `cluster-vars` and the Secret `cluster-secrets`, built from every capability's part in one
 * place. Both are retained on delete, like every in-cluster object. Pass the Kubernetes provider in
 * `opts.provider`.
 */
export class ClusterContract extends pulumi.ComponentResource {
    /** `cluster-vars`, resolved once the ConfigMap exists. */
    public readonly configMapName: pulumi.Output<string>;
    /** `cluster-secrets`, resolved once the Secret exists. */
    public readonly secretName: pulumi.Output<string>;
    /** The variable names in cluster-vars, for documentation and tests. */
    public readonly varKeys: string[];
    /** The key names in cluster-secrets (the names only: never a value). */
    public readonly secretKeys: string[];

    constructor(name: string, args: ClusterContractArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:contract:ClusterContract", name, {}, opts);
        const merged = mergeContract(args.parts);
        const retain = { parent: this, retainOnDelete: true };

        const vars = new k8s.core.v1.ConfigMap(`${name}-vars`, {
            metadata: { name: CLUSTER_VARS, namespace: args.namespace },
            data: merged.vars,
        }, retain);

        const secrets = new k8s.core.v1.Secret(`${name}-secrets`, {
            metadata: {
                name: CLUSTER_SECRETS,
                namespace: args.namespace,
                // Every Kustomization substituting from it reconciles as soon as it changes (kustomize-controller
                // 1.7+, Flux 2.7): a rotated credential reaches the apps in seconds, not at their next interval.
                labels: { [FLUX_WATCH_LABEL]: "Enabled" },
            },
            type: "Opaque",
            // Secret as a whole, even if a part handed over a plain value by mistake.
            stringData: pulumi.secret(pulumi.output(merged.secrets)),
        }, retain);

        this.configMapName = vars.metadata.name;
        this.secretName = secrets.metadata.name;
        this.varKeys = Object.keys(merged.vars).sort();
        this.secretKeys = Object.keys(merged.secrets).sort();
        this.registerOutputs({
            configMapName: this.configMapName,
            secretName: this.secretName,
            varKeys: this.varKeys,
            secretKeys: this.secretKeys,
        });
    }
}
