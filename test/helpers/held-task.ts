/**
 * Executions that end when the test says so, not at a clock time: a Task state whose handler
 * waits until the test releases its execution. A test that needs the program to see an
 * execution RUNNING before it ends releases it once the endpoint has answered the program's
 * status check, however slowly the program started.
 */
import type { ChildProcess } from "node:child_process";
import type { LocalEndpoint } from "../../local/endpoint/index.ts";

export const HELD = "arn:aws:lambda:us-east-1:123456789012:function:held";

export interface HeldTasks {
  /** The execution's held task returns `{}` now (or at once when it is reached later). */
  release(executionArn: string): void;
}

/** Serves `HELD` tasks on the endpoint: each waits for release(executionArn). */
export function holdTasks(ep: LocalEndpoint): HeldTasks {
  const released = new Set<string>();
  const waiting = new Map<string, () => void>();
  ep.registerTaskHandler(HELD, (_input, { executionArn, signal }) => {
    if (released.has(executionArn)) return {};
    return new Promise((resolve, reject) => {
      waiting.set(executionArn, () => resolve({}));
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  });
  return {
    release(executionArn) {
      released.add(executionArn);
      waiting.get(executionArn)?.();
      waiting.delete(executionArn);
    },
  };
}

/**
 * Resolves true once the endpoint has answered a DescribeExecution of the execution (the
 * program has seen it as it was then), polling the request log from entry `from` on; false
 * if the child process ended first (its own time limit bounds the wait).
 */
export async function describedOnce(
  ep: LocalEndpoint,
  executionArn: string,
  child: ChildProcess,
  from = 0,
): Promise<boolean> {
  while (
    !ep.requests
      .slice(from)
      .some(
        (r) =>
          r.operation === "DescribeExecution" && r.resource === executionArn && r.status === 200,
      )
  ) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Releases the execution once the program's status check of it has been answered (a check
 * logged from entry `from` on: one by an earlier process does not count).
 */
export function releaseOnceDescribed(
  ep: LocalEndpoint,
  held: HeldTasks,
  executionArn: string,
  child: ChildProcess,
  from = 0,
): void {
  void describedOnce(ep, executionArn, child, from).then((seen) => {
    if (seen) held.release(executionArn);
  });
}
