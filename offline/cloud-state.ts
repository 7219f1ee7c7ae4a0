// What already exists in the Cloudflare account and the GitHub repository, for the offline plan of a run with `adopt`
// (`--cloud-state FILE`): the lookups answer from it as the APIs would, so a reviewer sees the import IDs. Without a
// file nothing exists. The objects may carry more fields than are read (a pasted API answer): they are ignored.
import * as fs from "node:fs";
import { z } from "zod";
import { isRecord, keyName, parseJson } from "../config/checks";
import { R2_JURISDICTIONS } from "../config/schema";
import { emptyCloudState, type CloudState } from "../providers/adoption";
import type { ExistingReader } from "../providers/existing";
import { InputFileError } from "./input-file";

/** The file cannot be used; each problem is one line naming the file and the entry. */
export class CloudStateFileError extends InputFileError {}

const text = () => z.string({ error: "must be a string" }).min(1, { error: "must not be empty" });
/** GitHub's ids are whole numbers; given as a number or as its digits. */
const id = () => z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, { error: "must be a whole number" })], { error: "must be a whole number" }).transform(String);

// Unknown fields inside an object are allowed (and dropped): the objects may be pasted from the APIs' answers.
const LISTS = {
    r2Buckets: z.object({
        name: text(),
        location: text().optional(),
        storageClass: text().optional(),
        jurisdiction: z.enum(R2_JURISDICTIONS, { error: `must be one of ${R2_JURISDICTIONS.join(", ")}` }).optional(),
    }),
    tunnels: z.object({
        id: text(),
        name: text(),
        configSrc: z.enum(["cloudflare", "local"], { error: "must be cloudflare or local" }).optional(),
        /** A deleted tunnel is still listed by the API, with the time it was deleted. */
        deletedAt: z.string({ error: "must be a time, or null" }).nullable().optional(),
    }),
    dnsRecords: z.object({
        id: text(),
        name: text(),
        type: text(),
        content: z.string({ error: "must be a string" }).optional(),
        proxied: z.boolean({ error: "must be true or false" }).optional(),
    }),
    accessApplications: z.object({ id: text(), name: z.string({ error: "must be a string" }).optional(), domain: text() }),
    accessPolicies: z.object({ id: text(), name: text() }),
    accountTokens: z.object({ id: text(), name: text() }),
    accessServiceTokens: z.object({ id: text(), name: text() }),
    deployKeys: z.object({ id: id(), title: text() }),
    webhooks: z.object({ id: id(), url: text() }),
} as const;

type ListName = keyof typeof LISTS;

/** A tunnel as the file gives it: deleted ones too, as the API lists them unless asked not to. */
export type CloudStateTunnel = z.output<(typeof LISTS)["tunnels"]>;

/** The cloud state, with the tunnels as listed (deleted ones included), for the fakes that filter them like the API. */
export interface OfflineCloudState extends Omit<CloudState, "tunnels" | "tunnelConfigs"> {
    tunnels: CloudStateTunnel[];
}

/** Parses the file's text; `file` only names it in messages. */
export function parseCloudState(source: string, file: string): OfflineCloudState {
    const doc = parseJson(source);
    if (doc === undefined) throw new CloudStateFileError([`${file}: is not JSON`]);
    const known = Object.keys(LISTS).join(", ");
    if (!isRecord(doc)) throw new CloudStateFileError([`${file}: must be a JSON object of lists (${known})`]);
    const problems: string[] = [];
    const state: Record<string, unknown[]> = { ...emptyCloudState() };
    for (const [key, value] of Object.entries(doc)) {
        if (!(key in LISTS)) {
            problems.push(`${file}: ${keyName(key)}: is not a known list (${known})`);
            continue;
        }
        const parsed = z.array(LISTS[key as ListName], { error: "must be a list" }).safeParse(value);
        if (!parsed.success) {
            for (const issue of parsed.error.issues) {
                const at = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${keyName(String(p))}`)).join("");
                problems.push(`${file}: ${key}${at}: ${issue.message}`);
            }
            continue;
        }
        state[key] = parsed.data;
    }
    if (problems.length > 0) throw new CloudStateFileError(problems);
    return state as unknown as OfflineCloudState;
}

export function readCloudState(file: string): OfflineCloudState {
    let source: string;
    try {
        source = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new CloudStateFileError([`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`]);
    }
    return parseCloudState(source, file);
}

/** The two REST lookups, answered from the cloud state as the APIs would: the buckets of one jurisdiction, every hook. */
export function offlineExistingReader(state: OfflineCloudState): ExistingReader {
    return {
        r2Buckets: async (q) => state.r2Buckets
            .filter((b) => (b.jurisdiction ?? "default") === q.jurisdiction)
            .map((b) => ({ ...b, jurisdiction: b.jurisdiction ?? "default" })),
        webhooks: async () => state.webhooks.map((h) => ({ ...h })),
    };
}
