/** Prints runner events as an operator follows a task in the controller. */
import type { EventListener, RunnerEvent, TaskIdentity, TaskResult } from "./events.ts";
import { parseTemplateString, type Reference, referencesIn } from "./references.ts";

export interface ReporterOptions {
  /** Print the extension output document of every finished task (default true). */
  extensionOutput?: boolean;
  /**
   * Print the program's own log lines (default true); "warnings": only its WARN and ERROR
   * lines (and any line without a level).
   */
  logs?: boolean | "warnings";
  /**
   * The short view: of the fields sent only those the task definition names (with
   * `definitions`), and of a finished task its result in a line or two instead of the
   * whole extension output document.
   */
  compact?: boolean;
  /** The task definitions' own fields by task name: shows what each task reference resolved to. */
  definitions?: (task: string) => Readonly<Record<string, unknown>> | undefined;
  /** Keeps a finished task's whole extension output; returns where, for the report to name. */
  saveExtensionOutput?: (result: TaskResult) => string | null;
  /** Clock for the timestamps (tests pass a fixed one). */
  now?: () => Date;
}

const INDENT = "               ";

function stamp(now: Date): string {
  return now.toISOString().slice(11, 23);
}

function who(task: TaskIdentity): string {
  return task.rerun ? `${task.name} (rerun)` : task.name;
}

function show(value: unknown): string {
  if (typeof value === "string") return value;
  // A Choice arrives as a list; one choice reads better as its plain value.
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(", ");
  return JSON.stringify(value);
}

/** A log line's own leading timestamp (the program's ISO time), split from the rest. */
const LOG_TIME = /^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d\.\d{3})\d*Z\s(.*)$/s;

function splitLogTime(line: string): { time: string | null; text: string } {
  const m = LOG_TIME.exec(line);
  return m ? { time: m[1] ?? null, text: m[2] ?? "" } : { time: null, text: line };
}

/** Log lines the "warnings" setting leaves out. */
const QUIET_LEVEL = /^(INFO|DEBUG)\s/;

const MAX_OUTPUT_CHARS = 240;

function oneLine(text: string): string {
  return text.length > MAX_OUTPUT_CHARS
    ? `${text.slice(0, MAX_OUTPUT_CHARS)}... (${text.length} characters)`
    : text;
}

/** The extension output's result in one line: status, error and cause, the output. */
export function resultSummary(document: unknown): string | null {
  const result = (document as { result?: unknown } | null)?.result;
  if (!result || typeof result !== "object") return null;
  const r = result as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ["status", "callback"]) if (typeof r[key] === "string") parts.push(r[key]);
  if (typeof r["failedState"] === "string") parts.push(`in state ${r["failedState"]}`);
  if (typeof r["error"] === "string") parts.push(`error ${r["error"]}`);
  if (typeof r["cause"] === "string") parts.push(`cause ${oneLine(r["cause"])}`);
  if (typeof r["output"] === "string") parts.push(`output ${oneLine(r["output"])}`);
  return parts.length > 0 ? parts.join(", ") : null;
}

/** Follows `path` into a sent value, reading JSON text where a field was sent as text. */
function valueAt(value: unknown, path: readonly string[]): { found: boolean; value: unknown } {
  let current = value;
  for (const key of path) {
    if (typeof current === "string") {
      try {
        current = JSON.parse(current);
      } catch {
        return { found: false, value: undefined };
      }
    }
    if (!current || typeof current !== "object" || !Object.hasOwn(current, key))
      return { found: false, value: undefined };
    current = (current as Record<string, unknown>)[key];
  }
  return { found: true, value: current };
}

/**
 * The text that replaced each reference of `written` in `sent`, found by lining up the
 * literal text around the references; null when it does not line up.
 */
function replacedBy(written: string, sent: string): Array<[Reference, string]> | null {
  const refs: Reference[] = [];
  let pattern = "^";
  for (const segment of parseTemplateString(written, [])) {
    if (typeof segment === "string") pattern += segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else {
      refs.push(segment);
      pattern += "([\\s\\S]*?)";
    }
  }
  const m = new RegExp(`${pattern}$`).exec(sent);
  return m ? refs.map((r, i) => [r, m[i + 1] ?? ""]) : null;
}

/**
 * For each place in a task definition that reads another task's results: where, the
 * reference as written, and the value it resolved to in the fields sent (a reference
 * inside longer text: the text that replaced it).
 */
export function resolvedReferences(
  definition: Readonly<Record<string, unknown>>,
  sent: Readonly<Record<string, unknown>>,
): string[] {
  const lines: string[] = [];
  const walk = (value: unknown, path: string[]): void => {
    if (typeof value === "string") {
      const refs = referencesIn(value).filter((r) => r.kind !== "var");
      if (refs.length === 0) return;
      const at = valueAt(sent, path);
      const whole = refs.length === 1 && refs[0]?.text === value;
      const each = !whole && typeof at.value === "string" ? replacedBy(value, at.value) : null;
      if (each) {
        for (const [ref, text] of each)
          if (ref.kind !== "var") lines.push(`${path.join(".")}: ${text}  from ${ref.text}`);
        return;
      }
      const shown = at.found ? JSON.stringify(at.value) : "(not sent)";
      lines.push(`${path.join(".")} = ${shown}  from ${value}`);
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, [...path, String(i)]);
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    }
  };
  walk(definition, []);
  return lines;
}

function finishedLine(r: TaskResult): string {
  const code =
    r.exitCode !== null
      ? `exit code ${r.exitCode}`
      : r.signal
        ? `killed by ${r.signal}`
        : "no exit code";
  const why = r.cancelReason ? `, ${r.cancelReason}` : "";
  return r.state === "Start Failure" ? "Start Failure" : `${r.state} (${code}${why})`;
}

/** Lines for one event (without the timestamp column). */
export function formatEvent(event: RunnerEvent, options: ReporterOptions = {}): string[] {
  switch (event.type) {
    case "workflow-started":
      return [
        `workflow ${event.workflow} started (run ${event.instanceId}): ${event.tasks.join(" -> ")}`,
      ];
    case "task-started": {
      const own = options.definitions?.(event.task.name);
      const sent = Object.entries(event.fields);
      const shown = options.compact && own ? sent.filter(([k]) => Object.hasOwn(own, k)) : sent;
      const defaults = sent.length - shown.length;
      const lines = [
        options.compact
          ? `${who(event.task)}  Started (task instance ${event.task.instanceId}, pid ${event.pid})`
          : `${who(event.task)}  Started (task instance ${event.task.instanceId}${event.task.rerun ? ", run again" : ""}, pid ${event.pid})`,
        `${INDENT}fields sent: ${shown
          .map(([k, v]) => `${k}=${k.includes("credentials") ? "****" : show(v)}`)
          .join("; ")}${defaults > 0 ? ` (and ${defaults} defaults of the form)` : ""}`,
      ];
      for (const line of own ? resolvedReferences(own, event.fields) : [])
        lines.push(`${INDENT}${line}`);
      if (event.dropped.length > 0)
        lines.push(`${INDENT}hidden by the form, not sent: ${event.dropped.join(", ")}`);
      if (event.cleared.length > 0)
        lines.push(
          `${INDENT}output-only fields cleared for the rerun: ${event.cleared.join(", ")}`,
        );
      return lines;
    }
    case "output-field":
      return [
        `${who(event.task)}  output field ${event.name} = ${show(event.value)}${event.call === "update_extension_status" ? " (update_extension_status)" : ""}`,
      ];
    case "log":
      return options.logs === false ||
        (options.logs === "warnings" && QUIET_LEVEL.test(splitLogTime(event.line).text))
        ? []
        : [
            `${who(event.task)}  ${event.stream === "stderr" ? "|" : ">"} ${splitLogTime(event.line).text}`,
          ];
    case "cancel-requested":
      return [
        `${who(event.task)}  Cancel: ${event.how === "SIGKILL" ? "SIGKILL sent" : "extension_cancel called"} (${event.reason})`,
      ];
    case "warning":
      return [`${event.task ? `${who(event.task)}  ` : ""}WARNING: ${event.message}`];
    case "task-skipped":
      return [`${event.task}  Skipped: ${event.reason}`];
    case "task-finished": {
      const r = event.result;
      const lines = [`${who(r)}  ${finishedLine(r)}`];
      if (r.message) lines.push(`${INDENT}message: ${r.message}`);
      for (const problem of r.problems) lines.push(`${INDENT}${problem}`);
      const saved = r.extensionOutput !== null ? options.saveExtensionOutput?.(r) : null;
      if (options.compact) {
        const summary = resultSummary(r.extensionOutput);
        if (summary) lines.push(`${INDENT}result: ${summary}`);
      }
      if (saved) lines.push(`${INDENT}whole extension output: ${saved}`);
      if (!options.compact && options.extensionOutput !== false && r.extensionOutput !== null) {
        lines.push(`${INDENT}extension output:`);
        for (const line of JSON.stringify(r.extensionOutput, null, 2).split("\n"))
          lines.push(`${INDENT}  ${line}`);
      }
      return lines;
    }
    case "workflow-finished": {
      const r = event.result;
      const lines = [`workflow ${r.name} ${r.state}`];
      for (const t of r.tasks)
        lines.push(
          `${INDENT}${t.name}: ${t.ran ? finishedLine(t.result) : `Skipped (${t.reason})`}`,
        );
      return lines;
    }
  }
}

/** A listener that writes each event, time-stamped, through `write`. */
export function consoleReporter(
  write: (text: string) => void,
  options: ReporterOptions = {},
): EventListener {
  const now = options.now ?? (() => new Date());
  return (event) => {
    const lines = formatEvent(event, options);
    if (lines.length === 0) return;
    // A log line that carries the program's own time shows that time, once.
    const time = (event.type === "log" && splitLogTime(event.line).time) || stamp(now());
    write(
      lines.map((line, i) => `${i === 0 ? time : " ".repeat(time.length)}  ${line}\n`).join(""),
    );
  };
}
