// Loads the project's own TypeScript for the scripts (`node --import ./scripts/register.mjs scripts/x.ts`).
// Only files outside node_modules are touched: a general-purpose loader that hooks every require, and turns on
// source maps for all of them, doubles the time it takes to load the Pulumi SDK.
import { createHash } from "node:crypto";
import * as nodeModule from "node:module";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The Node the project is tested on (.nvmrc): older ones fail in odd places (Node 22 cannot resolve `../config`
// through these hooks, Node 20 has none), so say so plainly instead.
const { registerHooks } = nodeModule;
const want = Number(readFileSync(new URL("../.nvmrc", import.meta.url), "utf8").trim());
if (typeof registerHooks !== "function" || Number(process.versions.node.split(".")[0]) < want) {
    process.stderr.write(`node ${process.version} is too old for this project: use Node ${want} (see .nvmrc), e.g. \`nvm use\`\n`);
    process.exit(2);
}

const own = (url) => url.startsWith("file:") && !url.includes("/node_modules/");

// Transformed files are kept by content: esbuild (a child process) is started only when a file changed, which takes
// a third of a plan's time off every run after the first.
const CACHE = fileURLToPath(new URL("../node_modules/.cache/cluster-bootstrap-ts/", import.meta.url));
const requireHere = nodeModule.createRequire(import.meta.url);
let esbuild;

function transformed(source, file) {
    const key = createHash("sha256").update(`${process.version}\0${file}\0${source}`).digest("hex");
    const cached = `${CACHE}${key}.js`;
    if (existsSync(cached)) return readFileSync(cached, "utf8");
    esbuild ??= requireHere("esbuild");
    // CommonJS like the CLI's tsconfig (`export =` included); inline maps keep stack traces on the .ts lines.
    const { code } = esbuild.transformSync(source, { loader: "ts", format: "cjs", target: "node22", sourcemap: "inline", sourcefile: file });
    try {
        mkdirSync(CACHE, { recursive: true });
        // Written aside and renamed: a concurrent run never reads half a file.
        const tmp = `${cached}.${process.pid}`;
        writeFileSync(tmp, code);
        renameSync(tmp, cached);
    } catch {
        // A read-only checkout still runs, uncached.
    }
    return code;
}

registerHooks({
    resolve(specifier, context, next) {
        // Extensionless relative (and absolute) imports, as the Pulumi CLI's ts-node resolves them.
        if (context.parentURL && own(context.parentURL) && context.parentURL.endsWith(".ts")
            && /^(\.\.?\/|\/)/.test(specifier) && !/\.[cm]?[jt]s$/.test(specifier)) {
            // `./x` is `./x.ts`, or the folder's `./x/index.ts`, as CommonJS resolution has it.
            for (const file of [`${specifier}.ts`, `${specifier}/index.ts`]) {
                const candidate = new URL(file, context.parentURL);
                if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, format: "commonjs", shortCircuit: true };
            }
        }
        return next(specifier, context);
    },
    load(url, context, next) {
        if (!own(url) || !url.endsWith(".ts")) return next(url, context);
        const loaded = next(url, { ...context, format: "commonjs" });
        return { format: "commonjs", source: transformed(String(loaded.source), fileURLToPath(url)), shortCircuit: true };
    },
});
