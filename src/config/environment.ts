/**
 * The one place the program reads its settings from the environment (and the files the
 * environment names: the CA bundle, the shared AWS config file). Read once, before the
 * action; every value gets the checks its field would get, and a bad value is a problem
 * reported by the variable's name, never a silent default.
 */
import { isAbsolute } from "node:path";
import {
  getProfileName,
  NODE_REGION_CONFIG_OPTIONS,
  NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
  NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS,
  type Profile,
} from "@smithy/core/config";
import {
  CONFIG_MAX_ATTEMPTS,
  CONFIG_RETRY_MODE,
  ENV_MAX_ATTEMPTS,
  ENV_RETRY_MODE,
} from "@smithy/core/retry";
import { loadSharedFiles } from "../aws/clients.ts";
import type { FieldProblem } from "../errors.ts";
import { MAX_EXECUTION_COUNT } from "../execution-name.ts";
import { checkRegion, checkUrl } from "../fields/validate.ts";
import { type FileRead, readNamedFile } from "../proxy/config.ts";
import { registerSecret } from "../secrets.ts";

/** The variables and their limits; docs/command-line.md "Environment variables" lists the same. */
export const ENV = {
  connectTimeout: "UE_AWS_CONNECT_TIMEOUT_MS",
  requestTimeout: "UE_AWS_REQUEST_TIMEOUT_MS",
  statusFailureLimit: "UE_STATUS_FAILURE_LIMIT_SECONDS",
  executionCount: "UE_EXECUTION_COUNT",
  taskName: "UE_TASK_NAME",
  taskInstanceId: "UE_TASK_INSTANCE_ID",
  caBundle: "AWS_CA_BUNDLE",
  waitSharing: "UE_WAIT_SHARING",
  waitSharingDir: "UE_WAIT_SHARING_DIR",
} as const;

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_STATUS_FAILURE_LIMIT_SECONDS = 15 * 60;
export const DEFAULT_MAX_ATTEMPTS = 3;
const MAX_TIMEOUT_MS = 3_600_000;
const MAX_FAILURE_LIMIT_SECONDS = 7 * 24 * 3600;
const MAX_ATTEMPTS_LIMIT = 100;

/** A value and where it came from, for messages ("AWS_REGION", "the shared config file"). */
export interface Sourced<T> {
  readonly value: T;
  readonly source: string;
}

export interface TaskContext {
  readonly taskName?: string;
  readonly taskInstanceId?: string;
  /**
   * The run number a scheduler passes (UE_EXECUTION_COUNT); a controller agent passes none,
   * and the run then finds its place from AWS (SPEC 5.4).
   */
  readonly executionCount?: number;
}

/** Everything the environment says, checked. */
export interface EnvironmentSettings {
  readonly context: TaskContext;
  readonly region?: Sourced<string>;
  readonly endpointUrl?: Sourced<string>;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Extra CA certificates (PEM) for the AWS endpoint, from AWS_CA_BUNDLE. */
  readonly endpointCa?: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly statusFailureLimitMs: number;
  readonly maxAttempts: number;
  readonly retryMode: "standard" | "adaptive";
  readonly useFipsEndpoint: boolean;
  readonly useDualstackEndpoint: boolean;
  /** Status checks shared with the user's other waiting tasks (SPEC 5.11); folder when not the default. */
  readonly waitSharing: { readonly enabled: boolean; readonly folder?: string };
}

type Env = Readonly<Record<string, string | undefined>>;

/** The one policy for numbers: a whole number within limits, or a problem; unset = default. */
export function wholeNumber(
  name: string,
  raw: string | undefined,
  range: { readonly min: number; readonly max: number; readonly unit?: string },
  fallback: number,
  problems: FieldProblem[],
  source: string = name,
): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const text = raw.trim();
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    const unit = range.unit ? ` ${range.unit}` : "";
    problems.push({
      field: name,
      label: source,
      message: `must be a whole number${unit ? ` of${unit}` : ""} from ${range.min} to ${range.max} (got ${JSON.stringify(raw)})`,
    });
    return fallback;
  }
  return value;
}

function problem(problems: FieldProblem[], name: string, message: string): void {
  problems.push({ field: name, label: name, message });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value !== "" ? value : undefined;
}

/** The profile of the shared config file, as the SDK reads it (AWS_PROFILE, AWS_CONFIG_FILE). */
async function sharedProfile(env: Env, problems: FieldProblem[]): Promise<Profile> {
  try {
    const named = nonEmpty(env["AWS_PROFILE"]);
    const profile = getProfileName(named ? { profile: named } : {});
    const { files } = await loadSharedFiles(env);
    return files.configFile[profile] ?? {};
  } catch (error) {
    problem(
      problems,
      "AWS_CONFIG_FILE",
      `the shared config file cannot be read: ${(error as Error).message}`,
    );
    return {};
  }
}

/** A boolean setting through the SDK's own selectors: the variable, else the profile. */
function sdkBoolean(
  options: {
    environmentVariableSelector: (env: Env) => boolean | undefined;
    configFileSelector: (profile: Profile) => boolean | undefined;
  },
  variable: string,
  key: string,
  env: Env,
  profile: Profile,
  problems: FieldProblem[],
): boolean {
  try {
    const fromEnv = options.environmentVariableSelector(env);
    if (fromEnv !== undefined) return fromEnv;
  } catch {
    problem(problems, variable, `must be true or false (got ${JSON.stringify(env[variable])})`);
    return false;
  }
  try {
    return options.configFileSelector(profile) ?? false;
  } catch {
    problem(
      problems,
      variable,
      `the shared config file's ${key} must be true or false (got ${JSON.stringify(profile[key])})`,
    );
    return false;
  }
}

function readContext(env: Env, problems: FieldProblem[]): TaskContext {
  const rawCount = env[ENV.executionCount];
  const executionCount =
    rawCount === undefined || rawCount.trim() === ""
      ? undefined
      : wholeNumber(
          ENV.executionCount,
          rawCount,
          { min: 1, max: MAX_EXECUTION_COUNT },
          1,
          problems,
        );
  const taskName = nonEmpty(env[ENV.taskName]);
  const taskInstanceId = nonEmpty(env[ENV.taskInstanceId]);
  return {
    ...(taskName ? { taskName } : {}),
    ...(taskInstanceId ? { taskInstanceId } : {}),
    ...(executionCount !== undefined ? { executionCount } : {}),
  };
}

/** Region: AWS_REGION (the SDK's variable), AWS_DEFAULT_REGION, the profile; checked. */
function readRegion(env: Env, profile: Profile, problems: FieldProblem[]) {
  const candidates: [string | undefined, string][] = [
    [NODE_REGION_CONFIG_OPTIONS.environmentVariableSelector(env), "AWS_REGION"],
    [env["AWS_DEFAULT_REGION"], "AWS_DEFAULT_REGION"],
    [NODE_REGION_CONFIG_OPTIONS.configFileSelector(profile), "the shared config file's region"],
  ];
  for (const [value, source] of candidates) {
    if (value === undefined || value === "") continue;
    const message = checkRegion(value);
    if (message) {
      problems.push({ field: source, label: source, message });
      return undefined;
    }
    return { value, source };
  }
  return undefined;
}

function readEndpoint(env: Env, problems: FieldProblem[]) {
  for (const name of ["AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL"]) {
    const value = nonEmpty(env[name]?.trim());
    if (!value) continue;
    const message = checkUrl(value);
    if (message) {
      problem(problems, name, message);
      return undefined;
    }
    return { value, source: name };
  }
  return undefined;
}

/** AWS_CA_BUNDLE, as the AWS SDKs and CLI honour it: PEM CAs trusted for the endpoint. */
function readEndpointCa(env: Env, problems: FieldProblem[]): string | undefined {
  const file = nonEmpty(env[ENV.caBundle]);
  if (!file) return undefined;
  // Only a regular file: a named pipe or a device would hold a synchronous read (and the
  // task, deaf to a cancel) until something wrote to it, or for ever.
  const read = readNamedFile(file);
  if ("error" in read) {
    problem(
      problems,
      ENV.caBundle,
      read.error === "ENOTFILE"
        ? `${file} is not a file; expected a PEM file of CA certificates`
        : `cannot read ${file} (${read.error})`,
    );
    return undefined;
  }
  const text = read.text;
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    problem(
      problems,
      ENV.caBundle,
      `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
    return undefined;
  }
  return text;
}

/**
 * Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), the
 * chain's first link, read here so the common case does not load the chain. As in the
 * SDK, a profile named in AWS_PROFILE takes precedence over them.
 */
function readCredentials(env: Env): EnvironmentSettings["credentials"] {
  const accessKeyId = nonEmpty(env["AWS_ACCESS_KEY_ID"]);
  const secretAccessKey = nonEmpty(env["AWS_SECRET_ACCESS_KEY"]);
  const sessionToken = nonEmpty(env["AWS_SESSION_TOKEN"]);
  registerSecret(secretAccessKey);
  registerSecret(sessionToken);
  if (nonEmpty(env["AWS_PROFILE"]) || !accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

function readRetry(env: Env, profile: Profile, problems: FieldProblem[]) {
  const fromEnv = env[ENV_MAX_ATTEMPTS];
  const maxAttempts =
    fromEnv !== undefined && fromEnv.trim() !== ""
      ? wholeNumber(
          ENV_MAX_ATTEMPTS,
          fromEnv,
          { min: 1, max: MAX_ATTEMPTS_LIMIT },
          DEFAULT_MAX_ATTEMPTS,
          problems,
        )
      : wholeNumber(
          ENV_MAX_ATTEMPTS,
          profile[CONFIG_MAX_ATTEMPTS],
          { min: 1, max: MAX_ATTEMPTS_LIMIT },
          DEFAULT_MAX_ATTEMPTS,
          problems,
          `the shared config file's ${CONFIG_MAX_ATTEMPTS}`,
        );
  const rawMode = nonEmpty(env[ENV_RETRY_MODE]) ?? nonEmpty(profile[CONFIG_RETRY_MODE]);
  let retryMode: "standard" | "adaptive" = "standard";
  if (rawMode !== undefined) {
    const mode = rawMode.trim().toLowerCase();
    // "legacy" (other SDKs' default) behaves as "standard" in the JavaScript SDK.
    if (mode === "adaptive") retryMode = "adaptive";
    else if (mode !== "standard" && mode !== "legacy") {
      problem(
        problems,
        ENV_RETRY_MODE,
        `must be standard, adaptive or legacy (got ${JSON.stringify(rawMode)})`,
      );
    }
  }
  return { maxAttempts, retryMode };
}

/** UE_WAIT_SHARING (on, the default, or off) and UE_WAIT_SHARING_DIR (an absolute path). */
function readWaitSharing(env: Env, problems: FieldProblem[]): EnvironmentSettings["waitSharing"] {
  const raw = nonEmpty(env[ENV.waitSharing]?.trim());
  let enabled = true;
  if (raw !== undefined) {
    const value = raw.toLowerCase();
    if (value === "off") enabled = false;
    else if (value !== "on") {
      problem(problems, ENV.waitSharing, `must be on or off (got ${JSON.stringify(raw)})`);
    }
  }
  const folder = nonEmpty(env[ENV.waitSharingDir]?.trim());
  if (folder !== undefined && !isAbsolute(folder)) {
    problem(
      problems,
      ENV.waitSharingDir,
      `must be an absolute path (got ${JSON.stringify(folder)})`,
    );
    return { enabled };
  }
  return folder !== undefined ? { enabled, folder } : { enabled };
}

/** Read the files the fields name (never throws: a failure is kept for validation to report). */
export function readFiles(paths: readonly string[]): ReadonlyMap<string, FileRead> {
  return new Map(paths.map((path) => [path, readNamedFile(path)]));
}

/** Read and check every setting the environment gives. Never throws: problems are returned. */
export async function readEnvironment(
  env: Env,
): Promise<{ settings: EnvironmentSettings; problems: FieldProblem[] }> {
  const problems: FieldProblem[] = [];
  const context = readContext(env, problems);
  const profile = await sharedProfile(env, problems);
  const region = readRegion(env, profile, problems);
  const endpointUrl = readEndpoint(env, problems);
  const credentials = readCredentials(env);
  const endpointCa = readEndpointCa(env, problems);
  const timeout = { min: 1, max: MAX_TIMEOUT_MS, unit: "milliseconds" };
  const connectTimeoutMs = wholeNumber(
    ENV.connectTimeout,
    env[ENV.connectTimeout],
    timeout,
    DEFAULT_CONNECT_TIMEOUT_MS,
    problems,
  );
  const requestTimeoutMs = wholeNumber(
    ENV.requestTimeout,
    env[ENV.requestTimeout],
    timeout,
    DEFAULT_REQUEST_TIMEOUT_MS,
    problems,
  );
  const statusFailureLimitSeconds = wholeNumber(
    ENV.statusFailureLimit,
    env[ENV.statusFailureLimit],
    { min: 1, max: MAX_FAILURE_LIMIT_SECONDS, unit: "seconds" },
    DEFAULT_STATUS_FAILURE_LIMIT_SECONDS,
    problems,
  );
  const { maxAttempts, retryMode } = readRetry(env, profile, problems);
  const useFipsEndpoint = sdkBoolean(
    NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS,
    "AWS_USE_FIPS_ENDPOINT",
    "use_fips_endpoint",
    env,
    profile,
    problems,
  );
  const useDualstackEndpoint = sdkBoolean(
    NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
    "AWS_USE_DUALSTACK_ENDPOINT",
    "use_dualstack_endpoint",
    env,
    profile,
    problems,
  );
  return {
    settings: {
      context,
      ...(region ? { region } : {}),
      ...(endpointUrl ? { endpointUrl } : {}),
      ...(credentials ? { credentials } : {}),
      ...(endpointCa ? { endpointCa } : {}),
      connectTimeoutMs,
      requestTimeoutMs,
      statusFailureLimitMs: statusFailureLimitSeconds * 1000,
      maxAttempts,
      retryMode,
      useFipsEndpoint,
      useDualstackEndpoint,
      waitSharing: readWaitSharing(env, problems),
    },
    problems,
  };
}
