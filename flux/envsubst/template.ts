// Evaluating a parsed template (fluxcd/pkg envsubst/template.go Execute), and the variables a template looks up.
import { lookupFunc } from "./funcs";
import { parseTemplate, SubstitutionError, type Node } from "./parse";

/** Flux's wording for a failed substitution (varSubstitution wraps envsubst's error, SubstituteVariables that). */
export function fluxFailure(e: unknown): unknown {
    return e instanceof SubstitutionError ? new SubstitutionError(`envsubst error: variable substitution failed: ${e.message}`) : e;
}

/**
 * Every variable the template looks up, in order of appearance: nested defaults included, duplicates removed.
 * A template Flux cannot parse throws {@link SubstitutionError} with Flux's message.
 */
export function templateVariables(text: string): string[] {
    let root: Node;
    try {
        root = parseTemplate(text);
    } catch (e) {
        throw fluxFailure(e);
    }
    const found = new Set<string>();
    const walk = (n: Node): void => {
        if (n.kind === "list") n.nodes.forEach(walk);
        else if (n.kind === "func") {
            n.args.forEach(walk);
            found.add(n.param);
        }
    };
    walk(root);
    return [...found];
}

/** Operators whose contract covers an unset variable, so strict mode lets them pass (envsubst/template.go). */
const DEFAULT_OPS = new Set(["-", "+", "=", "?", ":-", ":+", ":=", ":?"]);

/** envsubst/template.go Execute: `mapping` answers (value, exists). */
export function evaluate(node: Node, mapping: (name: string) => [string, boolean]): string {
    switch (node.kind) {
        case "text":
            return node.value;
        case "list":
            return node.nodes.map((n) => evaluate(n, mapping)).join("");
        case "func": {
            const args = node.args.map((n) => evaluate(n, mapping));
            const [v, exists] = mapping(node.param);
            if (!exists && !DEFAULT_OPS.has(node.name)) throw new SubstitutionError(`variable not set (strict mode): ${JSON.stringify(node.param)}`);
            return lookupFunc(node.name, args.length)(v, ...args);
        }
    }
}

