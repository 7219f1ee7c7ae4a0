// Rotation as a resource option: each credential the program mints carries its `cluster-bootstrap:rotation` value as
// Pulumi's `replacementTrigger`, so a changed value replaces that credential, and only it. Everything that consumes
// the credential follows from its new outputs in the same run; the replacement is create-before-delete (Pulumi's
// default, never `deleteBeforeReplace`), so the old credential is revoked only once the new one is in place.
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "node:crypto";
import type { Rotatable, RotationConfig } from "../config/rotation";

/**
 * A credential's trigger while its rotation value is unset. Never null: the engine ignores a trigger that is null
 * on either side (pulumi/pulumi `shouldTriggerReplace`), so the first value ever set would rotate nothing. Never a
 * configured value either: those are at least one character long.
 */
export const NOT_ROTATED = "";

/** What a credential's `replacementTrigger` holds: its rotation value, or that and what else must replace it. */
export type RotationTrigger = string | Record<string, string | boolean>;

/**
 * The trigger of a credential: its rotation value (`NOT_ROTATED` when unset), or, with `alsoOn`, an object of the
 * rotation value and those other values (keys sorted), any of whose changes must replace the credential too.
 */
export function rotationTrigger(value: string | undefined, alsoOn?: Record<string, string | boolean>): RotationTrigger {
    const rotation = value ?? NOT_ROTATED;
    if (alsoOn === undefined) return rotation;
    if ("rotation" in alsoOn) throw new Error('"rotation" is the rotation value\'s own key in a trigger');
    return Object.fromEntries(Object.entries({ ...alsoOn, rotation }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The options that make a credential rotate when its `cluster-bootstrap:rotation` value changes (and when any value
 * of `alsoOn` does). Spread them into the credential's own options: `{ parent: this, ...rotationOptions(v) }`.
 */
export function rotationOptions(value: string | undefined, alsoOn?: Record<string, string | boolean>): pulumi.CustomResourceOptions {
    return { replacementTrigger: rotationTrigger(value, alsoOn) };
}

/**
 * A Flux `reconcile.fluxcd.io/requestedAt` value that changes exactly when the credential's trigger does, so the
 * object that reads the credential reconciles at once instead of at its next interval. Letters, digits and hyphens
 * only, so it reads plainly wherever it is compared with `status.lastHandledReconcileAt` (../cluster/flux-await waits for
 * that), and it shows no more of the value than that it changed.
 */
export function reconcileRequest(credential: Rotatable, trigger: RotationTrigger): string {
    const digest = crypto.createHash("sha256").update(`${credential}\0${JSON.stringify(trigger)}`).digest("hex");
    return `rotation-${credential.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-${digest.slice(0, 16)}`;
}

/** `rotation.accessServiceTokens` in the provider's terms: per token, the client secret's version and the old one's end. */
export function serviceTokenSecretRotations(rotation: RotationConfig): Record<string, { clientSecretVersion: number; previousClientSecretExpiresAt: string }> {
    return Object.fromEntries(Object.entries(rotation.accessServiceTokens ?? {}).map(([token, r]) =>
        [token, { clientSecretVersion: r.version, previousClientSecretExpiresAt: r.previousSecretExpiresAt }]));
}
