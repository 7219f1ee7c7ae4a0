// adopt's two lookups that go around the providers (providers/existing.ts), against fake Cloudflare and GitHub APIs
// on 127.0.0.1: the R2 bucket listing in the stack's jurisdiction, page by page, and the webhooks with the URL each
// posts to; errors say what failed without the token.
import { afterAll, describe, expect, it } from "vitest";
import { listR2Buckets, listWebhooks, liveExistingReader, LookupError } from "../providers/existing";
import { closedPort, fakeApi, type FakeApi } from "./fake-apis";

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
const TOKEN = "cf-token-SENTINEL-not-real";
const apis: FakeApi[] = [];
afterAll(async () => {
    await Promise.all(apis.map((a) => a.close()));
});
const api = async () => {
    const a = await fakeApi();
    apis.push(a);
    return a;
};

describe("R2 buckets", () => {
    it("lists every page in the stack's jurisdiction, with each bucket's location and storage class", async () => {
        const cf = await api();
        cf.handler = (req) => {
            if (req.path !== `/accounts/${ACCOUNT}/r2/buckets`) return { status: 404, body: {} };
            const page = req.query.get("cursor") === "next"
                ? { buckets: [{ name: "b2", location: "weur", storage_class: "Standard", jurisdiction: "eu" }] }
                : { buckets: [{ name: "b1", location: "WEUR", storage_class: "InfrequentAccess", jurisdiction: "eu", creation_date: "x" }] };
            return { status: 200, body: { success: true, errors: [], result: page, result_info: { cursor: req.query.get("cursor") ? "" : "next" } } };
        };
        const buckets = await listR2Buckets({ accountId: ACCOUNT, jurisdiction: "eu", token: TOKEN, base: cf.url, timeoutMs: 2000 });
        expect(buckets).toEqual([
            { name: "b1", location: "WEUR", storageClass: "InfrequentAccess", jurisdiction: "eu" },
            { name: "b2", location: "weur", storageClass: "Standard", jurisdiction: "eu" },
        ]);
        // The jurisdiction selects which buckets the API lists at all (terraform-provider-cloudflare sends the same header).
        expect(cf.requests.map((r) => r.headers["cf-r2-jurisdiction"])).toEqual(["eu", "eu"]);
        expect(cf.requests.every((r) => r.authorization === `Bearer ${TOKEN}` && r.method === "GET")).toBe(true);
    });

    it("says what the API refused, never the token", async () => {
        const cf = await api();
        cf.handler = () => ({ status: 403, body: { success: false, errors: [{ code: 10042, message: "Please enable R2 through the Cloudflare Dashboard." }] } });
        const e = await listR2Buckets({ accountId: ACCOUNT, jurisdiction: "default", token: TOKEN, base: cf.url, timeoutMs: 2000 }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(LookupError);
        expect((e as Error).message).toBe(`listing the R2 buckets of account ${ACCOUNT} failed (code 10042: Please enable R2 through the Cloudflare Dashboard.)`);
    });

    it("names why the Cloudflare API cannot be reached", async () => {
        const base = `http://127.0.0.1:${await closedPort()}`;
        const e = await listR2Buckets({ accountId: ACCOUNT, jurisdiction: "default", token: TOKEN, base, timeoutMs: 2000 }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(LookupError);
        expect((e as Error).message).toBe(`${new URL(base).host}: connection refused`);
    });

    it("gives up on a Cloudflare API that does not answer the bucket list, within the bound", async () => {
        const cf = await api();
        cf.handler = () => "hang";
        const e = await listR2Buckets({ accountId: ACCOUNT, jurisdiction: "default", token: TOKEN, base: cf.url, timeoutMs: 200 }).catch((x: unknown) => x);
        expect((e as Error).message).toMatch(/^127\.0\.0\.1:\d+: no answer within 0\.2 s$/);
    });
});

describe("webhooks", () => {
    it("lists every page, each hook with the URL it posts to (config.url), not its API URL", async () => {
        const gh = await api();
        gh.handler = (req) => {
            if (req.path !== "/repos/o/r/hooks") return { status: 404, body: { message: "Not Found" } };
            const page = Number(req.query.get("page"));
            const hooks = page === 1
                ? Array.from({ length: 100 }, (_, i) => ({ id: i + 1, url: `https://api.github.com/repos/o/r/hooks/${i + 1}`, config: { url: `https://ci.example.com/${i}` } }))
                : [{ id: 815, url: "https://api.github.com/repos/o/r/hooks/815", config: { url: "https://flux-webhook.example.com/hook/ab" } }];
            return { status: 200, body: hooks };
        };
        const hooks = await listWebhooks({ owner: "o", repository: "r", token: "gh-token", base: gh.url, timeoutMs: 2000 });
        expect(hooks).toHaveLength(101);
        expect(hooks[100]).toEqual({ id: "815", url: "https://flux-webhook.example.com/hook/ab" });
        expect(gh.requests.map((r) => r.query.get("page"))).toEqual(["1", "2"]);
    });

    it("needs a token, and says which settings give one", async () => {
        const reader = liveExistingReader({ githubApi: "http://127.0.0.1:9", cloudflareApi: "http://127.0.0.1:9" });
        await expect(reader.webhooks({ owner: "o", repository: "r" }, undefined)).rejects.toThrow(
            "cluster-bootstrap:adopt: listing the repository's webhooks needs github:token or GITHUB_TOKEN");
        await expect(reader.r2Buckets({ accountId: ACCOUNT, jurisdiction: "default" }, undefined)).rejects.toThrow(
            "cluster-bootstrap:adopt: listing R2 buckets needs cloudflare:apiToken or CLOUDFLARE_API_TOKEN");
    });
});
