// The deployment graph of a plan: which custom resource waits on which. The engine waits on every direct
// dependency and on a resource's explicit provider, so both are edges.

export interface GraphNode {
    urn: string;
    custom: boolean;
    parent: string;
    dependencies: string[];
    /** `urn::id` of an explicit provider, or "". */
    provider: string;
}

/** Direct custom-resource prerequisites of each custom resource; components are looked through. */
export function customEdges(nodes: GraphNode[]): Map<string, string[]> {
    const byUrn = new Map(nodes.map((n) => [n.urn, n]));
    const within = (n: GraphNode, ancestor: string): boolean => {
        for (let p = n.parent; p; p = byUrn.get(p)?.parent ?? "") if (p === ancestor) return true;
        return false;
    };
    // A dependency on a component means a dependency on every custom resource inside it.
    const custom = (urn: string): string[] => {
        const n = byUrn.get(urn);
        if (!n) return [];
        return n.custom ? [urn] : nodes.filter((c) => c.custom && within(c, urn)).map((c) => c.urn);
    };
    const edges = new Map<string, string[]>();
    for (const n of nodes) {
        if (!n.custom) continue;
        const prereqs = new Set<string>();
        for (const d of n.dependencies) for (const c of custom(d)) prereqs.add(c);
        const provider = n.provider.split("::").slice(0, -1).join("::");
        if (provider && byUrn.has(provider)) prereqs.add(provider);
        prereqs.delete(n.urn);
        edges.set(n.urn, [...prereqs].sort());
    }
    return edges;
}

/** The longest chain of custom resources, first prerequisite first; its length is the graph's depth. */
export function criticalPath(nodes: GraphNode[]): string[] {
    const edges = customEdges(nodes);
    const memo = new Map<string, string[]>();
    const visiting = new Set<string>();
    const longest = (urn: string): string[] => {
        const hit = memo.get(urn);
        if (hit) return hit;
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
        visiting.add(urn);
        let best: string[] = [];
        for (const d of edges.get(urn) ?? []) {
            const chain = longest(d);
            if (chain.length > best.length) best = chain;
        }
        visiting.delete(urn);
        const result = [...best, urn];
        memo.set(urn, result);
        return result;
    };
    let best: string[] = [];
    for (const urn of [...edges.keys()].sort()) {
        const chain = longest(urn);
        if (chain.length > best.length) best = chain;
    }
    return best;
}
