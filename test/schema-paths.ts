// Every key path of a zod schema, and the defaults it fills: for the docs check and the config tests that walk every key.
import type { z } from "zod";

/**
 * Every key path a zod schema accepts: `a.b` for an object's keys, `a[].b` inside a list's elements, `a.<name>.b`
 * inside a record's values (the record's own key stands for names you choose). Optional, default and pipe
 * (preprocess, transform) wrappers are looked through; a value without keys of its own ends the path.
 */
export function keyPaths(type: z.core.$ZodType, prefix = ""): string[] {
    const def = type._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    const inner = (t: unknown, p: string) => keyPaths(t as z.core.$ZodType, p);
    switch (def.type) {
        case "optional": case "nullable": case "default": case "prefault": case "nonoptional": case "readonly": case "catch":
            return inner(def.innerType, prefix);
        case "pipe":
            return [...new Set([...inner(def.in, prefix), ...inner(def.out, prefix)])];
        case "union":
            return [...new Set((def.options as unknown[]).flatMap((o) => inner(o, prefix)))];
        case "object":
            return Object.entries(def.shape as Record<string, unknown>).flatMap(([k, v]) => {
                const key = prefix ? `${prefix}.${k}` : k;
                return [key, ...inner(v, key)];
            });
        case "array":
            return inner(def.element, `${prefix}[]`);
        case "record":
            return inner(def.valueType, `${prefix}.<name>`);
        default:
            return [];
    }
}

/**
 * The default of every key path that has one in the schema, as the reference writes it: the value itself, or "empty"
 * for an empty list or mapping. Walks the schema as {@link keyPaths} does.
 */
export function keyDefaults(type: z.core.$ZodType, prefix = "", found = new Map<string, string>()): Map<string, string> {
    const def = type._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    const walk = (t: unknown, p: string) => keyDefaults(t as z.core.$ZodType, p, found);
    switch (def.type) {
        case "default": {
            const v = def.defaultValue;
            found.set(prefix, typeof v === "object" && v !== null && Object.keys(v).length === 0 ? "empty" : String(v));
            walk(def.innerType, prefix);
            break;
        }
        case "optional": case "nullable": case "prefault": case "nonoptional": case "readonly": case "catch":
            walk(def.innerType, prefix);
            break;
        case "pipe":
            walk(def.in, prefix);
            walk(def.out, prefix);
            break;
        case "union":
            for (const o of def.options as unknown[]) walk(o, prefix);
            break;
        case "object":
            for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, prefix ? `${prefix}.${k}` : k);
            break;
        case "array":
            walk(def.element, `${prefix}[]`);
            break;
        case "record":
            walk(def.valueType, `${prefix}.<name>`);
            break;
    }
    return found;
}
