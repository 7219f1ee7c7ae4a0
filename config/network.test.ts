import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { loopbackCertificate } from "../test/fake-apis";
import { networkCause } from "./network";

/** What Node's fetch throws: `TypeError: fetch failed` with the system error in `cause`. */
const fetchFailed = (code: string, message = `connect ${code} 127.0.0.1:1`) =>
    Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(message), { code }) });

describe("the cause of a failed call, from constructed errors", () => {
    it("names refused connections, unresolved names, TLS failures and the connection's own timeouts", () => {
        expect(networkCause(fetchFailed("ECONNREFUSED"))).toBe("connection refused");
        expect(networkCause(fetchFailed("ENOTFOUND", "getaddrinfo ENOTFOUND api.example"))).toBe("name not resolved");
        expect(networkCause(fetchFailed("EAI_AGAIN", "getaddrinfo EAI_AGAIN api.example"))).toBe("name not resolved");
        for (const code of ["CERT_HAS_EXPIRED", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN",
            "ERR_TLS_CERT_ALTNAME_INVALID", "ERR_SSL_WRONG_VERSION_NUMBER"]) {
            expect(networkCause(fetchFailed(code)), code).toBe(`TLS failure (${code})`);
        }
        expect(networkCause(fetchFailed("ETIMEDOUT"))).toBe("timed out (ETIMEDOUT)");
        expect(networkCause(fetchFailed("UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error"))).toBe("timed out (UND_ERR_CONNECT_TIMEOUT)");
        expect(networkCause(fetchFailed("ECONNRESET"))).toBe("connection reset");
        expect(networkCause(fetchFailed("EHOSTUNREACH"))).toBe("host unreachable");
    });

    it("names our own bound in seconds, whatever lies under it", () => {
        const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
        expect(networkCause(timeout, 1500)).toBe("timed out after 1.5 s");
        expect(networkCause(Object.assign(new TypeError("fetch failed"), { cause: timeout }), 15_000)).toBe("timed out after 15 s");
        expect(networkCause(timeout)).toBe("timed out");
    });

    it("looks through nested causes and a connection tried on several addresses", () => {
        const both = new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:1"), { code: "ECONNREFUSED" }),
            Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })]);
        expect(networkCause(Object.assign(new TypeError("fetch failed"), { cause: both }))).toBe("connection refused");
        expect(networkCause(new Error("wrapped", { cause: fetchFailed("ENOTFOUND") }))).toBe("name not resolved");
    });

    it("gives an unknown system code as it is, and nothing for an error that is no network failure", () => {
        expect(networkCause(fetchFailed("EWEIRD"))).toBe("unreachable (EWEIRD)");
        expect(networkCause(new TypeError("fetch failed"))).toBe("unreachable");
        // An HTTP answer as @kubernetes/client-node reports it: a numeric code is a status, not a cause.
        expect(networkCause(Object.assign(new Error("HTTP-Code: 404"), { code: 404 }))).toBeUndefined();
        expect(networkCause(new Error("the API server did not answer within 0.4 s"))).toBeUndefined();
        expect(networkCause(undefined)).toBeUndefined();
        const loop: { cause?: unknown; code?: string } = { code: "ECONNREFUSED" };
        loop.cause = loop;
        expect(networkCause(loop)).toBe("connection refused");
    });
});

describe("the cause of a failed call, on loopback", () => {
    const servers: Array<http.Server | https.Server> = [];
    afterAll(() => {
        for (const s of servers) {
            s.closeAllConnections();
            s.close();
        }
    });
    const listen = async (server: http.Server | https.Server) => {
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return (server.address() as AddressInfo).port;
    };
    const caught = async (p: Promise<unknown>) => {
        try {
            await p;
        } catch (e) {
            return e;
        }
        throw new Error("the call succeeded");
    };

    it("says connection refused for a port nothing listens on", async () => {
        const server = http.createServer();
        const port = await listen(server);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        expect(networkCause(await caught(fetch(`http://127.0.0.1:${port}/`)))).toBe("connection refused");
    });

    it("says timed out after the bound for a server that never answers", async () => {
        const port = await listen(http.createServer(() => undefined));
        expect(networkCause(await caught(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(200) })), 200)).toBe("timed out after 0.2 s");
    });

    it("says TLS failure with the verification code for a certificate nothing vouches for", async () => {
        const port = await listen(https.createServer(loopbackCertificate(), (_req, res) => res.end("{}")));
        expect(networkCause(await caught(fetch(`https://127.0.0.1:${port}/`)))).toBe("TLS failure (DEPTH_ZERO_SELF_SIGNED_CERT)");
    });
});
