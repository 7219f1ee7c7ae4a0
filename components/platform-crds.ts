// CustomResourceDefinitions before the first platform release (`platform.crds`): what home-ops and cluster-template
// apply first from `bootstrap/helmfile/crds.yaml` (`helmfile template --include-crds`, only the CustomResourceDefinition
// objects kept, `kubectl apply --server-side`), from charts the bootstrap does not install. Without them a release
// whose values enable a ServiceMonitor fails on a bare cluster with "no matches for kind ServiceMonitor".
//
// The chart is rendered by the Kubernetes provider itself, with the `kubernetes:helm:template` function that the SDK's
// `helm.v3.Chart` calls (@pulumi/kubernetes helm/v3/helm.js: `jsonOpts`, the chart options as JSON). Read in
// pulumi-kubernetes provider/pkg/provider/invoke_helm_template.go: it pulls the chart (`chart` an `oci://` reference,
// or a name with `fetch_opts.repo`, at `version`), renders it as `helm install --dry-run --client-only` with
// `values`, `namespace` and `release_name`, includes the chart's `crds/` unless `skip_crd_rendering`, and returns the
// objects decoded (`result`; provider.go `Invoke`). Not `helm.v4.Chart`: it would install every object of the chart,
// and its transforms can change a resource but not leave one out.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isRecord, platformCrdsKey } from "../config";
import { chartName } from "../flux/repository-check";
import type { AppRelease } from "../flux/helmrelease";
import { mergeContract, type ContractPart } from "./contract";
import { releaseValues, secretsUsed } from "./platform-values";

/** The provider function that renders a chart. */
export const HELM_TEMPLATE = "kubernetes:helm:template";

/** The apiVersion and kind kept from a rendered chart. */
export const CRD_API_VERSION = "apiextensions.k8s.io/v1";
export const CRD_KIND = "CustomResourceDefinition";

/**
 * The chart options `kubernetes:helm:template` takes (provider `HelmChartOpts`, JSON names): the chart and version the
 * entry's source names, its HelmRelease's values, and the release's name and namespace, as Helm would install it. CRDs
 * are included: `skip_crd_rendering` is left unset. Pure.
 */
export function templateOptions(entry: Pick<AppRelease, "chart" | "version" | "repositoryUrl" | "name" | "namespace">,
    values: Record<string, unknown>): Record<string, unknown> {
    return {
        chart: entry.chart,
        ...(entry.version !== undefined ? { version: entry.version } : {}),
        // The URL goes to fetch_opts.repo: a top-level `repo` is a repository's name, and an http(s) one is refused.
        ...(entry.repositoryUrl ? { fetch_opts: { repo: entry.repositoryUrl } } : {}),
        namespace: entry.namespace,
        release_name: entry.name,
        values,
    };
}

/** The CustomResourceDefinitions among a rendered chart's objects (`apiextensions.k8s.io/v1` only). Pure. */
export function crdsOf(objects: unknown): Array<Record<string, unknown> & { metadata: { name: string } }> {
    if (!Array.isArray(objects)) return [];
    return objects.filter((o): o is Record<string, unknown> & { metadata: { name: string } } => isRecord(o)
        && o.apiVersion === CRD_API_VERSION && o.kind === CRD_KIND && isRecord(o.metadata) && typeof o.metadata.name === "string");
}

/**
 * Where a CRD entry's values use a cluster-secrets key: refused, since an invoke's arguments reach the provider unmarked
 * (see PlatformCrds). Undefined when they use none.
 */
export function crdSecretProblem(entry: AppRelease, contract: ContractPart): string | undefined {
    const secrets = secretsUsed(entry, contract);
    return secrets.length === 0 ? undefined
        : `${entry.file}: uses \${${secrets[0]}}, a cluster-secrets key: the values of a CRD entry are passed to the chart renderer ` +
            "unmarked, so they may not hold a secret (and no chart needs one to define its CustomResourceDefinitions)";
}

export interface PlatformCrdsArgs {
    /** The `platform.crds` entries' app directories, read like the releases' (readPlatformReleases). */
    entries: AppRelease[];
    /** What each capability hands to Flux (merged with mergeContract): the values Flux substitutes. */
    parts: ContractPart[];
    /** Flux's rule for an unset variable without a default (see strictSubstitution). */
    strict: boolean;
    /**
     * Indexes in `entries` whose HelmRelease Flux has taken over (cluster/handover.ts): its chart, CRDs included, is
     * Flux's now, so they are not registered, and Pulumi drops them from its state (retained on delete).
     */
    takenOver?: ReadonlySet<number>;
    /** The cluster's kube-system uid: each CRD's `replacementTrigger`, so a rebuilt cluster gets them applied again. */
    clusterUid: string;
}

/**
 * The CustomResourceDefinitions of each entry's chart Flux has not taken over, rendered with the entry's values and
 * applied server-side (the provider's default, with `upsertExistingObjects`), each its own resource named after the
 * entry and the CRD (`platform-crds-network-envoy-gateway/gateways.gateway.networking.k8s.io`), retained on delete and
 * tied to the cluster. An entry whose values depend on resources not created yet is rendered once they exist: a
 * preview before then cannot show its CRDs, and says so. Pass the Kubernetes provider in `opts.provider`.
 */
export class PlatformCrds extends pulumi.ComponentResource {
    /** Every CRD registered, once its chart is rendered: what the first release waits for. */
    public readonly crds: pulumi.Output<k8s.apiextensions.v1.CustomResourceDefinition[]>;

    constructor(name: string, args: PlatformCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cluster-bootstrap:platform:PlatformCrds", name, {}, opts);
        const contract = mergeContract(args.parts);
        const rendered = args.entries.flatMap((entry, i) => {
            if (args.takenOver?.has(i)) return [];
            const fail = (m: string) => new pulumi.ResourceError(`${platformCrdsKey(i)}: ${m}`, this, true);
            // The SDK sends an invoke's arguments unwrapped (runtime/invoke.js unwrapSecretValues): a secret would reach
            // the provider and the plan's `invokes` unmarked. No chart needs a credential to define its kinds.
            const secret = crdSecretProblem(entry, contract);
            if (secret) throw fail(secret);
            const jsonOpts = releaseValues(entry, contract, args.strict, fail).apply((v) => JSON.stringify(templateOptions(entry, v)));
            // As the SDK's own helm.v3.Chart does (helm/v3/helm.js `allConfig.isKnown`): every Output has `isKnown`, though
            // its public type does not show it.
            void (jsonOpts as unknown as { isKnown?: Promise<boolean> }).isKnown?.then((known) => {
                if (!known) {
                    pulumi.log.info(`${platformCrdsKey(i)}: the values of ${entry.file} use variables known only once the resources ` +
                        `behind them exist; the CustomResourceDefinitions of ${chartName(entry.chart)} are rendered then, and this ` +
                        "preview cannot show them", this);
                }
            });
            const result = pulumi.runtime.invokeOutput<{ result?: unknown }>(HELM_TEMPLATE, { jsonOpts }, { parent: this });
            return [result.apply((r) => ({ i, entry, crds: crdsOf(r.result) }))];
        });
        // All at once, once every chart is rendered: a CRD two entries' charts both define would have two owners.
        this.crds = pulumi.all(rendered).apply((charts) => {
            const first = new Map<string, number>();
            for (const c of charts) {
                for (const crd of c.crds) {
                    const other = first.get(crd.metadata.name);
                    if (other !== undefined && other !== c.i) {
                        throw new pulumi.ResourceError(`${platformCrdsKey(c.i)}: the chart of ${c.entry.file} defines the CustomResourceDefinition ` +
                            `${crd.metadata.name}, which the chart of ${platformCrdsKey(other)} defines too: list one of them`, this, true);
                    }
                    first.set(crd.metadata.name, c.i);
                }
            }
            return charts.flatMap((c) => c.crds.map((crd) => new k8s.apiextensions.v1.CustomResourceDefinition(
                `${name}-${c.entry.namespace}-${c.entry.name}/${crd.metadata.name}`,
                // The typed class takes metadata and spec only: a rendered `status` stanza is left out.
                crd as unknown as k8s.apiextensions.v1.CustomResourceDefinitionArgs,
                { parent: this, retainOnDelete: true, replacementTrigger: args.clusterUid },
            )));
        });
        this.registerOutputs({});
    }
}
