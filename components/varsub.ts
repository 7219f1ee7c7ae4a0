// Flux's post-build variable substitution, as kustomize-controller applies it to each resource of a Kustomization,
// so that a platform release is installed with exactly the values Flux will later reconcile.
//
// Sources (fluxcd/pkg at e2cfd1a2):
// - kustomize/kustomize_varsub.go: `SubstituteVariables` skips a resource labelled or annotated
//   `kustomize.toolkit.fluxcd.io/substitute: disabled`; `LoadVariables` removes "\n" from every value;
//   `varSubstitution` refuses names not matching `^[_[:alpha:]][_[:alpha:][:digit:]]*$`, runs envsubst on the
//   resource's YAML text (non-strict: an unset variable maps to ("", true); strict: to ("", false)), then
//   converts the result with sigs.k8s.io/yaml `YAMLToJSON` (go-yaml v2, YAML 1.1 scalars);
//   substitution runs only when at least one variable exists (or with `substituteStrategy: Always`).
// - envsubst/{parse,template.go,funcs.go,path/match.go}: Flux's fork of drone/envsubst, ported below line by line.
//   Only `${` opens a substitution (`$VAR` stays text); `$$` is an escape for `$` (so `$${VAR}` prints `${VAR}`);
//   every default-style operator (`=`, `:=`, `:-`, also `-`, `+`, `:+`, `:?` where they parse) yields the
//   value when it is non-empty, else the concatenated arguments; `${VAR-x}` does not parse (missing closing brace).
// - kustomize-controller docs/spec/v1/kustomizations.md ("Post build variable substitution"): unset variables
//   become "" unless a default is given; from kustomize-controller v1.9 (Flux 2.9) the StrictPostBuildSubstitutions
//   feature gate is on by default and an unset variable without a default fails the reconciliation.
import { parse as parseYaml, type ParseOptions, type DocumentOptions, type SchemaOptions } from "yaml";

/** Label or annotation that turns substitution off for one resource. */
export const SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute";
const VAR_NAME = /^[_A-Za-z][_A-Za-z0-9]*$/;

/** Substitution failed as Flux would fail it; the message is Flux's own. */
export class SubstitutionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SubstitutionError";
    }
}

// ---------------------------------------------------------------- parse (envsubst/parse)

export type Node =
    | { kind: "text"; value: string }
    | { kind: "func"; param: string; name: string; args: Node[] }
    | { kind: "list"; nodes: Node[] };

const ERR = {
    badSubstitution: "bad substitution",
    missingClosingBrace: "missing closing brace",
    parseVariableName: "unable to parse variable name",
    parseFuncSubstitution: "unable to parse substitution within function",
    parseDefaultFunction: "unable to parse default function",
};

const EOF = 0;
enum Token { Illegal, EOF, Ident, Lbrack, Rbrack }
const SCAN_IDENT = 1, SCAN_LBRACK = 2, SCAN_RBRACK = 4, SCAN_ESCAPE = 8;
const ESC_DOLLAR = 1, ESC_BACKSLASH = 2, ESC_ALL = ESC_DOLLAR | ESC_BACKSLASH;

type Accept = (r: number, i: number) => boolean;
const ch = (c: string) => c.codePointAt(0)!;
const isLetter = (r: number) => /\p{L}/u.test(String.fromCodePoint(r));
const isDigit = (r: number) => /\p{Nd}/u.test(String.fromCodePoint(r));

const acceptRune: Accept = () => true;
const acceptIdent: Accept = (r) => isLetter(r) || isDigit(r) || r === ch("_");
const acceptColon: Accept = (r) => r === ch(":");
const acceptOneHash: Accept = (r, i) => r === ch("#") && i === 1;
const acceptNotClosing: Accept = (r) => r !== ch("}");
const acceptHashFunc: Accept = (r, i) => r === ch("#") && i < 3;
const acceptPercentFunc: Accept = (r, i) => r === ch("%") && i < 3;
const acceptDefaultFunc: Accept = (r, i) => (i === 1 && r === ch(":")) || (i === 2 && "=-?+".includes(String.fromCodePoint(r)));
const acceptReplaceFunc: Accept = (r, i) => (i === 1 && r === ch("/")) || (i === 2 && "/#%".includes(String.fromCodePoint(r)));
const acceptOneEqual: Accept = (r, i) => i === 1 && r === ch("=");
const acceptOneColon: Accept = (r, i) => i === 1 && r === ch(":");
const rejectColonClose: Accept = (r) => r !== ch(":") && r !== ch("}");
const acceptSlash: Accept = (r) => r === ch("/");
const acceptNotSlash: Accept = (r) => r !== ch("/");
const acceptCasingFunc: Accept = (r, i) => (r === ch(",") || r === ch("^")) && i < 3;

/** envsubst/parse/scan.go: positions count UTF-16 units where Go counts bytes; the same for ASCII syntax. */
class Scanner {
    buf = "";
    pos = 0;
    start = 0;
    width = 0;
    mode = 0;
    escapeChars = 0;
    accept: Accept = acceptRune;

    init(buf: string) {
        this.buf = buf;
        this.pos = 0;
        this.start = 0;
        this.width = 0;
    }

    read(): number {
        if (this.pos >= this.buf.length) {
            this.width = 0;
            return EOF;
        }
        const r = this.buf.codePointAt(this.pos)!;
        this.width = r > 0xffff ? 2 : 1;
        this.pos += this.width;
        return r;
    }

    unread() {
        this.pos -= this.width;
    }

    /** Drops the character before the position (the first `$` of `$$`); the position stays. */
    skip() {
        this.buf = this.buf.slice(0, this.pos - 1) + this.buf.slice(this.pos);
    }

    peek(): number {
        const r = this.read();
        this.unread();
        return r;
    }

    /** The next character as a string, "" at the end. */
    peekChar(): string {
        const r = this.peek();
        return r === EOF ? "" : String.fromCodePoint(r);
    }

    string(): string {
        return this.buf.slice(this.start, this.pos);
    }

    scan(): Token {
        this.start = this.pos;
        const r = this.read();
        if (r === EOF) return Token.EOF;
        if (this.scanLbrack(r)) return Token.Lbrack;
        if (this.scanRbrack(r)) return Token.Rbrack;
        if (this.scanIdent(r)) return Token.Ident;
        return Token.Illegal;
    }

    scanIdent(r: number): boolean {
        if ((this.mode & SCAN_IDENT) === 0) return false;
        if (this.scanEscaped(r)) this.skip();
        else if (!this.accept(r, this.pos - this.start)) return false;
        for (;;) {
            const c = this.read();
            if (c === EOF) {
                this.unread();
                break;
            }
            if (this.scanLbrack(c)) {
                this.unread();
                this.unread();
                break;
            }
            if (this.scanEscaped(c)) {
                this.skip();
                continue;
            }
            if (!this.accept(c, this.pos - this.start)) {
                this.unread();
                break;
            }
        }
        return true;
    }

    scanLbrack(r: number): boolean {
        if ((this.mode & SCAN_LBRACK) === 0) return false;
        if (r === ch("$")) {
            if (this.read() === ch("{")) return true;
            this.unread();
        }
        return false;
    }

    scanRbrack(r: number): boolean {
        if ((this.mode & SCAN_RBRACK) === 0) return false;
        return r === ch("}");
    }

    scanEscaped(r: number): boolean {
        if ((this.mode & SCAN_ESCAPE) === 0) return false;
        if (r === ch("$") && (this.escapeChars & ESC_DOLLAR) !== 0 && this.peek() === ch("$")) return true;
        if (r === ch("\\") && (this.escapeChars & ESC_BACKSLASH) !== 0) {
            const p = this.peek();
            return p === ch("/") || p === ch("\\");
        }
        return false;
    }
}

const EMPTY: Node = { kind: "text", value: "" };

/** envsubst/parse/parse.go */
class Parser {
    private s = new Scanner();

    parse(buf: string): Node {
        this.s.init(buf);
        return this.parseAny();
    }

    private fail(msg: string): never {
        throw new SubstitutionError(msg);
    }

    private parseAny(): Node {
        const s = this.s;
        s.accept = acceptRune;
        s.mode = SCAN_IDENT | SCAN_LBRACK | SCAN_ESCAPE;
        s.escapeChars = ESC_DOLLAR;
        switch (s.scan()) {
            case Token.Ident: {
                const left: Node = { kind: "text", value: s.string() };
                const right = this.parseAny();
                return right === EMPTY ? left : { kind: "list", nodes: [left, right] };
            }
            case Token.EOF:
                return EMPTY;
            case Token.Lbrack: {
                const left = this.parseFunc();
                const right = this.parseAny();
                return right === EMPTY ? left : { kind: "list", nodes: [left, right] };
            }
            default:
                return this.fail(ERR.badSubstitution);
        }
    }

    private parseFunc(): Node {
        const s = this.s;
        s.escapeChars = ESC_ALL;
        if (s.peek() === ch("#")) return this.parseLenFunc();
        s.accept = acceptIdent;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.parseVariableName);
        const name = s.string();
        switch (s.peekChar()) {
            case ":": return this.parseDefaultOrSubstr(name);
            case "=": return this.parseDefaultFunc(name);
            case ",": case "^": return this.parseCasingFunc(name);
            case "/": return this.parseReplaceFunc(name);
            case "#": return this.parseRemoveFunc(name, acceptHashFunc);
            case "%": return this.parseRemoveFunc(name, acceptPercentFunc);
            default: break;
        }
        s.accept = acceptIdent;
        s.mode = SCAN_RBRACK;
        if (s.scan() !== Token.Rbrack) this.fail(ERR.missingClosingBrace);
        return { kind: "func", param: name, name: "", args: [] };
    }

    private parseParam(accept: Accept, mode: number): Node {
        const s = this.s;
        s.accept = accept;
        s.mode = mode | SCAN_LBRACK;
        switch (s.scan()) {
            case Token.Lbrack: return this.parseFunc();
            case Token.Ident: return { kind: "text", value: s.string() };
            case Token.Rbrack: return { kind: "text", value: s.string() };
            default: return this.fail(ERR.parseFuncSubstitution);
        }
    }

    private parseDefaultOrSubstr(name: string): Node {
        const s = this.s;
        // As in Go: the unread undoes the peek's width (0 at the end), not the read's.
        s.read();
        const next = s.peekChar();
        s.unread();
        return next !== "" && "=-?+".includes(next) ? this.parseDefaultFunc(name) : this.parseSubstrFunc(name);
    }

    private parseSubstrFunc(name: string): Node {
        const s = this.s;
        const node = { kind: "func" as const, param: name, name: "", args: [] as Node[] };
        s.accept = acceptOneColon;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.badSubstitution);
        node.name = s.string();
        node.args.push(this.parseParam(rejectColonClose, SCAN_IDENT));
        s.accept = acceptColon;
        s.mode = SCAN_IDENT | SCAN_RBRACK;
        switch (s.scan()) {
            case Token.Rbrack: return node;
            case Token.Ident: break;
            default: this.fail(ERR.badSubstitution);
        }
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        this.consumeRbrack();
        return node;
    }

    private parseRemoveFunc(name: string, accept: Accept): Node {
        const s = this.s;
        const node = { kind: "func" as const, param: name, name: "", args: [] as Node[] };
        s.accept = accept;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.badSubstitution);
        node.name = s.string();
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        this.consumeRbrack();
        return node;
    }

    private parseReplaceFunc(name: string): Node {
        const s = this.s;
        const node = { kind: "func" as const, param: name, name: "", args: [] as Node[] };
        s.accept = acceptReplaceFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.badSubstitution);
        node.name = s.string();
        node.args.push(this.parseParam(acceptNotSlash, SCAN_IDENT | SCAN_ESCAPE));
        s.accept = acceptSlash;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.badSubstitution);
        if (s.peek() === ch("}")) {
            this.consumeRbrack();
            return node;
        }
        node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT | SCAN_ESCAPE));
        this.consumeRbrack();
        return node;
    }

    private parseDefaultFunc(name: string): Node {
        const s = this.s;
        const node = { kind: "func" as const, param: name, name: "", args: [] as Node[] };
        s.accept = s.peek() === ch("=") ? acceptOneEqual : acceptDefaultFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.parseDefaultFunction);
        node.name = s.string();
        for (;;) {
            if (s.peek() === ch("}")) {
                this.consumeRbrack();
                return node;
            }
            node.args.push(this.parseParam(acceptNotClosing, SCAN_IDENT));
        }
    }

    private parseCasingFunc(name: string): Node {
        const s = this.s;
        const node = { kind: "func" as const, param: name, name: "", args: [] as Node[] };
        s.accept = acceptCasingFunc;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.badSubstitution);
        node.name = s.string();
        this.consumeRbrack();
        return node;
    }

    private parseLenFunc(): Node {
        const s = this.s;
        const node = { kind: "func" as const, param: "", name: "", args: [] as Node[] };
        s.accept = acceptOneHash;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.badSubstitution);
        node.name = s.string();
        s.accept = acceptIdent;
        s.mode = SCAN_IDENT;
        if (s.scan() !== Token.Ident) this.fail(ERR.badSubstitution);
        node.param = s.string();
        this.consumeRbrack();
        return node;
    }

    private consumeRbrack() {
        this.s.mode = SCAN_RBRACK;
        if (this.s.scan() !== Token.Rbrack) this.fail(ERR.badSubstitution);
    }
}

/** Parses an envsubst template; throws {@link SubstitutionError} with envsubst's own message. */
export function parseTemplate(text: string): Node {
    return new Parser().parse(text);
}

/** Flux's wording for a failed substitution (varSubstitution wraps envsubst's error, SubstituteVariables that). */
function fluxFailure(e: unknown): unknown {
    return e instanceof SubstitutionError ? new SubstitutionError(`envsubst error: variable substitution failed: ${e.message}`) : e;
}

/**
 * Every variable the template looks up, in order of appearance: nested defaults included, duplicates removed.
 * A template Flux cannot parse throws {@link SubstitutionError} with Flux's message.
 */
export function templateVariables(text: string): string[] {
    let root: Node;
    try {
        root = parseTemplate(text);
    } catch (e) {
        throw fluxFailure(e);
    }
    const found = new Set<string>();
    const walk = (n: Node): void => {
        if (n.kind === "list") n.nodes.forEach(walk);
        else if (n.kind === "func") {
            n.args.forEach(walk);
            found.add(n.param);
        }
    };
    walk(root);
    return [...found];
}

// ---------------------------------------------------------------- functions (envsubst/funcs.go, path/match.go)

type Fn = (s: string, ...args: string[]) => string;
const utf8 = (s: string) => Buffer.from(s, "utf8");

// Go's strconv.Atoi: optional sign, decimal digits, nothing else.
function atoi(s: string): number | undefined {
    return /^[+-]?[0-9]+$/.test(s) ? Number.parseInt(s, 10) : undefined;
}

const toLen: Fn = (s) => String(utf8(s).length);
const toLower: Fn = (s) => s.toLowerCase();
const toUpper: Fn = (s) => s.toUpperCase();
const firstRune = (s: string) => String.fromCodePoint(s.codePointAt(0)!);
const toLowerFirst: Fn = (s) => (s === "" ? s : firstRune(s).toLowerCase() + s.slice(firstRune(s).length));
const toUpperFirst: Fn = (s) => (s === "" ? s : firstRune(s).toUpperCase() + s.slice(firstRune(s).length));
const toDefault: Fn = (s, ...args) => (s.length === 0 && args.length > 0 ? args.join("") : s);

// Offsets count bytes, as Go slices strings.
const toSubstr: Fn = (s, ...args) => {
    if (args.length === 0) return s;
    const b = utf8(s);
    let pos = atoi(args[0]);
    if (pos === undefined) return s;
    if (pos < 0) pos = Math.max(0, b.length + pos);
    if (args.length === 1) return pos < b.length ? b.subarray(pos).toString("utf8") : "";
    const length = atoi(args[1]);
    if (length === undefined) return s;
    if (pos + length >= b.length) return pos < b.length ? b.subarray(pos).toString("utf8") : "";
    return b.subarray(pos, pos + length).toString("utf8");
};

const replaceAll: Fn = (s, ...args) => (args.length === 0 ? s : s.split(args[0]).join(args[1] ?? ""));
const replaceFirst: Fn = (s, ...args) => {
    if (args.length === 0) return s;
    const i = s.indexOf(args[0]);
    return i < 0 ? s : s.slice(0, i) + (args[1] ?? "") + s.slice(i + args[0].length);
};
const replacePrefix: Fn = (s, ...args) => (args.length === 2 && s.startsWith(args[0]) ? args[1] + s.slice(args[0].length) : s);
const replaceSuffix: Fn = (s, ...args) => (args.length === 2 && s.endsWith(args[0]) ? s.slice(0, s.length - args[0].length) + args[1] : s);

class BadPattern extends Error {}

/** envsubst/path/match.go: Go's path.Match, except that `*` and `?` also match `/`. */
export function pathMatch(pattern: string, name: string): boolean {
    let p = pattern;
    let n = name;
    outer: while (p.length > 0) {
        const [star, chunk, rest] = scanChunk(p);
        p = rest;
        if (star && chunk === "") return true;
        const first = matchChunk(chunk, n);
        if (first.ok && (first.rest.length === 0 || p.length > 0)) {
            n = first.rest;
            continue;
        }
        if (first.bad) throw new BadPattern();
        if (star) {
            for (let i = 0; i < n.length; i++) {
                const t = matchChunk(chunk, n.slice(i + 1));
                if (t.ok) {
                    if (p.length === 0 && t.rest.length > 0) continue;
                    n = t.rest;
                    continue outer;
                }
                if (t.bad) throw new BadPattern();
            }
        }
        return false;
    }
    return n.length === 0;
}

function scanChunk(pattern: string): [boolean, string, string] {
    let star = false;
    while (pattern.length > 0 && pattern[0] === "*") {
        pattern = pattern.slice(1);
        star = true;
    }
    let inrange = false;
    let i = 0;
    scan: for (; i < pattern.length; i++) {
        switch (pattern[i]) {
            case "\\":
                if (i + 1 < pattern.length) i++;
                break;
            case "[":
                inrange = true;
                break;
            case "]":
                inrange = false;
                break;
            case "*":
                if (!inrange) break scan;
                break;
            default:
                break;
        }
    }
    return [star, pattern.slice(0, i), pattern.slice(i)];
}

function matchChunk(chunk: string, s: string): { rest: string; ok: boolean; bad?: boolean } {
    const fail = { rest: "", ok: false };
    while (chunk.length > 0) {
        if (s.length === 0) return fail;
        switch (chunk[0]) {
            case "[": {
                const r = s.codePointAt(0)!;
                s = s.slice(r > 0xffff ? 2 : 1);
                chunk = chunk.slice(1);
                let notNegated = true;
                if (chunk.length > 0 && chunk[0] === "^") {
                    notNegated = false;
                    chunk = chunk.slice(1);
                }
                let match = false;
                let nrange = 0;
                for (;;) {
                    if (chunk.length > 0 && chunk[0] === "]" && nrange > 0) {
                        chunk = chunk.slice(1);
                        break;
                    }
                    const lo = getEsc(chunk);
                    if (!lo) return { ...fail, bad: true };
                    chunk = lo.rest;
                    let hi = lo.r;
                    if (chunk[0] === "-") {
                        const h = getEsc(chunk.slice(1));
                        if (!h) return { ...fail, bad: true };
                        chunk = h.rest;
                        hi = h.r;
                    }
                    if (lo.r <= r && r <= hi) match = true;
                    nrange++;
                }
                if (match !== notNegated) return fail;
                break;
            }
            case "?": {
                const r = s.codePointAt(0)!;
                s = s.slice(r > 0xffff ? 2 : 1);
                chunk = chunk.slice(1);
                break;
            }
            case "\\":
                chunk = chunk.slice(1);
                if (chunk.length === 0) return { ...fail, bad: true };
                if (chunk[0] !== s[0]) return fail;
                s = s.slice(1);
                chunk = chunk.slice(1);
                break;
            default:
                if (chunk[0] !== s[0]) return fail;
                s = s.slice(1);
                chunk = chunk.slice(1);
        }
    }
    return { rest: s, ok: true };
}

function getEsc(chunk: string): { r: number; rest: string } | undefined {
    if (chunk.length === 0 || chunk[0] === "-" || chunk[0] === "]") return undefined;
    if (chunk[0] === "\\") {
        chunk = chunk.slice(1);
        if (chunk.length === 0) return undefined;
    }
    const r = chunk.codePointAt(0)!;
    const rest = chunk.slice(r > 0xffff ? 2 : 1);
    return rest.length === 0 ? undefined : { r, rest };
}

const reverse = (s: string) => [...s].reverse().join("");

function trimShortest(s: string, arg: string): string {
    let shortest = "";
    for (let i = 0; i < s.length; i++) {
        try {
            if (pathMatch(arg, s.slice(0, s.length - i))) shortest = s.slice(0, s.length - i);
        } catch {
            return s;
        }
    }
    return shortest !== "" && s.startsWith(shortest) ? s.slice(shortest.length) : s;
}

function trimLongest(s: string, arg: string): string {
    for (let i = 0; i < s.length; i++) {
        try {
            if (pathMatch(arg, s.slice(0, s.length - i))) return s.slice(s.length - i);
        } catch {
            return s;
        }
    }
    return s;
}

const trimShortestPrefix: Fn = (s, ...args) => (args.length ? trimShortest(s, args[0]) : s);
const trimShortestSuffix: Fn = (s, ...args) => (args.length ? reverse(trimShortest(reverse(s), reverse(args[0]))) : s);
const trimLongestPrefix: Fn = (s, ...args) => (args.length ? trimLongest(s, args[0]) : s);
const trimLongestSuffix: Fn = (s, ...args) => (args.length ? reverse(trimLongest(reverse(s), reverse(args[0]))) : s);

/** envsubst/template.go lookupFunc. */
function lookupFunc(name: string, args: number): Fn {
    switch (name) {
        case ",": return toLowerFirst;
        case ",,": return toLower;
        case "^": return toUpperFirst;
        case "^^": return toUpper;
        case "#": return args === 0 ? toLen : trimShortestPrefix;
        case "##": return trimLongestPrefix;
        case "%": return trimShortestSuffix;
        case "%%": return trimLongestSuffix;
        case ":": return toSubstr;
        case "/#": return replacePrefix;
        case "/%": return replaceSuffix;
        case "/": return replaceFirst;
        case "//": return replaceAll;
        default: return toDefault;
    }
}

/** Operators whose contract covers an unset variable, so strict mode lets them pass (envsubst/template.go). */
const DEFAULT_OPS = new Set(["-", "+", "=", "?", ":-", ":+", ":=", ":?"]);

/** envsubst/template.go Execute: `mapping` answers (value, exists). */
export function evaluate(node: Node, mapping: (name: string) => [string, boolean]): string {
    switch (node.kind) {
        case "text":
            return node.value;
        case "list":
            return node.nodes.map((n) => evaluate(n, mapping)).join("");
        case "func": {
            const args = node.args.map((n) => evaluate(n, mapping));
            const [v, exists] = mapping(node.param);
            if (!exists && !DEFAULT_OPS.has(node.name)) throw new SubstitutionError(`variable not set (strict mode): ${JSON.stringify(node.param)}`);
            return lookupFunc(node.name, args.length)(v, ...args);
        }
    }
}

// ---------------------------------------------------------------- Flux's rules (kustomize_varsub.go)

export interface SubstituteOptions {
    /** StrictPostBuildSubstitutions: an unset variable without a default fails instead of becoming "". */
    strict: boolean;
    /** `substituteStrategy: Always`: substitute even when no variable is defined. */
    always?: boolean;
}

/** Variables as Flux loads them from ConfigMaps, Secrets and in-line `substitute`: every "\n" removed. */
export function loadVariables(vars: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.replaceAll("\n", "")]));
}

/**
 * One resource's YAML text after Flux's substitution, or undefined when Flux would not substitute at all (no variable
 * and not `always`). Throws {@link SubstitutionError} where Flux fails the Kustomization.
 */
export function substituteVariables(text: string, vars: Record<string, string>, opts: SubstituteOptions): string | undefined {
    if (Object.keys(vars).length === 0 && !opts.always) return undefined;
    for (const name of Object.keys(vars)) {
        if (!VAR_NAME.test(name)) throw new SubstitutionError(`'${name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'`);
    }
    const has = (name: string) => Object.prototype.hasOwnProperty.call(vars, name);
    try {
        return evaluate(parseTemplate(text), (name) => [has(name) ? vars[name] : "", !opts.strict || has(name)]);
    } catch (e) {
        throw fluxFailure(e);
    }
}

/** True when a resource's labels or annotations turn substitution off. */
export function substitutionDisabled(resource: unknown): boolean {
    const meta = (resource as { metadata?: { labels?: unknown; annotations?: unknown } } | null)?.metadata;
    const get = (m: unknown) => (m && typeof m === "object" ? (m as Record<string, unknown>)[SUBSTITUTE_ANNOTATION] : undefined);
    return get(meta?.labels) === "disabled" || get(meta?.annotations) === "disabled";
}

// go-yaml v2, as sigs.k8s.io/yaml YAMLToJSON uses it: YAML 1.1 booleans (yes/no/on/off/y/n) and octal 0777, but no
// base-60 numbers ("base 60 floats ... are purposefully unsupported"), and timestamps stay strings.
const GO_YAML_V2: ParseOptions & DocumentOptions & SchemaOptions = {
    version: "1.1",
    customTags: (tags) => tags.filter((t) => typeof t === "string" || (t.format !== "TIME" && t.tag !== "tag:yaml.org,2002:timestamp")),
};

/**
 * A resource's YAML as Flux hands it on: after substitution through go-yaml v2 (so `enabled: ${X}` with X=yes is
 * the boolean true, fluxcd/flux2#4606), otherwise as kustomize parsed it (YAML 1.2).
 */
export function parseResource(text: string, substituted: boolean): unknown {
    return substituted ? parseYaml(text, GO_YAML_V2) : parseYaml(text);
}
