// What every Cloudflare account token this program mints has in common: its permission groups are found by their
// exact names, and its policy's `resources` JSON is written in one canonical form. Shared by the backup token
// (./r2, ./backups) and the DNS token (./dns-token).
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";

/**
 * A token policy's `resources` JSON, keys sorted. The provider stores the API's text verbatim: an order the API
 * does not keep would show as a change on every run, and sorted keys are the canonical order of Go's JSON encoder.
 */
export function policyResourcesJson(keys: readonly string[]): string {
    return JSON.stringify(Object.fromEntries([...new Set(keys)].sort().map((k) => [k, "*"])));
}

/**
 * The id of the group called exactly `name` among a lookup's results. The API's name filter is not
 * documented as exact, so the match is checked here; a missing group is an error, never an empty policy.
 */
export function permissionGroupId(results: ReadonlyArray<{ id: string; name: string }>, name: string): string {
    const found = results.filter((g) => g.name === name);
    if (found.length !== 1) {
        const seen = results.length === 0 ? "none" : results.map((g) => JSON.stringify(g.name)).join(", ");
        throw new Error(`Cloudflare permission group ${JSON.stringify(name)}: expected exactly one, found ${found.length} (groups returned: ${seen})`);
    }
    return found[0].id;
}

/**
 * Looks each group up by its plain name (the provider puts it in the query and cloudflare-go URL-encodes the query
 * itself, so an encoded name would reach the API as `Workers%2520R2…` and match nothing), optionally within a scope,
 * and fails on `parent` when a name does not match exactly one group.
 */
export function lookupPermissionGroups(
    accountId: string, names: readonly string[], parent: pulumi.Resource, scope?: string,
): pulumi.Output<{ id: string }>[] {
    return names.map((name) =>
        cloudflare.getAccountApiTokenPermissionGroupsListOutput({ accountId, name, ...(scope ? { scope } : {}) }, { parent })
            .apply((list) => {
                try {
                    return { id: permissionGroupId(list.results, name) };
                } catch (e) {
                    throw new pulumi.ResourceError((e as Error).message, parent);
                }
            }));
}
