/**
 * The "Start Asynchronous Execution" action from configuration to outcome: clients,
 * name, start or re-attach, optional wait, and what the end means for the exit code.
 */
import { classifyError } from "../aws/classify.ts";
import { UnexpectedError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { clean, executionName } from "../execution-name.ts";
import { RERUN_BEHAVIOURS } from "../fields/catalog.ts";
import type { TaskConfig } from "../fields/validate.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import { redrivePrevious } from "./redrive.ts";
import { type ActionContext, openSession } from "./session.ts";
import { executionArnFor, type Started, startExecution } from "./start-execution.ts";
import { endedOutcome, superviseExecution } from "./supervise.ts";

export type { ActionContext } from "./session.ts";

function runningResult(
  arn: string,
  config: TaskConfig,
  name: string,
  startDate: string | null,
): ExecutionResult {
  return pendingResult(arn, { stateMachineArn: config.stateMachineArn ?? null, name, startDate });
}

/** The name the previous run used, when it can be known (a task instance id or a fixed name). */
function previousExecutionName(
  config: TaskConfig,
  context: ActionContext["context"],
): string | null {
  if (!config.executionName && !context.taskInstanceId) return null;
  return executionName(config.executionName, {
    ...context,
    executionCount: context.executionCount - 1,
  });
}

export async function runStartExecution(ctx: ActionContext): Promise<Outcome> {
  const { config, context, log, outputs } = ctx;
  const { stateMachine, stateMachineArn } = config;
  if (!stateMachine || !stateMachineArn) {
    throw new UnexpectedError(`${config.action} needs a State Machine ARN`);
  }
  const launchedAt = new Date();
  const session = openSession(ctx, { region: stateMachine.region, label: "the state machine ARN" });
  const { sfn } = session;

  let name = executionName(config.executionName, context);
  try {
    let started: Started | null = null;
    if (config.rerunBehaviour === RERUN_BEHAVIOURS.redrive && context.executionCount > 1) {
      const previousName = previousExecutionName(config, context);
      if (previousName) {
        started = await redrivePrevious({
          sfn,
          previousArn: executionArnFor(stateMachine, previousName),
          previousName,
          clientToken: `${clean(context.taskInstanceId ?? previousName).slice(0, 50)}-r${context.executionCount}`,
          log,
          outputs,
        });
        if (started) name = previousName;
      } else {
        log.info(
          "no task instance id and no Execution Name: the previous run's execution cannot be found; starting a new execution",
        );
      }
    }
    started ??= await startExecution({
      sfn,
      stateMachineArn,
      stateMachine,
      name,
      input: config.input,
      log,
      outputs,
      launchedAt,
    });
    if (started.closed) return endedOutcome(sfn, started.closed, false, log);
    const arn = started.executionArn;
    if (!config.wait) {
      return {
        exitCode: EXIT.success,
        description: started.startedNow
          ? `execution ${name} started`
          : `execution ${name} is running (started earlier by this run)`,
        changed: started.startedNow,
        result: runningResult(arn, config, name, started.startDate),
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
        result: runningResult(arn, config, name, started.startDate),
      };
    }
    return await superviseExecution(ctx, {
      sfn,
      executionArn: arn,
      known: { name, stateMachineArn, startDate: started.startDate },
      executionStart: started.startDate ? new Date(started.startDate) : launchedAt,
      changed: started.startedNow,
    });
  } catch (error) {
    // Whatever failed after the start, the document must carry the execution ARN so an
    // operator (or a rerun) can find it.
    const classified = classifyError(error);
    const arn = outputs.current.execution_arn;
    if (arn) {
      const result = runningResult(arn, config, name, null);
      result.status = outputs.current.execution_status ?? "RUNNING";
      classified.partialOutcome = { result, changed: true };
    }
    throw classified;
  } finally {
    session.close();
  }
}
