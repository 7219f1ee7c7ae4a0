// The infra stack configured as a hub, shared by the Access, hub and policy tests.
import type { Values } from "./harness";

/** The id of a GitHub login method, made up for tests. */
export const IDP = "2b9b0c4e-5a1f-4e0e-9d53-3c2f1b7a8e61";

/** The infra stack as a hub: Grafana behind Access (under the zone wildcard), VictoriaMetrics on its own route. */
export function withAccess(v: Values, access: Record<string, unknown> = {}): Values {
    return {
        ...v,
        tunnel: { ...(v.tunnel as object), routes: [{ hostname: "vm.monosense.dev", service: "http://vminsert.monitoring.svc.cluster.local:8480" }] },
        access: {
            teamName: "monosense",
            allow: { emails: ["ops@monosense.dev"], emailDomains: ["monosense.dev"], githubOrganization: { name: "monosense", identityProviderId: IDP } },
            hostnames: ["grafana.monosense.dev", "vm.monosense.dev"],
            serviceTokens: [{ name: "apps-to-hub", hostnames: ["vm.monosense.dev"] }],
            ...access,
        },
    };
}

