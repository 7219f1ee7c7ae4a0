// A fake R2 S3 endpoint on 127.0.0.1, answering the two calls verify makes (ListObjectsV2, path-style, and ListBuckets)
// the way R2 answers a bucket-scoped token. It reads the SigV4 Authorization header: a request without one, or signed
// for another region or service, is refused, and so is an access key id it does not know (InvalidAccessKeyId). The
// signature is recomputed with the key's secret over what arrived, as R2 does: a request signed with another secret,
// or changed after signing, gets SignatureDoesNotMatch.
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { SignatureV4 } from "@smithy/signature-v4";

export interface FakeS3Request {
    method: string;
    path: string;
    query: URLSearchParams;
    /** The access key id of the Authorization header's credential scope. */
    accessKeyId?: string;
    region?: string;
}

export interface FakeS3 {
    url: string;
    /** The one access key id it knows, and its secret. */
    accessKeyId: string;
    secretAccessKey: string;
    /** Buckets the key is scoped to; with `accountWide`, the key reaches every bucket and may list them. */
    buckets: Set<string>;
    accountWide: boolean;
    /** Never answer: a call must give up on its own bound. */
    hang: boolean;
    requests: FakeS3Request[];
    close(): Promise<void>;
}

// AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/s3/aws4_request, SignedHeaders=a;b;c, Signature=<64 hex>
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>${body}`;
const error = (code: string, message: string) => xml(`<Error><Code>${code}</Code><Message>${message}</Message></Error>`);

/** What the signer hashes: text or bytes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData) => (typeof d === "string" ? d
    : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));

/** SHA-256 (an HMAC with a secret) as the signer takes it, from node:crypto. */
class Sha256 {
    private readonly hash: crypto.Hash | crypto.Hmac;
    constructor(secret?: SourceData) {
        this.hash = secret === undefined ? crypto.createHash("sha256") : crypto.createHmac("sha256", bytes(secret));
    }
    update(data: SourceData): void {
        this.hash.update(bytes(data));
    }
    async digest(): Promise<Uint8Array> {
        return new Uint8Array(this.hash.digest());
    }
    reset(): void {}
}

/** The signature R2 would expect for `req`, with the headers the client said it signed, at the date it gave. */
async function expectedSignature(req: http.IncomingMessage, url: URL, keyId: string, secret: string, signedHeaders: string[]): Promise<string> {
    const signer = new SignatureV4({
        credentials: { accessKeyId: keyId, secretAccessKey: secret }, region: "auto", service: "s3", sha256: Sha256,
        // S3 signs the path as sent, without escaping it a second time.
        uriEscapePath: false, applyChecksum: true,
    });
    const headers = Object.fromEntries(signedHeaders.map((h) => [h, String(req.headers[h] ?? "")]));
    const amzDate = headers["x-amz-date"];
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`);
    const signed = await signer.sign({
        method: req.method ?? "GET", protocol: "http:", hostname: url.hostname, path: url.pathname,
        query: Object.fromEntries(url.searchParams), headers,
    }, { signingDate, unsignableHeaders: new Set(), signableHeaders: new Set(signedHeaders) });
    return /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1] ?? "";
}

export async function fakeS3(opts: { accessKeyId: string; secretAccessKey: string; buckets: string[] }): Promise<FakeS3> {
    const s3: Partial<FakeS3> = {
        accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, buckets: new Set(opts.buckets), accountWide: false, hang: false, requests: [],
    };
    const server = http.createServer(async (req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const auth = AUTHORIZATION.exec(req.headers.authorization ?? "");
        s3.requests!.push({ method: req.method ?? "GET", path: url.pathname, query: url.searchParams, accessKeyId: auth?.[1], region: auth?.[3] });
        if (s3.hang) return;
        const answer = (status: number, body: string) => {
            res.writeHead(status, { "content-type": "application/xml" });
            res.end(body);
        };
        if (!auth) return answer(403, error("AccessDenied", "Access Denied"));
        const [, keyId, , region, service, signedHeaders, signature] = auth;
        const signed = signedHeaders.split(";");
        // R2 signs for the region `auto` (its docs' value for every SDK); a client left on another region is a setup
        // mistake this fake catches. SigV4 needs host, x-amz-date and, for S3, x-amz-content-sha256 signed.
        if (region !== "auto" || service !== "s3" || !["host", "x-amz-date", "x-amz-content-sha256"].every((h) => signed.includes(h) && req.headers[h])) {
            return answer(400, error("AuthorizationHeaderMalformed", "The authorization header is malformed"));
        }
        if (keyId !== s3.accessKeyId) return answer(403, error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."));
        if (signature !== await expectedSignature(req, url, keyId, s3.secretAccessKey!, signed)) {
            return answer(403, error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."));
        }
        if (req.method !== "GET") return answer(403, error("AccessDenied", "Access Denied"));
        // Path-style: the bucket is the first path segment.
        const bucket = decodeURIComponent(url.pathname.split("/")[1] ?? "");
        if (bucket === "") {
            if (!s3.accountWide) return answer(403, error("AccessDenied", "Access Denied"));
            return answer(200, xml(`<ListAllMyBucketsResult><Buckets>${[...s3.buckets!].map((b) => `<Bucket><Name>${b}</Name><CreationDate>2025-01-01T00:00:00.000Z</CreationDate></Bucket>`).join("")}</Buckets><Owner><ID>x</ID><DisplayName>x</DisplayName></Owner></ListAllMyBucketsResult>`));
        }
        if (url.searchParams.get("list-type") !== "2") return answer(400, error("InvalidRequest", "only ListObjectsV2 is served here"));
        if (!s3.accountWide && !s3.buckets!.has(bucket)) return answer(403, error("AccessDenied", "Access Denied"));
        if (!s3.buckets!.has(bucket)) return answer(404, error("NoSuchBucket", "The specified bucket does not exist."));
        return answer(200, xml(`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix></Prefix>`
            + `<KeyCount>0</KeyCount><MaxKeys>${url.searchParams.get("max-keys") ?? "1000"}</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    s3.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    s3.close = () => new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
    });
    return s3 as FakeS3;
}
