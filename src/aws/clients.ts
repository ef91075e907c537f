/**
 * The AWS clients of one run, built from the resolved configuration: SFNClient (and STS for
 * role assumption) on the one shared HTTP handler. Endpoints (FIPS, dual-stack, partitions,
 * the sync- host), signing with clock-skew correction, retries and error parsing are the
 * SDK's. The credential chain and STS are loaded only when a task needs them.
 */
import { SFNClient, type ServiceInputTypes, type ServiceOutputTypes } from "@aws-sdk/client-sfn";
import { doesIdentityRequireRefresh, memoizeIdentityProvider } from "@smithy/core";
import { loadSharedConfigFiles } from "@smithy/core/config";
import { buffer } from "node:stream/consumers";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  FinalizeRequestMiddleware,
} from "@smithy/types";
import { AuthenticationError } from "../errors.ts";
import { clean } from "../execution-name.ts";
import { formatDuration } from "../polling.ts";
import type { Logger } from "../log.ts";
import { registerSecret } from "../secrets.ts";
import { classifyError } from "./classify.ts";
import { checkCredentialText } from "./credential-text.ts";
import { createHttpHandler, type HttpHandlerOptions } from "./http-handler.ts";
import { directGlobalAgent } from "./metadata-agent.ts";
import { metadataFailure, watchMetadataRequests } from "./metadata-failure.ts";
import { type StepFunctions, stepFunctionsOn, untilCancelled } from "./step-functions.ts";

/** Where the credentials come from, as resolved from the field and the environment. */
export type CredentialSetting =
  | {
      readonly kind: "static";
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken?: string;
      /** For the log: "the AWS Credentials field", "the environment (AWS_ACCESS_KEY_ID)". */
      readonly source: string;
    }
  | { readonly kind: "chain"; readonly source: string };

/** Everything the AWS boundary needs, resolved once before the action runs. */
export interface AwsConfig {
  readonly region: string;
  /** For the log and messages: "the AWS Region field", "AWS_REGION" ... */
  readonly regionSource: string;
  readonly endpointUrl?: string;
  readonly useFipsEndpoint: boolean;
  readonly useDualstackEndpoint: boolean;
  /** Attempts per call for the SDK's retry strategy (AWS_MAX_ATTEMPTS / max_attempts). */
  readonly maxAttempts: number;
  readonly retryMode: "standard" | "adaptive";
  readonly credentials: CredentialSetting;
  readonly role?: { readonly arn: string; readonly externalId?: string };
  readonly sessionName: string;
  readonly http: HttpHandlerOptions;
}

/** The clients of one run. */
export interface AwsSession {
  /** Step Functions with the SDK's retries. */
  readonly sfn: StepFunctions;
  /** Step Functions with one attempt per call, for loops that have their own backoff. */
  readonly sfnOnce: StepFunctions;
  /**
   * Fetch fresh credentials before the next call (after AWS called them expired). False when
   * the source gave the same ones again (fixed keys with a session token): they stay expired.
   * Ends at once, rejecting, when `signal` fires (the fetch may hang with STS).
   */
  refreshCredentials(signal?: AbortSignal): Promise<boolean>;
  readonly credentialSource: string;
  /**
   * Who calls AWS (the base access key id, and the role with its external id), so that only
   * tasks calling as the same identity share what they learn. Hash it; never write or log it.
   */
  credentialIdentity(): Promise<string>;
  /** Close the handler's sockets. */
  destroy(): void;
}

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** An SDK warning in one line, without its package prefix. */
function sdkWarning(parts: readonly unknown[]): string {
  return parts
    .map(String)
    .join(" ")
    .replace(/^@aws-sdk\/[\w-]+ - [\w:]+ (WARNING:)?/, "")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * KMS throttling the state machine's key (KmsThrottlingException, which Step Functions
 * passes on) is throttling: marked so, the SDK's retry strategy tries the call again with
 * its throttling backoff, as for ThrottlingException (its own list of throttling errors
 * does not name it). Inside the retry middleware, outside the deserializer.
 */
const kmsThrottlingIsThrottling: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
  (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      if ((error as { name?: string } | null)?.name === "KmsThrottlingException") {
        (error as { $retryable?: { throttling: boolean } }).$retryable = { throttling: true };
      }
      throw error;
    }
  };
const KMS_THROTTLING = {
  step: "finalizeRequest",
  priority: "low",
  name: "kmsThrottlingIsThrottling",
} as const;

/**
 * The offset between this host's clock and AWS's that one client's signing learned from
 * AWS's answers, for the others too: the waiting loop's one-attempt client would otherwise
 * meet, on its first status check, the skew the start's client had already corrected (one
 * rejected signature, and a check lost until the next interval).
 */
function shareClockOffset(clients: readonly SFNClient[]): void {
  let learned: number | undefined;
  for (const c of clients) {
    c.middlewareStack.add(
      (next) => async (args) => {
        if (learned !== undefined) c.config.systemClockOffset = learned;
        try {
          return await next(args);
        } finally {
          learned = c.config.systemClockOffset;
        }
      },
      { step: "initialize", name: "shareClockOffset" },
    );
  }
}

/** Temporary credentials are fetched again this long before they expire (the SDK's margin). */
const REFRESH_BEFORE_EXPIRY_MS = 300_000;

/** A role session name that ties the session to the task (IAM allows 2-64 of [\w+=,.@-]). */
export function roleSessionName(
  taskName: string | undefined,
  taskInstanceId: string | undefined,
): string {
  const parts = ["ue-aws-sfn", clean(taskName ?? ""), clean(taskInstanceId ?? "")].filter((p) => p);
  const name = parts.join("-");
  return name.length <= 64 ? name : `${name.slice(0, 31)}-${name.slice(-32)}`;
}

function remember(credentials: AwsCredentialIdentity, source: string): AwsCredentialIdentity {
  registerSecret(credentials.secretAccessKey);
  registerSecret(credentials.sessionToken);
  checkCredentialText(credentials, source);
  return credentials;
}

/** When a wait for credentials is first reported, and how often after that. */
export const SLOW_CREDENTIALS_MS = [15_000, 300_000] as const;

/**
 * `work`, with `notice` called with the time waited at `firstMs` and every `everyMs` after
 * it, until `work` settles: a source of credentials with no time limit of its own (the AWS
 * SDK gives a credential_process none) then shows in the log as what the task waits for.
 */
export async function noticeWhileWaiting<T>(
  work: Promise<T>,
  notice: (waitedMs: number) => void,
  [firstMs, everyMs]: readonly [number, number] = SLOW_CREDENTIALS_MS,
): Promise<T> {
  const began = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const tell = (): void => {
    notice(Date.now() - began);
    timer = setTimeout(tell, everyMs);
  };
  timer = setTimeout(tell, firstMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

/** The standard chain: shared files, SSO, process, web identity, container, instance. */
function standardChain(handler: NodeHttpHandler, log: Logger): AwsCredentialIdentityProvider {
  let chain: AwsCredentialIdentityProvider | undefined;
  // Why each provider of the chain passed on, as the SDK logs it at debug level: the chain's
  // own error names none of them ("Could not load credentials from any providers").
  let passedOn: string[] = [];
  return async (options) => {
    if (!chain) {
      // The instance and container metadata requests go direct, never through a proxy.
      directGlobalAgent();
      const { defaultProvider } = await import("./sdk-lazy.ts");
      chain = defaultProvider({
        // Roles named in shared profiles are assumed through the same handler (and proxy).
        clientConfig: { requestHandler: handler },
        // The chain's warnings (AWS_PROFILE beside AWS_ACCESS_KEY_ID, ...) as WARN lines of
        // the task's log, in one line each; without a logger the SDK prints them raw.
        logger: {
          ...QUIET,
          warn: (...parts: unknown[]) => log.warn(sdkWarning(parts)),
          debug: (first: unknown) => {
            const m = /^@smithy\/property-provider -> ([\s\S]*)$/.exec(String(first));
            if (m?.[1]) passedOn.push(m[1]);
          },
        },
      });
    }
    passedOn = [];
    // What the instance and container metadata services answered: their providers pass on
    // no reason at all.
    const metadata = watchMetadataRequests();
    try {
      // The caller's options carry its client config: a profile's role_arn is then assumed
      // in the task's region, not the SDK's fallback us-east-1.
      const identity = await noticeWhileWaiting(chain(options), (ms) =>
        log.warn(
          `no credentials from the standard credential chain after ${formatDuration(ms)}; still waiting (a profile's credential_process that waits for input never answers: it is given none); a cancel ends the task`,
        ),
      );
      return remember(identity, "the standard credential chain");
    } catch (error) {
      const classified = classifyError(error, {
        operation: "loading credentials from the standard chain",
      });
      const why =
        classified instanceof AuthenticationError &&
        (credentialProcessFailure(passedOn) ??
          (await missingProfile()) ??
          metadataFailure(metadata.exchanges));
      if (!why) throw classified;
      throw new AuthenticationError(`${classified.message}; ${why}`, { cause: error });
    } finally {
      metadata.stop();
    }
  };
}

/**
 * Why a profile's credential_process gave no credentials, from the reasons the chain's
 * providers passed on, or null. Its command line is left out (the config file's, it may
 * carry what is not for a log); its last lines on stderr say why.
 */
export function credentialProcessFailure(passedOn: readonly string[]): string | null {
  for (const reason of passedOn) {
    if (/^Profile .* credential_process /.test(reason)) return reason;
    const failed = /^Command failed: [^\n]*\n?([\s\S]*)$/.exec(reason);
    if (!failed) continue;
    const said = (failed[1] ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line)
      .slice(-3)
      .join(" / ");
    const tail = said.length > 300 ? `...${said.slice(-300)}` : said;
    return `the profile's credential_process ended with an error${tail ? `: ${tail}` : " and wrote nothing on stderr"}`;
  }
  return null;
}

/**
 * The shared config and credentials files as the SDK reads them (its own loader, which
 * keeps what it read), at AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE when set.
 */
export async function loadSharedFiles(env: Readonly<Record<string, string | undefined>>) {
  const configFilepath = env["AWS_CONFIG_FILE"] || undefined;
  const filepath = env["AWS_SHARED_CREDENTIALS_FILE"] || undefined;
  const files = await loadSharedConfigFiles({
    ...(configFilepath ? { configFilepath } : {}),
    ...(filepath ? { filepath } : {}),
  });
  return { files, configFilepath, filepath };
}

/**
 * Why the chain found nothing when AWS_PROFILE names a profile that neither shared file
 * holds (the SDK then says only that no provider could load credentials), else null.
 */
async function missingProfile(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const profile = env["AWS_PROFILE"];
  if (!profile) return null;
  try {
    const { files, configFilepath, filepath } = await loadSharedFiles(env);
    if (files.configFile[profile] || files.credentialsFile[profile]) return null;
    const where = `${filepath ?? "~/.aws/credentials"} nor ${configFilepath ?? "~/.aws/config"}`;
    return `AWS_PROFILE names the profile ${JSON.stringify(profile)}, which neither ${where} holds`;
  } catch {
    return null;
  }
}

/** Provider that assumes the role; the SDK calls it again before the credentials expire. */
function assumeRoleProvider(
  aws: AwsConfig,
  role: { readonly arn: string; readonly externalId?: string },
  base: AwsCredentialIdentityProvider | AwsCredentialIdentity,
  handler: NodeHttpHandler,
  log: Logger,
): AwsCredentialIdentityProvider {
  let sts: import("./sdk-lazy.ts").STSClient | undefined;
  return async () => {
    const { STSClient, AssumeRoleCommand } = await import("./sdk-lazy.ts");
    sts ??= new STSClient({
      region: aws.region,
      credentials: base,
      requestHandler: handler,
      logger: QUIET,
      maxAttempts: aws.maxAttempts,
      retryMode: aws.retryMode,
      useFipsEndpoint: aws.useFipsEndpoint,
      useDualstackEndpoint: aws.useDualstackEndpoint,
    });
    try {
      const reply = await sts.send(
        new AssumeRoleCommand({
          RoleArn: role.arn,
          RoleSessionName: aws.sessionName,
          ...(role.externalId ? { ExternalId: role.externalId } : {}),
        }),
      );
      const c = reply.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new Error("AssumeRole returned no credentials");
      log.info(
        `assumed role ${role.arn} as ${aws.sessionName}; credentials valid until ${c.Expiration?.toISOString() ?? "unknown"}`,
      );
      return remember(
        {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
          ...(c.Expiration ? { expiration: c.Expiration } : {}),
        },
        `AssumeRole ${role.arn}`,
      );
    } catch (error) {
      throw classifyError(error, { operation: `AssumeRole ${role.arn}` });
    }
  };
}

/** Build the handler and the clients of one run. */
export function createAwsSession(aws: AwsConfig, log: Logger): AwsSession {
  const handler = createHttpHandler(aws.http);
  let credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  let credentialSource = aws.credentials.source;
  if (aws.credentials.kind === "static") {
    const { accessKeyId, secretAccessKey, sessionToken } = aws.credentials;
    credentials = remember(
      { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
      aws.credentials.source,
    );
  } else {
    credentials = standardChain(handler, log);
  }
  const base = credentials;
  if (aws.role) {
    credentials = assumeRoleProvider(aws, aws.role, credentials, handler, log);
    credentialSource = `role ${aws.role.arn} assumed with ${credentialSource}`;
  }
  // One cache for both clients, so a role is assumed once and refreshed once. Expiry is
  // judged by AWS's clock as the clients' signing learned it (their clock offsets), not by
  // this host's alone: a host clock minutes behind would otherwise keep credentials AWS
  // already calls expired.
  const clients: SFNClient[] = [];
  const awsNow = () =>
    Date.now() + Math.max(0, ...clients.map((c) => c.config.systemClockOffset ?? 0));
  const shared = memoizeIdentityProvider(
    credentials,
    (identity) =>
      doesIdentityRequireRefresh(identity) &&
      (identity.expiration?.getTime() ?? Infinity) - awsNow() < REFRESH_BEFORE_EXPIRY_MS,
    doesIdentityRequireRefresh,
  ) as AwsCredentialIdentityProvider & { memoized?: boolean };
  // Marked as the SDK marks a provider it has cached already, so the clients use this cache
  // as it is rather than each keeping a copy of its own (a copy that neither a refresh after
  // an expired-token answer nor the clock offset above would reach).
  shared.memoized = true;
  const common = {
    region: aws.region,
    credentials: shared,
    requestHandler: handler,
    logger: QUIET,
    useFipsEndpoint: aws.useFipsEndpoint,
    useDualstackEndpoint: aws.useDualstackEndpoint,
    retryMode: aws.retryMode,
    // Response bodies are Node streams from the one NodeHttpHandler. The SDK's own collector
    // first asks whether each body is a Blob or a web ReadableStream, and that question loads
    // Node's web streams (its first use of the ReadableStream global): a few milliseconds and
    // about 1 MiB on every start, for bodies this handler never produces.
    streamCollector: buffer,
    // A named endpoint is used as named: no sync- host prefix for StartSyncExecution.
    ...(aws.endpointUrl ? { endpoint: aws.endpointUrl, disableHostPrefix: true } : {}),
  };
  const client = new SFNClient({ ...common, maxAttempts: aws.maxAttempts });
  const once = new SFNClient({ ...common, maxAttempts: 1 });
  for (const c of [client, once]) c.middlewareStack.add(kmsThrottlingIsThrottling, KMS_THROTTLING);
  clients.push(client, once);
  shareClockOffset(clients);
  return {
    sfn: stepFunctionsOn(client),
    sfnOnce: stepFunctionsOn(once),
    async refreshCredentials(signal) {
      const before = await untilCancelled(once.config.credentials(), signal);
      const after = await untilCancelled(once.config.credentials({ forceRefresh: true }), signal);
      return (
        after.accessKeyId !== before.accessKeyId ||
        after.secretAccessKey !== before.secretAccessKey ||
        after.sessionToken !== before.sessionToken
      );
    },
    credentialSource,
    async credentialIdentity() {
      const baseKey = typeof base === "function" ? (await base()).accessKeyId : base.accessKeyId;
      const role = aws.role ? `role\0${aws.role.arn}\0${aws.role.externalId ?? ""}` : "no role";
      return `${baseKey}\0${role}`;
    },
    destroy() {
      client.destroy();
      once.destroy();
      handler.destroy();
    },
  };
}
