// R2 as data: endpoints, token scopes, lifecycle rules and S3 credentials derived by pure functions, so the
// scope of the backup token and the rules on each bucket are checked without a provider.
import * as crypto from "node:crypto";
import type { BucketConfig, R2Config } from "../config";
import { policyResourcesJson } from "./cloudflare-permissions";

export type Jurisdiction = R2Config["jurisdiction"];


/** R2's own default rule aborts incomplete multipart uploads after 7 days; setting any rules replaces it. */
export const ABORT_MULTIPART_AFTER_DAYS = 7;
const DAY_SECONDS = 24 * 60 * 60;

/** S3 API endpoint; jurisdictional buckets answer only on their jurisdiction's host. */
export function r2Endpoint(accountId: string, jurisdiction: Jurisdiction): string {
    return jurisdiction === "default"
        ? `https://${accountId}.r2.cloudflarestorage.com`
        : `https://${accountId}.${jurisdiction}.r2.cloudflarestorage.com`;
}

/** Access-policy resource key of one bucket (`default` for buckets outside a jurisdiction). */
export function bucketResourceKey(accountId: string, jurisdiction: Jurisdiction, bucket: string): string {
    return `com.cloudflare.edge.r2.bucket.${accountId}_${jurisdiction}_${bucket}`;
}

/** The token policy's `resources` JSON: exactly the named buckets, never the account. */
export function tokenResources(accountId: string, jurisdiction: Jurisdiction, buckets: readonly string[]): string {
    if (buckets.length === 0) throw new Error("an R2 token must name at least one bucket (an empty scope is not \"none\")");
    return policyResourcesJson(buckets.map((b) => bucketResourceKey(accountId, jurisdiction, b)));
}

/** One lifecycle rule in the provider's input shape (ages in seconds). */
export interface LifecycleRule {
    id: string;
    enabled: boolean;
    conditions: { prefix: string };
    abortMultipartUploadsTransition?: { condition: { type: "Age"; maxAge: number } };
    deleteObjectsTransition?: { condition: { type: "Age"; maxAge: number } };
}

/** Rules for a bucket: R2's multipart clean-up re-added, plus object expiry when `expireDays` asks for it. */
export function lifecycleRules(bucket: BucketConfig): LifecycleRule[] {
    const rules: LifecycleRule[] = [{
        id: "abort-incomplete-multipart-uploads",
        enabled: true,
        conditions: { prefix: "" },
        abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: ABORT_MULTIPART_AFTER_DAYS * DAY_SECONDS } },
    }];
    if (bucket.expireDays !== undefined) {
        rules.push({
            id: `expire-after-${bucket.expireDays}-days`,
            enabled: true,
            conditions: { prefix: "" },
            deleteObjectsTransition: { condition: { type: "Age", maxAge: bucket.expireDays * DAY_SECONDS } },
        });
    }
    return rules;
}

/** S3 secret access key of an API token: the hex SHA-256 of its value (R2 docs, "Get S3 API credentials"). */
export function s3SecretAccessKey(tokenValue: string): string {
    return crypto.createHash("sha256").update(tokenValue, "utf8").digest("hex");
}

