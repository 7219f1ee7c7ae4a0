import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts", "components/**/*.test.ts", "config/**/*.test.ts", "cluster/**/*.test.ts", "flux/**/*.test.ts", "providers/**/*.test.ts", "preflight/**/*.test.ts", "policy/**/*.test.ts"],
        // Each file runs the Pulumi runtime, which keeps global state: one fork per file keeps them apart.
        pool: "forks",
        testTimeout: 30_000,
    },
});
