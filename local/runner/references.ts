/**
 * References inside task definitions, resolved just before a task launches:
 *
 *   ${_outputJsonPathFromTask('NAME','EXTENSION','JSONPATH'[,'DEFAULT',PRETTY])}
 *                                       a JSON path into an earlier task's extension
 *                                       output, written as the controller writes it:
 *                                       a path that matches nothing gives DEFAULT ('' when
 *                                       not written); no output of NAME leaves the function
 *                                       unresolved, as written (the controller's
 *                                       documented behaviour for both)
 *   ${vars.NAME}                        a workflow variable
 *   ${tasks.NAME.output:JSONPATH}       a JSON path into an earlier task's extension output
 *   ${tasks.NAME.output}                the whole extension output document
 *   ${tasks.NAME.outputFields:JSONPATH} a JSON path into its output-only fields
 *   ${tasks.NAME.exitCode}              its exit code
 *   ${tasks.NAME.state}                 its final state (Success, Failed, ...)
 *   $${                                 a literal "${"
 *
 * Replacement is textual, as the controller's: "When a variable or function is specified
 * in a free-text field, the Controller inserts its value into the field when the task or
 * workflow is run" (Universal Controller documentation, Variables and Functions), and
 * functions are "fully supported within the content of a Script field" of an Extension
 * task. Each reference is replaced by text, wherever it stands: a string by itself
 * (no quotes added), a number or boolean by its JSON text, an object or array by its
 * compact JSON text (_outputJsonPathFromTask "resolves to the JSON output data"; its
 * prettyPrint argument, false by default, indents it by 2 spaces: the controller's exact
 * whitespace is not documented); null, of which no source shows an
 * example, by nothing. Nothing is escaped
 * for where it lands: inside quotes in a JSON input a value holding a quote breaks the JSON,
 * in the controller as here.
 */
import { queryJsonPath } from "./jsonpath.ts";

export type Reference =
  | { kind: "var"; name: string; text: string }
  | { kind: "task"; task: string; source: "output" | "outputFields"; path: string; text: string }
  | { kind: "task"; task: string; source: "exitCode" | "state"; text: string }
  | {
      /** The controller's _outputJsonPathFromTask, with its optional arguments. */
      kind: "function";
      task: string;
      path: string;
      /** What a path that matches nothing gives ('' unless written). */
      fallback: string;
      /** Objects and arrays indented rather than compact. */
      pretty: boolean;
      text: string;
    };

export type Segment = string | Reference;

/** What a reference can see: the workflow's variables and the tasks that already ran. */
export interface ReferenceScope {
  vars: Readonly<Record<string, unknown>>;
  task(name: string): ReferencedTask | undefined;
}

export interface ReferencedTask {
  state: string;
  exitCode: number | null;
  outputFields: Readonly<Record<string, unknown>>;
  extensionOutput: unknown;
}

const NAME = "[A-Za-z0-9_-]+";
const VAR_RE = /^vars\.([A-Za-z_][A-Za-z0-9_]*)$/;
const TASK_PATH_RE = new RegExp(`^tasks\\.(${NAME})\\.(output|outputFields)(?::(.+))?$`, "s");
const TASK_SCALAR_RE = new RegExp(`^tasks\\.(${NAME})\\.(exitCode|state)$`);
/**
 * The controller's function: _outputJsonPathFromTask('<task>', 'EXTENSION', '<JSON path>'
 * [, '<default value>', <prettyPrint>]); prettyPrint is true or false (quoted or not).
 */
const CONTROLLER_RE = new RegExp(
  `^_outputJsonPathFromTask\\(\\s*'(${NAME})'\\s*,\\s*'([A-Z]+)'\\s*,\\s*'(.+?)'\\s*` +
    `(?:,\\s*'([^']*)'\\s*(?:,\\s*(true|false|'true'|'false')\\s*)?)?\\)$`,
  "s",
);

/** Index just past the "}" that closes a reference whose body starts at `start`. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "[" || c === "(" || c === "{") depth++;
    else if (c === "]" || c === ")") depth--;
    else if (c === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function parseReference(body: string): Reference | string {
  const text = "${" + body + "}";
  const c = CONTROLLER_RE.exec(body);
  if (c?.[1] && c[3]) {
    if (c[2] !== "EXTENSION") {
      return `${text}: only the EXTENSION output type is kept by this runner (got '${c[2]}')`;
    }
    return {
      kind: "function",
      task: c[1],
      path: c[3].trim(),
      fallback: c[4] ?? "",
      pretty: c[5]?.replace(/'/g, "") === "true",
      text,
    };
  }
  const v = VAR_RE.exec(body);
  if (v?.[1]) return { kind: "var", name: v[1], text };
  const p = TASK_PATH_RE.exec(body);
  if (p?.[1] && (p[2] === "output" || p[2] === "outputFields")) {
    return { kind: "task", task: p[1], source: p[2], path: p[3]?.trim() || "$", text };
  }
  const s = TASK_SCALAR_RE.exec(body);
  if (s?.[1] && (s[2] === "exitCode" || s[2] === "state"))
    return { kind: "task", task: s[1], source: s[2], text };
  return `${text} is not a reference: use \${_outputJsonPathFromTask('NAME','EXTENSION','$.json.path')}, \${vars.NAME}, \${tasks.NAME.output:$.json.path}, \${tasks.NAME.outputFields:$.field}, \${tasks.NAME.exitCode} or \${tasks.NAME.state}`;
}

/** Split a string into literal text and references; problems are appended to `problems`. */
export function parseTemplateString(text: string, problems: string[]): Segment[] {
  const segments: Segment[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      literal += "${";
      i += 3;
    } else if (text.startsWith("${", i)) {
      const end = closingBrace(text, i + 2);
      if (end < 0) {
        problems.push(`"${text}": reference opened at position ${i} is never closed`);
        return [text];
      }
      const parsed = parseReference(text.slice(i + 2, end));
      if (typeof parsed === "string") {
        problems.push(parsed);
      } else {
        if (literal) segments.push(literal);
        literal = "";
        segments.push(parsed);
      }
      i = end + 1;
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal || segments.length === 0) segments.push(literal);
  return segments;
}

/** Every reference in a value (strings inside objects and arrays included). */
export function referencesIn(value: unknown): Reference[] {
  const found: Reference[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") {
      for (const s of parseTemplateString(v, [])) if (typeof s !== "string") found.push(s);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return found;
}

function lookup(
  ref: Reference,
  scope: ReferenceScope,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (ref.kind === "var") {
    if (!Object.hasOwn(scope.vars, ref.name))
      return { ok: false, reason: `${ref.text}: no variable ${ref.name}` };
    return { ok: true, value: scope.vars[ref.name] };
  }
  const task = scope.task(ref.task);
  if (ref.kind === "function") {
    // The controller: no output record leaves the function unresolved, in the text as
    // written; a path that yields nothing resolves to the default value.
    const doc = task?.extensionOutput;
    if (doc === null || doc === undefined) return { ok: true, value: ref.text };
    const result = queryJsonPath(doc, ref.path);
    if (result.found) {
      const { value } = result;
      return {
        ok: true,
        value:
          ref.pretty && value !== null && typeof value === "object"
            ? JSON.stringify(value, null, 2)
            : value,
      };
    }
    return result.invalid
      ? { ok: false, reason: `${ref.text}: ${result.reason}` }
      : { ok: true, value: ref.fallback };
  }
  if (!task)
    return { ok: false, reason: `${ref.text}: task ${ref.task} has not run before this one` };
  switch (ref.source) {
    case "exitCode":
      return { ok: true, value: task.exitCode };
    case "state":
      return { ok: true, value: task.state };
    case "output":
    case "outputFields": {
      const doc = ref.source === "output" ? task.extensionOutput : task.outputFields;
      if (doc === null || doc === undefined) {
        return { ok: false, reason: `${ref.text}: task ${ref.task} left no extension output` };
      }
      const result = queryJsonPath(doc, ref.path);
      return result.found
        ? { ok: true, value: result.value }
        : { ok: false, reason: `${ref.text}: ${result.reason}` };
    }
  }
}

/** The text that replaces a reference. */
function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * Replace every reference in a value's strings by its text (strings inside objects and
 * arrays too); problems (one per failed reference) go to `problems`.
 */
export function resolveReferences(
  value: unknown,
  scope: ReferenceScope,
  problems: string[],
): unknown {
  if (typeof value === "string") {
    let text = "";
    for (const segment of parseTemplateString(value, problems)) {
      if (typeof segment === "string") {
        text += segment;
        continue;
      }
      const r = lookup(segment, scope);
      if (r.ok) text += asText(r.value);
      else problems.push(r.reason);
    }
    return text;
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, scope, problems));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveReferences(v, scope, problems)]),
    );
  }
  return value;
}
