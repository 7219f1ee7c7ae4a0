// GitHub after an apply: the repository's webhook that posts to this stack's Flux Receiver (found by its URL, the
// `fluxWebhookUrl` output) exists, is active, and its most recent delivery was answered with a 2xx. Read-only: a failed
// delivery is not redelivered here; the line names the command that does it. Only the DR script, which may write,
// pings the webhook (pingWebhook) once the tunnel and the Receiver are ready.
//
// Endpoints (docs.github.com REST, API version 2022-11-28; octokit's route list):
//   GET  /repos/{owner}/{repo}/hooks                                           → [{ id, active, config: { url } }]
//   GET  /repos/{owner}/{repo}/hooks/{hook_id}/deliveries                      → [{ id, delivered_at, status, status_code, event }]
//   POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts  (redeliver; named, never called)
//   POST /repos/{owner}/{repo}/hooks/{hook_id}/pings                               (ping; 204; the DR script only)
import { apiBase, fetchText, getJson, NoAnswer, type Answer, type TextAnswer } from "../preflight/http";
import { fail, ok, skip, type CheckResult } from "../preflight/result";
import { missingOutput, stringOutput, type VerifyFacts } from "./facts";
import { githubHeaders } from "../providers/github-files";

export interface Hook {
    id?: number;
    active?: boolean;
    config?: { url?: string };
}

export interface Delivery {
    id?: number;
    delivered_at?: string;
    status?: string;
    status_code?: number;
    event?: string;
    redelivery?: boolean;
}

/** The `gh` command that redelivers a delivery (GitHub's "Redeliver a delivery for a repository webhook"). */
export function redeliverCommand(repository: string, hookId: number, deliveryId: number): string {
    return `gh api -X POST repos/${repository}/hooks/${hookId}/deliveries/${deliveryId}/attempts`;
}

/** Newest first, by delivery time (then id): the API's own order is not relied on. */
export function newestFirst(deliveries: Delivery[]): Delivery[] {
    return [...deliveries].sort((a, b) => (Date.parse(b.delivered_at ?? "") || 0) - (Date.parse(a.delivered_at ?? "") || 0) || (b.id ?? 0) - (a.id ?? 0));
}

const succeeded = (d: Delivery) => typeof d.status_code === "number" && d.status_code >= 200 && d.status_code < 300;

/** The webhook's health from its deliveries: the most recent one must have been answered with a 2xx. */
export function deliveryLine(repository: string, hookId: number, deliveries: Delivery[]): CheckResult {
    const title = "GitHub webhook";
    const list = newestFirst(deliveries);
    const last = list[0];
    if (!last) {
        return fail(title, "GitHub has delivered nothing to it yet",
            `push a commit, or ping it: gh api -X POST repos/${repository}/hooks/${hookId}/pings`);
    }
    const what = `${last.event ?? "?"} at ${last.delivered_at ?? "?"}`;
    const answer = `${last.status_code ?? "no status"}${last.status ? ` (${last.status})` : ""}`;
    if (succeeded(last)) return ok(title, `the last delivery (${what}) was answered ${answer}`);
    const redeliver = last.id !== undefined ? redeliverCommand(repository, hookId, last.id) : undefined;
    if (list.length === 1 && last.event === "ping") {
        // GitHub pings a webhook once, when it is created: on a new cluster that is before Flux deployed cloudflared.
        return fail(title, `the only delivery is GitHub's first ping (at ${last.delivered_at ?? "?"}), sent before the tunnel had a connector: answered ${answer}`,
            redeliver ? `once the Tunnel line passes, redeliver it: ${redeliver}` : "once the Tunnel line passes, redeliver it from the repository's webhook settings");
    }
    return fail(title, `the last delivery (${what}) was answered ${answer}`,
        `see the Tunnel and Receiver lines; once they pass, redeliver it${redeliver ? `: ${redeliver}` : " from the repository's webhook settings"}`);
}

/** Where the stack's webhook is reached: the API, the repository's path, the headers with the token. */
interface WebhookApi {
    base: string;
    repoPath: string;
    headers: Record<string, string>;
    repository: string;
    /** Where the token came from, for messages. */
    tokenFrom: string;
}

/** The stack's webhook as verify finds it: its hook and where to reach it, or the line that says why not. */
async function findWebhook(facts: VerifyFacts): Promise<{ api: WebhookApi; hook: Hook & { id: number } } | CheckResult> {
    const token = facts.github;
    if (!token) return skip("GitHub webhook", "no token (github:token or GITHUB_TOKEN)");
    const url = stringOutput(facts, "fluxWebhookUrl");
    if (!url) return skip("GitHub webhook", missingOutput("fluxWebhookUrl"));
    const { owner, repositoryName, repository } = facts.config.gitops;
    const api: WebhookApi = {
        base: apiBase("github", facts.env),
        repoPath: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repositoryName)}`,
        headers: githubHeaders({ token: token.token, agent: "cluster-bootstrap-verify" }),
        repository,
        tokenFrom: token.from,
    };
    const hooks = await get(api, "/hooks?per_page=100", facts.timeoutMs);
    if (!("headers" in hooks)) return hooks;
    if (hooks.status !== 200 || !Array.isArray(hooks.body)) return refused(hooks, "the repository's webhooks", api.tokenFrom);
    // The URL's path derives from the webhook token: it is compared, never printed.
    const hook = (hooks.body as Hook[]).find((h) => h.config?.url === url);
    if (!hook || typeof hook.id !== "number") {
        return fail("GitHub webhook", `${repository} has no webhook posting to this stack's Receiver URL (the fluxWebhookUrl output)`,
            "run `pulumi up` (the webhook is the program's)");
    }
    return { api, hook: hook as Hook & { id: number } };
}

async function get(api: WebhookApi, p: string, timeoutMs: number): Promise<Answer | CheckResult> {
    try {
        return await getJson(`${api.base}${api.repoPath}${p}`, api.headers, timeoutMs);
    } catch (e) {
        if (!(e instanceof NoAnswer)) throw e;
        return fail("GitHub webhook", `the GitHub API: ${e.message}`);
    }
}

function refused(a: Answer, what: string, tokenFrom: string): CheckResult {
    const message = (a.body as { message?: unknown } | undefined)?.message;
    return fail("GitHub webhook", `listing ${what} answered HTTP ${a.status}${typeof message === "string" ? `: ${message}` : ""} (token from ${tokenFrom})`,
        "the token needs Webhooks: read on the repository (fine-grained) or admin:repo_hook (classic)");
}

/**
 * Whether a ping would mend what failed: the webhook's last delivery failed while the way to the Receiver (the
 * tunnel's connector, the webhook host's record, the Receiver itself) now passes. A ping then lands, where a push sent
 * while the cluster was down did not.
 */
export function pingWouldHelp(failing: readonly CheckResult[]): boolean {
    const titles = failing.map((r) => r.title);
    return titles.includes("GitHub webhook")
        && !titles.some((t) => t.startsWith("Tunnel ") || t.startsWith("Receiver ") || t.startsWith("DNS flux-webhook."));
}

/**
 * Pings the stack's webhook (GitHub answers 204 and delivers a `ping`, which the Receiver accepts): after a rebuild,
 * the last delivery may be a push sent while the tunnel had no connector. A write, so only the DR script calls it,
 * once the tunnel and the Receiver are ready. Returns the line to print.
 */
export async function pingWebhook(facts: VerifyFacts): Promise<string> {
    const found = await findWebhook(facts);
    if (!("api" in found)) return `The webhook was not pinged: ${found.detail ?? found.title}`;
    const { api, hook } = found;
    let a: TextAnswer;
    try {
        a = await fetchText(`${api.base}${api.repoPath}/hooks/${hook.id}/pings`, { method: "POST", headers: api.headers }, facts.timeoutMs);
    } catch (e) {
        if (!(e instanceof NoAnswer)) throw e;
        return `The webhook was not pinged: the GitHub API: ${e.message}`;
    }
    return a.status === 204
        ? `Pinged webhook ${hook.id} on ${api.repository}: the tunnel and the Receiver are ready, and its last delivery had failed`
        : `The webhook was not pinged: GitHub answered HTTP ${a.status} (the token needs Webhooks: read and write)`;
}

export async function githubVerify(facts: VerifyFacts, out: CheckResult[]): Promise<void> {
    const found = await findWebhook(facts);
    if (!("api" in found)) return void out.push(found);
    const { api, hook } = found;
    const { repository } = api;
    if (hook.active === false) {
        return void out.push(fail("GitHub webhook", `webhook ${hook.id} on ${repository} is inactive: GitHub sends it nothing`, "run `pulumi up`, which sets it active"));
    }
    const deliveries = await get(api, `/hooks/${hook.id}/deliveries?per_page=30`, facts.timeoutMs);
    if (!("headers" in deliveries)) return void out.push(deliveries);
    if (deliveries.status !== 200 || !Array.isArray(deliveries.body)) return void out.push(refused(deliveries, `webhook ${hook.id}'s deliveries`, api.tokenFrom));
    out.push(deliveryLine(repository, hook.id, deliveries.body as Delivery[]));
}
