// The contract with the GitOps repository: what each capability hands to Flux through the ConfigMap
// `cluster-vars` and the Secret `cluster-secrets` in flux-system, consumed by `postBuild.substituteFrom`.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../config";

/** What one capability adds to the contract. Secret values must be secret Outputs. */
export interface ContractPart {
    /** Non-secret keys for the ConfigMap `cluster-vars`. */
    vars: Record<string, pulumi.Input<string>>;
    /** Secret keys for the Secret `cluster-secrets`. */
    secrets: Record<string, pulumi.Input<string>>;
}

export const CLUSTER_VARS = "cluster-vars";
export const CLUSTER_SECRETS = "cluster-secrets";

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
