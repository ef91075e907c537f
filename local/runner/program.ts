/**
 * Starts the bundled program as an agent does (SPEC 3.2), follows its outputs (3.3) and
 * cancels it with SIGTERM, then SIGKILL after a grace period (3.4).
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { FieldValues } from "../../src/fields/template-types.ts";
import type { RunnerEvent, TaskIdentity } from "./events.ts";
import { tailOutputFields } from "./output-fields.ts";

export interface ProgramLaunch {
  readonly programPath: string;
  readonly task: TaskIdentity;
  readonly fields: FieldValues;
  /** Folder for this run's files (created; the fields file is removed when the run ends). */
  readonly runDir: string;
  /** Environment the agent passes on (UE_* variables are replaced by the contract's). */
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: readonly string[];
  readonly cancelGraceMs: number;
  readonly emit: (event: RunnerEvent) => void;
}

export interface ProgramOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly outputFields: Record<string, unknown>;
  readonly extensionOutput: unknown;
  readonly problems: string[];
  readonly cancelReason: string | null;
}

export interface RunningProgram {
  readonly pid: number;
  /** SIGTERM now, SIGKILL after the grace period; repeated calls do nothing more. */
  cancel(reason: string): void;
  readonly done: Promise<ProgramOutcome>;
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

/** Start the program; resolves once it has been spawned. */
export async function startProgram(launch: ProgramLaunch): Promise<RunningProgram> {
  const { task, emit, secrets } = launch;
  await mkdir(launch.runDir, { recursive: true });
  const fieldsFile = join(launch.runDir, "fields.json");
  const outputFieldsFile = join(launch.runDir, "output-fields.jsonl");
  const extensionOutputFile = join(launch.runDir, "extension-output.json");
  // The fields file carries credentials: owner-only, and gone as soon as the run ends.
  await writeFile(fieldsFile, JSON.stringify(launch.fields), { mode: 0o600 });
  await chmod(fieldsFile, 0o600);
  await writeFile(outputFieldsFile, "");

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(launch.env)) if (!k.startsWith("UE_")) env[k] = v;
  Object.assign(env, {
    UE_FIELDS_FILE: fieldsFile,
    UE_OUTPUT_FIELDS_FILE: outputFieldsFile,
    UE_EXTENSION_OUTPUT_FILE: extensionOutputFile,
    UE_TASK_NAME: task.name,
    UE_TASK_INSTANCE_ID: task.instanceId,
    UE_EXECUTION_COUNT: String(task.executionCount),
  });

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

  const outputFields: Record<string, unknown> = {};
  const tail = await tailOutputFields(outputFieldsFile, {
    onUpdate: (update) => {
      for (const [name, value] of Object.entries(update)) {
        const shown = JSON.parse(
          checkLeak("the output-only fields", JSON.stringify(value) ?? "null"),
        ) as unknown;
        outputFields[name] = shown;
        emit({ type: "output-field", task, name, value: shown });
      }
    },
    onBadLine: (line, reason) => {
      const message = `output-fields line is not a JSON object (${reason}): ${checkLeak("the output-only fields", line)}`;
      problems.push(message);
      emit({ type: "warning", task, message });
    },
  });

  // Its own process group, so a Ctrl-C at the terminal reaches the runner, which then
  // cancels the task with SIGTERM as the controller does.
  const child = spawn(process.execPath, [launch.programPath], {
    cwd: launch.runDir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  for (const stream of ["stdout", "stderr"] as const) {
    const lines = createInterface({ input: child[stream], crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) =>
      emit({ type: "log", task, stream, line: checkLeak(`standard ${stream.slice(3)}`, line) }),
    );
  }

  let cancelReason: string | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  let exited = false;

  const done = new Promise<ProgramOutcome>((resolve) => {
    let spawnError: Error | null = null;
    child.on("error", (error) => {
      spawnError = error;
    });
    child.on("close", async (code, signal) => {
      exited = true;
      clearTimeout(killTimer);
      await tail.stop();
      await rm(fieldsFile, { force: true });
      if (spawnError) problems.push(`the program could not start: ${spawnError.message}`);
      let extensionOutput: unknown = null;
      try {
        const text = await readFile(extensionOutputFile, "utf8");
        try {
          extensionOutput = JSON.parse(checkLeak("the extension output", text));
        } catch (error) {
          problems.push(`the extension output is not JSON: ${(error as Error).message}`);
        }
      } catch {
        problems.push("the program wrote no extension output");
      }
      const outputCode = (extensionOutput as { exit_code?: unknown } | null)?.exit_code;
      if (code !== null && outputCode !== undefined && outputCode !== code) {
        problems.push(
          `exit code ${code} differs from the extension output's exit_code ${String(outputCode)}`,
        );
      }
      resolve({ exitCode: code, signal, outputFields, extensionOutput, problems, cancelReason });
    });
  });

  return {
    pid: child.pid ?? -1,
    done,
    cancel: (reason: string) => {
      if (exited || cancelReason !== null) return;
      cancelReason = reason;
      emit({ type: "cancel-requested", task, reason, signal: "SIGTERM" });
      child.kill("SIGTERM");
      killTimer = setTimeout(() => {
        if (exited) return;
        emit({
          type: "cancel-requested",
          task,
          reason: `still running ${launch.cancelGraceMs} ms after SIGTERM`,
          signal: "SIGKILL",
        });
        child.kill("SIGKILL");
      }, launch.cancelGraceMs);
    },
  };
}
