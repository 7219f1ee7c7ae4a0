// Control characters in URLs, hostnames and paths: the WHATWG URL silently drops a tab or a line break, cloudflared's
// Go url.Parse refuses every C0 control character and DEL (net/url `parse`: `stringContainsCTLByte`), so the first
// tunnel config push would fail. Each is refused before any other rule, one message per key naming the key and the
// character, never the value. Also: the 255-byte cap on a repository path's segments.
import { describe, expect, it } from "vitest";
import { validValues } from "../test/harness";
import { controlCharacter, validateConfig } from ".";

const IDP = "2b9b0c4e-5a1f-4e0e-9d53-3c2f1b7a8e61";

/** A valid config that sets every key holding a URL, hostname or path. */
function base(): Record<string, any> {
    return {
        ...validValues(),
        tunnel: {
            originHost: "external.monosense.dev",
            gateway: "https://envoy-external.networking.svc.cluster.local",
            routes: [{
                hostname: "vm.monosense.dev",
                service: "https://vminsert.monitoring.svc.cluster.local:8480",
                path: "^/insert/",
                originServerName: "vminsert.monitoring.svc",
            }],
        },
        access: {
            teamName: "monosense",
            allow: { emails: ["ops@monosense.dev"], emailDomains: ["monosense.dev"], githubOrganization: { name: "monosense", identityProviderId: IDP } },
            hostnames: ["vm.monosense.dev", "external.monosense.dev"],
            serviceTokens: [{ name: "apps-to-hub", hostnames: ["external.monosense.dev"] }],
        },
        hub: { stack: "monosense/cluster-bootstrap/infra", hostnames: ["metrics.monosense.dev"] },
        platform: {
            releases: [{ path: "kubernetes/apps/kube-system/cilium/app", namespace: "kube-system", apply: ["networking.yaml"] }],
            crds: [{ path: "kubernetes/apps/network/envoy-gateway/app", namespace: "network" }],
        },
    };
}

/** Every key whose value is a URL, a hostname or a path, with the way to set it. */
const KEYS: Array<{ key: string; put: (v: Record<string, any>, f: (s: string) => string) => void }> = [
    { key: "cluster.domain", put: (v, f) => (v.cluster.domain = f(v.cluster.domain)) },
    { key: "tunnel.originHost", put: (v, f) => (v.tunnel.originHost = f(v.tunnel.originHost)) },
    { key: "tunnel.gateway", put: (v, f) => (v.tunnel.gateway = f(v.tunnel.gateway)) },
    { key: "tunnel.routes[0].hostname", put: (v, f) => (v.tunnel.routes[0].hostname = f(v.tunnel.routes[0].hostname)) },
    { key: "tunnel.routes[0].service", put: (v, f) => (v.tunnel.routes[0].service = f(v.tunnel.routes[0].service)) },
    { key: "tunnel.routes[0].path", put: (v, f) => (v.tunnel.routes[0].path = f(v.tunnel.routes[0].path)) },
    { key: "tunnel.routes[0].originServerName", put: (v, f) => (v.tunnel.routes[0].originServerName = f(v.tunnel.routes[0].originServerName)) },
    { key: "access.teamName", put: (v, f) => (v.access.teamName = f(v.access.teamName)) },
    { key: "access.hostnames[0]", put: (v, f) => (v.access.hostnames[0] = f(v.access.hostnames[0])) },
    { key: "access.allow.emails[0]", put: (v, f) => (v.access.allow.emails[0] = f(v.access.allow.emails[0])) },
    { key: "access.allow.emailDomains[0]", put: (v, f) => (v.access.allow.emailDomains[0] = f(v.access.allow.emailDomains[0])) },
    { key: "access.serviceTokens[0].hostnames[0]", put: (v, f) => (v.access.serviceTokens[0].hostnames[0] = f(v.access.serviceTokens[0].hostnames[0])) },
    { key: "hub.stack", put: (v, f) => (v.hub.stack = f(v.hub.stack)) },
    { key: "hub.hostnames[0]", put: (v, f) => (v.hub.hostnames[0] = f(v.hub.hostnames[0])) },
    { key: "gitops.repository", put: (v, f) => (v.gitops.repository = f(v.gitops.repository)) },
    { key: "gitops.path", put: (v, f) => (v.gitops.path = f(v.gitops.path)) },
    { key: "platform.releases[0].path", put: (v, f) => (v.platform.releases[0].path = f(v.platform.releases[0].path)) },
    { key: "platform.releases[0].apply[0]", put: (v, f) => (v.platform.releases[0].apply[0] = f(v.platform.releases[0].apply[0])) },
    { key: "platform.crds[0].path", put: (v, f) => (v.platform.crds[0].path = f(v.platform.crds[0].path)) },
];

async function problems(edit: (v: Record<string, any>) => void): Promise<string[]> {
    const values = base();
    edit(values);
    return (await validateConfig({ values })).problems;
}

describe("control characters in URLs, hostnames and paths", () => {
    it("the base config is valid", async () => {
        expect(await problems(() => undefined)).toEqual([]);
    });

    it("names each character escaped", () => {
        expect(controlCharacter("a\nb")).toBe("\\n (a line break)");
        expect(controlCharacter("a\tb")).toBe("\\t (a tab)");
        expect(controlCharacter("a\rb")).toBe("\\r (a carriage return)");
        expect(controlCharacter("a\u0000b")).toBe("\\u0000");
        expect(controlCharacter("a\u001bb")).toBe("\\u001b");
        expect(controlCharacter("a\u007fb")).toBe("\\u007f");
        expect(controlCharacter("a b\u0080é")).toBeUndefined();
    });

    for (const [char, shown] of [["\n", "\\n (a line break)"], ["\t", "\\t (a tab)"], ["\u0000", "\\u0000"]]) {
        it(`${JSON.stringify(char)} in each key: one message, naming the key and the character, never the value`, async () => {
            for (const k of KEYS) {
                // In the middle of the value: where `new URL` would silently drop a tab or a line break.
                const found = await problems((v) => k.put(v, (s) => `${s.slice(0, 5)}${char}${s.slice(5)}`));
                expect(found, k.key).toEqual([
                    `cluster-bootstrap:${k.key}: contains the control character ${shown}: a URL, hostname or path must be one line `
                        + "of printable characters; the value is not shown",
                ]);
            }
        });
    }

    it("the issue's own example: a service with a line break before .svc", async () => {
        expect(await problems((v) => (v.tunnel.routes[0].service = "http://vminsert.monitoring\n.svc.cluster.local:8480"))).toEqual([
            "cluster-bootstrap:tunnel.routes[0].service: contains the control character \\n (a line break): a URL, hostname or path "
                + "must be one line of printable characters; the value is not shown",
        ]);
    });
});

describe("repository path segments", () => {
    const segment = (n: number) => "a".repeat(n);

    it("a segment of up to 255 bytes is accepted, a longer one refused with the key and the rule", async () => {
        expect(await problems((v) => (v.gitops.path = `clusters/${segment(255)}/flux`))).toEqual([]);
        expect(await problems((v) => (v.platform.releases[0].path = `apps/${segment(255)}`))).toEqual([]);
        const rule = "has a path segment longer than 255 bytes, the most a file or folder name may have";
        expect(await problems((v) => (v.gitops.path = `clusters/${segment(256)}/flux`))).toEqual([
            `cluster-bootstrap:gitops.path: (a value that is not shown: it spans several lines, is very long or looks like a credential) ${rule}`,
        ]);
        expect(await problems((v) => (v.gitops.path = `clusters/${segment(100_000)}`))).toEqual([
            `cluster-bootstrap:gitops.path: (a value that is not shown: it spans several lines, is very long or looks like a credential) ${rule}`,
        ]);
        expect(await problems((v) => (v.platform.releases[0].path = `apps/${segment(300)}/x`))).toEqual([
            `cluster-bootstrap:platform.releases[0].path: (a value that is not shown: it spans several lines, is very long or looks like a credential) ${rule}`,
        ]);
        expect(await problems((v) => (v.platform.releases[0].apply[0] = `../${segment(255)}.yaml`))).toEqual([
            `cluster-bootstrap:platform.releases[0].apply[0]: (a value that is not shown: it spans several lines, is very long or looks like a credential) ${rule}`,
        ]);
    });

    it("bytes, not characters: 128 two-byte letters are 256 bytes", async () => {
        expect(await problems((v) => (v.gitops.path = `clusters/${"é".repeat(127)}`))).toEqual([
            `cluster-bootstrap:gitops.path: "clusters/${"é".repeat(127)}" may hold only letters, digits and . _ - / @ +`,
        ]);
        expect(await problems((v) => (v.gitops.path = `clusters/${"é".repeat(128)}`))).toEqual([
            `cluster-bootstrap:gitops.path: "clusters/${"é".repeat(128)}" has a path segment longer than 255 bytes, the most a file or folder name may have`,
        ]);
    });

    it("a path of more than 4096 bytes is refused", async () => {
        const long = Array.from({ length: 20 }, () => segment(250)).join("/");
        expect(await problems((v) => (v.gitops.path = long))).toEqual([
            "cluster-bootstrap:gitops.path: (a value that is not shown: it spans several lines, is very long or looks like a credential) "
                + "is longer than 4096 bytes, the most a path may have",
        ]);
    });
});
