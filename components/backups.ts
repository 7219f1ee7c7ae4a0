// The cluster's backup buckets on R2 and one token scoped to exactly those buckets. A lost cluster is rebuilt
// from these buckets, so they must outlive the cluster, the stack and any rename in config.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { purposeVariable, type R2Config } from "../config";
import type { ContractPart } from "./contract";
import { rotationOptions } from "../providers/rotation";
import { lifecycleRules, r2Endpoint, s3SecretAccessKey, tokenResources } from "../providers/r2";
import { lookupPermissionGroups } from "../providers/cloudflare";
import { adoptionKey, type BucketImport } from "../providers/adoption";
import { r2BucketImportId } from "../providers/import-ids";
import { R2_OBJECT_PERMISSION_GROUPS } from "../providers/cloudflare-permissions";

export interface R2ContractInput {
    endpoint: string;
    /** Bucket name per configured bucket; an Output makes the contract wait for the bucket. */
    buckets: ReadonlyArray<{ purpose: string; name: ContractPart["vars"][string] }>;
    /** Secret Outputs. */
    accessKeyId: ContractPart["secrets"][string];
    secretAccessKey: ContractPart["secrets"][string];
}

/** `R2_ENDPOINT` and `R2_BUCKET_<PURPOSE>` for `cluster-vars`; the S3 credentials for `cluster-secrets`. */
export function r2ContractPart(input: R2ContractInput): ContractPart {
    return {
        vars: {
            R2_ENDPOINT: input.endpoint,
            ...Object.fromEntries(input.buckets.map((b) => [purposeVariable(b.purpose), b.name])),
        },
        secrets: {
            R2_ACCESS_KEY_ID: input.accessKeyId,
            R2_SECRET_ACCESS_KEY: input.secretAccessKey,
        },
    };
}

/** Name of the backup token on the dashboard: whose it is and what it may do. */
export function backupTokenName(clusterName: string): string {
    return `${clusterName} cluster backups (R2 objects)`;
}

export interface BackupBucketsArgs {
    /** Cloudflare account that owns the buckets and the token. */
    accountId: string;
    /** `cluster-bootstrap:r2`: the buckets, their location hint and jurisdiction. */
    r2: R2Config;
    /** Cluster name; names the token so the dashboard shows whose it is. */
    clusterName: string;
    /** `rotation.backupToken`: a new value replaces the token, and so the S3 credentials, create-before-delete. */
    rotation?: string;
    /**
     * `adopt`: the buckets that already exist, by name, imported with these IDs and their own location and storage
     * class. Their lifecycle rules are written over (the resource has no import).
     */
    adopt?: Readonly<Record<string, BucketImport>>;
}

/** R2 buckets for VolSync and CloudNativePG backups, their lifecycle rules and an object-only S3 credential. */
export class BackupBuckets extends pulumi.ComponentResource {
    /** S3 endpoint for the buckets' jurisdiction. */
    public readonly endpoint: string;
    /** Bucket name per purpose, e.g. `{ volsync: "infra-volsync" }`; resolves once the bucket exists. */
    public readonly bucketNames: Record<string, pulumi.Output<string>>;
    /** S3 access key id (the token's id), secret. */
    public readonly accessKeyId: pulumi.Output<string>;
    /** S3 secret access key (SHA-256 of the token's value), secret. */
    public readonly secretAccessKey: pulumi.Output<string>;
    /** `R2_ENDPOINT`, `R2_BUCKET_<PURPOSE>` for cluster-vars; the credentials for cluster-secrets. */
    public readonly contract: ContractPart;
    /** Each bucket's import ID, once it exists, by `R2 bucket <name>`: what a later `adopt` finds in the state. */
    public readonly importIds: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: BackupBucketsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:backups:BackupBuckets", name, {}, opts);
        const { accountId, r2 } = args;

        this.bucketNames = {};
        this.importIds = {};
        for (const b of r2.buckets) {
            const adopted = args.adopt?.[b.name];
            // The resource is named after the bucket, not its position or purpose, so its URN only changes when
            // the bucket name does. A renamed bucket is a new resource; protect makes `pulumi up` refuse to
            // delete the old one, and retainOnDelete keeps the data even after an explicit unprotect.
            const bucket = new cloudflare.R2Bucket(`${name}-${b.name}`, {
                accountId,
                name: b.name,
                jurisdiction: r2.jurisdiction,
                // An adopted bucket keeps what it has, not the config's hint or the provider's default class.
                location: adopted?.location ?? r2.location,
                ...(adopted?.storageClass !== undefined ? { storageClass: adopted.storageClass } : {}),
            }, {
                parent: this,
                protect: true,
                retainOnDelete: true,
                // The location is a hint honoured only at creation; R2 never moves a bucket, so a later change (or
                // the API reporting it in another case) must not plan a replacement of the backups. The storage class
                // (of newly uploaded objects) is the bucket owner's: new buckets get the provider's Standard, and an
                // adopted bucket's class is never switched back to it.
                ignoreChanges: ["location", "storageClass"],
                ...(adopted ? { import: adopted.importId } : {}),
            });
            this.importIds[adoptionKey("R2 bucket", b.name)] = bucket.name.apply((n) => r2BucketImportId(accountId, n, r2.jurisdiction));
            // Retained too: the rules keep cleaning up the bucket after a destroy, and re-creating them is a PUT.
            new cloudflare.R2BucketLifecycle(`${name}-${b.name}-lifecycle`, {
                accountId,
                bucketName: bucket.name,
                jurisdiction: r2.jurisdiction,
                rules: lifecycleRules(b),
            }, { parent: this, retainOnDelete: true });
            this.bucketNames[b.purpose] = bucket.name;
        }

        const permissionGroups = lookupPermissionGroups(accountId, R2_OBJECT_PERMISSION_GROUPS, this);

        // No dependency on the buckets, on purpose: the scope is a set of names from config, valid before the
        // buckets exist, and depending on them would only lengthen the path to cluster-secrets. Nothing can use
        // the token early either: the contract's R2_BUCKET_* values are the buckets' outputs, so cluster-vars
        // (and whatever Flux applies with it) waits for the buckets.
        const token = new cloudflare.AccountToken(`${name}-token`, {
            accountId,
            name: backupTokenName(args.clusterName),
            policies: [{
                effect: "allow",
                permissionGroups,
                resources: tokenResources(accountId, r2.jurisdiction, r2.buckets.map((b) => b.name)),
            }],
        }, { parent: this, ...rotationOptions(args.rotation) });

        this.endpoint = r2Endpoint(accountId, r2.jurisdiction);
        this.accessKeyId = pulumi.secret(token.id);
        this.secretAccessKey = pulumi.secret(token.value.apply(s3SecretAccessKey));
        this.contract = r2ContractPart({
            endpoint: this.endpoint,
            buckets: r2.buckets.map((b) => ({ purpose: b.purpose, name: this.bucketNames[b.purpose] })),
            accessKeyId: this.accessKeyId,
            secretAccessKey: this.secretAccessKey,
        });

        this.registerOutputs({
            endpoint: this.endpoint,
            bucketNames: this.bucketNames,
            accessKeyId: this.accessKeyId,
            secretAccessKey: this.secretAccessKey,
        });
    }
}
