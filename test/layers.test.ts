// The layer rule (docs/development.md): imports run one way, down this list. A module may import its own folder and
// any folder below it, never one above; tests and test helpers are exempt (they reach every layer on purpose).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";

const LAYERS: ReadonlyArray<readonly string[]> = [
    ["scripts"],
    ["offline", "preflight", "policy", "verify"],
    ["index.ts", "context.ts"],
    ["components"],
    ["providers"],
    ["flux", "cluster"],
    ["config"],
];
const layerOf = (top: string) => LAYERS.findIndex((l) => l.includes(top));

function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.join(dir, e.name);
        if (e.isDirectory()) return sources(rel);
        return /\.(ts|mts)$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [rel] : [];
    });
}

describe("the layer rule", () => {
    const tops = LAYERS.flat();
    const files = tops.flatMap((t) => (t.endsWith(".ts") ? [t] : fs.existsSync(path.join(ROOT, t)) ? sources(t) : []));

    it("knows every top-level folder of source", () => {
        const dirs = fs.readdirSync(ROOT, { withFileTypes: true })
            .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !["node_modules", "test", "docs", "bin"].includes(e.name))
            .map((e) => e.name);
        expect(dirs.filter((d) => layerOf(d) < 0)).toEqual([]);
    });

    it("holds: no module imports a layer above its own", () => {
        const upward: string[] = [];
        for (const file of files) {
            const own = layerOf(file.split(path.sep)[0]);
            for (const m of fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(/from "(\.{1,2}\/[^"]*)"/g)) {
                const target = path.normalize(path.join(path.dirname(file), m[1]));
                const top = target.split(path.sep)[0];
                const layer = layerOf(top === "index" || top === "context" ? `${top}.ts` : top);
                if (layer >= 0 && layer < own) upward.push(`${file} imports ${m[1]}`);
            }
        }
        expect(upward).toEqual([]);
    });
});
