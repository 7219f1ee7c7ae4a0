// What every Cloudflare account token this program mints has in common: its permission groups are found by their
// exact names, and its policy's `resources` JSON is written in one canonical form. Shared by the backup token
// (components/backups.ts) and the DNS token (components/dns-token.ts), and by the preflight, which checks the same
// groups: so this module imports no provider SDK.

/**
 * A token policy's `resources` JSON, keys sorted. The provider stores the API's text verbatim: an order the API
 * does not keep would show as a change on every run, and sorted keys are the canonical order of Go's JSON encoder.
 */
export function policyResourcesJson(keys: readonly string[]): string {
    return JSON.stringify(Object.fromEntries([...new Set(keys)].sort().map((k) => [k, "*"])));
}

/**
 * The id of the group called exactly `name` among a lookup's results. The API's name filter is not
 * documented as exact, so the match is checked here; a missing group is an error, never an empty policy. A group the
 * calling token may not put in a token it creates (`isSelectable: false`, "whether the caller can select this
 * permission group when creating a token", in the provider's result type and Cloudflare's list answer) is refused
 * too: the token's creation would fail, after the buckets and the tunnel already exist.
 */
export function permissionGroupId(results: ReadonlyArray<{ id: string; name: string; isSelectable?: boolean }>, name: string): string {
    const found = results.filter((g) => g.name === name);
    if (found.length !== 1) {
        const seen = results.length === 0 ? "none" : results.map((g) => JSON.stringify(g.name)).join(", ");
        throw new Error(`Cloudflare permission group ${JSON.stringify(name)}: expected exactly one, found ${found.length} (groups returned: ${seen})`);
    }
    if (found[0].isSelectable === false) {
        throw new Error(`Cloudflare permission group ${JSON.stringify(name)}: cloudflare:apiToken cannot grant it (the account's list says isSelectable: false), `
            + "so creating the token that needs it would fail; give cloudflare:apiToken this permission itself (docs/configuration.md: Tokens and their minimal permissions)");
    }
    return found[0].id;
}

/**
 * Permission groups of the backup token: object read and write on the buckets the token names. The
 * account-wide "Workers R2 Storage Write/Read" groups are deliberately absent: they could delete buckets.
 */
export const R2_OBJECT_PERMISSION_GROUPS = [
    "Workers R2 Storage Bucket Item Write",
    "Workers R2 Storage Bucket Item Read",
] as const;

/**
 * The DNS token's permission groups, by the names the account's list gives them: the dashboard's *Zone: Read* (external-dns
 * and cert-manager look the zone up) and *DNS: Edit* (they write records).
 */
export const DNS_PERMISSION_GROUPS = ["Zone Read", "DNS Write"] as const;

/** The scope both groups belong to; the lookup is filtered by it, so an account-level group of the same name never matches. */
export const ZONE_PERMISSION_SCOPE = "com.cloudflare.api.account.zone";
