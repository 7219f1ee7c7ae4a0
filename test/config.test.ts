import { describe, expect, it } from "vitest";
import {
    branchProblem, durationSeconds, isCidr, isDnsName, isR2BucketName, purposeVariable, repoPathProblem, validateConfig,
    type RawConfig,
} from "../config";
import { TEST_AGE_KEY, TEST_AGE_RECIPIENT } from "./harness";

const OTHER_AGE_KEY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

function valid(): Record<string, any> {
    return {
        cluster: { name: "infra", id: 1, domain: "monosense.dev" },
        gitops: { repository: "monosense/k8s-ops", branch: "main", path: "clusters/infra/flux" },
        flux: { version: "2.7.x" },
        tunnel: { gateway: "https://envoy-external.networking.svc.cluster.local" },
        r2: { buckets: [{ name: "infra-volsync", purpose: "volsync" }, { name: "infra-cnpg", purpose: "cnpg" }] },
        sops: { recipient: TEST_AGE_RECIPIENT },
        sopsAgeKey: TEST_AGE_KEY,
        cloudflareAccountId: "eca0833f608b5745af030307a99bdbb4",
    };
}

async function problems(edit: (v: Record<string, any>) => void, extra: Partial<RawConfig> = {}): Promise<string[]> {
    const values = valid();
    edit(values);
    return (await validateConfig({ values, ...extra })).problems;
}

describe("rules", () => {
    it("DNS names", () => {
        expect(isDnsName("monosense.dev")).toBe(true);
        expect(isDnsName("monosense..dev")).toBe(false);
        expect(isDnsName("localhost")).toBe(false);
        expect(isDnsName("Monosense.dev")).toBe(false);
        expect(isDnsName("-a.dev")).toBe(false);
        expect(isDnsName(`${"a".repeat(64)}.dev`)).toBe(false);
    });
    it("CIDRs", () => {
        expect(isCidr("10.42.0.0/16")).toBe(true);
        expect(isCidr("fd00::/108")).toBe(true);
        expect(isCidr("10.42.0.0/33")).toBe(false);
        expect(isCidr("10.42.0.0")).toBe(false);
        expect(isCidr("10.420.0.0/16")).toBe(false);
    });
    it("branch names follow git check-ref-format", () => {
        for (const ok of ["main", "release", "feature/x", "v1.2"]) expect(branchProblem(ok)).toBeUndefined();
        for (const bad of ["", "a..b", "-x", "x/", "a b", "x.lock", "a//b", "x@{1}", ".hidden", "a/.b", "x~1", "x^", "a:b", "x."]) {
            expect(branchProblem(bad), bad).toBeDefined();
        }
    });
    it("repository paths cannot escape the repository", () => {
        for (const ok of ["clusters/infra/flux", "./clusters/apps/flux", "flux/"]) expect(repoPathProblem(ok)).toBeUndefined();
        for (const bad of ["", ".", "/etc", "../x", "clusters/../../x", "a\\b", "C:/x"]) expect(repoPathProblem(bad), bad).toBeDefined();
    });
    it("R2 bucket names", () => {
        expect(isR2BucketName("infra-volsync")).toBe(true);
        expect(isR2BucketName("ab")).toBe(false);
        expect(isR2BucketName("Infra")).toBe(false);
        expect(isR2BucketName("-x-")).toBe(false);
        expect(isR2BucketName("a".repeat(64))).toBe(false);
    });
    it("durations and purposes", () => {
        expect(durationSeconds("10m")).toBe(600);
        expect(durationSeconds("1h30m")).toBe(5400);
        expect(durationSeconds("90s")).toBe(90);
        expect(purposeVariable("cnpg-main")).toBe("R2_BUCKET_CNPG_MAIN");
    });
});

describe("validateConfig", () => {
    it("accepts a valid config and fills defaults", async () => {
        const r = await validateConfig({ values: valid() });
        expect(r.problems).toEqual([]);
        expect(r.config?.gitops).toMatchObject({ name: "k8s-ops", interval: "1m", wait: true, timeout: "10m", timeoutSeconds: 600, owner: "monosense" });
        expect(r.config?.tunnel.originHost).toBe("external.monosense.dev");
        expect(r.config?.r2.jurisdiction).toBe("default");
        expect(r.config?.flux.imageAutomation).toBe(false);
    });

    it("names the full key and the rule", async () => {
        expect(await problems((v) => (v.cluster.domain = "monosense..dev"))).toEqual([
            'cluster-bootstrap:cluster.domain: "monosense..dev" is not a valid DNS name',
        ]);
        expect(await problems((v) => (v.cluster.id = 256))).toEqual(["cluster-bootstrap:cluster.id: must be an integer from 1 to 255"]);
        expect(await problems((v) => (v.cluster.id = 1.5))).toEqual(["cluster-bootstrap:cluster.id: must be an integer from 1 to 255"]);
    });

    it("reports every problem at once", async () => {
        const found = await problems((v) => {
            v.cluster.name = "Infra_1";
            v.cluster.cidr = "10.0.0.0/40";
            v.gitops.repository = "monosense";
            v.gitops.branch = "a..b";
            v.gitops.path = "../secrets";
            v.flux.version = "latest";
            v.tunnel.gateway = "ftp://x";
            v.r2.buckets[1].name = "infra-volsync";
            v.cloudflareAccountId = "xyz";
            delete v.sops;
        });
        const keys = found.map((p) => p.split(": ")[0]);
        expect(keys).toEqual(expect.arrayContaining([
            "cluster-bootstrap:cluster.name",
            "cluster-bootstrap:cluster.cidr",
            "cluster-bootstrap:gitops.repository",
            "cluster-bootstrap:gitops.branch",
            "cluster-bootstrap:gitops.path",
            "cluster-bootstrap:flux.version",
            "cluster-bootstrap:tunnel.gateway",
            "cluster-bootstrap:r2.buckets[1].name",
            "cluster-bootstrap:cloudflareAccountId",
            "cluster-bootstrap:sops",
        ]));
        expect(found).toContain('cluster-bootstrap:r2.buckets[1].name: "infra-volsync" repeats cluster-bootstrap:r2.buckets[0].name');
        expect(found).toContain("cluster-bootstrap:sops: is required");
        expect(found.length).toBe(10);
    });

    it("refuses unknown keys, so a typo is not silently ignored", async () => {
        expect(await problems((v) => (v.gitops.brnach = "x"))).toEqual(["cluster-bootstrap:gitops.brnach: is not a known setting"]);
    });

    it("refuses duplicate bucket purposes, which would collide in cluster-vars", async () => {
        expect(await problems((v) => (v.r2.buckets[1].purpose = "volsync"))).toEqual([
            'cluster-bootstrap:r2.buckets[1].purpose: "volsync" repeats cluster-bootstrap:r2.buckets[0].purpose',
        ]);
    });

    it("checks that the age key derives to the configured recipient, without echoing the key", async () => {
        const found = await problems((v) => (v.sopsAgeKey = OTHER_AGE_KEY));
        expect(found).toHaveLength(1);
        expect(found[0]).toMatch(/^cluster-bootstrap:sopsAgeKey: derives to age1\w+, not to cluster-bootstrap:sops.recipient "age1/);
        expect(found[0]).not.toContain(OTHER_AGE_KEY);
        const malformed = await problems((v) => (v.sopsAgeKey = "AGE-SECRET-KEY-1NOTAKEY"));
        expect(malformed).toEqual(["cluster-bootstrap:sopsAgeKey: is not an age identity (AGE-SECRET-KEY-1 followed by 58 characters); the value is not shown"]);
    });

    it("skips only the derivation check for an offline placeholder, with a note", async () => {
        const values = valid();
        values.sopsAgeKey = "[offline placeholder for cluster-bootstrap:sopsAgeKey]";
        const r = await validateConfig({ values, placeholders: new Set(["sopsAgeKey"]) });
        expect(r.problems).toEqual([]);
        expect(r.notes).toEqual([expect.stringContaining("cluster-bootstrap:sopsAgeKey is an offline placeholder")]);
    });

    it("checks github:owner against the repository owner", async () => {
        expect(await problems(() => undefined, { githubOwner: "someone" })).toEqual([
            'github:owner: "someone" must be the owner of cluster-bootstrap:gitops.repository ("monosense")',
        ]);
        expect(await problems(() => undefined, { githubOwner: "monosense" })).toEqual([]);
    });

    it("checks tunnel routes with their keys", async () => {
        const found = await problems((v) => (v.tunnel.routes = [{ hostname: "app.example.com", service: "http://x.y.svc" }]));
        expect(found).toEqual(['cluster-bootstrap:tunnel.routes[0].hostname: "app.example.com" is outside the zone monosense.dev']);
    });
});
