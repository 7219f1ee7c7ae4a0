// One line per checked item: what was checked, what was found, and for a failure what to do about it.

/** ✓ passed, ✗ failed (the run would fail), ! worth knowing but not blocking, - not checked (an earlier check failed). */
export type Status = "ok" | "fail" | "warn" | "skip";

export interface CheckResult {
    status: Status;
    /** What was checked, e.g. `GitHub: branch main`. */
    title: string;
    /** What was found. */
    detail?: string;
    /** What to do, for a failure or a warning. */
    fix?: string;
}

export const MARKS: Record<Status, string> = { ok: "✓", fail: "✗", warn: "!", skip: "-" };

export const ok = (title: string, detail?: string): CheckResult => ({ status: "ok", title, detail });
export const fail = (title: string, detail: string, fix?: string): CheckResult => ({ status: "fail", title, detail, fix });
export const warn = (title: string, detail: string, fix?: string): CheckResult => ({ status: "warn", title, detail, fix });
export const skip = (title: string, why: string): CheckResult => ({ status: "skip", title, detail: why });

/**
 * Replaces every secret value in a line by `[secret]`. Nothing the checks print is built from a secret, but an API's
 * or a CLI's error text is passed on, and it is not ours to trust.
 */
export function scrub(line: string, secrets: Iterable<string>): string {
    let out = line;
    // Longest first, so a secret that contains another is replaced whole.
    for (const s of [...secrets].filter((v) => v.length >= 6).sort((a, b) => b.length - a.length)) {
        out = out.split(s).join("[secret]");
        // Multi-line secrets (a kubeconfig) can leak line by line.
        for (const part of s.split("\n").map((l) => l.trim()).filter((l) => l.length >= 12)) out = out.split(part).join("[secret]");
    }
    return out;
}

/** `✓ title: detail` and, for a failure or warning with a fix, ` → fix`; one line, control characters escaped. */
export function renderLine(r: CheckResult): string {
    const text = `${MARKS[r.status]} ${r.title}${r.detail ? `: ${r.detail}` : ""}${r.fix && r.status !== "ok" ? ` → ${r.fix}` : ""}`;
    // eslint-disable-next-line no-control-regex
    return text.replace(/\r?\n/g, " ").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The last non-empty line of a command's error output, where CLIs put the reason. */
export function lastLine(text: string): string {
    return text.split("\n").map((l) => l.trim()).filter(Boolean).pop() ?? "";
}
