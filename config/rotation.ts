// `cluster-bootstrap:rotation`: one value per credential the program mints. Changing a value replaces exactly that
// credential on the next `pulumi up` (see components/rotation.ts); the value itself means nothing else.
import { z } from "zod";
import { quoted } from "./checks";

/** The credentials the program mints and can rotate, as the keys of `cluster-bootstrap:rotation`. */
export const ROTATABLE = ["deployKey", "tunnelSecret", "backupToken", "dnsToken", "webhookToken"] as const;
export type Rotatable = (typeof ROTATABLE)[number];

/** A credential's rotation value: absent means "as created", never rotated. */
export type RotationConfig = Partial<Record<Rotatable, string>>;

export const ROTATION_VALUE_MAX = 64;
// One line of printable ASCII without leading or trailing blanks: it is shown in the plan and in `pulumi preview`.
const ROTATION_VALUE = new RegExp(`^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,${ROTATION_VALUE_MAX - 2}}[\\x21-\\x7e])?$`);

/** Why a rotation value is refused, or undefined. */
export function rotationValueProblem(v: string): string | undefined {
    if (ROTATION_VALUE.test(v)) return undefined;
    return `${quoted(v)} must be one line of 1 to ${ROTATION_VALUE_MAX} printable ASCII characters without leading or trailing spaces, such as 2026-12`;
}

const rotationValue = z
    // `pulumi config set --path rotation.deployKey 2027` stores a number: a year is as good a value as a date.
    .union([z.string(), z.number().int().nonnegative()], { error: "must be a string such as 2026-12" })
    .transform((v) => String(v))
    .superRefine((v, ctx) => {
        const p = rotationValueProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: p });
    })
    .optional();

export const rotationSchema = z.strictObject(
    Object.fromEntries(ROTATABLE.map((k) => [k, rotationValue])) as Record<Rotatable, typeof rotationValue>,
    { error: (i) => (i.input === undefined ? "is required" : "must be a mapping of settings") },
).default({});
