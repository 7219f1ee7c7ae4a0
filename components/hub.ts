// A spoke's link to its hub: the apps cluster sends metrics and logs to VictoriaMetrics and VictoriaLogs on the infra
// cluster, through the infra tunnel and past Access with a service token the infra stack issues. The hub's stack is
// read with a StackReference; what the spoke's repository needs lands in cluster-vars and cluster-secrets.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config";
import { HUB_HOSTNAMES_OUTPUT, hubLinkProblems, hubUrlVariable, SERVICE_TOKENS_OUTPUT, type HubConfig } from "../config/hub";
import type { ServiceTokenCredentials } from "./access";
import type { ContractPart } from "./contract";

/** `HUB_<NAME>_URL` per hub hostname, in config order. */
export function hubUrls(hostnames: string[]): Record<string, string> {
    return Object.fromEntries(hostnames.map((h) => [hubUrlVariable(h), `https://${h}`]));
}

/** What the link hands to Flux: the hub's URLs as variables, the service token's halves as secrets. */
export function hubContractPart(hub: {
    hostnames: string[];
    /** Must be a secret Output. */
    clientId: pulumi.Input<string>;
    /** Must be a secret Output. */
    clientSecret: pulumi.Input<string>;
}): ContractPart {
    return {
        vars: hubUrls(hub.hostnames),
        secrets: { HUB_ACCESS_CLIENT_ID: hub.clientId, HUB_ACCESS_CLIENT_SECRET: hub.clientSecret },
    };
}

export interface HubLinkArgs {
    /** `cluster-bootstrap:hub`, validated: the hub's stack, the hostnames this cluster sends to, the token it uses. */
    hub: HubConfig;
}

/** The hub's stack, read, and this cluster's view of it: URLs and the service token's credentials. */
export class HubLink extends pulumi.ComponentResource {
    /** The hub's stack; its outputs are read during preview too. */
    public readonly reference: pulumi.StackReference;
    /** `HUB_<NAME>_URL` → `https://<hostname>`. */
    public readonly urls: Record<string, string>;
    /** The service token's client id; secret. */
    public readonly clientId: pulumi.Output<string>;
    /** The service token's client secret; secret. */
    public readonly clientSecret: pulumi.Output<string>;
    /** `HUB_<NAME>_URL` for cluster-vars; `HUB_ACCESS_CLIENT_ID`, `HUB_ACCESS_CLIENT_SECRET` for cluster-secrets. */
    public readonly contract: ContractPart;

    constructor(name: string, args: HubLinkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:hub:HubLink", name, {}, opts);
        const { hub } = args;
        this.reference = new pulumi.StackReference(`${name}-stack`, { name: hub.stack }, { parent: this });
        const token = this.reference.getOutput(SERVICE_TOKENS_OUTPUT)
            .apply((tokens) => (tokens as Record<string, ServiceTokenCredentials> | undefined)?.[hub.serviceToken]);
        // Secret whatever the hub's stack says: a hub that exported them in plain text must not make them plain here.
        this.clientId = pulumi.secret(token.apply((t) => t?.clientId ?? ""));
        this.clientSecret = pulumi.secret(token.apply((t) => t?.clientSecret ?? ""));
        this.urls = hubUrls(hub.hostnames);
        this.contract = hubContractPart({ hostnames: hub.hostnames, clientId: this.clientId, clientSecret: this.clientSecret });
        this.registerOutputs({ urls: this.urls, clientId: this.clientId, clientSecret: this.clientSecret });
    }
}

/**
 * Reads the hub's stack and checks it against `hub` before anything else is registered: the hub must issue this
 * cluster's token and open every hostname it sends to. Throws {@link ConfigError} naming the key otherwise.
 */
export async function connectHub(name: string, args: HubLinkArgs, opts?: pulumi.ComponentResourceOptions): Promise<HubLink> {
    const link = new HubLink(name, args, opts);
    const [hostnames, tokens] = await Promise.all([
        link.reference.getOutputDetails(HUB_HOSTNAMES_OUTPUT),
        link.reference.getOutputDetails(SERVICE_TOKENS_OUTPUT),
    ]);
    const tokenValues = (tokens.secretValue ?? tokens.value) as Record<string, unknown> | undefined;
    const problems = hubLinkProblems(args.hub, {
        hubHostnames: hostnames.secretValue ?? hostnames.value,
        hubHostnamesSecret: hostnames.secretValue !== undefined,
        tokenNames: tokenValues && typeof tokenValues === "object" ? Object.keys(tokenValues) : undefined,
    });
    if (problems.length > 0) throw new ConfigError(problems);
    return link;
}
