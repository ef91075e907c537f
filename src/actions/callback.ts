/**
 * What the three task-token actions share: the token's fingerprint for the log and the
 * output, and the call made once with its outcome. A task token is a capability: whoever
 * holds it can answer for the waiting task, so it never appears whole anywhere.
 */
import { createHash } from "node:crypto";
import { classifyError } from "../aws/classify.ts";
import type { StepFunctions } from "../aws/step-functions.ts";
import { UnexpectedError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import type { CallbackResult, Outcome } from "../output/extension-output.ts";
import type { ActionContext } from "./action.ts";
import { type CallTrack, trackedCall } from "./execution.ts";

/** Call options of a callback's request: its abort signal and what tracks its attempts. */
export type CallbackOptions = ReturnType<typeof trackedCall>;

/** The first 8 hex characters of the token's SHA-256: enough to match log lines, useless to answer. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex").slice(0, 8);
}

export interface CallbackCall {
  readonly operation: CallbackResult["callback"];
  /** What the call sends, for the log and the description ("success", "a heartbeat"). */
  readonly what: string;
  /** Fields of the result besides the operation and the fingerprint. */
  readonly details: Omit<CallbackResult, "callback" | "taskTokenFingerprint">;
  /** Resolves with a CallbackSent when what was sent differs from what was asked. */
  readonly send: (
    sfn: StepFunctions,
    taskToken: string,
    options: CallbackOptions,
  ) => Promise<unknown>;
}

/** What a callback sent when it could not send what was asked. */
export interface CallbackSent {
  readonly what: string;
  readonly details: Omit<CallbackResult, "callback" | "taskTokenFingerprint">;
}

function isSent(value: unknown): value is CallbackSent {
  return typeof value === "object" && value !== null && "what" in value && "details" in value;
}

/**
 * A callback's retry that finds the task closed may follow a first attempt that AWS carried
 * out but whose answer was lost (a dropped connection): the callback may have been
 * delivered, which only the execution's history can tell.
 */
function retriedNote(error: unknown): string {
  const name = (error as { name?: string }).name;
  const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
  if (attempts < 2 || (name !== "TaskTimedOut" && name !== "TaskDoesNotExist")) return "";
  return `; an earlier attempt of this call got no answer and may be the one that delivered it (${attempts} attempts): see the execution's history`;
}

/**
 * A callback none of whose attempts got an answer (exit 10) after one that may have reached
 * AWS: AWS may have delivered it, as a start's description says of its execution.
 */
function unansweredNote(
  call: CallbackCall,
  error: { exitCode: number },
  track: CallTrack,
  fingerprint: string,
): string {
  if (!track.sent || error.exitCode !== EXIT.connection) return "";
  return `; AWS gave no answer to ${call.operation} for the task token with fingerprint ${fingerprint}, so it may have been delivered: see the execution's history`;
}

/** Send one callback for the configured token and report it. */
export async function runCallback(ctx: ActionContext, call: CallbackCall): Promise<Outcome> {
  const { config, log } = ctx;
  const token = config.task.taskToken;
  if (!token) throw new UnexpectedError(`${config.task.action} needs a Task Token`);
  const fingerprint = tokenFingerprint(token);
  const result: CallbackResult = {
    callback: call.operation,
    taskTokenFingerprint: fingerprint,
    ...call.details,
  };
  log.info(
    `sending ${call.what} for the task token with fingerprint ${fingerprint} (${call.operation})`,
  );
  let sent: CallbackSent | undefined;
  /** How far the call got: whether an attempt may have reached AWS. */
  const track: CallTrack = { sent: false, answered: false };
  try {
    const reply = await call.send(ctx.aws.sfn, token, trackedCall(ctx.signal, track));
    if (isSent(reply)) sent = reply;
  } catch (error) {
    if (ctx.signal?.aborted) {
      return {
        exitCode: EXIT.cancelled,
        description: `task cancelled before AWS confirmed ${call.operation}; it may have been received`,
        changed: false,
        result,
      };
    }
    // Whatever happened, later tasks still learn which token was meant.
    const classified = classifyError(error, { operation: call.operation });
    const description =
      classified.message +
      retriedNote(error) +
      unansweredNote(call, classified, track, fingerprint);
    log.error(description);
    return {
      exitCode: classified.exitCode,
      description,
      changed: false,
      result,
    };
  }
  log.info(`${call.operation} accepted for the task token with fingerprint ${fingerprint}`);
  return {
    exitCode: EXIT.success,
    description: `${sent?.what ?? call.what} sent for the task token with fingerprint ${fingerprint}`,
    changed: true,
    result: sent ? { ...result, ...sent.details } : result,
  };
}
