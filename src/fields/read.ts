/**
 * Read raw field values from where the controller or a person put them (SPEC 3.2):
 * UE_FIELDS_FILE, else UE_FIELD_* variables; command-line flags on top. Values are
 * turned into their runtime shapes here; type problems are collected, not thrown.
 */
import { readFileSync } from "node:fs";
import type { FieldProblem } from "../errors.ts";
import { registerSecret } from "../secrets.ts";
import { type FieldSpec, INPUT_FIELDS } from "./catalog.ts";
import { registerEndpointPasswords } from "./env-checks.ts";
import {
  type InvalidUtf8,
  invalidUtf8Sequences,
  jsonSyntaxError,
  locateInJson,
  replacementCharacterAt,
  unpairedSurrogateAt,
  urlPasswords,
} from "./text-checks.ts";
import type { FieldValue, FieldValues } from "./template-types.ts";

export interface RawFields {
  readonly values: FieldValues;
  readonly problems: readonly FieldProblem[];
  /** Where the values came from, for the log. */
  readonly source: string;
}

const BY_NAME = new Map(INPUT_FIELDS.map((f) => [f.name, f]));

/** The command-line flag of a field: --state-machine-arn for state_machine_arn. */
export function flagOf(field: FieldSpec): string {
  return `--${field.name.replaceAll("_", "-")}`;
}

function problem(field: FieldSpec, message: string): FieldProblem {
  return { field: field.name, label: field.label, message };
}

/**
 * A URL typed with credentials in it (refused later, but echoed and logged until then)
 * must not carry its password anywhere: register it at once.
 */
function registerUrlPasswords(field: FieldSpec, text: string): void {
  const urlField = field.name === "proxy" || field.name === "endpoint_url";
  for (const password of urlPasswords(text, { urlField })) registerSecret(password);
}

/** Convert one raw value to the runtime shape of its field; undefined means "not set". */
export function coerce(
  field: FieldSpec,
  raw: unknown,
  problems: FieldProblem[],
): FieldValue | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  switch (field.type) {
    case "Integer": {
      if (typeof raw === "number" && Number.isInteger(raw)) return raw;
      if (typeof raw === "string" && /^\s*[+-]?\d+\s*$/.test(raw)) return Number(raw.trim());
      problems.push(problem(field, `must be a whole number, got ${JSON.stringify(raw)}`));
      return undefined;
    }
    case "Boolean": {
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "string" && /^(true|false)$/i.test(raw.trim())) {
        return raw.trim().toLowerCase() === "true";
      }
      problems.push(problem(field, `must be true or false, got ${JSON.stringify(raw)}`));
      return undefined;
    }
    case "Choice": {
      const items = Array.isArray(raw) ? raw : [raw];
      if (items.length === 0) return undefined;
      if (!items.every((i): i is string => typeof i === "string")) {
        problems.push(problem(field, "must be one of the listed choices, as text"));
        return undefined;
      }
      return items.map((i) => i.trim());
    }
    case "Credential": {
      if (typeof raw !== "object" || Array.isArray(raw)) {
        problems.push(problem(field, 'must be a credential: an object with "user" and "password"'));
        return undefined;
      }
      const { user, password, token } = raw as {
        user?: unknown;
        password?: unknown;
        token?: unknown;
      };
      const u = typeof user === "string" ? user : "";
      const p = typeof password === "string" ? registerSecret(password) : "";
      const t = typeof token === "string" ? registerSecret(token) : "";
      if (u === "" && p === "" && t === "") return undefined;
      if (u === "" || p === "") {
        problems.push(problem(field, "needs both a user and a password"));
        return undefined;
      }
      return t === "" ? { user: u, password: p } : { user: u, password: p, token: t };
    }
    default:
      if (typeof raw === "string") {
        if (field.secret) registerSecret(raw);
        registerUrlPasswords(field, raw);
        return raw;
      }
      problems.push(problem(field, `must be text, got ${typeof raw}`));
      return undefined;
  }
}

const FILE_FIELD = "UE_FIELDS_FILE";

function fromFile(path: string, problems: FieldProblem[]): Record<string, unknown> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({
      field: FILE_FIELD,
      label: FILE_FIELD,
      message: `cannot read the fields file ${path}: ${reason}`,
    });
    return {};
  }
  const text = bytes.toString("utf8");
  const invalid = invalidUtf8Sequences(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Only the position: the text near the error can be a password.
    problems.push({
      field: FILE_FIELD,
      label: FILE_FIELD,
      message: `the fields file ${path} is not valid JSON: ${jsonSyntaxError(text, error)}`,
    });
    return {};
  }
  registerCredentialPasswords(parsed);
  if (invalid.length > 0) {
    // Values that would reach AWS altered are refused; the other fields are still checked.
    const located = invalidUtf8Problems(path, text, invalid);
    problems.push(...located.problems);
    if (!located.fields) return {};
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      for (const name of located.fields) delete (parsed as Record<string, unknown>)[name];
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push({
      field: FILE_FIELD,
      label: FILE_FIELD,
      message: "must hold a JSON object keyed by field name",
    });
    return {};
  }
  return parsed as Record<string, unknown>;
}

/** Register the passwords of a parsed fields file before anything else can see them. */
function registerCredentialPasswords(parsed: unknown): void {
  if (typeof parsed !== "object" || parsed === null) return;
  for (const [name, value] of Object.entries(parsed)) {
    const spec = BY_NAME.get(name);
    if (spec?.type === "Credential" && value && typeof value === "object") {
      const { password, token } = value as { password?: unknown; token?: unknown };
      if (typeof password === "string") registerSecret(password);
      if (typeof token === "string") registerSecret(token);
    } else if (spec?.secret && typeof value === "string") {
      registerSecret(value);
    }
  }
}

/**
 * One problem per field whose value holds bytes that are not UTF-8 (named by field and
 * position, never by content), and the fields to drop; null fields means the whole file
 * is unusable (a bad byte outside any value).
 */
function invalidUtf8Problems(
  path: string,
  text: string,
  sequences: readonly InvalidUtf8[],
): { problems: FieldProblem[]; fields: Set<string> | null } {
  const problems: FieldProblem[] = [];
  const fields = new Set<string>();
  const expected = "expected UTF-8 text";
  const places = locateInJson(
    text,
    sequences.map((s) => s.char),
  );
  for (const [i, sequence] of sequences.entries()) {
    const where = `byte ${sequence.byte + 1} of the fields file ${path}`;
    const place = places[i];
    const name = place?.path[0];
    if (!place || name === undefined) {
      const message = `is not valid UTF-8 at ${where}; ${expected}`;
      return { problems: [{ field: FILE_FIELD, label: FILE_FIELD, message }], fields: null };
    }
    if (fields.has(name)) continue;
    fields.add(name);
    const inner = place.path[1];
    const part = inner !== undefined && !/^\d+$/.test(inner) ? `${inner} ` : "";
    problems.push({
      field: name,
      label: BY_NAME.get(name)?.label ?? name,
      message: `${part}holds bytes that are not UTF-8 at character ${place.character} (${where}); ${expected}`,
    });
  }
  return { problems, fields };
}

/**
 * Text that would reach AWS altered is refused: an unpaired surrogate (from a \\uD800
 * escape), or, in text the system decoded for us (environment, command line), U+FFFD,
 * which is what bytes that were not UTF-8 turned into.
 */
function checkText(field: FieldSpec, raw: unknown, decodedBySystem: boolean): FieldProblem | null {
  const texts: Array<[string, unknown]> =
    raw && typeof raw === "object" && !Array.isArray(raw)
      ? Object.entries(raw as Record<string, unknown>).map(([k, v]) => [`${k} `, v])
      : Array.isArray(raw)
        ? raw.map((v) => ["", v])
        : [["", raw]];
  for (const [part, text] of texts) {
    if (typeof text !== "string") continue;
    const lone = unpairedSurrogateAt(text);
    if (lone >= 0) {
      return problem(
        field,
        `${part}holds an unpaired surrogate (half of a UTF-16 pair) at character ${lone + 1}; expected well-formed Unicode text`,
      );
    }
    const replaced = decodedBySystem ? replacementCharacterAt(text) : -1;
    if (replaced >= 0) {
      return problem(
        field,
        `${part}holds bytes that are not UTF-8 at character ${replaced + 1} (shown as U+FFFD); expected UTF-8 text`,
      );
    }
  }
  return null;
}

function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const field of INPUT_FIELDS) {
    const key = `UE_FIELD_${field.name.toUpperCase()}`;
    if (field.type === "Credential") {
      const user = env[`${key}_USER`];
      const password = registerSecret(env[`${key}_PASSWORD`]);
      const token = registerSecret(env[`${key}_TOKEN`]);
      if (user !== undefined || password !== undefined || token !== undefined) {
        raw[field.name] = { user: user ?? "", password: password ?? "", token: token ?? "" };
      }
    } else if (env[key] !== undefined) {
      raw[field.name] = field.secret ? registerSecret(env[key]) : env[key];
    }
  }
  return raw;
}

export interface ParsedArgs {
  readonly values: Record<string, unknown>;
  readonly fieldsFile?: string;
  readonly problems: readonly FieldProblem[];
}

/** Parse --flag value / --flag=value pairs; Boolean flags may stand alone. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  let fieldsFile: string | undefined;
  const flags = new Map(INPUT_FIELDS.map((f) => [flagOf(f), f]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const next = () => {
      if (inline !== undefined) return inline;
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) return undefined;
      i++;
      return value;
    };
    if (flag === "--fields-file") {
      fieldsFile = next();
      if (fieldsFile === undefined || fieldsFile === "") {
        problems.push({
          field: flag,
          label: flag,
          message: "needs the path of a JSON file of field values (--fields-file FILE)",
        });
        fieldsFile = undefined;
      }
      continue;
    }
    const field = flags.get(flag);
    if (!field) {
      problems.push({ field: flag, label: flag, message: "is not a known option (see --help)" });
      continue;
    }
    if (field.type === "Credential") {
      // A secret on the command line is visible to every user of the host.
      problems.push(
        problem(
          field,
          `cannot be given as a flag; use UE_FIELD_${field.name.toUpperCase()}_USER and _PASSWORD${field.usesToken ? " (and _TOKEN)" : ""}, a fields file, or the standard AWS credential chain`,
        ),
      );
      next();
      continue;
    }
    if (field.secret) {
      // The same holds for a task token: whoever holds it can answer for the task.
      registerSecret(next());
      problems.push(
        problem(
          field,
          `cannot be given as a flag (it would be visible to every user of the host); use UE_FIELD_${field.name.toUpperCase()} or a fields file`,
        ),
      );
      continue;
    }
    if (field.type === "Boolean") {
      if (inline === "") {
        problems.push(problem(field, `${flag}= needs true or false (got an empty value)`));
        continue;
      }
      const value = inline ?? (/^(true|false)$/i.test(argv[i + 1] ?? "") ? argv[++i] : "true");
      values[field.name] = value;
      continue;
    }
    const value = next();
    if (value === undefined || value.trim() === "") {
      problems.push(
        problem(
          field,
          `${flag} needs a value (got ${value === undefined ? "none" : "an empty one"})`,
        ),
      );
      continue;
    }
    values[field.name] = value;
  }
  return fieldsFile === undefined ? { values, problems } : { values, fieldsFile, problems };
}

/** Read every field value: file or environment first, then command-line flags on top. */
export function readFields(env: NodeJS.ProcessEnv, argv: readonly string[]): RawFields {
  const problems: FieldProblem[] = [];
  registerEndpointPasswords(env);
  const args = parseArgs(argv);
  problems.push(...args.problems);
  const file = args.fieldsFile ?? env["UE_FIELDS_FILE"];
  const base = file ? fromFile(file, problems) : fromEnvironment(env);
  const merged: Record<string, unknown> = { ...base, ...args.values };

  const values: FieldValues = {};
  for (const [name, raw] of Object.entries(merged)) {
    const spec = BY_NAME.get(name);
    if (!spec) {
      // Output-only fields echoed back by a controller are harmless; anything else is a typo.
      if (!["execution_arn", "execution_status", "generated_execution_name"].includes(name)) {
        problems.push({ field: name, label: name, message: "is not a field of this task" });
      }
      continue;
    }
    const textProblem = checkText(spec, raw, !file || name in args.values);
    if (textProblem) {
      problems.push(textProblem);
      continue;
    }
    const value = coerce(spec, raw, problems);
    if (value !== undefined) values[name] = value;
  }
  const source = file
    ? `fields file ${file}`
    : Object.keys(args.values).length > 0
      ? "command-line flags and UE_FIELD_* variables"
      : "UE_FIELD_* variables";
  return { values, problems, source };
}
