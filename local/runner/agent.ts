/**
 * The agent's side of a task: runs the package's real extension.py in Python (the host
 * local/runner/python/agent_host.py with a stand-in of the agent's universal_extension
 * module), hands it the fields as a real agent does (a Script as the path of a temporary
 * file holding its text, a Credential as a record with its five parts plus flattened
 * "<name>.<part>" keys) and the task context (self.uip's five attributes, no variables),
 * follows what the extension reports (output-only field updates, the ExtensionResult) and
 * forwards a cancel to the extension's extension_cancel.
 */
import { execFileSync, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { FieldValues, Template } from "../../src/fields/template-types.ts";
import type { OutputFieldsCall, RunnerEvent, TaskIdentity } from "./events.ts";

export const HOST_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "python", "agent_host.py");

/**
 * Python's flags for the host: no bytecode files beside the sources, and no site-packages
 * (an agent's bundled Python has none of this machine's).
 */
export const PYTHON_FLAGS = ["-B", "-S"];

/** The environment variable that names the Python interpreter the runner uses. */
export const PYTHON_SETTING = "UE_RUNNER_PYTHON";

/**
 * The Python interpreter: UE_RUNNER_PYTHON when set, else python3 (python on Windows)
 * found on this process's PATH; resolved to the interpreter itself (sys.executable), so a
 * launcher script on PATH still works when the agent's environment has another PATH.
 * Null when there is none.
 */
export function findPython(env: NodeJS.ProcessEnv = process.env): string | null {
  const found = env[PYTHON_SETTING] || searchPath(env);
  if (!found) return null;
  const known = resolved.get(found);
  if (known !== undefined) return known;
  let executable: string | null;
  try {
    const out = execFileSync(found, ["-c", "import sys; print(sys.executable)"], {
      encoding: "utf8",
      env,
    });
    executable = out.trim() || found;
  } catch {
    executable = null;
  }
  resolved.set(found, executable);
  return executable;
}

const resolved = new Map<string, string | null>();

function searchPath(env: NodeJS.ProcessEnv): string | null {
  const names =
    process.platform === "win32" ? ["python.exe", "python3.exe"] : ["python3", "python"];
  for (const folder of (env["PATH"] ?? "").split(delimiter)) {
    if (!folder) continue;
    for (const name of names) {
      try {
        accessSync(join(folder, name), constants.X_OK);
        return join(folder, name);
      } catch {
        // Not in this folder.
      }
    }
  }
  return null;
}

/** How the stand-in agent behaves, where real agents differ (and for tests). */
export interface AgentOptions {
  /**
   * The output-only field update call the agent offers: "ui.update_output_fields" (default;
   * self.update_extension_status exists too), or only "update_extension_status" (1.x API).
   */
  readonly outputFieldsCall?: "ui.update_output_fields" | "update_extension_status";
  /** How a Credential is handed over: its record and flattened keys (default), or one of them. */
  readonly credentialForm?: "both" | "record" | "flattened";
  /** Keys set in the fields dict as given, after everything else (a Script path, a part). */
  readonly fieldOverrides?: Readonly<Record<string, unknown>>;
}

export interface ExtensionLaunch {
  readonly python: string;
  /** extension_archive.zip (imported from inside the zip) or its unpacked folder. */
  readonly archivePath: string;
  readonly template: Template;
  readonly task: TaskIdentity;
  /** The form's values in runtime shapes (credentials as { user, password, token? }). */
  readonly fields: FieldValues;
  readonly agent?: AgentOptions;
  /** The agent's environment: what extension.py and the program it starts see. */
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: readonly string[];
  /** How long after extension_cancel the runner kills the extension's process. */
  readonly cancelGraceMs: number;
  readonly emit: (event: RunnerEvent) => void;
}

export interface ExtensionOutcome {
  /** The ExtensionResult's rc; null when extension_start returned nothing. */
  readonly exitCode: number | null;
  /** The ExtensionResult's message. */
  readonly message: string | null;
  /** A signal that ended the Python process (after the grace period), or null. */
  readonly signal: string | null;
  readonly outputFields: Record<string, unknown>;
  /** unv_output parsed as JSON, or null. */
  readonly extensionOutput: unknown;
  readonly problems: string[];
  readonly cancelReason: string | null;
}

export interface RunningExtension {
  readonly pid: number;
  /** Call extension_cancel; kill the extension's process after the grace period. */
  cancel(reason: string): void;
  readonly done: Promise<ExtensionOutcome>;
}

/** Replace every secret in a text by "****". */
export function maskSecrets(
  text: string,
  secrets: readonly string[],
): { text: string; leaked: boolean } {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("****");
  return { text: out, leaked: out !== text };
}

/** The parts of a Credential record, as the agent hands it over. */
export const CREDENTIAL_PARTS = ["user", "password", "keyLocation", "passphrase", "token"] as const;

/**
 * The fields dict the agent hands to extension_start: every field of the template, unset
 * ones as None; a Script as the path of the file holding its text (`scriptPaths`); a
 * Credential as a record of its five parts (unset ones None) and/or flattened
 * "<name>.<part>" keys; then the overrides.
 */
export function controllerFields(
  template: Template,
  values: FieldValues,
  scriptPaths: Readonly<Record<string, string>>,
  agent: AgentOptions = {},
): Record<string, unknown> {
  const form = agent.credentialForm ?? "both";
  const out: Record<string, unknown> = {};
  for (const field of template.fields) {
    const value = values[field.name];
    if (field.fieldType === "Credential") {
      const credential = value && typeof value === "object" && !Array.isArray(value) ? value : null;
      const record: Record<string, string | null> = {};
      for (const part of CREDENTIAL_PARTS) {
        const given = credential ? (credential as unknown as Record<string, unknown>)[part] : null;
        record[part] = typeof given === "string" && given !== "" ? given : null;
      }
      if (form !== "flattened") out[field.name] = record;
      if (form !== "record")
        for (const part of CREDENTIAL_PARTS) out[`${field.name}.${part}`] = record[part];
    } else if (field.fieldType === "Script") {
      out[field.name] = scriptPaths[field.name] ?? null;
    } else {
      out[field.name] = value ?? null;
    }
  }
  return { ...out, ...agent.fieldOverrides };
}

/**
 * Write each Script value to its own 0600 temporary file, as the agent does; returns the
 * paths by field name and a function that removes them (after the task ends).
 */
export async function writeScriptFiles(
  template: Template,
  values: FieldValues,
): Promise<{ paths: Record<string, string>; remove: () => Promise<void> }> {
  const scripts = template.fields.filter(
    (f) => f.fieldType === "Script" && typeof values[f.name] === "string" && values[f.name] !== "",
  );
  if (scripts.length === 0) return { paths: {}, remove: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "ue-agent-scripts-"));
  const paths: Record<string, string> = {};
  for (const field of scripts) {
    const path = join(dir, `${field.name}.script`);
    await writeFile(path, values[field.name] as string, { mode: 0o600, flag: "wx" });
    paths[field.name] = path;
  }
  return { paths, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The task context as the extension API exposes it in self.uip: exactly its five
 * attributes; no variables (the template sends none), no execution count.
 */
export function uipContext(task: TaskIdentity): Record<string, unknown> {
  return {
    task_variables: {},
    is_triggered: false,
    trigger_id: null,
    instance_id: task.instanceId,
    monitor_id: null,
  };
}

type HostEvent =
  | { event: "output-fields"; fields: Record<string, unknown>; call: OutputFieldsCall }
  | { event: "result"; rc: unknown; message: unknown; unv_output: unknown }
  | { event: "error"; message: string; traceback?: string };

/** Start extension.py in Python; resolves once the process has been spawned. */
export async function startExtension(launch: ExtensionLaunch): Promise<RunningExtension> {
  const { task, emit, secrets } = launch;
  const problems: string[] = [];
  const leakWarned = new Set<string>();
  const checkLeak = (where: string, text: string): string => {
    const masked = maskSecrets(text, secrets);
    if (masked.leaked && !leakWarned.has(where)) {
      leakWarned.add(where);
      const message = `SECRET LEAK: a credential value appeared in ${where} (masked here)`;
      problems.push(message);
      emit({ type: "warning", task, message });
    }
    return masked.text;
  };

  const scripts = await writeScriptFiles(launch.template, launch.fields);
  // Its own process group, so a Ctrl-C at the terminal reaches the runner, which then
  // cancels the task through extension_cancel as the agent does.
  const child = spawn(launch.python, [...PYTHON_FLAGS, HOST_SCRIPT, launch.archivePath], {
    env: launch.env,
    stdio: ["pipe", "pipe", "pipe", "pipe"],
    detached: true,
  });
  const commands = child.stdin as Writable;
  commands.on("error", () => {
    // The host has gone; its end is reported through "close".
  });
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once("spawn", () => resolve(null));
    child.once("error", (error) => resolve(error));
  });
  if (spawned) {
    await scripts.remove();
    throw spawned;
  }
  const agent = launch.agent ?? {};
  commands.write(
    `${JSON.stringify({
      fields: controllerFields(launch.template, launch.fields, scripts.paths, agent),
      uip: uipContext(task),
      options: { output_fields_call: agent.outputFieldsCall ?? "ui.update_output_fields" },
    })}\n`,
  );

  for (const stream of ["stdout", "stderr"] as const) {
    const lines = createInterface({ input: child[stream], crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) =>
      emit({ type: "log", task, stream, line: checkLeak(`standard ${stream.slice(3)}`, line) }),
    );
  }

  const outputFields: Record<string, unknown> = {};
  let result: { rc: unknown; message: unknown; unv_output: unknown } | null = null;
  const events = createInterface({
    input: child.stdio[3] as Readable,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  events.on("line", (line) => {
    const event = JSON.parse(line) as HostEvent;
    if (event.event === "output-fields") {
      for (const [name, value] of Object.entries(event.fields)) {
        const shown = JSON.parse(
          checkLeak("the output-only fields", JSON.stringify(value) ?? "null"),
        ) as unknown;
        outputFields[name] = shown;
        emit({ type: "output-field", task, name, value: shown, call: event.call });
      }
    } else if (event.event === "result") {
      result = event;
    } else {
      const message = checkLeak(
        "an extension error",
        `${event.message}${event.traceback ? `\n${event.traceback}` : ""}`,
      );
      problems.push(message);
      emit({ type: "warning", task, message });
    }
  });
  const eventsClosed = new Promise<void>((resolve) => events.once("close", resolve));

  let cancelReason: string | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  let exited = false;

  const done = new Promise<ExtensionOutcome>((resolve) => {
    child.on("close", async (code, signal) => {
      exited = true;
      clearTimeout(killTimer);
      await eventsClosed;
      await scripts.remove();
      const r = result as { rc: unknown; message: unknown; unv_output: unknown } | null;
      let extensionOutput: unknown = null;
      if (r === null) {
        problems.push(
          `extension.py returned no ExtensionResult (its process ended with ${signal ?? `exit code ${code}`})`,
        );
      } else if (typeof r.unv_output === "string") {
        const text = checkLeak("the extension output", r.unv_output);
        try {
          extensionOutput = JSON.parse(text);
        } catch (error) {
          const shown = text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
          problems.push(`the extension output is not JSON (${(error as Error).message}): ${shown}`);
        }
      } else {
        problems.push("the ExtensionResult carries no extension output (unv_output)");
      }
      const rc = r !== null && typeof r.rc === "number" ? r.rc : null;
      const outputCode = (extensionOutput as { exit_code?: unknown } | null)?.exit_code;
      if (rc !== null && outputCode !== undefined && outputCode !== rc) {
        problems.push(
          `rc ${rc} differs from the extension output's exit_code ${String(outputCode)}`,
        );
      }
      resolve({
        exitCode: rc,
        message:
          r !== null && typeof r.message === "string"
            ? checkLeak("the result message", r.message)
            : null,
        signal,
        outputFields,
        extensionOutput,
        problems,
        cancelReason,
      });
    });
  });

  return {
    pid: child.pid ?? -1,
    done,
    cancel: (reason: string) => {
      if (exited || cancelReason !== null) return;
      cancelReason = reason;
      emit({ type: "cancel-requested", task, reason, how: "extension_cancel" });
      // SIGUSR1 asks the host to call extension_cancel (Windows: a line on its input).
      if (process.platform === "win32") commands.write("cancel\n");
      else child.kill("SIGUSR1");
      killTimer = setTimeout(() => {
        if (exited) return;
        emit({
          type: "cancel-requested",
          task,
          reason: `still running ${launch.cancelGraceMs} ms after extension_cancel`,
          how: "SIGKILL",
        });
        child.kill("SIGKILL");
      }, launch.cancelGraceMs);
    },
  };
}

/** A Dynamic Choice field's choice command, run as the agent runs it for the task form. */
export interface ChoiceLaunch {
  readonly python: string;
  readonly archivePath: string;
  readonly template: Template;
  /** The Dynamic Choice field whose choices are asked for. */
  readonly field: string;
  /** The form's values in runtime shapes; only the fields choiceFields names are handed over. */
  readonly fields: FieldValues;
  readonly agent?: AgentOptions;
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: readonly string[];
  /** How long the runner lets the command run before it kills the Python process. */
  readonly timeoutMs: number;
}

/** What the choice command returned (its ExtensionResult), and what the runner saw. */
export interface ChoiceOutcome {
  readonly rc: number | null;
  readonly message: string | null;
  readonly values: readonly string[] | null;
  /** The extension's log lines (standard output and error), masked. */
  readonly log: readonly string[];
  readonly problems: readonly string[];
}

/**
 * The fields dict a choice command receives: those the template's choiceFields name (by
 * their slots), in the shapes extension_start receives them.
 */
export function choiceCommandFields(
  template: Template,
  field: string,
  values: FieldValues,
  scriptPaths: Readonly<Record<string, string>>,
  agent: AgentOptions = {},
): Record<string, unknown> {
  const dynamic = template.fields.find((f) => f.name === field);
  const needed = new Set(
    (dynamic?.choiceFields ?? []).map(
      (slot) => template.fields.find((f) => f.fieldMapping === slot)?.name,
    ),
  );
  const all = controllerFields(template, values, scriptPaths, agent);
  return Object.fromEntries(
    Object.entries(all).filter(([key]) => needed.has(key) || needed.has(key.split(".")[0])),
  );
}

/** self.uip while a form is filled: no task instance exists yet. */
const FORM_UIP = {
  task_variables: {},
  is_triggered: false,
  trigger_id: null,
  instance_id: null,
  monitor_id: null,
};

/** Run a Dynamic Choice field's choice command in extension.py; resolves when it has answered. */
export async function runChoiceCommand(launch: ChoiceLaunch): Promise<ChoiceOutcome> {
  const problems: string[] = [];
  const log: string[] = [];
  const checkLeak = (where: string, text: string): string => {
    const masked = maskSecrets(text, launch.secrets);
    if (masked.leaked && !problems.some((p) => p.includes(where)))
      problems.push(`SECRET LEAK: a credential value appeared in ${where} (masked here)`);
    return masked.text;
  };
  const scripts = await writeScriptFiles(launch.template, launch.fields);
  try {
    const child = spawn(launch.python, [...PYTHON_FLAGS, HOST_SCRIPT, launch.archivePath], {
      env: launch.env,
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    const fields = choiceCommandFields(
      launch.template,
      launch.field,
      launch.fields,
      scripts.paths,
      launch.agent,
    );
    (child.stdin as Writable).on("error", () => {});
    (child.stdin as Writable).end(
      `${JSON.stringify({ fields, uip: FORM_UIP, dynamic_choice: launch.field })}\n`,
    );
    for (const stream of ["stdout", "stderr"] as const) {
      const lines = createInterface({ input: child[stream], crlfDelay: Number.POSITIVE_INFINITY });
      lines.on("line", (line) => log.push(checkLeak(`standard ${stream.slice(3)}`, line)));
    }
    let answer: { rc: unknown; message: unknown; values: unknown } | null = null;
    const events = createInterface({
      input: child.stdio[3] as Readable,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    events.on("line", (line) => {
      const event = JSON.parse(line) as
        | { event: "choices"; rc: unknown; message: unknown; values: unknown }
        | { event: "error"; message: string; traceback?: string };
      if (event.event === "choices") answer = event;
      else
        problems.push(
          checkLeak("an extension error", `${event.message}\n${event.traceback ?? ""}`.trim()),
        );
    });
    const timer = setTimeout(() => {
      problems.push(`the choice command did not answer within ${launch.timeoutMs} ms`);
      child.kill("SIGKILL");
    }, launch.timeoutMs);
    await new Promise<void>((resolve) => child.once("close", () => resolve()));
    clearTimeout(timer);
    const a = answer as { rc: unknown; message: unknown; values: unknown } | null;
    if (a === null) problems.push("the choice command returned no ExtensionResult");
    const values = a?.values;
    if (a !== null && !(Array.isArray(values) && values.every((v) => typeof v === "string")))
      problems.push("the ExtensionResult's values are not a list of strings");
    return {
      rc: typeof a?.rc === "number" ? a.rc : null,
      message: typeof a?.message === "string" ? checkLeak("the result message", a.message) : null,
      values: Array.isArray(values) ? values.map((v) => checkLeak("the values", String(v))) : null,
      log,
      problems,
    };
  } finally {
    await scripts.remove();
  }
}
