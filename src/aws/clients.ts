/**
 * Build the Step Functions client from the configuration: region, credentials (field,
 * standard chain, or an assumed role refreshed before it expires), endpoint, one HTTP
 * handler. The credential chain and STS are loaded only when a task needs them.
 */
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { clean } from "../execution-name.ts";
import type { Logger } from "../log.ts";
import { registerSecret } from "../secrets.ts";
import { classifyError } from "./classify.ts";
import { checkCredentialText } from "./credential-text.ts";
import { LeanSfnClient } from "./sfn-client.ts";

export interface ClientOptions {
  readonly region: string;
  readonly endpointUrl?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly role?: { readonly arn: string; readonly externalId?: string };
  readonly sessionName: string;
  readonly handler: NodeHttpHandler;
  readonly log: Logger;
  readonly env: NodeJS.ProcessEnv;
}

export interface Clients {
  readonly sfn: LeanSfnClient;
  readonly credentialSource: string;
}

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

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

/**
 * Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), the
 * chain's first link, read here so the common case does not load the SDK. As in the SDK,
 * a profile named in AWS_PROFILE takes precedence over them.
 */
export function environmentCredentials(env: NodeJS.ProcessEnv): AwsCredentialIdentity | undefined {
  const accessKeyId = env["AWS_ACCESS_KEY_ID"];
  const secretAccessKey = env["AWS_SECRET_ACCESS_KEY"];
  if (env["AWS_PROFILE"] || !accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env["AWS_SESSION_TOKEN"];
  return remember(
    { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    "the environment (AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN)",
  );
}

/** The standard chain: environment, shared files, SSO, process, web identity, container, instance. */
function standardChain(handler: NodeHttpHandler): AwsCredentialIdentityProvider {
  let chain: AwsCredentialIdentityProvider | undefined;
  return async () => {
    if (!chain) {
      const { defaultProvider } = await import("./sdk-lazy.ts");
      // Roles named in shared profiles are assumed through the same handler (and proxy).
      chain = defaultProvider({ clientConfig: { requestHandler: handler } });
    }
    try {
      return remember(await chain(), "the standard credential chain");
    } catch (error) {
      throw classifyError(error, { operation: "loading credentials from the standard chain" });
    }
  };
}

/** Provider that assumes the role whenever the last credentials are near expiry. */
function assumeRoleProvider(
  options: ClientOptions,
  base: AwsCredentialIdentityProvider | AwsCredentialIdentity,
): AwsCredentialIdentityProvider {
  const role = options.role as { arn: string; externalId?: string };
  let sts: import("./sdk-lazy.ts").STSClient | undefined;
  return async () => {
    const { STSClient, AssumeRoleCommand } = await import("./sdk-lazy.ts");
    sts ??= new STSClient({
      region: options.region,
      credentials: base,
      requestHandler: options.handler,
      logger: QUIET,
      maxAttempts: 3,
    });
    try {
      const reply = await sts.send(
        new AssumeRoleCommand({
          RoleArn: role.arn,
          RoleSessionName: options.sessionName,
          ...(role.externalId ? { ExternalId: role.externalId } : {}),
        }),
      );
      const c = reply.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey)
        throw new Error("AssumeRole returned no credentials");
      options.log.info(
        `assumed role ${role.arn} as ${options.sessionName}; credentials valid until ${c.Expiration?.toISOString() ?? "unknown"}`,
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

/** The endpoint: the field, else the SDK's standard variables, else the regional one. */
export function endpointFor(field: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return field ?? env["AWS_ENDPOINT_URL_SFN"] ?? env["AWS_ENDPOINT_URL"];
}

export function createClients(options: ClientOptions): Clients {
  let credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  let credentialSource: string;
  if (options.credentials) {
    credentials = remember({ ...options.credentials }, "the AWS Credentials field");
    credentialSource = "the AWS Credentials field";
  } else {
    const fromEnv = environmentCredentials(options.env);
    credentials = fromEnv ?? standardChain(options.handler);
    credentialSource = fromEnv
      ? "the environment (AWS_ACCESS_KEY_ID)"
      : "the standard credential chain";
  }
  if (options.role) {
    credentials = assumeRoleProvider(options, credentials);
    credentialSource = `role ${options.role.arn} assumed with ${credentialSource}`;
  }
  const sfn = new LeanSfnClient({
    region: options.region,
    credentials,
    handler: options.handler,
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  });
  return { sfn, credentialSource };
}
