/**
 * Build the AWS clients from the configuration: region, credentials (field, standard
 * chain, or an assumed role refreshed before it expires), endpoint, one HTTP handler.
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import { clean } from "../execution-name.ts";
import type { Logger } from "../log.ts";
import { registerSecret } from "../secrets.ts";
import { classifyError } from "./classify.ts";

export interface ClientOptions {
  readonly region: string;
  readonly endpointUrl?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly role?: { readonly arn: string; readonly externalId?: string };
  readonly sessionName: string;
  readonly handler: NodeHttpHandler;
  readonly log: Logger;
}

export interface Clients {
  readonly sfn: SFNClient;
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

function remember(credentials: AwsCredentialIdentity): AwsCredentialIdentity {
  registerSecret(credentials.secretAccessKey);
  registerSecret(credentials.sessionToken);
  return credentials;
}

/** Provider that assumes the role each time the SDK finds the last credentials near expiry. */
function assumeRoleProvider(
  options: ClientOptions,
  base: AwsCredentialIdentityProvider | AwsCredentialIdentity,
): AwsCredentialIdentityProvider {
  const sts = new STSClient({
    region: options.region,
    credentials: base,
    requestHandler: options.handler,
    logger: QUIET,
    maxAttempts: 3,
  });
  const role = options.role as { arn: string; externalId?: string };
  return async () => {
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
      options.log.debug(
        `assumed role ${role.arn}; credentials valid until ${c.Expiration?.toISOString()}`,
      );
      return remember({
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      });
    } catch (error) {
      throw classifyError(error, { operation: `AssumeRole ${role.arn}` });
    }
  };
}

export function createClients(options: ClientOptions): Clients {
  let credentials: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  let credentialSource: string;
  if (options.credentials) {
    credentials = remember({ ...options.credentials });
    credentialSource = "the AWS Credentials field";
  } else {
    // Roles named in shared profiles are assumed through the same handler (and proxy).
    const chain = defaultProvider({ clientConfig: { requestHandler: options.handler } });
    credentials = async () => remember(await chain());
    credentialSource = "the standard credential chain";
  }
  if (options.role) {
    credentials = assumeRoleProvider(options, credentials);
    credentialSource = `role ${options.role.arn} assumed with ${credentialSource}`;
  }
  const sfn = new SFNClient({
    region: options.region,
    credentials,
    requestHandler: options.handler,
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
    logger: QUIET,
    maxAttempts: 3,
  });
  return { sfn, credentialSource };
}
