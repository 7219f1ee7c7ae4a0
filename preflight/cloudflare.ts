// Cloudflare: the token is active, the zone is in the account, R2 is enabled, and the permission groups the program
// looks up by name exist and may be granted by the token. Read-only calls throughout.
import { DNS_PERMISSION_GROUPS, permissionGroupId, R2_OBJECT_PERMISSION_GROUPS, ZONE_PERMISSION_SCOPE } from "../providers/cloudflare-permissions";
import { apiBase, getJson, NoAnswer, type Answer } from "./http";
import { fail, ok, warn, type CheckResult } from "./result";

/**
 * Every permission group the program looks up by name, with the scope it asks in, from the constants of the component
 * that looks it up, so this list cannot drift from the program: one spread per component.
 */
export const PERMISSION_GROUP_LOOKUPS: ReadonlyArray<{ name: string; scope?: string }> = [
    ...R2_OBJECT_PERMISSION_GROUPS.map((name) => ({ name })),
    ...DNS_PERMISSION_GROUPS.map((name) => ({ name, scope: ZONE_PERMISSION_SCOPE })),
];

/** Titles of the checks {@link cloudflareChecks} makes, in order (the zone's with the domain, when known). */
export function cloudflareCheckTitles(domain?: string): string[] {
    return ["Cloudflare token", domain ? `Cloudflare zone ${domain}` : "Cloudflare zone", "Cloudflare R2", "Cloudflare Tunnel", "Cloudflare permission groups"];
}

/** Cloudflare's error code for an account that has not enabled R2 ("Please enable R2 through the Cloudflare Dashboard."). */
export const R2_NOT_ENABLED = 10042;

export interface CloudflareCheckOptions {
    token: string;
    tokenFrom: string;
    accountId: string;
    /** `cluster.domain`, when usable. */
    domain?: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
}

interface Envelope {
    success?: boolean;
    errors?: Array<{ code?: number; message?: string }>;
    result?: unknown;
}

/** `code 10042: Please enable R2 …`, from the API's error list, or the HTTP status. */
export function errorsOf(a: Answer): string {
    const errors = (a.body as Envelope | undefined)?.errors ?? [];
    const first = errors.find((e) => e.code !== undefined || e.message);
    return first ? `code ${first.code ?? "?"}: ${first.message ?? ""}`.trim() : `HTTP ${a.status}`;
}

const succeeded = (a: Answer) => a.status === 200 && (a.body as Envelope | undefined)?.success === true;

export async function cloudflareChecks(o: CloudflareCheckOptions, out: CheckResult[]): Promise<void> {
    const base = apiBase("cloudflare", o.env);
    const get = (p: string) => getJson(`${base}${p}`, { authorization: `Bearer ${o.token}`, "user-agent": "cluster-bootstrap-preflight" }, o.timeoutMs);
    const account = `/accounts/${encodeURIComponent(o.accountId)}`;
    const call = async (title: string, p: string): Promise<Answer | undefined> => {
        try {
            return await get(p);
        } catch (e) {
            if (!(e instanceof NoAnswer)) throw e;
            out.push(fail(title, `the Cloudflare API: ${e.message}`));
            return undefined;
        }
    };

    // A user's token verifies at /user/tokens/verify, an account-owned one at /accounts/{id}/tokens/verify.
    const user = await call("Cloudflare token", "/user/tokens/verify");
    if (!user) return;
    let verified = succeeded(user) ? { answer: user, owner: "user token" } : undefined;
    if (!verified) {
        const owned = await call("Cloudflare token", `${account}/tokens/verify`);
        if (!owned) return;
        if (succeeded(owned)) verified = { answer: owned, owner: "account-owned token" };
    }
    if (!verified) {
        out.push(fail("Cloudflare token", `not valid (${errorsOf(user)}), from ${o.tokenFrom}`, "create an API token (docs/configuration.md: Tokens) and set it again"));
        return;
    }
    const status = ((verified.answer.body as Envelope).result as { status?: unknown } | undefined)?.status;
    if (status !== "active") {
        out.push(fail("Cloudflare token", `${typeof status === "string" ? status : "not active"} (${verified.owner}), from ${o.tokenFrom}`, "create a new API token (docs/configuration.md: Tokens)"));
        return;
    }
    out.push(ok("Cloudflare token", `active (${verified.owner}), from ${o.tokenFrom}`));

    if (o.domain !== undefined) {
        const title = `Cloudflare zone ${o.domain}`;
        const zones = await call(title, `/zones?${new URLSearchParams({ name: o.domain, "account.id": o.accountId })}`);
        if (zones) {
            const list = succeeded(zones) && Array.isArray((zones.body as Envelope).result) ? (zones.body as Envelope).result as Array<{ name?: string; status?: string }> : undefined;
            const zone = list?.find((z) => z.name === o.domain);
            if (!list) out.push(fail(title, `could not be listed (${errorsOf(zones)})`, "give the token Zone: Read on the zone"));
            else if (!zone) out.push(fail(title, `not in account ${o.accountId}, or the token may not read it`, "add the zone to the account, give the token Zone: Read on it, or fix cluster-bootstrap:cluster.domain"));
            else if (zone.status !== "active") out.push(warn(title, `status ${zone.status ?? "unknown"}: Cloudflare serves its records only once the zone is active`, "point the domain's nameservers at Cloudflare"));
            else out.push(ok(title, "active, in the account"));
        }
    }

    const r2 = await call("Cloudflare R2", `${account}/r2/buckets?per_page=1`);
    if (r2) {
        const codes = ((r2.body as Envelope | undefined)?.errors ?? []).map((e) => e.code);
        if (succeeded(r2)) out.push(ok("Cloudflare R2", "enabled on the account"));
        else if (codes.includes(R2_NOT_ENABLED)) out.push(fail("Cloudflare R2", `not enabled on the account (${errorsOf(r2)})`, "enable R2 once in the dashboard (R2 Object Storage); it asks for a payment method"));
        else out.push(fail("Cloudflare R2", `the token may not list buckets (${errorsOf(r2)})`, "give the token Workers R2 Storage: Edit on the account"));
    }

    const tunnels = await call("Cloudflare Tunnel", `${account}/cfd_tunnel?per_page=1`);
    if (tunnels) {
        if (succeeded(tunnels)) out.push(ok("Cloudflare Tunnel", "the token may list tunnels (the run needs Cloudflare Tunnel: Edit; write access is not tried)"));
        else out.push(fail("Cloudflare Tunnel", `the token may not list tunnels (${errorsOf(tunnels)})`, "give the token Cloudflare Tunnel: Edit on the account"));
    }

    // The same query as the program's lookup, judged by the program's own rule: exactly one group of that name.
    const found: string[] = [];
    const problems: string[] = [];
    for (const { name, scope } of PERMISSION_GROUP_LOOKUPS) {
        const a = await call("Cloudflare permission groups", `${account}/tokens/permission_groups?${new URLSearchParams({ name, ...(scope ? { scope } : {}) })}`);
        if (!a) return;
        if (!succeeded(a)) {
            out.push(fail("Cloudflare permission groups", `the token may not list them (${errorsOf(a)})`, "give the token Account API Tokens: Edit on the account"));
            return;
        }
        // The REST answer's `is_selectable` is the provider's `isSelectable`, which the program's rule reads.
        const results = (a.body as Envelope).result;
        const groups = (Array.isArray(results) ? results as Array<{ id: string; name: string; is_selectable?: unknown }> : [])
            .map((g) => ({ id: g.id, name: g.name, ...(typeof g.is_selectable === "boolean" ? { isSelectable: g.is_selectable } : {}) }));
        try {
            permissionGroupId(groups, name);
            found.push(JSON.stringify(name));
        } catch (e) {
            problems.push((e as Error).message);
        }
    }
    if (problems.length) out.push(fail("Cloudflare permission groups", `${problems.join("; ")}: the program's lookup would fail the same way`));
    else out.push(ok("Cloudflare permission groups", `found: ${found.join(", ")}`));
}
