// The verify report as text: a heading per section, one line per check, and the verdict. Light on purpose: the
// entry points print it without loading the checks.
import { renderLine, type CheckResult } from "../preflight/result";

export interface ReportSection {
    name: string;
    results: CheckResult[];
}

/** The sections and the closing verdict, each line ending in a newline. */
export function reportText(stack: string, report: { sections: ReportSection[]; failures: number }): string {
    const lines: string[] = [];
    for (const s of report.sections) lines.push("", s.name, ...s.results.map((r) => `  ${renderLine(r)}`));
    lines.push("", report.failures === 0
        ? `Everything checked holds for stack ${stack}.`
        : `${report.failures} check${report.failures === 1 ? "" : "s"} failed: fix ${report.failures === 1 ? "it" : "them"} (or let --wait SECONDS give them time) `
            + `and run \`npm run verify -- ${stack}\` again.`);
    return `${lines.join("\n")}\n`;
}

/** The progress line printed on standard error after a failing round that another will follow. */
export function progressLine(failing: CheckResult[], secondsLeft: number): string {
    return `verify: ${failing.length} failing (${failing.map((r) => r.title).join(", ")}); checking again, ${secondsLeft} s left\n`;
}
