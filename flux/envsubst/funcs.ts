// The string functions of `${VAR<op>args}`, ported from fluxcd/pkg envsubst/funcs.go and template.go lookupFunc.
import { pathMatch } from "./path-match";

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
export function lookupFunc(name: string, args: number): Fn {
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

