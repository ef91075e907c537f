/**
 * Workflows: tasks run in the order listed; each task after the first runs when its
 * condition on its predecessor holds (by default the task listed just before it) and is
 * skipped otherwise. Later tasks read earlier ones' extension output through references
 * (see references.ts), resolved just before they launch.
 *
 *   { "name": "demo", "variables": { "endpoint_url": "" },
 *     "tasks": [ { "name": "a", "fields": { ... } },
 *                { "name": "b", "runIf": "success", "fields": { "x": "${tasks.a.output:$.result.executionArn}" } },
 *                { "name": "on-a-failure", "after": "a", "runIf": "failure", "fields": { ... } } ] }
 *
 * runIf: "success" (default) | "failure" | "always" | "exit codes 23,25-26".
 */
import { randomBytes } from "node:crypto";
import { DefinitionError } from "./errors.ts";
import type { TaskResult, WorkflowResult, WorkflowState } from "./events.ts";
import { inRanges, parseExitCodeRanges } from "./exit-code-processing.ts";
import { type ReferenceScope, referencesIn } from "./references.ts";
import {
  type ControllerRunner,
  TASK_NAME,
  type TaskDefinition,
  type TaskHandle,
  type TaskInstanceRecord,
} from "./runner.ts";

export interface WorkflowTask extends TaskDefinition {
  /** The task whose result decides whether this one runs (default: the one listed before). */
  after?: string;
  /** The condition on that task's result (default "success"). */
  runIf?: string;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  /** Credentials file, relative to the workflow file (the command line's --credentials wins). */
  credentialsFile?: string;
  /** Variables with their defaults; ${vars.NAME} reads them; callers may override. */
  variables?: Record<string, unknown>;
  tasks: WorkflowTask[];
}

export type Condition =
  | { kind: "success" | "failure" | "always" }
  | { kind: "exit codes"; ranges: Array<[number, number]>; text: string };

/** Parse a runIf condition. */
export function parseCondition(text: string): Condition {
  const t = text.trim().toLowerCase();
  if (t === "success" || t === "failure" || t === "always") return { kind: t };
  const m = /^exit codes?\s+(.+)$/.exec(t);
  if (m?.[1]) return { kind: "exit codes", ranges: parseExitCodeRanges(m[1]), text: m[1] };
  throw new Error(`runIf "${text}": use "success", "failure", "always" or "exit codes 23,25-26"`);
}

/** Does the predecessor's result satisfy the condition? */
export function conditionHolds(condition: Condition, result: TaskResult): boolean {
  switch (condition.kind) {
    case "success":
      return result.state === "Success";
    case "failure":
      return result.state !== "Success";
    case "always":
      return true;
    case "exit codes":
      return result.exitCode !== null && inRanges(result.exitCode, condition.ranges);
  }
}

function describeCondition(c: Condition): string {
  return c.kind === "exit codes" ? `exit code in ${c.text}` : c.kind;
}

/** Check a workflow document's shape and wiring; throws DefinitionError listing every problem. */
export function parseWorkflow(raw: unknown, where = "workflow"): WorkflowDefinition {
  const problems: string[] = [];
  const doc = raw as Partial<WorkflowDefinition> | null;
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new DefinitionError(where, ["expected a JSON object"]);
  if (typeof doc.name !== "string" || doc.name === "") problems.push("name: required");
  if (
    doc.variables !== undefined &&
    (typeof doc.variables !== "object" || doc.variables === null || Array.isArray(doc.variables))
  ) {
    problems.push("variables: expected an object of names and default values");
  }
  if (!Array.isArray(doc.tasks) || doc.tasks.length === 0) {
    problems.push("tasks: expected a non-empty list of tasks");
    throw new DefinitionError(where, problems);
  }
  const seen: string[] = [];
  const variables = Object.keys(doc.variables ?? {});
  doc.tasks.forEach((task, index) => {
    const label = `tasks[${index}]${typeof task?.name === "string" ? ` (${task.name})` : ""}`;
    if (typeof task !== "object" || task === null) {
      problems.push(`${label}: expected a task object`);
      return;
    }
    if (typeof task.name !== "string" || !TASK_NAME.test(task.name))
      problems.push(`${label}: name: use letters, digits, "-" and "_"`);
    else if (seen.includes(task.name)) problems.push(`${label}: name used twice`);
    if (index === 0 && (task.after !== undefined || task.runIf !== undefined)) {
      problems.push(`${label}: the first task always runs; "after" and "runIf" do not apply`);
    }
    if (task.after !== undefined && !seen.includes(task.after))
      problems.push(`${label}: after "${task.after}": no task of that name is listed before it`);
    if (task.runIf !== undefined) {
      try {
        parseCondition(task.runIf);
      } catch (error) {
        problems.push(`${label}: ${(error as Error).message}`);
      }
    }
    for (const ref of referencesIn(task.fields ?? {})) {
      if (ref.kind === "var" && !variables.includes(ref.name))
        problems.push(`${label}: ${ref.text}: no variable ${ref.name} is declared`);
      if ((ref.kind === "task" || ref.kind === "function") && !seen.includes(ref.task))
        problems.push(`${label}: ${ref.text}: task ${ref.task} is not listed before this one`);
    }
    if (typeof task.name === "string") seen.push(task.name);
  });
  if (problems.length > 0) throw new DefinitionError(where, problems);
  return doc as WorkflowDefinition;
}

type Entry =
  | { status: "pending" }
  | { status: "skipped"; reason: string }
  | { status: "ran"; instanceId: string };

/** A saved workflow run, enough to rerun one of its tasks later (no secrets inside). */
export interface WorkflowRunRecord {
  instanceId: string;
  definition: WorkflowDefinition;
  vars: Record<string, unknown>;
  entries: Record<string, Entry>;
  instances: TaskInstanceRecord[];
  state: WorkflowState | "Running";
  /** Free for the caller (the command line keeps the credentials file path here). */
  extra?: Record<string, unknown>;
}

export interface WorkflowRunOptions {
  /** Values for declared variables (others are refused). */
  vars?: Record<string, unknown>;
  instanceId?: string;
}

/** One run of a workflow on a runner. */
export class WorkflowRun {
  readonly instanceId: string;
  readonly definition: WorkflowDefinition;
  readonly #runner: ControllerRunner;
  readonly #vars: Record<string, unknown>;
  readonly #entries = new Map<string, Entry>();
  #current: TaskHandle | null = null;
  #cancelled: string | null = null;
  #state: WorkflowState | "Running" = "Running";

  constructor(
    runner: ControllerRunner,
    definition: WorkflowDefinition,
    options: WorkflowRunOptions = {},
  ) {
    this.#runner = runner;
    this.definition = parseWorkflow(definition, `workflow ${definition.name}`);
    this.instanceId = options.instanceId ?? randomBytes(16).toString("hex");
    const declared = definition.variables ?? {};
    const problems: string[] = [];
    for (const name of Object.keys(options.vars ?? {})) {
      if (!Object.hasOwn(declared, name))
        problems.push(`variable ${name}: the workflow declares no such variable`);
    }
    for (const task of definition.tasks) {
      try {
        runner.checkDefinition(task);
      } catch (error) {
        if (error instanceof DefinitionError)
          problems.push(...error.problems.map((p) => `task ${task.name}: ${p}`));
        else throw error;
      }
    }
    if (problems.length > 0) throw new DefinitionError(`workflow ${definition.name}`, problems);
    this.#vars = { ...declared, ...options.vars };
    for (const task of definition.tasks) this.#entries.set(task.name, { status: "pending" });
  }

  /** Rebuild a saved run on a runner, so its tasks can be rerun. */
  static restore(runner: ControllerRunner, record: WorkflowRunRecord): WorkflowRun {
    const run = new WorkflowRun(runner, record.definition, {
      vars: {},
      instanceId: record.instanceId,
    });
    Object.assign(run.#vars, record.vars);
    for (const [name, entry] of Object.entries(record.entries)) run.#entries.set(name, entry);
    for (const instance of record.instances) runner.restore(instance);
    run.#state = record.state;
    return run;
  }

  get state(): WorkflowState | "Running" {
    return this.#state;
  }

  /** The task instance id of a task that ran, if it ran. */
  instanceIdOf(task: string): string | undefined {
    const entry = this.#entries.get(task);
    return entry?.status === "ran" ? entry.instanceId : undefined;
  }

  /** Run the workflow from the start. */
  async run(): Promise<WorkflowResult> {
    this.#runner.emit({
      type: "workflow-started",
      workflow: this.definition.name,
      instanceId: this.instanceId,
      tasks: this.definition.tasks.map((t) => t.name),
    });
    return this.#advance();
  }

  /** Rerun one task (execution count + 1), then carry on with the tasks that have not run. */
  async rerun(taskName: string): Promise<WorkflowResult> {
    const instanceId = this.instanceIdOf(taskName);
    if (!instanceId)
      throw new Error(
        `task ${taskName} has not run in workflow run ${this.instanceId}: nothing to rerun`,
      );
    this.#cancelled = null;
    this.#state = "Running";
    const index = this.definition.tasks.findIndex((t) => t.name === taskName);
    this.#current = this.#runner.rerun(instanceId);
    const result = await this.#current.result;
    this.#current = null;
    if (result.cancelReason !== null && this.#cancelled !== null) return this.#finish();
    // Tasks after it that were skipped get decided again; tasks that ran keep their results.
    for (const task of this.definition.tasks.slice(index + 1)) {
      if (this.#entries.get(task.name)?.status === "skipped")
        this.#entries.set(task.name, { status: "pending" });
    }
    return this.#advance();
  }

  /** Cancel the running task (SIGTERM) and run nothing more. */
  cancel(reason = "cancelled by the operator"): void {
    this.#cancelled = reason;
    this.#current?.cancel(reason);
  }

  /** Everything needed to rerun a task of this run later. */
  save(extra?: Record<string, unknown>): WorkflowRunRecord {
    const instances: TaskInstanceRecord[] = [];
    for (const entry of this.#entries.values()) {
      const record = entry.status === "ran" ? this.#runner.record(entry.instanceId) : undefined;
      if (record) instances.push(record);
    }
    return {
      instanceId: this.instanceId,
      definition: this.definition,
      vars: { ...this.#vars },
      entries: Object.fromEntries(this.#entries),
      instances,
      state: this.#state,
      ...(extra ? { extra } : {}),
    };
  }

  #result(name: string): TaskResult | undefined {
    const entry = this.#entries.get(name);
    return entry?.status === "ran"
      ? (this.#runner.record(entry.instanceId)?.lastResult ?? undefined)
      : undefined;
  }

  #scope(): ReferenceScope {
    return { vars: this.#vars, task: (name) => this.#result(name) };
  }

  async #advance(): Promise<WorkflowResult> {
    const tasks = this.definition.tasks;
    for (const [index, task] of tasks.entries()) {
      if (this.#entries.get(task.name)?.status !== "pending") continue;
      if (this.#cancelled !== null) break;
      const predecessor = task.after ?? tasks[index - 1]?.name;
      if (predecessor !== undefined) {
        const condition = parseCondition(task.runIf ?? "success");
        const before = this.#entries.get(predecessor);
        const result = this.#result(predecessor);
        let skip: string | null = null;
        if (before?.status === "skipped") skip = `${predecessor} was skipped`;
        else if (!result) skip = `${predecessor} did not run`;
        else if (!conditionHolds(condition, result)) {
          const code = result.exitCode === null ? "" : `, exit code ${result.exitCode}`;
          skip = `runs on ${describeCondition(condition)} of ${predecessor}, which ended ${result.state}${code}`;
        }
        if (skip !== null) {
          this.#entries.set(task.name, { status: "skipped", reason: skip });
          this.#runner.emit({
            type: "task-skipped",
            workflow: this.definition.name,
            task: task.name,
            reason: skip,
          });
          continue;
        }
      }
      this.#current = this.#runner.launch(task, { scope: this.#scope() });
      this.#entries.set(task.name, { status: "ran", instanceId: this.#current.instanceId });
      await this.#current.result;
      this.#current = null;
    }
    return this.#finish();
  }

  #finish(): WorkflowResult {
    const tasks: Array<
      { name: string; ran: true; result: TaskResult } | { name: string; ran: false; reason: string }
    > = [];
    let unhandled = false;
    for (const task of this.definition.tasks) {
      const entry = this.#entries.get(task.name);
      const result = this.#result(task.name);
      if (result) {
        tasks.push({ name: task.name, ran: true, result });
        // A failure is handled when a task that runs on failure (or on exit codes) followed it.
        const handled = this.definition.tasks.some((t, i) => {
          const predecessor = t.after ?? this.definition.tasks[i - 1]?.name;
          const kind = t.runIf === undefined ? "success" : parseCondition(t.runIf).kind;
          return (
            predecessor === task.name &&
            (kind === "failure" || kind === "exit codes") &&
            this.#entries.get(t.name)?.status === "ran"
          );
        });
        if (result.state !== "Success" && !handled) unhandled = true;
      } else {
        tasks.push({
          name: task.name,
          ran: false,
          reason: entry?.status === "skipped" ? entry.reason : "not run (workflow cancelled)",
        });
      }
    }
    this.#state = this.#cancelled !== null ? "Cancelled" : unhandled ? "Failed" : "Success";
    const result: WorkflowResult = {
      name: this.definition.name,
      instanceId: this.instanceId,
      state: this.#state,
      tasks,
    };
    this.#runner.emit({ type: "workflow-finished", result });
    return result;
  }
}
