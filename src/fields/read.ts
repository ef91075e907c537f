/**
 * Read raw field values from where the controller or a person put them (SPEC 3.2):
 * UE_FIELDS_FILE, else UE_FIELD_* variables; command-line flags on top. Values are
 * turned into their runtime shapes here; type problems are collected, not thrown.
 * Names that match no field, values the form hides and secrets given as flags are
 * refused here too, named by where they were given. The fields file is read once; the
 * bridge's (UE_REMOVE_FIELDS_FILE=1) is removed as soon as it has been read.
 */
import { unlinkSync } from "node:fs";
import { switchOn, switchProblem } from "../config/switch.ts";
import type { FieldProblem } from "../errors.ts";
import { registerSecret } from "../secrets.ts";
import { CONTROLLING_FIELDS, hiddenValues } from "./applicability.ts";
import { type FieldSpec, INPUT_FIELDS, OUTPUT_FIELDS } from "./catalog.ts";
import { closestName } from "./closest-name.ts";
import { registerEndpointPasswords } from "./env-checks.ts";
import { fileErrorWords, type PipesAhead, readBounded, readPipe } from "./named-file.ts";
import {
  CREDENTIAL_PARTS,
  FILE_TWINS,
  type FileTwin,
  flagOf,
  secretFlagMessage,
  secretFlags,
  variableNameProblems,
  variableOf,
} from "./names.ts";
import { MAX_INPUT_BYTES } from "./validate.ts";
import {
  type InvalidUtf8,
  invalidUtf8At,
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
  /** Things worth a warning in the log that do not stop the task. */
  readonly warnings: readonly string[];
  /** Where the values came from, for the log. */
  readonly source: string;
  /** Fields whose given value was refused, with that value as given (for the echo). */
  readonly refused: ReadonlyMap<string, unknown>;
  /** The fields file the values came from, if any. */
  readonly file?: FieldsFile;
}

/** The bridge's request to remove its fields file once read (see removableFieldsFile). */
export const REMOVE_FIELDS_FILE = "UE_REMOVE_FIELDS_FILE";

const BY_NAME = new Map(INPUT_FIELDS.map((f) => [f.name, f]));
const OUTPUT_NAMES: ReadonlySet<string> = new Set(OUTPUT_FIELDS.map((f) => f.name));

export { flagOf } from "./names.ts";

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

const BOM = "\uFEFF";

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
        // A byte order mark is a file's encoding, not its text (a Script saved by a Windows
        // editor reaches the program with it), as for a file named by a flag.
        const text = field.type === "Script" && raw.startsWith(BOM) ? raw.slice(1) : raw;
        if (text === "") return undefined;
        if (field.secret) registerSecret(text);
        registerUrlPasswords(field, text);
        return text;
      }
      problems.push(problem(field, `must be text, got ${typeof raw}`));
      return undefined;
  }
}

/** Where the fields file was named: the flag or the variable, and the path. */
export interface FieldsFile {
  readonly source: "--fields-file" | "UE_FIELDS_FILE";
  readonly path: string;
}

/** Far above any real fields file (two Script fields of 256 KiB each), far below harm. */
const FIELDS_FILE_MAX_BYTES = 4 * 1024 * 1024;

function fromFile(
  file: FieldsFile,
  problems: FieldProblem[],
  ahead: PipesAhead | undefined,
): Record<string, unknown> {
  const { path } = file;
  // The file is named as it was given: "--fields-file /x/y: no such file".
  const named = `${file.source} ${path}`;
  const fileProblem = (message: string) =>
    problems.push({ field: file.source, label: named, message });
  const read = readBounded(path, FIELDS_FILE_MAX_BYTES, ahead);
  // Kept, so a later round (see PipesAhead) reads the file from here, not from disk again:
  // the file is read once, and may be removed once it has been.
  if (ahead && !ahead.pending.has(path)) ahead.got.set(path, read);
  if ("error" in read) {
    fileProblem(read.error);
    return {};
  }
  if ("tooLarge" in read) {
    fileProblem(
      `holds more than ${FIELDS_FILE_MAX_BYTES} bytes; a fields file holds field values only`,
    );
    return {};
  }
  const bytes = read.bytes;
  // A byte order mark (Windows PowerShell 5 writes one) read as a blank: same positions.
  const decoded = bytes.toString("utf8");
  const text = decoded.startsWith(BOM) ? ` ${decoded.slice(1)}` : decoded;
  const invalid = invalidUtf8Sequences(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Only the position: the text near the error can be a password.
    fileProblem(`is not valid JSON: ${jsonSyntaxError(text, error)}`);
    return {};
  }
  registerCredentialPasswords(parsed);
  if (invalid.length > 0) {
    // Values that would reach AWS altered are refused; the other fields are still checked.
    const located = invalidUtf8Problems(file, text, invalid);
    problems.push(...located.problems);
    if (!located.fields) return {};
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      for (const name of located.fields) delete (parsed as Record<string, unknown>)[name];
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    fileProblem("must hold a JSON object keyed by field name");
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
  file: FieldsFile,
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
    const where = `byte ${sequence.byte + 1} of the fields file ${file.path}`;
    const place = places[i];
    const name = place?.path[0];
    if (!place || name === undefined) {
      const message = `is not valid UTF-8 at ${where}; ${expected}`;
      const label = `${file.source} ${file.path}`;
      return { problems: [{ field: file.source, label, message }], fields: null };
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
  /** Values by field name (a file twin's by its own name: input_file). */
  readonly values: Record<string, unknown>;
  readonly fieldsFile?: string;
  readonly problems: readonly FieldProblem[];
  /** Flags given more than once (the last value counts), each said once. */
  readonly warnings: readonly string[];
}

/** Flags that are no field, as a misspelt flag may have meant them. */
const PROGRAM_FLAGS = ["--fields-file", "--help", "--version", "--list"];

/** Whether an argument can be the value of the flag before it. */
function isValue(arg: string | undefined): arg is string {
  return arg !== undefined && !arg.startsWith("--") && arg !== "-h";
}

/**
 * Parse --flag value / --flag=value pairs; Boolean flags may stand alone. A value is never
 * quoted back: it can be a secret given by mistake.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  let fieldsFile: string | undefined;
  const flags = new Map(
    INPUT_FIELDS.filter((f) => f.type !== "Credential" && !f.secret).map((f) => [flagOf(f), f]),
  );
  const twins = new Map(FILE_TWINS.map((t) => [t.flag, t]));
  const secrets = secretFlags();
  /** How often each flag that sets something was given (a wrapper may append overrides). */
  const given = new Map<string, number>();
  const count = (flag: string) => given.set(flag, (given.get(flag) ?? 0) + 1);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("-") || arg === "-") {
      problems.push({
        field: `argument ${i + 1}`,
        label: `argument ${i + 1}`,
        message:
          "is not a flag and follows no flag that takes a value (flags start with --; a value with spaces needs quotes)",
      });
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const next = () => {
      if (inline !== undefined) return inline;
      const value = argv[i + 1];
      if (!isValue(value)) return undefined;
      i++;
      return value;
    };
    if (flag === "--help" || flag === "-h" || flag === "--version") continue;
    if (flag === "--fields-file") {
      count(flag);
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
    const secret = secrets.get(flag);
    if (secret) {
      // A secret on the command line is visible to every user of the host.
      const value = registerSecret(next());
      // "--credentials user:password": the password alone is masked too.
      const colon = value?.indexOf(":") ?? -1;
      if (value && colon >= 0) registerSecret(value.slice(colon + 1));
      problems.push(problem(secret, secretFlagMessage(secret, flag)));
      continue;
    }
    const twin = twins.get(flag);
    const field = flags.get(flag);
    if (!field && !twin) {
      problems.push(unknownFlag(flag, inline, argv[i + 1], () => next()));
      continue;
    }
    if (field?.type === "Boolean") {
      if (inline === "") {
        problems.push(problem(field, `${flag}= needs true or false (got an empty value)`));
        continue;
      }
      const value = inline ?? (/^(true|false)$/i.test(argv[i + 1] ?? "") ? argv[++i] : "true");
      values[field.name] = value;
      count(flag);
      continue;
    }
    const value = next();
    if (value === undefined || value.trim() === "") {
      const got = value === undefined ? "none" : "an empty one";
      problems.push(
        twin
          ? problem(twin.field, `${flag} needs the path of a file (got ${got})`)
          : problem(field as FieldSpec, `${flag} needs a value (got ${got})`),
      );
      continue;
    }
    values[twin ? twin.name : (field as FieldSpec).name] = value;
    count(flag);
  }
  const warnings = [...given]
    .filter(([, times]) => times > 1)
    .map(([flag, times]) => `${flag} is given ${times} times; the last one is used`);
  return fieldsFile === undefined
    ? { values, problems, warnings }
    : { values, fieldsFile, problems, warnings };
}

/**
 * An unknown flag, with the flag it most likely meant. Its value (the next argument,
 * unless the meant flag is a Boolean one) is taken with it, so it is not a second problem;
 * a value meant for a secret flag is registered as a secret. The problem counts against
 * the meant field, which is then not reported as missing too.
 */
function unknownFlag(
  flag: string,
  inline: string | undefined,
  following: string | undefined,
  take: () => string | undefined,
): FieldProblem {
  const secrets = secretFlags();
  const known = [
    ...INPUT_FIELDS.filter((f) => f.type !== "Credential" && !f.secret).map((f) => flagOf(f)),
    ...FILE_TWINS.map((t) => t.flag),
    ...secrets.keys(),
    ...PROGRAM_FLAGS,
  ];
  const meant = closestName(flag, known);
  const meantField = meant ? INPUT_FIELDS.find((f) => flagOf(f) === meant) : undefined;
  const takesValue =
    meantField?.type !== "Boolean" || /^(true|false)$/i.test(inline ?? following ?? "");
  const value = takesValue && meant !== "--help" && meant !== "--version" ? take() : undefined;
  const meantSecret = meant ? secrets.get(meant) : undefined;
  if (meantSecret) registerSecret(value);
  const hint = !meant
    ? ""
    : meantSecret
      ? `; did you mean ${meant}? ${secretFlagMessage(meantSecret, meant)}`
      : `; did you mean ${meant}?`;
  // Counted against the field it meant, so that field is not reported missing as well.
  const field = meantField?.name ?? meantSecret?.name ?? flag;
  return { field, label: flag, message: `is not a known flag${hint} (see --help)` };
}

/** Values by field name, and for each, where it was given ("--input-file", "UE_FIELD_REGION"). */
interface Sourced {
  readonly values: Record<string, unknown>;
  readonly origins: Map<string, string>;
}

/** The variables that set a field (of a Credential, the parts that are set, joined by "and"). */
function variablesOf(field: FieldSpec, env: NodeJS.ProcessEnv): string {
  if (field.type !== "Credential") return variableOf(field);
  const parts = CREDENTIAL_PARTS.map((p) => `${variableOf(field)}_${p.toUpperCase()}`).filter(
    (v) => env[v] !== undefined,
  );
  return parts.join(" and ");
}

/** The fields file, else the UE_FIELD_* variables, each value with its origin. */
function fromBase(
  env: NodeJS.ProcessEnv,
  file: FieldsFile | undefined,
  problems: FieldProblem[],
  ahead: PipesAhead | undefined,
): Sourced {
  const origins = new Map<string, string>();
  if (file) {
    const values = fromFile(file, problems, ahead);
    for (const name of Object.keys(values)) origins.set(name, `${name} in the fields file`);
    return { values, origins };
  }
  const values = fromEnvironment(env);
  for (const name of Object.keys(values)) {
    const field = INPUT_FIELDS.find((f) => f.name === name);
    if (field) origins.set(name, variablesOf(field, env));
  }
  for (const twin of FILE_TWINS) {
    const path = env[twin.variable];
    if (path !== undefined && path !== "") {
      values[twin.name] = path;
      origins.set(twin.name, twin.variable);
    }
  }
  return { values, origins };
}

/** Read a file twin's file into its field's text; a problem (by field, naming the file) if not. */
function readTwinFile(
  twin: FileTwin,
  path: string,
  origin: string,
  ahead: PipesAhead | undefined,
): string | FieldProblem {
  const fail = (message: string) => problem(twin.field, `${origin} ${path}: ${message}`);
  // Room for a byte order mark, which is the file's encoding, not the text.
  const read = readBounded(path, MAX_INPUT_BYTES + 3, ahead);
  if ("error" in read) return fail(read.error);
  const tooLarge = `holds more than ${MAX_INPUT_BYTES} bytes; Step Functions accepts at most ${MAX_INPUT_BYTES} bytes (UTF-8)`;
  if ("tooLarge" in read) return fail(tooLarge);
  const bom = read.bytes[0] === 0xef && read.bytes[1] === 0xbb && read.bytes[2] === 0xbf;
  const bytes = bom ? read.bytes.subarray(3) : read.bytes;
  if (bytes.length > MAX_INPUT_BYTES) return fail(tooLarge);
  const invalid = invalidUtf8At(bytes);
  if (invalid >= 0) {
    const byte = invalid + 1 + (bom ? 3 : 0);
    return fail(`holds bytes that are not UTF-8 at byte ${byte}; expected UTF-8 text`);
  }
  const text = bytes.toString("utf8");
  // Empty means not set, as for the field itself and a controller's empty Script.
  if (text.trim() === "") return "";
  try {
    JSON.parse(text);
  } catch (error) {
    return fail(`is not valid JSON: ${jsonSyntaxError(text, error)}`);
  }
  return text;
}

/**
 * A Script field and its file twin are one setting: flags replace both as given in the
 * file or variables; given both at one level, it is a problem naming both. The twin's file
 * is read into the field.
 */
function resolveFileTwins(
  merged: Record<string, unknown>,
  origins: Map<string, string>,
  problems: FieldProblem[],
  warnings: string[],
  ahead: PipesAhead | undefined,
): Set<string> {
  const filled = new Set<string>();
  for (const twin of FILE_TWINS) {
    const path = merged[twin.name];
    delete merged[twin.name];
    if (path === undefined || path === null || path === "") continue;
    const origin = origins.get(twin.name) ?? twin.name;
    if (typeof path !== "string") {
      problems.push(problem(twin.field, `${origin} must be the path of a file, as text`));
      continue;
    }
    const direct = merged[twin.field.name];
    if (direct !== undefined && direct !== "") {
      const both = `${origins.get(twin.field.name)} and ${origins.get(twin.name)}`;
      problems.push(problem(twin.field, `is given twice: ${both}; give one of them`));
      delete merged[twin.field.name];
      continue;
    }
    const read = readTwinFile(twin, path, origin, ahead);
    if (typeof read !== "string") {
      problems.push(read);
      delete merged[twin.field.name];
      continue;
    }
    if (read === "") {
      // Said, since an empty file can be a step before that failed.
      warnings.push(
        `${twin.field.label}: ${origin} ${path} is empty; taken as not set, so {} is used`,
      );
    }
    merged[twin.field.name] = read;
    origins.set(twin.field.name, `${origin} ${path}`);
    filled.add(twin.field.name);
  }
  return filled;
}

/** Whether the values that decide visibility are sound enough to judge hidden values by. */
function visibilityDecidable(values: FieldValues, problems: readonly FieldProblem[]): boolean {
  if (problems.some((p) => CONTROLLING_FIELDS.has(p.field))) return false;
  for (const name of CONTROLLING_FIELDS) {
    const spec = BY_NAME.get(name);
    const value = values[name];
    if (spec?.type === "Choice" && Array.isArray(value)) {
      if (value.length !== 1 || !spec.choices?.includes(value[0] as string)) return false;
    }
  }
  return true;
}

/**
 * Read every field value: file or environment first, then command-line flags on top. With
 * `ahead`, a file that is a pipe is noted in it rather than read (see PipesAhead): the
 * result is then incomplete until the pipes are read and readFields is called again.
 */
export function readFields(
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
  ahead?: PipesAhead,
): RawFields {
  const problems: FieldProblem[] = [];
  const warnings: string[] = [];
  registerEndpointPasswords(env);
  const args = parseArgs(argv);
  problems.push(...args.problems);
  warnings.push(...args.warnings);
  if (args.fieldsFile !== undefined && env["UE_FIELDS_FILE"]) {
    warnings.push("--fields-file is used; UE_FIELDS_FILE, also set, is ignored");
  }
  const filePath = args.fieldsFile ?? env["UE_FIELDS_FILE"];
  const file: FieldsFile | undefined = filePath
    ? { source: args.fieldsFile ? "--fields-file" : "UE_FIELDS_FILE", path: filePath }
    : undefined;
  // Before anything is read: a misspelt variable must not let the task run without it.
  problems.push(...variableNameProblems(env, file));
  const removal = switchProblem(
    env,
    REMOVE_FIELDS_FILE,
    "the file UE_FIELDS_FILE names is removed once read",
  );
  if (removal) problems.push(removal);
  const base = fromBase(env, file, problems, ahead);
  for (const twin of FILE_TWINS) {
    if (twin.name in args.values || twin.field.name in args.values) {
      delete base.values[twin.name];
      delete base.values[twin.field.name];
    }
  }
  const merged: Record<string, unknown> = { ...base.values, ...args.values };
  const origins = new Map(base.origins);
  for (const name of Object.keys(args.values)) origins.set(name, flagOf(name));
  const fromFiles = resolveFileTwins(merged, origins, problems, warnings, ahead);

  const values: FieldValues = {};
  const refused = new Map<string, unknown>();
  for (const [name, raw] of Object.entries(merged)) {
    const spec = BY_NAME.get(name);
    if (!spec) {
      // Output-only fields echoed back by a controller are harmless; anything else is a typo.
      if (!OUTPUT_NAMES.has(name)) {
        const meant = closestName(name, [...BY_NAME.keys(), ...FILE_TWINS.map((t) => t.name)]);
        const hint = meant ? `; did you mean ${meant}?` : "";
        problems.push({ field: name, label: name, message: `is not a field of this task${hint}` });
      }
      continue;
    }
    // Text the system decoded (environment, command line) shows bad bytes as U+FFFD.
    const fromSystem = (!file || name in args.values) && !fromFiles.has(name);
    const textProblem = checkText(spec, raw, fromSystem);
    if (textProblem) {
      problems.push(textProblem);
      refused.set(name, raw);
      continue;
    }
    const before = problems.length;
    const value = coerce(spec, raw, problems);
    if (value !== undefined) values[name] = value;
    else if (problems.length > before) refused.set(name, raw);
  }

  if (visibilityDecidable(values, problems)) {
    for (const hidden of hiddenValues(values)) {
      const name = hidden.field.name;
      const origin = origins.get(name) ?? name;
      if (file && !(name in args.values)) {
        // The controller's own channel: what it sends for hidden fields is its business.
        const value = values[name];
        const isDefault =
          hidden.field.default === undefined
            ? value === false
            : String(value) === hidden.field.default;
        if (!isDefault) {
          warnings.push(`${hidden.field.label}: ${origin} ${hidden.reason}; it is ignored`);
        }
      } else {
        problems.push(problem(hidden.field, `${origin} ${hidden.reason}; remove it`));
      }
    }
  }
  const source = file
    ? `fields file ${file.path}`
    : Object.keys(args.values).length > 0
      ? "command-line flags and UE_FIELD_* variables"
      : "UE_FIELD_* variables";
  return file
    ? { values, problems, warnings, source, refused, file }
    : { values, problems, warnings, source, refused };
}

/**
 * The file to remove once read: the one UE_FIELDS_FILE names, with UE_REMOVE_FIELDS_FILE=1
 * (the bridge's own, which holds the task's credentials and would otherwise stay on disk
 * while the task waits). A file named by --fields-file is never removed.
 */
function removableFieldsFile(env: NodeJS.ProcessEnv, raw: RawFields): string | undefined {
  if (!switchOn(env, REMOVE_FIELDS_FILE)) return undefined;
  return raw.file?.source === "UE_FIELDS_FILE" ? raw.file.path : undefined;
}

/**
 * Remove the fields file. A failure is a warning, never the task's end: the task can run
 * without it, but the operator should know that the file, with any credentials it holds,
 * stays on disk (on Windows a killed bridge's run folder is never cleaned). A file already
 * gone is what was wanted: nothing to say.
 */
function removeFieldsFile(path: string): string | undefined {
  try {
    unlinkSync(path);
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return `UE_FIELDS_FILE ${path} could not be removed once read (${fileErrorWords(error)}); it stays on disk, with any credentials it holds, until it is removed otherwise (the bridge removes its run folder at the end)`;
  }
}

/**
 * readFields, with the files that are pipes read asynchronously (see PipesAhead): a fields
 * file, then the files it names. A cancel while a pipe is still being waited for stops the
 * wait: `waitingFor` names that pipe.
 */
export async function readFieldsWaiting(
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
  signal?: AbortSignal,
): Promise<RawFields | { readonly waitingFor: string; readonly warnings: readonly string[] }> {
  const ahead: PipesAhead = { got: new Map(), pending: new Map() };
  const warnings: string[] = [];
  let removed = false;
  for (;;) {
    const raw = readFields(env, argv, ahead);
    const removable = removed ? undefined : removableFieldsFile(env, raw);
    // As soon as it has been read (a pipe: in a later round), before any call to AWS.
    if (removable !== undefined && ahead.got.has(removable)) {
      removed = true;
      const failure = removeFieldsFile(removable);
      if (failure) warnings.push(failure);
    }
    // Each round reads pipes not read before: a fields file, then the files it names.
    if (ahead.pending.size === 0) return { ...raw, warnings: [...raw.warnings, ...warnings] };
    const pipes = [...ahead.pending];
    ahead.pending.clear();
    const reads = Promise.all(
      pipes.map(async ([path, maxBytes]) => {
        ahead.got.set(path, await readPipe(path, maxBytes));
      }),
    );
    const cancelled = await untilCancelled(reads, signal);
    if (cancelled) {
      const waitingFor = pipes.find(([path]) => !ahead.got.has(path))?.[0] ?? pipes[0]?.[0];
      return { waitingFor: waitingFor ?? "", warnings };
    }
  }
}

/** Wait for `work`; true when the signal fires first (or had fired). */
function untilCancelled(work: Promise<unknown>, signal?: AbortSignal): Promise<boolean> {
  if (!signal) return work.then(() => false);
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => resolve(true);
    signal.addEventListener("abort", onAbort, { once: true });
    void work.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    });
  });
}
