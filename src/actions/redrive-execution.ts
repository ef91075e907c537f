/**
 * Redrive Execution: resume a FAILED, ABORTED or TIMED_OUT Standard execution from the
 * state that did not succeed, then wait when asked.
 *
 * Idempotent without a count from the scheduler: a target still going after a redrive
 * (RUNNING or PENDING_REDRIVE with a redrive count above 0) was redriven by an earlier launch
 * (the agent died): it is joined, not redriven again; one that SUCCEEDED after a redrive is
 * reported as it is. The client token is the task instance's and the ordinal of the redrive
 * about to be made (the redrive count read before it, plus one): launches that read the same
 * count, and the SDK's retries, send the same token, so AWS makes one redrive.
 */
import { classifyError } from "../aws/classify.ts";
import type { TaskContext } from "../config/environment.ts";
import { NotRedrivableError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import type { Outcome } from "../output/extension-output.ts";
import { STILL_GOING } from "../run-place.ts";
import {
  type CallTrack,
  endedOutcome,
  isoDate,
  redriveRefusal,
  redriveToken,
  TERMINAL,
  toResult,
  trackedCall,
} from "./execution.ts";
import type { Action, ActionContext } from "./action.ts";
import { superviseExecution } from "./supervise.ts";
import { cancelledOnTarget, describeTarget, failedOnTarget, targetOf } from "./target.ts";

const REDRIVE_STEP = { noun: "redrive", done: "redriven", left: "it is left as it was" };

/**
 * The client token (AWS: 1-64 printable ASCII) for the redrive that follows `redriveCount`
 * earlier ones, or none without a task instance id.
 */
export function redriveClientToken(context: TaskContext, redriveCount: number): string | undefined {
  if (!context.taskInstanceId) return undefined;
  return redriveToken(context.taskInstanceId, redriveCount);
}

const REDRIVABLE_END = new Set(["FAILED", "TIMED_OUT", "ABORTED"]);

async function run(ctx: ActionContext): Promise<Outcome> {
  const { config, aws, log, outputs, signal } = ctx;
  const launchedAt = new Date();
  const target = targetOf(ctx);
  let changed = false;
  /** RedriveExecution was sent (whether AWS took it is known once it answers). */
  let asked = false;
  /** How far RedriveExecution got: whether an attempt may have reached AWS. */
  const call: CallTrack = { sent: false, answered: false };
  let accepted = false;
  try {
    const before = await describeTarget(ctx, target);
    const earlier = before.redriveCount ?? 0;
    const beforeStatus = before.status ?? "RUNNING";
    if (earlier > 0 && (STILL_GOING.has(beforeStatus) || beforeStatus === "SUCCEEDED")) {
      return await redrivenEarlier(ctx, target, before, launchedAt);
    }
    const clientToken = redriveClientToken(config.context, earlier);
    let redriveDate: Date | undefined;
    try {
      asked = true;
      const reply = await aws.sfn.redriveExecution(
        { executionArn: target.arn, ...(clientToken ? { clientToken } : {}) },
        trackedCall(signal, call),
      );
      accepted = true;
      redriveDate = reply.redriveDate;
    } catch (error) {
      if ((error as { name?: string }).name === "ExecutionNotRedrivable") {
        const reason = redriveRefusal(before) ?? (error as Error).message;
        throw new NotRedrivableError(
          `execution ${target.parsed.name} cannot be redriven: ${reason}`,
          { cause: error },
        );
      }
      throw classifyError(error, { operation: "RedriveExecution" });
    }
    // AWS answers a repeated client token with the earlier redrive's date: nothing new then.
    const replayed =
      !REDRIVABLE_END.has(before.status ?? "RUNNING") ||
      (!!redriveDate && redriveDate.getTime() === before.redriveDate?.getTime());
    changed = !replayed;
    outputs.set({ execution_status: "RUNNING" });
    log.info(
      changed
        ? `redrove execution ${target.arn} (it had ended ${before.status}); it resumes from the state that did not succeed`
        : `execution ${target.arn} was already redriven by an earlier launch of this run`,
    );
    if (!config.task.wait && !changed) {
      // The earlier redrive may have run its course since: report where it stands now.
      const now = await describeTarget(ctx, target);
      if (TERMINAL.has(now.status ?? "RUNNING")) {
        return await endedOutcome(aws.sfn, now, false, log, signal);
      }
    }
    if (!config.task.wait) {
      return {
        exitCode: EXIT.success,
        description: changed
          ? `execution ${target.parsed.name} redriven`
          : `execution ${target.parsed.name} is running (redriven earlier by this run)`,
        changed,
        result: {
          ...toResult(before),
          status: "RUNNING",
          stopDate: null,
          error: null,
          cause: null,
          redriveCount: (before.redriveCount ?? 0) + (changed ? 1 : 0),
          // What DescribeExecution said before the redrive no longer holds; not read again.
          redriveStatus: null,
          redriveDate: isoDate(redriveDate),
        },
      };
    }
    return await superviseExecution(ctx, {
      executionArn: target.arn,
      known: {
        name: before.name ?? target.parsed.name,
        stateMachineArn: before.stateMachineArn ?? null,
        startDate: isoDate(before.startDate),
      },
      executionStart: redriveDate ?? launchedAt,
      changed,
      unreadable: before.unreadable,
      ...(changed ? { redriveCountBefore: earlier } : {}),
    });
  } catch (error) {
    if (signal?.aborted) {
      return cancelledOnTarget(ctx, target, REDRIVE_STEP, { asked, accepted: changed });
    }
    return failedOnTarget(ctx, target, error, changed, { step: REDRIVE_STEP, call, accepted });
  }
}

/**
 * The target was redriven before this launch and is still going or has succeeded: a relaunch
 * after the agent died (or a rerun after the redrive did its work). Join it or report it.
 */
async function redrivenEarlier(
  ctx: ActionContext,
  target: ReturnType<typeof targetOf>,
  before: Awaited<ReturnType<typeof describeTarget>>,
  launchedAt: Date,
): Promise<Outcome> {
  const { config, aws, log, outputs, signal } = ctx;
  const status = before.status ?? "RUNNING";
  const count = before.redriveCount ?? 0;
  log.info(
    `execution ${target.arn} was redriven earlier (${count} redrive${count === 1 ? "" : "s"}) and is ${status}: not redriving it again`,
  );
  outputs.set({ execution_status: status });
  if (status === "SUCCEEDED") return endedOutcome(aws.sfn, before, false, log, signal);
  if (!config.task.wait) {
    return {
      exitCode: EXIT.success,
      description: `execution ${target.parsed.name} is ${status} (redriven earlier; not redriven again)`,
      changed: false,
      result: toResult(before),
    };
  }
  return superviseExecution(ctx, {
    executionArn: target.arn,
    known: {
      name: before.name ?? target.parsed.name,
      stateMachineArn: before.stateMachineArn ?? null,
      startDate: isoDate(before.startDate),
    },
    executionStart: before.redriveDate ?? launchedAt,
    changed: false,
    unreadable: before.unreadable,
  });
}

export const redriveExecution: Action = { run };
