// The stack's one GitHub provider. Explicit, with the owner taken from `gitops.repository`: the default provider
// falls back to GITHUB_OWNER or the token's own user, so an organisation's deploy key and webhook would 404
// halfway through `pulumi up`.
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";

export interface GitHubProviderArgs {
    /** Owner part of `gitops.repository`: the user or organisation the deploy key and webhook belong to. */
    owner: string;
    /** Secret token; undefined leaves the provider to its own GITHUB_TOKEN lookup. */
    token?: pulumi.Output<string>;
}

/** Provider settings, built without side effects so tests can check every choice. */
export function githubProviderArgs(args: GitHubProviderArgs): github.ProviderArgs {
    return {
        owner: args.owner,
        // Wrapped again: a token handed over in plain text must still reach the state only as a secret.
        ...(args.token ? { token: pulumi.secret(args.token) } : {}),
    };
}

/** The stack's GitHub provider, named `${name}`. */
export function githubProvider(name: string, args: GitHubProviderArgs, opts?: pulumi.CustomResourceOptions): github.Provider {
    return new github.Provider(name, githubProviderArgs(args), opts);
}
