// The Flux Operator's Helm release, when the cluster already runs one: a lost state, or a cluster bootstrapped by hand
// or by a repository's helmfile before the program took over. Helm refuses to install a release name in use, so with
// `cluster-bootstrap:adopt` the program imports it (`<namespace>/<name>`, the ID pulumi-kubernetes' Helm Release
// takes on import, helm_release.go Read) and upgrades it in place; only name and namespace would force a replacement
// there, and both match.
//
// Found through the release's Deployment, which Helm annotates with the release that owns it
// (`meta.helm.sh/release-name`/`-namespace`, the same annotations Helm checks before adopting an object): a `get`, not
// the list of Helm's storage Secrets, which would hand the run every release's values.
import { FLUX_NAMESPACE } from "../config/names";
import type { ClusterTarget } from "./identity";
import type { ClusterReader, KubeObject, ObjectRef } from "./reader";

/** The release the program installs in `flux.managedBy: program`, named as the chart (its Deployment takes that name). */
export const FLUX_OPERATOR_RELEASE = "flux-operator";

/** The Deployment the chart creates for the operator. */
export const OPERATOR_DEPLOYMENT: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: FLUX_NAMESPACE, name: FLUX_OPERATOR_RELEASE };

/** The import ID of the operator's release when `deployment` belongs to it (Helm's annotations), else undefined. */
export function operatorReleaseImportId(deployment: KubeObject | undefined): string | undefined {
    const annotations = (deployment?.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations ?? {};
    return annotations["meta.helm.sh/release-name"] === FLUX_OPERATOR_RELEASE && annotations["meta.helm.sh/release-namespace"] === FLUX_NAMESPACE
        ? `${FLUX_NAMESPACE}/${FLUX_OPERATOR_RELEASE}`
        : undefined;
}

/** Reads the operator's Deployment with the run's reader and gives the release's import ID when one is installed. */
export async function existingOperatorRelease(reader: ClusterReader, target: ClusterTarget): Promise<string | undefined> {
    const [deployment] = await reader.objects(target, [OPERATOR_DEPLOYMENT]);
    return operatorReleaseImportId(deployment);
}
