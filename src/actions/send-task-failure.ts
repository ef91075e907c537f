/** Send Task Failure: fail a `.waitForTaskToken` task with an error and a cause. */
import { classifyError, isKmsDataError } from "../aws/classify.ts";
import type { Outcome } from "../output/extension-output.ts";
import { type CallbackSent, runCallback } from "./callback.ts";
import type { Action, ActionContext } from "./action.ts";
import { taskReference } from "./supervise.ts";

export const DEFAULT_TASK_FAILURE_ERROR = "ue-aws-stepfunctions.TaskFailed";

function run(ctx: ActionContext): Promise<Outcome> {
  const { task } = ctx.config;
  const error = task.error ?? DEFAULT_TASK_FAILURE_ERROR;
  const cause = task.cause ?? `failed by ${taskReference(ctx)}`;
  // The task's Catch and Retry rules match the error: one the user chose is never dropped.
  const chosen = task.error !== undefined || task.cause !== undefined;
  return runCallback(ctx, {
    operation: "SendTaskFailure",
    what: `failure ${error}`,
    details: { error, cause },
    send: async (sfn, taskToken, options): Promise<CallbackSent | undefined> => {
      try {
        await sfn.sendTaskFailure({ taskToken, error, cause }, options);
        return undefined;
      } catch (e) {
        // AWS encrypts an error and a cause with the execution's KMS key; without them it
        // needs no KMS permission, so the product's own defaults give way.
        if (!isKmsDataError(e) || chosen) throw e;
        const why = classifyError(e, { operation: "SendTaskFailure" }).message;
        ctx.log.warn(`failing the task without an error and a cause: ${why}`);
        await sfn.sendTaskFailure({ taskToken }, options);
        return {
          what: `failure without an error and a cause (${why})`,
          details: { error: null, cause: null },
        };
      }
    },
  });
}

export const sendTaskFailure: Action = { run };
