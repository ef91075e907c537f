/**
 * Redrive Execution: resume a FAILED, ABORTED or TIMED_OUT Standard execution from the
 * state that did not succeed, then wait when asked. The client token comes from the task
 * run, so a relaunch of the same run (agent restarted) gets AWS's answer to the first
 * redrive instead of a second one.
 */
import { classifyError } from "../aws/classify.ts";
import type { TaskContext } from "../config/environment.ts";
import { NotRedrivableError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { clean } from "../execution-name.ts";
import type { Outcome } from "../output/extension-output.ts";
import { endedOutcome, isoDate, redriveRefusal, TERMINAL, toResult } from "./execution.ts";
import type { Action, ActionContext } from "./registry.ts";
import { superviseExecution } from "./supervise.ts";
import { describeTarget, failedOnTarget, targetOf } from "./target.ts";

/** The run's client token (AWS: 1-64 printable ASCII), or none without a task instance id. */
export function redriveClientToken(context: TaskContext): string | undefined {
  if (!context.taskInstanceId) return undefined;
  const suffix = `-${context.executionCount}`;
  return `${clean(context.taskInstanceId).slice(0, 64 - suffix.length)}${suffix}`;
}

const REDRIVABLE_END = new Set(["FAILED", "TIMED_OUT", "ABORTED"]);

async function run(ctx: ActionContext): Promise<Outcome> {
  const { config, aws, log, outputs, signal } = ctx;
  const launchedAt = new Date();
  const target = targetOf(ctx);
  let changed = false;
  try {
    const before = await describeTarget(ctx, target);
    const clientToken = redriveClientToken(config.context);
    let redriveDate: Date | undefined;
    try {
      const reply = await aws.sfn.redriveExecution(
        { executionArn: target.arn, ...(clientToken ? { clientToken } : {}) },
        { abortSignal: signal },
      );
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
    });
  } catch (error) {
    return failedOnTarget(ctx, target, error, changed);
  }
}

export const redriveExecution: Action = { run };
