// Building blocks for the zod schemas of config keys that live in their own file (config/<feature>.ts), with the same
// messages as config/schema.ts gives its own: a missing value "is required", an unknown key is reported by name.
import { z } from "zod";
import { controlCharacterProblem } from "./checks";

export const str = () => z.string({ error: (i) => (i.input === undefined ? "is required" : "must be a string") });

/** A string that passes `test`; `msg` says what is wrong with it (built with `quoted`, so no secret is echoed). */
export const rule = (test: (v: string) => boolean, msg: (v: string) => string) =>
    str().refine(test, { error: (i) => msg(String(i.input)) });

/**
 * A URL, hostname or path that passes `test`: a control character in it is refused first, with a message that names
 * the character and not the value (cloudflared's Go `url.Parse` refuses what the WHATWG `URL` silently drops), so the
 * key gets one message. `msg` says what else is wrong.
 */
export const lineRule = (test: (v: string) => boolean, msg: (v: string) => string) =>
    str().superRefine((v, ctx) => {
        const problem = controlCharacterProblem(v) ?? (test(v) ? undefined : msg(v));
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

export const obj = <T extends z.core.$ZodLooseShape>(shape: T) =>
    z.strictObject(shape, { error: (i) => (i.input === undefined ? "is required" : "must be a mapping of settings") });

/** A list of `item`, with the message a non-list gets. */
export const list = <T extends z.core.SomeType>(item: T, what: string) => z.array(item, { error: `must be a list of ${what}` });
