import { describe, expect, it } from "vitest";
import { quoted } from "./checks";
import {
    CATCH_ALL, checkTunnelRoutes, FLUX_WEBHOOK_SERVICE, fluxWebhookHostname, ingressRules, pathProblem,
    tunnelDnsNames, type RoutingInput, type TunnelRoute,
} from "./routing";

const GATEWAY = "https://envoy-external.networking.svc.cluster.local";
const base = (routes: TunnelRoute[] = [], extra: Partial<RoutingInput> = {}) => ({
    domain: "example.com",
    originHost: "external.example.com",
    gateway: GATEWAY,
    routes,
    ...extra,
});
const TLS = { originServerName: "external.example.com", http2Origin: true };

describe("ingressRules", () => {
    it("orders origin host, webhook, configured routes, zone wildcard, then the bare catch-all", () => {
        const rules = ingressRules(base([
            { hostname: "git.example.com", service: "http://gitea.dev.svc.cluster.local:3000" },
            { hostname: "api.example.com", path: "^/v1/", service: "https://api.dev.svc.cluster.local", originServerName: "api.internal" },
        ]));
        expect(rules).toEqual([
            { hostname: "external.example.com", service: GATEWAY, originRequest: TLS },
            { hostname: "flux-webhook.example.com", service: FLUX_WEBHOOK_SERVICE },
            { hostname: "git.example.com", service: "http://gitea.dev.svc.cluster.local:3000" },
            { hostname: "api.example.com", path: "^/v1/", service: "https://api.dev.svc.cluster.local", originRequest: { originServerName: "api.internal" } },
            { hostname: "*.example.com", service: GATEWAY, originRequest: TLS },
            { service: "http_status:404" },
        ]);
    });

    it("ends with exactly one catch-all, bare: no hostname, no path", () => {
        const rules = ingressRules(base([{ hostname: "a.example.com", service: "http://a.b.svc" }]));
        expect(rules.at(-1)).toEqual(CATCH_ALL);
        expect(Object.keys(rules.at(-1)!)).toEqual(["service"]);
        expect(rules.slice(0, -1).every((r) => r.hostname !== undefined && r.hostname !== "*")).toBe(true);
    });

    it("routes the infra and apps gateways with the origin host as TLS server name", () => {
        for (const [domain, gateway] of [
            ["monosense.dev", "https://envoy-external.networking.svc.cluster.local"],
            ["monosense.io", "https://envoy-gateway-external.networking.svc.cluster.local"],
        ]) {
            const rules = ingressRules({ domain, originHost: `external.${domain}`, gateway, routes: [] });
            const tls = { originServerName: `external.${domain}`, http2Origin: true };
            expect(rules.find((r) => r.hostname === `external.${domain}`)).toEqual({ hostname: `external.${domain}`, service: gateway, originRequest: tls });
            expect(rules.find((r) => r.hostname === `*.${domain}`)).toEqual({ hostname: `*.${domain}`, service: gateway, originRequest: tls });
        }
    });

    it("sends no TLS settings to a plain-http gateway", () => {
        const rules = ingressRules(base([], { gateway: "http://envoy.networking.svc.cluster.local" }));
        expect(rules[0]).toEqual({ hostname: "external.example.com", service: "http://envoy.networking.svc.cluster.local" });
    });

    it("routes the Flux webhook host to the notification-controller's receiver", () => {
        expect(fluxWebhookHostname("example.com")).toBe("flux-webhook.example.com");
        expect(FLUX_WEBHOOK_SERVICE).toBe("http://webhook-receiver.flux-system.svc.cluster.local");
    });

    it("throws with every problem when the routes are invalid", () => {
        expect(() => ingressRules(base([{ hostname: "x.other.org", service: "ftp://x" }]))).toThrow(
            'invalid tunnel routes:\n  cluster-bootstrap:tunnel.routes[0].hostname: "x.other.org" is outside the zone example.com\n'
            + '  cluster-bootstrap:tunnel.routes[0].service: "ftp://x" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
        );
    });
});

describe("checkTunnelRoutes refusals, each with its key", () => {
    const check = (routes: TunnelRoute[], extra: Partial<RoutingInput> = {}) => checkTunnelRoutes(base(routes, extra));

    it("accepts the default routes and ordinary extra routes", () => {
        expect(check([])).toEqual([]);
        expect(check([
            { hostname: "example.com", service: "https://envoy-external.networking.svc.cluster.local" },
            { hostname: "a.b.example.com", service: "tcp://ssh.dev.svc:22" },
            { hostname: "*.dev.example.com", service: "http://dev.dev.svc" },
            { hostname: "*.example.com", path: "^/status$", service: "http_status:204" },
            { hostname: "git.example.com", path: "(?i)^/api/", service: "http://gitea.dev.svc:3000" },
        ])).toEqual([]);
    });

    it("refuses hostnames outside the zone, including a look-alike suffix", () => {
        expect(check([{ hostname: "app.notexample.com", service: "http://a.b.svc" }])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].hostname: "app.notexample.com" is outside the zone example.com',
        ]);
        expect(check([], { originHost: "external.other.org" })).toEqual([
            'cluster-bootstrap:tunnel.originHost: "external.other.org" is outside the zone example.com',
        ]);
    });

    it("refuses a wildcard anywhere but the whole leftmost label", () => {
        expect(check([
            { hostname: "app.*.example.com", service: "http://a.b.svc" },
            { hostname: "a*.example.com", service: "http://a.b.svc" },
        ])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].hostname: "app.*.example.com": a wildcard must be the whole leftmost label (*.example.com)',
            'cluster-bootstrap:tunnel.routes[1].hostname: "a*.example.com": a wildcard must be the whole leftmost label (*.example.com)',
        ]);
        expect(check([], { originHost: "*.example.com" })).toEqual([
            "cluster-bootstrap:tunnel.originHost: must be a single hostname, not a wildcard",
        ]);
    });

    it("refuses a catch-all anywhere: the program adds the only one, last", () => {
        const msg = "is required and may not match every hostname; the program adds the only catch-all (http_status:404) as the last rule";
        expect(check([
            { service: "http://a.b.svc" },
            { hostname: "*", service: "http_status:404" },
            { hostname: "", service: "http_status:404" },
        ])).toEqual([0, 1, 2].map((i) => `cluster-bootstrap:tunnel.routes[${i}].hostname: ${msg}`));
    });

    it("refuses a hostname with a port", () => {
        expect(check([{ hostname: "a.example.com:8443", service: "http://a.b.svc" }])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].hostname: "a.example.com:8443": a hostname cannot carry a port',
        ]);
    });

    it("refuses services cloudflared refuses, including a path on the origin", () => {
        expect(check([
            { hostname: "a.example.com", service: "http://a.b.svc/api" },
            { hostname: "b.example.com", service: "http://b.b.svc/" },
            { hostname: "c.example.com", service: "b.b.svc:80" },
            { hostname: "d.example.com", service: "http_status:99" },
        ])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].service: "http://a.b.svc/api": cloudflared refuses a path on the origin service (the request\'s own path is sent); use scheme://host[:port]',
            'cluster-bootstrap:tunnel.routes[1].service: "http://b.b.svc/": cloudflared refuses a path on the origin service (the request\'s own path is sent); use scheme://host[:port]',
            'cluster-bootstrap:tunnel.routes[2].service: "b.b.svc:80" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
            'cluster-bootstrap:tunnel.routes[3].service: "http_status:99" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
        ]);
    });

    it("refuses path patterns RE2 would refuse, each with its key", () => {
        expect(check([
            { hostname: "a.example.com", path: "^/(api", service: "http://a.b.svc" },
            { hostname: "b.example.com", path: "^/(?!admin)", service: "http://a.b.svc" },
            { hostname: "c.example.com", path: "", service: "http://a.b.svc" },
            { hostname: "d.example.com", path: "^/caf\\u00e9", service: "http://a.b.svc" },
        ])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].path: "^/(api" is not a valid regular expression for cloudflared (Go RE2): missing closing )',
            'cluster-bootstrap:tunnel.routes[1].path: "^/(?!admin)" lookahead and lookbehind are not supported by cloudflared\'s (RE2) regular expressions',
            'cluster-bootstrap:tunnel.routes[2].path: "" must not be empty (leave it out to match every path)',
            'cluster-bootstrap:tunnel.routes[3].path: "^/caf\\\\u00e9" is not a valid regular expression for cloudflared (Go RE2): invalid escape sequence: `\\u`',
        ]);
    });

    it("refuses URL services without a host, with a bad port, or carrying credentials (never echoed)", () => {
        expect(check([
            { hostname: "a.example.com", service: "http://:80" },
            { hostname: "b.example.com", service: "http://x:abc" },
            { hostname: "c.example.com", service: "http://x.svc:99999" },
            { hostname: "d.example.com", service: "tcp://x.svc:0" },
            { hostname: "e.example.com", service: "http://user:hunter2@x.svc" },
            { hostname: "f.example.com", service: "http://a b.svc" },
            { hostname: "g.example.com", service: "http://x.svc?q=1" },
        ])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].service: "http://:80" names no host; use scheme://host[:port]',
            'cluster-bootstrap:tunnel.routes[1].service: "http://x:abc": the port must be a number from 1 to 65535',
            'cluster-bootstrap:tunnel.routes[2].service: "http://x.svc:99999": the port must be a number from 1 to 65535',
            'cluster-bootstrap:tunnel.routes[3].service: "tcp://x.svc:0": the port must be a number from 1 to 65535',
            "cluster-bootstrap:tunnel.routes[4].service: must not carry a user name or password (the tunnel config is not secret); the value is not shown",
            'cluster-bootstrap:tunnel.routes[5].service: "http://a b.svc" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
            'cluster-bootstrap:tunnel.routes[6].service: "http://x.svc?q=1": cloudflared refuses a path on the origin service (the request\'s own path is sent); use scheme://host[:port]',
        ]);
        expect(check([
            { hostname: "a.example.com", service: "http://x.svc:65535" },
            { hostname: "b.example.com", service: "tcp://10.0.0.1:22" },
            { hostname: "c.example.com", service: "https://[fd00::1]:8443" },
        ])).toEqual([]);
    });

    it("accepts cloudflared's built-in test origin under both its spellings, and nothing close", () => {
        // ingress/ingress.go: r.Service == HelloWorldFlag || r.Service == HelloWorldService ("hello-world", "hello_world").
        expect(check([
            { hostname: "a.example.com", service: "hello_world" },
            { hostname: "b.example.com", service: "hello-world" },
        ])).toEqual([]);
        expect(check([
            { hostname: "a.example.com", service: "helloworld" },
            { hostname: "b.example.com", service: "hello world" },
            { hostname: "c.example.com", service: "Hello-World" },
        ])).toEqual(["helloworld", "hello world", "Hello-World"].map((s, i) =>
            `cluster-bootstrap:tunnel.routes[${i}].service: ${JSON.stringify(s)} is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)`));
    });

    it("refuses an invalid originServerName", () => {
        expect(check([{ hostname: "a.example.com", service: "https://a.b.svc", originServerName: "not a name" }])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].originServerName: "not a name" is not a valid hostname',
        ]);
    });
});

// cloudflared compiles `path` with Go's regexp.Compile (ingress/ingress.go validateIngress): Perl flags, RE2 syntax.
describe("pathProblem judges a path as Go's regexp.Compile does", () => {
    const LOOKAROUND = "lookahead and lookbehind are not supported by cloudflared's (RE2) regular expressions";
    const BACKREFERENCE = "backreferences are not supported by cloudflared's (RE2) regular expressions";
    const REPEAT = "repeats more than 1000 times (nested repeat counts multiply), which RE2 refuses";
    const invalid = (reason: string) => `is not a valid regular expression for cloudflared (Go RE2): ${reason}`;
    const unicodeClass = (name: string) => `uses the Unicode class \\p{${name}}, which not every cloudflared release accepts; `
        + "use a general category by its short name (\\pL, \\p{Lu}), a one-word script (\\p{Greek}) or \\p{Any}";

    // golang/go src/regexp/syntax/parse_test.go: parseTests (valid under its test flags, which share Perl's PerlX and
    // UnicodeGroups) and onlyPerl (valid with Perl flags). Go 1.19.8's regexp.Compile accepted every one of these here,
    // except (?<name>a), which Go takes since 1.22.
    it.each([
        "a", "a.b", "a|^", "(a)|b", "a*", "a+?", "a{2}", "a{2,3}?", "a{2,}", "a{,2}", "x{1001", "x{9876543210", "x{2,1",
        "", "|", "|x|", "{", "}", "a*{", "\\|", "\\*", "\\.\\^\\$\\\\", "\\-", "-", "\\_",
        "[ace]", "[a-z]", "[^a]", "[α-ε☺]", "[a-b-c]", "[^\\\\]", "[[:lower:]]", "[^[:lower:]]", "[[:^lower:]]", "(?i)[[:lower:]]",
        "\\d", "\\D", "\\s", "\\S", "\\w", "\\W", "(?i)\\W", "[\\s\\S]a",
        "\\p{Braille}", "\\P{Braille}", "\\p{^Braille}", "\\P{^Braille}", "\\pZ", "[\\pZ]", "[\\P{^Braille}]", "\\p{Lu}",
        "(?i)[\\p{Lu}]", "\\p{Any}", "\\p{^Any}",
        "[\\012-\\234]\\141", "[\\x{41}-\\x7a]\\x61",
        "(?:ab)*", "a(b|c)d", "(?:a+|b+)|(?:c+|d+)", "(?:[abc]|A|Z|hello|world)",
        "\\Q+|*?{[\\E", "\\Q+\\E+", "\\Qab\\E+", "\\Q\\\\E", "\\Q\\\\\\E", "\\Qabc\\E", "\\Q*+?{[\\E",
        "(?m)^", "(?-m)$", "(?m)\\A", "(?-m)\\z", "(?s).", "(?-s).", "(?P<name>a)", "(?<name>a)", "(?:a)",
        "((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}))", "(?:[a-z]{4}){0,250}",
    ])("accepts Go's valid %j", (p) => {
        expect(pathProblem(p)).toBeUndefined();
    });

    // parse_test.go invalidRegexps (all but its invalid UTF-8 cases, which a JavaScript string cannot hold) and onlyPOSIX
    // (stacked repeats, refused with Perl flags). Go 1.19.8 refused every one of these here.
    it.each([
        ["(", invalid("missing closing )")],
        [")", invalid("unexpected )")],
        ["(a|b|", invalid("missing closing )")],
        ["a|b)", invalid("unexpected )")],
        ["[a-z", invalid("missing closing ]")],
        ["([a-z)", invalid("missing closing ]: `[a-z)`")],
        ["x{1001}", REPEAT],
        ["x{9876543210}", REPEAT],
        ["x{2,1}", "has a repeat count whose minimum is larger than its maximum"],
        ["x{1,9876543210}", REPEAT],
        ["(?P<name>a", invalid("missing closing )")],
        ["(?P<name", invalid("invalid named capture")],
        ["(?P<x y>a)", invalid("invalid named capture: `(?P<x y>`")],
        ["(?P<>a)", invalid("invalid named capture: `(?P<>`")],
        ["(?<name", invalid("invalid named capture")],
        ["(?<x y>a)", invalid("invalid named capture: `(?<x y>`")],
        ["[a-Z]", invalid("invalid character class range: `a-Z`")],
        ["(?i)[a-Z]", invalid("invalid character class range: `a-Z`")],
        ["\\Q\\E*", invalid("missing argument to repetition operator: `*`")],
        ["a{100000}", REPEAT],
        ["a{100000,}", REPEAT],
        ["((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})", REPEAT],
        ["(?:[a-z]{4}){0,251}", REPEAT],
        ["a**", invalid("invalid nested repetition operator: `**`")],
        ["a++", invalid("invalid nested repetition operator: `++`")],
        ["a?*", invalid("invalid nested repetition operator: `?*`")],
        ["a{1}*", invalid("invalid nested repetition operator: `{1}*`")],
        [".{1}{2}.{3}", invalid("invalid nested repetition operator: `{1}{2}`")],
    ])("refuses Go's invalid %j", (p, why) => {
        expect(pathProblem(p)).toBe(why);
    });

    // The same file's nesting and size cases, too long to name a test after.
    it("keeps Go's limits on nesting depth and size", () => {
        expect(pathProblem("(".repeat(999) + ")".repeat(999))).toBeUndefined();
        expect(pathProblem("(?:".repeat(999) + ")*".repeat(999))).toBeUndefined();
        expect(pathProblem("(" + "|".repeat(12345) + ")")).toBeUndefined();
        expect(pathProblem("(".repeat(1000) + ")".repeat(1000))).toBe(invalid("expression nests too deeply"));
        expect(pathProblem("(?:".repeat(1000) + ")*".repeat(1000))).toBe(invalid("expression nests too deeply"));
        expect(pathProblem("(" + "(xx?)".repeat(1000) + "){1000}")).toBe(invalid("expression too large"));
        expect(pathProblem("(xx?){1000}".repeat(1000))).toBe(invalid("expression too large"));
        expect(pathProblem("\\pL".repeat(27000))).toBe(invalid("expression too large"));
        // re2js's size limit is RE2/J's, lower than Go's: Go 1.19.8 took a{1000} repeated 3000 times, re2js refuses it
        // from 1500. Stricter only, and far beyond any path rule.
        expect(pathProblem("a{1000}".repeat(1000))).toBeUndefined();
        expect(pathProblem("a{1000}".repeat(1500))).toBe(invalid("expression too large"));
    });

    // cloudflare/cloudflared ingress/ingress_test.go ("Invalid regex": `*/subpath2`; a catch-all's `/subpath1/(.*)/subpath2`)
    // and ingress/rule_test.go (`/static/.*\.html`, `/health`, `/echo`).
    it("judges cloudflared's own path cases as its tests do", () => {
        expect(pathProblem("*/subpath2")).toBe(invalid("missing argument to repetition operator: `*`"));
        for (const ok of ["/subpath1/(.*)/subpath2", "/static/.*\\.html", "/health", "/echo"]) expect(pathProblem(ok), ok).toBeUndefined();
    });

    it("refuses what JavaScript's RegExp takes but Go refuses", () => {
        expect(pathProblem("^/caf\\u00e9")).toBe(invalid("invalid escape sequence: `\\u`"));
        expect(pathProblem("^/\\cJ")).toBe(invalid("invalid escape sequence: `\\c`"));
        expect(pathProblem("^/[\\b]")).toBe(invalid("invalid escape sequence: `\\b`"));
        expect(pathProblem("^/\\p{Script=Greek}")).toBe(unicodeClass("Script=Greek"));
        expect(pathProblem("^/(a{100}){100}")).toBe(REPEAT);
        expect(pathProblem("^/\\Z")).toBe(invalid("invalid escape sequence: `\\Z`"));
        expect(pathProblem("^/(?=a)")).toBe(LOOKAROUND);
        expect(pathProblem("^/(?<=a)b")).toBe(LOOKAROUND);
        expect(pathProblem("^/(?<!a)b")).toBe(LOOKAROUND);
        expect(pathProblem("(a)\\1")).toBe(BACKREFERENCE);
        expect(pathProblem("(?<n>a)\\k<n>")).toBe(BACKREFERENCE);
        expect(pathProblem("^/x{2,1001}")).toBe(REPEAT);
        expect(pathProblem("^/[[:alfa:]]")).toBe(invalid("invalid character class range: `[:alfa:]`"));
    });

    it("accepts RE2 syntax that JavaScript's RegExp refuses or reads otherwise", () => {
        for (const ok of [
            "^/a\\-b", "^/\\x{41}", "^/\\101", "^/users/{id}", "{id}", "(?i)^/API/(?P<v>v[0-9]+)", "(?U)^/a+",
            "\\A/api\\z", "^/\\pL+$", "^/\\p{Greek}", "^/[[:alpha:]]+/[[:^digit:]]", "\\Q/a.b(c\\E$", "^/x{1000}", "^/x{2,1000}",
        ]) expect(pathProblem(ok), ok).toBeUndefined();
        // Quoted text is literal: a brace count, a lookahead or a \p inside \Q…\E is not syntax.
        expect(pathProblem("\\Q(?!x){5000}\\p{White_Space}\\E")).toBeUndefined();
        expect(pathProblem("^/\\\\p{Letter}")).toBeUndefined();
    });

    // re2js (Unicode 17 tables, RE2/J's names) accepts \p names Go refuses, and Go 1.25 added names Go 1.24 refuses: a path
    // passes only with a name every Go from 1.22 to 1.26 resolves. Go 1.24 refuses \p{Letter}, \p{greek}, \p{ASCII}, \p{Cn}
    // and \p{LC} (so did Go 1.19.8 here); no Go knows White_Space or Unicode 16's Garay as a class, nor re2js's Unknown
    // script; since 1.25 Go folds Old_Italic and SignWriting before the lookup, and the golang/go regexp/syntax/parse.go
    // read for this maps no folded script name back.
    it.each(["White_Space", "Garay", "Unknown", "Ascii", "Assigned", "Cn", "LC", "Letter", "greek", "ASCII", "Old_Italic", "SignWriting"])(
        "refuses \\p{%s}, which some cloudflared release refuses",
        (name) => {
            expect(pathProblem(`^/\\p{${name}}`)).toBe(unicodeClass(name));
            expect(pathProblem(`^/[a\\P{^${name}}]`)).toBe(unicodeClass(name));
        },
    );

    it("refuses duplicate group names, which re2js refuses though Go takes them", () => {
        // Go's parser does not compare capture names; RE2/J's does. Stricter only: nothing cloudflared refuses passes.
        expect(pathProblem("(?P<a>x)(?P<a>y)")).toBe(invalid("duplicate capture group name: `a`"));
    });

    it("never echoes a pattern that holds an age secret key, nor a part of it", () => {
        const key = "AGE-SECRET-KEY-1QQQ";
        for (const p of [`^/${key}\\u`, `^/${key}(?P<x y>`, `^/${key}\\p{Letter}`]) {
            const problems = checkTunnelRoutes(base([{ hostname: "a.example.com", path: p, service: "http://a.b.svc" }]));
            expect(problems).toHaveLength(1);
            expect(problems[0]).toMatch(/^cluster-bootstrap:tunnel\.routes\[0\]\.path: \(a secret value, not shown\) /);
            expect(problems[0]).not.toContain("AGE-SECRET");
            expect(problems[0]).not.toContain("`");
        }
        expect(pathProblem(`^/${key}\\u`)).toBe(invalid("invalid escape sequence"));
        expect(pathProblem(`^/${key}\\p{Letter}`)).toBe("uses a Unicode class, which not every cloudflared release accepts; "
            + "use a general category by its short name (\\pL, \\p{Lu}), a one-word script (\\p{Greek}) or \\p{Any}");
    });
});

describe("checkTunnelRoutes shadowing (first match wins)", () => {
    const check = (routes: TunnelRoute[], extra: Partial<RoutingInput> = {}) => checkTunnelRoutes(base(routes, extra));

    it("refuses a user wildcard listed before a more specific user route", () => {
        expect(check([
            { hostname: "*.apps.example.com", service: "http://a.b.svc" },
            { hostname: "grafana.apps.example.com", service: "http://g.b.svc" },
            { hostname: "*.x.apps.example.com", service: "http://g.b.svc" },
        ])).toEqual([
            'cluster-bootstrap:tunnel.routes[1].hostname: "grafana.apps.example.com" is shadowed by cluster-bootstrap:tunnel.routes[0].hostname ("*.apps.example.com"), which comes first and takes every request it would match; list the more specific route first',
            'cluster-bootstrap:tunnel.routes[2].hostname: "*.x.apps.example.com" is shadowed by cluster-bootstrap:tunnel.routes[0].hostname ("*.apps.example.com"), which comes first and takes every request it would match; list the more specific route first',
        ]);
        // The specific route first is the working order.
        expect(check([
            { hostname: "grafana.apps.example.com", service: "http://g.b.svc" },
            { hostname: "*.apps.example.com", service: "http://a.b.svc" },
        ])).toEqual([]);
    });

    it("does not treat a wildcard as covering its own apex", () => {
        expect(check([
            { hostname: "*.apps.example.com", service: "http://a.b.svc" },
            { hostname: "apps.example.com", service: "http://g.b.svc" },
        ])).toEqual([]);
    });

    it("refuses a route duplicating the origin host, also with a path", () => {
        expect(check([
            { hostname: "external.example.com", service: "http://a.b.svc" },
            { hostname: "external.example.com", path: "^/api", service: "http://a.b.svc" },
        ])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].hostname: "external.example.com" duplicates the origin host route (cluster-bootstrap:tunnel.originHost); remove one',
            'cluster-bootstrap:tunnel.routes[1].hostname: "external.example.com" (path "^/api") is shadowed by the origin host route (cluster-bootstrap:tunnel.originHost), which comes first and takes every request it would match',
        ]);
    });

    it("refuses a route duplicating the webhook host, and an origin host that is the webhook host", () => {
        expect(check([{ hostname: "flux-webhook.example.com", service: "http://a.b.svc" }])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].hostname: "flux-webhook.example.com" duplicates the Flux webhook route the program adds (flux-webhook.example.com); remove one',
        ]);
        expect(check([], { originHost: "flux-webhook.example.com" })).toEqual([
            'cluster-bootstrap:tunnel.originHost: "flux-webhook.example.com" duplicates the Flux webhook route the program adds (flux-webhook.example.com); remove one',
        ]);
    });

    it("refuses a user *.<domain> duplicating the zone wildcard, naming the user's key", () => {
        expect(check([{ hostname: "*.example.com", service: "http://a.b.svc" }])).toEqual([
            'cluster-bootstrap:tunnel.routes[0].hostname: "*.example.com" duplicates the zone wildcard route the program adds (*.example.com to the gateway); remove one',
        ]);
    });

    it("refuses two identical user routes, allows the same host on distinct paths", () => {
        expect(check([
            { hostname: "a.example.com", path: "^/v1/", service: "http://a.b.svc" },
            { hostname: "a.example.com", path: "^/v1/", service: "http://c.b.svc" },
        ])).toEqual([
            'cluster-bootstrap:tunnel.routes[1].hostname: "a.example.com" (path "^/v1/") duplicates cluster-bootstrap:tunnel.routes[0].hostname ("a.example.com"); remove one',
        ]);
        expect(check([
            { hostname: "a.example.com", path: "^/v1/", service: "http://a.b.svc" },
            { hostname: "a.example.com", service: "http://c.b.svc" },
        ])).toEqual([]);
    });
});

describe("checkTunnelRoutes on values the schema has not vetted", () => {
    it("skips entries that are not mappings and fields that are not strings, keeping indexes", () => {
        expect(checkTunnelRoutes({
            domain: "example.com",
            originHost: "external.example.com",
            routes: [null, 5, { hostname: null, service: 5, path: 5, originServerName: 5 }, { hostname: "a.example.com" }, { hostname: "x.other.org", service: "ftp://x" }],
        })).toEqual([
            'cluster-bootstrap:tunnel.routes[4].hostname: "x.other.org" is outside the zone example.com',
            'cluster-bootstrap:tunnel.routes[4].service: "ftp://x" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
        ]);
    });

    it("without a valid zone, runs every check that does not need it", () => {
        expect(checkTunnelRoutes({
            routes: [
                { hostname: "app.anywhere.org", service: "http://a.b.svc" },
                { hostname: "a*.x.org", service: "ftp://x", path: "", originServerName: "not a name" },
                { hostname: "app.anywhere.org", service: "http://c.b.svc" },
            ],
        })).toEqual([
            'cluster-bootstrap:tunnel.routes[1].hostname: "a*.x.org": a wildcard must be the whole leftmost label (*.example.com)',
            'cluster-bootstrap:tunnel.routes[1].service: "ftp://x" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
            'cluster-bootstrap:tunnel.routes[1].path: "" must not be empty (leave it out to match every path)',
            'cluster-bootstrap:tunnel.routes[1].originServerName: "not a name" is not a valid hostname',
            'cluster-bootstrap:tunnel.routes[2].hostname: "app.anywhere.org" duplicates cluster-bootstrap:tunnel.routes[0].hostname ("app.anywhere.org"); remove one',
        ]);
    });

    it("checks service and path of a route that has no hostname", () => {
        expect(checkTunnelRoutes(base([{ service: "ftp://x" }]))).toEqual([
            "cluster-bootstrap:tunnel.routes[0].hostname: is required and may not match every hostname; the program adds the only catch-all (http_status:404) as the last rule",
            'cluster-bootstrap:tunnel.routes[0].service: "ftp://x" is not a cloudflared service (http://host[:port], https://, tcp://, ssh://, http_status:NNN …)',
        ]);
    });
});

describe("quoted", () => {
    it("quotes a value, but never one holding an age secret key", () => {
        expect(quoted("a.b")).toBe('"a.b"');
        expect(quoted("x AGE-SECRET-KEY-1ABC")).toBe("(a secret value, not shown)");
        expect(quoted("age-secret-key-1abc")).toBe("(a secret value, not shown)");
    });

    it("keeps a secret pasted into a route out of the error ingressRules throws", () => {
        const key = "AGE-SECRET-KEY-1QQQ";
        expect(() => ingressRules(base([{ hostname: "a.example.com", service: key }]))).toThrow("(a secret value, not shown)");
        expect(() => ingressRules(base([{ hostname: "a.example.com", service: key }]))).not.toThrow(key);
    });
});

describe("tunnelDnsNames", () => {
    it("lists every explicit hostname once, no wildcard, no catch-all", () => {
        const rules = ingressRules(base([
            { hostname: "a.example.com", path: "^/v1/", service: "http://a.b.svc" },
            { hostname: "a.example.com", service: "http://c.b.svc" },
            { hostname: "*.dev.example.com", service: "http://d.b.svc" },
        ]));
        expect(tunnelDnsNames(rules)).toEqual(["external.example.com", "flux-webhook.example.com", "a.example.com"]);
    });
});
