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
