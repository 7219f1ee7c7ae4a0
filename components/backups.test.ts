import { describe, expect, it } from "vitest";
import { r2ContractPart } from "./backups";

describe("contract part", () => {
    it("puts endpoint and bucket names in cluster-vars and only the credentials in cluster-secrets", () => {
        const part = r2ContractPart({
            endpoint: "https://x.r2.cloudflarestorage.com",
            buckets: [{ purpose: "volsync", name: "infra-volsync" }, { purpose: "cnpg-main", name: "infra-cnpg" }],
            accessKeyId: "id",
            secretAccessKey: "key",
        });
        expect(part).toEqual({
            vars: { R2_ENDPOINT: "https://x.r2.cloudflarestorage.com", R2_BUCKET_VOLSYNC: "infra-volsync", R2_BUCKET_CNPG_MAIN: "infra-cnpg" },
            secrets: { R2_ACCESS_KEY_ID: "id", R2_SECRET_ACCESS_KEY: "key" },
        });
    });
});
