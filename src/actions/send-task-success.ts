/** Send Task Success: release a `.waitForTaskToken` task with the task's JSON output. */
import type { Outcome } from "../output/extension-output.ts";
import { runCallback } from "./callback.ts";
import type { Action, ActionContext } from "./action.ts";

function parsed(output: string): { outputParsed?: unknown } {
  try {
    return { outputParsed: JSON.parse(output) as unknown };
  } catch {
    return {};
  }
}

function run(ctx: ActionContext): Promise<Outcome> {
  const output = ctx.config.task.taskOutput;
  return runCallback(ctx, {
    operation: "SendTaskSuccess",
    what: "success",
    details: { output, ...parsed(output) },
    send: (sfn, taskToken, options) => sfn.sendTaskSuccess({ taskToken, output }, options),
  });
}

export const sendTaskSuccess: Action = { run };
