/**
 * Map Runs of Distributed Map states (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`), as
 * far as ListMapRuns and DescribeMapRun show them: one Map Run per entry into the state,
 * its items counted as its iterations run (each item is one child execution here). Items
 * come from the state's input (ItemsPath); ItemReader, ResultWriter and batching are not
 * served.
 */
import { randomUUID } from "node:crypto";

export type MapRunStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";

export interface MapRun {
  readonly arn: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateName: string;
  readonly startDate: Date;
  stopDate: Date | undefined;
  status: MapRunStatus;
  total: number;
  running: number;
  succeeded: number;
  failed: number;
}

/** Whether a Map state runs in distributed mode. */
export function isDistributed(state: Record<string, unknown> | undefined): boolean {
  const processor = state?.["ItemProcessor"] as
    | { ProcessorConfig?: { Mode?: unknown } }
    | undefined;
  return processor?.ProcessorConfig?.Mode === "DISTRIBUTED";
}

export class MapRuns {
  readonly #byArn = new Map<string, MapRun>();

  start(
    exec: { arn: string; machine: { arn: string; name: string } },
    stateName: string,
    total: number,
  ): MapRun {
    const [prefix] = exec.arn.split(":execution:");
    const executionName = exec.arn.split(":").at(-1);
    const arn = `${prefix}:mapRun:${exec.machine.name}/${stateName}:${executionName}-${randomUUID().slice(0, 8)}`;
    const run: MapRun = {
      arn,
      executionArn: exec.arn,
      stateMachineArn: `${exec.machine.arn}/${stateName}`,
      stateName,
      startDate: new Date(),
      stopDate: undefined,
      status: "RUNNING",
      total,
      running: 0,
      succeeded: 0,
      failed: 0,
    };
    this.#byArn.set(arn, run);
    return run;
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

  /** Closes every Map Run of the execution still running (the execution ended). */
  closeAll(executionArn: string, status: MapRunStatus): void {
    for (const r of this.of(executionArn)) {
      if (r.status === "RUNNING") {
        r.status = status;
        r.stopDate = new Date();
      }
    }
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
