/** Starts bench/lib/endpoint-child.ts in its own process and talks to it. */
import { fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ThrottleConfig } from "../../local/endpoint/faults.ts";

export interface RequestRecord {
  readonly operation: string;
  readonly resource?: string | undefined;
  readonly fault?: string | undefined;
  readonly errorCode?: string | undefined;
  /** ms since the epoch */
  readonly time: number;
}

export interface EndpointReport {
  /** When each accepted DescribeExecution took its token (the endpoint's performance.now()). */
  readonly accepted: number[];
  readonly requests: RequestRecord[];
  /** Each execution's stop time as the endpoint recorded it (ms since the epoch), or null. */
  readonly stops: Record<string, number | null>;
  readonly ListExecutions: { accepted: number; throttled: number };
}

/** A Task state with this resource holds its execution until the parent releases it. */
export const HOLD_RESOURCE = "arn:aws:lambda:us-east-1:123456789012:function:bench-hold";

type Counter = { accepted: number; throttled: number };

export interface EndpointProcess {
  readonly url: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly pid: number;
  createStateMachine(name: string, definition: unknown): Promise<string>;
  /** Resets every fault, then throttles these operations. */
  throttle(buckets: Record<string, ThrottleConfig>): Promise<void>;
  /** Forgets the requests and accepted times so far. */
  clear(): Promise<void>;
  counts(): Promise<Record<"StartExecution" | "DescribeExecution" | "ListExecutions", Counter>>;
  report(executionArns: readonly string[]): Promise<EndpointReport>;
  /** Ends the executions held at their Task state (HOLD_RESOURCE), evenly over spreadMs; how many. */
  release(spreadMs: number): Promise<number>;
  close(): Promise<void>;
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), "endpoint-child.ts");

export async function startEndpointProcess(region: string): Promise<EndpointProcess> {
  const child = fork(CHILD, [region], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = new Promise<{ url: string; credentials: EndpointProcess["credentials"] }>(
    (resolve, reject) => {
      pending.set(0, { resolve: resolve as (v: unknown) => void, reject });
    },
  );
  child.on("message", (m: { id: number; value?: unknown; error?: string }) => {
    const waiter = pending.get(m.id);
    if (!waiter) return;
    pending.delete(m.id);
    if (m.error !== undefined) waiter.reject(new Error(m.error));
    else waiter.resolve(m.value);
  });
  child.on("exit", (code) => {
    for (const waiter of pending.values())
      waiter.reject(new Error(`the endpoint process exited (${code})`));
    pending.clear();
  });
  const call = <T>(command: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...command, id });
    });
  const { url, credentials } = await ready;
  return {
    url,
    credentials,
    pid: child.pid as number,
    createStateMachine: (name, definition) =>
      call<string>({ op: "createStateMachine", name, definition }),
    throttle: (buckets) => call<void>({ op: "throttle", buckets }),
    clear: () => call<void>({ op: "clear" }),
    counts: () => call({ op: "counts" }),
    report: (executionArns) => call<EndpointReport>({ op: "report", executionArns }),
    release: (spreadMs) => call<number>({ op: "release", spreadMs }),
    async close() {
      const exited = new Promise((r) => child.once("exit", r));
      await call<void>({ op: "close" }).catch(() => undefined);
      await exited;
    },
  };
}
