/**
 * On/off settings the bridge passes in the environment (UE_CANCEL_ON_STDIN,
 * UE_REMOVE_FIELDS_FILE): 1 is on; 0, empty or unset is off; anything else is refused,
 * naming the variable, never taken as a silent off.
 */
import type { FieldProblem } from "../errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** Whether the switch is on: its value is 1. */
export function switchOn(env: Env, name: string): boolean {
  return env[name]?.trim() === "1";
}

/** The problem of a value other than 1, 0 or empty; `on` says what 1 does. */
export function switchProblem(env: Env, name: string, on: string): FieldProblem | undefined {
  const raw = env[name];
  if (raw === undefined || ["", "0", "1"].includes(raw.trim())) return undefined;
  return {
    field: name,
    label: name,
    message: `must be 1 (${on}) or 0 (got ${JSON.stringify(raw)})`,
  };
}
