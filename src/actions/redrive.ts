/**
 * Rerun behaviour "Redrive Failed Execution" (SPEC 5.9): on a rerun, resume the previous
 * run's execution from the state that failed, on the same ARN, when AWS allows it.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import type { LeanSfnClient } from "../aws/sfn-client.ts";
import type { Logger } from "../log.ts";
import type { OutputFields } from "../output/output-fields.ts";
import { isoDate } from "./describe.ts";
import type { Started } from "./start-execution.ts";

const REDRIVABLE_END = new Set(["FAILED", "TIMED_OUT", "ABORTED"]);

export interface RedriveRequest {
  readonly sfn: LeanSfnClient;
  readonly previousArn: string;
  readonly previousName: string;
  /** Makes the redrive idempotent when the same rerun is launched again. */
  readonly clientToken: string;
  readonly log: Logger;
  readonly outputs: OutputFields;
}

/** Why the previous execution cannot be redriven, or null when it can. */
export function redriveRefusal(previous: DescribeExecutionOutput): string | null {
  const status = previous.status ?? "UNKNOWN";
  if (!REDRIVABLE_END.has(status)) return `it is ${status}, not FAILED, TIMED_OUT or ABORTED`;
  if (previous.redriveStatus === "NOT_REDRIVABLE") {
    return `AWS reports it not redrivable${previous.redriveStatusReason ? ` (${previous.redriveStatusReason})` : ""}`;
  }
  if (
    previous.stateMachineArn?.includes(":express:") ||
    previous.executionArn?.includes(":express:")
  ) {
    return "Express executions cannot be redriven";
  }
  return null;
}

/**
 * Redrive the previous execution, or re-attach to a redrive this same rerun already made.
 * Resolves to null (with a log line saying why) when a new execution must be started.
 */
export async function redrivePrevious(req: RedriveRequest): Promise<Started | null> {
  const { sfn, log } = req;
  let previous: DescribeExecutionOutput;
  try {
    previous = await sfn.describeExecution({ executionArn: req.previousArn });
  } catch (error) {
    if ((error as { name?: string }).name === "ExecutionDoesNotExist") {
      log.info(`no previous execution ${req.previousName} to redrive; starting a new execution`);
      return null;
    }
    throw classifyError(error, { operation: "DescribeExecution" });
  }
  if (previous.status === "RUNNING" && (previous.redriveCount ?? 0) > 0) {
    // A relaunch of this rerun after its redrive: join it.
    req.outputs.set({
      generated_execution_name: req.previousName,
      execution_arn: req.previousArn,
      execution_status: "RUNNING",
    });
    log.info(`re-attached to redriven execution ${req.previousArn}`);
    return {
      executionArn: req.previousArn,
      startDate: isoDate(previous.startDate),
      startedNow: false,
    };
  }
  const refusal = redriveRefusal(previous);
  if (refusal) {
    log.info(
      `previous execution ${req.previousName} is not redriven: ${refusal}; starting a new execution`,
    );
    return null;
  }
  try {
    const reply = await sfn.redriveExecution({
      executionArn: req.previousArn,
      clientToken: req.clientToken,
    });
    req.outputs.set({
      generated_execution_name: req.previousName,
      execution_arn: req.previousArn,
      execution_status: "RUNNING",
    });
    log.info(
      `redrove execution ${req.previousArn} (ended ${previous.status}); it resumes from the state that failed`,
    );
    return {
      executionArn: req.previousArn,
      startDate: isoDate(reply.redriveDate ?? previous.startDate),
      startedNow: true,
    };
  } catch (error) {
    if ((error as { name?: string }).name === "ExecutionNotRedrivable") {
      log.info(
        `previous execution ${req.previousName} is not redrivable (${(error as Error).message}); starting a new execution`,
      );
      return null;
    }
    throw classifyError(error, { operation: "RedriveExecution" });
  }
}
