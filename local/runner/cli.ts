/**
 * The controller runner's command line (USAGE below).
 * Ctrl-C cancels the running task (extension_cancel) and stops the workflow.
 * Exit code: 0 when the workflow ends Success, 1 Failed, 130 Cancelled, 2 bad usage.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pkg from "../../package.json" with { type: "json" };
import { loadCredentialsFile } from "./credentials.ts";
import { DefinitionError, UsageError } from "./errors.ts";
import type { WorkflowResult } from "./events.ts";
import { consoleReporter } from "./report.ts";
import { referencesIn } from "./references.ts";
import { ControllerRunner } from "./runner.ts";
import { type WorkflowDefinition, WorkflowRun, type WorkflowRunRecord } from "./workflow.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEFAULT_PACKAGE = join(
  ROOT,
  "dist",
  `unv_tmplt_ue-aws-stepfunctions-${pkg.version}.zip`,
);

export const USAGE = `Usage:
  npm run runner -- run <workflow.json | task.json> [--var NAME=VALUE]... [options]
  npm run runner -- rerun <run-id> <task> [options]
  npm run runner -- list [options]
  npm run runner -- choices <task.json> <field> [--var NAME=VALUE]... [options]

Runs task definitions of the template through the package's extension.py, as a controller
and its agent do. A task file runs as a workflow of one task. choices asks a Dynamic
Choice field of the task's form for its choices, as the controller does while the form is
filled (extension.py's choice command for the field), and prints them.

Options:
  --var NAME=VALUE      set a workflow variable (repeatable)
  --package ZIP         the template package (default: the built package in dist/)
  --credentials FILE    credentials file (default: the workflow's credentialsFile)
  --state-dir DIR       where runs are saved for rerun and list (default .tmp/runner)
  --grace-seconds N     from extension_cancel to SIGKILL on cancel (default 60)
  --no-logs             leave out the program's log lines
  --no-extension-output leave out the extension output documents
  -h, --help            this text

Exit code: 0 workflow Success, 1 Failed, 130 Cancelled, 2 bad usage; choices: 0 when
the command answered rc 0, else 1.
`;

const HELP_HINT = " (npm run runner -- --help shows the usage)";

/** Read a workflow file, or a task file (wrapped as a workflow of one task). */
export async function loadRunFile(path: string): Promise<WorkflowDefinition> {
  return (await readRunFile(path)).definition;
}

/** A workflow or task file, and which of the two it is. */
async function readRunFile(
  path: string,
): Promise<{ definition: WorkflowDefinition; taskFile: boolean }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a folder"
          : (error as Error).message;
    throw new UsageError(`cannot read workflow or task file ${path}: ${why}`, { cause: error });
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`workflow or task file ${path} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new UsageError(
      `workflow or task file ${path}: expected a JSON object (a task, or a workflow with "tasks")`,
    );
  }
  const taskFile = !Array.isArray(raw["tasks"]);
  const definition = (taskFile
    ? { name: raw["name"], tasks: [raw] }
    : raw) as unknown as WorkflowDefinition;
  if (definition.credentialsFile)
    definition.credentialsFile = resolve(dirname(path), definition.credentialsFile);
  return { definition, taskFile };
}

/**
 * A task file declares no variables: those its references use come from --var, each one
 * required (a task must not run with a value nobody gave).
 */
function declareTaskFileVariables(
  definition: WorkflowDefinition,
  path: string,
  vars: Record<string, string>,
): void {
  const used = new Set(
    referencesIn(definition.tasks).flatMap((r) => (r.kind === "var" ? [r.name] : [])),
  );
  const missing = [...used].filter((name) => !Object.hasOwn(vars, name));
  if (missing.length > 0) {
    throw new UsageError(
      `task file ${path} uses ${missing.map((n) => `\${vars.${n}}`).join(", ")}: give ${missing.length === 1 ? "it" : "each"} with --var NAME=VALUE`,
    );
  }
  definition.variables = Object.fromEntries([...used].map((name) => [name, vars[name]]));
}

function workflowExitCode(result: WorkflowResult): number {
  return result.state === "Success" ? 0 : result.state === "Cancelled" ? 130 : 1;
}

const OPTIONS = {
  package: { type: "string" },
  credentials: { type: "string" },
  "state-dir": { type: "string" },
  var: { type: "string", multiple: true },
  "grace-seconds": { type: "string" },
  "no-logs": { type: "boolean" },
  "no-extension-output": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // Node's text goes on about positionals after "--"; its first sentence names the problem.
    const first = (error as Error).message.split(". ")[0] ?? String(error);
    throw new UsageError(`${first}${HELP_HINT}`, { cause: error });
  }
}

/**
 * Runs the command line; resolves with the exit code. Usage errors throw UsageError
 * (the caller prints its message and exits 2).
 */
export async function main(
  argv: string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const [command, ...args] = positionals;
  const stateDir = resolve(values["state-dir"] ?? ".tmp/runner");
  const runsDir = join(stateDir, "runs");

  if (command === "list") {
    const files = (await readdir(runsDir).catch(() => [])).filter((f) => f.endsWith(".json"));
    for (const file of files.sort()) {
      const record = JSON.parse(await readFile(join(runsDir, file), "utf8")) as WorkflowRunRecord;
      const tasks = record.instances.map(
        (i) => `${i.name}${i.runs > 1 ? `(${i.runs} runs)` : ""}=${i.lastResult?.state ?? "?"}`,
      );
      out(`${record.instanceId}  ${record.definition.name}  ${record.state}  ${tasks.join(" ")}\n`);
    }
    return 0;
  }
  if (command === undefined)
    throw new UsageError(`no command: expected run, rerun, list or choices${HELP_HINT}`);
  if (command === "choices") return choices(args, values, out);
  if (command !== "run" && command !== "rerun")
    throw new UsageError(
      `unknown command "${command}": expected run, rerun, list or choices${HELP_HINT}`,
    );
  if (command === "run" && args.length !== 1)
    throw new UsageError(`run takes one workflow or task file${HELP_HINT}`);
  if (command === "rerun" && args.length !== 2)
    throw new UsageError(
      "rerun takes a run id and a task name (npm run runner -- list shows the runs)",
    );
  const graceSeconds =
    values["grace-seconds"] === undefined ? undefined : Number(values["grace-seconds"]);
  if (graceSeconds !== undefined && !(Number.isFinite(graceSeconds) && graceSeconds >= 0)) {
    throw new UsageError(
      `--grace-seconds ${values["grace-seconds"]}: expected a number of seconds, 0 or more`,
    );
  }

  let saved: WorkflowRunRecord | null = null;
  let definition: WorkflowDefinition;
  let taskFile = false;
  if (command === "rerun") {
    const runFile = join(runsDir, `${args[0]}.json`);
    if (!existsSync(runFile))
      throw new UsageError(
        `no saved run ${args[0]} in ${stateDir} (npm run runner -- list shows the saved runs)`,
      );
    saved = JSON.parse(await readFile(runFile, "utf8")) as WorkflowRunRecord;
    definition = saved.definition;
  } else {
    const file = await readRunFile(resolve(args[0] ?? ""));
    definition = file.definition;
    taskFile = file.taskFile;
  }
  const vars: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const at = pair.indexOf("=");
    if (at < 1) throw new UsageError(`--var ${pair}: expected NAME=VALUE${HELP_HINT}`);
    vars[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (taskFile) declareTaskFileVariables(definition, args[0] ?? "", vars);
  const credentialsPath =
    (values.credentials && resolve(values.credentials)) ??
    (saved?.extra?.["credentialsFile"] as string | undefined) ??
    definition.credentialsFile;
  const credentials = credentialsPath
    ? await loadCredentialsFile(credentialsPath).catch((error: unknown) => {
        throw new UsageError((error as Error).message, { cause: error });
      })
    : new Map();
  const packagePath = resolve(values.package ?? DEFAULT_PACKAGE);
  if (!existsSync(packagePath)) {
    throw new UsageError(
      values.package
        ? `package not found: ${packagePath}`
        : `package not found: ${packagePath} (npm run build builds it)`,
    );
  }

  const runner = await ControllerRunner.open({
    packagePath,
    credentials,
    ...(graceSeconds !== undefined ? { cancelGraceMs: graceSeconds * 1000 } : {}),
    onEvent: consoleReporter(out, {
      logs: !values["no-logs"],
      extensionOutput: !values["no-extension-output"],
    }),
  });
  let run: WorkflowRun | undefined;
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    out(
      interrupts === 1
        ? "\nCtrl-C: cancelling the running task (extension_cancel)\n"
        : "\nCtrl-C again: the task is killed after its grace period\n",
    );
    run?.cancel("cancelled by the operator (Ctrl-C)");
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  try {
    run = saved
      ? WorkflowRun.restore(runner, saved)
      : new WorkflowRun(runner, definition, { vars });
    const result = saved ? await run.rerun(args[1] ?? "") : await run.run();
    await mkdir(runsDir, { recursive: true });
    const extra = credentialsPath ? { credentialsFile: credentialsPath } : undefined;
    await writeFile(
      join(runsDir, `${run.instanceId}.json`),
      JSON.stringify(run.save(extra), null, 2),
      { mode: 0o600 },
    );
    if (result.state !== "Success") {
      out(`rerun a task of this run with: npm run runner -- rerun ${run.instanceId} <task>\n`);
    }
    return workflowExitCode(result);
  } finally {
    process.off("SIGINT", onInterrupt);
    process.off("SIGTERM", onInterrupt);
    await runner.close();
  }
}

/** `choices <task.json> <field>`: the field's choices, one per line, then the rc and message. */
async function choices(
  args: readonly string[],
  values: ReturnType<typeof parseCommandLine>["values"],
  out: (text: string) => void,
): Promise<number> {
  if (args.length !== 2)
    throw new UsageError(`choices takes a task file and a field name${HELP_HINT}`);
  const file = await readRunFile(resolve(args[0] ?? ""));
  const task = file.definition.tasks[0];
  if (!file.taskFile || !task) throw new UsageError(`choices takes a task file, not a workflow`);
  const vars: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const at = pair.indexOf("=");
    if (at < 1) throw new UsageError(`--var ${pair}: expected NAME=VALUE${HELP_HINT}`);
    vars[pair.slice(0, at)] = pair.slice(at + 1);
  }
  declareTaskFileVariables(file.definition, args[0] ?? "", vars);
  const credentialsPath = (values.credentials && resolve(values.credentials)) ?? undefined;
  const credentials = credentialsPath
    ? await loadCredentialsFile(credentialsPath).catch((error: unknown) => {
        throw new UsageError((error as Error).message, { cause: error });
      })
    : new Map();
  const packagePath = resolve(values.package ?? DEFAULT_PACKAGE);
  if (!existsSync(packagePath)) throw new UsageError(`package not found: ${packagePath}`);
  const runner = await ControllerRunner.open({ packagePath, credentials });
  try {
    const answer = await runner.choices(task, args[1] ?? "", {
      scope: { vars: file.definition.variables ?? {}, task: () => undefined },
    });
    if (!values["no-logs"]) for (const line of answer.log) out(`  | ${line}\n`);
    for (const value of answer.values ?? []) out(`${value}\n`);
    out(`rc ${answer.rc ?? "none"}: ${answer.message ?? ""}\n`);
    for (const problem of answer.problems) out(`problem: ${problem}\n`);
    return answer.rc === 0 && answer.problems.length === 0 ? 0 : 1;
  } finally {
    await runner.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError || error instanceof DefinitionError) {
        process.stderr.write(`runner: ${error.message}\n`);
      } else {
        // Not a bad input: a fault of the runner itself, where the stack helps.
        process.stderr.write(`runner: ${String((error as Error)?.stack ?? error)}\n`);
      }
      process.exitCode = 2;
    },
  );
}
