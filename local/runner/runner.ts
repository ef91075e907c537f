/**
 * The controller runner: loads a built template package and runs task instances of its
 * template as the controller and an agent would: the form's rules applied to the
 * definition, the package's extension.py run in Python through a stand-in of the agent's
 * extension API, output-only fields shown as they arrive, the ExtensionResult collected,
 * the template's exit-code processing applied; cancel calls extension_cancel; a rerun runs
 * the same task instance (the same instance id) again, with nothing else to tell it apart.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Template } from "../../src/fields/template-types.ts";
import type { CredentialStore } from "./credentials.ts";
import { DefinitionError } from "./errors.ts";
import type { EventListener, RunnerEvent, TaskIdentity, TaskResult, TaskState } from "./events.ts";
import { isSuccessExitCode } from "./exit-code-processing.ts";
import { asFieldText, checkFieldNames, maskedValues, prepareFields } from "./fields.ts";
import { type LoadedPackage, loadPackage } from "./package.ts";
import {
  type AgentOptions,
  type ChoiceOutcome,
  findPython,
  runChoiceCommand,
  PYTHON_SETTING,
  type RunningExtension,
  startExtension,
} from "./agent.ts";
import { type ReferenceScope, resolveReferences } from "./references.ts";

/** A task as written in a task or workflow file. */
export interface TaskDefinition {
  /** The task's name in reports and references (not handed to the extension); letters, digits, "-" and "_". */
  name: string;
  /** The template it is a task of; when given, must match the package's template name. */
  template?: string;
  /** Field values by field name; references allowed; credentials as { "$credential": name }. */
  fields: Record<string, unknown>;
  /** Cancel the task (SIGTERM) when it runs longer than this. */
  timeoutSeconds?: number;
}

/** What a task instance remembers between runs, as plain JSON (for rerun from a saved run). */
export interface TaskInstanceRecord {
  name: string;
  instanceId: string;
  /** How many times the instance has run (the runner's own count; the agent passes none). */
  runs: number;
  /** The definition's fields with references resolved (credentials still by name). */
  fields: Record<string, unknown>;
  timeoutSeconds?: number;
  outputFields: Record<string, unknown>;
  lastResult: TaskResult | null;
  agent?: AgentOptions;
}

export interface RunnerOptions {
  /** The template package zip (dist/unv_tmplt_<extension>-<version>.zip). */
  packagePath: string;
  /** Credentials that definitions name with { "$credential": name }. */
  credentials?: CredentialStore;
  /** The agent's environment, which extension.py and the program see (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** How long after extension_cancel the extension's process is killed (default 60 s). */
  cancelGraceMs?: number;
  /** Import extension.py from inside extension_archive.zip (default) or from the unpacked folder. */
  archive?: "zip" | "folder";
  /** The Python interpreter (default: see findPython). */
  python?: string;
  /** How the stand-in agent hands fields over and which update call it offers. */
  agent?: AgentOptions;
  /** Makes the id of a new task instance (default: 32 random hex digits, like a sysId). */
  newInstanceId?: (taskName: string) => string;
  onEvent?: EventListener;
}

export interface LaunchOptions {
  /** What references may see (default: variables none, tasks this runner ran last by name). */
  scope?: ReferenceScope;
  instanceId?: string;
  /** This instance's agent behaviour (over the runner's); kept for its reruns. */
  agent?: AgentOptions;
}

export interface TaskHandle {
  readonly instanceId: string;
  /** Cancel the run: extension_cancel, then SIGKILL after the grace period. */
  cancel(reason?: string): void;
  readonly result: Promise<TaskResult>;
}

export const TASK_NAME = /^[A-Za-z0-9_-]+$/;

function newInstanceId(): string {
  return randomBytes(16).toString("hex");
}

export class ControllerRunner {
  readonly package: LoadedPackage;
  readonly #credentials: CredentialStore;
  readonly #env: NodeJS.ProcessEnv;
  readonly #cancelGraceMs: number;
  readonly #archivePath: string;
  readonly #python: string | null;
  readonly #agent: AgentOptions;
  readonly #newInstanceId: (taskName: string) => string;
  readonly #workDir: string;
  readonly #listeners = new Set<EventListener>();
  readonly #instances = new Map<string, TaskInstanceRecord>();
  readonly #running = new Map<
    string,
    { cancel(reason: string): void; result?: Promise<TaskResult> }
  >();

  private constructor(pkg: LoadedPackage, workDir: string, options: RunnerOptions) {
    this.package = pkg;
    this.#workDir = workDir;
    this.#credentials = options.credentials ?? new Map();
    this.#env = options.env ?? process.env;
    this.#cancelGraceMs = options.cancelGraceMs ?? 60_000;
    this.#archivePath = options.archive === "folder" ? pkg.dir : pkg.archivePath;
    this.#python = options.python ?? findPython();
    this.#agent = options.agent ?? {};
    this.#newInstanceId = options.newInstanceId ?? newInstanceId;
    if (options.onEvent) this.#listeners.add(options.onEvent);
  }

  /** Load the package and get ready to run its tasks. */
  static async open(options: RunnerOptions): Promise<ControllerRunner> {
    const workDir = await mkdtemp(join(tmpdir(), "ue-runner-"));
    try {
      const pkg = await loadPackage(options.packagePath, workDir);
      return new ControllerRunner(pkg, workDir, options);
    } catch (error) {
      await rm(workDir, { recursive: true, force: true });
      throw error;
    }
  }

  get template(): Template {
    return this.package.template;
  }

  /** Listen to events; returns a function that stops listening. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: RunnerEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /**
   * Check a definition against the template without running it: name, template, unknown
   * or output-only fields, inline credentials. Throws DefinitionError listing every problem.
   */
  checkDefinition(definition: TaskDefinition, where = `task ${definition.name}`): void {
    const problems: string[] = [];
    if (typeof definition.name !== "string" || !TASK_NAME.test(definition.name)) {
      problems.push(`name ${JSON.stringify(definition.name)}: use letters, digits, "-" and "_"`);
    }
    if (definition.template !== undefined && definition.template !== this.template.name) {
      problems.push(
        `template "${definition.template}": the package holds template "${this.template.name}"`,
      );
    }
    if (
      typeof definition.fields !== "object" ||
      definition.fields === null ||
      Array.isArray(definition.fields)
    ) {
      problems.push(`fields: expected an object of field values by field name`);
    } else {
      problems.push(...checkFieldNames(this.template, definition.fields));
    }
    const t = definition.timeoutSeconds;
    if (t !== undefined && (typeof t !== "number" || !(t > 0)))
      problems.push(`timeoutSeconds: expected a positive number`);
    if (problems.length > 0) throw new DefinitionError(where, problems);
  }

  /** Start a new task instance. */
  launch(definition: TaskDefinition, options: LaunchOptions = {}): TaskHandle {
    this.checkDefinition(definition);
    const problems: string[] = [];
    const scope = options.scope ?? this.#defaultScope();
    const fields = this.#resolve(definition.fields, scope, problems);
    const record: TaskInstanceRecord = {
      name: definition.name,
      instanceId: options.instanceId ?? this.#newInstanceId(definition.name),
      runs: 1,
      fields,
      ...(definition.timeoutSeconds !== undefined
        ? { timeoutSeconds: definition.timeoutSeconds }
        : {}),
      outputFields: {},
      lastResult: null,
      ...(options.agent ? { agent: options.agent } : {}),
    };
    this.#instances.set(record.instanceId, record);
    return this.#start(record, problems, false);
  }

  /**
   * Ask a Dynamic Choice field for its choices, as the controller does while the task's form
   * is filled: extension.py's choice command for the field runs with the values of the
   * fields the template's choiceFields names. Nothing is launched; the answer is returned.
   */
  async choices(
    definition: TaskDefinition,
    field: string,
    options: { scope?: ReferenceScope; timeoutMs?: number } = {},
  ): Promise<ChoiceOutcome> {
    this.checkDefinition(definition);
    const where = `task ${definition.name}`;
    const dynamic = this.template.fields.find((f) => f.name === field);
    if (!dynamic?.choiceDynamic) {
      const known = this.template.fields.filter((f) => f.choiceDynamic).map((f) => f.name);
      throw new DefinitionError(where, [
        `${field}: not a Dynamic Choice field of template "${this.template.name}" (those are: ${known.join(", ")})`,
      ]);
    }
    const problems: string[] = [];
    const scope = options.scope ?? this.#defaultScope();
    const fields = this.#resolve(definition.fields, scope, problems);
    const prepared = prepareFields(this.template, fields, this.#credentials, false);
    problems.push(...prepared.problems);
    if (!prepared.form.shown.has(field))
      problems.push(`${dynamic.label} (${field}): the form hides it for these values`);
    if (problems.length > 0) throw new DefinitionError(where, problems);
    if (this.#python === null)
      throw new Error(`no Python interpreter: put python3 on PATH or set ${PYTHON_SETTING}`);
    return runChoiceCommand({
      python: this.#python,
      archivePath: this.#archivePath,
      template: this.template,
      field,
      fields: prepared.values,
      agent: this.#agent,
      env: this.#env,
      secrets: prepared.secrets,
      // Longer than the bridge's own limit on the listing (60 s), so it answers first.
      timeoutMs: options.timeoutMs ?? 90_000,
    });
  }

  /** Run the task instance again: the same instance id, the same fields. */
  rerun(instanceId: string): TaskHandle {
    const record = this.#instances.get(instanceId);
    if (!record) throw new Error(`no task instance ${instanceId}`);
    if (this.#running.has(instanceId))
      throw new Error(`task instance ${instanceId} is still running`);
    record.runs += 1;
    return this.#start(record, [], true);
  }

  /** Cancel a running task instance; false when it is not running. */
  cancel(instanceId: string, reason = "cancelled by the operator"): boolean {
    const running = this.#running.get(instanceId);
    running?.cancel(reason);
    return running !== undefined;
  }

  /** Cancel everything that runs and wait for it to end. */
  async cancelAll(reason = "cancelled by the operator"): Promise<void> {
    const all = [...this.#running.values()];
    for (const r of all) r.cancel(reason);
    await Promise.allSettled(all.map((r) => r.result));
  }

  /** A copy of a task instance's record (JSON-safe). */
  record(instanceId: string): TaskInstanceRecord | undefined {
    const r = this.#instances.get(instanceId);
    return r ? (JSON.parse(JSON.stringify(r)) as TaskInstanceRecord) : undefined;
  }

  /** Take back a task instance saved earlier, so it can be rerun. */
  restore(record: TaskInstanceRecord): void {
    this.#instances.set(
      record.instanceId,
      JSON.parse(JSON.stringify(record)) as TaskInstanceRecord,
    );
  }

  /** Cancel what still runs and remove the unpacked package and run folders. */
  async close(): Promise<void> {
    await this.cancelAll("the runner is closing");
    await rm(this.#workDir, { recursive: true, force: true });
  }

  /** The fields with every reference replaced in the text the controller's form holds. */
  #resolve(
    fields: Readonly<Record<string, unknown>>,
    scope: ReferenceScope,
    problems: string[],
  ): Record<string, unknown> {
    return resolveReferences(asFieldText(this.template, fields), scope, problems) as Record<
      string,
      unknown
    >;
  }

  #defaultScope(): ReferenceScope {
    return {
      vars: {},
      task: (name) => {
        let latest: TaskResult | null = null;
        for (const r of this.#instances.values()) {
          if (
            r.name === name &&
            r.lastResult &&
            (!latest || r.lastResult.finishedAt >= latest.finishedAt)
          ) {
            latest = r.lastResult;
          }
        }
        return latest ?? undefined;
      },
    };
  }

  #start(record: TaskInstanceRecord, referenceProblems: string[], isRerun: boolean): TaskHandle {
    let program: RunningExtension | null = null;
    let cancelled: string | null = null;
    let finished = false;
    const control = {
      cancel: (reason: string) => {
        if (cancelled !== null) return;
        cancelled = reason;
        program?.cancel(reason);
      },
    };
    this.#running.set(record.instanceId, control);
    const result = (async (): Promise<TaskResult> => {
      const task: TaskIdentity = {
        name: record.name,
        instanceId: record.instanceId,
        rerun: isRerun,
      };
      const startedAt = new Date().toISOString();
      const finish = (result: TaskResult): TaskResult => {
        record.lastResult = result;
        finished = true;
        this.#running.delete(record.instanceId);
        this.emit({ type: "task-finished", result });
        return result;
      };
      const startFailure = (problems: readonly string[]): TaskResult =>
        finish({
          ...task,
          state: "Start Failure",
          exitCode: null,
          message: null,
          signal: null,
          cancelReason: null,
          outputFields: { ...record.outputFields },
          extensionOutput: null,
          problems,
          startedAt,
          finishedAt: new Date().toISOString(),
        });

      // Output-only values start empty on a rerun unless the field preserves them.
      const cleared: string[] = [];
      if (isRerun) {
        for (const field of this.template.fields) {
          if (
            field.fieldRestriction === "Output Only" &&
            !field.preserveOutputOnRerun &&
            field.name in record.outputFields
          ) {
            delete record.outputFields[field.name];
            cleared.push(field.name);
          }
        }
      }
      if (referenceProblems.length > 0) return startFailure(referenceProblems);
      const prepared = prepareFields(this.template, record.fields, this.#credentials);
      if (prepared.problems.length > 0) return startFailure(prepared.problems);
      if (cancelled !== null) return startFailure([`cancelled before it started (${cancelled})`]);

      if (this.#python === null) {
        return startFailure([
          `no Python interpreter: put python3 on PATH or set ${PYTHON_SETTING}`,
        ]);
      }
      try {
        program = await startExtension({
          python: this.#python,
          archivePath: this.#archivePath,
          template: this.template,
          task,
          fields: prepared.values,
          agent: { ...this.#agent, ...record.agent },
          env: this.#env,
          secrets: prepared.secrets,
          cancelGraceMs: this.#cancelGraceMs,
          emit: (event) => {
            if (event.type === "output-field") record.outputFields[event.name] = event.value;
            this.emit(event);
          },
        });
      } catch (error) {
        return startFailure([
          `could not start extension.py in ${this.#python}: ${(error as Error).message}`,
        ]);
      }
      this.emit({
        type: "task-started",
        task,
        pid: program.pid,
        fields: maskedValues(this.template, prepared.values),
        dropped: prepared.dropped,
        cleared,
      });
      if (cancelled !== null) program.cancel(cancelled);
      const timeout =
        record.timeoutSeconds !== undefined
          ? setTimeout(
              () => control.cancel(`timeout after ${record.timeoutSeconds} s`),
              record.timeoutSeconds * 1000,
            )
          : undefined;
      const outcome = await program.done;
      clearTimeout(timeout);

      // A cancelled instance ends Cancelled whatever the exit code, as in the controller.
      let state: TaskState;
      if (outcome.cancelReason !== null) state = "Cancelled";
      else if (outcome.exitCode !== null && isSuccessExitCode(this.template, outcome.exitCode))
        state = "Success";
      else state = "Failed";
      return finish({
        ...task,
        state,
        exitCode: outcome.exitCode,
        message: outcome.message,
        signal: outcome.signal,
        cancelReason: outcome.cancelReason,
        outputFields: { ...record.outputFields },
        extensionOutput: outcome.extensionOutput,
        problems: outcome.problems,
        startedAt,
        finishedAt: new Date().toISOString(),
      });
    })();
    if (!finished) this.#running.set(record.instanceId, { ...control, result });
    return {
      instanceId: record.instanceId,
      cancel: (reason = "cancelled by the operator") => control.cancel(reason),
      result,
    };
  }
}
