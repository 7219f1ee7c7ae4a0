// The GitOps repositories the tests plan against, and how a test names one of their app directories.
import * as path from "node:path";
import { ROOT } from "../config/keys";

/** Checkouts under test/fixtures: the home-ops layout the committed stacks read, and the two anchors as they are. */
export const FIXTURES = {
    gitops: path.join(ROOT, "test", "fixtures", "gitops"),
    homeOps: path.join(ROOT, "test", "fixtures", "home-ops"),
    clusterTemplate: path.join(ROOT, "test", "fixtures", "cluster-template"),
} as const;

/** A `platform.releases[]` (or `platform.crds[]`) entry for `kubernetes/apps/<namespace>/<name>/app`. */
export function app(namespace: string, name: string, apply?: string[]): { path: string; namespace: string; apply?: string[] } {
    return { path: `kubernetes/apps/${namespace}/${name}/app`, namespace, ...(apply ? { apply } : {}) };
}
