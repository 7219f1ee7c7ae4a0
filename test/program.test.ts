import { describe, expect, it } from "vitest";
import { ConfigError } from "../config";
import { runStack } from "./harness";

describe("program on invalid config", () => {
    it("registers nothing and reports every problem with its key", async () => {
        const run = await runStack({
            edit: (v) => ({ ...v, cluster: { ...(v.cluster as object), id: 0, domain: "monosense..dev" } }),
        });
        expect(run.error).toBeInstanceOf(ConfigError);
        expect((run.error as ConfigError).problems).toEqual([
            "cluster-bootstrap:cluster.id: must be an integer from 1 to 255",
            'cluster-bootstrap:cluster.domain: "monosense..dev" is not a valid DNS name',
        ]);
        expect(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });
});

describe.each(["infra", "apps"])("program on the %s stack", (stack) => {
    it("runs without error", async () => {
        const run = await runStack({ stack });
        expect(run.error).toBeUndefined();
    });
});
