import { describe, expect, it } from "vitest";
import { cidrsOverlap, meshConflicts } from "./checks";

describe("Cluster Mesh readiness", () => {
    it("tells overlapping networks from disjoint ones, nested ones and host bits included, per family", () => {
        const cases: Array<[string, string, boolean]> = [
            ["10.42.0.0/16", "10.52.0.0/16", false], ["10.42.0.0/16", "10.43.0.0/16", false],
            ["10.42.0.0/16", "10.42.128.0/17", true], ["10.0.0.0/8", "10.52.0.0/16", true], ["10.42.0.1/16", "10.42.255.0/24", true],
            ["fd00::/8", "fd12:3456::/32", true], ["fd00::/16", "fd01::/16", false], ["10.0.0.0/8", "fd00::/8", false],
        ];
        for (const [a, b, overlap] of cases) {
            expect(cidrsOverlap(a, b), `${a} ${b}`).toBe(overlap);
            expect(cidrsOverlap(b, a), `${b} ${a}`).toBe(overlap);
        }
    });

    it("names each pair of stacks with the same cluster id or overlapping pod CIDRs", () => {
        expect(meshConflicts([{ stack: "infra", id: 1, cidr: "10.42.0.0/16" }, { stack: "apps", id: 2, cidr: "10.52.0.0/16" }])).toEqual([]);
        expect(meshConflicts([
            { stack: "infra", id: 1, cidr: "10.42.0.0/16" }, { stack: "apps", id: 1, cidr: "10.42.0.0/24" }, { stack: "lab", id: 3 },
        ])).toEqual([
            "stacks infra and apps both have cluster.id 1",
            "the cluster.cidr of stacks infra (10.42.0.0/16) and apps (10.42.0.0/24) overlap",
        ]);
    });
});
