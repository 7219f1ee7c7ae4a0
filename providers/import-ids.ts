// The import IDs of the Cloudflare resources the program can adopt, in the format each resource's ImportState parses
// (terraform-provider-cloudflare v5, which @pulumi/cloudflare v6 bridges; the SDK's own `## Import` doc comments give
// the same formats). Every other resource the program creates is never imported: its secret cannot be read back.
import type { Jurisdiction } from "./r2";

/**
 * `R2Bucket`: `<account_id>/<bucket_name>/<jurisdiction>` (internal/services/r2_bucket/resource.go ImportState). The
 * jurisdiction is sent as the `cf-r2-jurisdiction` header of the read, so a bucket in `eu` is found only as `…/eu`.
 */
export function r2BucketImportId(accountId: string, bucket: string, jurisdiction: Jurisdiction): string {
    return `${accountId}/${bucket}/${jurisdiction}`;
}

/** `ZeroTrustTunnelCloudflared`: `<account_id>/<tunnel_id>` (zero_trust_tunnel_cloudflared/resource.go ImportState). */
export function tunnelImportId(accountId: string, tunnelId: string): string {
    return `${accountId}/${tunnelId}`;
}

/**
 * `ZeroTrustTunnelCloudflaredConfig`: `<account_id>/<tunnel_id>`, the tunnel's own id: a tunnel has exactly one
 * configuration (zero_trust_tunnel_cloudflared_config/resource.go ImportState).
 */
export function tunnelConfigImportId(accountId: string, tunnelId: string): string {
    return `${accountId}/${tunnelId}`;
}

/** `DnsRecord`: `<zone_id>/<dns_record_id>` (dns_record/resource.go ImportState). */
export function dnsRecordImportId(zoneId: string, recordId: string): string {
    return `${zoneId}/${recordId}`;
}

/**
 * `ZeroTrustAccessApplication`: `<{accounts|zones}/{account_id|zone_id}>/<app_id>`; the program's applications belong
 * to the account, so `accounts/<account_id>/<app_id>` (zero_trust_access_application/resource.go ImportState, which
 * refuses any other first segment).
 */
export function accessApplicationImportId(accountId: string, appId: string): string {
    return `accounts/${accountId}/${appId}`;
}

/** `ZeroTrustAccessPolicy` (reusable, account-level): `<account_id>/<policy_id>` (zero_trust_access_policy/resource.go). */
export function accessPolicyImportId(accountId: string, policyId: string): string {
    return `${accountId}/${policyId}`;
}
