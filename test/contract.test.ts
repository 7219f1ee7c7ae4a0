// The contract with the GitOps repository as the program builds it and as docs/gitops-contract.md documents it: every
// key of cluster-vars and cluster-secrets, which side each is on, and the page's table naming each one.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";
import { validateConfig } from "../config";
import { contractOutline } from "../components/contract-outline";
import { isWireSecret, runStack, type Values } from "./harness";

const CONTRACT = "cluster-bootstrap:contract:ClusterContract";

describe.each([
    {
        stack: "infra",
        varKeys: ["CLOUDFLARE_ZONE_ID", "CLUSTER_CIDR", "CLUSTER_DOMAIN", "CLUSTER_ID", "CLUSTER_NAME", "R2_BUCKET_CNPG", "R2_BUCKET_VOLSYNC", "R2_ENDPOINT",
            "TUNNEL_HOSTNAME", "TUNNEL_ID"],
        secretKeys: ["CLOUDFLARE_DNS_TOKEN", "CLOUDFLARE_TUNNEL_TOKEN", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"],
    },
    {
        // The spoke of infra's hub: a URL per hub hostname, and the hub's service token among the credentials.
        stack: "apps",
        varKeys: ["CLOUDFLARE_ZONE_ID", "CLUSTER_CIDR", "CLUSTER_DOMAIN", "CLUSTER_ID", "CLUSTER_NAME", "HUB_LOGS_URL", "HUB_VM_URL", "R2_BUCKET_CNPG",
            "R2_BUCKET_VOLSYNC", "R2_ENDPOINT", "TUNNEL_HOSTNAME", "TUNNEL_ID"],
        secretKeys: ["CLOUDFLARE_DNS_TOKEN", "CLOUDFLARE_TUNNEL_TOKEN", "HUB_ACCESS_CLIENT_ID", "HUB_ACCESS_CLIENT_SECRET", "R2_ACCESS_KEY_ID",
            "R2_SECRET_ACCESS_KEY"],
    },
])("the contract of the $stack stack", ({ stack, varKeys, secretKeys }) => {
    it("has exactly these keys, the credentials only in cluster-secrets; the outline the files are judged against names the same", async () => {
        let values: Values = {};
        const run = await runStack({ stack, edit: (v) => (values = v) });
        expect(run.error).toBeUndefined();
        const contract = run.resources.find((r) => r.type === CONTRACT)!;
        const out = run.componentOutputs[contract.urn];
        expect(out.varKeys).toEqual(varKeys);
        expect(out.secretKeys).toEqual(secretKeys);
        const secrets = run.one("kubernetes:core/v1:Secret", "contract-secrets");
        expect(isWireSecret(secrets.inputs.stringData)).toBe(true);
        // Before anything is registered the program judges the GitOps files against this outline: same names, same sides.
        const { config, problems } = await validateConfig({ values });
        expect(problems).toEqual([]);
        const outline = contractOutline(config!);
        expect(Object.keys(outline.vars).sort()).toEqual(varKeys);
        expect(Object.keys(outline.secrets).sort()).toEqual(secretKeys);
    });
});

it("is documented key by key in the contract table of docs/gitops-contract.md", async () => {
    const page = fs.readFileSync(path.join(ROOT, "docs", "gitops-contract.md"), "utf8");
    const row = (object: string) => page.split("\n").find((l) => l.startsWith(`| \`${object}\` |`)) ?? "";
    const run = await runStack();
    const out = run.componentOutputs[run.resources.find((r) => r.type === CONTRACT)!.urn];
    for (const k of out.varKeys as string[]) expect(row("cluster-vars").replace("R2_BUCKET_<PURPOSE>", "R2_BUCKET_VOLSYNC R2_BUCKET_CNPG"), k).toContain(k);
    for (const k of out.secretKeys as string[]) expect(row("cluster-secrets"), k).toContain(`\`${k}\``);
});
