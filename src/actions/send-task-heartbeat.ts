/**
 * Send Task Heartbeat: tell a `.waitForTaskToken` task (with HeartbeatSeconds) that the work
 * goes on. It resets the task's heartbeat deadline in AWS, so the task reports changed.
 */
import type { Outcome } from "../output/extension-output.ts";
import { runCallback } from "./callback.ts";
import type { Action, ActionContext } from "./action.ts";

function run(ctx: ActionContext): Promise<Outcome> {
  return runCallback(ctx, {
    operation: "SendTaskHeartbeat",
    what: "a heartbeat",
    details: {},
    send: (sfn, taskToken, options) => sfn.sendTaskHeartbeat({ taskToken }, options),
  });
}

export const sendTaskHeartbeat: Action = { run };
