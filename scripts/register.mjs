// Loads the project's own TypeScript for the scripts (`node --import ./scripts/register.mjs scripts/x.ts`).
// Only files outside node_modules are touched: a general-purpose loader that hooks every require, and turns on
// source maps for all of them, doubles the time it takes to load the Pulumi SDK.
import * as nodeModule from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

// The Node the project is tested on (.nvmrc): older ones fail in odd places (Node 22 cannot resolve `../config`
// through these hooks, Node 20 has none), so say so plainly instead.
const { registerHooks } = nodeModule;
const want = Number(readFileSync(new URL("../.nvmrc", import.meta.url), "utf8").trim());
if (typeof registerHooks !== "function" || Number(process.versions.node.split(".")[0]) < want) {
    process.stderr.write(`node ${process.version} is too old for this project: use Node ${want} (see .nvmrc), e.g. \`nvm use\`\n`);
    process.exit(2);
}

const own = (url) => url.startsWith("file:") && !url.includes("/node_modules/");

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
        // CommonJS like the CLI's tsconfig (`export =` included); inline maps keep stack traces on the .ts lines.
        const { code } = transformSync(String(loaded.source), {
            loader: "ts", format: "cjs", target: "node22", sourcemap: "inline", sourcefile: fileURLToPath(url),
        });
        return { format: "commonjs", source: code, shortCircuit: true };
    },
});
