// R2 after an apply: the backup token (the r2AccessKeyId / r2SecretAccessKey outputs, what cluster-secrets hands to the
// backup tools) reaches each of the stack's buckets, and nothing else. Through the S3 API with the AWS SDK's S3 client,
// as the backup tools use it: ListObjectsV2 on each bucket must succeed; ListObjectsV2 on a bucket outside the stack and
// ListBuckets must be refused.
//
// R2 refuses a bucket-scoped token with 403 on a bucket outside its scope, whether or not that bucket exists, rather
// than answering NoSuchBucket (seen by dynamical-org/reformatters#979: HeadBucket and HeadObject on a bucket outside a
// scoped token's list answered 403), and refuses ListBuckets to the Object Read/Write permission groups, which only
// the Admin tiers may call (R2 docs, "Authentication: Permissions"; ashwathstephen/sairo#45).
import type { S3Client } from "@aws-sdk/client-s3";
import { r2Endpoint } from "../providers/r2";
import { loopbackOverride } from "../preflight/http";
import { fail, ok, skip, warn, type CheckResult } from "../preflight/result";
import { missingOutput, stringOutput, type VerifyFacts } from "./facts";

/** For tests only: an S3 endpoint on 127.0.0.1 that stands in for R2 (refused unless it is a loopback URL). */
export const TEST_R2_ENDPOINT_ENV = "CLUSTER_BOOTSTRAP_TEST_R2_ENDPOINT";

/**
 * A bucket name outside the stack, for the scope probe: derived from the cluster name, a valid R2 name (3-63 lowercase
 * letters, digits and hyphens), and none of the stack's buckets.
 */
export function probeBucket(clusterName: string, buckets: readonly string[]): string {
    for (let i = 0; ; i++) {
        const suffix = `-scope-probe${i === 0 ? "" : `-${i}`}`;
        const name = `${clusterName.slice(0, 63 - suffix.length)}${suffix}`.replace(/^-+/, "");
        if (!buckets.includes(name)) return name;
    }
}

/** An S3 error as the SDK reports it: the service's error code and the HTTP status. */
interface S3Failure {
    code: string;
    status?: number;
}

function s3Failure(e: unknown, timeoutMs: number): S3Failure {
    const err = e as Error & { $metadata?: { httpStatusCode?: number }; Code?: string; cause?: { code?: string } };
    if (err?.name === "TimeoutError" || err?.name === "AbortError") return { code: `no answer within ${timeoutMs / 1000} s` };
    const status = err?.$metadata?.httpStatusCode;
    if (status === undefined) return { code: `unreachable (${err?.cause?.code ?? (err as { code?: string })?.code ?? err?.name ?? "error"})` };
    return { code: err.Code ?? err.name ?? "error", status };
}

const described = (f: S3Failure) => (f.status !== undefined ? `${f.status} ${f.code}` : f.code);

export async function r2Verify(facts: VerifyFacts, out: CheckResult[]): Promise<void> {
    const cfg = facts.config;
    const accessKeyId = stringOutput(facts, "r2AccessKeyId");
    const secretAccessKey = stringOutput(facts, "r2SecretAccessKey");
    if (!accessKeyId || !secretAccessKey) return void out.push(skip("R2", missingOutput(accessKeyId ? "r2SecretAccessKey" : "r2AccessKeyId")));
    // The credentials go to the account's own endpoint and nowhere else, whatever the output says.
    const endpoint = r2Endpoint(cfg.cloudflareAccountId, cfg.r2.jurisdiction);
    const output = stringOutput(facts, "r2Endpoint");
    if (output !== undefined && output !== endpoint) {
        return void out.push(fail("R2 endpoint", `the r2Endpoint output ${output} is not the account's endpoint ${endpoint}: the credentials are not sent there`,
            "run `pulumi up`, which writes the output again"));
    }

    const { S3Client, ListObjectsV2Command, ListBucketsCommand } = await import("@aws-sdk/client-s3");
    const client: S3Client = new S3Client({
        region: "auto",
        endpoint: loopbackOverride(TEST_R2_ENDPOINT_ENV, facts.env) ?? endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        // Each call bounded, and a refusal is an answer, not something to retry.
        maxAttempts: 1,
    });
    // Undefined when the call succeeded, else how it failed.
    const attempt = async (call: (abortSignal: AbortSignal) => Promise<unknown>): Promise<S3Failure | undefined> => {
        try {
            await call(AbortSignal.timeout(facts.timeoutMs));
            return undefined;
        } catch (e) {
            return s3Failure(e, facts.timeoutMs);
        }
    };
    try {
        const names = cfg.r2.buckets.map((b) => b.name);
        const probe = probeBucket(cfg.cluster.name, names);
        const list = (Bucket: string) => attempt((abortSignal) => client.send(new ListObjectsV2Command({ Bucket, MaxKeys: 1 }), { abortSignal }));
        // Side by side: the calls are independent, and the round then takes one bound at most.
        const [reached, outside, all] = await Promise.all([
            Promise.all(names.map(list)),
            list(probe),
            attempt((abortSignal) => client.send(new ListBucketsCommand({}), { abortSignal })),
        ]);
        names.forEach((name, i) => {
            const f = reached[i];
            out.push(f === undefined ? ok(`R2 bucket ${name}`, "the backup token lists it (S3 ListObjectsV2)")
                : fail(`R2 bucket ${name}`, `the backup token cannot list it: ${described(f)}`,
                    f.status === 404 ? "run `pulumi up`, which creates it" : "run `pulumi up`; to replace the token, change cluster-bootstrap:rotation.backupToken"));
        });

        const title = "R2 token scope";
        if (outside === undefined) {
            out.push(fail(title, `the backup token listed ${probe}, a bucket outside the stack: it is not limited to the stack's buckets`,
                "replace it: change cluster-bootstrap:rotation.backupToken and run `pulumi up` (the program scopes the new one to the buckets)"));
        } else if (outside.status === 403) {
            out.push(ok(title, `refused on ${probe}, a bucket outside the stack (${described(outside)}): the token reaches only its own buckets`));
        } else if (outside.status === 404) {
            out.push(warn(title, `R2 answered ${described(outside)} for ${probe}, a bucket outside the stack: that proves nothing about the token's scope`));
        } else {
            out.push(fail(title, outside.status !== undefined ? `a bucket outside the stack (${probe}) answered ${described(outside)}, not a refusal`
                : `not proven: listing ${probe}, a bucket outside the stack, got ${described(outside)}`));
        }

        const listTitle = "R2 token: bucket list";
        if (all === undefined) {
            out.push(fail(listTitle, "the backup token lists the account's buckets: it has account-wide R2 rights",
                "replace it: change cluster-bootstrap:rotation.backupToken and run `pulumi up`"));
        } else if (all.status === 403) {
            out.push(ok(listTitle, `refused (${described(all)}): the token cannot list, create or delete buckets`));
        } else {
            out.push(fail(listTitle, all.status !== undefined ? `answered ${described(all)}, not a refusal` : `not proven: listing the buckets got ${described(all)}`));
        }
    } finally {
        client.destroy();
    }
}
