/**
 * Start Asynchronous Execution (SPEC 5.4): start, or re-attach to the execution this
 * same run already started, then hand over to the waiter when asked to wait.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import type { LeanSfnClient } from "../aws/sfn-client.ts";
import { classifyError } from "../aws/classify.ts";
import { DataValidationError } from "../errors.ts";
import type { ParsedStateMachineArn } from "../fields/validate.ts";
import type { Logger } from "../log.ts";
import type { OutputFields } from "../output/output-fields.ts";
import { isoDate, TERMINAL } from "./describe.ts";

export interface Started {
  readonly executionArn: string;
  readonly startDate: string | null;
  /** True when this run started it; false when it re-attached to an existing one. */
  readonly startedNow: boolean;
  /** Set when the execution already ended before we attached. */
  readonly closed?: DescribeExecutionOutput;
}

export interface StartRequest {
  readonly sfn: LeanSfnClient;
  readonly stateMachineArn: string;
  readonly stateMachine: ParsedStateMachineArn;
  readonly name: string;
  readonly input: string;
  readonly log: Logger;
  readonly outputs: OutputFields;
  /** When this program started; an older start date means AWS returned an existing run. */
  readonly launchedAt: Date;
}

/** The ARN an execution of this name has (qualifiers are not part of it). */
export function executionArnFor(sm: ParsedStateMachineArn, name: string): string {
  return `arn:${sm.partition}:states:${sm.region}:${sm.accountId}:execution:${sm.name}:${name}`;
}

function sameInput(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** Start the execution, or re-attach when this run's execution already exists. */
export async function startExecution(req: StartRequest): Promise<Started> {
  const { sfn, log } = req;
  req.outputs.set({ generated_execution_name: req.name });
  log.info(`starting execution ${req.name} of ${req.stateMachineArn}`);
  let reply: { executionArn?: string | undefined; startDate?: Date | undefined };
  try {
    reply = await sfn.startExecution({
      stateMachineArn: req.stateMachineArn,
      name: req.name,
      input: req.input,
    });
  } catch (error) {
    if ((error as { name?: string }).name !== "ExecutionAlreadyExists") {
      throw classifyError(error, { operation: "StartExecution" });
    }
    return reattach(req, error);
  }
  const executionArn = reply.executionArn as string;
  req.outputs.set({ execution_arn: executionArn, execution_status: "RUNNING" });
  // AWS answers a repeated start of a running Standard execution (same name and input)
  // with the existing execution: that is a re-attach, not a new start.
  const existed = !!reply.startDate && reply.startDate.getTime() < req.launchedAt.getTime() - 1000;
  log.info(
    existed
      ? `re-attached to execution ${executionArn}, started by an earlier launch of this run`
      : `started execution ${executionArn}`,
  );
  return { executionArn, startDate: isoDate(reply.startDate), startedNow: !existed };
}

async function reattach(req: StartRequest, original: unknown): Promise<Started> {
  const arn = executionArnFor(req.stateMachine, req.name);
  let existing: DescribeExecutionOutput;
  try {
    existing = await req.sfn.describeExecution({ executionArn: arn });
  } catch (error) {
    throw classifyError(error, { operation: "DescribeExecution" });
  }
  if (!sameInput(existing.input, req.input)) {
    throw new DataValidationError(
      `an execution named ${req.name} already exists with a different input; give another Execution Name or rerun the task (a rerun gets a new suffix)`,
      { cause: original },
    );
  }
  const status = existing.status ?? "RUNNING";
  req.outputs.set({ execution_arn: arn, execution_status: status });
  if (TERMINAL.has(status)) {
    req.log.info(
      `execution ${req.name} already ran for this run and ended ${status}; reporting its result`,
    );
    return {
      executionArn: arn,
      startDate: isoDate(existing.startDate),
      startedNow: false,
      closed: existing,
    };
  }
  req.log.info(`re-attached to execution ${arn}, started by an earlier launch of this run`);
  return { executionArn: arn, startDate: isoDate(existing.startDate), startedNow: false };
}
