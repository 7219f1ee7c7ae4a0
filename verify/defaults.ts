// The bounds of `npm run verify`, in a module of their own so the command's --help loads nothing else.

/** Bound on each network call and each `pulumi` command (the preflight's own bound). */
export const VERIFY_TIMEOUT_MS = 15_000;
/** Pause between two rounds of checks while `--wait` polls. */
export const VERIFY_POLL_MS = 10_000;
/** Longest `--wait` accepted: an hour. */
export const MAX_WAIT_SECONDS = 3600;
