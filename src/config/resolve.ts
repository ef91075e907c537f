/**
 * Resolve the run's configuration from the validated fields and the environment's
 * settings: region, endpoint, credentials, proxy, CA bundle and timeouts, decided once,
 * with the field winning over the environment. Pure: no reads, no network.
 */
import { type AwsConfig, type CredentialSetting, roleSessionName } from "../aws/clients.ts";
import { validationErrorFrom } from "../errors.ts";
import { ACTIONS } from "../fields/catalog.ts";
import type { TaskConfig } from "../fields/validate.ts";
import type { EnvironmentSettings, TaskContext } from "./environment.ts";

/** What an action receives. */
export interface RunConfig {
  readonly task: TaskConfig;
  readonly context: TaskContext;
  readonly aws: AwsConfig;
  /** Span of unbroken status-call failures after which a wait gives up (exit 28). */
  readonly statusFailureLimitMs: number;
  /** Status checks shared with the user's other waiting tasks (UE_WAIT_SHARING, UE_WAIT_SHARING_DIR). */
  readonly waitSharing: EnvironmentSettings["waitSharing"];
}

/**
 * The field, else the environment's (already checked), else the region inside the ARN the
 * action acts on. An environment region that is not the ARN's gives way to it: Step
 * Functions is called in the region of the state machine or execution, and an agent-wide
 * AWS_REGION must not fail every task elsewhere (the field contradicting the ARN is a
 * validation error instead). A task token names no region: then the field or the
 * environment must.
 */
function regionOf(task: TaskConfig, env: EnvironmentSettings): { value: string; source: string } {
  if (task.region) return { value: task.region, source: "the AWS Region field" };
  const fromArn = task.stateMachine
    ? { value: task.stateMachine.region, source: "the state machine ARN" }
    : task.targetExecution
      ? { value: task.targetExecution.region, source: "the Target Execution ARN" }
      : undefined;
  if (env.region && fromArn && env.region.value !== fromArn.value) {
    return {
      value: fromArn.value,
      source: `${fromArn.source}; ${env.region.source} names ${env.region.value}, where it cannot be called`,
    };
  }
  if (env.region) return env.region;
  if (fromArn) return fromArn;
  throw validationErrorFrom([
    {
      field: "region",
      label: "AWS Region",
      message: `is required for ${task.action}: a task token does not name its region (or set AWS_REGION or a profile's region on the agent)`,
    },
  ]);
}

/** Longest an Express execution runs, plus room for the reply: StartSyncExecution holds the connection that long. */
export const SYNC_REQUEST_TIMEOUT_MS = 5 * 60_000 + 30_000;

function credentialsOf(task: TaskConfig, env: EnvironmentSettings): CredentialSetting {
  if (task.credentials) {
    return { kind: "static", ...task.credentials, source: "the AWS Credentials field" };
  }
  if (env.credentials) {
    return {
      kind: "static",
      ...env.credentials,
      source: "the environment (AWS_ACCESS_KEY_ID)",
    };
  }
  return { kind: "chain", source: "the standard credential chain" };
}

/** Combine the validated fields and the environment's settings. */
export function resolveConfig(task: TaskConfig, env: EnvironmentSettings): RunConfig {
  const region = regionOf(task, env);
  const endpointUrl = task.endpointUrl ?? env.endpointUrl?.value;
  const aws: AwsConfig = {
    region: region.value,
    regionSource: region.source,
    ...(endpointUrl ? { endpointUrl } : {}),
    useFipsEndpoint: env.useFipsEndpoint,
    useDualstackEndpoint: env.useDualstackEndpoint,
    maxAttempts: env.maxAttempts,
    retryMode: env.retryMode,
    credentials: credentialsOf(task, env),
    ...(task.role ? { role: task.role } : {}),
    sessionName: roleSessionName(env.context.taskName, env.context.taskInstanceId),
    http: {
      proxy: task.proxy,
      endpointCa: env.endpointCa,
      connectTimeoutMs: env.connectTimeoutMs,
      requestTimeoutMs:
        task.action === ACTIONS.startSync
          ? Math.max(env.requestTimeoutMs, SYNC_REQUEST_TIMEOUT_MS)
          : env.requestTimeoutMs,
    },
  };
  return {
    task,
    context: env.context,
    aws,
    statusFailureLimitMs: env.statusFailureLimitMs,
    waitSharing: env.waitSharing,
  };
}
