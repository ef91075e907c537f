/**
 * Supervise an execution to its end (SPEC 5.5): adaptive polling capped by the polling
 * interval, status changes logged and published, transient failures retried with backoff.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import type { LeanSfnClient } from "../aws/sfn-client.ts";
import { classifyError, isTransient } from "../aws/classify.ts";
import { StatusUnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { OutputFields } from "../output/output-fields.ts";
import {
  backoffDelay,
  formatDuration,
  lowerFloor,
  nextPollDelay,
  raiseFloor,
  stillRunningDue,
} from "../polling.ts";
import { callbackWaitingState, TERMINAL } from "./describe.ts";

/** Default span of unbroken status-call failures after which the task gives up (exit 28). */
export const DEFAULT_FAILURE_LIMIT_MS = 15 * 60_000;

export interface WaitRequest {
  readonly sfn: LeanSfnClient;
  readonly executionArn: string;
  /** When the execution started (for the adaptive schedule); now when unknown. */
  readonly executionStart: Date;
  readonly pollingIntervalSeconds: number;
  /** 0 = no limit. */
  readonly maximumWaitSeconds: number;
  readonly log: Logger;
  readonly outputs: OutputFields;
  readonly signal?: AbortSignal;
  readonly failureLimitMs?: number;
  readonly random?: () => number;
}

export type WaitResult =
  | { readonly kind: "ended"; readonly execution: DescribeExecutionOutput }
  | {
      readonly kind: "maximum-wait" | "cancelled";
      readonly last: DescribeExecutionOutput | null;
      /** The state found waiting for a task token at the last look, if any. */
      readonly waitingForCallback: string | null;
    };

/** Look for a state waiting on a callback this long after the wait began, then with each "still running" line. */
export const CALLBACK_LOOK_AFTER_MS = 3_000;

/** Sleep that ends early when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function isThrottling(error: unknown): boolean {
  return /Throttl|TooManyRequests|RequestLimitExceeded/.test(
    (error as { name?: string }).name ?? "",
  );
}

function isExpiredToken(error: unknown): boolean {
  return /ExpiredToken/.test((error as { name?: string }).name ?? "");
}

export async function waitForExecution(req: WaitRequest): Promise<WaitResult> {
  const { log, outputs, signal } = req;
  const ceilingMs = req.pollingIntervalSeconds * 1000;
  const failureLimitMs = req.failureLimitMs ?? DEFAULT_FAILURE_LIMIT_MS;
  const waitStart = Date.now();
  const deadline =
    req.maximumWaitSeconds > 0 ? waitStart + req.maximumWaitSeconds * 1000 : Infinity;
  let last: DescribeExecutionOutput | null = null;
  let lastStatus: string | undefined;
  let failures = 0;
  let floorMs = 0;
  let firstFailureAt = 0;
  let reportedAt = 0;
  let callbackLooked = false;
  let waitingForCallback: string | null = null;
  // One history read now and then, never on every poll: it says which state waits for a task token.
  const lookForCallback = async () => {
    try {
      const state = await callbackWaitingState(req.sfn, req.executionArn);
      if (state !== waitingForCallback) {
        if (state) log.info(`state "${state}" is waiting for a callback (task token)`);
        else if (waitingForCallback) log.info(`state "${waitingForCallback}" got its callback`);
        waitingForCallback = state;
      }
    } catch (error) {
      log.debug(`cannot read the history to find a waiting callback: ${(error as Error).message}`);
    }
  };

  for (;;) {
    if (signal?.aborted) return { kind: "cancelled", last, waitingForCallback };
    if (Date.now() >= deadline) return { kind: "maximum-wait", last, waitingForCallback };

    let delay: number;
    try {
      const reply = await req.sfn.describeExecution(
        { executionArn: req.executionArn },
        // One attempt per check: the loop below has its own backoff.
        { maxAttempts: 1, ...(signal ? { abortSignal: signal } : {}) },
      );
      floorMs = lowerFloor(floorMs);
      if (failures > 0) log.info(`status checks answer again after ${failures} failed attempt(s)`);
      failures = 0;
      last = reply;
      const status = reply.status ?? "RUNNING";
      if (status !== lastStatus) {
        if (lastStatus !== undefined) log.info(`execution status ${lastStatus} -> ${status}`);
        else log.info(`execution status ${status}`);
        lastStatus = status;
        outputs.set({ execution_status: status });
      }
      if (TERMINAL.has(status)) return { kind: "ended", execution: reply };
      const elapsed = Date.now() - req.executionStart.getTime();
      if (stillRunningDue(Date.now() - waitStart, reportedAt)) {
        reportedAt = Date.now() - waitStart;
        log.info(`execution still ${status} after ${formatDuration(elapsed)}`);
        await lookForCallback();
      } else if (!callbackLooked && Date.now() - waitStart >= CALLBACK_LOOK_AFTER_MS) {
        callbackLooked = true;
        await lookForCallback();
      }
      delay = Math.max(nextPollDelay(elapsed, ceilingMs, req.random), floorMs);
    } catch (error) {
      if (signal?.aborted) return { kind: "cancelled", last, waitingForCallback };
      if (!isTransient(error) && !isExpiredToken(error)) {
        throw classifyError(error, { operation: "DescribeExecution" });
      }
      // Credentials the service calls expired: fetch fresh ones before the next try.
      if (isExpiredToken(error)) req.sfn.forgetCredentials();
      failures++;
      if (failures === 1) firstFailureAt = Date.now();
      const failingFor = Date.now() - firstFailureAt;
      const reason = `${(error as { name?: string }).name ?? "Error"}: ${(error as Error).message}`;
      if (failingFor >= failureLimitMs && failures >= 3) {
        throw new StatusUnavailableError(
          `status checks of ${req.executionArn} failed ${failures} times over ${formatDuration(failingFor)} (last: ${reason}); the execution may still be running, and a rerun of this task re-attaches to it`,
          { cause: error },
        );
      }
      if (isThrottling(error)) floorMs = raiseFloor(floorMs, ceilingMs);
      delay = Math.max(backoffDelay(failures, ceilingMs, req.random), floorMs);
      if (failures === 1 || failures % 10 === 0) {
        log.warn(`status check failed (${reason}); trying again in ${(delay / 1000).toFixed(1)} s`);
      }
    }
    await sleep(Math.max(0, Math.min(delay, deadline - Date.now())), signal);
  }
}
