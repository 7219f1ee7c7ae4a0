// What a YAML mistake in a user's file is reported as: `FILE:LINE:COL: ` and a fixed description chosen by the `yaml`
// package's error code. Never the package's own message: it quotes the source text (`github:token: > ghp_…` gives
// `Not a YAML token: ghp_…`), and the line of a mistake may be the one that holds a secret.
import { YAMLError, type ErrorCode, type LineCounter } from "yaml";

// Every code of the `yaml` package's ErrorCode (yaml 2.x `dist/errors.d.ts`), each with what usually causes it. A code
// a newer release adds fails the type check here rather than falling back silently.
const DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
    ALIAS_PROPS: "an alias (*name) cannot carry a tag or an anchor of its own",
    BAD_ALIAS: "an anchor (&name) or alias (*name) is empty or ends in ':'; put a value that starts with & or * in single quotes",
    BAD_COLLECTION_TYPE: "a tag names another kind of value (text, list or mapping) than the one that follows it",
    BAD_DIRECTIVE: "a directive (a line starting with %) is not one YAML knows; put a value that starts with % in single quotes",
    BAD_DQ_ESCAPE: "a double-quoted value holds a backslash escape YAML does not know; use single quotes, or write a backslash as \\\\",
    BAD_INDENT: "the indentation does not fit the lines above it, or a [ or { is not closed; indent with spaces, "
        + "each nested setting further than its parent",
    BAD_PROP_ORDER: "a tag or an anchor must come after the - or ? that starts its entry",
    BAD_SCALAR_START: "a value cannot start with this character unless quoted (@, `, %, a comma, | or > followed by text, "
        + "a tab); put the value in single quotes",
    BLOCK_AS_IMPLICIT_KEY: "a value holds ': ' (a colon and a space), or a list or mapping stands where a key belongs; "
        + "put a value that holds ': ' in single quotes",
    BLOCK_IN_FLOW: "a list of - entries or a block of text (| or >) cannot stand inside [ ] or { }",
    DUPLICATE_KEY: "a setting is given twice in the same mapping; keep one",
    IMPOSSIBLE: "the YAML parser cannot read the file at this place; check the syntax here",
    KEY_OVER_1024_CHARS: "a key is longer than 1024 characters, the most YAML allows for a key written on one line",
    MISSING_CHAR: "a character YAML needs is missing: a closing quote, the ': ' after a key, a comma between the items of "
        + "[ ] or { }, or a space before a # comment or after a tag or an anchor",
    MULTILINE_IMPLICIT_KEY: "a key runs over more than one line: a value's second line is indented like a key, or a value "
        + "holds ': '; keep each setting on its own line and quote such a value",
    MULTIPLE_ANCHORS: "a value has more than one anchor (&name)",
    MULTIPLE_DOCS: "the file holds more than one YAML document (a second --- line) where one is expected",
    MULTIPLE_TAGS: "a value has more than one tag (!name)",
    NON_STRING_KEY: "a key is not plain text; settings are named by text keys",
    RESOURCE_EXHAUSTION: "values are nested too deeply for the YAML parser",
    TAB_AS_INDENT: "a tab is used for indentation; YAML indents with spaces only",
    TAG_RESOLVE_FAILED: "a tag (!name) is unknown or does not fit its value; write the plain value",
    UNEXPECTED_TOKEN: "unexpected text at this place: text after | or > on the line that starts a block, a stray character, "
        + "or a value that needs quotes (put a token or password in single quotes)",
};

/** The fixed description of a `yaml` error code; never any text of the file. */
export function yamlErrorDescription(code: string): string {
    return Object.hasOwn(DESCRIPTIONS, code) ? DESCRIPTIONS[code as ErrorCode] : "is not valid YAML at this place";
}

/**
 * What went wrong, for anything parsing or converting YAML throws: the description of a parser error's code, or, for
 * the one other failure (resolving aliases throws a ReferenceError: too many, or one that refers to nothing), its own.
 */
export function yamlErrorText(e: unknown): string {
    if (e instanceof YAMLError) return yamlErrorDescription(e.code);
    return e instanceof ReferenceError
        ? "its aliases (*name) refer to no anchor, or expand to too many values; write the values out"
        : "cannot be read as YAML";
}

/**
 * Where a YAML error is: `FILE:LINE:COL`, the position from `lines` (when the file was parsed with a LineCounter) or
 * from the error itself (`linePos`, which `parse` fills by default); `FILE` alone when it has none.
 */
export function yamlErrorAt(file: string, e: unknown, lines?: LineCounter): string {
    if (!(e instanceof YAMLError)) return file;
    const pos = lines ? lines.linePos(e.pos[0]) : e.linePos?.[0];
    return pos ? `${file}:${pos.line}:${pos.col}` : file;
}

/** One line for a YAML mistake in `file`: `FILE:LINE:COL: <fixed description>`. */
export function yamlProblem(file: string, e: unknown, lines?: LineCounter): string {
    return `${yamlErrorAt(file, e, lines)}: ${yamlErrorText(e)}`;
}
