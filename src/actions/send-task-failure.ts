/** Send Task Failure: fail a `.waitForTaskToken` task with an error and a cause. */
import type { Outcome } from "../output/extension-output.ts";
import { runCallback } from "./callback.ts";
import { type ActionContext, taskReference } from "./session.ts";

export const DEFAULT_TASK_FAILURE_ERROR = "ue-aws-stepfunctions.TaskFailed";

export function runSendTaskFailure(ctx: ActionContext): Promise<Outcome> {
  const error = ctx.config.error ?? DEFAULT_TASK_FAILURE_ERROR;
  const cause = ctx.config.cause ?? `failed by ${taskReference(ctx.context)}`;
  return runCallback(ctx, {
    operation: "SendTaskFailure",
    what: `failure ${error}`,
    details: { error, cause },
    send: (sfn, taskToken, signal) =>
      sfn.sendTaskFailure({ taskToken, error, cause }, signal ? { abortSignal: signal } : {}),
  });
}
