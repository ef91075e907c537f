/**
 * Read raw field values from where the controller or a person put them (SPEC 3.2):
 * UE_FIELDS_FILE, else UE_FIELD_* variables; command-line flags on top. Values are
 * turned into their runtime shapes here; type problems are collected, not thrown.
 */
import { readFileSync } from "node:fs";
import type { FieldProblem } from "../errors.ts";
import { registerSecret } from "../secrets.ts";
import { type FieldSpec, INPUT_FIELDS } from "./catalog.ts";
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
function registerUrlPasswords(text: string): void {
  for (const match of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s/@:]*):([^\s/@]+)@/gi)) {
    registerSecret(match[2]);
    try {
      registerSecret(decodeURIComponent(match[2] as string));
    } catch {
      // Not percent-encoded text: the raw form is registered.
    }
  }
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
      const { user, password } = raw as { user?: unknown; password?: unknown };
      const u = typeof user === "string" ? user : "";
      const p = typeof password === "string" ? registerSecret(password) : "";
      if (u === "" && p === "") return undefined;
      if (u === "" || p === "") {
        problems.push(problem(field, "needs both a user and a password"));
        return undefined;
      }
      return { user: u, password: p };
    }
    default:
      if (typeof raw === "string") {
        if (field.secret) registerSecret(raw);
        registerUrlPasswords(raw);
        return raw;
      }
      problems.push(problem(field, `must be text, got ${typeof raw}`));
      return undefined;
  }
}

function fromFile(path: string, problems: FieldProblem[]): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({
      field: "UE_FIELDS_FILE",
      label: "UE_FIELDS_FILE",
      message: `cannot read the fields file ${path}: ${reason}`,
    });
    return {};
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    problems.push({
      field: "UE_FIELDS_FILE",
      label: "UE_FIELDS_FILE",
      message: "must hold a JSON object keyed by field name",
    });
    return {};
  }
  // Register secrets before anything else can see them.
  for (const [name, value] of Object.entries(parsed)) {
    const spec = BY_NAME.get(name);
    if (spec?.type === "Credential" && value && typeof value === "object") {
      const password = (value as { password?: unknown }).password;
      if (typeof password === "string") registerSecret(password);
    } else if (spec?.secret && typeof value === "string") {
      registerSecret(value);
    }
  }
  return parsed as Record<string, unknown>;
}

function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const field of INPUT_FIELDS) {
    const key = `UE_FIELD_${field.name.toUpperCase()}`;
    if (field.type === "Credential") {
      const user = env[`${key}_USER`];
      const password = registerSecret(env[`${key}_PASSWORD`]);
      if (user !== undefined || password !== undefined) {
        raw[field.name] = { user: user ?? "", password: password ?? "" };
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
          `cannot be given as a flag; use UE_FIELD_${field.name.toUpperCase()}_USER and _PASSWORD, a fields file, or the standard AWS credential chain`,
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
      const value = inline ?? (/^(true|false)$/i.test(argv[i + 1] ?? "") ? argv[++i] : "true");
      values[field.name] = value;
      continue;
    }
    const value = next();
    if (value === undefined) {
      problems.push(problem(field, `${flag} needs a value`));
      continue;
    }
    values[field.name] = value;
  }
  return fieldsFile === undefined ? { values, problems } : { values, fieldsFile, problems };
}

/** Read every field value: file or environment first, then command-line flags on top. */
export function readFields(env: NodeJS.ProcessEnv, argv: readonly string[]): RawFields {
  const problems: FieldProblem[] = [];
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
