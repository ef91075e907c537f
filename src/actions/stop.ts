/**
 * Stop Execution: stop a running Standard execution with an error and a cause (by default
 * naming the task). An execution that has already ended is reported as it is: nothing to
 * stop is not a failure, and nothing changed.
 */
import { classifyError } from "../aws/classify.ts";
import type { ProductError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import type { Outcome } from "../output/extension-output.ts";
import {
  type CallTrack,
  stopWithDataOrWithout,
  TERMINAL,
  toResult,
  unreadNote,
} from "./execution.ts";
import type { Action, ActionContext } from "./action.ts";
import type { Described } from "./status-check.ts";
import { taskReference } from "./supervise.ts";
import {
  cancelledOnTarget,
  describeTarget,
  failedOnTarget,
  type Target,
  targetOf,
} from "./target.ts";

export const DEFAULT_STOP_ERROR = "ue-aws-stepfunctions.Stopped";

const STOP_STEP = { noun: "stop", done: "stopped", left: "it is left running" };

async function run(ctx: ActionContext): Promise<Outcome> {
  const { config, aws, log, signal } = ctx;
  const { task } = config;
  const target = targetOf(ctx);
  let asked = false;
  let accepted = false;
  const call: CallTrack = { sent: false, answered: false };
  try {
    const before = await describeTarget(ctx, target);
    const status = before.status ?? "RUNNING";
    if (TERMINAL.has(status)) {
      log.info(`execution ${target.arn} has already ended ${status}; nothing to stop`);
      return {
        exitCode: EXIT.success,
        description: `execution ${target.parsed.name} had already ended ${status}; nothing to stop${unreadNote(before.unreadable)}`,
        changed: false,
        result: toResult(before),
      };
    }
    const error = task.error ?? DEFAULT_STOP_ERROR;
    const cause = task.cause ?? `stopped by ${taskReference(ctx)}`;
    let withoutData: string | undefined;
    /** The execution as it is after the stop (read when the stop was refused). */
    let after: Described | null = null;
    try {
      asked = true;
      withoutData = await stopWithDataOrWithout(
        aws.sfn,
        target.arn,
        error,
        cause,
        log,
        signal,
        call,
      );
      accepted = true;
    } catch (e) {
      const refused = classifyError(e, { operation: "StopExecution" });
      after = await endedMeanwhile(ctx, target, refused, before.unreadable);
      if (!after) throw refused;
      // AWS documents no answer to a stop of an execution that has ended: an error that came
      // as it ended is not the stop's failure, when the execution shows it ended on its own.
      log.info(`AWS refused the stop (${refused.message}); the execution had ended meanwhile`);
    }
    // It may have ended on its own a moment before the stop: report what it is now.
    after ??= await describeTarget(ctx, target, before.unreadable);
    const result = toResult(after);
    const stopped = result.status === "ABORTED";
    const unread = unreadNote(after.unreadable);
    // The key that kept the error and cause from the stop keeps the data from being read
    // too: its reason is given once.
    const how = withoutData
      ? ` without an error and a cause${unread || ` (${withoutData})`}`
      : ` (${error})${unread}`;
    const description = stopped
      ? `execution ${target.parsed.name} stopped${how}`
      : `execution ${target.parsed.name} ended ${result.status} before it could be stopped${unread}`;
    log.info(description);
    return { exitCode: EXIT.success, description, changed: stopped, result };
  } catch (error) {
    if (signal?.aborted) return cancelledOnTarget(ctx, target, STOP_STEP, { asked, accepted });
    // A stop AWS refused changed nothing; one it accepted did, whatever failed after it.
    return failedOnTarget(ctx, target, error, accepted, { step: STOP_STEP, call, accepted });
  }
}

/**
 * After AWS refused a stop with an answer of its own (not a cancel, the network, or
 * credentials and permissions, which say nothing of the execution): the execution as it is
 * now, if it has ended on its own (not ABORTED, which a stop could have made it).
 */
async function endedMeanwhile(
  ctx: ActionContext,
  target: Target,
  refused: ProductError,
  unreadable: string | undefined,
): Promise<Described | null> {
  if (ctx.signal?.aborted || !REFUSAL_EXITS.has(refused.exitCode)) return null;
  try {
    const now = await describeTarget(ctx, target, unreadable);
    const status = now.status ?? "RUNNING";
    return TERMINAL.has(status) && status !== "ABORTED" ? now : null;
  } catch {
    return null;
  }
}

/** The exit codes of errors AWS answered about the call itself (its input, its state). */
const REFUSAL_EXITS: ReadonlySet<number> = new Set([EXIT.dataValidation, EXIT.unexpected]);

export const stopExecutionAction: Action = { run };
