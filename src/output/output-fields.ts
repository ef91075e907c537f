/**
 * Output-only fields, written live (SPEC 3.3): one JSON object per line appended to
 * UE_OUTPUT_FIELDS_FILE the moment a value is known, so nothing is lost if the program
 * dies later.
 */
import { appendFileSync } from "node:fs";
import { mask } from "../secrets.ts";

export type OutputFieldName = "execution_arn" | "execution_status" | "generated_execution_name";

export interface OutputFields {
  set(values: Partial<Record<OutputFieldName, string>>): void;
  /** Everything set so far. */
  readonly current: Readonly<Partial<Record<OutputFieldName, string>>>;
}

/** Writer for the given file; with no file the values are only kept in memory. */
export function createOutputFields(path: string | undefined): OutputFields {
  const current: Partial<Record<OutputFieldName, string>> = {};
  return {
    current,
    set(values) {
      const changed: Partial<Record<OutputFieldName, string>> = {};
      for (const [key, value] of Object.entries(values) as Array<[OutputFieldName, string]>) {
        if (current[key] !== value) {
          current[key] = value;
          changed[key] = value;
        }
      }
      if (!path || Object.keys(changed).length === 0) return;
      // Synchronous append: the line is on disk before the program goes on.
      appendFileSync(path, `${mask(JSON.stringify(changed))}\n`, { mode: 0o600 });
    },
  };
}
