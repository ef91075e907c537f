/**
 * Supervise an execution to an outcome, the same way whichever action got it running
 * (started, redriven, or only monitored): wait, then the ended, cancelled or maximum-wait
 * outcome, stopping the execution where the task's settings say so.
 */
import { tmpdir } from "node:os";
import { EXIT } from "../exit-codes.ts";
import { ACTIONS, MAXIMUM_WAIT_ACTIONS } from "../fields/catalog.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import { prepareToWait, quietCollection } from "../settle-memory.ts";
import { classifyError } from "../aws/classify.ts";
import {
  endedOutcome,
  LAST_LOOK_TIMEOUT_MS,
  stopExecution,
  TERMINAL,
  toResult,
  unreadNote,
  waitForExecution,
} from "./execution.ts";
import { type Described, describeReadable, showsBeforeRedrive } from "./status-check.ts";
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
  const folder = config.waitSharing.folder ?? defaultSharingFolder();
  if (folder === null) {
    log.warn(
      `status checks are not shared with other tasks: the temporary folder ${JSON.stringify(tmpdir())} (TMPDIR) is not an absolute path; name a folder in UE_WAIT_SHARING_DIR, or set UE_WAIT_SHARING=off to share nothing`,
    );
    return undefined;
  }
  const a = config.aws;
  return sharedStatus({
    folder,
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
    refreshCredentials: (signal) => aws.refreshCredentials(signal),
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
  // A cancel now cuts the failure details' history read short, not the end it reports.
  if (waited.kind === "ended") {
    return endedOutcome(aws.sfn, waited.execution, req.changed, log, signal);
  }

  const running = (): ExecutionResult => {
    const result = waited.last
      ? toResult(waited.last)
      : pendingResult(arn, {
          name: req.known.name,
          stateMachineArn: req.known.stateMachineArn,
          stateMachineVersionArn: req.known.stateMachineVersionArn ?? null,
          stateMachineAliasArn: req.known.stateMachineAliasArn ?? null,
          startDate: req.known.startDate,
          // No status check answered: what the start, the redrive or the first look said.
          status: outputs.current.execution_status ?? "RUNNING",
        });
    if (waited.waitingForCallback) result.waitingForCallback = waited.waitingForCallback;
    return result;
  };
  const who = taskReference(ctx);
  const cancelled = waited.kind === "cancelled";
  const limit = `${task.maximumWaitSeconds} s`;
  const when = cancelled ? "the task was cancelled" : `the maximum wait of ${limit} was reached`;
  const stopError = cancelled
    ? "ue-aws-stepfunctions.Cancelled"
    : "ue-aws-stepfunctions.MaximumWait";
  const stopIt = cancelled
    ? task.stopExecutionOnCancel
    : task.maximumWaitAction === MAXIMUM_WAIT_ACTIONS.stop;
  const stopped =
    stopIt &&
    (await stopExecution(
      aws.sfn,
      arn,
      stopError,
      cancelled ? `cancelled with ${who}` : `maximum wait of ${limit} reached by ${who}`,
      log,
    ));

  // The execution may have ended since the last status check, or before the stop: one more
  // look decides what is reported (bounded, as the stop is; the history read of an end too).
  const bound = AbortSignal.timeout(LAST_LOOK_TIMEOUT_MS);
  const look = await lastLook(ctx, req, (waited.last as Described | null)?.unreadable, bound);
  const now = look.described;
  if (now?.status) outputs.set({ execution_status: now.status });
  const status = now?.status ?? "RUNNING";
  // An ABORTED with this task's error, or without one after AWS accepted the stop (or with
  // the data unreadable), is this task's stop; any other end is the execution's own.
  const stoppedHere =
    status === "ABORTED" &&
    stopIt &&
    (now?.error === stopError || ((stopped || !!now?.unreadable) && !now?.error));
  if (now && TERMINAL.has(status) && !stoppedHere) {
    log.info(`${when}, but execution ${arn} had already ended ${status}: reporting its end`);
    const ended = await endedOutcome(aws.sfn, now, req.changed, log, bound);
    return { ...ended, description: `${ended.description} (it had ended when ${when})` };
  }
  const unknown = look.why ? `; its status could not be read at the end (${look.why})` : "";
  // The execution's KMS key kept its data from these credentials: the description says so.
  const unread = unreadNote(
    now?.unreadable ?? (waited.last as Described | null)?.unreadable ?? req.unreadable,
  );
  const current = (): ExecutionResult => {
    if (!now) return running();
    const result = toResult(now);
    if (waited.waitingForCallback && !stoppedHere) {
      result.waitingForCallback = waited.waitingForCallback;
    }
    return result;
  };
  if (stopped || stoppedHere) {
    // AWS accepted the stop; a describe that does not show it yet (or none) is behind it.
    if (!stoppedHere) outputs.set({ execution_status: "ABORTED" });
    const result = stoppedHere ? current() : { ...current(), status: "ABORTED" };
    return {
      exitCode: cancelled ? EXIT.cancelled : EXIT.maximumWaitReached,
      description: cancelled
        ? `task cancelled; execution ${name} stopped${unknown}${unread}`
        : `maximum wait of ${limit} reached; execution ${name} stopped${unknown}${unread}`,
      changed: true,
      result,
    };
  }
  if (stopIt) {
    return {
      exitCode: cancelled ? EXIT.cancelled : EXIT.maximumWaitReached,
      description: cancelled
        ? `task cancelled; stopping execution ${name} failed, it may still be running${unknown}${unread}`
        : `maximum wait of ${limit} reached; execution ${name} could not be stopped${unknown}${unread}`,
      changed: req.changed,
      result: current(),
    };
  }
  if (cancelled) {
    const setting =
      task.action === ACTIONS.monitor
        ? "Stop Monitored Execution on Cancel"
        : "Stop Execution on Cancel";
    log.warn(`task cancelled; execution ${arn} left running (${setting} is off)`);
    return {
      exitCode: EXIT.cancelled,
      description: `task cancelled; execution ${name} left running${unknown}${unread}`,
      changed: req.changed,
      result: current(),
    };
  }
  log.warn(`maximum wait of ${limit} reached; execution ${arn} left running`);
  return {
    exitCode: EXIT.maximumWaitReached,
    description: `maximum wait of ${limit} reached; execution ${name} left running${unknown}${unread}`,
    changed: req.changed,
    result: current(),
  };
}

/**
 * One more DescribeExecution as the task stops watching, bounded by `signal`; no answer (or
 * one that still shows the execution from before this task's redrive) is `why` instead.
 */
async function lastLook(
  ctx: ActionContext,
  req: SuperviseRequest,
  unreadable: string | undefined,
  signal: AbortSignal,
): Promise<{ described?: Described; why?: string }> {
  const { aws, log } = ctx;
  try {
    const described = await describeReadable(aws.sfn, req.executionArn, log, {
      signal,
      metadataOnly: unreadable ?? req.unreadable,
    });
    if (showsBeforeRedrive(described, req.redriveCountBefore)) {
      return { why: "DescribeExecution does not show the redrive yet" };
    }
    return { described };
  } catch (error) {
    const why = signal.aborted
      ? `DescribeExecution gave no answer within ${LAST_LOOK_TIMEOUT_MS / 1000} s`
      : classifyError(error, { operation: "DescribeExecution" }).message;
    log.warn(`cannot read the execution's status at the end: ${why}; reporting what is known`);
    return { why };
  }
}
