/** JSONPath queries into a task's extension output (Goessner syntax, via jsonpath-plus). */
import { JSONPath } from "jsonpath-plus";

export type JsonPathResult =
  | { found: true; value: unknown }
  /** invalid: the path itself is wrong, rather than matching nothing. */
  | { found: false; reason: string; invalid: boolean };

/**
 * Query a document. One match gives that value; several give them as an array; none is
 * "not found", so a reference to a key that is absent never turns silently into "".
 */
export function queryJsonPath(document: unknown, path: string): JsonPathResult {
  if (!path.startsWith("$"))
    return { found: false, reason: `JSON path "${path}" must start with $`, invalid: true };
  let matches: unknown[];
  try {
    matches = JSONPath({ path, json: document as object, wrap: true, eval: "safe" }) as unknown[];
  } catch (error) {
    return {
      found: false,
      reason: `JSON path "${path}" is not valid: ${(error as Error).message}`,
      invalid: true,
    };
  }
  if (matches.length === 0)
    return { found: false, reason: `JSON path "${path}" matches nothing`, invalid: false };
  return { found: true, value: matches.length === 1 ? matches[0] : matches };
}
