/**
 * The form's rules as the controller applies them: which fields are shown, which are
 * required, which values are kept. Works on the template export itself, so the program,
 * the controller runner and the tests all read the same rules.
 */
import type { FieldValue, FieldValues, TemplateField } from "./template-types.ts";

export interface FormState {
  /** Names of the fields the form shows (output-only fields included). */
  readonly shown: ReadonlySet<string>;
  /** Names of the fields that must have a value. */
  readonly required: ReadonlySet<string>;
  /** The input values the controller sends: defaults applied, hidden values dropped. */
  readonly values: FieldValues;
  /** Required fields that have no value, in form order. */
  readonly missing: readonly string[];
}

/** True when the value counts as set (SPEC 3.2: absent or empty means not set). */
export function isSet(value: FieldValue | null | undefined): value is FieldValue {
  if (value === undefined || value === null) return false;
  if (typeof value === "string") return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return value.user.length > 0 || value.password.length > 0;
  return true;
}

/** Turn a template default (always a string) into the runtime shape of its field type. */
export function parseDefault(field: TemplateField): FieldValue | undefined {
  const raw = field.fieldValue;
  if (raw === null || raw === "") return undefined;
  switch (field.fieldType) {
    case "Integer":
      return Number(raw);
    case "Boolean":
      return raw === "true";
    case "Choice":
      return raw.split(",").map((v) => v.trim());
    case "Credential":
      return undefined;
    default:
      return raw;
  }
}

/** The strings a value compares as in a show-if or require-if rule. */
export function comparableValues(value: FieldValue | undefined): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  if (typeof value === "object") return [];
  return [String(value)];
}

function ruleValues(list: string | null): string[] {
  return (list ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** Evaluate the form for the given entered values (missing entries take their defaults). */
export function evaluateForm(fields: readonly TemplateField[], entered: FieldValues): FormState {
  const byMapping = new Map(fields.map((f) => [f.fieldMapping, f]));
  const effective = new Map<string, FieldValue | undefined>();
  for (const field of fields) {
    if (field.fieldRestriction === "Output Only") continue;
    const value = entered[field.name];
    effective.set(field.name, isSet(value) ? value : parseDefault(field));
  }

  const shownCache = new Map<string, boolean>();
  const isShown = (field: TemplateField, seen: Set<string>): boolean => {
    const cached = shownCache.get(field.name);
    if (cached !== undefined) return cached;
    let shown = true;
    if (field.showIfField) {
      const controller = byMapping.get(field.showIfField);
      if (!controller || seen.has(controller.name)) {
        shown = false;
      } else {
        seen.add(field.name);
        // A field that hangs on a hidden field is hidden too.
        shown =
          isShown(controller, seen) &&
          matches(effective.get(controller.name), field.showIfFieldValue);
      }
    }
    shownCache.set(field.name, shown);
    return shown;
  };

  const shown = new Set<string>();
  const required = new Set<string>();
  const values: FieldValues = {};
  const missing: string[] = [];
  for (const field of [...fields].sort((a, b) => a.sequence - b.sequence)) {
    const visible = isShown(field, new Set());
    if (visible) shown.add(field.name);
    if (field.fieldRestriction === "Output Only") continue;

    let mustHave = visible && (field.required || (field.requireIfVisible && !!field.showIfField));
    if (!mustHave && field.requireIfField) {
      const controller = byMapping.get(field.requireIfField);
      mustHave =
        !!controller &&
        isShown(controller, new Set()) &&
        matches(effective.get(controller.name), field.requireIfFieldValue);
    }
    if (mustHave) required.add(field.name);

    const value = effective.get(field.name);
    if ((visible || field.preserveValueIfHidden) && isSet(value)) values[field.name] = value;
    if (mustHave && !isSet(value)) missing.push(field.name);
  }
  return { shown, required, values, missing };
}

function matches(value: FieldValue | undefined, list: string | null): boolean {
  const wanted = ruleValues(list);
  return comparableValues(value).some((v) => wanted.includes(v));
}
