// What the program takes from its surroundings, passed to it explicitly (index.ts) instead of read from module state:
// the real run builds it from the machine, the offline plan and the tests build their own (offline/runtime.ts).
import * as pulumi from "@pulumi/pulumi";
import type { HandedOver } from "./cluster/handover";
import { liveClusterReader, type ClusterReader } from "./cluster/reader";
import { liveRepositoryReader, type RepositoryReader } from "./providers/github-files";
import { liveExistingReader, type ExistingReader } from "./providers/existing";

export interface ProgramContext {
    /** Reads the target cluster before anything is registered: its identity, and what Flux has taken over. */
    cluster: ClusterReader;
    /** Reads the GitOps repository's files (the platform releases' app directories) before anything is registered. */
    github: RepositoryReader;
    /** Where the program says what it found (the cluster it changes, a check it skipped): a diagnostic line. */
    note(message: string): void;
    /**
     * Where the program lists what Flux has taken over and it no longer registers (each also said through `note`):
     * the offline plan prints them as `handedOver`.
     */
    handedOver(entry: HandedOver): void;
    /**
     * Secret keys (without namespace) whose values are offline placeholders: checks that need the real secret are
     * skipped for them, with a note. Empty for a real run.
     */
    placeholders: ReadonlySet<string>;
    /** `adopt`'s read-only lookups that no provider data source makes: R2 buckets, GitHub webhooks by URL. */
    existing: ExistingReader;
}

/** The context of a real `pulumi preview` or `pulumi up`: the live cluster, GitHub's API, and the engine's log. */
export function liveContext(): ProgramContext {
    return {
        cluster: liveClusterReader(),
        github: liveRepositoryReader,
        note: (message) => void pulumi.log.info(message),
        // The note says it; the engine shows what leaves the state as a retained delete.
        handedOver: () => undefined,
        placeholders: new Set(),
        existing: liveExistingReader(),
    };
}
