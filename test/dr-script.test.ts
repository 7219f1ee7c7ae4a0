// The disaster-recovery script's command lines and decisions, checked without running any CLI.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
    display, fluxRestoreNotes, hasStackKubeconfig, isYes, kubectlCheck, parseDrArgs, prerequisiteChecks,
    recoverySteps, refusal, stackFacts, stackListed, UsageError,
} from "../scripts/dr";
import { ROOT } from "../offline/runtime";

const line = (c: { cmd: string; args: string[] }) => [c.cmd, ...c.args].join(" ");

describe("dr arguments", () => {
    it("takes one stack and the flags", () => {
        expect(parseDrArgs(["infra"])).toEqual({ stack: "infra", yes: false, kubeconfigFile: undefined });
        expect(parseDrArgs(["--yes", "apps", "--kubeconfig", "new.yaml"])).toEqual({ stack: "apps", yes: true, kubeconfigFile: "new.yaml" });
        expect(parseDrArgs(["monosense/infra", "--kubeconfig=k"])).toEqual({ stack: "monosense/infra", yes: false, kubeconfigFile: "k" });
    });

    it.each([
        [[], "name one stack"],
        [["infra", "apps"], "name one stack"],
        [["infra", "--force"], "unknown option --force"],
        [["infra", "--kubeconfig"], "--kubeconfig needs a file"],
        [["infra", "--kubeconfig", "--yes"], "--kubeconfig needs a file"],
        [["infra;rm -rf /"], '"infra;rm -rf /" is not a stack name'],
    ])("rejects %j", (argv, message) => {
        expect(() => parseDrArgs(argv)).toThrow(UsageError);
        expect(() => parseDrArgs(argv)).toThrow(message);
    });
});

describe("dr without a terminal", () => {
    it("refuses to run unless --yes", () => {
        expect(refusal({ stack: "infra", yes: false }, false)).toMatch(/--yes/);
        expect(refusal({ stack: "infra", yes: true }, false)).toBeUndefined();
        expect(refusal({ stack: "infra", yes: false }, true)).toBeUndefined();
    });

    it("applies a step only on an explicit yes", () => {
        for (const a of ["y", "Y", "yes", " YES \n"]) expect(isYes(a)).toBe(true);
        for (const a of ["", "\n", "n", "no", "yep", "sure", "y es"]) expect(isYes(a)).toBe(false);
    });
});

describe("dr prerequisites", () => {
    const checks = prerequisiteChecks({ stack: "apps", yes: false });

    it("checks the CLI, the refresh flag it relies on, the login and the stack, in that order", () => {
        expect(checks.map((c) => line(c.command))).toEqual([
            "pulumi version",
            "pulumi refresh --help",
            "pulumi whoami --verbose",
            "pulumi stack ls --json",
        ]);
    });

    it("judges the refresh help by the --run-program flag", () => {
        const check = checks[1];
        expect(check.passes?.("Flags:\n      --run-program   Run the program to determine up-to-date state")).toBe(true);
        expect(check.passes?.("Flags:\n      --preview-only")).toBe(false);
    });

    it("finds the stack by short or qualified name", () => {
        const list = JSON.stringify([{ name: "infra" }, { name: "monosense/cluster-bootstrap/apps" }]);
        expect(stackListed(list, "infra")).toBe(true);
        expect(stackListed(list, "apps")).toBe(true);
        expect(stackListed(list, "monosense/apps")).toBe(true);
        expect(stackListed(list, "edge")).toBe(false);
        expect(stackListed("error: not logged in", "infra")).toBe(false);
        expect(checks[3].passes?.(list)).toBe(true);
        expect(checks[3].passes?.("[]")).toBe(false);
    });

    it("tells whether the stack stores its own kubeconfig", () => {
        expect(hasStackKubeconfig(JSON.stringify({ "cluster-bootstrap:kubeconfig": { secret: true } }))).toBe(true);
        expect(hasStackKubeconfig(JSON.stringify({ "cluster-bootstrap:cluster": { value: "{}" } }))).toBe(false);
        expect(hasStackKubeconfig("not json")).toBe(false);
    });

    it("asks the API server with the kubeconfig the run will use", () => {
        expect(line(kubectlCheck("/tmp/new"))).toBe("kubectl --kubeconfig /tmp/new version --request-timeout=15s");
        expect(line(kubectlCheck())).toBe("kubectl version --request-timeout=15s");
    });
});

describe("dr steps", () => {
    it("refreshes, then updates, each previewed first, all running the program", () => {
        const steps = recoverySteps({ stack: "infra", yes: false });
        expect(steps.map((s) => [s.preview && line(s.preview), line(s.apply)])).toEqual([
            ["pulumi refresh --stack infra --run-program --preview-only --diff", "pulumi refresh --stack infra --run-program --yes"],
            ["pulumi preview --stack infra --diff", "pulumi up --stack infra --yes"],
        ]);
    });

    it("never destroys, replaces or skips a preview", () => {
        for (const opts of [{ stack: "apps", yes: true, kubeconfigFile: "k" }, { stack: "apps", yes: false }]) {
            const all = recoverySteps(opts).flatMap((s) => [s.preview, s.apply]).filter((c) => c !== undefined);
            for (const c of all) {
                expect(c.args).not.toContain("destroy");
                expect(c.args.join(" ")).not.toMatch(/--skip-preview|--replace|--target|--remove|--show-secrets/);
                expect(c.args.join(" ")).toContain("--stack apps");
            }
        }
    });

    it("with --yes adds --non-interactive and still previews", () => {
        const steps = recoverySteps({ stack: "apps", yes: true });
        expect(steps.every((s) => s.preview?.args.includes("--non-interactive") && s.apply.args.includes("--non-interactive"))).toBe(true);
    });

    it("stores a new kubeconfig first, from standard input, as a secret", () => {
        const [first, ...rest] = recoverySteps({ stack: "infra", yes: false, kubeconfigFile: "/tmp/new.yaml" });
        expect(first.apply).toEqual({
            cmd: "pulumi", args: ["config", "set", "--secret", "kubeconfig", "--stack", "infra"], stdinFile: "/tmp/new.yaml",
        });
        // Never on the command line, where the process list and shell history would show it.
        expect(first.apply.args).not.toContain("/tmp/new.yaml");
        expect(display(first.apply)).toBe("pulumi config set --secret kubeconfig --stack infra < /tmp/new.yaml");
        expect(rest.map((s) => s.apply.args[0])).toEqual(["refresh", "up"]);
    });

    it("quotes what it shows", () => {
        expect(display({ cmd: "pulumi", args: ["up", "--message", "it's back"] })).toBe(`pulumi up --message 'it'\\''s back'`);
    });
});

describe("dr closing notes", () => {
    it.each(["infra", "apps"])("name what Flux restores for %s from the committed stack file", (stack) => {
        const facts = stackFacts(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
        expect(facts.repository).toBe("monosense/k8s-ops");
        expect(facts.path).toBe(`clusters/${stack}/flux`);
        expect(facts.buckets.map((b) => b.name)).toEqual([`${stack}-volsync`, `${stack}-cnpg`]);
        const text = fluxRestoreNotes(stack, facts).join("\n");
        expect(text).toContain(`monosense/k8s-ops@${facts.branch} path clusters/${stack}/flux`);
        expect(text).toContain(`${stack}-volsync (volsync)`);
        expect(text).toContain("sops-age");
    });

    it("copes with a stack file without gitops or buckets", () => {
        const facts = stackFacts("config:\n  github:owner: x\n");
        expect(facts).toEqual({ repository: undefined, branch: undefined, path: undefined, buckets: [] });
        expect(fluxRestoreNotes("edge", facts).join("\n")).toContain("the stack's GitOps repository");
    });
});
