/**
 * The "Start Asynchronous Execution" action (SPEC 5.4): find which run of the task instance
 * this is, start (or redrive the newest ended execution, or re-attach to one still going),
 * optionally wait, and what the end means for the exit code.
 *
 * Without a count from the scheduler the run finds its place from AWS: it starts <base>-1
 * optimistically (one call, as for a first run); only when AWS answers that the name is
 * taken does it look the instance's executions up by name (DescribeExecution, O(log k)).
 */
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import type { TaskContext } from "../config/environment.ts";
import { AuthorizationError, type ProductError, UnexpectedError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { executionBase, runName } from "../execution-name.ts";
import { RERUN_BEHAVIOURS } from "../fields/catalog.ts";
import type { TaskConfig } from "../fields/validate.ts";
import { type ExecutionResult, type Outcome, pendingResult } from "../output/extension-output.ts";
import { decideRun, findNewest, type Newest } from "../run-place.ts";
import {
  endedOutcome,
  executionArnFor,
  isoDate,
  redrivePrevious,
  redriveRefusal,
  type CallTrack,
  type StartRequest,
  type Started,
  sleep,
  ownLostStart,
  startExecution,
  stateMachineOf,
  startOrTaken,
  stopExecution,
  stopUnconfirmedRedrive,
  stopUnconfirmedStart,
} from "./execution.ts";
import type { Action, ActionContext } from "./action.ts";
import { superviseExecution } from "./supervise.ts";

/**
 * The result of an execution this run started, redrove or joined, with the status AWS last
 * gave: the output-only field is set together with the ARN, from the start's or the
 * redrive's reply (or the joined execution's description), and follows each status check.
 */
function runningResult(
  ctx: ActionContext,
  arn: string,
  name: string,
  startDate: string | null,
): ExecutionResult {
  const { task } = ctx.config;
  const machine = task.stateMachine
    ? stateMachineOf(task.stateMachine)
    : { stateMachineArn: task.stateMachineArn ?? null };
  const status = ctx.outputs.current.execution_status ?? "RUNNING";
  return pendingResult(arn, { ...machine, name, startDate, status });
}

/** The name being started or joined, kept current for the messages of a failure or a cancel. */
interface Current {
  name: string;
  /** Which run this is, for the outcome's description ("rerun: ... ended SUCCEEDED"). */
  note?: string;
  /** The last call that could start (or redrive) an execution, for a cancel that cuts it off. */
  call?: InFlight;
}

/**
 * A StartExecution or a RedriveExecution: the execution it acts on (this program chose the
 * name, so its ARN is known before AWS answers) and how far the call got.
 */
interface InFlight extends CallTrack {
  readonly kind: "start" | "redrive";
  readonly name: string;
  readonly arn: string;
  /** A start of a running execution's name, which only has AWS compare the inputs. */
  rejoining?: boolean;
}

function inFlight(current: Current, kind: InFlight["kind"], name: string, arn: string): InFlight {
  current.call = { kind, name, arn, sent: false, answered: false };
  return current.call;
}

/** How many times a taken name sends the run back to look for the newest execution. */
const MAX_PLACE_ATTEMPTS = 4;
/** Look-ups of an execution AWS calls taken but DescribeExecution does not show yet. */
const VISIBILITY_RETRIES = 4;

const EXPRESS_NOTE =
  "an EXPRESS state machine: AWS neither refuses a repeated execution name nor lets a later run look its executions up, so every run of this task (a relaunch after the agent died too) starts a new execution";

function startRequest(
  ctx: ActionContext,
  name: string,
  launchedAt: Date,
  current: Current,
): StartRequest {
  const { task } = ctx.config;
  const stateMachine = task.stateMachine as NonNullable<TaskConfig["stateMachine"]>;
  return {
    sfn: ctx.aws.sfn,
    stateMachineArn: task.stateMachineArn as string,
    stateMachine,
    name,
    input: task.input,
    traceHeader: task.traceHeader,
    log: ctx.log,
    outputs: ctx.outputs,
    launchedAt,
    signal: ctx.signal,
    track: inFlight(current, "start", name, executionArnFor(stateMachine, name)),
  };
}

/**
 * DescribeExecution of run `run`, or null when no execution has its name. Its status and
 * redrive fields are all the search needs: no input or output (up to 256 KiB each), which a
 * customer managed KMS key may also keep from these credentials.
 */
function lookupRun(ctx: ActionContext, base: string, taken: string) {
  return async (run: number): Promise<DescribeExecutionOutput | null> => {
    const stateMachine = ctx.config.task.stateMachine as NonNullable<TaskConfig["stateMachine"]>;
    try {
      return await ctx.aws.sfn.describeExecution(
        {
          executionArn: executionArnFor(stateMachine, runName(base, run)),
          includedData: "METADATA_ONLY",
        },
        { abortSignal: ctx.signal },
      );
    } catch (error) {
      if ((error as { name?: string }).name === "ExecutionDoesNotExist") return null;
      const classified = classifyError(error, { operation: "DescribeExecution" });
      if (classified instanceof AuthorizationError) {
        throw new AuthorizationError(
          `states:DescribeExecution is needed: the name ${taken} is taken, so this run is a rerun or a relaunch of the task instance, and only DescribeExecution of its earlier executions tells which execution to start or join (nothing was started); ${classified.message}`,
          { cause: error },
        );
      }
      throw classified;
    }
  };
}

/**
 * Join the newest execution, which the look-ups (no data read) found still going. A start of
 * its name with this task's input is AWS's own comparison of the inputs, which no KMS key
 * keeps from these credentials: a running Standard execution of that name and input is
 * answered as it is (nothing starts, the name being in use); another input, or an end in
 * the meantime, is refused, and the execution's description then tells which.
 */
function rejoin(
  ctx: ActionContext,
  name: string,
  launchedAt: Date,
  current: Current,
): Promise<Started> {
  const req = startRequest(ctx, name, launchedAt, current);
  (req.track as InFlight).rejoining = true;
  return startExecution(req, { rejoining: true });
}

/**
 * A re-attach to an execution that an earlier launch of this run redrove (Rerun Behaviour
 * Redrive Failed Execution) reports the redrive as AWS shows it: its count and date. The
 * description says "redriven earlier" and a wait counts from the redrive. `described` is
 * the look-up's description when there was one; otherwise one DescribeExecution (no data)
 * asks, and a failure of it leaves the re-attach as it was (only these facts are missing).
 */
async function withEarlierRedrive(
  ctx: ActionContext,
  started: Started,
  described?: DescribeExecutionOutput,
): Promise<Started> {
  let shown = described;
  if (!shown) {
    try {
      shown = await ctx.aws.sfn.describeExecution(
        { executionArn: started.executionArn, includedData: "METADATA_ONLY" },
        { abortSignal: ctx.signal },
      );
    } catch (error) {
      ctx.log.debug(
        `cannot tell whether ${started.executionArn} was redriven: ${(error as Error).message}`,
      );
      return started;
    }
  }
  const count = shown.redriveCount ?? 0;
  if (count === 0) return started;
  return { ...started, redriveCount: count, redriveDate: isoDate(shown.redriveDate) };
}

/** The newest execution of the base, given run `known` exists (AWS said its name is taken). */
async function newestRun(
  ctx: ActionContext,
  base: string,
  known: number,
): Promise<Newest<DescribeExecutionOutput>> {
  const taken = runName(base, known);
  const lookup = lookupRun(ctx, base, taken);
  for (let attempt = 0; ; attempt++) {
    const newest = await findNewest(known, lookup);
    if (newest) return newest;
    // DescribeExecution is eventually consistent: a name just taken may not show yet.
    if (attempt >= VISIBILITY_RETRIES || ctx.signal?.aborted) {
      throw new UnexpectedError(
        `AWS calls the execution name ${taken} taken, but DescribeExecution does not show that execution; rerun the task in a few seconds`,
      );
    }
    await sleep(250 * 2 ** attempt, ctx.signal);
  }
}

/**
 * Find this run's place among the task instance's executions and act: start <base>-1 when
 * it is free; else re-attach to the newest still going (a relaunch), or, the newest having
 * ended (a rerun), redrive it (Rerun Behaviour) or start the next run's name.
 */
async function placeRun(
  ctx: ActionContext,
  base: string,
  launchedAt: Date,
  current: Current,
): Promise<Started> {
  const { config, log } = ctx;
  const redriveOnRerun = config.task.rerunBehaviour === RERUN_BEHAVIOURS.redrive;
  let run = 1;
  for (let attempt = 1; ; attempt++) {
    current.name = runName(base, run);
    const req = startRequest(ctx, current.name, launchedAt, current);
    const answer = await startOrTaken(req);
    if ("taken" in answer && answer.afterLostAttempt) {
      // The name may be taken by this very start: an earlier attempt's answer was lost.
      const own = await ownLostStart(req, answer);
      if (own) return own;
    }
    if (!("taken" in answer)) {
      if (answer.executionArn.includes(":express:")) {
        log.warn(`${config.task.stateMachineArn} is ${EXPRESS_NOTE}`);
      } else if (!answer.startedNow) {
        current.note = `relaunch: ${current.name} was still running`;
        // A wait reads the redrive's facts with its first status check: no call of its own.
        if (redriveOnRerun && !config.task.wait) return withEarlierRedrive(ctx, answer);
      }
      return answer;
    }
    if (attempt >= MAX_PLACE_ATTEMPTS) {
      throw new UnexpectedError(
        `the execution name ${current.name} was taken again after ${attempt} look-ups of this task instance's executions; another launch of the same task instance seems to be starting executions at the same time`,
        { cause: answer.taken },
      );
    }
    const newest = await newestRun(ctx, base, run);
    const status = newest.found.status ?? "RUNNING";
    const refusal = redriveRefusal(newest.found);
    const decision = decideRun(
      { run: newest.run, status, redriveRefusal: refusal },
      redriveOnRerun,
    );
    const newestName = runName(base, newest.run);
    const what = `the newest execution of this task instance, ${newestName}`;
    if (decision.kind === "reattach") {
      log.info(`relaunch: ${what}, is still ${status}; re-attaching to it, nothing is started`);
      current.name = newestName;
      current.note = `relaunch: ${newestName} was still ${status}`;
      const joined = await rejoin(ctx, newestName, launchedAt, current);
      return redriveOnRerun ? withEarlierRedrive(ctx, joined, newest.found) : joined;
    }
    if (decision.kind === "redrive") {
      log.info(
        `rerun: ${what}, ended ${status}; redriving it (Rerun Behaviour ${RERUN_BEHAVIOURS.redrive})`,
      );
      const previousArn =
        newest.found.executionArn ??
        executionArnFor(
          config.task.stateMachine as NonNullable<TaskConfig["stateMachine"]>,
          newestName,
        );
      const redriven = await redrivePrevious({
        sfn: ctx.aws.sfn,
        previousArn,
        previousName: newestName,
        previous: newest.found,
        tokenBase: base,
        log,
        outputs: ctx.outputs,
        signal: ctx.signal,
        track: inFlight(current, "redrive", newestName, previousArn),
      });
      if (redriven) {
        current.name = newestName;
        current.note = `rerun: ${newestName} had ended ${status}`;
        return redriven;
      }
      run = newest.run + 1;
      log.info(`rerun: starting ${runName(base, run)}`);
    } else {
      run = decision.run;
      const notRedriven = redriveOnRerun && refusal ? ` and is not redriven: ${refusal}` : "";
      log.info(`rerun: ${what}, ended ${status}${notRedriven}; starting ${runName(base, run)}`);
    }
    current.note = `rerun: ${newestName} had ended ${status}`;
  }
}

/** With a run number from the scheduler (UE_EXECUTION_COUNT), or a one-off name: no search. */
async function startCounted(
  ctx: ActionContext,
  base: string,
  findable: boolean,
  launchedAt: Date,
  current: Current,
): Promise<Started> {
  const { config, log } = ctx;
  const { task, context } = config;
  const count = context.executionCount ?? 1;
  if (task.rerunBehaviour === RERUN_BEHAVIOURS.redrive && count > 1) {
    if (findable) {
      const previousName = runName(base, count - 1);
      const previousArn = executionArnFor(
        task.stateMachine as NonNullable<TaskConfig["stateMachine"]>,
        previousName,
      );
      const started = await redrivePrevious({
        sfn: ctx.aws.sfn,
        previousArn,
        previousName,
        tokenBase: base,
        log,
        outputs: ctx.outputs,
        signal: ctx.signal,
        track: inFlight(current, "redrive", previousName, previousArn),
      });
      if (started) {
        current.name = previousName;
        return started;
      }
    } else {
      log.info(
        "no task instance id and no Execution Name: the previous run's execution cannot be found; starting a new execution",
      );
    }
  }
  return startExecution(startRequest(ctx, current.name, launchedAt, current));
}

/** Whether this run looks its place up in AWS: a findable base and no count from the scheduler. */
export function findsItsPlace(findable: boolean, context: TaskContext): boolean {
  return findable && context.executionCount === undefined;
}

async function run(ctx: ActionContext): Promise<Outcome> {
  const { config, aws, log, outputs } = ctx;
  const { task, context } = config;
  const { stateMachine, stateMachineArn } = task;
  if (!stateMachine || !stateMachineArn) {
    throw new UnexpectedError(`${task.action} needs a State Machine ARN`);
  }
  const launchedAt = new Date();
  const { base, findable } = executionBase(task.executionName, context);
  const current: Current = { name: runName(base, context.executionCount ?? 1) };
  try {
    const started = findsItsPlace(findable, context)
      ? await placeRun(ctx, base, launchedAt, current)
      : await startCounted(ctx, base, findable, launchedAt, current);
    const name = current.name;
    const note = current.note ? ` (${current.note})` : "";
    if (started.closed) return endedOutcome(aws.sfn, started.closed, false, log, ctx.signal);
    const arn = started.executionArn;
    // Rerun Behaviour Redrive Failed Execution: it runs again through a redrive, not a start.
    const redriven = started.redriveDate !== undefined;
    if (!task.wait) {
      const how = redriven ? "redriven" : "started";
      const result = runningResult(ctx, arn, name, started.startDate);
      // The header StartExecution carried (a redrive sends none), as a waiting start reports it.
      if (!redriven && task.traceHeader) result.traceHeader = task.traceHeader;
      if (redriven) {
        result.redriveDate = started.redriveDate;
        if (started.redriveCount !== undefined) result.redriveCount = started.redriveCount;
      }
      return {
        exitCode: EXIT.success,
        description: started.startedNow
          ? `execution ${name} ${how}${note}`
          : `execution ${name} is running (${how} earlier by this run)${note}`,
        changed: started.startedNow,
        result,
      };
    }

    if (arn.includes(":express:")) {
      // AWS keeps no status of an Express execution that DescribeExecution could read.
      const description = `execution ${name} started on an EXPRESS state machine, whose executions cannot be waited on through DescribeExecution; use the action Start Synchronous Express Execution to run it and get its result`;
      log.error(description);
      const result = runningResult(ctx, arn, name, started.startDate);
      if (task.traceHeader) result.traceHeader = task.traceHeader;
      return {
        exitCode: EXIT.wrongStateMachineType,
        description,
        changed: started.startedNow,
        result,
      };
    }
    return await superviseExecution(ctx, {
      executionArn: arn,
      known: { name, ...stateMachineOf(stateMachine), startDate: started.startDate },
      // A redrive's run started at the redrive.
      executionStart: new Date(started.redriveDate ?? started.startDate ?? launchedAt),
      changed: started.startedNow,
      redriveCountBefore: started.redriveCountBefore,
      unreadable: started.unreadable,
    });
  } catch (error) {
    const name = current.name;
    const arn = outputs.current.execution_arn;
    if (ctx.signal?.aborted) return cancelledDuringCall(ctx, name, arn, current.call);
    const classified = classifyError(error);
    const unanswered = current.call && unansweredStart(ctx, current.call, classified, findable);
    if (unanswered) {
      log.error(unanswered.description);
      return unanswered;
    }
    if (!arn) throw classified;
    // Whatever failed after the start, the outcome carries the execution ARN so an
    // operator (or a rerun) can find it.
    log.error(classified.message);
    const result = runningResult(ctx, arn, name, null);
    return {
      exitCode: classified.exitCode,
      description: classified.message,
      changed: true,
      result,
    };
  }
}

/**
 * A StartExecution or RedriveExecution sent that got no answer even after the SDK's retries
 * (exit 10): the execution may have started (or been redriven), and its ARN is known (this
 * program chose the name), so the description names it. Nothing was read: no result,
 * `changed` false.
 */
function unansweredStart(
  ctx: ActionContext,
  call: InFlight,
  error: ProductError,
  findable: boolean,
): Outcome | null {
  const rerun = findsItsPlace(findable, ctx.config.context)
    ? "; a rerun of this task instance re-attaches to it while it runs"
    : "";
  if (call.kind === "start" && call.takenAfterLostAttempt && !call.rejoining) {
    // AWS answered the start's retry (the name is taken) but not an earlier attempt, and
    // the look that would tell whose execution that is failed.
    return {
      exitCode: error.exitCode,
      description: `${error.message}; AWS gave no answer to an attempt of the start of execution ${call.name} and called its name taken when the start was retried, so this task may have started it: ${call.arn}${rerun}`,
      changed: false,
      result: null,
    };
  }
  if (!call.sent || call.answered || call.rejoining) return null;
  if (error.exitCode !== EXIT.connection) return null;
  const what =
    call.kind === "start"
      ? `the start of execution ${call.name}, so it may have started: ${call.arn}${rerun} (unless the state machine is of type EXPRESS, whose executions have ARNs of their own)`
      : `the redrive of execution ${call.name}, so it may have been redriven: ${call.arn}${rerun}`;
  return {
    exitCode: error.exitCode,
    description: `${error.message}; AWS gave no answer to ${what}`,
    changed: false,
    result: null,
  };
}

/** A cancel that aborted a call in flight (a start or a redrive that had not answered). */
async function cancelledDuringCall(
  ctx: ActionContext,
  name: string,
  arn: string | undefined,
  call: InFlight | undefined,
): Promise<Outcome> {
  const { config, aws, log, outputs } = ctx;
  if (!arn && call && !call.answered) return cancelledUnconfirmed(ctx, call);
  if (!arn && call?.takenAfterLostAttempt && !call.rejoining) {
    const description = `task cancelled while this run looked at execution ${call.name}, whose name AWS called taken when the start was retried after an attempt that got no answer; this task may have started it: ${call.arn}`;
    log.warn(description);
    return { exitCode: EXIT.cancelled, description, changed: false, result: null };
  }
  if (!arn && call) {
    // AWS answered the last start without starting anything: the name was taken, and the
    // run was looking up its place (or asking AWS to compare the inputs of a running one).
    const description = `task cancelled while this run looked up the task instance's executions (AWS said the name ${call.name} is taken); this run started nothing`;
    log.warn(description);
    return { exitCode: EXIT.cancelled, description, changed: false, result: null };
  }
  if (!arn) {
    log.warn("task cancelled before AWS confirmed the start; the execution may have started");
    return {
      exitCode: EXIT.cancelled,
      description: `task cancelled before AWS confirmed the start of execution ${name}; it may have started`,
      changed: false,
      result: null,
    };
  }
  const stopped =
    config.task.stopExecutionOnCancel &&
    (await stopExecution(aws.sfn, arn, CANCEL_ERROR, cancelCause(ctx), log));
  if (stopped) outputs.set({ execution_status: "ABORTED" });
  const result = runningResult(ctx, arn, name, null);
  return {
    exitCode: EXIT.cancelled,
    description: stopped
      ? `task cancelled; execution ${name} stopped`
      : `task cancelled; execution ${name} may still be running`,
    changed: true,
    result,
  };
}

const CANCEL_ERROR = "ue-aws-stepfunctions.Cancelled";

function cancelCause(ctx: ActionContext): string {
  return `cancelled with ${ctx.config.context.taskName ?? "the scheduler task"}`;
}

/**
 * A cancel before AWS answered a StartExecution or a RedriveExecution. The program chose the
 * execution's name, so its ARN is known: a request that never went out started nothing; one
 * that did is stopped by that ARN (Stop Execution on Cancel), and ExecutionDoesNotExist
 * (asked again within the stop's time, as AWS may still be carrying the start out) means it
 * did not start. With the setting off, the description names the ARN for an operator.
 */
async function cancelledUnconfirmed(ctx: ActionContext, call: InFlight): Promise<Outcome> {
  const { config, aws, log, outputs } = ctx;
  const { name, arn } = call;
  const start = call.kind === "start";
  const what = start ? `the start of execution ${name}` : `the redrive of execution ${name}`;
  const notDone = (why: string): Outcome => {
    const description = `task cancelled before ${what} ${why}`;
    log.warn(description);
    return { exitCode: EXIT.cancelled, description, changed: false, result: null };
  };
  if (!call.sent) {
    return notDone(`was sent to AWS; it ${start ? "did not start" : "was not redriven"}`);
  }
  const mayHave = start ? "it may have started" : "it may have been redriven";
  const stopFailed = `may still be running, as stopping it failed: ${arn}`;
  if (!config.task.stopExecutionOnCancel) {
    return notDone(
      `was confirmed by AWS; ${mayHave} and is then left running (Stop Execution on Cancel is off): ${arn}`,
    );
  }
  if (start) {
    const stop = await stopUnconfirmedStart(aws.sfn, arn, CANCEL_ERROR, cancelCause(ctx), log);
    if (stop === "absent") {
      // An EXPRESS state machine's executions have ARNs of their own that StopExecution does
      // not serve: that case cannot be told apart here without another call and permission.
      return notDone(
        "was confirmed by AWS; it did not start (no execution of that name exists), unless the state machine is of type EXPRESS, whose executions StopExecution does not see",
      );
    }
    if (stop === "failed") return notDone(`was confirmed by AWS; ${mayHave} and ${stopFailed}`);
    return stoppedNow(ctx, name, arn, "it had started, AWS had not confirmed it yet");
  }
  const redrive = await stopUnconfirmedRedrive(
    aws.sfn,
    arn,
    call.redriveCountBefore ?? 0,
    CANCEL_ERROR,
    cancelCause(ctx),
    log,
  );
  if (redrive.kind === "not-redriven") {
    return notDone(
      `was confirmed by AWS; it was not redriven (AWS shows it as before the redrive): ${arn}`,
    );
  }
  if (redrive.kind === "failed")
    return notDone(`was confirmed by AWS; ${mayHave} and ${stopFailed}`);
  if (redrive.kind === "ended") {
    outputs.set({ execution_arn: arn, execution_status: redrive.status });
    const description = `task cancelled; execution ${name} was redriven and has ended ${redrive.status} since`;
    log.warn(description);
    return {
      exitCode: EXIT.cancelled,
      description,
      changed: true,
      result: runningResult(ctx, arn, name, null),
    };
  }
  return stoppedNow(ctx, name, arn, "it had been redriven, AWS had not confirmed it yet");
}

/** The execution of a call a cancel cut off, stopped by its ARN. */
function stoppedNow(ctx: ActionContext, name: string, arn: string, how: string): Outcome {
  ctx.outputs.set({ execution_arn: arn, execution_status: "ABORTED" });
  return {
    exitCode: EXIT.cancelled,
    description: `task cancelled; execution ${name} stopped (${how})`,
    changed: true,
    result: runningResult(ctx, arn, name, null),
  };
}

export const startAsynchronousExecution: Action = { run };
