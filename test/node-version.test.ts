// Node 24 everywhere: package.json's engines with engine-strict (npm ci stops), `npm test`'s first step, and the
// scripts' loader. Older Nodes fail in odd places otherwise (vitest: Map.groupBy; the loader: `../config`).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";

const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");

/** A copy of the project's guard files beside an .nvmrc asking for a Node newer than this one. */
function futureCopy(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-version-"));
    fs.mkdirSync(path.join(dir, "scripts"));
    for (const f of ["scripts/node-version.cjs", "scripts/register.mjs"]) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, ".nvmrc"), "99\n");
    fs.writeFileSync(path.join(dir, "x.ts"), "console.log('ran');\n");
    return dir;
}

describe("the Node version", () => {
    it("is 24 in .nvmrc, package.json's engines, enforced by npm (engine-strict)", () => {
        expect(read(".nvmrc").trim()).toBe("24");
        expect(JSON.parse(read("package.json")).engines).toEqual({ node: ">=24" });
        expect(read(".npmrc")).toMatch(/^engine-strict=true$/m);
    });

    it("is checked first by npm test, with one line naming the version", () => {
        expect(JSON.parse(read("package.json")).scripts.test).toMatch(/^node scripts\/node-version\.cjs && /);
        const dir = futureCopy();
        const r = spawnSync(process.execPath, ["scripts/node-version.cjs"], { cwd: dir, encoding: "utf8" });
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(`node ${process.version} is too old for this project: use Node 99 (see .nvmrc), e.g. \`nvm use\`\n`);
        expect(spawnSync(process.execPath, ["scripts/node-version.cjs"], { cwd: ROOT }).status).toBe(0);
    });

    it("is checked by the scripts' loader before anything runs", () => {
        const dir = futureCopy();
        const r = spawnSync(process.execPath, ["--import", "./scripts/register.mjs", "x.ts"], { cwd: dir, encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`node ${process.version} is too old for this project: use Node 99 (see .nvmrc), e.g. \`nvm use\`\n`);
    });
});

describe("the scripts' loader", () => {
    it("keeps each transformed file by content, and transforms it again when it changes", () => {
        const dir = futureCopy();
        fs.writeFileSync(path.join(dir, ".nvmrc"), fs.readFileSync(path.join(ROOT, ".nvmrc")));
        const cache = path.join(dir, "node_modules", ".cache", "cluster-bootstrap-ts");
        const marker = `loader-cache-${process.pid}-${Date.now()}`;
        const run = () => spawnSync(process.execPath, ["--import", "./scripts/register.mjs", "x.ts"], { cwd: dir, encoding: "utf8" });
        const entries = () => (fs.existsSync(cache) ? fs.readdirSync(cache) : []).filter((f) => fs.readFileSync(path.join(cache, f), "utf8").includes(marker));
        fs.writeFileSync(path.join(dir, "x.ts"), `const m: string = "${marker}"; console.log(m);\n`);
        expect(run().stdout).toBe(`${marker}\n`);
        expect(entries()).toHaveLength(1);
        expect(run().stdout).toBe(`${marker}\n`);
        expect(entries()).toHaveLength(1);
        fs.writeFileSync(path.join(dir, "x.ts"), `const m: string = "${marker}"; console.log(m + "!");\n`);
        expect(run().stdout).toBe(`${marker}!\n`);
        expect(entries()).toHaveLength(2);
    });
});

describe("install scripts", () => {
    it("are each decided in package.json's allowScripts: every locked package with one, and no entry for a package without", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { hasInstallScript?: boolean }> };
        const withScripts = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript)
            .map(([where]) => where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length));
        const allow = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
        expect(Object.keys(allow).sort()).toEqual([...new Set(withScripts)].sort());
        // esbuild's postinstall checks its native binary, which the scripts' loader runs; the others are not needed.
        expect(allow).toEqual({ esbuild: true, "@pulumi/kubernetes": false, protobufjs: false });
    });
});
