/**
 * What every action needs before its first AWS call: the region, the shared HTTP handler
 * (proxy, timeouts, CA bundle) and the Step Functions client with its credentials.
 */
import type { LeanSfnClient } from "../aws/sfn-client.ts";
import { createClients, endpointFor, roleSessionName } from "../aws/clients.ts";
import { createHttpHandler } from "../aws/http-handler.ts";
import { resolveRegion } from "../aws/region.ts";
import { DataValidationError } from "../errors.ts";
import type { TaskConfig } from "../fields/validate.ts";
import type { Logger } from "../log.ts";
import type { OutputFields } from "../output/output-fields.ts";

/** What an action receives from the entry point. */
export interface ActionContext {
  readonly config: TaskConfig;
  readonly context: { taskName?: string; taskInstanceId?: string; executionCount: number };
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly outputs: OutputFields;
  readonly signal?: AbortSignal;
}

export interface Session {
  readonly sfn: LeanSfnClient;
  /** Release the sockets; call once the action is done. */
  close(): void;
}

/**
 * Open the session. `arn` gives the region inside the ARN the action acts on (none for a
 * task token); `requestTimeoutMs` raises the per-request limit for calls that hold the
 * connection open while AWS works (StartSyncExecution).
 */
export function openSession(
  ctx: ActionContext,
  arn: { region: string; label: string } | undefined,
  options: { requestTimeoutMs?: number } = {},
): Session {
  const { config, context, env, log } = ctx;
  const region = resolveRegion(config.region, env, arn?.region ?? "", arn?.label);
  if (!region.region) {
    throw new DataValidationError(
      "AWS Region: no region is set in the field, AWS_REGION, AWS_DEFAULT_REGION or the shared config",
    );
  }
  log.info(`region ${region.region} (from ${region.source})`);
  const handler = createHttpHandler({
    ...(config.proxy ? { proxy: config.proxy } : {}),
    ...(config.endpointCa ? { endpointCa: config.endpointCa } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    env,
  });
  if (config.proxy) {
    const { forHttp, forHttps } = config.proxy;
    const via =
      forHttp.url === forHttps.url
        ? forHttps.url
        : `${forHttps.url} (https) and ${forHttp.url} (http)`;
    log.info(`proxy ${via}, ${config.proxy.type}`);
  }
  const endpointUrl = endpointFor(config.endpointUrl, env);
  const { sfn, credentialSource } = createClients({
    region: region.region,
    ...(endpointUrl ? { endpointUrl } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.role ? { role: config.role } : {}),
    sessionName: roleSessionName(context.taskName, context.taskInstanceId),
    handler,
    log,
    env,
  });
  log.info(`credentials from ${credentialSource}`);
  return { sfn, close: () => handler.destroy() };
}

/** Who is acting, for the error and cause given to AWS: the task and its instance. */
export function taskReference(context: ActionContext["context"]): string {
  return `${context.taskName ?? "the scheduler task"} (instance ${context.taskInstanceId ?? "n/a"})`;
}
