/**
 * Executions that really run: each run (the first one and every redrive) hands a copy of the
 * definition to aws-local-stepfunctions and turns its event log into AWS execution history.
 * Status, timeout and abort are decided here rather than in the library, so that the history
 * and DescribeExecution agree with each other the way they do in AWS.
 */
import { randomUUID } from "node:crypto";
import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { errors } from "./errors.ts";
import { History } from "./history.ts";
import { jsonataFail, usesJsonata } from "./jsonata-fail.ts";
import { type ChildExecution, isDistributed, type MapRuns } from "./map-runs.ts";
import type { StateMachineRecord } from "./state-machines.ts";
import {
  HeartbeatTimeout,
  newTaskToken,
  TaskFailure,
  type TaskHandler,
  type TaskTokens,
} from "./tasks.ts";

// aws-local-stepfunctions targets Node 22; this is the one newer API it uses on Node 20.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/**
 * The prototype of the library's own Task timeout error (its class is not exported). In AWS a
 * Retry or Catch of `States.TaskFailed` matches every error but `States.Timeout`, and a heartbeat
 * timeout is a `States.Timeout` ("Error names",
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html); the library
 * exempts only errors of that class from `States.TaskFailed`, so a heartbeat timeout takes its
 * prototype. Found once, by letting a Task that never answers reach a 1 ms TimeoutSeconds.
 */
const libraryTimeoutPrototype: Promise<object> = (async () => {
  const probe = new StateMachine(
    {
      StartAt: "Probe",
      States: {
        Probe: { Type: "Task", Resource: "local:probe", TimeoutSeconds: 0.001, End: true },
      },
    } as unknown as StateMachineDefinition,
    { validationOptions: { noValidate: true } },
  );
  const running = probe.run({} as never, {
    overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => {}) } as never },
    noThrowOnAbort: true,
  });
  const failure = await running.result.then(
    () => undefined,
    (e: unknown) => (e as Error).cause,
  );
  if (!(failure instanceof Error) || failure.name !== "States.Timeout") {
    throw new Error("aws-local-stepfunctions no longer fails a timed-out Task with States.Timeout");
  }
  return Object.getPrototypeOf(failure) as object;
})();
libraryTimeoutPrototype.catch(() => {});

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

/** How long AWS answers a redrive's client token idempotently. */
const REDRIVE_TOKEN_MS = 15 * 60_000;

/** Without this the library gives every Task a 60 s limit; AWS has none short of a year. */
const UNLIMITED_TASK_SECONDS = 2_000_000;

type Json = unknown;
type AnyState = Record<string, unknown> & { Type: string };
type Definition = {
  StartAt: string;
  States: Record<string, AnyState>;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
};

interface LibraryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input: Json; output?: Json };
  parentState?: { name: string; type: string; input: Json };
  index?: number;
  Error?: string;
  Cause?: unknown;
}

/** One pass over the definition: the first start or a redrive. */
interface Run {
  live: boolean;
  controller: AbortController;
  abortLibrary?: () => void;
  timeout?: NodeJS.Timeout;
  /** Processed task inputs and raw results, queued per state name so history can show them. */
  taskInputs: Map<string, Json[]>;
  taskResults: Map<string, Json[]>;
  caught: Set<string>;
  failure?: { error: string | undefined; cause: string | undefined };
}

export class Execution {
  readonly arn: string;
  readonly name: string;
  readonly machine: StateMachineRecord;
  readonly express: boolean;
  readonly input: string;
  readonly startDate: Date;
  readonly history = new History();
  status: ExecutionStatus = "RUNNING";
  stopDate: Date | undefined;
  output: string | undefined;
  error: string | undefined;
  cause: string | undefined;
  redriveCount = 0;
  redriveDate: Date | undefined;
  /** The version (and alias) the start named, if any. */
  versionArn: string | undefined;
  aliasArn: string | undefined;
  /** The X-Ray trace header the start passed. */
  traceHeader: string | undefined;
  /** Client tokens of the last successful redrives, answered idempotently for 15 minutes. */
  readonly redriveTokens: Array<{ token: string; usedAt: Date; redriveDate: Date }> = [];
  /** The last top-level state entered, where a redrive resumes. */
  current: { name: string; input: Json } | undefined;
  run: Run | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(
    arn: string,
    name: string,
    machine: StateMachineRecord,
    input: string,
    express: boolean,
  ) {
    this.arn = arn;
    this.name = name;
    this.machine = machine;
    this.input = input;
    this.express = express;
    this.startDate = new Date();
  }

  /** Resolves once the execution is no longer RUNNING. */
  settled(): Promise<this> {
    if (this.status !== "RUNNING") return Promise.resolve(this);
    return new Promise((resolve) => this.#waiters.add(() => resolve(this)));
  }

  notifySettled(): void {
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  get redrivable(): { ok: boolean; reason?: string } {
    if (this.express) return { ok: false, reason: "Express executions cannot be redriven" };
    if (this.status === "RUNNING" || this.status === "SUCCEEDED") {
      return { ok: false, reason: `Execution is ${this.status} and cannot be redriven` };
    }
    if (!this.current) return { ok: false, reason: "Execution has no state to redrive from" };
    return { ok: true };
  }
}

function walkStates(def: Definition, visit: (name: string, state: AnyState) => void): void {
  for (const [name, state] of Object.entries(def.States)) {
    visit(name, state);
    if (state.Type === "Parallel") {
      for (const branch of (state["Branches"] as Definition[] | undefined) ?? [])
        walkStates(branch, visit);
    }
    if (state.Type === "Map") {
      const inner = (state["ItemProcessor"] ?? state["Iterator"]) as Definition | undefined;
      if (inner) walkStates(inner, visit);
    }
  }
}

/** Follows `$`, `$.a.b` and `$['a']` paths, enough to report a Map state's item count. */
function simplePath(value: Json, path: string): Json {
  if (path === "$") return value;
  const parts = path.replace(/^\$/, "").match(/\.[^.[\]]+|\[['"][^'"]+['"]\]|\[\d+\]/g);
  if (!parts) return undefined;
  let cur: Json = value;
  for (const part of parts) {
    const key = part.startsWith(".")
      ? part.slice(1)
      : part.slice(1, -1).replace(/^['"]|['"]$/g, "");
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, Json>)[key];
  }
  return cur;
}

/**
 * A Task's timeout as AWS reports it, in history and in DescribeExecution: `States.Timeout`
 * and no cause, a heartbeat timeout too (`States.HeartbeatTimeout` is a name for Retry and
 * Catch only: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 * The library gives its own timeouts the cause `States.Timeout`.
 */
function asReported(
  error: string | undefined,
  cause: string | undefined,
): { error: string | undefined; cause: string | undefined } {
  const timeout =
    error === "States.HeartbeatTimeout" || (error === "States.Timeout" && cause === error);
  return timeout ? { error: "States.Timeout", cause: undefined } : { error, cause };
}

function json(v: Json): string {
  return JSON.stringify(v === undefined ? null : v);
}

function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  return typeof cause === "string" ? cause : JSON.stringify(cause);
}

/** How history names a resource, e.g. `arn:aws:states:::lambda:invoke` -> lambda / invoke. */
function describeResource(resource: string): { resourceType: string; resource: string } {
  const m = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:([^:]+):(.+)$/.exec(resource);
  if (m) return { resourceType: m[1]!, resource: m[2]! };
  const lambda = /^arn:aws[a-z-]*:lambda:/.test(resource);
  return { resourceType: lambda ? "lambda" : "local", resource };
}

function findIssuedToken(value: Json, issued: Set<string>): string | undefined {
  if (typeof value === "string") return issued.has(value) ? value : undefined;
  if (value === null || typeof value !== "object") return undefined;
  for (const v of Object.values(value as Record<string, Json>)) {
    const found = findIssuedToken(v, issued);
    if (found) return found;
  }
  return undefined;
}

export interface EngineOptions {
  region: string;
  accountId: string;
  tokens: TaskTokens;
  handlerFor: (resource: string) => TaskHandler | undefined;
  mapRuns: MapRuns;
}

export class ExecutionEngine {
  readonly #executions = new Map<string, Execution>();
  readonly #opts: EngineOptions;
  #closed = false;
  /**
   * The account's quota of open executions ("Maximum open executions per account", 1,000,000
   * in AWS; Express workflows do not count): a start or a redrive that would pass it is
   * refused with ExecutionLimitExceeded. Undefined: no limit.
   */
  maxOpenExecutions: number | undefined;

  constructor(opts: EngineOptions) {
    this.#opts = opts;
  }

  get(arn: string): Execution | undefined {
    return this.#executions.get(arn);
  }

  list(): Execution[] {
    return [...this.#executions.values()];
  }

  executionArn(machine: StateMachineRecord, name: string, express: boolean): string {
    const { region, accountId } = this.#opts;
    return express
      ? `arn:aws:states:${region}:${accountId}:express:${machine.name}:${name}:${randomUUID()}`
      : `arn:aws:states:${region}:${accountId}:execution:${machine.name}:${name}`;
  }

  /**
   * Starts an execution. Standard executions are kept for Describe/History/Stop/Redrive;
   * express ones are only tracked while running (as AWS keeps no record of them).
   */
  start(machine: StateMachineRecord, name: string, input: string, inputValue: Json): Execution {
    const express = machine.type === "EXPRESS";
    if (!express) this.#checkOpenLimit();
    const exec = new Execution(
      this.executionArn(machine, name, express),
      name,
      machine,
      input,
      express,
    );
    this.#executions.set(exec.arn, exec);
    exec.history.append("ExecutionStarted", {
      input,
      inputDetails: { truncated: false },
      roleArn: machine.roleArn,
    });
    this.#launch(exec, machine.parsed as unknown as Definition, machine.parsed.StartAt, inputValue);
    if (express) void exec.settled().then(() => this.#executions.delete(exec.arn));
    return exec;
  }

  stop(exec: Execution, error: string | undefined, cause: string | undefined): void {
    if (exec.status !== "RUNNING") return;
    this.#finish(exec, "ABORTED", { error, cause });
  }

  redrive(exec: Execution, clientToken?: string): Date {
    if (clientToken !== undefined) {
      // AWS answers the last 10 client tokens of successful redrives idempotently for 15 minutes.
      const earlier = exec.redriveTokens.find(
        (t) => t.token === clientToken && Date.now() - t.usedAt.getTime() < REDRIVE_TOKEN_MS,
      );
      if (earlier) return earlier.redriveDate;
    }
    const { ok, reason } = exec.redrivable;
    if (!ok || !exec.current) throw errors.executionNotRedrivable(reason ?? exec.status);
    this.#checkOpenLimit();
    exec.redriveCount += 1;
    exec.redriveDate = new Date();
    exec.status = "RUNNING";
    exec.stopDate = undefined;
    exec.output = undefined;
    exec.error = undefined;
    exec.cause = undefined;
    exec.history.append("ExecutionRedriven", { redriveCount: exec.redriveCount }, exec.redriveDate);
    const { name, input } = exec.current;
    this.#launch(exec, exec.machine.parsed as unknown as Definition, name, input);
    if (clientToken !== undefined) {
      exec.redriveTokens.push({
        token: clientToken,
        usedAt: new Date(),
        redriveDate: exec.redriveDate,
      });
      if (exec.redriveTokens.length > 10) exec.redriveTokens.shift();
    }
    return exec.redriveDate;
  }

  /** Standard executions still RUNNING: what the open-execution quota counts. */
  openExecutions(): number {
    let open = 0;
    for (const exec of this.#executions.values()) {
      if (!exec.express && exec.status === "RUNNING") open++;
    }
    return open;
  }

  #checkOpenLimit(): void {
    const limit = this.maxOpenExecutions;
    if (limit !== undefined && this.openExecutions() >= limit) {
      throw errors.executionLimitExceeded();
    }
  }

  /** Stops everything, for endpoint shutdown. */
  close(): void {
    this.#closed = true;
    for (const exec of this.#executions.values()) {
      if (exec.status === "RUNNING")
        this.#finish(exec, "ABORTED", {
          error: "LocalEndpoint.Closed",
          cause: "The endpoint was closed",
        });
    }
  }

  #launch(exec: Execution, original: Definition, startAt: string, input: Json): void {
    if (this.#closed) throw errors.serviceUnavailable();
    const definition = structuredClone(original);
    definition.StartAt = startAt;
    const timeoutSeconds = definition.TimeoutSeconds;
    delete definition.TimeoutSeconds;

    const run: Run = {
      live: true,
      controller: new AbortController(),
      taskInputs: new Map(),
      taskResults: new Map(),
      caught: new Set(),
    };
    exec.run = run;

    // `$$.Task.Token` reads mint a token; the task that finds it in its input waits on it.
    const issued = new Set<string>();
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    const taskStates = new Map<string, AnyState>();
    const stateTypes = new Map<string, string>();
    walkStates(definition, (name, state) => {
      if (!stateTypes.has(name)) stateTypes.set(name, state.Type);
      if (state.Type !== "Task") return;
      if (state["TimeoutSeconds"] === undefined && state["TimeoutSecondsPath"] === undefined) {
        state["TimeoutSeconds"] = UNLIMITED_TASK_SECONDS;
      }
      // In AWS, States.Timeout in a Retry or Catch also matches a heartbeat timeout.
      for (const field of ["Retry", "Catch"]) {
        for (const rule of (state[field] as Array<{ ErrorEquals?: string[] }> | undefined) ?? []) {
          const names = rule.ErrorEquals;
          if (names?.includes("States.Timeout") && !names.includes("States.HeartbeatTimeout")) {
            names.push("States.HeartbeatTimeout");
          }
        }
      }
      if (!taskStates.has(name)) {
        taskStates.set(name, state);
        handlers[name] = (taskInput) => this.#runTask(exec, run, name, state, taskInput, issued);
      }
    });

    const context = {
      Execution: {
        Id: exec.arn,
        Name: exec.name,
        RoleArn: exec.machine.roleArn,
        RedriveCount: exec.redriveCount,
      },
      StateMachine: { Id: exec.machine.arn, Name: exec.machine.name },
      Task: {
        get Token(): string {
          const token = newTaskToken();
          issued.add(token);
          return token;
        },
      },
    };

    const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const running = machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      noThrowOnAbort: true,
      context,
    });
    run.abortLibrary = running.abort;

    if (timeoutSeconds !== undefined) {
      run.timeout = setTimeout(() => {
        // As in AWS, the event names the error and gives no cause.
        this.#finish(exec, "TIMED_OUT", { error: "States.Timeout" });
      }, timeoutSeconds * 1000);
    }

    const topLevel = new Set(Object.keys(original.States));
    const consumed = (async () => {
      for await (const event of running.eventLogs) {
        if (!run.live) continue;
        this.#record(exec, run, event as LibraryEvent, { topLevel, taskStates, stateTypes });
      }
    })();

    void Promise.allSettled([running.result, consumed]).then(([result]) => {
      if (!run.live) return;
      if (result.status === "fulfilled") {
        this.#finish(exec, "SUCCEEDED", { output: json(result.value) });
        return;
      }
      const failure = run.failure ?? { error: "States.Runtime", cause: String(result.reason) };
      const failedState = exec.current ? original.States[exec.current.name] : undefined;
      if (failedState?.Type === "Fail" && exec.current && usesJsonata(original, failedState)) {
        const name = exec.current.name;
        void jsonataFail(failedState, exec.current.input).then((outcome) => {
          if (!run.live) return;
          if (outcome.kind === "evaluation-failed") {
            const { error, cause, location } = outcome;
            exec.history.append("EvaluationFailed", { error, cause, location, state: name });
          }
          this.#finish(exec, "FAILED", { error: outcome.error, cause: outcome.cause });
        });
        return;
      }
      if (failedState?.Type === "Fail" && !failedState["ErrorPath"] && !failedState["CausePath"]) {
        // A Fail state reports exactly its own Error and Cause (possibly none).
        this.#finish(exec, "FAILED", {
          error: failedState["Error"] as string | undefined,
          cause: failedState["Cause"] as string | undefined,
        });
        return;
      }
      this.#finish(exec, "FAILED", failure);
    });
  }

  async #runTask(
    exec: Execution,
    run: Run,
    stateName: string,
    state: AnyState,
    input: Json,
    issued: Set<string>,
  ): Promise<Json> {
    queue(run.taskInputs, stateName).push(input);
    const resource = String(state["Resource"]);
    const waitForToken = resource.endsWith(".waitForTaskToken");
    const handler =
      this.#opts.handlerFor(resource) ??
      (waitForToken
        ? this.#opts.handlerFor(resource.slice(0, -".waitForTaskToken".length))
        : undefined);
    const signal = run.controller.signal;
    const context = { resource, stateName, executionArn: exec.arn, signal };

    let result: Json;
    if (!waitForToken) {
      if (!handler) {
        throw new TaskFailure(
          "LocalEndpoint.NoTaskHandler",
          `No local task handler is registered for resource '${resource}'`,
        );
      }
      result = await untilAborted(
        Promise.resolve().then(() => handler(input, context)),
        signal,
      );
    } else {
      const taskToken = findIssuedToken(input, issued) ?? newTaskToken();
      issued.delete(taskToken);
      const heartbeat = state["HeartbeatSeconds"];
      const waiting = this.#opts.tokens.wait(
        { taskToken, executionArn: exec.arn, stateName, resource, input },
        typeof heartbeat === "number" ? heartbeat : undefined,
      );
      waiting.catch(() => {});
      if (handler)
        await untilAborted(
          Promise.resolve().then(() => handler(input, { ...context, taskToken })),
          signal,
        );
      try {
        result = await untilAborted(waiting, signal);
      } catch (error) {
        if (error instanceof HeartbeatTimeout) {
          // Matched as a timeout: States.Timeout and States.ALL catch it, States.TaskFailed does not.
          Object.setPrototypeOf(error, await libraryTimeoutPrototype);
        }
        throw error;
      }
    }
    if (result === undefined) result = null;
    queue(run.taskResults, stateName).push(result);
    return result;
  }

  #record(
    exec: Execution,
    run: Run,
    event: LibraryEvent,
    where: {
      topLevel: Set<string>;
      taskStates: Map<string, AnyState>;
      stateTypes: Map<string, string>;
    },
  ): void {
    const h = exec.history;
    const at = new Date(event.timestamp);
    const st = event.state;
    const task = st ? where.taskStates.get(st.name) : undefined;
    const taskDetails = () => describeResource(String(task?.["Resource"]));
    const scheduleTask = () => {
      if (!st || !task) return;
      const parameters = queue(run.taskInputs, st.name).shift() ?? st.input;
      const timeout = task["TimeoutSeconds"];
      h.append(
        "TaskScheduled",
        {
          ...taskDetails(),
          region: this.#opts.region,
          parameters: json(parameters),
          timeoutInSeconds: timeout === UNLIMITED_TASK_SECONDS ? undefined : timeout,
          heartbeatInSeconds: task["HeartbeatSeconds"],
        },
        at,
      );
      h.append("TaskStarted", taskDetails(), at);
      if (String(task["Resource"]).endsWith(".waitForTaskToken")) {
        h.append(
          "TaskSubmitted",
          { ...taskDetails(), output: "{}", outputDetails: { truncated: false } },
          at,
        );
      }
    };

    switch (event.type) {
      case "StateEntered": {
        if (!st) return;
        if (where.topLevel.has(st.name) && event.index === undefined) {
          exec.current = { name: st.name, input: st.input };
        }
        run.caught.delete(st.name);
        h.append(
          `${st.type}StateEntered`,
          { name: st.name, input: json(st.input), inputDetails: { truncated: false } },
          at,
        );
        if (st.type === "Task") scheduleTask();
        if (st.type === "Parallel") h.append("ParallelStateStarted", undefined, at);
        if (st.type === "Map") {
          const itemsPath = this.#mapItemsPath(exec, st.name);
          const items = simplePath(st.input, itemsPath);
          const list = Array.isArray(items) ? (items as Json[]) : [];
          h.append("MapStateStarted", { length: list.length }, at);
          const state = this.#stateNamed(exec, st.name);
          if (isDistributed(state)) {
            const mapRun = this.#opts.mapRuns.start(exec, st.name, state, list);
            h.append("MapRunStarted", { mapRunArn: mapRun.arn }, at);
          }
        }
        if (event.index !== undefined) {
          this.#childOf(exec, st.name, event.index)?.history.append(
            `${st.type}StateEntered`,
            { name: st.name, input: json(st.input), inputDetails: { truncated: false } },
            at,
          );
        }
        return;
      }
      case "StateExited": {
        if (!st) return;
        const caught = run.caught.has(st.name);
        if (st.type === "Task" && !caught) {
          const raw = queue(run.taskResults, st.name).shift();
          h.append(
            "TaskSucceeded",
            {
              ...taskDetails(),
              output: json(raw ?? st.output),
              outputDetails: { truncated: false },
            },
            at,
          );
        }
        if (st.type === "Parallel" && !caught) h.append("ParallelStateSucceeded", undefined, at);
        if (st.type === "Map" && !caught) {
          const mapRun = this.#opts.mapRuns.current(exec.arn, st.name);
          if (mapRun) {
            this.#opts.mapRuns.close(mapRun, "SUCCEEDED", at);
            h.append("MapRunSucceeded", undefined, at);
          }
          h.append("MapStateSucceeded", undefined, at);
        }
        const child = event.index !== undefined && this.#childOf(exec, st.name, event.index);
        if (child) {
          // The last top-level state of the iteration to exit gives the child its output.
          child.output = json(st.output);
          child.history.append(
            `${st.type}StateExited`,
            { name: st.name, output: child.output, outputDetails: { truncated: false } },
            at,
          );
          // Its end state done, the child has succeeded (the library may not say so when
          // another iteration fails the Map at the same moment).
          if (child.mapRun.processorEnds.has(st.name)) {
            this.#opts.mapRuns.endChild(child, "SUCCEEDED", at);
          }
        }
        h.append(
          `${st.type}StateExited`,
          { name: st.name, output: json(st.output), outputDetails: { truncated: false } },
          at,
        );
        return;
      }
      case "StateFailed": {
        if (!st) return;
        const error = event.Error;
        const cause = causeText(event.Cause);
        if (st.type === "Task") {
          this.#opts.tokens.close(exec.arn, st.name);
          const timedOut = error === "States.Timeout" || error === "States.HeartbeatTimeout";
          h.append(
            timedOut ? "TaskTimedOut" : "TaskFailed",
            { ...taskDetails(), ...asReported(error || undefined, cause) },
            at,
          );
        }
        if (st.type === "Parallel") h.append("ParallelStateFailed", undefined, at);
        if (st.type === "Map") {
          const mapRun = this.#opts.mapRuns.current(exec.arn, st.name);
          if (mapRun) {
            this.#opts.mapRuns.close(mapRun, "FAILED", at);
            h.append("MapRunFailed", asReported(error || undefined, cause), at);
          }
          h.append("MapStateFailed", undefined, at);
        }
        return;
      }
      case "StateRetried":
        if (st?.type === "Task") scheduleTask();
        if (st?.type === "Parallel") h.append("ParallelStateStarted", undefined, at);
        return;
      case "StateCaught":
        if (st) run.caught.add(st.name);
        return;
      case "MapIterationStarted":
      case "MapIterationSucceeded":
      case "MapIterationFailed": {
        h.append(event.type, { name: event.parentState?.name, index: event.index }, at);
        const parent = event.parentState?.name;
        const mapRun = parent ? this.#opts.mapRuns.current(exec.arn, parent) : undefined;
        if (mapRun) {
          const runs = this.#opts.mapRuns;
          const index = event.index ?? -1;
          if (event.type === "MapIterationStarted") {
            mapRun.running++;
            runs.startChild(mapRun, index, at);
          } else {
            mapRun.running = Math.max(0, mapRun.running - 1);
            const child = mapRun.children?.get(index);
            if (event.type === "MapIterationSucceeded") {
              mapRun.succeeded++;
              if (child) runs.endChild(child, "SUCCEEDED", at);
            } else {
              mapRun.failed++;
              if (child) {
                runs.endChild(
                  child,
                  "FAILED",
                  at,
                  asReported(event.Error || undefined, causeText(event.Cause)),
                );
              }
            }
          }
        }
        return;
      }
      case "ExecutionFailed":
        run.failure = asReported(event.Error || undefined, causeText(event.Cause));
        return;
      default:
        return;
    }
  }

  /**
   * The running child execution of a running Distributed Map whose iteration `index` this
   * top-level state of its item processor belongs to, if any.
   */
  #childOf(exec: Execution, stateName: string, index: number): ChildExecution | undefined {
    for (const run of this.#opts.mapRuns.of(exec.arn)) {
      if (run.status === "RUNNING" && run.processorStates.has(stateName)) {
        const child = run.children?.get(index);
        return child?.status === "RUNNING" ? child : undefined;
      }
    }
    return undefined;
  }

  #stateNamed(exec: Execution, name: string): AnyState | undefined {
    let found: AnyState | undefined;
    walkStates(exec.machine.parsed as unknown as Definition, (n, s) => {
      if (n === name) found ??= s;
    });
    return found;
  }

  #mapItemsPath(exec: Execution, name: string): string {
    let path = "$";
    walkStates(exec.machine.parsed as unknown as Definition, (n, s) => {
      if (n === name && s.Type === "Map" && typeof s["ItemsPath"] === "string")
        path = s["ItemsPath"];
    });
    return path;
  }

  #finish(
    exec: Execution,
    status: Exclude<ExecutionStatus, "RUNNING">,
    outcome: { output?: string; error?: string | undefined; cause?: string | undefined },
  ): void {
    const run = exec.run;
    if (!run?.live || exec.status !== "RUNNING") return;
    run.live = false;
    clearTimeout(run.timeout);
    this.#opts.mapRuns.closeAll(
      exec.arn,
      status === "SUCCEEDED" ? "SUCCEEDED" : status === "FAILED" ? "FAILED" : "ABORTED",
    );
    exec.status = status;
    exec.stopDate = new Date();
    const h = exec.history;
    switch (status) {
      case "SUCCEEDED":
        exec.output = outcome.output;
        h.append(
          "ExecutionSucceeded",
          { output: outcome.output, outputDetails: { truncated: false } },
          exec.stopDate,
        );
        break;
      case "FAILED":
        exec.error = outcome.error;
        exec.cause = outcome.cause;
        h.append("ExecutionFailed", { error: outcome.error, cause: outcome.cause }, exec.stopDate);
        break;
      case "ABORTED":
        exec.error = outcome.error;
        exec.cause = outcome.cause;
        h.append("ExecutionAborted", { error: outcome.error, cause: outcome.cause }, exec.stopDate);
        break;
      case "TIMED_OUT":
        // As in AWS, DescribeExecution of a timed-out execution has no error/cause; only history does.
        h.append(
          "ExecutionTimedOut",
          { error: outcome.error, cause: outcome.cause },
          exec.stopDate,
        );
        break;
    }
    if (status !== "SUCCEEDED" && status !== "FAILED") {
      run.controller.abort();
      run.abortLibrary?.();
      this.#opts.tokens.close(
        exec.arn,
        undefined,
        new TaskFailure("States.Runtime", `Execution ${status}`),
      );
    } else {
      run.controller.abort();
      this.#opts.tokens.close(exec.arn);
    }
    exec.notifySettled();
  }
}

function queue<T>(map: Map<string, T[]>, key: string): T[] {
  let q = map.get(key);
  if (!q) {
    q = [];
    map.set(key, q);
  }
  return q;
}

/** Settles with `work`, or rejects once `signal` aborts, so a stopped execution never waits on a task. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => {});
  if (signal.aborted) return Promise.reject(new TaskFailure("States.Runtime", "Execution stopped"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TaskFailure("States.Runtime", "Execution stopped"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e instanceof Error ? e : new TaskFailure("Error", String(e)));
      },
    );
  });
}
