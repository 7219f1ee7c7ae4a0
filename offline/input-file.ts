// The files a user gives the offline plan (a stack file, `--stack-outputs`, `--cluster-state`, `--cloud-state`): each
// reader refuses a file with every problem at once, each naming the file and the place, never quoting a value.

/** A user's file that cannot be used; `problems` are the lines to print. One subclass per kind of file. */
export class InputFileError extends Error {
    constructor(public readonly problems: string[]) {
        super(problems.join("\n"));
        this.name = new.target.name;
    }
}
