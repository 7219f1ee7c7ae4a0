// What already exists in the Cloudflare account, one line per object the program manages: adopted (with
// `cluster-bootstrap:adopt`), created, or already in this stack's state; with `adopt` off, a warning for each that
// exists but is not in the state (the run would try to create it again). The same decision as the program's
// (providers/adoption.ts), from Cloudflare's API read-only; what the state holds comes from the stack's own outputs.
// Also the lifecycle rules an adopted bucket has, which the program's rules replace (the resource has no import).
import type { PlainConfig } from "../config";
import { parseJson } from "../config/checks";
import {
    emptyCloudState, itemLine, planAdoption, wantedCloudflare, type AdoptionItem, type CloudState, type Recorded,
} from "../providers/adoption";
import { listR2Buckets, LookupError } from "../providers/existing";
import { lifecycleRules, type LifecycleRule } from "../providers/r2";
import { apiBase, getJson, NoAnswer, type Answer } from "./http";
import { fail, ok, skip, warn, type CheckResult } from "./result";

export interface AdoptionCheckOptions {
    token: string;
    config: PlainConfig;
    stack: string;
    /** This stack's last `cloudflareImportIds` output (`pulumi stack output`), or why it could not be read. */
    recorded: () => Promise<Recorded | { problem: string } | { predates: true }>;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
}

const TITLE = "Cloudflare: what exists";
const HOWTO = "docs/operations.md: Bringing an existing setup under the program";

interface Envelope {
    success?: boolean;
    errors?: Array<{ code?: number; message?: string }>;
    result?: unknown;
    result_info?: { page?: number; total_pages?: number };
}

class ApiError extends Error {}

/** What the state holds cannot be told: the stack's last run was by a program that did not record it. */
export const PREDATES = "its last run did not record cloudflareImportIds (a version of the program before adopt): `pulumi up` records them";

/** `cloudflareImportIds` from `pulumi stack output --json` (every output; a stack never deployed has none). */
export function recordedFromOutputs(json: string): Recorded | { problem: string } | { predates: true } {
    const outputs = parseJson(json);
    if (outputs === undefined) return { problem: "`pulumi stack output --json` did not print JSON" };
    const all = (outputs ?? {}) as Record<string, unknown>;
    const ids = all.cloudflareImportIds;
    // Every run writes `cluster`: a stack with outputs but no record holds objects this cannot see.
    if (ids === undefined) return all.cluster === undefined ? {} : { predates: true };
    if (typeof ids !== "object" || ids === null || Array.isArray(ids)) return { problem: "its output cloudflareImportIds is not a mapping" };
    return Object.fromEntries(Object.entries(ids).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** One R2 lifecycle rule in a line: `expire-after-30-days (delete objects after 30 d)`. */
export function ruleSummary(rule: Partial<LifecycleRule> & { storageClassTransitions?: unknown[] }): string {
    const days = (s: unknown) => (typeof s === "number" ? `${Math.round(s / 86400)} d` : "?");
    const what = [
        rule.abortMultipartUploadsTransition && `abort multipart uploads after ${days(rule.abortMultipartUploadsTransition.condition?.maxAge)}`,
        rule.deleteObjectsTransition && `delete objects after ${days(rule.deleteObjectsTransition.condition?.maxAge)}`,
        Array.isArray(rule.storageClassTransitions) && rule.storageClassTransitions.length > 0 && "change storage class",
        rule.conditions?.prefix && `prefix ${JSON.stringify(rule.conditions.prefix)}`,
        rule.enabled === false && "disabled",
    ].filter(Boolean);
    return `${rule.id ?? "(no id)"} (${what.join(", ") || "no action"})`;
}

export async function adoptionChecks(o: AdoptionCheckOptions, out: CheckResult[]): Promise<void> {
    const base = apiBase("cloudflare", o.env);
    const headers = { authorization: `Bearer ${o.token}`, "user-agent": "cluster-bootstrap-preflight" };
    const get = async (p: string, extra: Record<string, string> = {}): Promise<unknown> => {
        let a: Answer;
        try {
            a = await getJson(`${base}${p}`, { ...headers, ...extra }, o.timeoutMs);
        } catch (e) {
            if (e instanceof NoAnswer) throw new ApiError(`the Cloudflare API: ${e.message}`);
            throw e;
        }
        const body = a.body as Envelope | undefined;
        if (a.status !== 200 || body?.success !== true) {
            const first = body?.errors?.[0];
            throw new ApiError(`${p.split("?")[0]}: ${first ? `code ${first.code ?? "?"}: ${first.message ?? ""}`.trim() : `HTTP ${a.status}`}`);
        }
        return body.result;
    };
    /** Every page of a list (`page`, `result_info.total_pages`). */
    const all = async (p: string): Promise<Array<Record<string, unknown>>> => {
        const items: Array<Record<string, unknown>> = [];
        for (let page = 1; page <= 50; page++) {
            const a = await getJson(`${base}${p}${p.includes("?") ? "&" : "?"}page=${page}`, headers, o.timeoutMs).catch((e: unknown) => {
                throw e instanceof NoAnswer ? new ApiError(`the Cloudflare API: ${e.message}`) : e;
            });
            const body = a.body as Envelope | undefined;
            if (a.status !== 200 || body?.success !== true || !Array.isArray(body.result)) throw new ApiError(`${p.split("?")[0]}: HTTP ${a.status}`);
            items.push(...(body.result as Array<Record<string, unknown>>));
            if ((body.result_info?.total_pages ?? 1) <= page) break;
        }
        return items;
    };

    const cfg = o.config;
    const acct = `/accounts/${encodeURIComponent(cfg.cloudflareAccountId)}`;
    const wanted = wantedCloudflare(cfg);
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    let found: CloudState;
    let zoneId: string | undefined;
    let recorded: Recorded;
    try {
        const zones = await get(`/zones?${new URLSearchParams({ name: cfg.cluster.domain, "account.id": cfg.cloudflareAccountId })}`);
        zoneId = str((Array.isArray(zones) ? zones as Array<Record<string, unknown>> : []).find((z) => z.name === cfg.cluster.domain)?.id);
        const own = await o.recorded();
        if ("problem" in own) {
            out.push(fail(TITLE, `this stack's outputs could not be read (${own.problem}), so what its state holds is unknown`));
            return;
        }
        if ("predates" in own) {
            // The run with adopt refuses the same way: an import over what the state holds could replace it.
            out.push(cfg.adopt
                ? fail(TITLE, `this stack's state cannot be compared with the account: ${PREDATES}`, `run \`pulumi up --stack ${o.stack}\` once without adopt, then with it`)
                : skip(TITLE, `not checked: this stack's state cannot be compared with the account: ${PREDATES}`));
            return;
        }
        recorded = own;
        const [buckets, tunnels, records, apps, policies] = await Promise.all([
            listR2Buckets({ accountId: cfg.cloudflareAccountId, jurisdiction: cfg.r2.jurisdiction, token: o.token, base, timeoutMs: o.timeoutMs }),
            get(`${acct}/cfd_tunnel?${new URLSearchParams({ name: wanted.tunnel, is_deleted: "false" })}`),
            zoneId === undefined ? [] : Promise.all(wanted.dnsNames.map((host) =>
                get(`/zones/${encodeURIComponent(zoneId!)}/dns_records?${new URLSearchParams({ "name.exact": host })}`))),
            Promise.all(wanted.accessHostnames.map((host) => get(`${acct}/access/apps?${new URLSearchParams({ domain: host, exact: "true" })}`))),
            wanted.accessHostnames.length > 0 ? all(`${acct}/access/policies?per_page=100`) : [],
        ]);
        const named = (Array.isArray(tunnels) ? tunnels as Array<Record<string, unknown>> : [])
            .filter((t) => t.name === wanted.tunnel && !t.deleted_at)
            .map((t) => ({ id: String(t.id), name: String(t.name), configSrc: str(t.config_src) }));
        const configs = named.length === 1 ? [await get(`${acct}/cfd_tunnel/${encodeURIComponent(named[0].id)}/configurations`) as Record<string, unknown>] : [];
        const rows = (xs: unknown) => (Array.isArray(xs) ? xs as Array<Record<string, unknown>> : []);
        found = {
            ...emptyCloudState(),
            r2Buckets: buckets,
            tunnels: named,
            tunnelConfigs: configs.map((c) => ({ tunnelId: named[0].id, source: str(c?.source) })),
            dnsRecords: (records as unknown[]).flatMap(rows).map((r) => ({
                id: String(r.id), name: String(r.name), type: String(r.type), content: str(r.content), proxied: typeof r.proxied === "boolean" ? r.proxied : undefined,
            })),
            accessApplications: apps.flatMap(rows).map((a) => ({ id: String(a.id), name: str(a.name), domain: String(a.domain) })),
            accessPolicies: policies.map((p) => ({ id: String(p.id), name: String(p.name) })),
        };
    } catch (e) {
        if (!(e instanceof ApiError) && !(e instanceof LookupError)) throw e;
        out.push(fail(TITLE, `could not be looked up (${e.message})`, "give the token read access to R2, Tunnel, DNS and Access (docs/configuration.md: Tokens)"));
        return;
    }

    const plan = planAdoption(wanted, found, recorded, zoneId);
    const adopting = cfg.adopt;
    for (const p of plan.problems) {
        out.push(adopting ? fail(TITLE, p) : warn(TITLE, p.replace(/^cluster-bootstrap:adopt: /, ""), "resolve it before adopting, or the run's create fails on it"));
    }
    for (const item of plan.items) out.push(itemResult(item, adopting, o.stack));
    if (zoneId === undefined && wanted.dnsNames.length > 0) out.push(skip(`${TITLE}: DNS records`, `the zone ${cfg.cluster.domain} was not found (see the Cloudflare zone line)`));

    // The lifecycle of each bucket that would be adopted: written over, so say what it has now.
    for (const item of plan.items.filter((i) => i.kind === "R2 bucket" && i.action === "adopt")) {
        const title = `Cloudflare R2 bucket ${item.name} lifecycle`;
        const bucket = cfg.r2.buckets.find((b) => b.name === item.name)!;
        const mine = lifecycleRules(bucket).map(ruleSummary);
        try {
            const result = await get(`${acct}/r2/buckets/${encodeURIComponent(item.name)}/lifecycle`, { "cf-r2-jurisdiction": cfg.r2.jurisdiction });
            const rules = ((result as { rules?: unknown } | undefined)?.rules ?? []) as Array<Partial<LifecycleRule>>;
            const theirs = rules.map(ruleSummary);
            const same = theirs.length === mine.length && theirs.every((r, i) => r === mine[i]);
            const detail = `has ${theirs.length ? theirs.join("; ") : "no rules"}; ${adopting ? "is" : "would be"} written over with ${mine.join("; ")}`;
            out.push(same ? ok(title, detail) : warn(title, detail, "copy any rule you want to keep into cluster-bootstrap:r2.buckets[].expireDays, or keep it by hand after the run"));
        } catch (e) {
            if (!(e instanceof ApiError)) throw e;
            out.push(fail(title, `could not be read (${e.message})`));
        }
    }
}

/** The line of one object: adopted (or, with `adopt` off, a warning that it exists), created, or already held. */
function itemResult(item: AdoptionItem, adopting: boolean, stack: string): CheckResult {
    const title = `Cloudflare ${item.kind} ${item.name}`;
    const line = itemLine(item).slice(`${item.kind} ${item.name}: `.length);
    if (item.action !== "adopt") return ok(title, line);
    if (adopting) return ok(title, line);
    return warn(title, `exists (import ID ${item.importId}) but is not in this stack's state: \`pulumi up\` would create it again, and fail or duplicate it`,
        `adopt it for one run: pulumi config set adopt true --stack ${stack} (${HOWTO})`);
}
