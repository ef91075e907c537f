/** Send Task Failure: fail a `.waitForTaskToken` task with an error and a cause. */
import type { Outcome } from "../output/extension-output.ts";
import { runCallback } from "./callback.ts";
import type { Action, ActionContext } from "./action.ts";
import { taskReference } from "./supervise.ts";

export const DEFAULT_TASK_FAILURE_ERROR = "ue-aws-stepfunctions.TaskFailed";

function run(ctx: ActionContext): Promise<Outcome> {
  const error = ctx.config.task.error ?? DEFAULT_TASK_FAILURE_ERROR;
  const cause = ctx.config.task.cause ?? `failed by ${taskReference(ctx)}`;
  return runCallback(ctx, {
    operation: "SendTaskFailure",
    what: `failure ${error}`,
    details: { error, cause },
    send: (sfn, taskToken, signal) =>
      sfn.sendTaskFailure({ taskToken, error, cause }, { abortSignal: signal }),
  });
}

export const sendTaskFailure: Action = { run };
