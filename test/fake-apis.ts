// Fake HTTP(S) APIs on 127.0.0.1 for tests: the Kubernetes API server (HTTPS, a throw-away certificate), GitHub,
// Cloudflare and chart registries (HTTP). Each answers from a handler the test controls and records what it was asked.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface FakeRequest {
    method: string;
    /** Path without the query. */
    path: string;
    query: URLSearchParams;
    authorization?: string;
    accept?: string;
    /** Every request header, lowercase names. */
    headers: http.IncomingHttpHeaders;
}

/**
 * A JSON answer (`body`), a text answer sent as it is (`text`, with the content type `headers` give), or "hang" for a
 * server that never answers.
 */
export type FakeAnswer = { status: number; body?: unknown; text?: string; headers?: Record<string, string> } | "hang";

export interface FakeApi {
    url: string;
    /** Base64 of the server's certificate (HTTPS only), for a kubeconfig's certificate-authority-data. */
    caData?: string;
    requests: FakeRequest[];
    /** Replaceable at any time. */
    handler: (req: FakeRequest) => FakeAnswer;
    close(): Promise<void>;
}

let certificate: { cert: string; key: string } | undefined;

/** A self-signed certificate for 127.0.0.1, made once per test file with the machine's openssl. */
export function loopbackCertificate(): { cert: string; key: string } {
    if (certificate) return certificate;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-api-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
    certificate = { cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), key: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
    return certificate;
}

export async function fakeApi(opts: { tls?: boolean; handler?: (req: FakeRequest) => FakeAnswer } = {}): Promise<FakeApi> {
    const api: Partial<FakeApi> = { requests: [], handler: opts.handler ?? (() => ({ status: 404, body: {} })) };
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        const request: FakeRequest = {
            method: req.method ?? "GET", path: url.pathname, query: url.searchParams, authorization: req.headers.authorization, accept: req.headers.accept,
            headers: req.headers,
        };
        api.requests!.push(request);
        const answer = api.handler!(request);
        if (answer === "hang") return;
        if (answer.text !== undefined) {
            res.writeHead(answer.status, { "content-type": "text/plain; charset=utf-8", ...answer.headers });
            res.end(answer.text);
            return;
        }
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    };
    let server: http.Server | https.Server;
    if (opts.tls) {
        const tls = loopbackCertificate();
        server = https.createServer(tls, listener);
        api.caData = Buffer.from(tls.cert).toString("base64");
    } else {
        server = http.createServer(listener);
    }
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api.url = `${opts.tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api.close = () => new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
    });
    return api as FakeApi;
}

/** A Kubernetes `Status` failure body. */
export function k8sStatus(code: number, reason: string): FakeAnswer {
    return { status: code, body: { kind: "Status", apiVersion: "v1", status: "Failure", reason, code } };
}

/** A loopback port nothing listens on: listened on, then closed. */
export async function closedPort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}
