/**
 * Execution names (SPEC 5.4): the field's name or one generated from the task, always
 * with a -<execution count> suffix, obeying AWS's rules. Pure functions.
 */
import { randomBytes } from "node:crypto";

export const MAX_NAME_LENGTH = 80;
/**
 * The largest execution count (UE_EXECUTION_COUNT) accepted: nine digits keep the
 * -<count> suffix at 10 characters, so a name of up to 70 characters still fits in 80.
 */
export const MAX_EXECUTION_COUNT = 999_999_999;

// AWS refuses whitespace, these characters, and control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for.
const FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

export interface NameContext {
  readonly taskName?: string | undefined;
  readonly taskInstanceId?: string | undefined;
  readonly executionCount: number;
}

/** Why a user-given name cannot be used, or null when it can. */
export function checkExecutionName(name: string, executionCount: number): string | null {
  const bad = FORBIDDEN.exec(name);
  if (bad) {
    const ch = bad[0];
    const shown = /\s/.test(ch)
      ? "whitespace"
      : ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) <= 0x9f)
        ? "a control character"
        : `"${ch}"`;
    return `must not contain ${shown}; AWS refuses whitespace, control characters and < > { } [ ] ? * " # % \\ ^ | ~ \` $ & , ; : /`;
  }
  const total = name.length + suffix(executionCount).length;
  if (total > MAX_NAME_LENGTH) {
    return `is ${name.length} characters; with the suffix ${suffix(executionCount)} it must fit in ${MAX_NAME_LENGTH}, so use at most ${MAX_NAME_LENGTH - suffix(executionCount).length}`;
  }
  return null;
}

function suffix(executionCount: number): string {
  return `-${executionCount}`;
}

/** Keep only A-Z a-z 0-9 - _ (so CloudWatch metrics work), collapsing runs of others. */
export function clean(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * The execution name for this run. Deterministic for the same task instance and count;
 * without a task instance id (command-line use) a unique stamp stands in for it.
 */
export function executionName(
  fieldName: string | undefined,
  context: NameContext,
  now: Date = new Date(),
): string {
  const tail = suffix(context.executionCount);
  if (fieldName) return `${fieldName}${tail}`;

  const instance = clean(context.taskInstanceId ?? "");
  const unique =
    instance ||
    `${now
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
  const room = MAX_NAME_LENGTH - tail.length - unique.length - 1;
  const task = clean(context.taskName ?? "") || "ue-aws-sfn";
  if (room <= 0) return `${unique.slice(0, MAX_NAME_LENGTH - tail.length)}${tail}`;
  const head = task.slice(0, room).replace(/-+$/, "");
  return `${head}-${unique}${tail}`;
}
