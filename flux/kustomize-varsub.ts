// Flux's post-build variable substitution, as kustomize-controller applies it to each resource of a Kustomization,
// so that a platform release is installed with exactly the values Flux will later reconcile.
//
// Sources (fluxcd/pkg at e2cfd1a2):
// - kustomize/kustomize_varsub.go: `SubstituteVariables` skips a resource labelled or annotated
//   `kustomize.toolkit.fluxcd.io/substitute: disabled`; `LoadVariables` removes "\n" from every value;
//   `varSubstitution` refuses names not matching `^[_[:alpha:]][_[:alpha:][:digit:]]*$`, runs envsubst on the
//   resource's YAML text (non-strict: an unset variable maps to ("", true); strict: to ("", false)), then
//   converts the result with sigs.k8s.io/yaml `YAMLToJSON` (go-yaml v2, YAML 1.1 scalars);
//   substitution runs only when at least one variable exists (or with `substituteStrategy: Always`).
// - envsubst/{parse,template.go,funcs.go,path/match.go}: Flux's fork of drone/envsubst, ported in ./envsubst/.
//   Only `${` opens a substitution (`$VAR` stays text); `$$` is an escape for `$` (so `$${VAR}` prints `${VAR}`);
//   every default-style operator (`=`, `:=`, `:-`, also `-`, `+`, `:+`, `:?` where they parse) yields the
//   value when it is non-empty, else the concatenated arguments; `${VAR-x}` does not parse (missing closing brace).
// - kustomize-controller docs/spec/v1/kustomizations.md ("Post build variable substitution"): unset variables
//   become "" unless a default is given; from kustomize-controller v1.9 (Flux 2.9) the StrictPostBuildSubstitutions
//   feature gate is on by default and an unset variable without a default fails the reconciliation.
import { parse as parseYaml, type ParseOptions, type DocumentOptions, type SchemaOptions } from "yaml";
import { parseTemplate, SubstitutionError } from "./envsubst/parse";
import { evaluate, fluxFailure } from "./envsubst/template";

export { SubstitutionError } from "./envsubst/parse";
export { templateVariables } from "./envsubst/template";

/** Label or annotation that turns substitution off for one resource. */
export const SUBSTITUTE_ANNOTATION = "kustomize.toolkit.fluxcd.io/substitute";
const VAR_NAME = /^[_A-Za-z][_A-Za-z0-9]*$/;

export interface SubstituteOptions {
    /** StrictPostBuildSubstitutions: an unset variable without a default fails instead of becoming "". */
    strict: boolean;
    /** `substituteStrategy: Always`: substitute even when no variable is defined. */
    always?: boolean;
}

/** Variables as Flux loads them from ConfigMaps, Secrets and in-line `substitute`: every "\n" removed. */
export function loadVariables(vars: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.replaceAll("\n", "")]));
}

/**
 * One resource's YAML text after Flux's substitution, or undefined when Flux would not substitute at all (no variable
 * and not `always`). Throws {@link SubstitutionError} where Flux fails the Kustomization.
 */
export function substituteVariables(text: string, vars: Record<string, string>, opts: SubstituteOptions): string | undefined {
    if (Object.keys(vars).length === 0 && !opts.always) return undefined;
    for (const name of Object.keys(vars)) {
        if (!VAR_NAME.test(name)) throw new SubstitutionError(`'${name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'`);
    }
    const has = (name: string) => Object.prototype.hasOwnProperty.call(vars, name);
    try {
        return evaluate(parseTemplate(text), (name) => [has(name) ? vars[name] : "", !opts.strict || has(name)]);
    } catch (e) {
        throw fluxFailure(e);
    }
}

/** True when a resource's labels or annotations turn substitution off. */
export function substitutionDisabled(resource: unknown): boolean {
    const meta = (resource as { metadata?: { labels?: unknown; annotations?: unknown } } | null)?.metadata;
    const get = (m: unknown) => (m && typeof m === "object" ? (m as Record<string, unknown>)[SUBSTITUTE_ANNOTATION] : undefined);
    return get(meta?.labels) === "disabled" || get(meta?.annotations) === "disabled";
}

// go-yaml v2, as sigs.k8s.io/yaml YAMLToJSON uses it: YAML 1.1 booleans (yes/no/on/off/y/n) and octal 0777, but no
// base-60 numbers ("base 60 floats ... are purposefully unsupported"), and timestamps stay strings.
const GO_YAML_V2: ParseOptions & DocumentOptions & SchemaOptions = {
    version: "1.1",
    // A warning would be printed with the lines around it, after substitution (cluster-secrets' values included).
    logLevel: "error",
    customTags: (tags) => tags.filter((t) => typeof t === "string" || (t.format !== "TIME" && t.tag !== "tag:yaml.org,2002:timestamp")),
};

/**
 * A resource's YAML as Flux hands it on: after substitution through go-yaml v2 (so `enabled: ${X}` with X=yes is
 * the boolean true, fluxcd/flux2#4606), otherwise as kustomize parsed it (YAML 1.2).
 */
export function parseResource(text: string, substituted: boolean): unknown {
    return substituted ? parseYaml(text, GO_YAML_V2) : parseYaml(text, { logLevel: "error" });
}
