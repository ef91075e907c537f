/** The Action field's value chooses the module that carries the task out. */
import { ACTIONS } from "../fields/catalog.ts";
import type { Outcome } from "../output/extension-output.ts";
import { runMonitorExecution } from "./monitor.ts";
import { runRedriveExecution } from "./redrive-execution.ts";
import { runStartExecution } from "./run-start.ts";
import { runSendTaskFailure } from "./send-task-failure.ts";
import { runSendTaskHeartbeat } from "./send-task-heartbeat.ts";
import { runSendTaskSuccess } from "./send-task-success.ts";
import type { ActionContext } from "./session.ts";
import { runStartSyncExecution } from "./start-sync.ts";
import { runStopExecution } from "./stop.ts";

type Action = (typeof ACTIONS)[keyof typeof ACTIONS];

export const ACTION_MODULES: Record<Action, (ctx: ActionContext) => Promise<Outcome>> = {
  [ACTIONS.startAsync]: runStartExecution,
  [ACTIONS.startSync]: runStartSyncExecution,
  [ACTIONS.monitor]: runMonitorExecution,
  [ACTIONS.stop]: runStopExecution,
  [ACTIONS.redrive]: runRedriveExecution,
  [ACTIONS.sendTaskSuccess]: runSendTaskSuccess,
  [ACTIONS.sendTaskFailure]: runSendTaskFailure,
  [ACTIONS.sendTaskHeartbeat]: runSendTaskHeartbeat,
};

/** Carry out the configured action. */
export function runAction(ctx: ActionContext): Promise<Outcome> {
  return ACTION_MODULES[ctx.config.action](ctx);
}
