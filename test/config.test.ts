import { describe, expect, it } from "vitest";
import {
    branchProblem, ConfigError, durationSeconds, isCidr, isDnsName, isR2BucketName, purposeVariable, repoPathProblem, validateConfig,
    type RawConfig,
} from "../config";
import { bootstrapSecretsSchema } from "../config/bootstrap-secrets";
import { schema } from "../config/schema";
import { runStack, TEST_AGE_KEY, validValues } from "./harness";
import { keyPaths } from "./schema-paths";

const OTHER_AGE_KEY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

const valid = validValues;

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
    it("names the look-alike character in every DNS name and hostname it refuses, and shows a bidi override escaped", async () => {
        expect(await problems((v) => {
            v.cluster.domain = "monosense.dеv"; // Cyrillic е
            v.tunnel.routes = [{ hostname: "grafana.monosense.dеv", service: "http://grafana.monitoring.svc.cluster.local:3000" }];
        })).toEqual(expect.arrayContaining([
            'cluster-bootstrap:cluster.domain: "monosense.dеv" is not a valid DNS name: "е" (U+0435) is not an ASCII character',
            expect.stringMatching(/^cluster-bootstrap:tunnel\.routes\[0\]\.hostname: "grafana\.monosense\.dеv" is not a valid hostname: "е" \(U\+0435\) is not an ASCII character/),
        ]));
        expect(await problems((v) => { v.cluster.domain = "evil\u202Emonosense.dev"; })).toEqual([
            'cluster-bootstrap:cluster.domain: "evil\\u202emonosense.dev" is not a valid DNS name: "\\u202e" (U+202E) is not an ASCII character',
        ]);
    });

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

describe("validateConfig never echoes a secret", () => {
    it("reports an age key whose checksum does not match, without the key", async () => {
        // One character changed to another of the bech32 alphabet: the shape check passes, the checksum does not.
        const i = 30;
        const bad = TEST_AGE_KEY.slice(0, i) + (TEST_AGE_KEY[i] === "Q" ? "P" : "Q") + TEST_AGE_KEY.slice(i + 1);
        expect(bad).toMatch(/^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
        const found = await problems((v) => (v.sopsAgeKey = bad));
        expect(found).toEqual(["cluster-bootstrap:sopsAgeKey: is not a valid age identity (its checksum does not match); the value is not shown"]);
        expect(found.join("\n")).not.toContain(bad);
    });

    it("refuses the secret key pasted as the recipient, and never echoes it anywhere else", async () => {
        const found = await problems((v) => (v.sops.recipient = TEST_AGE_KEY));
        expect(found).toEqual(["cluster-bootstrap:sops.recipient: is an age secret key, not a recipient; the value is not shown"]);
        const elsewhere = await problems((v) => {
            v.cluster.domain = TEST_AGE_KEY;
            v.gitops.branch = `x ${TEST_AGE_KEY}`;
            v.tunnel.routes = [{ hostname: `${TEST_AGE_KEY.toLowerCase()}.monosense.dev`, service: TEST_AGE_KEY }];
        }, { githubOwner: TEST_AGE_KEY });
        expect(elsewhere).toContain("cluster-bootstrap:cluster.domain: (a secret value, not shown) is not a valid DNS name");
        expect(elsewhere).toContain("cluster-bootstrap:tunnel.routes[0].service: (a secret value, not shown) is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)");
        expect(elsewhere.length).toBeGreaterThanOrEqual(5);
        for (const p of elsewhere) expect(p.toUpperCase()).not.toContain(TEST_AGE_KEY);
    });

    it("refuses credentials in the gateway URL without echoing them, and ports outside 1..65535", async () => {
        expect(await problems((v) => (v.tunnel.gateway = "https://user:hunter2@envoy.networking.svc"))).toEqual([
            "cluster-bootstrap:tunnel.gateway: must not carry a user name or password (the tunnel config is not secret); the value is not shown",
        ]);
        expect(await problems((v) => (v.tunnel.gateway = "https://:hunter2@envoy.networking.svc"))).toEqual([
            "cluster-bootstrap:tunnel.gateway: must not carry a user name or password (the tunnel config is not secret); the value is not shown",
        ]);
        for (const bad of ["https://envoy.networking.svc:0", "https://envoy.networking.svc:", "https://envoy.networking.svc:99999", "http:envoy.networking.svc"]) {
            expect(await problems((v) => (v.tunnel.gateway = bad)), bad).toEqual([
                `cluster-bootstrap:tunnel.gateway: ${JSON.stringify(bad)} is not a service URL such as https://envoy-external.networking.svc.cluster.local`,
            ]);
        }
        expect(await problems((v) => (v.tunnel.gateway = "https://envoy.networking.svc:8443"))).toEqual([]);
    });

    it("refuses a look-alike or escaped host in a service URL, which cloudflared's Go resolver would never find, naming the character", async () => {
        // WHATWG URL maps these to a valid ASCII name (punycode, a full-width dot, %2E); Go's url.Parse keeps the bytes
        // (or refuses %2E), and net's isDomainName takes only ASCII letters, digits, '-', '_' and '.'.
        expect(await problems((v) => (v.tunnel.gateway = "https://envoy.networking.sv\u0441.cluster.local"))).toEqual([
            'cluster-bootstrap:tunnel.gateway: "https://envoy.networking.sv\u0441.cluster.local" is not a service URL such as '
                + 'https://envoy-external.networking.svc.cluster.local: "\u0441" (U+0441) is not an ASCII character',
        ]);
        expect(await problems((v) => (v.tunnel.gateway = "https://envoy\uff0enetworking.svc.cluster.local"))).toEqual([
            'cluster-bootstrap:tunnel.gateway: "https://envoy\uff0enetworking.svc.cluster.local" is not a service URL such as '
                + 'https://envoy-external.networking.svc.cluster.local: "\uff0e" (U+FF0E) is not an ASCII character',
        ]);
        expect(await problems((v) => (v.tunnel.gateway = "https://envoy%2Enetworking.svc.cluster.local"))).toEqual([
            'cluster-bootstrap:tunnel.gateway: "https://envoy%2Enetworking.svc.cluster.local" is not a service URL such as '
                + "https://envoy-external.networking.svc.cluster.local",
        ]);
        expect(await problems((v) => (v.tunnel.routes = [
            { hostname: "vm.monosense.dev", service: "http://vminsert.observabilit\u0443.svc:8480" },
            { hostname: "logs.monosense.dev", service: "http://victoria-logs%2eobservability.svc:9428" },
        ]))).toEqual([
            'cluster-bootstrap:tunnel.routes[0].service: "http://vminsert.observabilit\u0443.svc:8480": the host must be ASCII letters, '
                + 'digits, \'-\', \'_\' and \'.\' (or an IP address): "\u0443" (U+0443) is not an ASCII character',
            'cluster-bootstrap:tunnel.routes[1].service: "http://victoria-logs%2eobservability.svc:9428": the host must be ASCII letters, '
                + "digits, '-', '_' and '.' (or an IP address)",
        ]);
        // Upper case stays accepted in both (DNS names are case-insensitive).
        expect(await problems((v) => (v.tunnel.gateway = "https://Envoy.networking.svc:8443"))).toEqual([]);
        expect(await problems((v) => (v.tunnel.routes = [{ hostname: "vm.monosense.dev", service: "http://VM.svc:80" }]))).toEqual([]);
    });
});

describe("validateConfig on route values the schema refuses", () => {
    const route = (r: Record<string, unknown>) => ({ hostname: "a.monosense.dev", service: "http://a.b.svc", ...r });
    it.each<[string, (v: Record<string, any>) => void, string]>([
        ["a number as origin host", (v) => (v.tunnel.originHost = 5), "cluster-bootstrap:tunnel.originHost: must be a string"],
        ["a null hostname", (v) => (v.tunnel.routes = [route({ hostname: null })]), "cluster-bootstrap:tunnel.routes[0].hostname: must be a string"],
        ["a number as path", (v) => (v.tunnel.routes = [route({ path: 5 })]), "cluster-bootstrap:tunnel.routes[0].path: must be a string"],
        ["a number as service", (v) => (v.tunnel.routes = [route({ service: 5 })]), "cluster-bootstrap:tunnel.routes[0].service: must be a string"],
        ["a missing service", (v) => (v.tunnel.routes = [{ hostname: "a.monosense.dev" }]), "cluster-bootstrap:tunnel.routes[0].service: is required"],
        ["a number as originServerName", (v) => (v.tunnel.routes = [route({ originServerName: 5 })]), "cluster-bootstrap:tunnel.routes[0].originServerName: must be a string"],
        ["a null route", (v) => (v.tunnel.routes = [null]), "cluster-bootstrap:tunnel.routes[0]: must be a mapping of settings"],
    ])("reports %s once, with its full key, and no TypeError", async (_, edit, expected) => {
        expect(await problems(edit)).toEqual([expected]);
    });

    it("still checks the other routes, keeping their indexes", async () => {
        expect(await problems((v) => (v.tunnel.routes = [null, route({ service: "ftp://x" })]))).toEqual([
            "cluster-bootstrap:tunnel.routes[0]: must be a mapping of settings",
            'cluster-bootstrap:tunnel.routes[1].service: "ftp://x" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
        ]);
    });

    it("checks service, path and originServerName even when the domain or the origin host is invalid", async () => {
        const bad = [route({ service: "ftp://x", path: "^/(api", originServerName: "not a name" })];
        const routeProblems = [
            'cluster-bootstrap:tunnel.routes[0].service: "ftp://x" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
            'cluster-bootstrap:tunnel.routes[0].path: "^/(api" is not a valid regular expression for cloudflared (Go RE2): missing closing )',
            'cluster-bootstrap:tunnel.routes[0].originServerName: "not a name" is not a valid hostname',
        ];
        expect(await problems((v) => {
            v.cluster.domain = "monosense..dev";
            v.tunnel.routes = bad;
        })).toEqual(['cluster-bootstrap:cluster.domain: "monosense..dev" is not a valid DNS name', ...routeProblems]);
        expect(await problems((v) => {
            v.tunnel.originHost = "external..monosense.dev";
            v.tunnel.routes = bad;
        })).toEqual(['cluster-bootstrap:tunnel.originHost: "external..monosense.dev" is not a valid DNS name', ...routeProblems]);
    });
});

describe("unknown top-level settings", () => {
    it("reports each unknown key by name only, with a hint for a nested key set without --path", async () => {
        expect(await problems(() => undefined, { unknownKeys: ["clustr", "cluster.domain"] })).toEqual([
            "cluster-bootstrap:clustr: is not a known setting (did you mean cluster?)",
            "cluster-bootstrap:cluster.domain: is not a known setting (set a nested value with `pulumi config set --path`)",
        ]);
    });

    it("refuses a mistyped key set on the stack and registers nothing, without echoing its value", async () => {
        const run = await runStack({ config: { clustr: { name: "infra" }, kubeConfig: TEST_AGE_KEY } });
        expect(run.error).toBeInstanceOf(ConfigError);
        const found = (run.error as ConfigError).problems;
        expect(found).toEqual([
            "cluster-bootstrap:clustr: is not a known setting (did you mean cluster?)",
            "cluster-bootstrap:kubeConfig: is not a known setting (did you mean kubeconfig?)",
        ]);
        expect(String((run.error as Error).message)).not.toContain(TEST_AGE_KEY);
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });
});

describe("backup bucket expiry", () => {
    it("refuses expireDays on buckets whose tool prunes its own backups", async () => {
        expect(await problems((v) => {
            v.r2.buckets[0].expireDays = 30;
            v.r2.buckets[1].expireDays = 30;
        })).toEqual([
            "cluster-bootstrap:r2.buckets[0].expireDays: must not be set on a volsync bucket: restic prunes its own backups, and deleting objects by age corrupts them",
            "cluster-bootstrap:r2.buckets[1].expireDays: must not be set on a cnpg bucket: Barman prunes its own backups, and deleting objects by age corrupts them",
        ]);
        expect(await problems((v) => (v.r2.buckets[1] = { name: "infra-cnpg-main", purpose: "cnpg-main", expireDays: 7 }))).toEqual([
            "cluster-bootstrap:r2.buckets[1].expireDays: must not be set on a cnpg-main bucket: Barman prunes its own backups, and deleting objects by age corrupts them",
        ]);
    });

    it("allows expireDays on other buckets", async () => {
        expect(await problems((v) => v.r2.buckets.push({ name: "infra-logs", purpose: "logs", expireDays: 14 }))).toEqual([]);
    });
});

describe("every key, given a wrong value", () => {
    /** A valid stack that sets every key, so each path below replaces something. */
    function everyKey(): Record<string, any> {
        const v = valid();
        v.cluster.cidr = "10.42.0.0/16";
        v.renameFrom = "old";
        v.tunnel.routes = [{ hostname: "vm.monosense.dev", service: "http://vm.observability.svc:8480", path: "^/x", originServerName: "vm.internal" }];
        v.r2.location = "weur";
        v.platform = { releases: [{ path: "k/a", namespace: "a", apply: ["x.yaml"] }], crds: [{ path: "k/c", namespace: "c" }] };
        v.access = {
            teamName: "t", hostnames: ["vm.monosense.dev"], serviceTokens: [{ name: "s", hostnames: ["vm.monosense.dev"] }],
            allow: { emails: ["a@monosense.dev"], emailDomains: ["monosense.dev"], githubOrganization: { name: "o", identityProviderId: "00000000-0000-0000-0000-000000000000" } },
        };
        v.hub = { stack: "other", hostnames: ["h.monosense.dev"], serviceToken: "s" };
        v.rotation = { deployKey: "x", accessServiceTokens: { s: { version: 2, previousSecretExpiresAt: "2026-01-01T00:00:00Z" } } };
        v.bootstrapSecrets = [{ namespace: "a", name: "b", data: { k: "v" } }];
        return v;
    }
    function put(values: Record<string, any>, keyPath: string, value: unknown): void {
        const parts = keyPath.replace(/\[\]/g, ".0").split(".").map((p) => (p === "<name>" ? "s" : p));
        let at = values;
        for (const p of parts.slice(0, -1)) at = at[p];
        at[parts.at(-1)!] = value;
    }
    const WRONG: unknown[] = [-1, 1e300, 1.5, 0, "", " ", null, [], {}, true, "x", Number.NaN, ["x"], { a: 1 }, "\u{1d51e}", "a".repeat(300)];
    // zod's own messages ("Invalid input", "Too small: expected number to be >=0", "Unrecognized key") are not the project's words.
    const ZOD = /Invalid|[Ee]xpected|received|Too small|Too big|Unrecognized|invalid_/;

    it("is refused with its full key and a rule in the project's words, never zod's", async () => {
        expect((await validateConfig({ values: everyKey(), secretValueKeys: ["bootstrapSecrets"] })).problems).toEqual([]);
        const paths = [...keyPaths(schema), ...keyPaths(bootstrapSecretsSchema, "bootstrapSecrets")];
        const wrong: string[] = [];
        for (const keyPath of paths) {
            for (const value of WRONG) {
                const values = everyKey();
                put(values, keyPath, value);
                for (const p of (await validateConfig({ values, secretValueKeys: ["bootstrapSecrets"] })).problems) {
                    if (ZOD.test(p) || !/^cluster-bootstrap:\S+: /.test(p)) wrong.push(`${keyPath} = ${JSON.stringify(value)}: ${p}`);
                }
            }
        }
        expect(wrong).toEqual([]);
    });
});
