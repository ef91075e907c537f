/**
 * The execution that Monitor, Stop and Redrive act on: opened with its own ARN's region,
 * described once to learn where it stands, published in the output-only fields.
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import { DataValidationError, UnexpectedError } from "../errors.ts";
import type { ParsedExecutionArn } from "../fields/validate.ts";
import { pendingResult } from "../output/extension-output.ts";
import { type ActionContext, openSession, type Session } from "./session.ts";

export interface Target {
  readonly arn: string;
  readonly parsed: ParsedExecutionArn;
  readonly session: Session;
}

/** Open the session for the configured Target Execution ARN. */
export function openTarget(ctx: ActionContext): Target {
  const { targetExecutionArn: arn, targetExecution: parsed } = ctx.config;
  if (!arn || !parsed)
    throw new UnexpectedError(`${ctx.config.action} needs a Target Execution ARN`);
  ctx.outputs.set({ execution_arn: arn, generated_execution_name: parsed.name });
  const session = openSession(ctx, { region: parsed.region, label: "the Target Execution ARN" });
  return { arn, parsed, session };
}

/** DescribeExecution of the target; a missing execution is said plainly (exit 20). */
export async function describeTarget(
  ctx: ActionContext,
  target: Target,
): Promise<DescribeExecutionOutput> {
  let reply: DescribeExecutionOutput;
  try {
    reply = await target.session.sfn.describeExecution(
      { executionArn: target.arn },
      ctx.signal ? { abortSignal: ctx.signal } : {},
    );
  } catch (error) {
    if ((error as { name?: string }).name === "ExecutionDoesNotExist") {
      throw new DataValidationError(
        `Target Execution ARN: no execution ${target.arn} exists (ExecutionDoesNotExist); check the ARN, the account and the region (AWS keeps a closed Standard execution for 90 days)`,
        { cause: error },
      );
    }
    throw classifyError(error, { operation: "DescribeExecution" });
  }
  ctx.outputs.set({ execution_status: reply.status ?? "RUNNING" });
  return reply;
}

/** Classify an error and attach the target, so the document still names the execution. */
export function failedOnTarget(
  ctx: ActionContext,
  target: Target,
  error: unknown,
  changed: boolean,
): Error {
  const classified = classifyError(error);
  if (!classified.partialOutcome) {
    classified.partialOutcome = {
      result: pendingResult(target.arn, {
        name: target.parsed.name,
        status: ctx.outputs.current.execution_status ?? "RUNNING",
      }),
      changed,
    };
  }
  return classified;
}
