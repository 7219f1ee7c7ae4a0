import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: [
            "test/**/*.test.ts", "components/**/*.test.ts", "config/**/*.test.ts", "cluster/**/*.test.ts", "flux/**/*.test.ts",
            "providers/**/*.test.ts", "preflight/**/*.test.ts", "policy/**/*.test.ts",
        ],
        // Forked workers, each running one file after another with its modules loaded once (not reloaded per file: that
        // reload was a quarter of the suite's time). Sharing is safe here because nothing keeps state between runs:
        // the offline runtime sets Pulumi's mocks afresh for every run and patches no module (docs/development.md).
        pool: "forks",
        isolate: false,
        // Two workers on the two cores the project's machines have; vitest's default (cores - 1) would run one. Measured
        // on an idle 2-core machine (`npm run bench -- --suite`): 1 worker 256 s, 3 workers 217 s, 2 sharing modules 88-98 s.
        maxWorkers: 2,
        testTimeout: 30_000,
    },
});
