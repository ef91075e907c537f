/**
 * The Action field chooses the action module. Each action receives the resolved
 * configuration and the run's AWS clients, and returns its outcome: errors carry none.
 */
import { createAwsSession } from "../aws/clients.ts";
import type { RunConfig } from "../config/resolve.ts";
import { EXIT } from "../exit-codes.ts";
import { ACTIONS, type ActionName } from "../fields/catalog.ts";
import type { Logger } from "../log.ts";
import type { Outcome } from "../output/extension-output.ts";
import type { OutputFields } from "../output/output-fields.ts";
import type { Action } from "./action.ts";
import { monitorExecution } from "./monitor.ts";
import { redriveExecution } from "./redrive-execution.ts";
import { sendTaskFailure } from "./send-task-failure.ts";
import { sendTaskHeartbeat } from "./send-task-heartbeat.ts";
import { sendTaskSuccess } from "./send-task-success.ts";
import { startAsynchronousExecution } from "./start-async.ts";
import { startSynchronousExpressExecution } from "./start-sync.ts";
import { stopExecutionAction } from "./stop.ts";

const REGISTRY: Readonly<Record<ActionName, Action>> = {
  [ACTIONS.startAsync]: startAsynchronousExecution,
  [ACTIONS.startSync]: startSynchronousExpressExecution,
  [ACTIONS.monitor]: monitorExecution,
  [ACTIONS.stop]: stopExecutionAction,
  [ACTIONS.redrive]: redriveExecution,
  [ACTIONS.sendTaskSuccess]: sendTaskSuccess,
  [ACTIONS.sendTaskFailure]: sendTaskFailure,
  [ACTIONS.sendTaskHeartbeat]: sendTaskHeartbeat,
};

/** The module of an action. */
export function actionFor(name: ActionName): Action {
  return REGISTRY[name];
}

export interface RunActionOptions {
  readonly config: RunConfig;
  readonly log: Logger;
  readonly outputs: OutputFields;
  readonly signal?: AbortSignal | undefined;
}

/** Build the clients, run the configured action, close the clients. */
export async function runAction(options: RunActionOptions): Promise<Outcome> {
  const { config, log } = options;
  const aws = config.aws;
  log.info(`region ${aws.region} (from ${aws.regionSource})`);
  const proxy = aws.http.proxy;
  if (proxy) {
    const { forHttp, forHttps } = proxy;
    const via =
      forHttp.url === forHttps.url
        ? forHttps.url
        : `${forHttps.url} (https) and ${forHttp.url} (http)`;
    log.info(`proxy ${via}, ${proxy.type}`);
  }
  if (options.signal?.aborted) {
    return {
      exitCode: EXIT.cancelled,
      description: "cancelled before an execution was started",
      changed: false,
      result: null,
    };
  }
  const session = createAwsSession(aws, log);
  log.info(`credentials from ${session.credentialSource}`);
  try {
    return await actionFor(config.task.action).run({
      config,
      aws: session,
      log,
      outputs: options.outputs,
      signal: options.signal,
    });
  } finally {
    session.destroy();
  }
}
