// Cloudflare through its provider: the permission-group lookups of the tokens the program mints.
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { permissionGroupId } from "./cloudflare-permissions";

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
                    throw new pulumi.ResourceError((e as Error).message, parent, true);
                }
            }));
}
