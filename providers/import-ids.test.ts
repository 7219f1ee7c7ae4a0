// The import ID formats, checked against the provider itself: the `## Import` section of each resource's doc comment in
// the installed @pulumi/cloudflare (6.22.1), which the bridge generates from terraform-provider-cloudflare v5's
// `examples/resources/<resource>/import.sh`, and the format each resource's ImportState parses in that provider's
// source (internal/services/<resource>/resource.go, `importpath.ParseImportID(req.ID, "<…>", …)`, read at v5.22.0):
//   r2_bucket                            "<account_id>/<bucket_name>/<jurisdiction>"
//   zero_trust_tunnel_cloudflared        "<account_id>/<tunnel_id>"
//   zero_trust_tunnel_cloudflared_config "<account_id>/<tunnel_id>"   (no import.sh; ImportState only)
//   dns_record                           "<zone_id>/<dns_record_id>"
//   zero_trust_access_application        "<{accounts|zones}/{account_id|zone_id}>/<app_id>"
//   zero_trust_access_policy             "<account_id>/<policy_id>"
//   r2_bucket_lifecycle                  no ImportState: "This resource does not currently support `pulumi import`."
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../config/keys";
import {
    accessApplicationImportId, accessPolicyImportId, dnsRecordImportId, r2BucketImportId, tunnelConfigImportId, tunnelImportId,
} from "./import-ids";

const SDK = path.join(ROOT, "node_modules", "@pulumi", "cloudflare");

/** The template of `$ pulumi import <type> example '<template>'` in a resource's doc comment. */
function documented(file: string, type: string): string {
    const text = fs.readFileSync(path.join(SDK, file), "utf8");
    const m = new RegExp(`\\$ pulumi import ${type.replace(/[/$]/g, "\\$&")} example '([^']+)'`).exec(text);
    if (!m) throw new Error(`no pulumi import line for ${type} in ${file}`);
    return m[1];
}

/** Fills a template's `<name>` placeholders; `<{a|b}/{x|y}>` takes the first alternative of each. */
function fill(template: string, values: Record<string, string>): string {
    return template
        .replace(/<\{(\w+)\|\w+\}\/\{(\w+)\|\w+\}>/g, (_, seg: string, name: string) => `${seg}/${values[name]}`)
        .replace(/<(\w+)>/g, (_, name: string) => {
            if (!(name in values)) throw new Error(`no value for <${name}>`);
            return values[name];
        });
}

const ACCOUNT = "eca0833f608b5745af030307a99bdbb4";
const v = { account_id: ACCOUNT, bucket_name: "infra-volsync", jurisdiction: "eu", tunnel_id: "t-1", zone_id: "z-1", dns_record_id: "r-1", app_id: "a-1", policy_id: "p-1" };

describe("import IDs, as the provider documents and parses them", () => {
    it("R2 bucket: <account_id>/<bucket_name>/<jurisdiction>", () => {
        expect(documented("r2bucket.d.ts", "cloudflare:index/r2Bucket:R2Bucket")).toBe("<account_id>/<bucket_name>/<jurisdiction>");
        expect(r2BucketImportId(ACCOUNT, "infra-volsync", "eu")).toBe(fill("<account_id>/<bucket_name>/<jurisdiction>", v));
        expect(r2BucketImportId(ACCOUNT, "infra-volsync", "default")).toBe(`${ACCOUNT}/infra-volsync/default`);
    });

    it("tunnel and its configuration: <account_id>/<tunnel_id>", () => {
        const tunnel = documented("zeroTrustTunnelCloudflared.d.ts", "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared");
        const config = documented("zeroTrustTunnelCloudflaredConfig.d.ts", "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig");
        expect([tunnel, config]).toEqual(["<account_id>/<tunnel_id>", "<account_id>/<tunnel_id>"]);
        expect(tunnelImportId(ACCOUNT, "t-1")).toBe(fill(tunnel, v));
        expect(tunnelConfigImportId(ACCOUNT, "t-1")).toBe(fill(config, v));
    });

    it("DNS record: <zone_id>/<dns_record_id>", () => {
        const t = documented("dnsRecord.d.ts", "cloudflare:index/dnsRecord:DnsRecord");
        expect(t).toBe("<zone_id>/<dns_record_id>");
        expect(dnsRecordImportId("z-1", "r-1")).toBe(fill(t, v));
    });

    it("Access application: accounts/<account_id>/<app_id>, the account form", () => {
        const t = documented("zeroTrustAccessApplication.d.ts", "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication");
        expect(t).toBe("<{accounts|zones}/{account_id|zone_id}>/<app_id>");
        expect(accessApplicationImportId(ACCOUNT, "a-1")).toBe(fill(t, v));
        expect(accessApplicationImportId(ACCOUNT, "a-1")).toBe(`accounts/${ACCOUNT}/a-1`);
    });

    it("Access policy: <account_id>/<policy_id>", () => {
        const t = documented("zeroTrustAccessPolicy.d.ts", "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy");
        expect(t).toBe("<account_id>/<policy_id>");
        expect(accessPolicyImportId(ACCOUNT, "p-1")).toBe(fill(t, v));
    });

    it("R2 bucket lifecycle: none, so it is written over instead", () => {
        expect(fs.readFileSync(path.join(SDK, "r2bucketLifecycle.d.ts"), "utf8")).toContain("This resource does not currently support `pulumi import`.");
    });
});
