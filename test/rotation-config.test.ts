import { describe, expect, it } from "vitest";
import { ConfigError, validateConfig } from "../config";
import { runStack, validValues } from "./harness";

describe("rotation config", () => {
    const valid = validValues;
    const validate = (rotation: unknown) => validateConfig({ values: { ...valid(), rotation } });

    it("is optional, and every credential's value is any one-line string", async () => {
        expect((await validateConfig({ values: valid() })).config?.rotation).toEqual({});
        const all = { deployKey: "2026-12", tunnelSecret: "2026-Q4", backupToken: "after incident #42", dnsToken: "x", webhookToken: "v2" };
        const r = await validate(all);
        expect(r.problems).toEqual([]);
        expect(r.config?.rotation).toEqual(all);
    });

    it("takes a year written as a number as its text", async () => {
        // `pulumi config set --path rotation.deployKey 2027` stores a number.
        expect((await validate({ deployKey: 2027 })).config?.rotation).toEqual({ deployKey: "2027" });
    });

    it("refuses unknown credentials, naming the full key", async () => {
        expect((await validate({ deploykey: "2026-12", sshKey: "x" })).problems).toEqual([
            "cluster-bootstrap:rotation.deploykey: is not a known setting",
            "cluster-bootstrap:rotation.sshKey: is not a known setting",
        ]);
    });

    it("refuses multi-line values without echoing them, and empty, padded, over-long or non-ASCII ones", async () => {
        const rule = "must be one line of 1 to 64 printable ASCII characters without leading or trailing spaces, such as 2026-12";
        const pasted = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
        const found = (await validate({ deployKey: "2026-12\n2027-01", tunnelSecret: pasted })).problems;
        expect(found).toEqual([
            `cluster-bootstrap:rotation.deployKey: (a value that is not shown: it spans several lines, is very long or looks like a credential) ${rule}`,
            `cluster-bootstrap:rotation.tunnelSecret: (a value that is not shown: it spans several lines, is very long or looks like a credential) ${rule}`,
        ]);
        expect(JSON.stringify(found)).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
        expect((await validate({ backupToken: "", dnsToken: " 2026-12", webhookToken: "x".repeat(65) })).problems).toEqual([
            `cluster-bootstrap:rotation.backupToken: "" ${rule}`,
            `cluster-bootstrap:rotation.dnsToken: " 2026-12" ${rule}`,
            `cluster-bootstrap:rotation.webhookToken: "${"x".repeat(65)}" ${rule}`,
        ]);
        expect((await validate({ deployKey: "2026\t12" })).problems).toEqual([`cluster-bootstrap:rotation.deployKey: "2026\\t12" ${rule}`]);
        expect((await validate({ deployKey: "décembre" })).problems).toEqual([`cluster-bootstrap:rotation.deployKey: "décembre" ${rule}`]);
        expect((await validate({ deployKey: "x".repeat(64) })).problems).toEqual([]);
    });

    it("refuses values that are not text, and a rotation that is not a mapping", async () => {
        expect((await validate({ deployKey: true, tunnelSecret: { at: "2026-12" }, backupToken: 1.5 })).problems).toEqual([
            "cluster-bootstrap:rotation.deployKey: must be a string such as 2026-12",
            "cluster-bootstrap:rotation.tunnelSecret: must be a string such as 2026-12",
            "cluster-bootstrap:rotation.backupToken: must be a string such as 2026-12",
        ]);
        expect((await validate("2026-12")).problems).toEqual(["cluster-bootstrap:rotation: must be a mapping of settings"]);
    });

    it("refuses a negative or unsafe number in the project's words, not zod's", async () => {
        expect((await validate({ deployKey: -1, tunnelSecret: 2 ** 60, backupToken: 1e300 })).problems).toEqual([
            "cluster-bootstrap:rotation.deployKey: must be a string such as 2026-12",
            "cluster-bootstrap:rotation.tunnelSecret: must be a string such as 2026-12",
            "cluster-bootstrap:rotation.backupToken: must be a string such as 2026-12",
        ]);
    });

    it("is read from the stack config, and refused when set with --secret", async () => {
        const run = await runStack({ stack: "infra", config: { rotation: { deployKey: "2026-12" } } });
        expect(run.error).toBeUndefined();
        const refused = await runStack({ stack: "infra", config: { rotation: { deployKey: "2026-12" } }, secretValues: ["rotation"] });
        expect(refused.error).toBeInstanceOf(ConfigError);
        expect((refused.error as ConfigError).problems).toEqual([
            "cluster-bootstrap:rotation: holds a secret value (set with --secret), but it is not a secret setting and would land in plain text in resource inputs and state; set it without --secret",
        ]);
    });
});
