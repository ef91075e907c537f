/**
 * Monitor Execution: wait on an execution something else started, exactly as a started one
 * is waited on. It changes nothing in AWS unless the task's settings stop the execution
 * (on cancel, with Stop Monitored Execution on Cancel).
 */
import { EXIT } from "../exit-codes.ts";
import type { Outcome } from "../output/extension-output.ts";
import { endedOutcome, isoDate, TERMINAL } from "./execution.ts";
import type { Action, ActionContext } from "./action.ts";
import { superviseExecution } from "./supervise.ts";
import { describeTarget, failedOnTarget, targetOf, targetResult } from "./target.ts";

async function run(ctx: ActionContext): Promise<Outcome> {
  const { aws, log, signal } = ctx;
  const target = targetOf(ctx);
  try {
    const first = await describeTarget(ctx, target);
    const status = first.status ?? "RUNNING";
    if (TERMINAL.has(status)) {
      log.info(`execution ${target.arn} has already ended ${status}`);
      return await endedOutcome(aws.sfn, first, false, log, signal);
    }
    log.info(`monitoring execution ${target.arn} (${status})`);
    // A redriven execution's current run started at its redrive.
    const since = first.redriveDate ?? first.startDate;
    return await superviseExecution(ctx, {
      executionArn: target.arn,
      known: {
        name: first.name ?? target.parsed.name,
        stateMachineArn: first.stateMachineArn ?? null,
        startDate: isoDate(first.startDate),
      },
      executionStart: since ?? new Date(),
      changed: false,
      unreadable: first.unreadable,
    });
  } catch (error) {
    if (signal?.aborted && ctx.config.task.stopExecutionOnCancel) {
      // Cancelled before the first status check answered: the execution is stopped as when
      // cancelled later (Stop Monitored Execution on Cancel), then looked at once more.
      return await superviseExecution(ctx, {
        executionArn: target.arn,
        known: { name: target.parsed.name, stateMachineArn: null, startDate: null },
        executionStart: new Date(),
        changed: false,
      });
    }
    if (signal?.aborted) {
      return {
        exitCode: EXIT.cancelled,
        description: `task cancelled; execution ${target.parsed.name} left running`,
        changed: false,
        result: targetResult(ctx, target),
      };
    }
    return failedOnTarget(ctx, target, error, false);
  }
}

export const monitorExecution: Action = { run };
