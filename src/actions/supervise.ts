/**
 * Supervise an execution to an outcome, the same way whichever action got it running
 * (started, redriven, or only monitored): wait, then the ended, cancelled or maximum-wait
 * outcome, stopping the execution where the task's settings say so.
 */
import { EXIT } from "../exit-codes.ts";
import { ACTIONS, MAXIMUM_WAIT_ACTIONS } from "../fields/catalog.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import { prepareToWait, quietCollection } from "../settle-memory.ts";
import { endedOutcome, stopExecution, toResult, waitForExecution } from "./execution.ts";
import { stateMachineOfExecution } from "../wait-sharing/decide.ts";
import {
  defaultSharingFolder,
  type StatusSource,
  sharedStatus,
} from "../wait-sharing/shared-status.ts";
import type { ActionContext } from "./action.ts";

/** Who is acting, for the error and cause given to AWS: the task and its instance. */
export function taskReference(ctx: ActionContext): string {
  const { taskName, taskInstanceId } = ctx.config.context;
  return `${taskName ?? "the scheduler task"} (instance ${taskInstanceId ?? "n/a"})`;
}

export interface SuperviseRequest {
  readonly executionArn: string;
  /** What is known before the first status check. */
  readonly known: {
    readonly name: string | null;
    readonly stateMachineArn: string | null;
    readonly stateMachineVersionArn?: string | undefined;
    readonly stateMachineAliasArn?: string | undefined;
    readonly startDate: string | null;
  };
  /** When the execution (or its redrive) started, for the adaptive schedule. */
  readonly executionStart: Date;
  /** True when this task changed something in AWS to get the execution running. */
  readonly changed: boolean;
  /** When this task redrove it: the redrive count read before the redrive. */
  readonly redriveCountBefore?: number | undefined;
  /** Why the execution's data cannot be read (its KMS key), when already known. */
  readonly unreadable?: string | undefined;
}

/** Status checks shared with the user's other tasks waiting on the same state machine, unless off. */
function sharedStatusFor(ctx: ActionContext, executionArn: string): StatusSource | undefined {
  const { config, aws, log, signal } = ctx;
  const machine = stateMachineOfExecution(executionArn);
  if (!config.waitSharing.enabled || !machine) return undefined;
  const a = config.aws;
  return sharedStatus({
    folder: config.waitSharing.folder ?? defaultSharingFolder(),
    executionArn,
    pollingIntervalMs: config.task.pollingIntervalSeconds * 1000,
    sfn: aws.sfnOnce,
    log,
    signal,
    group: async () => ({
      endpoint: `${a.endpointUrl ?? "default"} fips=${a.useFipsEndpoint} dualstack=${a.useDualstackEndpoint}`,
      partition: machine.partition,
      accountId: machine.accountId,
      region: a.region,
      stateMachineArn: machine.arn,
      credentialIdentity: await aws.credentialIdentity(),
    }),
  });
}

/** Wait for the execution and turn what happened into the task's outcome. */
export async function superviseExecution(
  ctx: ActionContext,
  req: SuperviseRequest,
): Promise<Outcome> {
  const { config, aws, log, outputs, signal } = ctx;
  const { task } = config;
  const arn = req.executionArn;
  const name = req.known.name ?? arn.split(":").at(-1) ?? arn;
  const statusSource = sharedStatusFor(ctx, arn);
  await prepareToWait();
  const waited = await waitForExecution({
    statusSource,
    sfn: aws.sfnOnce,
    refreshCredentials: () => aws.refreshCredentials(),
    executionArn: arn,
    executionStart: req.executionStart,
    pollingIntervalSeconds: task.pollingIntervalSeconds,
    maximumWaitSeconds: task.maximumWaitSeconds,
    failureLimitMs: config.statusFailureLimitMs,
    justStarted: req.changed,
    redriveCountBefore: req.redriveCountBefore,
    unreadable: req.unreadable,
    onAnswered: quietCollection(),
    log,
    outputs,
    signal,
  }).finally(() => statusSource?.close());
  if (waited.kind === "ended") return endedOutcome(aws.sfn, waited.execution, req.changed, log);

  const running = (): ExecutionResult => {
    const result = waited.last
      ? toResult(waited.last)
      : pendingResult(arn, {
          name: req.known.name,
          stateMachineArn: req.known.stateMachineArn,
          stateMachineVersionArn: req.known.stateMachineVersionArn ?? null,
          stateMachineAliasArn: req.known.stateMachineAliasArn ?? null,
          startDate: req.known.startDate,
        });
    if (waited.waitingForCallback) result.waitingForCallback = waited.waitingForCallback;
    return result;
  };
  const who = taskReference(ctx);
  if (waited.kind === "cancelled") {
    if (task.stopExecutionOnCancel) {
      const stopped = await stopExecution(
        aws.sfn,
        arn,
        "ue-aws-stepfunctions.Cancelled",
        `cancelled with ${who}`,
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
      task.action === ACTIONS.monitor
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
  const limit = `${task.maximumWaitSeconds} s`;
  if (task.maximumWaitAction === MAXIMUM_WAIT_ACTIONS.stop) {
    const stopped = await stopExecution(
      aws.sfn,
      arn,
      "ue-aws-stepfunctions.MaximumWait",
      `maximum wait of ${limit} reached by ${who}`,
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
