// How messages name a setting: its full key in the project namespace, as `pulumi config` shows it.
import * as path from "node:path";
import { keyName } from "./checks";

export const PROJECT = "cluster-bootstrap";

/** The project's directory: where `Pulumi.yaml` and the stack files are, and where `pulumi` commands run. */
export const ROOT = path.resolve(__dirname, "..");

/** `cluster-bootstrap:r2.buckets[0].name` from its path; each name passes through `keyName`, so no control character or credential is echoed. */
export function fullKey(segments: ReadonlyArray<PropertyKey>): string {
    let key = `${PROJECT}:`;
    segments.forEach((s, i) => {
        if (typeof s === "number") key += `[${s}]`;
        else key += (i === 0 ? "" : ".") + keyName(String(s));
    });
    return key;
}

/** Keys holding secrets; they are read with getSecret even when the stack file has them in plain text. */
export const SECRET_KEYS = ["kubeconfig", "sopsAgeKey", "bootstrapSecrets"] as const;
/** Secret keys whose value is a JSON object or list, read with getSecretObject. */
export const SECRET_OBJECT_KEYS: ReadonlySet<string> = new Set(["bootstrapSecrets"]);
/** Keys whose value is structured (an object, or a boolean such as `adopt`), read with getObject, which parses its JSON. */
export const OBJECT_KEYS = ["cluster", "gitops", "flux", "tunnel", "r2", "sops", "platform", "rotation", "access", "hub", "adopt"] as const;
/** Plain string keys. */
export const PLAIN_KEYS = ["cloudflareAccountId", "kubeContext", "renameFrom"] as const;

/** The keys the program reads, by how it reads them: for tools that build the raw config the same way (the preflight). */
export function configKeys(): { object: readonly string[]; plain: readonly string[]; secret: readonly string[]; secretObject: readonly string[] } {
    return { object: OBJECT_KEYS, plain: PLAIN_KEYS, secret: SECRET_KEYS, secretObject: [...SECRET_OBJECT_KEYS] };
}
