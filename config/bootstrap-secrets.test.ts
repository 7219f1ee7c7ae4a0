import { describe, expect, it } from "vitest";
import { checkBootstrapSecrets, dataProblems, INVALID_JSON, MAX_SECRET_BYTES, PROGRAM_SECRETS, secretKeyProblem } from "./bootstrap-secrets";

const K = "cluster-bootstrap:bootstrapSecrets";
// Every value below that could be echoed carries this, so a leak into any message is caught.
const S = "SENTINEL-9f31c";
const CREDENTIALS = `{"verifier":{"salt":"${S}-salt","localHash":"${S}-hash"},"encCredentials":{"kid":"${S}"},"version":"2"}\n`;
const check = (value: unknown, opts: { secret?: boolean; placeholder?: boolean } = {}) =>
    checkBootstrapSecrets({ value, secret: opts.secret ?? true, placeholder: opts.placeholder ?? false });

describe("Secret data keys", () => {
    it("take what Kubernetes takes", () => {
        for (const k of ["token", "1password-credentials.json", "api_key", "a.b-c_D9", "x".repeat(253), ".dotfile"]) expect(secretKeyProblem(k), k).toBeUndefined();
        for (const k of ["", "a b", "a/b", "ключ", "x".repeat(254), ".", "..", "..x"]) expect(secretKeyProblem(k), k).toBeDefined();
    });
});

describe("bootstrapSecrets", () => {
    it("is empty when unset", () => {
        expect(check(undefined)).toEqual({ problems: [], notes: [], secrets: [] });
    });

    it("passes a credentials file through byte for byte, and a token beside it", () => {
        const value = [
            { namespace: "external-secrets", name: "onepassword-connect", data: { "1password-credentials.json": CREDENTIALS, token: `${S}-token` } },
            { namespace: "flux-system", name: "vault-token", data: { token: `${S}-vault` } },
        ];
        const r = check(value);
        expect(r.problems).toEqual([]);
        expect(r.secrets).toEqual(value);
        expect(r.secrets![0].data["1password-credentials.json"]).toBe(CREDENTIALS);
    });

    it("names every problem with its full key and shows nothing from the setting", () => {
        const r = check([
            { namespace: `${S}_NS`, name: `${S}.Name`, data: { [`${S} key`]: `${S}-v`, ok: 12345, "..x": "v" } },
            { namespace: "ok", name: "ok", data: {} },
            { namespace: 42, data: { a: "b" }, type: "Opaque" },
            `${S}-not-an-entry`,
            { namespace: "ok", name: "ok2", data: `${S}-not-a-map` },
        ]);
        expect(r.secrets).toBeUndefined();
        expect(r.problems).toEqual([
            `${K}[0].namespace: is not a valid namespace name (a DNS label: lowercase letters, digits and '-', 63 at most); the value is not shown`,
            `${K}[0].name: is not a valid Secret name (lowercase letters, digits, '-' and '.', 253 at most); the value is not shown`,
            `${K}[0].data: key #1 is not a valid Secret key (letters, digits, '-', '_' and '.', 253 at most); the key is not shown`,
            `${K}[0].data: the value of key #2 is not a string: set it with --secret, which keeps it as text; the value is not shown`,
            `${K}[0].data: key #3 is not a valid Secret key (not '.' or '..', nor starting with '..'); the key is not shown`,
            `${K}[1].data: must hold at least one key`,
            `${K}[2].namespace: must be a string (\`pulumi config set --path\` stores true, false and integers as such: add --type string)`,
            `${K}[2].name: is required`,
            `${K}[2].type: is not a setting of a bootstrap Secret (namespace, name, data)`,
            `${K}[3]: must be a mapping with namespace, name and data; the value is not shown`,
            `${K}[4].data: must be a mapping of Secret keys to values; the value is not shown`,
        ]);
        expect(JSON.stringify(r)).not.toContain(S);
    });

    it("refuses what is not a list, and text that is not JSON, without showing it", () => {
        expect(check({ namespace: "a", name: "b", data: { k: S } }).problems).toEqual([
            `${K}: must be a list of Secrets, each {namespace, name, data}; the value is not shown`,
        ]);
        expect(check(INVALID_JSON).problems).toEqual([`${K}: is not a JSON list of Secrets, each {namespace, name, data}; the value is not shown`]);
    });

    it("refuses the same namespace and name twice", () => {
        const entry = { namespace: "vault", name: "vault-token", data: { token: S } };
        expect(check([entry, { ...entry, namespace: "other" }, entry]).problems).toEqual([`${K}[2]: repeats ${K}[0] (the same namespace and name)`]);
    });

    it("refuses a Secret the program writes in flux-system, and allows the name elsewhere", () => {
        expect(PROGRAM_SECRETS).toEqual(["cluster-secrets", "sops-age", "github-deploy-key", "github-webhook-token"]);
        for (const name of PROGRAM_SECRETS) {
            expect(check([{ namespace: "flux-system", name, data: { k: S } }]).problems).toEqual([
                `${K}[0].name: is a Secret the program writes in flux-system (cluster-secrets, sops-age, github-deploy-key, github-webhook-token); choose another name or namespace`,
            ]);
            expect(check([{ namespace: "vault", name, data: { k: S } }]).problems).toEqual([]);
        }
    });

    it("refuses more than Kubernetes stores in one Secret", () => {
        expect(dataProblems({ big: "x".repeat(MAX_SECRET_BYTES) })).toEqual(["holds more than 1 MiB, the most Kubernetes stores in one Secret"]);
        expect(dataProblems({ big: "x".repeat(MAX_SECRET_BYTES - 3) })).toEqual([]);
    });

    it("refuses a list none of whose values was set with --secret: they sit in plain text in the stack file", () => {
        expect(check([{ namespace: "vault", name: "vault-token", data: { token: S } }], { secret: false }).problems).toEqual([
            `${K}: holds no secret value: its data was set without --secret and sits in plain text in the stack file; set every data value with --secret (and replace the credentials that were exposed)`,
        ]);
    });

    it("offline, plans placeholder values, and skips a list that is one placeholder as a whole with a note", () => {
        const leaves = check([{ namespace: "vault", name: "vault-token", data: { token: "[offline placeholder for cluster-bootstrap:bootstrapSecrets]" } }], { placeholder: true, secret: true });
        expect(leaves.problems).toEqual([]);
        expect(leaves.secrets).toHaveLength(1);
        expect(leaves.notes).toEqual([`${K} holds offline placeholders for its secret values; its Secrets are planned with them`]);
        const whole = check(INVALID_JSON, { placeholder: true, secret: true });
        expect(whole).toEqual({
            problems: [], secrets: [],
            notes: [`${K} is an offline placeholder for the whole list, which cannot be read offline; no bootstrap Secret is planned`],
        });
    });
});
