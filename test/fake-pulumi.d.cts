// Types of test/fake-pulumi.cjs for the TypeScript tests that call it in-process.
/** What `pulumi <args>` answers in the scenario, or "hang" for a command that never finishes. */
export declare function answer(scenario: unknown, args: string[]): { code: number; stdout: string; stderr: string } | "hang";
