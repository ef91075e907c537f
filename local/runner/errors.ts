/** Errors the runner reports before or instead of launching a task. */

/** A task or workflow definition the controller would refuse; lists every problem at once. */
export class DefinitionError extends Error {
  readonly problems: readonly string[];

  constructor(subject: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`${subject}:\n  - ${problems.join("\n  - ")}`, options);
    this.name = "DefinitionError";
    this.problems = problems;
  }
}

/** The command line, or a file it names, cannot be used: exit code 2 with a one-line message. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}
