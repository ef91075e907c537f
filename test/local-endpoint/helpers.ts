/** Shared set-up for the local endpoint tests: every call goes through the real AWS SDK clients. */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  type SFNClientConfig,
} from "@aws-sdk/client-sfn";
import {
  type LocalEndpoint,
  type LocalEndpointOptions,
  startLocalEndpoint,
} from "../../local/endpoint/index.ts";

export const ROLE_ARN = "arn:aws:iam::123456789012:role/TestRole";

export async function withEndpoint(options: LocalEndpointOptions = {}): Promise<LocalEndpoint> {
  return startLocalEndpoint(options);
}

/** A client for the endpoint; one attempt by default so errors surface as they are sent. */
export function sfnClient(ep: LocalEndpoint, config: Partial<SFNClientConfig> = {}): SFNClient {
  return new SFNClient({
    endpoint: ep.url,
    region: "us-east-1",
    credentials: ep.credentials,
    maxAttempts: 1,
    // StartSyncExecution would otherwise be sent to "sync-127.0.0.1".
    disableHostPrefix: true,
    ...config,
  });
}

/** Polls DescribeExecution until the execution leaves RUNNING. */
export async function waitForStatus(
  client: SFNClient,
  executionArn: string,
  timeoutMs = 10_000,
): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== "RUNNING") return d;
    if (Date.now() > deadline) throw new Error(`still RUNNING after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function history(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const out = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return out.events ?? [];
}

/** Runs `fn` and returns the error it throws (failing if it does not). */
export async function rejection(
  fn: () => Promise<unknown>,
): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await fn();
  } catch (e) {
    return e as Error & { name: string; $metadata?: { httpStatusCode?: number } };
  }
  throw new Error("expected the call to fail");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
