// Reading the outputs of referenced stacks for the offline plan (`--stack-outputs FILE`): JSON keyed by the stack name
// the program references (`hub.stack`), each `{ "outputs": {…}, "secretOutputNames": [...] }`, which is what the engine
// answers a StackReference with. Outputs a file does not list in `secretOutputNames` are plain; without the list every
// output is secret. The file holds credentials: no message ever shows a value from it.
import * as fs from "node:fs";
import { isRecord, keyName, parseJson } from "../config/checks";
import type { StackOutputs } from "./fakes";
import { InputFileError } from "./input-file";

/** The file cannot be used; each problem is one printable line that shows no value. */
export class StackOutputsFileError extends InputFileError {}


/** Parses the file's text; `file` only names it in messages. */
export function parseStackOutputs(text: string, file: string): Record<string, StackOutputs> {
    const doc = parseJson(text);
    if (doc === undefined) throw new StackOutputsFileError([`${file}: is not JSON`]);
    if (!isRecord(doc)) {
        throw new StackOutputsFileError([`${file}: must be a JSON object of stacks: { "<stack>": { "outputs": {…}, "secretOutputNames": [...] } }`]);
    }
    const problems: string[] = [];
    const stacks: Record<string, StackOutputs> = {};
    for (const [stack, entry] of Object.entries(doc)) {
        const at = `${file}: ${keyName(stack)}`;
        if (!isRecord(entry) || !isRecord(entry.outputs)) {
            problems.push(`${at}: must be { "outputs": {…}, "secretOutputNames": [...] } (secretOutputNames optional)`);
            continue;
        }
        const unknown = Object.keys(entry).filter((k) => k !== "outputs" && k !== "secretOutputNames");
        for (const k of unknown) problems.push(`${at}.${keyName(k)}: is not a known setting (outputs, secretOutputNames)`);
        const names = entry.secretOutputNames;
        if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === "string"))) {
            problems.push(`${at}.secretOutputNames: must be a list of output names`);
            continue;
        }
        const outputs = entry.outputs;
        // Without a list, everything is secret: a plan never prints a value the hub may have meant to keep secret.
        stacks[stack] = { outputs, secretOutputNames: (names as string[] | undefined) ?? Object.keys(outputs) };
    }
    if (problems.length > 0) throw new StackOutputsFileError(problems);
    return stacks;
}

export function readStackOutputs(file: string): Record<string, StackOutputs> {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new StackOutputsFileError([`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`]);
    }
    return parseStackOutputs(text, file);
}

/**
 * A note when `--stack-outputs FILE` gives outputs the run did not read: none at all when the program referenced no
 * stack (a stack without `hub`), else the stacks the file names that it did not reference. Undefined when all is used.
 */
export function unusedStackOutputsNote(file: string, given: readonly string[], referenced: readonly string[]): string | undefined {
    if (referenced.length === 0) {
        return `--stack-outputs ${file} is unused: this stack references no other stack (it sets no cluster-bootstrap:hub)`;
    }
    const unused = given.filter((s) => !referenced.includes(s));
    if (unused.length === 0) return undefined;
    return `${file}: the outputs of ${unused.map((s) => JSON.stringify(s)).join(", ")} are unused: this stack references only `
        + `${referenced.map((s) => JSON.stringify(s)).join(", ")} (cluster-bootstrap:hub.stack)`;
}
