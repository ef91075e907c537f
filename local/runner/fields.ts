/**
 * Turns a task definition's field values into what the controller sends: values checked
 * and converted to their runtime shapes (SPEC 3.2), credentials looked up by name, the
 * form's visibility and requirement rules applied (hidden values dropped unless
 * preserveValueIfHidden, defaults from fieldValue, required-when-shown enforced). A value
 * is checked only when the form keeps it.
 */
import type {
  FieldValue,
  FieldValues,
  Template,
  TemplateField,
} from "../../src/fields/template-types.ts";
import { evaluateForm, isSet, type FormState } from "../../src/fields/visibility.ts";
import { FIELDS } from "../../src/fields/catalog.ts";
import { type CredentialStore, isCredentialReference } from "./credentials.ts";

/** Text fields that hold a secret (a task token): shown masked, as credentials are. */
const SECRET_TEXT_FIELDS = new Set(
  FIELDS.filter((f) => f.secret && f.type !== "Credential").map((f) => f.name),
);

export interface PreparedFields {
  /** Exactly what goes into UE_FIELDS_FILE. */
  readonly values: FieldValues;
  readonly form: FormState;
  /** Fields given a value in the definition that the form hides, so the value is not sent. */
  readonly dropped: readonly string[];
  /** Secret strings sent to the program (credential parts), for leak checks and masking. */
  readonly secrets: readonly string[];
  /** Every problem found; the task must not launch when there is any. */
  readonly problems: readonly string[];
}

const INLINE_SECRET =
  'inline credentials are refused: give { "$credential": "<name>" } and keep the secret in the credentials file';

function describe(field: TemplateField): string {
  return `${field.label} (${field.name})`;
}

/** Check one definition value against its field and convert it; undefined means "not set". */
function convert(
  field: TemplateField,
  value: unknown,
  credentials: CredentialStore,
  problems: string[],
): FieldValue | undefined {
  const bad = (expected: string): undefined => {
    problems.push(`${describe(field)}: expected ${expected}, got ${JSON.stringify(value)}`);
    return undefined;
  };
  if (value === null || value === undefined) return undefined;
  if (field.fieldType === "Credential") {
    if (!isCredentialReference(value)) {
      problems.push(`${describe(field)}: ${INLINE_SECRET}`);
      return undefined;
    }
    if (value.$credential === "") return undefined;
    const credential = credentials.get(value.$credential);
    if (!credential) {
      problems.push(
        `${describe(field)}: no credential named "${value.$credential}" in the credentials file`,
      );
    }
    return credential;
  }
  if (isCredentialReference(value))
    return bad(`a ${field.fieldType} value (only Credential fields take $credential)`);

  switch (field.fieldType) {
    case "Integer": {
      if (value === "") return undefined;
      const n = typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) return bad("a whole number");
      if (field.intFieldMin !== null && n < field.intFieldMin)
        return bad(`at least ${field.intFieldMin}`);
      if (field.intFieldMax !== null && n > field.intFieldMax)
        return bad(`at most ${field.intFieldMax}`);
      return n;
    }
    case "Boolean":
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      return bad("true or false");
    case "Choice": {
      if (value === "") return undefined;
      const list = typeof value === "string" ? [value] : value;
      if (!Array.isArray(list) || !list.every((v): v is string => typeof v === "string")) {
        return bad("a choice (string) or a list of choices");
      }
      // A Dynamic Choice's values are whatever its choice command listed.
      const allowed = (field.choices ?? []).map((c) => c.fieldValue);
      const unknown = field.choiceDynamic ? [] : list.filter((v) => !allowed.includes(v));
      if (unknown.length > 0)
        return bad(`one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
      if (list.length > 1 && !field.choiceAllowMultiple) return bad("a single choice");
      return list;
    }
    default: {
      // Text, Large Text, Script: a JSON object or array is written out as JSON text, so an
      // input document can be given as JSON (the runner does so before references are
      // replaced: asFieldText).
      let text: string;
      if (typeof value === "string") text = value;
      else if (typeof value === "number" || typeof value === "boolean") text = String(value);
      else if (typeof value === "object" && field.fieldType !== "Text")
        text = JSON.stringify(value);
      else return bad("text");
      if (
        field.fieldLength !== null &&
        field.fieldType === "Text" &&
        text.length > field.fieldLength
      ) {
        return bad(`at most ${field.fieldLength} characters`);
      }
      return text;
    }
  }
}

/**
 * The definition's fields as the controller's form holds them before any reference is
 * replaced: a Large Text or Script value written as a JSON object or array stands for its
 * JSON text, so references inside it are replaced in that text, as the controller replaces
 * them in the field's text (a reference inside quotes stays inside the quotes).
 */
export function asFieldText(
  template: Template,
  fields: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields };
  for (const field of template.fields) {
    const value = fields[field.name];
    if (
      (field.fieldType === "Large Text" || field.fieldType === "Script") &&
      typeof value === "object" &&
      value !== null &&
      !isCredentialReference(value)
    ) {
      out[field.name] = JSON.stringify(value);
    }
  }
  return out;
}

/** Check names only: unknown fields, output-only fields, inline secrets (before any reference is resolved). */
export function checkFieldNames(
  template: Template,
  fields: Readonly<Record<string, unknown>>,
): string[] {
  const problems: string[] = [];
  const byName = new Map(template.fields.map((f) => [f.name, f]));
  for (const [name, value] of Object.entries(fields)) {
    const field = byName.get(name);
    if (!field) problems.push(`${name}: template "${template.name}" has no such field`);
    else if (field.fieldRestriction === "Output Only")
      problems.push(`${describe(field)}: output-only, the program sets it`);
    else if (field.fieldType === "Credential" && value !== null && !isCredentialReference(value)) {
      problems.push(`${describe(field)}: ${INLINE_SECRET}`);
    }
  }
  return problems;
}

/** Prepare the values to send for resolved definition fields. */
export function prepareFields(
  template: Template,
  fields: Readonly<Record<string, unknown>>,
  credentials: CredentialStore,
  /** Refuse a required field left empty (a task launch); a form being filled may have some. */
  enforceRequired = true,
): PreparedFields {
  const problems = checkFieldNames(template, fields);
  const entered: FieldValues = {};
  // A value's own problems count only if the form keeps it (below): the controller drops a
  // hidden field's value without looking at it.
  const refused = new Map<TemplateField, string[]>();
  for (const field of template.fields) {
    if (!Object.hasOwn(fields, field.name) || field.fieldRestriction === "Output Only") continue;
    const own: string[] = [];
    const value = convert(field, fields[field.name], credentials, own);
    if (value !== undefined) entered[field.name] = value;
    if (own.length > 0) refused.set(field, own);
  }
  const form = evaluateForm(template.fields, entered);
  const hiddenRefused: string[] = [];
  for (const [field, own] of refused) {
    if (form.shown.has(field.name) || field.preserveValueIfHidden) problems.push(...own);
    else hiddenRefused.push(field.name);
  }
  for (const name of enforceRequired ? form.missing : []) {
    const field = template.fields.find((f) => f.name === name);
    if (field) problems.push(`${describe(field)}: required, and has no value`);
  }
  const dropped = template.fields
    .map((f) => f.name)
    .filter(
      (name) => hiddenRefused.includes(name) || (isSet(entered[name]) && !(name in form.values)),
    );
  const secrets: string[] = [];
  for (const field of template.fields) {
    const value = form.values[field.name];
    if (
      field.fieldType === "Credential" &&
      value &&
      typeof value === "object" &&
      !Array.isArray(value)
    ) {
      secrets.push(value.password);
      if (value.token) secrets.push(value.token);
      // The access key id is not secret on its own, but nothing would print it either.
      secrets.push(value.user);
    }
    if (SECRET_TEXT_FIELDS.has(field.name) && typeof value === "string") secrets.push(value);
  }
  return {
    values: form.values,
    form,
    dropped,
    secrets: secrets.filter((s) => s.length >= 4),
    problems,
  };
}

/** The values with credential parts replaced by "****", for display. */
export function maskedValues(template: Template, values: FieldValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const field = template.fields.find((f) => f.name === name);
    out[name] =
      field?.fieldType === "Credential"
        ? typeof value === "object" && !Array.isArray(value) && value.token
          ? { user: "****", password: "****", token: "****" }
          : { user: "****", password: "****" }
        : SECRET_TEXT_FIELDS.has(name)
          ? "****"
          : value;
  }
  return out;
}
