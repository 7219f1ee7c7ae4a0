// The cluster's own Cloudflare DNS credential: an account token that can read and edit the records of the cluster's
// zone and nothing else, minted by the program like the backup token. The repo's external-dns and cert-manager
// (DNS-01) use it, so no long-lived token with access to every zone is made by hand after a rebuild.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { ContractPart } from "./contract";
import { DNS_PERMISSION_GROUPS, policyResourcesJson, ZONE_PERMISSION_SCOPE } from "../providers/cloudflare-permissions";
import { rotationOptions } from "../providers/rotation";
import { lookupPermissionGroups } from "../providers/cloudflare";


/** Access-policy resource key of one zone. */
export function zoneResourceKey(zoneId: string): string {
    return `${ZONE_PERMISSION_SCOPE}.${zoneId}`;
}

/** The token policy's `resources` JSON: exactly one zone, never the account's zones or every zone. */
export function dnsTokenResources(zoneId: string): string {
    if (zoneId === "" || zoneId.includes("*")) throw new Error("the DNS token must name one zone by its id (an empty or wildcard id would widen it)");
    return policyResourcesJson([zoneResourceKey(zoneId)]);
}

/** `CLOUDFLARE_ZONE_ID` for cluster-vars, `CLOUDFLARE_DNS_TOKEN` for cluster-secrets. */
export function dnsContractPart(input: {
    zoneId: ContractPart["vars"][string];
    /** Must be a secret Output. */
    token: ContractPart["secrets"][string];
}): ContractPart {
    return {
        vars: { CLOUDFLARE_ZONE_ID: input.zoneId },
        secrets: { CLOUDFLARE_DNS_TOKEN: input.token },
    };
}

/** Name of the token on the dashboard: whose it is and what it is for. */
export function dnsTokenName(clusterName: string): string {
    return `${clusterName} cluster DNS (external-dns, cert-manager)`;
}

export interface DnsTokenArgs {
    /** Cloudflare account that owns the token. */
    accountId: string;
    /** Cluster name; names the token. */
    clusterName: string;
    /** Id of the cluster's zone, from ClusterEdge's lookup (`edge.zoneId`). */
    zoneId: pulumi.Output<string>;
    /** `rotation.dnsToken`: a new value replaces the token, create-before-delete, and CLOUDFLARE_DNS_TOKEN with it. */
    rotation?: string;
}

/** An account token with Zone Read and DNS Write on the cluster's zone only. */
export class DnsToken extends pulumi.ComponentResource {
    /** The zone the token reaches. */
    public readonly zoneId: pulumi.Output<string>;
    /** The token's value, secret. */
    public readonly token: pulumi.Output<string>;
    /** The token's id, secret (what a later `adopt` recognises as this stack's own). */
    public readonly tokenId: pulumi.Output<string>;
    /** `CLOUDFLARE_ZONE_ID` for cluster-vars; `CLOUDFLARE_DNS_TOKEN` for cluster-secrets. */
    public readonly contract: ContractPart;

    constructor(name: string, args: DnsTokenArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:dns-token:DnsToken", name, {}, opts);
        const { accountId } = args;

        const permissionGroups = lookupPermissionGroups(accountId, DNS_PERMISSION_GROUPS, this, ZONE_PERMISSION_SCOPE);

        const token = new cloudflare.AccountToken(`${name}-token`, {
            accountId,
            name: dnsTokenName(args.clusterName),
            policies: [{
                effect: "allow",
                permissionGroups,
                resources: args.zoneId.apply((id) => {
                    try {
                        return dnsTokenResources(id);
                    } catch (e) {
                        throw new pulumi.ResourceError((e as Error).message, this, true);
                    }
                }),
            }],
        }, { parent: this, ...rotationOptions(args.rotation) });

        this.zoneId = args.zoneId;
        // The provider marks the value secret in its outputs; wrapped again before it goes anywhere else.
        this.token = pulumi.secret(token.value);
        this.tokenId = pulumi.secret(token.id);
        this.contract = dnsContractPart({ zoneId: this.zoneId, token: this.token });

        this.registerOutputs({ zoneId: this.zoneId, token: this.token });
    }
}
