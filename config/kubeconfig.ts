// Which cluster the stack reaches: `cluster-bootstrap:kubeconfig` (secret) or `kubeContext` in the ambient kubeconfig.
// The ambient current context may be another stack's cluster, so one of them is required; a kubeconfig is checked for
// its shape without ever being echoed.
import { parse as parseYaml } from "yaml";
import { quoted } from "./checks";
import { fullKey } from "./keys";

/**
 * What is wrong with a kubeconfig, without showing it: it must parse, name clusters, users and contexts, and have the
 * context this stack uses (`kubeContext`, or its current-context).
 */
export function kubeconfigProblem(text: string, context: string | undefined): { key: string; problem: string } | undefined {
    const shape = "is not a kubeconfig (YAML with clusters, users and contexts, as `talosctl kubeconfig` writes it); the value is not shown";
    let doc: unknown;
    try {
        // "error": the parser would print a warning (an unknown tag) with the line it is on, which may hold a token.
        doc = parseYaml(text, { logLevel: "error" });
    } catch {
        return { key: "kubeconfig", problem: shape };
    }
    const d = doc as { clusters?: unknown; contexts?: unknown; users?: unknown; "current-context"?: unknown } | null;
    if (!d || typeof d !== "object" || Array.isArray(d) || !Array.isArray(d.clusters) || d.clusters.length === 0
        || !Array.isArray(d.contexts) || d.contexts.length === 0 || !Array.isArray(d.users)) {
        return { key: "kubeconfig", problem: shape };
    }
    const names = d.contexts.map((c) => (c as { name?: unknown })?.name).filter((n): n is string => typeof n === "string");
    const wanted = context ?? (typeof d["current-context"] === "string" ? d["current-context"] : undefined);
    if (wanted === undefined) {
        return { key: "kubeContext", problem: `is required: ${fullKey(["kubeconfig"])} sets no current-context (its contexts: ${names.map((n) => quoted(n)).join(", ")})` };
    }
    if (!names.includes(wanted)) {
        return context !== undefined
            ? { key: "kubeContext", problem: `${quoted(context)} is not a context of ${fullKey(["kubeconfig"])} (its contexts: ${names.map((n) => quoted(n)).join(", ")})` }
            : { key: "kubeconfig", problem: `its current-context ${quoted(wanted)} is not one of its contexts` };
    }
    return undefined;
}

/** The stack names its cluster, and a kubeconfig it holds has the shape and the context it needs. */
export function kubeconfigProblems(args: { kubeconfig: unknown; kubeContext: unknown; placeholder: boolean }): { problems: string[]; notes: string[] } {
    const problems: string[] = [];
    const notes: string[] = [];
    if (args.kubeconfig === undefined && args.kubeContext === undefined) {
        problems.push(`${fullKey(["kubeContext"])}: is required unless ${fullKey(["kubeconfig"])} is set: name this stack's cluster `
            + "(the context in your kubeconfig, or the cluster's kubeconfig as a secret), so it never changes whatever context is current");
    }
    if (typeof args.kubeconfig === "string" && args.kubeconfig !== "") {
        if (args.placeholder) {
            notes.push(`${fullKey(["kubeconfig"])} is an offline placeholder; its shape was not checked`);
        } else {
            const p = kubeconfigProblem(args.kubeconfig, typeof args.kubeContext === "string" ? args.kubeContext : undefined);
            if (p) problems.push(`${fullKey([p.key])}: ${p.problem}`);
        }
    }
    return { problems, notes };
}
