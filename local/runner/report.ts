/** Prints runner events as an operator follows a task in the controller. */
import type { EventListener, RunnerEvent, TaskIdentity, TaskResult } from "./events.ts";

export interface ReporterOptions {
  /** Print the extension output document of every finished task (default true). */
  extensionOutput?: boolean;
  /** Print the program's own log lines (default true). */
  logs?: boolean;
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
      const lines = [
        `${who(event.task)}  Started (task instance ${event.task.instanceId}${event.task.rerun ? ", run again" : ""}, pid ${event.pid})`,
        `${INDENT}fields sent: ${Object.entries(event.fields)
          .map(([k, v]) => `${k}=${k.includes("credentials") ? "****" : show(v)}`)
          .join("; ")}`,
      ];
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
      return options.logs === false
        ? []
        : [`${who(event.task)}  ${event.stream === "stderr" ? "|" : ">"} ${event.line}`];
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
      if (options.extensionOutput !== false && r.extensionOutput !== null) {
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
    const time = stamp(now());
    write(
      lines.map((line, i) => `${i === 0 ? time : " ".repeat(time.length)}  ${line}\n`).join(""),
    );
  };
}
