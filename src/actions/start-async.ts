/**
 * The "Start Asynchronous Execution" action (SPEC 5.4): name, start (or redrive the
 * previous run's execution, or re-attach to this run's), optionally wait, and what the end
 * means for the exit code.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import { EXIT } from "../exit-codes.ts";
import { clean, executionName } from "../execution-name.ts";
import { RERUN_BEHAVIOURS } from "../fields/catalog.ts";
import type { TaskConfig } from "../fields/validate.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import type { TaskContext } from "../config/environment.ts";
import {
  endedOutcome,
  executionArnFor,
  redrivePrevious,
  type Started,
  startExecution,
  stopExecution,
  toResult,
  waitForExecution,
} from "./execution.ts";
import type { Action, ActionContext } from "./registry.ts";

function runningResult(
  arn: string,
  task: TaskConfig,
  name: string,
  startDate: string | null,
  last?: DescribeExecutionOutput | null,
): ExecutionResult {
  if (last) return toResult(last);
  return pendingResult(arn, { stateMachineArn: task.stateMachineArn, name, startDate });
}

/** The name the previous run used, when it can be known (a task instance id or a fixed name). */
function previousExecutionName(task: TaskConfig, context: TaskContext): string | null {
  if (!task.executionName && !context.taskInstanceId) return null;
  return executionName(task.executionName, {
    ...context,
    executionCount: context.executionCount - 1,
  });
}

async function run(ctx: ActionContext): Promise<Outcome> {
  const { config, aws, log, outputs, signal } = ctx;
  const { task, context } = config;
  const launchedAt = new Date();
  let name = executionName(task.executionName, context);
  try {
    let started: Started | null = null;
    if (task.rerunBehaviour === RERUN_BEHAVIOURS.redrive && context.executionCount > 1) {
      const previousName = previousExecutionName(task, context);
      if (previousName) {
        started = await redrivePrevious({
          sfn: aws.sfn,
          previousArn: executionArnFor(task.stateMachine, previousName),
          previousName,
          clientToken: `${clean(context.taskInstanceId ?? previousName).slice(0, 50)}-r${context.executionCount}`,
          log,
          outputs,
          signal,
        });
        if (started) name = previousName;
      } else {
        log.info(
          "no task instance id and no Execution Name: the previous run's execution cannot be found; starting a new execution",
        );
      }
    }
    started ??= await startExecution({
      sfn: aws.sfn,
      stateMachineArn: task.stateMachineArn,
      stateMachine: task.stateMachine,
      name,
      input: task.input,
      log,
      outputs,
      launchedAt,
      signal,
    });
    if (started.closed) return endedOutcome(aws.sfn, started.closed, false, log, signal);
    const arn = started.executionArn;
    if (!task.wait) {
      return {
        exitCode: EXIT.success,
        description: started.startedNow
          ? `execution ${name} started`
          : `execution ${name} is running (started earlier by this run)`,
        changed: started.startedNow,
        result: runningResult(arn, task, name, started.startDate),
      };
    }

    const waited = await waitForExecution({
      sfn: aws.sfnOnce,
      refreshCredentials: () => aws.refreshCredentials(),
      executionArn: arn,
      executionStart: started.startDate ? new Date(started.startDate) : launchedAt,
      pollingIntervalSeconds: task.pollingIntervalSeconds,
      maximumWaitSeconds: task.maximumWaitSeconds,
      failureLimitMs: config.statusFailureLimitMs,
      log,
      outputs,
      signal,
    });
    if (waited.kind === "ended")
      return endedOutcome(aws.sfn, waited.execution, started.startedNow, log);

    const taskName = context.taskName ?? "the scheduler task";
    if (waited.kind === "cancelled") {
      if (task.stopExecutionOnCancel) {
        const stopped = await stopExecution(
          aws.sfn,
          arn,
          "ue-aws-stepfunctions.Cancelled",
          `cancelled with ${taskName} (instance ${context.taskInstanceId ?? "n/a"})`,
          log,
        );
        return {
          exitCode: EXIT.cancelled,
          description: stopped
            ? `task cancelled; execution ${name} stopped`
            : `task cancelled; stopping execution ${name} failed, it may still be running`,
          changed: true,
          result: {
            ...runningResult(arn, task, name, started.startDate, waited.last),
            ...(stopped ? { status: "ABORTED" } : {}),
          },
        };
      }
      log.warn(`task cancelled; execution ${arn} left running (Stop Execution on Cancel is off)`);
      return {
        exitCode: EXIT.cancelled,
        description: `task cancelled; execution ${name} left running`,
        changed: started.startedNow,
        result: runningResult(arn, task, name, started.startDate, waited.last),
      };
    }
    // Maximum wait reached.
    const limit = `${task.maximumWaitSeconds} s`;
    if (task.maximumWaitAction === "Stop Execution") {
      const stopped = await stopExecution(
        aws.sfn,
        arn,
        "ue-aws-stepfunctions.MaximumWait",
        `maximum wait of ${limit} reached by ${taskName}`,
        log,
      );
      return {
        exitCode: EXIT.maximumWaitReached,
        description: `maximum wait of ${limit} reached; execution ${name} ${stopped ? "stopped" : "could not be stopped"}`,
        changed: true,
        result: {
          ...runningResult(arn, task, name, started.startDate, waited.last),
          ...(stopped ? { status: "ABORTED" } : {}),
        },
      };
    }
    log.warn(`maximum wait of ${limit} reached; execution ${arn} left running`);
    return {
      exitCode: EXIT.maximumWaitReached,
      description: `maximum wait of ${limit} reached; execution ${name} left running`,
      changed: started.startedNow,
      result: runningResult(arn, task, name, started.startDate, waited.last),
    };
  } catch (error) {
    const arn = outputs.current.execution_arn;
    if (signal?.aborted) return cancelledDuringCall(ctx, name, arn);
    const classified = classifyError(error);
    if (!arn) throw classified;
    // Whatever failed after the start, the outcome carries the execution ARN so an
    // operator (or a rerun) can find it.
    log.error(classified.message);
    const result = runningResult(arn, task, name, null);
    result.status = outputs.current.execution_status ?? "RUNNING";
    return {
      exitCode: classified.exitCode,
      description: classified.message,
      changed: true,
      result,
    };
  }
}

/** A cancel that aborted a call in flight (a start or a redrive that had not answered). */
async function cancelledDuringCall(
  ctx: ActionContext,
  name: string,
  arn: string | undefined,
): Promise<Outcome> {
  const { config, aws, log, outputs } = ctx;
  if (!arn) {
    log.warn("task cancelled before AWS confirmed the start; the execution may have started");
    return {
      exitCode: EXIT.cancelled,
      description: `task cancelled before AWS confirmed the start of execution ${name}; it may have started`,
      changed: false,
      result: null,
    };
  }
  const stopped =
    config.task.stopExecutionOnCancel &&
    (await stopExecution(
      aws.sfn,
      arn,
      "ue-aws-stepfunctions.Cancelled",
      `cancelled with ${config.context.taskName ?? "the scheduler task"}`,
      log,
    ));
  const result = runningResult(arn, config.task, name, null);
  result.status = stopped ? "ABORTED" : (outputs.current.execution_status ?? "RUNNING");
  return {
    exitCode: EXIT.cancelled,
    description: stopped
      ? `task cancelled; execution ${name} stopped`
      : `task cancelled; execution ${name} may still be running`,
    changed: true,
    result,
  };
}

export const startAsynchronousExecution: Action = { run };
