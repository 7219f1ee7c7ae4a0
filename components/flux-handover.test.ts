import { describe, expect, it } from "vitest";
import { handoverAnnotations } from "./flux-handover";

describe("the wait for the repository's FluxInstance", () => {
    it("waits for Ready, bounded, and forces its own annotations only", () => {
        expect(handoverAnnotations(1200)).toEqual({
            "pulumi.com/skipAwait": "true",
            "cluster-bootstrap/ready-timeout-seconds": "1200",
            "pulumi.com/patchForce": "true",
        });
    });
});
