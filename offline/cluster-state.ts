// `--cluster-state FILE`: the Kubernetes objects of a cluster, as `kubectl get -o yaml` prints them (a `v1` `List`
// with `items`, or one object, or several YAML documents), answering every cluster read the program makes offline:
// the identity check's flux-system/cluster-vars, the kube-system Namespace, the HelmReleases and the FluxInstance. An
// empty file is an empty cluster. A file that cannot be used is refused with `FILE:LINE:COL: <what is wrong>`, in
// words of this module only: the YAML library's own messages can quote the file, and a captured cluster may hold a
// credential.
import * as fs from "node:fs";
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from "yaml";
import type { KubeObject, ObjectRef } from "../cluster/reader";
import { isRecord } from "../config/checks";
import { yamlErrorText, yamlProblem } from "../config/yaml-errors";
import { apiGroup } from "../flux/manifests";
import { InputFileError } from "./input-file";

/** The file cannot be used; each problem is one printable line. */
export class ClusterStateFileError extends InputFileError {}

/** The object's identity: group (not version: one object is served at several), kind, namespace and name. */
function key(o: { apiVersion: string; kind: string; namespace?: string; name: string }): string {
    return [apiGroup(o.apiVersion), o.kind, o.namespace ?? "", o.name].join("\0");
}

function isObject(v: unknown): v is KubeObject & { apiVersion: string; kind: string; metadata: { name: string } } {
    return isRecord(v) && typeof v.apiVersion === "string" && typeof v.kind === "string" && isRecord(v.metadata)
        && typeof v.metadata.name === "string" && v.metadata.name !== ""
        && (v.metadata.namespace === undefined || typeof v.metadata.namespace === "string");
}

/** The objects of a `kubectl get -o yaml` output; throws {@link ClusterStateFileError} naming each problem's place. */
export function parseClusterState(text: string, file: string): KubeObject[] {
    const lines = new LineCounter();
    const at = (offset: number | undefined) => {
        const { line, col } = lines.linePos(offset ?? 0);
        return `${file}:${line}:${col}`;
    };
    const problems: string[] = [];
    const objects: KubeObject[] = [];
    const seen = new Map<string, string>();
    const take = (value: unknown, node: Node | null | undefined) => {
        const where = at(node?.range?.[0]);
        if (!isObject(value)) {
            problems.push(`${where}: not a Kubernetes object: apiVersion, kind and metadata.name are required`);
            return;
        }
        const k = key({ apiVersion: value.apiVersion, kind: value.kind, namespace: value.metadata.namespace, name: value.metadata.name });
        const first = seen.get(k);
        if (first !== undefined) {
            problems.push(`${where}: the same object again (first at ${first}): a cluster holds each object once`);
            return;
        }
        seen.set(k, where);
        objects.push(value);
    };
    for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })) {
        if (doc.errors.length > 0) {
            // A fixed description chosen by the error code: the library's message could quote the line, and a secret with it.
            problems.push(yamlProblem(file, doc.errors[0], lines));
            continue;
        }
        let value: unknown;
        try {
            value = doc.toJS({ maxAliasCount: 100 });
        } catch (e) {
            problems.push(`${at(doc.range[0])}: ${yamlErrorText(e)}`);
            continue;
        }
        // An empty document: nothing in it (kubectl prints none for a kind the cluster does not have).
        if (value === null || value === undefined) continue;
        if (isRecord(value) && value.kind === "List" && value.apiVersion === "v1") {
            const items = value.items ?? [];
            const itemsNode = isMap(doc.contents) ? doc.contents.get("items", true) : undefined;
            if (!Array.isArray(items)) {
                problems.push(`${at((itemsNode as Node | undefined)?.range?.[0] ?? doc.range[0])}: a List's items must be a list of objects`);
                continue;
            }
            items.forEach((item, i) => take(item, isSeq(itemsNode) ? (itemsNode.items[i] as Node) : (itemsNode as Node | undefined)));
        } else {
            take(value, doc.contents as Node | null);
        }
    }
    if (problems.length > 0) throw new ClusterStateFileError(problems);
    return objects;
}

/** Reads FILE; throws {@link ClusterStateFileError}. */
export function readClusterState(file: string): KubeObject[] {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new ClusterStateFileError([`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).name})`]);
    }
    return parseClusterState(text, file);
}

/** The object `ref` names among `objects`, whatever version they were read at; undefined when there is none. */
export function findObject(objects: readonly KubeObject[], ref: ObjectRef): KubeObject | undefined {
    const want = key(ref);
    return objects.find((o) => isObject(o) && key({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }) === want);
}
