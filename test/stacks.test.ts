// The committed stack files are the seed's clusters, ready for one Cilium Cluster Mesh: each names its pod CIDR, no two
// share a cluster id, and no two pod CIDRs overlap.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { meshConflicts } from "../config/checks";
import { ROOT } from "../config/keys";
import { readStackSettings } from "../offline/stack-file";

const stacks = fs.readdirSync(ROOT).flatMap((f) => (/^Pulumi\.([^.]+)\.yaml$/.exec(f)?.slice(1) ?? []));
const clusterOf = (stack: string) =>
    JSON.parse(readStackSettings(path.join(ROOT, `Pulumi.${stack}.yaml`)).config["cluster-bootstrap:cluster"]) as { id: number; cidr?: string };

describe("the committed stacks", () => {
    it("are the two clusters, each with its pod CIDR", () => {
        expect(stacks.sort()).toEqual(["apps", "infra"]);
        for (const s of stacks) expect(clusterOf(s).cidr, s).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    });

    it("have unique cluster ids and disjoint pod CIDRs (Cluster Mesh readiness)", () => {
        expect(meshConflicts(stacks.map((stack) => ({ stack, ...clusterOf(stack) })))).toEqual([]);
    });
});
