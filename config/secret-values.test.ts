// No message shows a secret, wherever the user put it: by shape (a credential the stack does not hold), and by value
// (the stack's own secrets, whatever they look like, and any 12 characters of one), through validateConfig directly.
import { describe, expect, it } from "vitest";
import { TEST_AGE_KEY, testKubeconfig, validValues } from "../test/harness";
import { lowercaseHint, mustNotEcho, quoted, validateConfig, type RawConfig } from ".";
import {
    environmentSecrets, kubeconfigSecrets, offlinePlaceholder, SECRET_FRAGMENT, secretRedactor, stackSecrets, type SecretValue,
} from "./secret-values";

/** True when `text` holds `secret` or any run of SECRET_FRAGMENT characters of it, in any letter case. */
function shows(text: string, secret: string): boolean {
    // The places that say which secret was hidden there are not part of what is shown of it.
    const t = text.replace(/\(secret [^()]*, not shown\)/g, "").toLowerCase();
    const s = secret.toLowerCase();
    if (s.length < SECRET_FRAGMENT) return t.includes(s);
    for (let i = 0; i + SECRET_FRAGMENT <= s.length; i++) if (t.includes(s.slice(i, i + SECRET_FRAGMENT))) return true;
    return false;
}

// Cloudflare's scannable formats: prefix, 40 characters, a checksum (developers.cloudflare.com, "Token formats"); the
// legacy token is 40 characters of [A-Za-z0-9_-]. None of these is a real credential.
const BODY = "Q7xZk2Lm9PwR4tYb8NcV1sDf6GhJ3uKa5EoI0WqT";
const SHAPES: Record<string, string> = {
    "Cloudflare user token (cfut_)": `cfut_${BODY}1a2b3c4d`,
    "Cloudflare account token (cfat_)": `cfat_${BODY}5e6f7a8b`,
    "Cloudflare global key (cfk_)": `cfk_${BODY}9c0d1e2f`,
    "Cloudflare legacy token": "Yq3Sn-xWAQiiEh9qM58wZNnyQS7FUdoqGIUAbrh7",
    "Kubernetes service-account JWT": "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLW5vdC1yZWFs",
};

/** The wrong keys a token gets pasted into, each as an edit of valid values and the key its message names. */
const WRONG_KEYS: Array<{ key: string; put: (v: Record<string, any>, token: string) => void }> = [
    { key: "cluster-bootstrap:tunnel.gateway", put: (v, t) => (v.tunnel.gateway = t) },
    { key: "cluster-bootstrap:cluster.domain", put: (v, t) => (v.cluster.domain = t) },
    { key: "cluster-bootstrap:tunnel.routes[0].hostname", put: (v, t) => (v.tunnel.routes = [{ hostname: t, service: "http://vm.monitoring.svc.cluster.local:8480" }]) },
    { key: "cluster-bootstrap:tunnel.routes[0].service", put: (v, t) => (v.tunnel.routes = [{ hostname: "vm.monosense.dev", service: t }]) },
    { key: "cluster-bootstrap:tunnel.routes[0].originServerName", put: (v, t) => (v.tunnel.routes = [{ hostname: "vm.monosense.dev", service: "https://vm.monitoring.svc.cluster.local", originServerName: t }]) },
    { key: "cluster-bootstrap:gitops.repository", put: (v, t) => (v.gitops.repository = t) },
];

async function problems(edit: (v: Record<string, any>) => void, extra: Partial<RawConfig> = {}): Promise<string[]> {
    const values = validValues();
    edit(values);
    return (await validateConfig({ values, ...extra })).problems;
}

describe("credential shapes", () => {
    it("are recognised, and ordinary values are not", () => {
        expect(SHAPES["Cloudflare legacy token"]).toHaveLength(40);
        for (const [name, token] of Object.entries(SHAPES)) {
            expect(mustNotEcho(token), name).toBe(true);
            expect(mustNotEcho(`https://${token}.example.com`), name).toBe(true);
            expect(quoted(token), name).not.toContain(token.slice(0, 12));
        }
        for (const plain of ["monosense.dev", "https://envoy-external.networking.svc.cluster.local", "monosense/k8s-ops",
            "kubernetes/apps/kube-system/cilium/app", "infra-volsync-backups-for-the-main-clust", "eyes.monosense.dev"]) {
            expect(mustNotEcho(plain), plain).toBe(false);
        }
    });

    it("a lowercasing hint never shows a token that is not shown itself", () => {
        const legacy = "Yq3SnxWAQiiEh9qM58wZNnyQS7FUdoqGIUAbrh7T";
        expect(lowercaseHint(legacy, () => true)).toBe("");
        expect(lowercaseHint("Monosense.dev", () => true)).toBe(': use lowercase ("monosense.dev")');
    });

    for (const [name, token] of Object.entries(SHAPES)) {
        it(`${name}: never echoed from a wrong key, which is named`, async () => {
            for (const w of WRONG_KEYS) {
                const found = await problems((v) => w.put(v, token));
                expect(found.some((p) => p.startsWith(`${w.key}: `)), `${w.key}: ${found.join("\n")}`).toBe(true);
                for (const p of found) expect(shows(p, token), p).toBe(false);
            }
        });
    }
});

describe("the stack's own secrets, whatever they look like", () => {
    // Values no shape recognises: only their being the stack's secrets keeps them out.
    const GITHUB = "zx81kq7p0d2m5n4b3v6c9x1z8a7s6d5f4g3h2j1k";
    const CLOUDFLARE = "cloudflare-api-token-lowercase-0000a1b2";
    const PASSPHRASE = "correct horse battery staple 77";
    const KUBE_TOKEN = "kubeconfig-bearer-7f3a9c1e5b2d8f4a";
    const BOOTSTRAP = "op-connect-credential-4c8e2a6f0b9d";
    const own = (values: Record<string, any>): Partial<RawConfig> => {
        values.kubeconfig = testKubeconfig({ token: KUBE_TOKEN });
        values.bootstrapSecrets = [{ namespace: "external-secrets", name: "onepassword", data: { token: BOOTSTRAP } }];
        return {
            secretValueKeys: ["kubeconfig", "sopsAgeKey", "bootstrapSecrets"],
            otherSecrets: [
                ...stackSecrets({ "github:token": GITHUB, "cloudflare:apiToken": CLOUDFLARE }),
                ...environmentSecrets({ PULUMI_CONFIG_PASSPHRASE: PASSPHRASE }),
            ],
        };
    };
    const run = async (edit: (v: Record<string, any>) => void) => {
        const values = validValues();
        const extra = own(values);
        edit(values);
        return (await validateConfig({ values, ...extra })).problems;
    };

    it("are valid where they belong", async () => {
        expect(await run(() => undefined)).toEqual([]);
    });

    for (const [from, secret] of Object.entries({
        "github:token": GITHUB, "cloudflare:apiToken": CLOUDFLARE, PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        "cluster-bootstrap:kubeconfig": KUBE_TOKEN, "cluster-bootstrap:bootstrapSecrets": BOOTSTRAP, "cluster-bootstrap:sopsAgeKey": TEST_AGE_KEY,
    })) {
        it(`${from}: never shown from a wrong key, nor 12 characters of it, in any letter case`, async () => {
            // A lowercase word is a valid originServerName: no message there to check.
            for (const w of WRONG_KEYS.filter((k) => !k.key.endsWith("originServerName"))) {
                for (const pasted of [secret, secret.toUpperCase(), `x${secret.slice(2, 2 + SECRET_FRAGMENT)}y`]) {
                    const found = await run((v) => w.put(v, pasted));
                    expect(found.some((p) => p.startsWith(`${w.key}: `)), `${w.key}: ${found.join("\n")}`).toBe(true);
                    for (const p of found) expect(shows(p, secret), p).toBe(false);
                }
            }
        });
    }

    it("says whose secret it hid, where the value stood", async () => {
        expect(await run((v) => (v.cluster.domain = GITHUB))).toEqual([
            "cluster-bootstrap:cluster.domain: (secret github:token, not shown) is not a valid DNS name",
        ]);
        expect(await run((v) => (v.tunnel.gateway = `https://${PASSPHRASE}.svc`))).toEqual([
            "cluster-bootstrap:tunnel.gateway: \"https://(secret PULUMI_CONFIG_PASSPHRASE, not shown).svc\" is not a service URL such as "
                + "https://envoy-external.networking.svc.cluster.local",
        ]);
    });
});

describe("secretRedactor", () => {
    const secrets: SecretValue[] = [{ from: "github:token", value: "abcdefghijklmnopqrstuvwxyz0123456789" }];
    const hide = secretRedactor(secrets);

    it("hides the value, any 12 characters of it in any letter case, and shows 11", () => {
        expect(hide('k: "abcdefghijklmnopqrstuvwxyz0123456789" is wrong')).toBe("k: (secret github:token, not shown) is wrong");
        expect(hide("k: --MNOPQRSTUVWX--")).toBe("k: --(secret github:token, not shown)--");
        expect(hide("k: mnopqrstuvw")).toBe("k: mnopqrstuvw");
    });

    it("hides a short secret only whole, and none below 8 characters", () => {
        const short = secretRedactor([{ from: "s", value: "hunter22" }, { from: "t", value: "admin" }]);
        expect(short("a hunter22 b admin")).toBe("a (secret s, not shown) b admin");
    });

    it("hides a secret as JSON escapes it", () => {
        const odd = secretRedactor([{ from: "s", value: 'pa"ss\\word-0123456789' }]);
        expect(odd(`k: ${JSON.stringify('pa"ss\\word-0123456789')}`)).toBe("k: (secret s, not shown)");
    });

    it("hides nothing twice: a message that passed once passes again unchanged", () => {
        const phrase = secretRedactor([{ from: "PULUMI_CONFIG_PASSPHRASE", value: "the stack passphrase, kept 4 years" }]);
        const once = phrase('k: "the stack passphrase, kept 4 years" is wrong');
        expect(once).toBe("k: (secret PULUMI_CONFIG_PASSPHRASE, not shown) is wrong");
        expect(phrase(once)).toBe(once);
    });

    it("leaves the public prefix of a kind of secret, and changes nothing without secrets", () => {
        const age = secretRedactor([{ from: "cluster-bootstrap:sopsAgeKey", value: TEST_AGE_KEY }]);
        expect(age("is not an age identity (AGE-SECRET-KEY-1 followed by 58 characters)")).toBe("is not an age identity (AGE-SECRET-KEY-1 followed by 58 characters)");
        expect(secretRedactor([])("anything")).toBe("anything");
    });
});

describe("the secrets a stack holds", () => {
    it("the kubeconfig's credentials, never its server, names or CA", () => {
        const kubeconfig = [
            "apiVersion: v1", "kind: Config",
            "clusters:", "- name: c", "  cluster:", "    server: https://127.0.0.1:6443", "    certificate-authority-data: Q0EtREFUQS1QVUJMSUM=",
            "users:",
            "- name: a", "  user:", "    token: TOKEN-aaaaaaaa", "    password: PASSWORD-bbbbbbbb",
            "    client-key-data: S0VZLWNjY2NjY2Nj", "    client-certificate-data: Q0VSVC1kZGRkZGRkZA==",
            "- name: b", "  user:", "    auth-provider:", "      name: oidc", "      config:", "        id-token: ID-TOKEN-eeeeeeee",
            "        refresh-token: REFRESH-ffffffff",
            "- name: c", "  user:", "    exec:", "      command: get-token", "      env:", "      - name: API_KEY", "        value: EXEC-ENV-gggggggg",
            "contexts:", "- name: x", "  context: {cluster: c, user: a}",
        ].join("\n");
        expect(kubeconfigSecrets(kubeconfig)).toEqual([
            "TOKEN-aaaaaaaa", "PASSWORD-bbbbbbbb", "S0VZLWNjY2NjY2Nj", "Q0VSVC1kZGRkZGRkZA==", "ID-TOKEN-eeeeeeee",
            "REFRESH-ffffffff", "EXEC-ENV-gggggggg",
        ]);
        // A kubeconfig that does not parse still gives its credentials, line by line.
        expect(kubeconfigSecrets(`${kubeconfig}\n  bad: [`)).toEqual(expect.arrayContaining(["TOKEN-aaaaaaaa", "PASSWORD-bbbbbbbb", "EXEC-ENV-gggggggg"]));
    });

    it("every provider credential, the age key and each bootstrap Secret value; never a placeholder", () => {
        expect(stackSecrets({
            "cloudflare:apiToken": "cf-token-1234567890",
            "cloudflare:apiKey": "cf-key-1234567890",
            "github:token": "gh-token-1234567890",
            "github:owner": "monosense",
            "cluster-bootstrap:sopsAgeKey": offlinePlaceholder("cluster-bootstrap:sopsAgeKey"),
            "cluster-bootstrap:bootstrapSecrets": JSON.stringify([
                { namespace: "a", name: "b", data: { one: "bootstrap-value-1", two: offlinePlaceholder("cluster-bootstrap:bootstrapSecrets") } },
            ]),
        })).toEqual([
            { from: "cloudflare:apiToken", value: "cf-token-1234567890" },
            { from: "cloudflare:apiKey", value: "cf-key-1234567890" },
            { from: "github:token", value: "gh-token-1234567890" },
            { from: "cluster-bootstrap:bootstrapSecrets", value: "bootstrap-value-1" },
        ]);
        expect(environmentSecrets({ GITHUB_TOKEN: "gh-env-1234567890", HOME: "/root", PULUMI_CONFIG_PASSPHRASE: "" })).toEqual([
            { from: "GITHUB_TOKEN", value: "gh-env-1234567890" },
        ]);
    });
});
