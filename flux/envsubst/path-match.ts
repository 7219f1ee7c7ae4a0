// Go's path.Match as Flux's envsubst forked it (fluxcd/pkg envsubst/path/match.go): `*` and `?` also match `/`.

/** A malformed pattern: Go's path.ErrBadPattern. */
export class BadPattern extends Error {}

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
