/**
 * Output-only fields, written live (SPEC 3.3): one JSON object per line appended to
 * UE_OUTPUT_FIELDS_FILE the moment a value is known, so nothing is lost if the program
 * dies later.
 *
 * A file that cannot be written (full disk, missing folder, no permission) does not end
 * the task: the execution's real outcome matters more than this side channel, and the
 * extension output carries the same values. The first failure is logged, naming the
 * file; the outcome's description mentions it; later updates are still tried.
 */
import { appendFileSync } from "node:fs";
import { maskJson, OWN_SHAPE } from "../secrets.ts";

export type OutputFieldName =
  | "execution_arn"
  | "execution_status"
  | "generated_execution_name"
  | "map_run_progress";

export interface OutputFields {
  set(values: Partial<Record<OutputFieldName, string>>): void;
  /** Everything set so far. */
  readonly current: Readonly<Partial<Record<OutputFieldName, string>>>;
  /** Why the file could not be written, naming it; undefined while every write worked. */
  readonly failure: string | undefined;
}

/** Writer for the given file; with no file the values are only kept in memory. */
export function createOutputFields(
  path: string | undefined,
  warn: (message: string) => void = () => {},
): OutputFields {
  const current: Partial<Record<OutputFieldName, string>> = {};
  let failure: string | undefined;
  return {
    current,
    get failure() {
      return failure;
    },
    set(values) {
      const changed: Partial<Record<OutputFieldName, string>> = {};
      for (const [key, value] of Object.entries(values) as Array<[OutputFieldName, string]>) {
        if (current[key] !== value) {
          current[key] = value;
          changed[key] = value;
        }
      }
      if (!path || Object.keys(changed).length === 0) return;
      try {
        // Synchronous append: the line is on disk before the program goes on.
        appendFileSync(path, `${maskJson(changed, undefined, OWN_SHAPE)}\n`, {
          mode: 0o600,
        });
      } catch (error) {
        if (failure === undefined) {
          failure = `output-only fields could not be written to ${path} (${writeFailureReason(error)})`;
          warn(`${failure}; the task goes on, and the extension output carries the same values`);
        }
      }
    },
  };
}

/** A file-system error said plainly, with its code. */
export function writeFailureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const plain: Record<string, string> = {
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOENT: "the folder does not exist",
    EISDIR: "it is a folder",
    EROFS: "read-only file system",
    EIO: "input/output error",
    EPIPE: "the pipe's reader has ended",
    EMFILE: "this process has too many open files",
    ENFILE: "this host has too many open files",
  };
  if (code && plain[code]) return `${plain[code]}, ${code}`;
  return code ?? (error instanceof Error ? error.message : String(error));
}
