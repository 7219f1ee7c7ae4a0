// envsubst's parser, ported line by line from Flux's fork of drone/envsubst (fluxcd/pkg envsubst/parse: scan.go,
// parse.go, node.go at e2cfd1a2). Only `${` opens a substitution (`$VAR` stays text); `$$` is an escape for `$`.

/** Substitution failed as Flux would fail it; the message is Flux's own. */
export class SubstitutionError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SubstitutionError";
    }
}


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

