/** Shared set-up for the local endpoint tests: every call goes through the real AWS SDK clients. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
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
import { ROOT } from "../helpers/paths.ts";

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

export interface CliEndpoint {
  child: ChildProcess;
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
  /** Resolves with the first match of `re` in what it prints (rejects if it exits first). */
  waitFor: (re: RegExp) => Promise<RegExpExecArray>;
}

/** Starts the command-line endpoint and resolves with its URL once it prints it. */
export async function startCli(args: string[]): Promise<CliEndpoint> {
  const child = spawn(process.execPath, ["--import", "tsx", "local/endpoint/cli.ts", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${out}`)), 20_000);
    child.stdout?.on("data", () => {
      const m = /^Local Step Functions endpoint listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(
        out,
      );
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code}: ${out}`));
    });
  });
  const waitFor = (re: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (!m) return false;
        child.stdout?.off("data", check);
        child.off("exit", exited);
        resolve(m);
        return true;
      };
      const exited = () => reject(new Error(`the endpoint exited before printing ${re}: ${out}`));
      if (check()) return;
      child.stdout?.on("data", check);
      child.once("exit", exited);
    });
  return { child, url, output: () => out, waitFor };
}

export async function stopCli(child: ChildProcess): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  return code;
}
