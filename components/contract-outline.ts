// cluster-vars and cluster-secrets as they will be, known from the config alone, before the resources behind their
// values exist: each capability's own contract part, given stand-in values. Only its names are meant to be read (and
// which of the two holds each), so the GitOps files can be judged against them before anything is registered.
import type { StackConfig } from "../config";
import { r2ContractPart } from "./backups";
import { clusterPart, mergeContract, type ContractPart } from "./contract";
import { dnsContractPart } from "./dns-token";
import { edgeContractPart } from "./edge";
import { hubContractPart } from "./hub";

/** The contract the run will write, with "" for every value the resources give. Same parts as index.ts's contractParts. */
export function contractOutline(cfg: Pick<StackConfig, "cluster" | "r2" | "hub">): ContractPart {
    const standIn = "";
    return mergeContract([
        clusterPart(cfg.cluster),
        edgeContractPart({ id: standIn, originHost: standIn, token: standIn }),
        r2ContractPart({
            endpoint: standIn,
            buckets: cfg.r2.buckets.map((b) => ({ purpose: b.purpose, name: standIn })),
            accessKeyId: standIn,
            secretAccessKey: standIn,
        }),
        dnsContractPart({ zoneId: standIn, token: standIn }),
        ...(cfg.hub ? [hubContractPart({ hostnames: cfg.hub.hostnames, clientId: standIn, clientSecret: standIn })] : []),
    ]);
}
