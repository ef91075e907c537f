/**
 * Start Synchronous Express Execution: StartSyncExecution on an EXPRESS state machine; the
 * whole result arrives in the reply (status, output, error, cause, billing). A Standard
 * machine is refused by AWS and said plainly, with the action to use instead. Every run is a
 * new execution (Express has no re-attach): its name ends in a time stamp instead of a run
 * number unless the scheduler passes one.
 */
import type { StartSyncExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import { UnexpectedError, WrongStateMachineTypeError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { executionBase, oneOffRun, runName } from "../execution-name.ts";
import type { ExecutionResult, Outcome } from "../output/extension-output.ts";
import { type CallTrack, endCode, toResult, trackedCall } from "./execution.ts";
import type { Action, ActionContext } from "./action.ts";

function toSyncResult(reply: StartSyncExecutionOutput, name: string): ExecutionResult {
  // The reply carries the fields DescribeExecution would, less redrive, plus billing.
  const {
    redriveCount: _count,
    redriveStatus: _status,
    ...common
  } = toResult({
    ...reply,
    name: reply.name ?? name,
    status: reply.status ?? "FAILED",
  });
  return {
    ...common,
    billingDetails: reply.billingDetails
      ? {
          ...(reply.billingDetails.billedMemoryUsedInMB !== undefined
            ? { billedMemoryUsedInMB: reply.billingDetails.billedMemoryUsedInMB }
            : {}),
          ...(reply.billingDetails.billedDurationInMilliseconds !== undefined
            ? { billedDurationInMilliseconds: reply.billingDetails.billedDurationInMilliseconds }
            : {}),
        }
      : null,
  };
}

/** The request timeout is raised for this action (see resolveConfig): AWS answers when the execution ends. */
async function run(ctx: ActionContext): Promise<Outcome> {
  const { config, aws, log, outputs } = ctx;
  const { task, context } = config;
  const { stateMachineArn } = task;
  if (!stateMachineArn) throw new UnexpectedError(`${task.action} needs a State Machine ARN`);
  // AWS keeps Express names neither unique nor findable: there is nothing a rerun could find
  // or re-attach to, so each run gets its own name (the scheduler's count when it passes one).
  const { base } = executionBase(task.executionName, context);
  const name = runName(base, context.executionCount ?? oneOffRun());
  outputs.set({ generated_execution_name: name });
  log.info(`running Express execution ${name} of ${stateMachineArn} synchronously`);
  let reply: StartSyncExecutionOutput;
  /** How far the call got: whether it may have reached AWS. */
  const call: CallTrack = { sent: false, answered: false };
  try {
    // One attempt: a retry after a lost answer would run the workflow a second time.
    reply = await aws.sfnOnce.startSyncExecution(
      {
        stateMachineArn,
        name,
        input: task.input,
        ...(task.traceHeader ? { traceHeader: task.traceHeader } : {}),
      },
      trackedCall(ctx.signal, call),
    );
  } catch (error) {
    if (ctx.signal?.aborted) {
      const description = `task cancelled while Express execution ${name} ran; AWS cannot stop Express executions, so it may still be running`;
      log.warn(description);
      return {
        exitCode: EXIT.cancelled,
        description,
        changed: true,
        result: null,
      };
    }
    if ((error as { name?: string }).name === "StateMachineTypeNotSupported") {
      throw new WrongStateMachineTypeError(
        `${stateMachineArn} is a STANDARD state machine; Start Synchronous Express Execution runs EXPRESS state machines only: use Start Asynchronous Execution (with Wait for Success or Failure) for it`,
        { cause: error },
      );
    }
    const classified = classifyError(error, { operation: "StartSyncExecution" });
    // No answer, though the request may have reached AWS: the workflow may have run.
    if (call.sent && classified.exitCode === EXIT.connection) {
      classified.message += `; AWS gave no answer to the start of Express execution ${name}, so it may have run (AWS cannot stop Express executions)`;
    }
    throw classified;
  }
  const result = toSyncResult(reply, name);
  outputs.set({ execution_arn: result.executionArn, execution_status: result.status });
  const what = [result.error, result.cause].filter((x) => x).join(": ");
  const description =
    result.status === "SUCCEEDED"
      ? `Express execution ${name} SUCCEEDED`
      : `Express execution ${name} ended ${result.status}${what ? `: ${what}` : ""}`;
  if (result.status === "SUCCEEDED") log.info(description);
  else log.error(description);
  return { exitCode: endCode(result.status), description, changed: true, result };
}

export const startSynchronousExpressExecution: Action = { run };
