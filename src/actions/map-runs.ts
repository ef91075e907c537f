/**
 * Distributed Map: the progress of an execution's Map Runs (ListMapRuns, DescribeMapRun)
 * while it runs, the Map Run that failed, and where a ResultWriter put the results. The
 * calls are few and bounded: a look now and then (with the "still running" lines) and one
 * after a failure that involved a Map Run, never on every status check.
 */
import type {
  DescribeMapRunOutput,
  MapRunExecutionCounts,
  MapRunItemCounts,
  MapRunListItem,
} from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import type { StepFunctions } from "../aws/step-functions.ts";
import type { Logger } from "../log.ts";
import type { OutputFields } from "../output/output-fields.ts";

/** Map Runs described per look (the newest first). */
export const MAP_RUNS_PER_LOOK = 3;
/**
 * Map Runs listed per look, to find the newest among: AWS documents no order for
 * ListMapRuns (ListExecutions' is newest first), so one page is sorted here by start date.
 */
const MAP_RUNS_LISTED = 100;

export interface Counts {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly pending: number;
  readonly running: number;
  readonly timedOut: number;
  readonly aborted: number;
}

export interface MapRunProgress {
  readonly mapRunArn: string;
  /** The Distributed Map state's label (its name, unless the state sets a Label). */
  readonly label: string;
  readonly status: string;
  readonly itemCounts: Counts;
  readonly executionCounts: Counts;
}

/** The label part of a Map Run ARN: `...:mapRun:<state machine>/<label>:<id>`. */
export function labelOf(mapRunArn: string): string {
  const m = /:mapRun:[^/]+\/([^:]+):[^:]+$/.exec(mapRunArn);
  return m?.[1] ?? mapRunArn;
}

function counts(c: MapRunItemCounts | MapRunExecutionCounts | undefined): Counts {
  return {
    total: c?.total ?? 0,
    succeeded: c?.succeeded ?? 0,
    failed: c?.failed ?? 0,
    pending: c?.pending ?? 0,
    running: c?.running ?? 0,
    timedOut: c?.timedOut ?? 0,
    aborted: c?.aborted ?? 0,
  };
}

/** What DescribeMapRun says of a Map Run, in the result's shape. */
export function toProgress(d: DescribeMapRunOutput): MapRunProgress {
  const arn = d.mapRunArn ?? "";
  return {
    mapRunArn: arn,
    label: labelOf(arn),
    status: d.status ?? "RUNNING",
    itemCounts: counts(d.itemCounts),
    executionCounts: counts(d.executionCounts),
  };
}

function countsText(c: Counts): string {
  const parts = [`${c.succeeded} of ${c.total} succeeded`, `${c.failed} failed`];
  if (c.timedOut > 0) parts.push(`${c.timedOut} timed out`);
  if (c.aborted > 0) parts.push(`${c.aborted} aborted`);
  parts.push(`${c.running} running`, `${c.pending} pending`);
  return parts.join(", ");
}

/** One line of a Map Run's progress, for the log and the output-only field. */
export function progressText(p: MapRunProgress): string {
  return `Map Run "${p.label}" ${p.status}: items ${countsText(p.itemCounts)}; child executions ${countsText(p.executionCounts)}`;
}

/** The newest Map Runs of a listing, newest first (at most MAP_RUNS_PER_LOOK). */
export function newestMapRuns(
  listed: ReadonlyArray<Partial<MapRunListItem>>,
): Array<Partial<MapRunListItem> & { mapRunArn: string }> {
  const started = (run: Partial<MapRunListItem>) =>
    run.startDate?.getTime() ?? Number.NEGATIVE_INFINITY;
  return listed
    .filter((run): run is Partial<MapRunListItem> & { mapRunArn: string } => Boolean(run.mapRunArn))
    .toSorted((a, b) => started(b) - started(a))
    .slice(0, MAP_RUNS_PER_LOOK);
}

/** The execution's newest Map Runs, described (at most MAP_RUNS_PER_LOOK). */
export async function readMapRuns(
  sfn: StepFunctions,
  executionArn: string,
  signal?: AbortSignal,
): Promise<MapRunProgress[]> {
  const listed = await sfn.listMapRuns(
    { executionArn, maxResults: MAP_RUNS_LISTED },
    { abortSignal: signal },
  );
  const progress: MapRunProgress[] = [];
  for (const run of newestMapRuns(listed.mapRuns ?? [])) {
    progress.push(
      toProgress(await sfn.describeMapRun({ mapRunArn: run.mapRunArn }, { abortSignal: signal })),
    );
  }
  return progress;
}

/**
 * A look at the Map Runs for the waiting loop, to call with its "still running" lines: logs
 * each Map Run's progress when it changed and sets the output-only field map_run_progress.
 * A look that fails (no states:ListMapRuns permission, throttling) is a debug line only.
 */
export function mapRunWatcher(req: {
  readonly sfn: StepFunctions;
  readonly executionArn: string;
  readonly log: Logger;
  readonly outputs: OutputFields;
}): (signal?: AbortSignal) => Promise<void> {
  let said = "";
  return async (signal) => {
    let runs: MapRunProgress[];
    try {
      runs = await readMapRuns(req.sfn, req.executionArn, signal);
    } catch (error) {
      req.log.debug(`cannot read the Map Runs: ${classifyError(error).message}`);
      return;
    }
    if (runs.length === 0) return;
    const lines = runs.map(progressText);
    const text = lines.join("; ");
    if (text === said) return;
    said = text;
    for (const line of lines) req.log.info(line);
    req.outputs.set({ map_run_progress: text });
  };
}

export interface ResultWriterLocation {
  readonly bucket: string;
  readonly key: string;
  readonly mapRunArn: string | null;
}

/**
 * Where a Distributed Map's ResultWriter put the results, when the execution's output is
 * (or holds at its top level) the reference AWS writes: `ResultWriterDetails` with the
 * bucket and the manifest's key.
 */
export function resultWriterLocation(output: unknown): ResultWriterLocation | null {
  if (typeof output !== "object" || output === null || Array.isArray(output)) return null;
  const o = output as Record<string, unknown>;
  const details = o["ResultWriterDetails"];
  if (typeof details === "object" && details !== null && !Array.isArray(details)) {
    const d = details as Record<string, unknown>;
    if (typeof d["Bucket"] === "string" && typeof d["Key"] === "string") {
      const mapRunArn = typeof o["MapRunArn"] === "string" ? o["MapRunArn"] : null;
      return { bucket: d["Bucket"], key: d["Key"], mapRunArn };
    }
  }
  for (const value of Object.values(o)) {
    if (typeof value === "object" && value !== null && "ResultWriterDetails" in value) {
      return resultWriterLocation(value);
    }
  }
  return null;
}
