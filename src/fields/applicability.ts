/**
 * Which entered values the form hides for the chosen action and settings: the controller
 * would send those fields empty, so a value given for one outside a controller is a
 * mistake to name (--polling-interval with Stop Execution), not a value to drop in silence.
 */
import templateJson from "../../template/template.json" with { type: "json" };
import { ACTIONS, type FieldSpec, INPUT_FIELDS } from "./catalog.ts";
import type { FieldValues, Template } from "./template-types.ts";
import { comparableValues, evaluateForm, isSet } from "./visibility.ts";

const TEMPLATE = templateJson as Template;
const BY_NAME = new Map(INPUT_FIELDS.map((f) => [f.name, f]));

/** A value the form hides, and why: "does not apply to Stop Execution (...)". */
export interface HiddenValue {
  readonly field: FieldSpec;
  readonly reason: string;
}

/** The fields whose value decides whether another is shown. */
export const CONTROLLING_FIELDS: ReadonlySet<string> = new Set(
  INPUT_FIELDS.flatMap((f) => (f.showIf ? [f.showIf.field] : [])),
);

/** The conditions that show a field, from the field up to the one on Action. */
function conditionsOf(
  field: FieldSpec,
): Array<{ readonly on: FieldSpec; readonly values: readonly string[] }> {
  const chain: Array<{ on: FieldSpec; values: readonly string[] }> = [];
  let current: FieldSpec | undefined = field;
  while (current?.showIf) {
    const on = BY_NAME.get(current.showIf.field);
    if (!on) break;
    chain.push({ on, values: current.showIf.values });
    current = on;
  }
  return chain;
}

/** The value a field holds for the form: as entered, else its default. */
function effective(field: FieldSpec, entered: FieldValues): string[] {
  const value = entered[field.name];
  if (isSet(value)) return comparableValues(value);
  return field.default === undefined ? [] : [field.default];
}

/**
 * "does not apply to Start Asynchronous Execution while Wait for Success or Failure is
 * false (Polling Interval is used only when ...)": the condition nearest Action that fails.
 */
function reasonFor(field: FieldSpec, entered: FieldValues, action: string): string {
  const chain = conditionsOf(field);
  const rule = chain
    .map(
      (c, i) =>
        `${i === 0 ? field.label : "which"} is used only when ${c.on.label} is ${c.values.join(" or ")}`,
    )
    .join(", ");
  const failing = [...chain]
    .reverse()
    .find((c) => !effective(c.on, entered).some((v) => c.values.includes(v)));
  const held = failing ? effective(failing.on, entered)[0] : undefined;
  const when =
    failing && failing.on.name !== "action"
      ? ` while ${failing.on.label} is ${held ?? "empty"}`
      : "";
  return `does not apply to ${action}${when} (${rule})`;
}

/**
 * The set values of the entered fields that the form hides, each with the action and the
 * rule that hides it. Call it only when the action and the controlling fields are valid.
 */
export function hiddenValues(entered: FieldValues): HiddenValue[] {
  const form = evaluateForm(TEMPLATE.fields, entered);
  const chosen = entered["action"];
  const action = Array.isArray(chosen) && chosen[0] ? chosen[0] : ACTIONS.startAsync;
  const hidden: HiddenValue[] = [];
  for (const [name, value] of Object.entries(entered)) {
    const field = BY_NAME.get(name);
    if (!field || !isSet(value) || form.shown.has(name)) continue;
    hidden.push({ field, reason: reasonFor(field, entered, action) });
  }
  return hidden;
}
