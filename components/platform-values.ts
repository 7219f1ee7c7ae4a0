// A document of the GitOps repository as Flux substitutes it with the contract's values (a HelmRelease's values, an
// object a release applies), as Pulumi Outputs: waiting only for what it uses, secret when it uses a secret.
import * as pulumi from "@pulumi/pulumi";
import { AppProblem, renderValues, unsetVariableProblem, type AppRelease, type SubstitutedDocument } from "../flux/helmrelease";
import type { ContractPart } from "./contract";

/**
 * A document of the repository substituted with the contract's values, then rendered by `render`: through only the
 * variables it uses (so it waits for nothing else; `render` is told to substitute all the same, see renderDocument), and secret when one of them is a cluster-secrets key, even one
 * handed over in plain text. Throws `fail(message)` where Flux would fail: at once when every value is known, else
 * when they resolve.
 */
export function substituted<T>(
    doc: SubstitutedDocument, contract: ContractPart, strict: boolean, fail: (message: string) => Error,
    render: (vars: Record<string, string>, always: boolean) => T,
): pulumi.Output<T> {
    const defined = new Set([...Object.keys(contract.vars), ...Object.keys(contract.secrets)]);
    const unset = unsetVariableProblem(doc, defined, strict);
    if (unset) throw fail(unset);
    const used = doc.variables.filter((v) => defined.has(v));
    const inputs = Object.fromEntries(used.map((v) => [v, v in contract.vars ? contract.vars[v] : contract.secrets[v]]));
    // Flux substitutes whenever its sources define a variable, used here or not: an unset one then becomes "" (or fails).
    const always = defined.size > 0;
    const safe = (vars: Record<string, string>) => {
        try {
            return render(vars, always);
        } catch (e) {
            throw e instanceof AppProblem ? fail(e.message) : e;
        }
    };
    const out = (Object.values(inputs).every((v) => typeof v === "string")
        ? pulumi.output(safe(inputs as Record<string, string>))
        : pulumi.all(inputs).apply(safe)) as pulumi.Output<T>;
    return usesSecrets(doc, contract) ? (pulumi.secret(out) as pulumi.Output<T>) : out;
}

/** The cluster-secrets keys a document uses. */
export function secretsUsed(doc: SubstitutedDocument, contract: ContractPart): string[] {
    return doc.variables.filter((v) => v in contract.secrets);
}

const usesSecrets = (doc: SubstitutedDocument, contract: ContractPart) => secretsUsed(doc, contract).length > 0;

/**
 * A release's values: its HelmRelease substituted with the contract's values (see {@link substituted}), its
 * `spec.values`.
 */
export function releaseValues(
    release: AppRelease, contract: ContractPart, strict: boolean, fail: (message: string) => Error = (m) => new AppProblem(m),
): pulumi.Output<Record<string, unknown>> {
    return substituted(release, contract, strict, fail, (vars, always) => renderValues(release, vars, strict, always));
}
