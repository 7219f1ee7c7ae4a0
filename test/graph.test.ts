import { describe, expect, it } from "vitest";
import { criticalPath, customEdges, type GraphNode } from "../offline/graph";

const node = (urn: string, deps: string[] = [], extra: Partial<GraphNode> = {}): GraphNode => ({
    urn, custom: true, parent: "", dependencies: deps, provider: "", ...extra,
});

describe("deployment graph", () => {
    it("counts the explicit provider as a prerequisite", () => {
        const nodes = [node("p"), node("ns", [], { provider: "p::id" }), node("cm", ["ns"], { provider: "p::id" })];
        expect(customEdges(nodes).get("ns")).toEqual(["p"]);
        expect(criticalPath(nodes)).toEqual(["p", "ns", "cm"]);
    });

    it("looks through components to the custom resources inside them", () => {
        const nodes = [
            node("comp", [], { custom: false }),
            node("a", [], { parent: "comp" }),
            node("b", ["a"], { parent: "comp" }),
            node("c", ["comp"]),
        ];
        expect(customEdges(nodes).get("c")).toEqual(["a", "b"]);
        expect(criticalPath(nodes)).toEqual(["a", "b", "c"]);
    });

    it("finds the longest of several chains and refuses cycles", () => {
        const nodes = [node("a"), node("b", ["a"]), node("c", ["b"]), node("d", ["a"])];
        expect(criticalPath(nodes)).toEqual(["a", "b", "c"]);
        expect(() => criticalPath([node("x", ["y"]), node("y", ["x"])])).toThrow(/cycle/);
    });
});
