/**
 * The JSONata query language, as far as the endpoint serves it: the library that runs the
 * states does not evaluate JSONata, so a Fail state's `Error` and `Cause` written as
 * `{% expression %}` are evaluated here (with `$states.input`). An expression that fails, or
 * gives no string, is AWS's States.QueryEvaluationError, recorded in an `EvaluationFailed`
 * history event naming the state and the field, as AWS records it.
 */
import jsonata from "jsonata";

const EXPRESSION = /^\{%([\s\S]*)%\}$/;

export type FailOutcome =
  | { kind: "failed"; error: string | undefined; cause: string | undefined }
  | {
      kind: "evaluation-failed";
      error: "States.QueryEvaluationError";
      cause: string;
      location: "Error" | "Cause";
    };

async function evaluate(text: unknown, input: unknown): Promise<string | undefined> {
  if (typeof text !== "string") return undefined;
  const m = EXPRESSION.exec(text.trim());
  if (!m) return text;
  const value = (await jsonata(m[1] as string).evaluate(input, {
    states: { input },
  })) as unknown;
  if (typeof value !== "string") {
    throw new Error(
      `The JSONata expression must give a string, it gave ${JSON.stringify(value) ?? "nothing"}`,
    );
  }
  return value;
}

/** A JSONata Fail state's Error and Cause, evaluated against the state's input. */
export async function jsonataFail(
  state: Record<string, unknown>,
  input: unknown,
): Promise<FailOutcome> {
  const parts: Record<"Error" | "Cause", string | undefined> = {
    Error: undefined,
    Cause: undefined,
  };
  for (const location of ["Error", "Cause"] as const) {
    try {
      parts[location] = await evaluate(state[location], input);
    } catch (e) {
      return {
        kind: "evaluation-failed",
        error: "States.QueryEvaluationError",
        cause: `An error occurred while evaluating the JSONata expression in field '${location}': ${(e as Error).message}`,
        location,
      };
    }
  }
  return { kind: "failed", error: parts.Error, cause: parts.Cause };
}

/** Whether a definition (or a state of it) uses JSONata. */
export function usesJsonata(
  definition: { QueryLanguage?: unknown },
  state?: Record<string, unknown>,
): boolean {
  const own = state?.["QueryLanguage"];
  return (own ?? definition.QueryLanguage) === "JSONata";
}
