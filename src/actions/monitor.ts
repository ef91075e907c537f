/**
 * Monitor Execution: wait on an execution something else started, exactly as a started one
 * is waited on. It changes nothing in AWS unless the task's settings stop the execution
 * (on cancel, with Stop Monitored Execution on Cancel).
 */
import type { Outcome } from "../output/extension-output.ts";
import { isoDate, TERMINAL } from "./describe.ts";
import type { ActionContext } from "./session.ts";
import { endedOutcome, superviseExecution } from "./supervise.ts";
import { describeTarget, failedOnTarget, openTarget } from "./target.ts";

export async function runMonitorExecution(ctx: ActionContext): Promise<Outcome> {
  const { log } = ctx;
  const target = openTarget(ctx);
  const { sfn } = target.session;
  try {
    const first = await describeTarget(ctx, target);
    const status = first.status ?? "RUNNING";
    if (TERMINAL.has(status)) {
      log.info(`execution ${target.arn} has already ended ${status}`);
      return await endedOutcome(sfn, first, false, log);
    }
    log.info(`monitoring execution ${target.arn} (${status})`);
    // A redriven execution's current run started at its redrive.
    const since = first.redriveDate ?? first.startDate;
    return await superviseExecution(ctx, {
      sfn,
      executionArn: target.arn,
      known: {
        name: first.name ?? target.parsed.name,
        stateMachineArn: first.stateMachineArn ?? null,
        startDate: isoDate(first.startDate),
      },
      executionStart: since ?? new Date(),
      changed: false,
    });
  } catch (error) {
    throw failedOnTarget(ctx, target, error, false);
  } finally {
    target.session.close();
  }
}
