/**
 * The controller runner's command line.
 *
 *   npm run runner -- run <workflow.json | task.json> [--var NAME=VALUE]... [options]
 *   npm run runner -- rerun <run-id> <task> [options]
 *   npm run runner -- list [options]
 *
 * Options: --package ZIP (default: the built package in dist/), --credentials FILE
 * (default: the workflow's credentialsFile), --state-dir DIR (default .tmp/runner, where
 * runs are saved for rerun), --grace-seconds N (extension_cancel to SIGKILL, default 60),
 * --no-logs, --no-extension-output.
 * Ctrl-C cancels the running task (extension_cancel) and stops the workflow.
 * Exit code: 0 when the workflow ends Success, 1 Failed, 130 Cancelled, 2 bad usage.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pkg from "../../package.json" with { type: "json" };
import { loadCredentialsFile } from "./credentials.ts";
import { DefinitionError } from "./errors.ts";
import type { WorkflowResult } from "./events.ts";
import { consoleReporter } from "./report.ts";
import { ControllerRunner } from "./runner.ts";
import { type WorkflowDefinition, WorkflowRun, type WorkflowRunRecord } from "./workflow.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEFAULT_PACKAGE = join(ROOT, "dist", `unv_tmplt_ue-aws-stepfunctions-${pkg.version}.zip`);

/** Read a workflow file, or a task file (wrapped as a workflow of one task). */
export async function loadRunFile(path: string): Promise<WorkflowDefinition> {
  const raw = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  const definition = (Array.isArray(raw["tasks"]) ? raw : { name: raw["name"], tasks: [raw] }) as unknown as WorkflowDefinition;
  if (definition.credentialsFile) definition.credentialsFile = resolve(dirname(path), definition.credentialsFile);
  return definition;
}

function workflowExitCode(result: WorkflowResult): number {
  return result.state === "Success" ? 0 : result.state === "Cancelled" ? 130 : 1;
}

export async function main(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      package: { type: "string" },
      credentials: { type: "string" },
      "state-dir": { type: "string" },
      var: { type: "string", multiple: true },
      "grace-seconds": { type: "string" },
      "no-logs": { type: "boolean" },
      "no-extension-output": { type: "boolean" },
    },
  });
  const [command, ...args] = positionals;
  const stateDir = resolve(values["state-dir"] ?? ".tmp/runner");
  const runsDir = join(stateDir, "runs");

  if (command === "list") {
    const files = (await readdir(runsDir).catch(() => [])).filter((f) => f.endsWith(".json"));
    for (const file of files.sort()) {
      const record = JSON.parse(await readFile(join(runsDir, file), "utf8")) as WorkflowRunRecord;
      const tasks = record.instances.map((i) => `${i.name}${i.runs > 1 ? `(${i.runs} runs)` : ""}=${i.lastResult?.state ?? "?"}`);
      out(`${record.instanceId}  ${record.definition.name}  ${record.state}  ${tasks.join(" ")}\n`);
    }
    return 0;
  }
  if ((command !== "run" || args.length !== 1) && (command !== "rerun" || args.length !== 2)) {
    out("usage: runner run <workflow.json|task.json> [--var NAME=VALUE]... | runner rerun <run-id> <task> | runner list\n");
    return 2;
  }

  let saved: WorkflowRunRecord | null = null;
  let definition: WorkflowDefinition;
  if (command === "rerun") {
    saved = JSON.parse(await readFile(join(runsDir, `${args[0]}.json`), "utf8")) as WorkflowRunRecord;
    definition = saved.definition;
  } else {
    definition = await loadRunFile(resolve(args[0] ?? ""));
  }
  const vars: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const at = pair.indexOf("=");
    if (at < 1) {
      out(`--var ${pair}: expected NAME=VALUE\n`);
      return 2;
    }
    vars[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const credentialsPath =
    (values.credentials && resolve(values.credentials)) ??
    (saved?.extra?.["credentialsFile"] as string | undefined) ??
    definition.credentialsFile;
  const credentials = credentialsPath ? await loadCredentialsFile(credentialsPath) : new Map();

  const runner = await ControllerRunner.open({
    packagePath: resolve(values.package ?? DEFAULT_PACKAGE),
    credentials,
    ...(values["grace-seconds"] ? { cancelGraceMs: Number(values["grace-seconds"]) * 1000 } : {}),
    onEvent: consoleReporter(out, { logs: !values["no-logs"], extensionOutput: !values["no-extension-output"] }),
  });
  let run: WorkflowRun | undefined;
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    out(interrupts === 1 ? "\nCtrl-C: cancelling the running task (extension_cancel)\n" : "\nCtrl-C again: the task is killed after its grace period\n");
    run?.cancel("cancelled by the operator (Ctrl-C)");
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  try {
    run = saved ? WorkflowRun.restore(runner, saved) : new WorkflowRun(runner, definition, { vars });
    const result = saved ? await run.rerun(args[1] ?? "") : await run.run();
    await mkdir(runsDir, { recursive: true });
    const extra = credentialsPath ? { credentialsFile: credentialsPath } : undefined;
    await writeFile(join(runsDir, `${run.instanceId}.json`), JSON.stringify(run.save(extra), null, 2), { mode: 0o600 });
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof DefinitionError ? error.message : String((error as Error)?.stack ?? error)}\n`);
      process.exitCode = 2;
    },
  );
}
