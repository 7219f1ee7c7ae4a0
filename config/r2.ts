// `cluster-bootstrap:r2`: the rules across buckets that the schema cannot state one bucket at a time.
import { quoted } from "./checks";
import { fullKey } from "./keys";

/** `volsync` → `R2_BUCKET_VOLSYNC`, `cnpg-main` → `R2_BUCKET_CNPG_MAIN`. */
export function purposeVariable(purpose: string): string {
    return `R2_BUCKET_${purpose.toUpperCase().replace(/-/g, "_")}`;
}

// restic (VolSync) and Barman (CloudNativePG) prune by their own retention; objects deleted by age break the
// snapshots and WAL chains that still point at them.
const SELF_PRUNING: Record<string, string> = { volsync: "restic", cnpg: "Barman" };

/**
 * Bucket names and purposes (as `R2_BUCKET_<PURPOSE>`) are unique, and a bucket whose tool prunes its own backups
 * expires nothing by age. Runs on the raw value, so a problem elsewhere in `r2` never hides these.
 */
export function r2Problems(r2: unknown): string[] {
    const problems: string[] = [];
    const given = (r2 as { buckets?: unknown } | null | undefined)?.buckets;
    const buckets: unknown[] = Array.isArray(given) ? given : [];
    for (const field of ["name", "purpose"] as const) {
        const seen = new Map<string, number>();
        const norm = (s: string) => (field === "purpose" ? purposeVariable(s) : s);
        buckets.forEach((b, i) => {
            const value = (b as Record<string, unknown> | null)?.[field];
            if (typeof value !== "string") return;
            const first = seen.get(norm(value));
            if (first !== undefined) {
                problems.push(`${fullKey(["r2", "buckets", i, field])}: ${quoted(value)} repeats ${fullKey(["r2", "buckets", first, field])}`);
            } else seen.set(norm(value), i);
        });
    }
    buckets.forEach((b, i) => {
        const { purpose, expireDays } = (b ?? {}) as Record<string, unknown>;
        const tool = typeof purpose === "string" ? SELF_PRUNING[purpose.split(/[-_]/)[0]] : undefined;
        if (tool && expireDays !== undefined) {
            problems.push(`${fullKey(["r2", "buckets", i, "expireDays"])}: must not be set on a ${purpose} bucket: ${tool} prunes its own backups, and deleting objects by age corrupts them`);
        }
    });
    return problems;
}
