/**
 * Turn DescribeExecution replies (and, where they say nothing, the execution history)
 * into the result section of the extension output.
 */
import type { DescribeExecutionOutput, HistoryEvent } from "@aws-sdk/client-sfn";
import type { LeanSfnClient } from "../aws/sfn-client.ts";
import type { ExecutionResult } from "../output/extension-output.ts";

export const TERMINAL = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]);

/** ISO 8601 with offset, or null. */
export function isoDate(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** The parsed value of the execution's output, when it is JSON. */
function parseOutput(output: string | undefined): { outputParsed?: unknown } {
  if (output === undefined) return {};
  try {
    return { outputParsed: JSON.parse(output) as unknown };
  } catch {
    return {};
  }
}

export function toResult(d: DescribeExecutionOutput): ExecutionResult {
  return {
    executionArn: d.executionArn as string,
    stateMachineArn: d.stateMachineArn ?? null,
    name: d.name ?? null,
    status: d.status ?? "RUNNING",
    startDate: isoDate(d.startDate),
    stopDate: isoDate(d.stopDate),
    output: d.output ?? null,
    ...parseOutput(d.output),
    outputDetails: d.outputDetails ? { included: d.outputDetails.included ?? false } : null,
    error: d.error ?? null,
    cause: d.cause ?? null,
    failedState: null,
    redriveCount: d.redriveCount ?? null,
    redriveStatus: d.redriveStatus ?? null,
  };
}

export interface FailureDetails {
  error: string | null;
  cause: string | null;
  failedState: string | null;
}

const FAILURE_EVENTS = new Set(["ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"]);

/** Error, cause and failing state from the most recent history events. */
export async function failureFromHistory(
  sfn: LeanSfnClient,
  executionArn: string,
  pageLimit = 5,
): Promise<FailureDetails> {
  const details: FailureDetails = { error: null, cause: null, failedState: null };
  let nextToken: string | undefined;
  for (let page = 0; page < pageLimit; page++) {
    const reply = await sfn.getExecutionHistory({
      executionArn,
      reverseOrder: true,
      maxResults: 100,
      ...(nextToken ? { nextToken } : {}),
    });
    for (const event of reply.events ?? []) {
      readEvent(event, details);
      if (details.failedState !== null) return details;
    }
    nextToken = reply.nextToken;
    if (!nextToken) break;
  }
  return details;
}

function readEvent(event: HistoryEvent, details: FailureDetails): void {
  if (event.type && FAILURE_EVENTS.has(event.type)) {
    const d =
      event.executionFailedEventDetails ??
      event.executionTimedOutEventDetails ??
      event.executionAbortedEventDetails;
    details.error ??= d?.error ?? null;
    details.cause ??= d?.cause ?? null;
    return;
  }
  // Walking backwards, the first state entered is where the execution was when it ended.
  if (event.stateEnteredEventDetails?.name && details.failedState === null) {
    details.failedState = event.stateEnteredEventDetails.name;
  }
  const failed =
    event.taskFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.activityFailedEventDetails ??
    event.mapRunFailedEventDetails;
  if (failed) {
    details.error ??= failed.error ?? null;
    details.cause ??= failed.cause ?? null;
  }
}

const TASK_CLOSED = new Set([
  "TaskSucceeded",
  "TaskFailed",
  "TaskTimedOut",
  "TaskSubmitFailed",
  "TaskStartFailed",
]);

/**
 * The state that waits for a task token right now, from the newest history events, or null.
 * Walking backwards, each closed task cancels out the scheduling before it; a scheduled
 * `.waitForTaskToken` task left open is waiting, and the state entered just before it is its state.
 */
export async function callbackWaitingState(
  sfn: LeanSfnClient,
  executionArn: string,
): Promise<string | null> {
  const reply = await sfn.getExecutionHistory(
    { executionArn, reverseOrder: true, maxResults: 50, includeExecutionData: false },
    { maxAttempts: 1 },
  );
  let closed = 0;
  let waiting = false;
  for (const event of reply.events ?? []) {
    const type = event.type ?? "";
    if (waiting) {
      if (type === "TaskStateEntered") return event.stateEnteredEventDetails?.name ?? null;
      continue;
    }
    if (TASK_CLOSED.has(type)) closed++;
    else if (type === "TaskScheduled") {
      if (closed > 0) closed--;
      else if (event.taskScheduledEventDetails?.resource?.endsWith(".waitForTaskToken")) {
        waiting = true;
      }
    }
  }
  return null;
}
