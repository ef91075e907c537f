/**
 * Start Synchronous Express Execution: StartSyncExecution on an EXPRESS state machine; the
 * whole result arrives in the reply (status, output, error, cause, billing). A Standard
 * machine is refused by AWS and said plainly, with the action to use instead.
 */
import type { StartSyncExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import { UnexpectedError, WrongStateMachineTypeError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { executionName } from "../execution-name.ts";
import type { ExecutionResult, Outcome } from "../output/extension-output.ts";
import { isoDate } from "./describe.ts";
import { type ActionContext, openSession } from "./session.ts";
import { endCode } from "./supervise.ts";

/** An Express execution runs at most 5 minutes; the reply comes when it ends. */
export const SYNC_REQUEST_TIMEOUT_MS = 5 * 60_000 + 30_000;

function toSyncResult(reply: StartSyncExecutionOutput, name: string): ExecutionResult {
  let parsed: { outputParsed?: unknown } = {};
  if (reply.output !== undefined) {
    try {
      parsed = { outputParsed: JSON.parse(reply.output) as unknown };
    } catch {
      // Not JSON: only the raw text is reported.
    }
  }
  return {
    executionArn: reply.executionArn as string,
    stateMachineArn: reply.stateMachineArn ?? null,
    name: reply.name ?? name,
    status: reply.status ?? "FAILED",
    startDate: isoDate(reply.startDate),
    stopDate: isoDate(reply.stopDate),
    output: reply.output ?? null,
    ...parsed,
    outputDetails: reply.outputDetails ? { included: reply.outputDetails.included ?? false } : null,
    error: reply.error ?? null,
    cause: reply.cause ?? null,
    failedState: null,
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

export async function runStartSyncExecution(ctx: ActionContext): Promise<Outcome> {
  const { config, context, log, outputs } = ctx;
  const { stateMachine, stateMachineArn } = config;
  if (!stateMachine || !stateMachineArn) {
    throw new UnexpectedError(`${config.action} needs a State Machine ARN`);
  }
  const session = openSession(
    ctx,
    { region: stateMachine.region, label: "the state machine ARN" },
    { requestTimeoutMs: SYNC_REQUEST_TIMEOUT_MS },
  );
  const name = executionName(config.executionName, context);
  outputs.set({ generated_execution_name: name });
  log.info(`running Express execution ${name} of ${stateMachineArn} synchronously`);
  let reply: StartSyncExecutionOutput;
  try {
    reply = await session.sfn.startSyncExecution(
      { stateMachineArn, name, input: config.input },
      ctx.signal ? { abortSignal: ctx.signal } : {},
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
    throw classifyError(error, { operation: "StartSyncExecution" });
  } finally {
    session.close();
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
