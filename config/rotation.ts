// `cluster-bootstrap:rotation`: one value per credential the program mints. Changing a value replaces exactly that
// credential on the next `pulumi up` (see providers/rotation.ts); the value itself means nothing else.
import { z } from "zod";
import { keyName, quoted } from "./checks";

/** The credentials the program mints and can rotate, as the keys of `cluster-bootstrap:rotation`. */
export const ROTATABLE = ["deployKey", "tunnelSecret", "backupToken", "dnsToken", "webhookToken"] as const;
export type Rotatable = (typeof ROTATABLE)[number];

/**
 * A Cloudflare Access service token's client-secret rotation: the version to move to (the provider's first is 1) and
 * until when the previous secret keeps working, so a spoke has that long to pick up the new one. The client id stays.
 */
export interface ServiceTokenRotation {
    version: number;
    /** RFC 3339 time, e.g. 2026-12-31T00:00:00Z. */
    previousSecretExpiresAt: string;
}

/** A credential's rotation value: absent means "as created", never rotated. */
export type RotationConfig = Partial<Record<Rotatable, string>> & {
    /** Per Access service token name (`access.serviceTokens`). */
    accessServiceTokens?: Record<string, ServiceTokenRotation>;
};

// Seconds may carry a fraction; the zone is Z or an offset, as RFC 3339 writes it.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const serviceTokenRotation = z.strictObject({
    version: z.number({ error: "must be a whole number from 2 up (the token starts at 1)" })
        .int({ error: "must be a whole number from 2 up (the token starts at 1)" })
        .min(2, { error: "must be a whole number from 2 up (the token starts at 1)" }),
    previousSecretExpiresAt: z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") })
        .refine((v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)), {
            error: (i) => `${quoted(i.input)} is not an RFC 3339 time such as 2026-12-31T00:00:00Z`,
        }),
}, { error: (i) => (i.input === undefined ? "is required" : "must be a mapping of version and previousSecretExpiresAt") });

/** Names in `rotation.accessServiceTokens` that `access.serviceTokens` does not have, each as `<full key>: <problem>`. */
export function serviceTokenRotationProblems(rotation: unknown, access: unknown): string[] {
    const rotations = (rotation as { accessServiceTokens?: unknown } | undefined)?.accessServiceTokens;
    if (typeof rotations !== "object" || rotations === null || Array.isArray(rotations)) return [];
    const tokens = (access as { serviceTokens?: unknown } | undefined)?.serviceTokens;
    const names = new Set((Array.isArray(tokens) ? tokens : [])
        .map((t) => (typeof t === "string" ? t : (t as { name?: unknown } | null)?.name))
        .filter((n): n is string => typeof n === "string"));
    return Object.keys(rotations).filter((n) => !names.has(n)).map((n) =>
        `cluster-bootstrap:rotation.accessServiceTokens.${keyName(n)}: is not one of cluster-bootstrap:access.serviceTokens`);
}

export const ROTATION_VALUE_MAX = 64;
// One line of printable ASCII without leading or trailing blanks: it is shown in the plan and in `pulumi preview`.
const ROTATION_VALUE = new RegExp(`^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,${ROTATION_VALUE_MAX - 2}}[\\x21-\\x7e])?$`);

/** Why a rotation value is refused, or undefined. */
export function rotationValueProblem(v: string): string | undefined {
    if (ROTATION_VALUE.test(v)) return undefined;
    return `${quoted(v)} must be one line of 1 to ${ROTATION_VALUE_MAX} printable ASCII characters without leading or trailing spaces, such as 2026-12`;
}

const NOT_TEXT = "must be a string such as 2026-12";
const rotationValue = z
    // `pulumi config set --path rotation.deployKey 2027` stores a number: a year is as good a value as a date. A number
    // that fails only its own checks is reported by them, so each carries the message too.
    .union([z.string(), z.number().int({ error: NOT_TEXT }).nonnegative({ error: NOT_TEXT })], { error: NOT_TEXT })
    .transform((v) => String(v))
    .superRefine((v, ctx) => {
        const p = rotationValueProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: p });
    })
    .optional();

export const rotationSchema = z.strictObject(
    {
        ...(Object.fromEntries(ROTATABLE.map((k) => [k, rotationValue])) as Record<Rotatable, typeof rotationValue>),
        accessServiceTokens: z.record(z.string(), serviceTokenRotation, { error: "must be a mapping of service token names" }).optional(),
    },
    { error: (i) => (i.input === undefined ? "is required" : "must be a mapping of settings") },
).default({});
