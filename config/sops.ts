// `cluster-bootstrap:sopsAgeKey` against `sops.recipient`: the age identity must be the one the repository's
// `.sops.yaml` encrypts to, or Flux cannot decrypt a single Secret. No message shows the key.
import { quoted } from "./checks";
import { fullKey } from "./keys";
import { AGE_IDENTITY, AGE_RECIPIENT } from "./schema";

/** The recipient of an age identity, or why it has none. */
async function ageRecipient(identity: string): Promise<{ recipient: string } | { problem: string }> {
    // ESM-only package: a dynamic import works from CommonJS on every supported Node.
    const age = await import("age-encryption");
    try {
        return { recipient: await age.identityToRecipient(identity) };
    } catch (e) {
        // Its messages quote the whole key: only the kind of failure is passed on.
        return { problem: /checksum/i.test(e instanceof Error ? e.message : "") ? "its checksum does not match" : "it does not decode" };
    }
}

/**
 * What is wrong with the age key, or with it against the recipient; an offline placeholder is not checked, with a
 * note saying so.
 */
export async function sopsProblems(args: { key: unknown; recipient: unknown; placeholder: boolean }): Promise<{ problems: string[]; notes: string[] }> {
    const key = typeof args.key === "string" ? args.key : undefined;
    if (key === undefined) return { problems: [], notes: [] };
    if (args.placeholder) {
        return { problems: [], notes: [`${fullKey(["sopsAgeKey"])} is an offline placeholder; its check against ${fullKey(["sops", "recipient"])} was skipped`] };
    }
    if (!AGE_IDENTITY.test(key.trim())) {
        return { problems: [`${fullKey(["sopsAgeKey"])}: is not an age identity (AGE-SECRET-KEY-1 followed by 58 characters); the value is not shown`], notes: [] };
    }
    const derived = await ageRecipient(key.trim());
    if ("problem" in derived) {
        return { problems: [`${fullKey(["sopsAgeKey"])}: is not a valid age identity (${derived.problem}); the value is not shown`], notes: [] };
    }
    const expected = args.recipient;
    if (typeof expected === "string" && AGE_RECIPIENT.test(expected) && derived.recipient !== expected) {
        return { problems: [`${fullKey(["sopsAgeKey"])}: derives to ${derived.recipient}, not to ${fullKey(["sops", "recipient"])} ${quoted(expected)}`], notes: [] };
    }
    return { problems: [], notes: [] };
}
