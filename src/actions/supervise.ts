/**
 * Supervise an execution to an outcome, the same way whichever action got it running
 * (started, redriven, or only monitored): wait, then the ended, cancelled or maximum-wait
 * outcome, stopping the execution where the task's settings say so.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import type { LeanSfnClient } from "../aws/sfn-client.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { ACTIONS, MAXIMUM_WAIT_ACTIONS } from "../fields/catalog.ts";
import type { Logger } from "../log.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import { failureFromHistory, toResult } from "./describe.ts";
import { type ActionContext, taskReference } from "./session.ts";
import { waitForExecution } from "./wait.ts";

const END_CODES: Record<string, ExitCode> = {
  SUCCEEDED: EXIT.success,
  FAILED: EXIT.executionFailed,
  ABORTED: EXIT.executionAborted,
  TIMED_OUT: EXIT.executionTimedOut,
};

/** The exit code of an execution that ended with this status. */
export function endCode(status: string): ExitCode {
  return END_CODES[status] ?? EXIT.unexpected;
}

/** The outcome of an execution that has ended. */
export async function endedOutcome(
  sfn: LeanSfnClient,
  execution: DescribeExecutionOutput,
  changed: boolean,
  log: Logger,
): Promise<Outcome> {
  const result = toResult(execution);
  const status = result.status;
  const exitCode = endCode(status);
  if (status === "SUCCEEDED") {
    log.info(`execution ${result.name} SUCCEEDED`);
    return { exitCode, description: `execution ${result.name} SUCCEEDED`, changed, result };
  }
  await addFailureDetails(sfn, result, log);
  const where = result.failedState ? ` in state "${result.failedState}"` : "";
  const what = [result.error, result.cause].filter((x) => x).join(": ");
  const description = `execution ${result.name} ended ${status}${where}${what ? `: ${what}` : ""}`;
  log.error(description);
  return { exitCode, description, changed, result };
}

async function addFailureDetails(
  sfn: LeanSfnClient,
  result: ExecutionResult,
  log: Logger,
): Promise<void> {
  try {
    const details = await failureFromHistory(sfn, result.executionArn);
    result.error ??= details.error;
    result.cause ??= details.cause;
    result.failedState = details.failedState;
  } catch (error) {
    // The history is a bonus; missing permission for it must not hide the outcome.
    log.warn(
      `cannot read the execution history for failure details: ${classifyError(error).message}`,
    );
  }
}

/** Stop the execution, bounded in time so a cancel always ends within seconds. */
export async function stopBounded(
  sfn: LeanSfnClient,
  arn: string,
  error: string,
  cause: string,
  log: Logger,
): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5000);
  try {
    await sfn.stopExecution({ executionArn: arn, error, cause }, { abortSignal: abort.signal });
    log.info(`stopped execution ${arn}`);
    return true;
  } catch (e) {
    log.error(
      `could not stop execution ${arn}: ${classifyError(e, { operation: "StopExecution" }).message}`,
    );
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export interface SuperviseRequest {
  readonly sfn: LeanSfnClient;
  readonly executionArn: string;
  /** What is known before the first status check. */
  readonly known: {
    readonly name: string | null;
    readonly stateMachineArn: string | null;
    readonly startDate: string | null;
  };
  /** When the execution (or its redrive) started, for the adaptive schedule. */
  readonly executionStart: Date;
  /** True when this task changed something in AWS to get the execution running. */
  readonly changed: boolean;
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** Wait for the execution and turn what happened into the task's outcome. */
export async function superviseExecution(
  ctx: ActionContext,
  req: SuperviseRequest,
): Promise<Outcome> {
  const { config, context, env, log, outputs } = ctx;
  const { sfn, executionArn: arn } = req;
  const name = req.known.name ?? arn.split(":").at(-1) ?? arn;
  const failureLimitSeconds = numberFromEnv(env, "UE_STATUS_FAILURE_LIMIT_SECONDS");
  const waited = await waitForExecution({
    sfn,
    executionArn: arn,
    executionStart: req.executionStart,
    pollingIntervalSeconds: config.pollingIntervalSeconds,
    maximumWaitSeconds: config.maximumWaitSeconds,
    log,
    outputs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(failureLimitSeconds !== undefined ? { failureLimitMs: failureLimitSeconds * 1000 } : {}),
  });
  if (waited.kind === "ended") return endedOutcome(sfn, waited.execution, req.changed, log);

  const running = (): ExecutionResult => {
    const result = waited.last
      ? toResult(waited.last)
      : pendingResult(arn, {
          name: req.known.name,
          stateMachineArn: req.known.stateMachineArn,
          startDate: req.known.startDate,
        });
    if (waited.waitingForCallback) result.waitingForCallback = waited.waitingForCallback;
    return result;
  };
  const task = taskReference(context);
  if (waited.kind === "cancelled") {
    if (config.stopExecutionOnCancel) {
      const stopped = await stopBounded(
        sfn,
        arn,
        "ue-aws-stepfunctions.Cancelled",
        `cancelled with ${task}`,
        log,
      );
      return {
        exitCode: EXIT.cancelled,
        description: stopped
          ? `task cancelled; execution ${name} stopped`
          : `task cancelled; stopping execution ${name} failed, it may still be running`,
        changed: req.changed || stopped,
        result: { ...running(), ...(stopped ? { status: "ABORTED" } : {}) },
      };
    }
    const setting =
      config.action === ACTIONS.monitor
        ? "Stop Monitored Execution on Cancel"
        : "Stop Execution on Cancel";
    log.warn(`task cancelled; execution ${arn} left running (${setting} is off)`);
    return {
      exitCode: EXIT.cancelled,
      description: `task cancelled; execution ${name} left running`,
      changed: req.changed,
      result: running(),
    };
  }
  // Maximum wait reached.
  const limit = `${config.maximumWaitSeconds} s`;
  if (config.maximumWaitAction === MAXIMUM_WAIT_ACTIONS.stop) {
    const stopped = await stopBounded(
      sfn,
      arn,
      "ue-aws-stepfunctions.MaximumWait",
      `maximum wait of ${limit} reached by ${task}`,
      log,
    );
    return {
      exitCode: EXIT.maximumWaitReached,
      description: `maximum wait of ${limit} reached; execution ${name} ${stopped ? "stopped" : "could not be stopped"}`,
      changed: req.changed || stopped,
      result: { ...running(), ...(stopped ? { status: "ABORTED" } : {}) },
    };
  }
  log.warn(`maximum wait of ${limit} reached; execution ${arn} left running`);
  return {
    exitCode: EXIT.maximumWaitReached,
    description: `maximum wait of ${limit} reached; execution ${name} left running`,
    changed: req.changed,
    result: running(),
  };
}
