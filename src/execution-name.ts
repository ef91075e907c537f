/**
 * Execution names (SPEC 5.4): a base that belongs to one task instance (the Execution Name
 * field with a tag of the instance, or one generated from the task), then -<run number>.
 * Every name obeys AWS's rules. Pure functions.
 */
import { createHash, randomBytes } from "node:crypto";

export const MAX_NAME_LENGTH = 80;
/** The largest run number: nine digits keep the -<run> suffix at 10 characters. */
export const MAX_EXECUTION_COUNT = 999_999_999;
/** Room kept for -<run number>. */
const RUN_ROOM = 1 + String(MAX_EXECUTION_COUNT).length;
/** Length of the task instance tag (hex digits of a SHA-256 of the instance id). */
const TAG_LENGTH = 8;
/** The longest base: room for the run number within AWS's 80 characters. */
const MAX_BASE_LENGTH = MAX_NAME_LENGTH - RUN_ROOM;
/**
 * The longest Execution Name field: one fixed limit, whatever the run number, leaving room
 * for -<instance tag> (9 characters) and -<run number> (up to 10).
 */
export const MAX_EXECUTION_NAME_FIELD_LENGTH = MAX_BASE_LENGTH - 1 - TAG_LENGTH;

/** Why the Execution Name field is shorter than AWS's limit, for messages. */
export const EXECUTION_NAME_ROOM = `so that the task instance tag (-<${TAG_LENGTH} hex digits>) and the run number (-<up to 9 digits>) fit in AWS's ${MAX_NAME_LENGTH}`;

// AWS refuses whitespace, these characters, and control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we look for.
const FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

export interface NameContext {
  readonly taskName?: string | undefined;
  readonly taskInstanceId?: string | undefined;
}

/** Why a user-given name cannot be used, or null when it can. */
export function checkExecutionName(name: string): string | null {
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
  if (name.length > MAX_EXECUTION_NAME_FIELD_LENGTH) {
    return `is ${name.length} characters; use at most ${MAX_EXECUTION_NAME_FIELD_LENGTH}, ${EXECUTION_NAME_ROOM}`;
  }
  return null;
}

/** Keep only A-Z a-z 0-9 - _ (so CloudWatch metrics work), collapsing runs of others. */
export function clean(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** A short, stable tag of a task instance id: the first 8 hex digits of its SHA-256. */
export function instanceTag(taskInstanceId: string): string {
  return createHash("sha256").update(taskInstanceId, "utf8").digest("hex").slice(0, TAG_LENGTH);
}

export interface NameBase {
  /** The name without its -<run number>. */
  readonly base: string;
  /**
   * True when the base belongs to one task instance (or to one fixed Execution Name), so a
   * later run finds the earlier runs' executions by name; false for a one-off stamp.
   */
  readonly findable: boolean;
}

/** A compact UTC stamp and 6 random hex digits: unique per run, for runs nothing can find again. */
function stamp(now: Date): string {
  const time = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${time}-${randomBytes(3).toString("hex")}`;
}

/** The instance id as it appears in a generated name: whole when it is clean and short, else shortened with its tag. */
function instancePart(taskInstanceId: string): string {
  const cleaned = clean(taskInstanceId);
  if (cleaned === taskInstanceId && cleaned.length <= 40) return cleaned;
  const head = cleaned.slice(0, 30).replace(/-+$/, "");
  return head ? `${head}-${instanceTag(taskInstanceId)}` : instanceTag(taskInstanceId);
}

/**
 * The base of this task instance's execution names:
 * - Execution Name and task instance id: `<field>-<instance tag>`;
 * - Execution Name alone (a command line with a fixed name): the name itself;
 * - task instance id alone: `<task name>-<instance id>` (cleaned, at most 70 characters);
 * - neither: `<task name>-<UTC stamp>-<random>`, new on every run (not findable).
 */
export function executionBase(
  fieldName: string | undefined,
  context: NameContext,
  now: Date = new Date(),
): NameBase {
  const instanceId = context.taskInstanceId;
  if (fieldName) {
    return {
      base: instanceId ? `${fieldName}-${instanceTag(instanceId)}` : fieldName,
      findable: true,
    };
  }
  const unique = instanceId ? instancePart(instanceId) : stamp(now);
  const task = clean(context.taskName ?? "") || "ue-aws-sfn";
  const room = MAX_BASE_LENGTH - unique.length - 1;
  const head = task.slice(0, room).replace(/-+$/, "");
  return { base: head ? `${head}-${unique}` : unique, findable: !!instanceId };
}

/** The name of run number `run` of a base. */
export function runName(base: string, run: number | string): string {
  return `${base}-${run}`;
}

/**
 * A run suffix for executions nothing can find again (Express ones): the time in base 36
 * (8 characters until 2059), so each run's name differs within the room kept for a run number.
 */
export function oneOffRun(now: Date = new Date()): string {
  return now.getTime().toString(36);
}
