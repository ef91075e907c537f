/**
 * The names a person gives fields by outside a controller (SPEC 3.3): a flag per field,
 * a UE_FIELD_* variable per field (Credential parts each their own), and the "<name>
 * file" twins of the Script fields. A name that matches none is refused with the name it
 * most likely meant, so a slip never runs a task with a field silently left out.
 */
import type { FieldProblem } from "../errors.ts";
import { type FieldSpec, INPUT_FIELDS, OUTPUT_FIELDS } from "./catalog.ts";
import { closestName } from "./closest-name.ts";

export const VARIABLE_PREFIX = "UE_FIELD_";

/** The command-line flag of a field: --state-machine-arn for state_machine_arn. */
export function flagOf(field: FieldSpec | string): string {
  const name = typeof field === "string" ? field : field.name;
  return `--${name.replaceAll("_", "-")}`;
}

/** The variable of a field (of a Credential, the stem its parts hang on). */
export function variableOf(field: FieldSpec | string): string {
  const name = typeof field === "string" ? field : field.name;
  return `${VARIABLE_PREFIX}${name.toUpperCase()}`;
}

/** The parts of a Credential, each its own variable: UE_FIELD_<NAME>_USER and so on. */
export const CREDENTIAL_PARTS = ["user", "password", "token"] as const;

/** A Script field's twin that names a file holding its text (Input: input_file). */
export interface FileTwin {
  readonly field: FieldSpec;
  /** The twin's key in a fields file. */
  readonly name: string;
  readonly flag: string;
  readonly variable: string;
}

/** The file twins: one per Script field (a Script is a file on a controller agent too). */
export const FILE_TWINS: readonly FileTwin[] = INPUT_FIELDS.filter((f) => f.type === "Script").map(
  (field) => {
    const name = `${field.name}_file`;
    return { field, name, flag: flagOf(name), variable: variableOf(name) };
  },
);

/** Every UE_FIELD_* variable the program reads, with the field it sets. */
function knownVariables(): Map<string, FieldSpec> {
  const known = new Map<string, FieldSpec>();
  for (const field of INPUT_FIELDS) {
    if (field.type === "Credential") {
      for (const part of CREDENTIAL_PARTS) {
        known.set(`${variableOf(field)}_${part.toUpperCase()}`, field);
      }
    } else {
      known.set(variableOf(field), field);
    }
  }
  for (const twin of FILE_TWINS) known.set(twin.variable, twin.field);
  return known;
}

function variableProblem(variable: string, message: string): FieldProblem {
  return { field: variable, label: variable, message };
}

/**
 * Problems with the UE_FIELD_* variables themselves: a name that is no field (with the
 * likeliest meant), an output-only field, and, when the values come from a fields file,
 * any variable at all (it would be ignored).
 */
export function variableNameProblems(
  env: NodeJS.ProcessEnv,
  fieldsFile: { readonly source: string; readonly path: string } | undefined,
): FieldProblem[] {
  const names = Object.keys(env).filter(
    (k) => k.startsWith(VARIABLE_PREFIX) && env[k] !== undefined,
  );
  if (names.length === 0) return [];
  const known = knownVariables();
  const outputOnly = new Map(OUTPUT_FIELDS.map((f) => [variableOf(f), f]));
  const problems: FieldProblem[] = [];
  for (const name of names.sort()) {
    const output = outputOnly.get(name);
    if (output) {
      problems.push(
        variableProblem(
          name,
          `names ${output.label}, an output-only field: the program sets it (in UE_OUTPUT_FIELDS_FILE and the extension output); remove the variable`,
        ),
      );
    } else if (!known.has(name)) {
      problems.push(variableProblem(name, unknownVariableMessage(name, [...known.keys()])));
    } else if (fieldsFile) {
      // A secret has no flag (secretFlagMessage): the fields file is its one other place.
      const field = known.get(name);
      const noFlag = field?.type === "Credential" || field?.secret === true;
      const where = noFlag
        ? "put the value in the fields file"
        : "put the value in the fields file or give it as a flag";
      problems.push(
        variableProblem(
          name,
          `is not read when the values come from a fields file (${fieldsFile.source} ${fieldsFile.path}); ${where}, or unset the variable`,
        ),
      );
    }
  }
  return problems;
}

function unknownVariableMessage(name: string, known: readonly string[]): string {
  const stem = INPUT_FIELDS.find((f) => f.type === "Credential" && variableOf(f) === name);
  if (stem) {
    return `is not a field variable: ${stem.label} is given in parts, ${CREDENTIAL_PARTS.map((p) => `${name}_${p.toUpperCase()}`).join(", ")}`;
  }
  // UE_FIELD_FILE for UE_FIELDS_FILE is a slip too.
  const meant = closestName(name, [...known, "UE_FIELDS_FILE"]);
  return `names no field of this task${meant ? `; did you mean ${meant}?` : ""} (field variables are ${VARIABLE_PREFIX}<NAME> for the names --help lists)`;
}

/**
 * Why a secret cannot be a flag, and what to use instead. A command line is visible to
 * every user of the host (ps, /proc) and lands in shell history and job definitions.
 */
export function secretFlagMessage(field: FieldSpec, flag: string): string {
  const variables =
    field.type === "Credential"
      ? `${variableOf(field)}_USER and ${variableOf(field)}_PASSWORD${field.usesToken ? ` (${variableOf(field)}_TOKEN for a session token)` : ""}`
      : variableOf(field);
  const instead =
    field.name === "credentials"
      ? `${variables}, a fields file, or the standard AWS credential chain`
      : `${variables} or a fields file`;
  return `${flag} cannot be given as a flag: a command line is visible to every user of the host and kept in shell history; use ${instead}`;
}

/** The flags that name a secret: each Credential and its parts, and secret Text fields. */
export function secretFlags(): Map<string, FieldSpec> {
  const flags = new Map<string, FieldSpec>();
  for (const field of INPUT_FIELDS) {
    if (field.type === "Credential") {
      flags.set(flagOf(field), field);
      for (const part of CREDENTIAL_PARTS) flags.set(`${flagOf(field)}-${part}`, field);
    } else if (field.secret) {
      flags.set(flagOf(field), field);
    }
  }
  return flags;
}
