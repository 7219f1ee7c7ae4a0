// renovate.json: valid JSON, and its custom managers find the versions in the real files, so renaming the constant
// or reshaping a stack file breaks this test instead of silently ending the upgrades.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { DEFAULT_OPERATOR_CHART_VERSION } from "../config";
import { ROOT } from "../config/keys";

interface CustomManager {
    customType: string;
    managerFilePatterns: string[];
    matchStrings: string[];
    datasourceTemplate?: string;
    depNameTemplate?: string;
    versioningTemplate?: string;
    extractVersionTemplate?: string;
}
interface PackageRule {
    matchDatasources?: string[];
    matchPackageNames?: string[];
    matchDepNames?: string[];
    matchManagers?: string[];
    groupName?: string;
    rangeStrategy?: string;
    dependencyDashboardApproval?: boolean;
    pinDigests?: boolean;
}
interface RenovateConfig {
    extends?: string[];
    customManagers: CustomManager[];
    packageRules: PackageRule[];
}

const text = fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8");
const config = JSON.parse(text) as RenovateConfig;

/** Repository files, relative and with forward slashes, as Renovate matches them. */
function repoFiles(dir = ROOT, prefix = ""): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        if (e.name === "node_modules" || e.name === ".git" || e.name === "bin") return [];
        const rel = prefix ? `${prefix}/${e.name}` : e.name;
        return e.isDirectory() ? repoFiles(path.join(dir, e.name), rel) : [rel];
    });
}

/** `managerFilePatterns` entries in `/regex/` form (the only form used here, so no glob semantics to guess). */
function filePattern(p: string): RegExp {
    const m = /^\/(.*)\/$/.exec(p);
    if (!m) throw new Error(`managerFilePatterns entry ${p} is not a /regex/`);
    return new RegExp(m[1]);
}

function manager(depName: string): CustomManager {
    const found = config.customManagers.filter((m) => m.depNameTemplate === depName);
    expect(found).toHaveLength(1);
    return found[0];
}

/** Runs a manager the way Renovate's regex manager does: every match string, globally, over each matched file. */
function extract(m: CustomManager): { file: string; currentValue: string }[] {
    const files = repoFiles().filter((f) => m.managerFilePatterns.some((p) => filePattern(p).test(f)));
    return files.flatMap((file) => {
        const content = fs.readFileSync(path.join(ROOT, file), "utf8");
        return m.matchStrings.flatMap((s) => [...content.matchAll(new RegExp(s, "g"))]
            .map((match) => ({ file, currentValue: match.groups?.currentValue ?? "" })));
    });
}

describe("renovate.json", () => {
    it("is JSON with the schema, a base preset and regex custom managers", () => {
        expect(() => JSON.parse(text)).not.toThrow();
        expect(config.extends).toContain("config:recommended");
        expect(config.customManagers.length).toBeGreaterThanOrEqual(2);
        for (const m of config.customManagers) {
            expect(m.customType).toBe("regex");
            for (const s of m.matchStrings) {
                expect(s).toContain("(?<currentValue>");
                // Renovate runs these on RE2: no lookaround, no backreferences.
                expect(s).not.toMatch(/\(\?<?[=!]|\\[1-9]/);
            }
        }
    });

    it("tracks the Flux Operator chart pinned in config/schema.ts", () => {
        const m = manager("ghcr.io/controlplaneio-fluxcd/charts/flux-operator");
        expect(m.datasourceTemplate).toBe("docker");
        expect(extract(m)).toEqual([{ file: "config/schema.ts", currentValue: DEFAULT_OPERATOR_CHART_VERSION }]);
    });

    it("tracks the Flux distribution range of every stack file", () => {
        const m = manager("fluxcd/flux2");
        expect(m.datasourceTemplate).toBe("github-releases");
        // Releases are tagged v2.7.0; the stack files hold ranges, which only npm versioning understands.
        expect(new RegExp(m.extractVersionTemplate ?? "").exec("v2.7.3")?.groups?.version).toBe("2.7.3");
        expect(m.versioningTemplate).toBe("npm");
        const stackFiles = repoFiles().filter((f) => /^Pulumi\.[^/]+\.yaml$/.test(f)).sort();
        expect(stackFiles).toEqual(["Pulumi.apps.yaml", "Pulumi.infra.yaml"]);
        const found = extract(m).sort((a, b) => a.file.localeCompare(b.file));
        expect(found).toEqual(stackFiles.map((file) => {
            const doc = parseYaml(fs.readFileSync(path.join(ROOT, file), "utf8")) as { config: Record<string, { version: string }> };
            return { file, currentValue: doc.config["cluster-bootstrap:flux"].version };
        }));
        expect(found.every((f) => /^\d+\.\d+\.x$/.test(f.currentValue))).toBe(true);
    });

    it("finds the flux version wherever it sits in the flux block, and nowhere else", () => {
        const [s] = manager("fluxcd/flux2").matchStrings;
        const first = (yaml: string) => new RegExp(s, "g").exec(yaml)?.groups?.currentValue;
        expect(first("config:\n  cluster-bootstrap:flux:\n    imageAutomation: true\n    version: \"2.8.x\"\n")).toBe("2.8.x");
        expect(first("config:\n  cluster-bootstrap:flux:\r\n    version: 2.7.x\r\n")).toBe("2.7.x");
        // Another key's version (here the chart's) is not the distribution.
        expect(first("config:\n  cluster-bootstrap:other:\n    version: 1.0.0\n")).toBeUndefined();
        expect(first("config:\n  cluster-bootstrap:flux:\n    version: 2.7.x\n  cluster-bootstrap:x:\n    version: 9.9.9\n")).toBe("2.7.x");
        // A flux block without a version must not borrow the next block's.
        expect(first("config:\n  cluster-bootstrap:flux:\n    imageAutomation: true\n  cluster-bootstrap:x:\n    version: 9.9.9\n")).toBeUndefined();
    });

    it("matches no file it was not meant for", () => {
        const all = repoFiles();
        for (const m of config.customManagers) {
            const hits = all.filter((f) => m.managerFilePatterns.some((p) => filePattern(p).test(f)));
            expect(hits.every((f) => f === "config/schema.ts" || /^Pulumi\.[^/]+\.yaml$/.test(f))).toBe(true);
            expect(hits).not.toContain("Pulumi.yaml");
        }
    });

    it("asks before widening the Flux range, and groups the Pulumi packages", () => {
        const flux = config.packageRules.find((r) => r.matchDepNames?.includes("fluxcd/flux2"));
        expect(flux).toMatchObject({ rangeStrategy: "replace", dependencyDashboardApproval: true });
        const pulumi = config.packageRules.find((r) => r.matchPackageNames?.includes("@pulumi/**"));
        expect(pulumi?.groupName).toBeTruthy();
        expect(pulumi?.matchDatasources).toEqual(["npm"]);
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as Record<string, Record<string, string>>;
        const pulumiDeps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((n) => n.startsWith("@pulumi/"));
        expect(pulumiDeps.length).toBeGreaterThanOrEqual(4);
    });

    it("pins every workflow action by commit, and keeps the commit and its version comment current", () => {
        // helpers:pinGitHubActionDigests sets pinDigests for the github-actions manager's `action` and `workflow`
        // dependencies; the manager reads `uses: owner/repo@<sha> # vX.Y.Z` as version vX.Y.Z at that digest and
        // rewrites both (renovate lib/modules/manager/github-actions/readme.md, "Digest pinning and updating").
        expect(config.extends).toContain("helpers:pinGitHubActionDigests");
        expect(config.packageRules.some((r) => r.pinDigests === false)).toBe(false);
        const dir = path.join(ROOT, ".github", "workflows");
        const uses = fs.readdirSync(dir).flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter((l) => /^\s*(?:-\s+)?uses:/.test(l)));
        expect(uses.length).toBeGreaterThanOrEqual(10);
        for (const line of uses) expect(line.trim()).toMatch(/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    });

    it("moves the workflows' Pulumi CLI with the SDK, in the same pull request", () => {
        // The github-actions manager reads pulumi/actions' `pulumi-version` as dependency `pulumi` (github-releases of
        // pulumi/pulumi; renovate lib/modules/manager/github-actions/known-actions/github-releases.ts).
        const sdk = config.packageRules.find((r) => r.matchPackageNames?.includes("@pulumi/**"));
        const cliAt = config.packageRules.findIndex((r) => r.matchDepNames?.includes("pulumi"));
        const cli = config.packageRules[cliAt];
        expect(cli).toMatchObject({ matchManagers: ["github-actions"], matchDepNames: ["pulumi"], groupName: sdk?.groupName });
        // Later rules win: the CLI's group must come after the rule that groups every workflow dependency.
        const actionsAt = config.packageRules.findIndex((r) => r.matchManagers?.includes("github-actions") && !r.matchDepNames);
        expect(actionsAt).toBeGreaterThanOrEqual(0);
        expect(cliAt).toBeGreaterThan(actionsAt);
    });
});
