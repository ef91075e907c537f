/**
 * The DescribeExecution call of the waiting loop, with what AWS's eventual consistency asks
 * of it: right after this program started (or redrove) an execution, DescribeExecution may
 * not find it yet, or may still show the closed state from before the redrive.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError, isKmsDataError, readOnceMoreIfDropped } from "../aws/classify.ts";
import type { StepFunctions } from "../aws/step-functions.ts";
import type { Logger } from "../log.ts";

/**
 * DescribeExecution's answer, and why the execution's data (input, output, error, cause)
 * could not be read when it was described with `includedData: METADATA_ONLY`.
 */
export type Described = DescribeExecutionOutput & { readonly unreadable?: string | undefined };

/**
 * DescribeExecution; when the state machine's customer managed KMS key refuses these
 * credentials (KmsAccessDeniedException, KmsInvalidStateException), again with
 * `includedData: METADATA_ONLY`, which still gives the status. `unreadable` says why.
 */
export async function describeReadable(
  sfn: StepFunctions,
  executionArn: string,
  log: Logger,
  options: { signal?: AbortSignal | undefined; metadataOnly?: string | undefined } = {},
): Promise<Described> {
  const { signal } = options;
  if (options.metadataOnly === undefined) {
    try {
      return await readOnceMoreIfDropped(
        () => sfn.describeExecution({ executionArn }, { abortSignal: signal }),
        signal,
      );
    } catch (error) {
      if (!isKmsDataError(error)) throw error;
      const unreadable = classifyError(error, { operation: "DescribeExecution" }).message;
      log.warn(
        `cannot read the execution's data: ${unreadable}; following its status only (DescribeExecution with METADATA_ONLY): its output, error and cause cannot be read`,
      );
      return describeReadable(sfn, executionArn, log, { signal, metadataOnly: unreadable });
    }
  }
  const reply = await readOnceMoreIfDropped(
    () =>
      sfn.describeExecution(
        { executionArn, includedData: "METADATA_ONLY" },
        { abortSignal: signal },
      ),
    signal,
  );
  return { ...reply, unreadable: options.metadataOnly };
}

/** Look-ups of a just-started execution that AWS does not show yet, and the first pause. */
export const NOT_FOUND_RETRIES = 4;
export const NOT_FOUND_FIRST_PAUSE_MS = 250;
/** How long a reply that does not show the redrive yet is taken as "redrive pending". */
export const STALE_REDRIVE_LIMIT_MS = 60_000;

const CLOSED = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]);

export interface StatusCheckRequest {
  readonly sfn: StepFunctions;
  readonly executionArn: string;
  readonly log: Logger;
  /** True when this program has just started or redriven the execution. */
  readonly justStarted?: boolean | undefined;
  /** The redrive count read before this program's redrive, when it made one. */
  readonly redriveCountBefore?: number | undefined;
  /** Why the execution's data cannot be read, when already known: describe METADATA_ONLY. */
  readonly unreadable?: string | undefined;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Whether a reply still shows the execution from before a redrive: closed, with a redrive
 * count that has not grown beyond the one read before the redrive.
 */
export function showsBeforeRedrive(
  reply: Pick<DescribeExecutionOutput, "status" | "redriveCount">,
  redriveCountBefore: number | undefined,
): boolean {
  if (redriveCountBefore === undefined) return false;
  return CLOSED.has(reply.status ?? "RUNNING") && (reply.redriveCount ?? 0) <= redriveCountBefore;
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ExecutionDoesNotExist";
}

/**
 * A function making the loop's DescribeExecution call (METADATA_ONLY after the state
 * machine's KMS key refused the data once, see describeReadable). A just-started execution that AWS
 * does not find yet is looked up again a few times with a short backoff (until the first
 * answer); a reply from before this program's redrive is reported as PENDING_REDRIVE (for at
 * most STALE_REDRIVE_LIMIT_MS) so an old FAILED is never taken for the redrive's result.
 */
export function statusCheck(req: StatusCheckRequest): (signal?: AbortSignal) => Promise<Described> {
  let found = !req.justStarted;
  // Once the KMS key refused the data, every later check asks for the status only.
  let unreadable = req.unreadable;
  let redriveSeen = req.redriveCountBefore === undefined;
  let staleSince: number | undefined;
  return async (signal) => {
    let reply: Described;
    for (let attempt = 0; ; attempt++) {
      try {
        reply = await describeReadable(req.sfn, req.executionArn, req.log, {
          signal,
          metadataOnly: unreadable,
        });
        unreadable = reply.unreadable;
        break;
      } catch (error) {
        if (found || !isNotFound(error) || attempt >= NOT_FOUND_RETRIES || signal?.aborted) {
          throw error;
        }
        req.log.debug(
          `execution ${req.executionArn} not visible yet to DescribeExecution (eventually consistent); looking again`,
        );
        await req.sleep(NOT_FOUND_FIRST_PAUSE_MS * 2 ** attempt, signal);
      }
    }
    found = true;
    if (redriveSeen) return reply;
    if (!showsBeforeRedrive(reply, req.redriveCountBefore)) {
      redriveSeen = true;
      return reply;
    }
    staleSince ??= Date.now();
    if (Date.now() - staleSince >= STALE_REDRIVE_LIMIT_MS) {
      req.log.warn(
        `DescribeExecution still shows ${reply.status} from before the redrive after ${STALE_REDRIVE_LIMIT_MS / 1000} s; taking it as the result`,
      );
      redriveSeen = true;
      return reply;
    }
    req.log.debug(
      `DescribeExecution still shows the execution from before the redrive (${reply.status}, redrive count ${reply.redriveCount ?? 0}); the redrive is pending`,
    );
    return { ...reply, status: "PENDING_REDRIVE" };
  };
}
