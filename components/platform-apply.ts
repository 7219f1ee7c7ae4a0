// The objects applied after a platform release is ready and before the next one starts (`platform.releases[i].apply`):
// what home-ops' helmfile hooks apply with `kubectl apply --server-side` once cilium and onepassword-connect are up
// (the LoadBalancer IP pool and BGP config, the ClusterSecretStore), so LoadBalancer Services get an address and
// ExternalSecrets a store before Flux catches up.
//
// Each object is one resource of the Kubernetes provider, registered by `k8s.yaml.parse`, the body of the SDK's
// `k8s.yaml.ConfigGroup` (yaml/yaml.js), which picks the typed class of a built-in kind (`kubernetes:core/v1:Service`,
// whose type token the provider needs in group/version form) and `CustomResource` for any other. Not the ConfigGroup
// itself: a component sends its arguments as its inputs (pulumi resource.js ComponentResource), so every object of a
// file would wait for whatever any one of them uses. Through the stack's provider (`enableServerSideApply` on by default, `upsertExistingObjects` set), creating
// one sends a server-side apply PATCH (pulumi-kubernetes provider/pkg/await/await.go `Creation`), retried while its
// kind is not served yet, as when a CRD is still being established.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isRecord } from "../config";
import { AppProblem, renderDocument } from "../flux/helmrelease";
import type { Manifest } from "../flux/manifests";
import type { ContractPart } from "./contract";
import { substituted } from "./platform-values";

/**
 * The object as the provider gets it: its fields substituted with the contract's values (see {@link substituted}),
 * each field an Output (secret when the object uses a cluster-secrets key) except what naming needs plain: apiVersion,
 * kind, metadata.name and metadata.namespace, which {@link Manifest} read before anything is registered. Throws
 * `fail(message)` where Flux's substitution would fail.
 */
export function manifestArgs(m: Manifest, contract: ContractPart, strict: boolean, fail: (message: string) => Error): Record<string, unknown> {
    const rendered = substituted(m, contract, strict, fail, (vars, always) => {
        const obj = renderDocument(m, vars, strict, always);
        if (!isRecord(obj)) throw new AppProblem(`${m.file}: ${m.kind} ${m.name} is not a Kubernetes object after substitution`);
        return obj;
    });
    const metadata = rendered.apply((o) => (isRecord(o.metadata) ? o.metadata : {}));
    return {
        ...Object.fromEntries(m.fields.map((f) => [f, rendered.apply((o) => o[f])])),
        apiVersion: m.apiVersion,
        kind: m.kind,
        metadata: {
            ...Object.fromEntries(m.metadataFields.map((f) => [f, metadata.apply((md) => md[f])])),
            name: m.name,
            namespace: m.namespace,
        },
    };
}

/** What {@link applyManifests} needs besides the objects. */
export interface ApplyArgs {
    /** What each capability hands to Flux, merged: the values Flux substitutes. */
    contract: ContractPart;
    /** Flux's rule for an unset variable without a default. */
    strict: boolean;
    /** The release the objects are applied after. */
    after: pulumi.Resource;
    /** The cluster's kube-system uid: the objects' `replacementTrigger`, as for the releases. */
    clusterUid: string;
    /** Where a problem is reported: the entry's key (`cluster-bootstrap:platform.releases[0]`). */
    key: string;
}

/**
 * One resource per object, named `<name>:<file>-<namespace>/<name>` (the release's resource name, the file's path in the
 * repository and the object's own name, as `k8s.yaml.ConfigGroup` names it with a `resourcePrefix`), so each object's
 * resource name says its entry and its file:
 * `platform-kube-system-cilium:kubernetes/apps/kube-system/cilium/app/networking.yaml-kube-system/pool`. Each waits for
 * `after` (and for the resources behind the variables it uses), is retained on delete and tied to the cluster like
 * its release. Returns the objects' resources, for the next release to wait for.
 */
export function applyManifests(name: string, manifests: readonly Manifest[], args: ApplyArgs, parent: pulumi.Resource): pulumi.Output<pulumi.Resource[]> {
    const byFile = new Map<string, Manifest[]>();
    for (const m of manifests) byFile.set(m.file, [...(byFile.get(m.file) ?? []), m]);
    const fail = (m: string) => new pulumi.ResourceError(`${args.key}: ${m}`, parent, true);
    const files = [...byFile].map(([file, objects]) => k8s.yaml.parse({
        objs: objects.map((m) => manifestArgs(m, args.contract, args.strict, fail)),
        resourcePrefix: `${name}:${file}`,
        transformations: [(_obj: unknown, opts: pulumi.CustomResourceOptions) => {
            // After the release is ready, as the helmfile hook runs after its release's sync.
            opts.dependsOn = [args.after];
            // Like every in-cluster object: a destroy, and the handover to Flux, leave it in the cluster.
            opts.retainOnDelete = true;
            opts.replacementTrigger = args.clusterUid;
        }],
    }, { parent }));
    return pulumi.output(files.map((f) => f.apply((r) => Object.values(r) as pulumi.Resource[]))).apply((lists) => lists.flat());
}
