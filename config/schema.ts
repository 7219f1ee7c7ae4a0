// The schema of the project namespace (zod): every key, its shape and its rule, with a message that names what is
// wrong without echoing a value that could be a secret. The types of the parsed values derive from it.
import * as semver from "semver";
import { z } from "zod";
import { accessSchema } from "./access";
import {
    branchProblem, carriesCredentials, controlCharacter, controlCharacterProblem, isCloudflareAccountId, CREDENTIALS_PROBLEM, DURATION, durationSeconds,
    dnsNameMessage, holdsAgeSecretKey, isCidr, isDnsLabel, isDnsName, isGitHubRepository, isKubernetesName, isR2BucketName, lowercaseHint, mustNotEcho, nonAsciiHint, quoted,
    relativePathProblem, repoPathProblem, repositorySuggestion,
} from "./checks";
import { FLUX_MANAGED_BY, GIT_TRANSPORTS } from "./flux";
import { hubSchema } from "./hub";
import { rotationSchema } from "./rotation";
import { lineRule, obj, rule, str } from "./schema-parts";

/** The Flux Operator chart version this program is tested with; `flux.operatorChartVersion` overrides it. */
export const DEFAULT_OPERATOR_CHART_VERSION = "0.60.0";

export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
export const AGE_IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

const dnsName = lineRule(isDnsName, (v) => `${dnsNameMessage(v)}${lowercaseHint(v, isDnsName)}`);
const duration = rule((v) => DURATION.test(v), (v) => `${quoted(v)} is not a duration such as 30s, 5m or 1h`);
/** A duration within bounds: Flux and the awaits take any Go duration, but 3.6e+24 seconds is a typo, not a wish. */
const boundedDuration = (min: number, max: number, text: string) => duration.refine(
    // A value that is no duration at all has its own message already.
    (v) => !DURATION.test(v) || (durationSeconds(v) >= min && durationSeconds(v) <= max),
    { error: (i) => `${quoted(i.input)} must be ${text}` },
);
const bool = () => z.boolean({ error: "must be true or false" });
/** A folder of the GitOps repository; a control character is named without the value (see lineRule). */
const repoPath = () => str().superRefine((v, ctx) => {
    const p = controlCharacterProblem(v) ?? repoPathProblem(v);
    if (p) ctx.addIssue({ code: "custom", message: controlCharacter(v) ? p : `${quoted(v)} ${p}` });
});

const clusterSchema = obj({
    name: rule(isDnsLabel, (v) => `${quoted(v)} is not a DNS label (lowercase letters, digits, hyphens, 63 at most)`),
    id: z.number({ error: (i) => (i.input === undefined ? "is required" : "must be an integer from 1 to 255") })
        .int({ error: "must be an integer from 1 to 255" })
        .min(1, { error: "must be an integer from 1 to 255" })
        .max(255, { error: "must be an integer from 1 to 255" }),
    domain: dnsName,
    cidr: rule(isCidr, (v) => `${quoted(v)} is not a network in CIDR notation such as 10.42.0.0/16`).optional(),
});

const gitopsSchema = obj({
    repository: lineRule(isGitHubRepository, (v) => {
        // A pasted clone URL is one mistake: say what to write, once (owner and name are then not checked apart).
        const meant = mustNotEcho(v) ? undefined : repositorySuggestion(v);
        return `${quoted(v)} is not a GitHub repository in the form owner/name${meant ? `: write ${quoted(meant)}` : ""}`;
    }),
    branch: str().superRefine((v, ctx) => {
        const p = branchProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: `${quoted(v)} is not a valid branch name: ${p}` });
    }),
    path: repoPath(),
    name: rule(isKubernetesName, (v) => `${quoted(v)} is not a valid Kubernetes object name`).optional(),
    interval: boundedDuration(10, 86400, "from 10s to 24h").default("1m"),
    wait: bool().default(true),
    timeout: boundedDuration(1, 86400, "from 1s to 24h").default("10m"),
    // `https`: a public repository read anonymously, no deploy key (rules across keys in config/flux.ts).
    transport: z.enum(GIT_TRANSPORTS, { error: `must be one of ${GIT_TRANSPORTS.join(", ")}` }).default("ssh"),
});

const fluxSchema = obj({
    managedBy: z.enum(FLUX_MANAGED_BY, { error: `must be one of ${FLUX_MANAGED_BY.join(", ")}` }).default("program"),
    // Required with `managedBy: program`, refused with `repository` (config/flux.ts).
    version: rule(
        // One token: semver would also read a multi-line paste or `2.7.x 9` as a range.
        (v) => /^\d[\w.*+-]*$/.test(v) && semver.validRange(v) !== null,
        (v) => `${quoted(v)} is not a Flux version or semver range such as 2.7.x`,
    ).optional(),
    imageAutomation: bool().default(false),
    operatorChartVersion: rule(
        (v) => semver.valid(v) !== null,
        (v) => `${quoted(v)} is not an exact chart version such as ${DEFAULT_OPERATOR_CHART_VERSION}`,
    ).default(DEFAULT_OPERATOR_CHART_VERSION),
});

const routeSchema = obj({
    hostname: str().optional(),
    service: str(),
    path: str().optional(),
    originServerName: str().optional(),
});

const tunnelSchema = obj({
    originHost: dnsName.optional(),
    gateway: lineRule(isServiceUrl, (v) => (carriesCredentials(v)
        ? CREDENTIALS_PROBLEM
        : `${quoted(v)} is not a service URL such as https://envoy-external.networking.svc.cluster.local${mustNotEcho(v) ? "" : nonAsciiHint(v)}`)),
    routes: z.array(routeSchema, { error: "must be a list of routes" }).default([]),
});

export const R2_LOCATIONS = ["apac", "eeur", "enam", "weur", "wnam", "oc"] as const;
export const R2_JURISDICTIONS = ["default", "eu", "fedramp"] as const;

const bucketSchema = obj({
    name: rule(isR2BucketName, (v) => `${quoted(v)} is not a valid R2 bucket name (3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit)`),
    purpose: rule(
        (v) => /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/.test(v),
        (v) => `${quoted(v)} must be lowercase letters and digits, words joined by - or _ (it becomes R2_BUCKET_<PURPOSE>)`,
    ),
    expireDays: z.number({ error: "must be a whole number of days from 1 to 36500" })
        .int({ error: "must be a whole number of days from 1 to 36500" })
        .min(1, { error: "must be a whole number of days from 1 to 36500" })
        .max(36500, { error: "must be a whole number of days from 1 to 36500" })
        .optional(),
});

const r2Schema = obj({
    location: z.enum(R2_LOCATIONS, { error: `must be one of ${R2_LOCATIONS.join(", ")}` }).optional(),
    jurisdiction: z.enum(R2_JURISDICTIONS, { error: `must be one of ${R2_JURISDICTIONS.join(", ")}` }).default("default"),
    buckets: z.array(bucketSchema, { error: "must be a list of buckets" }).min(1, { error: "must name at least one bucket" }),
});

const sopsSchema = obj({
    recipient: rule((v) => AGE_RECIPIENT.test(v), (v) => (holdsAgeSecretKey(v)
        ? "is an age secret key, not a recipient; the value is not shown"
        : `${quoted(v)} is not an age recipient (age1…)`)),
});

/** A path relative to an app directory; whether it stays in the repository is checked with its entry (config/platform.ts). */
const relativePath = () => str().superRefine((v, ctx) => {
    const p = controlCharacterProblem(v) ?? relativePathProblem(v);
    if (p) ctx.addIssue({ code: "custom", message: controlCharacter(v) ? p : `${quoted(v)} ${p}` });
});
const namespaceName = () => rule(isDnsLabel, (v) => `${quoted(v)} is not a Kubernetes namespace name (a DNS label)`);

const platformSchema = obj({
    releases: z.array(obj({
        path: repoPath(),
        namespace: namespaceName(),
        // Applied once the release is ready (home-ops' helmfile hooks): files, or directories with a kustomization.
        apply: z.array(relativePath(), { error: "must be a list of paths relative to the app directory" }).optional(),
    }), { error: (i) => (i.input === undefined ? "is required" : "must be a list of releases") }),
    // Charts whose CustomResourceDefinitions are applied before the first release (home-ops' helmfile crds.yaml).
    crds: z.array(obj({
        path: repoPath(),
        namespace: namespaceName(),
    }), { error: "must be a list of app directories" }).optional(),
});

/** Every key of the project namespace; secrets are read with getSecret and arrive here as plain strings. Exported for the docs check. */
export const schema = obj({
    cluster: clusterSchema,
    // Its shape is checked in validateConfig, where a message can say what is wrong without showing the value.
    kubeconfig: str().min(1, { error: "must not be empty" }).optional(),
    kubeContext: rule(
        (v) => /^[\x21-\x7e]{1,253}$/.test(v),
        (v) => `${quoted(v)} is not a context name (one word of printable characters, as kubectl config get-contexts shows it)`,
    ).optional(),
    renameFrom: rule(isDnsLabel, (v) => `${quoted(v)} is not a cluster name (a DNS label)`).optional(),
    gitops: gitopsSchema,
    flux: fluxSchema,
    tunnel: tunnelSchema,
    r2: r2Schema,
    sops: sopsSchema,
    // The value is never echoed: only its shape is described.
    sopsAgeKey: str(),
    cloudflareAccountId: rule(isCloudflareAccountId, (v) => `${quoted(v)} is not a Cloudflare account id (32 lowercase hex digits)`),
    platform: platformSchema.optional(),
    rotation: rotationSchema,
    access: accessSchema.optional(),
    hub: hubSchema.optional(),
    // Secret as a whole: checked by checkBootstrapSecrets, whose messages never show any of it.
    bootstrapSecrets: z.unknown().optional(),
    // One run: what already exists in the account is imported instead of created (providers/adoption.ts).
    adopt: bool().default(false),
});

/** `http(s)://host[:port]` with a dotted Kubernetes name for host, nothing more. */
export function isServiceUrl(v: string): boolean {
    // The raw text is checked too: URL lets `http:host`, userinfo, an empty port and port 0 through, and adds a `/`; it
    // drops tabs and line breaks, which cloudflared's url.Parse refuses.
    if (controlCharacter(v)) return false;
    const m = /^https?:\/\/([^/?#@:]+)(:[1-9][0-9]*)?$/.exec(v);
    // The host as written, too: URL turns a look-alike (`svс`), a full-width dot or `%2E` into a valid name, which
    // cloudflared's Go url.Parse does not (it keeps the bytes, or refuses %2E) nor its resolver find.
    if (!m || !isKubernetesName(m[1].toLowerCase())) return false;
    let u: URL;
    try {
        u = new URL(v);
    } catch {
        return false; // e.g. a port above 65535
    }
    return isKubernetesName(u.hostname) && u.hostname.includes(".");
}

/** The parsed values, defaults filled: what {@link schema} hands over. */
export type SchemaValues = z.output<typeof schema>;
export type ClusterConfig = SchemaValues["cluster"];
export type R2Config = SchemaValues["r2"];
export type BucketConfig = R2Config["buckets"][number];
