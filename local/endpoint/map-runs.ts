/**
 * Map Runs of Distributed Map states (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`), as
 * far as ListMapRuns and DescribeMapRun show them: one Map Run per entry into the state,
 * its items counted as its iterations run (each item is one child execution here). Items
 * come from the state's input (ItemsPath); ItemReader, ResultWriter and batching are not
 * served. With `ExecutionType: STANDARD` each iteration is also a child execution that
 * DescribeExecution, GetExecutionHistory and ListExecutions (by `mapRunArn`) show, named as
 * AWS names them: `...:execution:<state machine>/<label>:<name>`, the label being the state's
 * `Label`, else its name.
 */
import { randomUUID } from "node:crypto";
import { History } from "./history.ts";

export type MapRunStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";

export interface MapRun {
  readonly arn: string;
  readonly executionArn: string;
  /** The state machine of the execution that started it. */
  readonly parentStateMachineArn: string;
  /** The Map Run's state machine: `<state machine ARN>/<label>`. */
  readonly stateMachineArn: string;
  readonly stateName: string;
  readonly label: string;
  readonly startDate: Date;
  stopDate: Date | undefined;
  status: MapRunStatus;
  total: number;
  running: number;
  succeeded: number;
  failed: number;
  /** The items, by iteration; with Standard child executions, each one's execution. */
  readonly items: readonly unknown[];
  readonly children: Map<number, ChildExecution> | undefined;
  /** The names of the item processor's top-level states (their events go to the child's history). */
  readonly processorStates: ReadonlySet<string>;
  /** Those of them that end an iteration (`End: true`, Succeed). */
  readonly processorEnds: ReadonlySet<string>;
}

/** A Standard child execution: one iteration of a Distributed Map. */
export interface ChildExecution {
  readonly arn: string;
  readonly name: string;
  readonly mapRun: MapRun;
  readonly input: string;
  readonly startDate: Date;
  readonly history: History;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";
  stopDate: Date | undefined;
  output: string | undefined;
  error: string | undefined;
  cause: string | undefined;
}

/** Whether a Map state runs in distributed mode. */
export function isDistributed(state: Record<string, unknown> | undefined): boolean {
  const processor = state?.["ItemProcessor"] as
    | { ProcessorConfig?: { Mode?: unknown } }
    | undefined;
  return processor?.ProcessorConfig?.Mode === "DISTRIBUTED";
}

/** The Map state's label: its `Label`, else its name. */
export function labelOf(state: Record<string, unknown> | undefined, stateName: string): string {
  const label = state?.["Label"];
  return typeof label === "string" && label.length > 0 ? label : stateName;
}

/** Whether a Distributed Map runs its iterations as Standard child executions. */
function standardChildren(state: Record<string, unknown> | undefined): boolean {
  const processor = state?.["ItemProcessor"] as
    | { ProcessorConfig?: { ExecutionType?: unknown } }
    | undefined;
  return processor?.ProcessorConfig?.ExecutionType !== "EXPRESS";
}

function json(v: unknown): string {
  return JSON.stringify(v === undefined ? null : v);
}

export class MapRuns {
  readonly #byArn = new Map<string, MapRun>();
  readonly #children = new Map<string, ChildExecution>();

  start(
    exec: { arn: string; machine: { arn: string; name: string } },
    stateName: string,
    state: Record<string, unknown> | undefined,
    items: readonly unknown[],
  ): MapRun {
    const [prefix] = exec.arn.split(":execution:");
    const executionName = exec.arn.split(":").at(-1);
    const label = labelOf(state, stateName);
    const arn = `${prefix}:mapRun:${exec.machine.name}/${label}:${executionName}-${randomUUID().slice(0, 8)}`;
    const processor = state?.["ItemProcessor"] as
      | { States?: Record<string, { Type?: unknown; End?: unknown }> }
      | undefined;
    const states = Object.entries(processor?.States ?? {});
    const run: MapRun = {
      arn,
      executionArn: exec.arn,
      parentStateMachineArn: exec.machine.arn,
      stateMachineArn: `${exec.machine.arn}/${label}`,
      stateName,
      label,
      startDate: new Date(),
      stopDate: undefined,
      status: "RUNNING",
      total: items.length,
      running: 0,
      succeeded: 0,
      failed: 0,
      items,
      children: standardChildren(state) ? new Map() : undefined,
      processorStates: new Set(states.map(([name]) => name)),
      processorEnds: new Set(
        states.filter(([, s]) => s.End === true || s.Type === "Succeed").map(([name]) => name),
      ),
    };
    this.#byArn.set(arn, run);
    return run;
  }

  /** Starts the child execution of one iteration, when the Map Run has Standard ones. */
  startChild(run: MapRun, index: number, at: Date): ChildExecution | undefined {
    if (!run.children) return undefined;
    const [prefix] = run.executionArn.split(":execution:");
    const machineName = run.stateMachineArn.split(":stateMachine:")[1] as string;
    const name = randomUUID();
    const input = json(run.items[index]);
    const child: ChildExecution = {
      arn: `${prefix}:execution:${machineName}:${name}`,
      name,
      mapRun: run,
      input,
      startDate: at,
      history: new History(),
      status: "RUNNING",
      stopDate: undefined,
      output: undefined,
      error: undefined,
      cause: undefined,
    };
    child.history.append("ExecutionStarted", { input, inputDetails: { truncated: false } }, at);
    run.children.set(index, child);
    this.#children.set(child.arn, child);
    return child;
  }

  /** Ends a child execution (once). */
  endChild(
    child: ChildExecution,
    status: "SUCCEEDED" | "FAILED" | "ABORTED",
    at: Date,
    outcome: { error?: string | undefined; cause?: string | undefined } = {},
  ): void {
    if (child.status !== "RUNNING") return;
    child.status = status;
    child.stopDate = at;
    if (status === "SUCCEEDED") {
      child.history.append(
        "ExecutionSucceeded",
        { output: child.output, outputDetails: { truncated: false } },
        at,
      );
      return;
    }
    child.output = undefined;
    child.error = outcome.error;
    child.cause = outcome.cause;
    child.history.append(
      status === "FAILED" ? "ExecutionFailed" : "ExecutionAborted",
      { error: outcome.error, cause: outcome.cause },
      at,
    );
  }

  child(arn: string): ChildExecution | undefined {
    return this.#children.get(arn);
  }

  /** The Map Run of this execution's state that is still running, if any. */
  current(executionArn: string, stateName: string): MapRun | undefined {
    return [...this.#byArn.values()].find(
      (r) => r.executionArn === executionArn && r.stateName === stateName && r.status === "RUNNING",
    );
  }

  get(arn: string): MapRun | undefined {
    return this.#byArn.get(arn);
  }

  /** The execution's Map Runs, newest first. */
  of(executionArn: string): MapRun[] {
    return [...this.#byArn.values()]
      .filter((r) => r.executionArn === executionArn)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  }

  /** Closes a Map Run that is still running; its child executions still running are aborted. */
  close(run: MapRun, status: Exclude<MapRunStatus, "RUNNING">, at: Date = new Date()): void {
    if (run.status !== "RUNNING") return;
    run.status = status;
    run.stopDate = at;
    for (const child of run.children?.values() ?? []) this.endChild(child, "ABORTED", at);
  }

  /** Closes every Map Run of the execution still running (the execution ended). */
  closeAll(executionArn: string, status: Exclude<MapRunStatus, "RUNNING">): void {
    for (const r of this.of(executionArn)) this.close(r, status);
  }
}

/** Item and child-execution counts, in DescribeMapRun's shape. */
export function counts(r: MapRun): Record<string, number> {
  const left = Math.max(0, r.total - r.succeeded - r.failed);
  const open = r.status === "RUNNING";
  // A closed Map Run stopped what was still running or waiting.
  return {
    pending: open ? Math.max(0, left - r.running) : 0,
    running: open ? r.running : 0,
    succeeded: r.succeeded,
    failed: r.failed,
    timedOut: 0,
    aborted: open ? 0 : left,
    total: r.total,
    resultsWritten: 0,
    failuresNotRedrivable: 0,
    pendingRedrive: 0,
  };
}
