/**
 * The "Start Asynchronous Execution" action from configuration to outcome: clients,
 * name, start or re-attach, optional wait, and what the end means for the exit code.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import type { LeanSfnClient } from "../aws/sfn-client.ts";
import { classifyError } from "../aws/classify.ts";
import { createClients, endpointFor, roleSessionName } from "../aws/clients.ts";
import { createHttpHandler } from "../aws/http-handler.ts";
import { resolveRegion } from "../aws/region.ts";
import { UnexpectedError } from "../errors.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { clean, executionName } from "../execution-name.ts";
import { RERUN_BEHAVIOURS } from "../fields/catalog.ts";
import type { TaskConfig } from "../fields/validate.ts";
import type { Logger } from "../log.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import type { OutputFields } from "../output/output-fields.ts";
import { failureFromHistory, toResult } from "./describe.ts";
import { redrivePrevious } from "./redrive.ts";
import { executionArnFor, type Started, startExecution } from "./start-execution.ts";
import { waitForExecution } from "./wait.ts";

export interface ActionContext {
  readonly config: TaskConfig;
  readonly context: { taskName?: string; taskInstanceId?: string; executionCount: number };
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly outputs: OutputFields;
  readonly signal?: AbortSignal;
}

const END_CODES: Record<string, ExitCode> = {
  SUCCEEDED: EXIT.success,
  FAILED: EXIT.executionFailed,
  ABORTED: EXIT.executionAborted,
  TIMED_OUT: EXIT.executionTimedOut,
};

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
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
  const exitCode = END_CODES[status] ?? EXIT.unexpected;
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

function runningResult(
  arn: string,
  config: TaskConfig,
  name: string,
  startDate: string | null,
  last?: DescribeExecutionOutput | null,
): ExecutionResult {
  if (last) return toResult(last);
  return pendingResult(arn, { stateMachineArn: config.stateMachineArn ?? null, name, startDate });
}

/** Stop the execution, bounded in time so a cancel always ends within seconds. */
async function stopExecution(
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
  const { config, context, env, log, outputs } = ctx;
  const { stateMachine, stateMachineArn } = config;
  if (!stateMachine || !stateMachineArn) {
    throw new UnexpectedError(`${config.action} needs a State Machine ARN`);
  }
  const launchedAt = new Date();
  const region = resolveRegion(config.region, env, stateMachine.region);
  log.info(`region ${region.region} (from ${region.source})`);
  const handler = createHttpHandler({
    ...(config.proxy ? { proxy: config.proxy } : {}),
    ...(config.endpointCa ? { endpointCa: config.endpointCa } : {}),
    env,
  });
  if (config.proxy) {
    const { forHttp, forHttps } = config.proxy;
    const via =
      forHttp.url === forHttps.url
        ? forHttps.url
        : `${forHttps.url} (https) and ${forHttp.url} (http)`;
    log.info(`proxy ${via}, ${config.proxy.type}`);
  }
  const { sfn, credentialSource } = createClients({
    region: region.region,
    ...(endpointFor(config.endpointUrl, env)
      ? { endpointUrl: endpointFor(config.endpointUrl, env) as string }
      : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.role ? { role: config.role } : {}),
    sessionName: roleSessionName(context.taskName, context.taskInstanceId),
    handler,
    log,
    env,
  });
  log.info(`credentials from ${credentialSource}`);

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

    const waited = await waitForExecution({
      sfn,
      executionArn: arn,
      executionStart: started.startDate ? new Date(started.startDate) : launchedAt,
      pollingIntervalSeconds: config.pollingIntervalSeconds,
      maximumWaitSeconds: config.maximumWaitSeconds,
      log,
      outputs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(numberFromEnv(env, "UE_STATUS_FAILURE_LIMIT_SECONDS") !== undefined
        ? {
            failureLimitMs:
              (numberFromEnv(env, "UE_STATUS_FAILURE_LIMIT_SECONDS") as number) * 1000,
          }
        : {}),
    });
    if (waited.kind === "ended")
      return endedOutcome(sfn, waited.execution, started.startedNow, log);

    const task = context.taskName ?? "the scheduler task";
    if (waited.kind === "cancelled") {
      if (config.stopExecutionOnCancel) {
        const stopped = await stopExecution(
          sfn,
          arn,
          "ue-aws-stepfunctions.Cancelled",
          `cancelled with ${task} (instance ${context.taskInstanceId ?? "n/a"})`,
          log,
        );
        return {
          exitCode: EXIT.cancelled,
          description: stopped
            ? `task cancelled; execution ${name} stopped`
            : `task cancelled; stopping execution ${name} failed, it may still be running`,
          changed: true,
          result: {
            ...runningResult(arn, config, name, started.startDate, waited.last),
            ...(stopped ? { status: "ABORTED" } : {}),
          },
        };
      }
      log.warn(`task cancelled; execution ${arn} left running (Stop Execution on Cancel is off)`);
      return {
        exitCode: EXIT.cancelled,
        description: `task cancelled; execution ${name} left running`,
        changed: started.startedNow,
        result: runningResult(arn, config, name, started.startDate, waited.last),
      };
    }
    // Maximum wait reached.
    const limit = `${config.maximumWaitSeconds} s`;
    if (config.maximumWaitAction === "Stop Execution") {
      const stopped = await stopExecution(
        sfn,
        arn,
        "ue-aws-stepfunctions.MaximumWait",
        `maximum wait of ${limit} reached by ${task}`,
        log,
      );
      return {
        exitCode: EXIT.maximumWaitReached,
        description: `maximum wait of ${limit} reached; execution ${name} ${stopped ? "stopped" : "could not be stopped"}`,
        changed: true,
        result: {
          ...runningResult(arn, config, name, started.startDate, waited.last),
          ...(stopped ? { status: "ABORTED" } : {}),
        },
      };
    }
    log.warn(`maximum wait of ${limit} reached; execution ${arn} left running`);
    return {
      exitCode: EXIT.maximumWaitReached,
      description: `maximum wait of ${limit} reached; execution ${name} left running`,
      changed: started.startedNow,
      result: runningResult(arn, config, name, started.startDate, waited.last),
    };
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
    handler.destroy();
  }
}
