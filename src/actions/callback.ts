/**
 * What the three task-token actions share: the token's fingerprint for the log and the
 * output, and the call made once with its outcome. A task token is a capability: whoever
 * holds it can answer for the waiting task, so it never appears whole anywhere.
 */
import { createHash } from "node:crypto";
import { classifyError } from "../aws/classify.ts";
import { UnexpectedError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import type { CallbackResult, Outcome } from "../output/extension-output.ts";
import { type ActionContext, openSession, type Session } from "./session.ts";

/** The first 8 hex characters of the token's SHA-256: enough to match log lines, useless to answer. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex").slice(0, 8);
}

export interface CallbackCall {
  readonly operation: CallbackResult["callback"];
  /** What the call does, for the log and the description ("success", "failure", "heartbeat"). */
  readonly what: string;
  /** Fields of the result besides the operation and the fingerprint. */
  readonly details: Omit<CallbackResult, "callback" | "taskTokenFingerprint">;
  readonly send: (sfn: Session["sfn"], taskToken: string, signal?: AbortSignal) => Promise<unknown>;
}

/** Send one callback for the configured token and report it. */
export async function runCallback(ctx: ActionContext, call: CallbackCall): Promise<Outcome> {
  const { config, log } = ctx;
  const token = config.taskToken;
  if (!token) throw new UnexpectedError(`${config.action} needs a Task Token`);
  const fingerprint = tokenFingerprint(token);
  const result: CallbackResult = {
    callback: call.operation,
    taskTokenFingerprint: fingerprint,
    ...call.details,
  };
  const session = openSession(ctx, undefined);
  try {
    log.info(
      `sending ${call.what} for the task token with fingerprint ${fingerprint} (${call.operation})`,
    );
    await call.send(session.sfn, token, ctx.signal);
    log.info(`${call.operation} accepted for the task token with fingerprint ${fingerprint}`);
    return {
      exitCode: EXIT.success,
      description: `${call.what} sent for the task token with fingerprint ${fingerprint}`,
      changed: true,
      result,
    };
  } catch (error) {
    const classified = classifyError(error, { operation: call.operation });
    // Whatever happened, later tasks still learn which token was meant.
    classified.partialOutcome = { result, changed: false };
    throw classified;
  } finally {
    session.close();
  }
}
