/**
 * The execution that Monitor, Stop and Redrive act on: described once to learn where it
 * stands, published in the output-only fields, and named in every outcome.
 */
import { classifyError } from "../aws/classify.ts";
import { DataValidationError, type ProductError, UnexpectedError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import type { ParsedExecutionArn } from "../fields/validate.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import type { ActionContext } from "./action.ts";
import { type CallTrack, logConsoleLink } from "./execution.ts";
import { type Described, describeReadable } from "./status-check.ts";

export interface Target {
  readonly arn: string;
  readonly parsed: ParsedExecutionArn;
}

/** The configured Target Execution ARN, published at once in the output-only fields. */
export function targetOf(ctx: ActionContext): Target {
  const { targetExecutionArn: arn, targetExecution: parsed, action } = ctx.config.task;
  if (!arn || !parsed) throw new UnexpectedError(`${action} needs a Target Execution ARN`);
  ctx.outputs.set({ execution_arn: arn, generated_execution_name: parsed.name });
  logConsoleLink(ctx.log, arn);
  return { arn, parsed };
}

/**
 * DescribeExecution of the target; a missing execution is said plainly (exit 20). With
 * `unreadable` (its KMS key already refused the data), the status only is asked for.
 */
export async function describeTarget(
  ctx: ActionContext,
  target: Target,
  unreadable?: string,
): Promise<Described> {
  let reply: Described;
  try {
    reply = await describeReadable(ctx.aws.sfn, target.arn, ctx.log, {
      signal: ctx.signal,
      metadataOnly: unreadable,
    });
  } catch (error) {
    if ((error as { name?: string }).name === "ExecutionDoesNotExist") {
      throw new DataValidationError(
        `Target Execution ARN: no execution ${target.arn} exists (ExecutionDoesNotExist); check the ARN, the account and the region (AWS keeps a closed Standard execution for 90 days)`,
        { cause: error },
      );
    }
    throw classifyError(error, { operation: "DescribeExecution" });
  }
  // AWS's name stands over the one read from the ARN (an Express child execution's ARN
  // follows no documented form).
  ctx.outputs.set({
    execution_status: reply.status ?? "RUNNING",
    ...(reply.name ? { generated_execution_name: reply.name } : {}),
  });
  return reply;
}

/**
 * The outcome of an error on the target. Once it was read, the document names the execution
 * with the status last read; a target never read (it does not exist, DescribeExecution was
 * refused) has no result: nothing is known of it, not even that it runs.
 */
export function failedOnTarget(
  ctx: ActionContext,
  target: Target,
  error: unknown,
  changed: boolean,
  step?: StepCall,
): Outcome {
  const classified = classifyError(error);
  ctx.log.error(classified.message);
  return {
    exitCode: classified.exitCode,
    description: classified.message + stepNote(target, classified, step),
    changed,
    result: targetResult(ctx, target),
  };
}

/** The action's step on the target (a stop, a redrive): what it is, how far its call got. */
export interface StepCall {
  readonly step: TargetStep;
  /** Whether a request of it went out that may have reached AWS (see trackedCall). */
  readonly call: CallTrack;
  /** AWS accepted it (answered with success). */
  readonly accepted: boolean;
}

/**
 * What a failure's description adds about the action's step on the target: that AWS had
 * accepted it before the failure; or, when no answer came even after the SDK's retries
 * (exit 10) and an attempt may have reached AWS, that it may have been done, as a start's
 * description says of its execution.
 */
function stepNote(target: Target, error: ProductError, step: StepCall | undefined): string {
  if (!step) return "";
  const { noun, done } = step.step;
  const name = target.parsed.name;
  if (step.accepted) return `; AWS had accepted the ${noun} of execution ${name} before that`;
  if (!step.call.sent || error.exitCode !== EXIT.connection) return "";
  return `; AWS gave no answer to the ${noun} of execution ${name}, so it may have been ${done}: ${target.arn}`;
}

/** How an action on the target reads in a cancel's description: "stop", "stopped", ... */
export interface TargetStep {
  readonly noun: string;
  readonly done: string;
  /** What is left when the step was never asked for. */
  readonly left: string;
}

/**
 * A cancel before the action's step on the target was confirmed: exit 27, saying whether
 * it was not asked for yet, asked but not confirmed, or accepted (then `changed`).
 */
export function cancelledOnTarget(
  ctx: ActionContext,
  target: Target,
  step: TargetStep,
  where: { asked: boolean; accepted: boolean },
): Outcome {
  const name = target.parsed.name;
  const description = where.accepted
    ? `task cancelled after AWS accepted the ${step.noun} of execution ${name}, before its status was read`
    : where.asked
      ? `task cancelled before AWS confirmed the ${step.noun} of execution ${name}; it may have been ${step.done}`
      : `task cancelled before execution ${name} was ${step.done}; ${step.left}`;
  ctx.log.warn(description);
  return {
    exitCode: EXIT.cancelled,
    description,
    changed: where.accepted,
    result: targetResult(ctx, target),
  };
}

/** What is known of the target: its name and the status last read, or null when never read. */
export function targetResult(ctx: ActionContext, target: Target): ExecutionResult | null {
  const status = ctx.outputs.current.execution_status;
  return status ? pendingResult(target.arn, { name: target.parsed.name, status }) : null;
}
