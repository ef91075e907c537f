/**
 * The "Start Asynchronous Execution" action (SPEC 5.4): name, start (or redrive the
 * previous run's execution, or re-attach to this run's), optionally wait, and what the end
 * means for the exit code.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import { UnexpectedError } from "../errors.ts";
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
} from "./execution.ts";
import { superviseExecution } from "./supervise.ts";
import type { Action, ActionContext } from "./registry.ts";

function runningResult(
  arn: string,
  task: TaskConfig,
  name: string,
  startDate: string | null,
  last?: DescribeExecutionOutput | null,
): ExecutionResult {
  if (last) return toResult(last);
  return pendingResult(arn, { stateMachineArn: task.stateMachineArn ?? null, name, startDate });
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
  const { stateMachine, stateMachineArn } = task;
  if (!stateMachine || !stateMachineArn) {
    throw new UnexpectedError(`${task.action} needs a State Machine ARN`);
  }
  const launchedAt = new Date();
  let name = executionName(task.executionName, context);
  try {
    let started: Started | null = null;
    if (task.rerunBehaviour === RERUN_BEHAVIOURS.redrive && context.executionCount > 1) {
      const previousName = previousExecutionName(task, context);
      if (previousName) {
        started = await redrivePrevious({
          sfn: aws.sfn,
          previousArn: executionArnFor(stateMachine, previousName),
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
      stateMachineArn,
      stateMachine,
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

    if (arn.includes(":express:")) {
      // AWS keeps no status of an Express execution that DescribeExecution could read.
      const description = `execution ${name} started on an EXPRESS state machine, whose executions cannot be waited on through DescribeExecution; use the action Start Synchronous Express Execution to run it and get its result`;
      log.error(description);
      return {
        exitCode: EXIT.wrongStateMachineType,
        description,
        changed: started.startedNow,
        result: runningResult(arn, task, name, started.startDate),
      };
    }
    return await superviseExecution(ctx, {
      executionArn: arn,
      known: { name, stateMachineArn: task.stateMachineArn ?? null, startDate: started.startDate },
      executionStart: started.startDate ? new Date(started.startDate) : launchedAt,
      changed: started.startedNow,
    });
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
