/**
 * What every action does with an execution: start it (or re-attach to this run's), describe
 * it, wait for its end, turn its end into an outcome (with failure details from the
 * history), stop it, redrive it. On the narrow Step Functions view; errors are classified
 * here, at the boundary, into the product's.
 */
import type { DescribeExecutionOutput, HistoryEvent } from "@aws-sdk/client-sfn";
import { isThrottlingError } from "@smithy/core/retry";
import {
  classifyError,
  isKmsDataError,
  isRetryable,
  neverConnected,
  readOnceMoreIfDropped,
} from "../aws/classify.ts";
import { refusalDate, type StepFunctions } from "../aws/step-functions.ts";
import {
  AuthenticationError,
  DataValidationError,
  type ProductError,
  StatusUnavailableError,
} from "../errors.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import { clean } from "../execution-name.ts";
import { isExpressExecutionArn, type ParsedStateMachineArn } from "../fields/validate.ts";
import type { Logger } from "../log.ts";
import type { ExecutionResult, Outcome } from "../output/extension-output.ts";
import type { OutputFields } from "../output/output-fields.ts";
import {
  afterCheck,
  formatDuration,
  INITIAL_POLL_STATE,
  type PollState,
  stillRunningDue,
} from "../polling.ts";
import { consoleUrlFor } from "../console-link.ts";
import { STILL_GOING } from "../run-place.ts";
import type { SharedAnswer, StatusSource } from "../wait-sharing/shared-status.ts";
import {
  type MapRunProgress,
  mapRunWatcher,
  progressText,
  readMapRuns,
  resultWriterLocation,
} from "./map-runs.ts";
import { type Described, describeReadable, statusCheck } from "./status-check.ts";

export const TERMINAL = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]);

/** A log line with the execution's console page, where it has one. */
export function logConsoleLink(log: Logger, executionArn: string): void {
  const url = consoleUrlFor(executionArn);
  if (url) log.info(`console: ${url}`);
}

/** ISO 8601 with offset, or null. */
export function isoDate(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** The parsed value of the execution's output, when it is JSON. */
function parseOutput(output: string | undefined): { outputParsed?: unknown } {
  if (output === undefined) return {};
  try {
    return { outputParsed: JSON.parse(output) as unknown };
  } catch {
    return {};
  }
}

export function toResult(d: Partial<Described>): ExecutionResult {
  return {
    executionArn: d.executionArn as string,
    stateMachineArn: d.stateMachineArn ?? null,
    ...(d.stateMachineVersionArn ? { stateMachineVersionArn: d.stateMachineVersionArn } : {}),
    ...(d.stateMachineAliasArn ? { stateMachineAliasArn: d.stateMachineAliasArn } : {}),
    ...(d.traceHeader ? { traceHeader: d.traceHeader } : {}),
    name: d.name ?? null,
    status: d.status ?? "RUNNING",
    startDate: isoDate(d.startDate),
    stopDate: isoDate(d.stopDate),
    output: d.output ?? null,
    ...parseOutput(d.output),
    outputDetails: d.outputDetails ? { included: d.outputDetails.included ?? false } : null,
    error: d.error ?? null,
    cause: d.cause ?? null,
    failedState: null,
    redriveCount: d.redriveCount ?? null,
    redriveStatus: d.redriveStatus ?? null,
    ...(d.redriveDate ? { redriveDate: isoDate(d.redriveDate) } : {}),
    ...(d.unreadable ? { dataUnavailable: unreadText(d.unreadable) } : {}),
  };
}

export interface FailureDetails {
  error: string | null;
  cause: string | null;
  failedState: string | null;
  /** Set when a Map Run failed on the way (its counts are worth a look). */
  mapRunFailed?: true;
}

const FAILURE_EVENTS = new Set(["ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"]);

/** Error, cause and failing state from the most recent history events. */
export async function failureFromHistory(
  sfn: StepFunctions,
  executionArn: string,
  pageLimit = 5,
  signal?: AbortSignal,
  includeExecutionData = true,
): Promise<FailureDetails> {
  const details: FailureDetails = { error: null, cause: null, failedState: null };
  let nextToken: string | undefined;
  for (let page = 0; page < pageLimit; page++) {
    const reply = await sfn.getExecutionHistory(
      {
        executionArn,
        reverseOrder: true,
        maxResults: 100,
        ...(includeExecutionData ? {} : { includeExecutionData: false }),
        ...(nextToken ? { nextToken } : {}),
      },
      { abortSignal: signal },
    );
    if (readEvents(reply.events ?? [], details)) return details;
    nextToken = reply.nextToken;
    if (!nextToken) break;
  }
  return details;
}

/**
 * Error, cause and failing state from history events, newest first (pure). JSONPath and
 * JSONata state machines alike: a JSONata expression that fails is an `EvaluationFailed`
 * event naming its state.
 */
export function failureIn(newestFirst: readonly HistoryEvent[]): FailureDetails {
  const details: FailureDetails = { error: null, cause: null, failedState: null };
  readEvents(newestFirst, details);
  return details;
}

/** Read events into the details; true once the failing state is known. */
function readEvents(newestFirst: readonly HistoryEvent[], details: FailureDetails): boolean {
  for (const event of newestFirst) {
    readEvent(event, details);
    if (details.failedState !== null) return true;
  }
  return false;
}

function readEvent(event: HistoryEvent, details: FailureDetails): void {
  const evaluation = event.evaluationFailedEventDetails;
  if (evaluation) {
    details.error ??= evaluation.error ?? null;
    details.cause ??= evaluation.cause ?? null;
    if (evaluation.state) details.failedState = evaluation.state;
    return;
  }
  if (event.type && FAILURE_EVENTS.has(event.type)) {
    const d =
      event.executionFailedEventDetails ??
      event.executionTimedOutEventDetails ??
      event.executionAbortedEventDetails;
    details.error ??= d?.error ?? null;
    details.cause ??= d?.cause ?? null;
    return;
  }
  // Walking backwards, the first state entered is where the execution was when it ended.
  if (event.stateEnteredEventDetails?.name && details.failedState === null) {
    details.failedState = event.stateEnteredEventDetails.name;
  }
  if (event.type === "MapRunFailed") details.mapRunFailed = true;
  const failed =
    event.taskFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.activityFailedEventDetails ??
    event.mapRunFailedEventDetails;
  if (failed) {
    details.error ??= failed.error ?? null;
    details.cause ??= failed.cause ?? null;
  }
}

export interface Started {
  readonly executionArn: string;
  readonly startDate: string | null;
  /** True when this run started it; false when it re-attached to an existing one. */
  readonly startedNow: boolean;
  /** Set when the execution already ended before we attached. */
  readonly closed?: DescribeExecutionOutput;
  /** Set when this run redrove it: the redrive count read before the redrive. */
  readonly redriveCountBefore?: number;
  /** Set when it runs again through a redrive: its redrive count, this run's included. */
  readonly redriveCount?: number;
  /** Set when it runs again through a redrive (this run's or an earlier launch's): when. */
  readonly redriveDate?: string | null;
  /** Why the execution's data cannot be read (its KMS key), when already known. */
  readonly unreadable?: string | undefined;
}

/**
 * How far a call that starts or redrives an execution got, for a cancel that cuts it off:
 * whether a request of it went out (AWS may have received it) and whether AWS answered.
 */
export interface CallTrack {
  /** A request of it went out and, as far as its attempts tell, may have reached AWS. */
  sent: boolean;
  /** Attempts that went out, less those that never got a connection (refused, DNS). */
  reaching?: number;
  /** AWS answered (a reply or an error of its own); not after a cancel or exit 10. */
  answered: boolean;
  /** A redrive: the execution's redrive count before it, as AWS showed it. */
  redriveCountBefore?: number;
  /**
   * A start that AWS refused as taken on a retry, after an earlier attempt that may have
   * reached AWS got no answer: the execution of that name may be this start's own, until a
   * look at it tells (see ownLostStart).
   */
  takenAfterLostAttempt?: boolean;
}

/**
 * Call options that abort with `signal` and record in `track` what the call got to. An
 * attempt that never got a connection cannot have reached AWS; any other may have, whatever
 * the attempts after it met (a reply lost, then the network gone: AWS may have started it).
 */
export function trackedCall(signal: AbortSignal | undefined, track: CallTrack | undefined) {
  if (!track) return { abortSignal: signal };
  return {
    abortSignal: signal,
    onSent: () => {
      track.reaching = (track.reaching ?? 0) + 1;
      track.sent = true;
    },
    onAttemptFailed: (error: unknown) => {
      if (!neverConnected(error)) return;
      track.reaching = (track.reaching ?? 1) - 1;
      track.sent = track.reaching > 0;
    },
  };
}

/** An answer came (a reply or AWS's error), not the cancel: what the call did is known. */
function markAnswered(signal: AbortSignal | undefined, track: CallTrack | undefined): void {
  if (track && !signal?.aborted) track.answered = true;
}

/**
 * A call that failed: answered unless no answer came even after the SDK's retries (exit 10:
 * connection dropped, timeouts, 5xx), when what AWS did with it is not known (whether any
 * attempt may have reached AWS is in `track.sent`).
 */
function markFailed(
  signal: AbortSignal | undefined,
  track: CallTrack | undefined,
  classified: ProductError,
): void {
  if (classified.exitCode !== EXIT.connection) markAnswered(signal, track);
}

export interface StartRequest {
  readonly sfn: StepFunctions;
  readonly stateMachineArn: string;
  readonly stateMachine: ParsedStateMachineArn;
  readonly name: string;
  readonly input: string;
  /** The X-Ray trace header to pass, if any. */
  readonly traceHeader?: string | undefined;
  readonly log: Logger;
  readonly outputs: OutputFields;
  /** When this program started; an older start date means AWS returned an existing run. */
  readonly launchedAt: Date;
  /** Cancels the calls (and the SDK's retry sleeps). */
  readonly signal?: AbortSignal | undefined;
  /** Filled in by the StartExecution call. */
  readonly track?: CallTrack | undefined;
}

/** The state machine's ARN without a version or alias qualifier. */
export function unqualifiedArn(sm: ParsedStateMachineArn): string {
  return `arn:${sm.partition}:states:${sm.region}:${sm.accountId}:stateMachine:${sm.name}`;
}

/**
 * What the configured ARN says of the state machine before AWS describes an execution: the
 * machine, and the version (a number qualifier) or the alias (any other qualifier) it names.
 */
export function stateMachineOf(sm: ParsedStateMachineArn): {
  stateMachineArn: string;
  stateMachineVersionArn?: string;
  stateMachineAliasArn?: string;
} {
  const stateMachineArn = unqualifiedArn(sm);
  if (sm.qualifier === undefined) return { stateMachineArn };
  const qualified = `${stateMachineArn}:${sm.qualifier}`;
  return /^\d+$/.test(sm.qualifier)
    ? { stateMachineArn, stateMachineVersionArn: qualified }
    : { stateMachineArn, stateMachineAliasArn: qualified };
}

/** The ARN an execution of this name has (qualifiers are not part of it). */
export function executionArnFor(sm: ParsedStateMachineArn, name: string): string {
  return `arn:${sm.partition}:states:${sm.region}:${sm.accountId}:execution:${sm.name}:${name}`;
}

function sameInput(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** AWS refused the name: an execution of that name exists (closed, or with another input). */
export interface Taken {
  readonly taken: unknown;
  /**
   * The refusal answered a retry, and an earlier attempt of the same start may have reached
   * AWS without its answer coming back: that attempt may have started the execution, which
   * may then have ended before the retry (a short state machine), so AWS no longer answers
   * the retry with it but calls its name taken.
   */
  readonly afterLostAttempt: boolean;
  /** AWS's time of the refusal (its Date header), and the host's when it came. */
  readonly serverDate?: Date | undefined;
  readonly repliedAt: number;
}

/**
 * StartExecution. A running Standard execution of the same name and input comes back as a
 * re-attach; a taken name (closed, or another input) as `Taken`, for the caller to decide.
 * `rejoining`: the name is known to be in use, the call only has AWS compare the inputs.
 */
export async function startOrTaken(
  req: StartRequest,
  options: { rejoining?: boolean } = {},
): Promise<Started | Taken> {
  const { sfn, log } = req;
  const { rejoining = false } = options;
  req.outputs.set({ generated_execution_name: req.name });
  log.info(
    rejoining
      ? `asking AWS whether execution ${req.name} runs with this task's input (StartExecution of a running execution's name and input answers that execution)`
      : `starting execution ${req.name} of ${req.stateMachineArn}`,
  );
  let reply: {
    executionArn?: string | undefined;
    startDate?: Date | undefined;
    serverDate?: Date | undefined;
  };
  let repliedAt = 0;
  try {
    reply = await sfn.startExecution(
      {
        stateMachineArn: req.stateMachineArn,
        name: req.name,
        input: req.input,
        ...(req.traceHeader ? { traceHeader: req.traceHeader } : {}),
      },
      trackedCall(req.signal, req.track),
    );
    repliedAt = Date.now();
    markAnswered(req.signal, req.track);
  } catch (error) {
    if ((error as { name?: string }).name !== "ExecutionAlreadyExists") {
      const classified = classifyError(error, { operation: "StartExecution" });
      markFailed(req.signal, req.track, classified);
      throw classified;
    }
    markAnswered(req.signal, req.track);
    // Each attempt that may have reached AWS counts, this refusal's included.
    const afterLostAttempt = (req.track?.reaching ?? 0) > 1;
    if (req.track) req.track.takenAfterLostAttempt = afterLostAttempt;
    return {
      taken: error,
      afterLostAttempt,
      serverDate: refusalDate(error),
      repliedAt: Date.now(),
    };
  }
  const executionArn = reply.executionArn as string;
  req.outputs.set({ execution_arn: executionArn, execution_status: "RUNNING" });
  // AWS answers a repeated start of a running Standard execution (same name and input)
  // with the existing execution: that is a re-attach, not a new start. Its start (AWS's
  // clock) is compared with this launch (the host's), moved by how far the host's clock is
  // surely off AWS's (see clockOffsetMs).
  const launched = req.launchedAt.getTime() + clockOffsetMs(reply.serverDate, repliedAt);
  const existed = rejoining || (!!reply.startDate && reply.startDate.getTime() < launched - 1000);
  log.info(
    existed
      ? `re-attached to execution ${executionArn}, started by an earlier launch of this run`
      : `started execution ${executionArn}`,
  );
  logConsoleLink(log, executionArn);
  return { executionArn, startDate: isoDate(reply.startDate), startedNow: !existed };
}

/**
 * How far AWS's clock is surely ahead of this host's (negative: behind), from a reply's
 * Date header (whole seconds: AWS's time was within the second after it) and when the host
 * received it; 0 when the two agree within that second (or there is no header). Never
 * more than the header proves, so a host in step with AWS is judged by its own clock.
 */
export function clockOffsetMs(serverDate: Date | undefined, repliedAt: number): number {
  if (!serverDate || repliedAt === 0) return 0;
  const atLeast = serverDate.getTime() - repliedAt;
  const atMost = atLeast + 1000;
  if (atLeast > 0) return atLeast;
  if (atMost < 0) return atMost;
  return 0;
}

/**
 * AWS refused a retry of this start as taken after an earlier attempt got no answer
 * (`taken.afterLostAttempt`): whether that attempt started the execution of this name. It
 * did when the execution has this task's input (see inputDiffers: one whose input these
 * credentials cannot read counts unless it is RUNNING) and started at or after this launch (AWS's
 * clock, moved by how far the host's is surely off it, within the second the re-attach
 * check allows too); then it is this start's, reported as started now. Otherwise (another
 * input, an older start: an earlier run's) null, and `takenAfterLostAttempt` is cleared.
 * A failed look throws, classified; the caller's outcome then names the execution.
 */
export async function ownLostStart(
  req: StartRequest,
  taken: Taken,
  existing?: Described,
): Promise<Started | null> {
  const arn = executionArnFor(req.stateMachine, req.name);
  let seen = existing;
  if (!seen) {
    try {
      seen = await lookAtTaken(req, arn, true);
    } catch (error) {
      throw classifyError(error, { operation: "DescribeExecution" });
    }
  }
  const launched = req.launchedAt.getTime() + clockOffsetMs(taken.serverDate, taken.repliedAt);
  const startedAt = seen.startDate?.getTime();
  const sameStart =
    startedAt !== undefined && startedAt >= launched - 1000 && !inputDiffers(seen, req.input);
  if (!sameStart) {
    if (req.track) req.track.takenAfterLostAttempt = false;
    return null;
  }
  const status = seen.status ?? "RUNNING";
  req.outputs.set({ execution_arn: arn, execution_status: status });
  req.log.info(
    `started execution ${arn} (an attempt whose answer was lost started it; AWS then called its name taken when the start was retried${TERMINAL.has(status) ? `, and it has ended ${status} since` : ""})`,
  );
  logConsoleLink(req.log, arn);
  return {
    executionArn: arn,
    startDate: isoDate(seen.startDate),
    startedNow: true,
    ...(seen.unreadable !== undefined ? { unreadable: seen.unreadable } : {}),
  };
}

/**
 * DescribeExecution of the execution whose name AWS called taken. After a lost attempt
 * (`justStarted`) it may be that attempt's, started moments ago, which DescribeExecution,
 * eventually consistent, may not show yet: a look that does not find it is made again, as
 * after any start (see statusCheck).
 */
function lookAtTaken(req: StartRequest, arn: string, justStarted: boolean): Promise<Described> {
  if (!justStarted) return describeReadable(req.sfn, arn, req.log, { signal: req.signal });
  return statusCheck({ sfn: req.sfn, executionArn: arn, log: req.log, justStarted, sleep })(
    req.signal,
  );
}

/**
 * Start the execution, or re-attach when this run's execution already exists (`rejoining`:
 * it is known to exist; see startOrTaken).
 */
export async function startExecution(
  req: StartRequest,
  options: { rejoining?: boolean } = {},
): Promise<Started> {
  const answer = await startOrTaken(req, options);
  if (!("taken" in answer)) return answer;
  const arn = executionArnFor(req.stateMachine, req.name);
  const ownMaybe = answer.afterLostAttempt && !options.rejoining;
  let existing: Described;
  try {
    existing = await lookAtTaken(req, arn, ownMaybe);
  } catch (error) {
    throw classifyError(error, { operation: "DescribeExecution" });
  }
  if (ownMaybe) {
    const own = await ownLostStart(req, answer, existing);
    if (own) return own;
  }
  return attachExisting(req, existing, answer.taken);
}

/**
 * Whether the execution AWS called taken has another input than `input`. When its KMS key
 * keeps the input from these credentials (`unreadable`), AWS's refusal tells for a RUNNING
 * execution (a start with the same input would have been answered with it); an ended one,
 * or one between a redrive and its run, counts as the same.
 */
function inputDiffers(existing: Described, input: string): boolean {
  if (existing.unreadable === undefined) return !sameInput(existing.input, input);
  return (existing.status ?? "RUNNING") === "RUNNING";
}

/**
 * Join an existing execution of the request's name, after AWS refused a start of that name:
 * its result when it has ended, else the running execution. Another input than the
 * request's is a conflict (exit 20). When its KMS key keeps the input from these
 * credentials (`unreadable`), AWS's refusal tells for a RUNNING execution (a start with the
 * same input would have been answered); an ended one, or one between a redrive and its
 * run (PENDING_REDRIVE), is joined without the comparison.
 */
export function attachExisting(
  req: StartRequest,
  existing: Described,
  original?: unknown,
): Started {
  const arn = existing.executionArn ?? executionArnFor(req.stateMachine, req.name);
  const status = existing.status ?? "RUNNING";
  const { unreadable } = existing;
  const differs = inputDiffers(existing, req.input);
  if (!differs && unreadable !== undefined) {
    req.log.warn(
      `the input of execution ${req.name} cannot be read (${unreadable}), so it is not compared with this task's input`,
    );
  }
  if (differs) {
    const what = TERMINAL.has(status)
      ? "give another Execution Name or rerun the task (a rerun gets a new suffix)"
      : `it is still ${status}: wait for it to end or stop it, then rerun the task (a rerun after its end starts a new execution)`;
    throw new DataValidationError(
      `an execution named ${req.name} already exists with a different input; ${what}`,
      { cause: original },
    );
  }
  req.outputs.set({
    generated_execution_name: req.name,
    execution_arn: arn,
    execution_status: status,
  });
  if (TERMINAL.has(status)) {
    req.log.info(
      `execution ${req.name} already ran for this run and ended ${status}; reporting its result`,
    );
    return {
      executionArn: arn,
      startDate: isoDate(existing.startDate),
      startedNow: false,
      closed: existing,
    };
  }
  req.log.info(`re-attached to execution ${arn}, started by an earlier launch of this run`);
  logConsoleLink(req.log, arn);
  return {
    executionArn: arn,
    startDate: isoDate(existing.startDate),
    startedNow: false,
    unreadable,
  };
}

const REDRIVABLE_END = new Set(["FAILED", "TIMED_OUT", "ABORTED"]);

export interface RedriveRequest {
  readonly sfn: StepFunctions;
  readonly previousArn: string;
  readonly previousName: string;
  /** What DescribeExecution said of it, when already read. */
  readonly previous?: DescribeExecutionOutput | undefined;
  /**
   * The client token's stem (the task instance's name base): with the redrive's ordinal it
   * makes the redrive idempotent for launches that read the same redrive count.
   */
  readonly tokenBase: string;
  readonly log: Logger;
  readonly outputs: OutputFields;
  readonly signal?: AbortSignal | undefined;
  /** Filled in by the RedriveExecution call. */
  readonly track?: CallTrack | undefined;
}

/**
 * A RedriveExecution client token (AWS: 1-64 printable ASCII): the stem, cleaned, and the
 * ordinal of the redrive about to be made. Launches that read the same redrive count send
 * the same token, so AWS makes one redrive; a later redrive (count grown) is a new request.
 */
export function redriveToken(stem: string, redriveCountBefore: number): string {
  const suffix = `-r${redriveCountBefore + 1}`;
  const head = clean(stem).slice(0, 64 - suffix.length) || "redrive";
  return `${head}${suffix}`;
}

/** Why the previous execution cannot be redriven, or null when it can. */
export function redriveRefusal(previous: DescribeExecutionOutput): string | null {
  const status = previous.status ?? "UNKNOWN";
  if (!REDRIVABLE_END.has(status)) return `it is ${status}, not FAILED, TIMED_OUT or ABORTED`;
  if (previous.redriveStatus === "NOT_REDRIVABLE") {
    return `AWS reports it not redrivable${previous.redriveStatusReason ? ` (${previous.redriveStatusReason})` : ""}`;
  }
  if (
    previous.stateMachineArn?.includes(":express:") ||
    previous.executionArn?.includes(":express:")
  ) {
    return "Express executions cannot be redriven";
  }
  return null;
}

/**
 * Redrive the previous execution, or re-attach to a redrive this same rerun already made.
 * Resolves to null (with a log line saying why) when a new execution must be started.
 */
export async function redrivePrevious(req: RedriveRequest): Promise<Started | null> {
  const { sfn, log } = req;
  let previous: DescribeExecutionOutput;
  if (req.previous) previous = req.previous;
  else {
    try {
      // Its status and redrive fields are all this needs: no data, which its KMS key may keep.
      previous = await sfn.describeExecution(
        { executionArn: req.previousArn, includedData: "METADATA_ONLY" },
        { abortSignal: req.signal },
      );
    } catch (error) {
      if ((error as { name?: string }).name === "ExecutionDoesNotExist") {
        log.info(`no previous execution ${req.previousName} to redrive; starting a new execution`);
        return null;
      }
      throw classifyError(error, { operation: "DescribeExecution" });
    }
  }
  if (STILL_GOING.has(previous.status ?? "RUNNING") && (previous.redriveCount ?? 0) > 0) {
    // A relaunch of this rerun after its redrive: join it.
    req.outputs.set({
      generated_execution_name: req.previousName,
      execution_arn: req.previousArn,
      execution_status: previous.status ?? "RUNNING",
    });
    log.info(`re-attached to redriven execution ${req.previousArn}`);
    return {
      executionArn: req.previousArn,
      startDate: isoDate(previous.startDate),
      startedNow: false,
      redriveCount: previous.redriveCount ?? 1,
      redriveDate: isoDate(previous.redriveDate),
    };
  }
  const refusal = redriveRefusal(previous);
  if (refusal) {
    log.info(
      `previous execution ${req.previousName} is not redriven: ${refusal}; starting a new execution`,
    );
    return null;
  }
  if (req.track) req.track.redriveCountBefore = previous.redriveCount ?? 0;
  try {
    const reply = await sfn.redriveExecution(
      {
        executionArn: req.previousArn,
        clientToken: redriveToken(req.tokenBase, previous.redriveCount ?? 0),
      },
      trackedCall(req.signal, req.track),
    );
    markAnswered(req.signal, req.track);
    req.outputs.set({
      generated_execution_name: req.previousName,
      execution_arn: req.previousArn,
      execution_status: "RUNNING",
    });
    log.info(
      `redrove execution ${req.previousArn} (ended ${previous.status}); it resumes from the state that failed`,
    );
    logConsoleLink(log, req.previousArn);
    return {
      executionArn: req.previousArn,
      startDate: isoDate(previous.startDate),
      startedNow: true,
      redriveCountBefore: previous.redriveCount ?? 0,
      redriveCount: (previous.redriveCount ?? 0) + 1,
      redriveDate: isoDate(reply.redriveDate),
    };
  } catch (error) {
    const classified = classifyError(error, { operation: "RedriveExecution" });
    markFailed(req.signal, req.track, classified);
    if ((error as { name?: string }).name === "ExecutionNotRedrivable") {
      log.info(
        `previous execution ${req.previousName} is not redrivable (${(error as Error).message}); starting a new execution`,
      );
      return null;
    }
    throw classified;
  }
}

export interface WaitRequest {
  /** Step Functions with one attempt per call: the loop has its own backoff. */
  readonly sfn: StepFunctions;
  /**
   * Fetch fresh credentials (after AWS called the current ones expired); false when the
   * source can give none but the expired ones. Rejects at once when `signal` fires.
   */
  readonly refreshCredentials?: (signal?: AbortSignal) => Promise<boolean>;
  readonly executionArn: string;
  /** When the execution started (for the adaptive schedule); now when unknown. */
  readonly executionStart: Date;
  readonly pollingIntervalSeconds: number;
  /** 0 = no limit. */
  readonly maximumWaitSeconds: number;
  readonly log: Logger;
  readonly outputs: OutputFields;
  readonly signal?: AbortSignal | undefined;
  /** Span of unbroken status-call failures after which the wait gives up (exit 28). */
  readonly failureLimitMs: number;
  readonly random?: () => number;
  /**
   * Answers some "still RUNNING" checks without a call of this task's own (SPEC 5.11), once
   * the execution is known to be RUNNING (from the task's own call, or because this task has
   * just started it); an end is always read by the task's own DescribeExecution.
   */
  readonly statusSource?: StatusSource | undefined;
  /** This program has just started or redriven the execution (DescribeExecution may lag). */
  readonly justStarted?: boolean | undefined;
  /** When this program redrove it: the redrive count read before the redrive. */
  readonly redriveCountBefore?: number | undefined;
  /** Why the execution's data cannot be read (KMS), when already known. */
  readonly unreadable?: string | undefined;
  /** Called after each status check that was answered (the quiet collection's cue). */
  readonly onAnswered?: (() => void) | undefined;
}

export type WaitResult =
  | { readonly kind: "ended"; readonly execution: DescribeExecutionOutput }
  | {
      readonly kind: "maximum-wait" | "cancelled";
      readonly last: DescribeExecutionOutput | null;
      /** The state found waiting for a task token at the last look, if any. */
      readonly waitingForCallback: string | null;
    };

/** Look for a state waiting on a callback (and at Map Runs) this long after the wait began, then with each "still running" line. */
export const CALLBACK_LOOK_AFTER_MS = 3_000;

const TASK_CLOSED = new Set([
  "TaskSucceeded",
  "TaskFailed",
  "TaskTimedOut",
  "TaskSubmitFailed",
  "TaskStartFailed",
]);

/**
 * The state that waits for a task token, from history events newest first, or null.
 * Walking backwards, each closed task cancels out the scheduling before it; a scheduled
 * `.waitForTaskToken` task left open is waiting, and the state entered just before it is its state.
 */
export function waitingStateIn(newestFirst: readonly HistoryEvent[]): string | null {
  let closed = 0;
  let waiting = false;
  for (const event of newestFirst) {
    const type = event.type ?? "";
    if (waiting) {
      if (type === "TaskStateEntered") return event.stateEnteredEventDetails?.name ?? null;
      continue;
    }
    if (TASK_CLOSED.has(type)) closed++;
    else if (type === "TaskScheduled") {
      if (closed > 0) closed--;
      else if (event.taskScheduledEventDetails?.resource?.endsWith(".waitForTaskToken")) {
        waiting = true;
      }
    }
  }
  return null;
}

/**
 * Whether an execution may have Map Runs, from its newest history events: yes when a
 * MapRunStarted is among them, or when they do not reach back to ExecutionStarted (the look
 * did not see the whole history); no only when the whole history shows none (pure).
 */
export function mayHaveMapRunsIn(newestFirst: readonly HistoryEvent[]): boolean {
  let whole = false;
  for (const event of newestFirst) {
    if (event.type === "MapRunStarted") return true;
    if (event.type === "ExecutionStarted") whole = true;
  }
  return !whole;
}

/** What one look at the newest history events tells the waiting loop. */
export interface HistoryLook {
  /** The state that waits for a task token right now, or null. */
  readonly waitingState: string | null;
  /** See mayHaveMapRunsIn(). */
  readonly mayHaveMapRuns: boolean;
}

/** The newest history events: which state waits for a task token, and whether Map Runs may exist. */
export async function lookAtHistory(
  sfn: StepFunctions,
  executionArn: string,
  signal?: AbortSignal,
): Promise<HistoryLook> {
  const reply = await readOnceMoreIfDropped(
    () =>
      sfn.getExecutionHistory(
        { executionArn, reverseOrder: true, maxResults: 50, includeExecutionData: false },
        { abortSignal: signal },
      ),
    signal,
  );
  const events = reply.events ?? [];
  return { waitingState: waitingStateIn(events), mayHaveMapRuns: mayHaveMapRunsIn(events) };
}

/** The longest delay setTimeout takes; a longer one fires at once (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A status check that the maximum wait cuts short too (a hung endpoint would otherwise hold
 * the task past it for the request timeout, times the SDK's attempts).
 */
async function describeBefore<T>(
  deadline: number,
  signal: AbortSignal | undefined,
  describe: (signal?: AbortSignal) => Promise<T>,
): Promise<T> {
  // Beyond a timer's reach (2^31 - 1 ms, about 24.8 days) a later check arms it.
  if (deadline - Date.now() > MAX_TIMER_MS) return describe(signal);
  const limit = new AbortController();
  const stop = () => limit.abort();
  const timer = setTimeout(stop, Math.max(0, deadline - Date.now()));
  signal?.addEventListener("abort", stop, { once: true });
  if (signal?.aborted) stop();
  try {
    return await describe(limit.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
  }
}

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

const EXPIRED_TOKEN = new Set(["ExpiredToken", "ExpiredTokenException"]);

function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : "Error";
}

/**
 * The waiting loop's policy on a failed status check: try again when the SDK would
 * (throttling, transient, 5xx, corrected clock skew), and also after AWS called the
 * credentials expired (fresh ones are fetched first).
 */
function worthRetrying(error: unknown): boolean {
  return isRetryable(error) || EXPIRED_TOKEN.has(errorName(error));
}

/** Shortest wait after a shared answer, however old its listing. */
const MIN_SHARED_DELAY_MS = 100;

export async function waitForExecution(req: WaitRequest): Promise<WaitResult> {
  const { log, outputs, signal } = req;
  const ceilingMs = req.pollingIntervalSeconds * 1000;
  const waitStart = Date.now();
  const deadline =
    req.maximumWaitSeconds > 0 ? waitStart + req.maximumWaitSeconds * 1000 : Infinity;
  let last: DescribeExecutionOutput | null = null;
  let lastStatus: string | undefined;
  let poll: PollState = INITIAL_POLL_STATE;
  let reportedAt = 0;
  let callbackLooked = false;
  let waitingForCallback: string | null = null;
  /**
   * When what the loop last learned was true (ms since the epoch). An execution this task has
   * just started (not redriven) is RUNNING as of the StartExecution reply, just before the wait.
   */
  const freshStart = req.justStarted === true && req.redriveCountBefore === undefined;
  let knownAt = freshStart ? waitStart : 0;
  // Distributed Map progress, looked at with the "still running" lines only.
  const lookAtMapRuns = mapRunWatcher({
    sfn: req.sfn,
    executionArn: req.executionArn,
    log,
    outputs,
  });
  const describe = statusCheck({
    sfn: req.sfn,
    executionArn: req.executionArn,
    log,
    justStarted: req.justStarted,
    redriveCountBefore: req.redriveCountBefore,
    unreadable: req.unreadable,
    sleep,
  });
  /**
   * One history read now and then, never on every poll: it says which state waits for a task
   * token, and whether the execution may have Map Runs. Their look (ListMapRuns, a bucket of
   * 100 calls refilled at one per second for the whole account) follows only when it may:
   * many tasks waiting on executions without a Distributed Map would drain that bucket.
   */
  const lookAtHistoryAndMapRuns = async () => {
    // An Express child execution of a Distributed Map: GetExecutionHistory does not serve
    // Express executions, and an Express workflow runs no Distributed Map of its own.
    if (isExpressExecutionArn(req.executionArn)) return;
    let mayHaveMapRuns = true;
    try {
      const look = await lookAtHistory(req.sfn, req.executionArn, signal);
      mayHaveMapRuns = look.mayHaveMapRuns;
      const state = look.waitingState;
      if (state !== waitingForCallback) {
        if (state) log.info(`state "${state}" is waiting for a callback (task token)`);
        else if (waitingForCallback) log.info(`state "${waitingForCallback}" got its callback`);
        waitingForCallback = state;
      }
    } catch (error) {
      log.debug(`cannot read the history to find a waiting callback: ${(error as Error).message}`);
    }
    if (mayHaveMapRuns) await lookAtMapRuns(signal);
  };

  for (;;) {
    if (signal?.aborted) return { kind: "cancelled", last, waitingForCallback };
    if (Date.now() >= deadline) return { kind: "maximum-wait", last, waitingForCallback };

    let delay: number;
    try {
      const askedAt = Date.now();
      const knownRunning = lastStatus === "RUNNING" || (lastStatus === undefined && freshStart);
      const shared: SharedAnswer =
        req.statusSource && knownRunning
          ? await req.statusSource.check(knownAt, poll.failures > 0)
          : { kind: "ask" };
      if (shared.kind === "later") {
        // A peer's listing answers in a moment: no call of this task's own until then.
        await sleep(Math.max(0, Math.min(shared.inMs, deadline - Date.now())), signal);
        continue;
      }
      const reply: Described | null =
        shared.kind === "running" ? last : await describeBefore(deadline, signal, describe);
      knownAt = shared.kind === "running" ? shared.at : askedAt;
      if (poll.failures > 0) {
        log.info(`status checks answer again after ${poll.failures} failed attempt(s)`);
      }
      if (reply) last = reply;
      const status = reply?.status ?? "RUNNING";
      if (status !== lastStatus) {
        if (lastStatus !== undefined) log.info(`execution status ${lastStatus} -> ${status}`);
        else log.info(`execution status ${status}`);
        lastStatus = status;
        outputs.set({ execution_status: status });
      }
      if (reply && TERMINAL.has(status)) return { kind: "ended", execution: reply };
      const elapsedMs = Date.now() - req.executionStart.getTime();
      if (stillRunningDue(Date.now() - waitStart, reportedAt)) {
        reportedAt = Date.now() - waitStart;
        log.info(`execution still ${status} after ${formatDuration(elapsedMs)}`);
        await lookAtHistoryAndMapRuns();
      } else if (!callbackLooked && Date.now() - waitStart >= CALLBACK_LOOK_AFTER_MS) {
        callbackLooked = true;
        await lookAtHistoryAndMapRuns();
      }
      req.onAnswered?.();
      const next = afterCheck(
        poll,
        { kind: "answered", elapsedMs },
        Date.now(),
        ceilingMs,
        req.random,
      );
      poll = next.state;
      // A shared answer was true as of its listing: the next look is timed from then.
      delay =
        shared.kind === "running"
          ? Math.max(MIN_SHARED_DELAY_MS, next.delayMs - (Date.now() - shared.at))
          : next.delayMs;
    } catch (error) {
      if (signal?.aborted) return { kind: "cancelled", last, waitingForCallback };
      // A status check cut short by the maximum wait: the limit is what happened.
      if (Date.now() >= deadline) return { kind: "maximum-wait", last, waitingForCallback };
      if (!worthRetrying(error)) {
        throw classifyError(error, { operation: "DescribeExecution" });
      }
      const now = Date.now();
      const throttled = isThrottlingError(error as never);
      const next = afterCheck(
        poll,
        { kind: throttled ? "throttled" : "failed" },
        now,
        ceilingMs,
        req.random,
      );
      poll = next.state;
      delay = next.delayMs;
      const failingFor = now - poll.firstFailureAt;
      const reason = classifyError(error, { operation: "DescribeExecution" }).message;
      if (failingFor >= req.failureLimitMs && poll.failures >= 3) {
        throw new StatusUnavailableError(
          `status checks of ${req.executionArn} failed ${poll.failures} times over ${formatDuration(failingFor)} (last: ${reason}); the execution may still be running, and a rerun of this task re-attaches to it`,
          { cause: error },
        );
      }
      const refresh = req.refreshCredentials;
      if (EXPIRED_TOKEN.has(errorName(error)) && refresh) {
        let renewed: boolean;
        try {
          // Cut short by a cancel or the maximum wait, as a status check is.
          renewed = await describeBefore(deadline, signal, (s) => refresh(s));
        } catch (refreshError) {
          if (signal?.aborted) return { kind: "cancelled", last, waitingForCallback };
          if (Date.now() >= deadline) return { kind: "maximum-wait", last, waitingForCallback };
          throw classifyError(refreshError, { operation: "refreshing credentials" });
        }
        // Fixed keys with a session token (the field, AWS_SESSION_TOKEN, a profile's
        // aws_session_token) stay expired however often the check is tried again.
        if (!renewed) {
          throw new AuthenticationError(
            `${reason}; these credentials cannot be renewed (their session token came with the keys and ends when it was issued to end): give fresh ones, or credentials that renew themselves (a profile with role_arn or credential_process, container or instance credentials), and rerun the task to re-attach to ${req.executionArn}, which may still be running`,
            { cause: error },
          );
        }
      }
      if (poll.failures === 1 || poll.failures % 10 === 0) {
        log.warn(`status check failed (${reason}); trying again in ${(delay / 1000).toFixed(1)} s`);
      }
    }
    await sleep(Math.max(0, Math.min(delay, deadline - Date.now())), signal);
  }
}

const END_CODES: Record<string, ExitCode> = {
  SUCCEEDED: EXIT.success,
  FAILED: EXIT.executionFailed,
  ABORTED: EXIT.executionAborted,
  TIMED_OUT: EXIT.executionTimedOut,
};

/** The exit code of an execution that ended with this status. */
export function endCode(status: string): ExitCode {
  return END_CODES[status] ?? EXIT.unexpected;
}

/** What a description adds when the execution's data could not be read (its KMS key), if so. */
export function unreadNote(unreadable: string | undefined): string {
  return unreadable ? `; its ${unreadText(unreadable)}` : "";
}

/** What could not be read of an execution its KMS key keeps from these credentials, and why. */
function unreadText(why: string): string {
  return `output, error and cause could not be read: ${why}`;
}

/** The outcome of an execution that has ended, with failure details from its history. */
export async function endedOutcome(
  sfn: StepFunctions,
  execution: DescribeExecutionOutput,
  changed: boolean,
  log: Logger,
  signal?: AbortSignal,
): Promise<Outcome> {
  const result = toResult(execution);
  const status = result.status;
  const exitCode = END_CODES[status] ?? EXIT.unexpected;
  const { unreadable } = execution as Described;
  const unread = unreadNote(unreadable);
  const written = resultWriterLocation(result.outputParsed);
  if (written) {
    result.resultWriterDetails = written;
    log.info(
      `the Distributed Map wrote its results to s3://${written.bucket}/${written.key} (manifest)`,
    );
  }
  if (status === "SUCCEEDED") {
    const where = written ? `; results in s3://${written.bucket}/${written.key}` : "";
    log.info(`execution ${result.name} SUCCEEDED${where}${unread}`);
    return {
      exitCode,
      description: `execution ${result.name} SUCCEEDED${where}${unread}`,
      changed,
      result,
    };
  }
  await addFailureDetails(sfn, result, log, signal, unreadable === undefined);
  const where = result.failedState ? ` in state "${result.failedState}"` : "";
  const what = [result.error, result.cause].filter((x) => x).join(": ");
  const failedRun = result.mapRuns?.find((r) => r.status === "FAILED");
  const mapRun = failedRun ? `; ${progressText(failedRun)}` : "";
  const description = `execution ${result.name} ended ${status}${where}${what ? `: ${what}` : ""}${mapRun}${unread}`;
  log.error(description);
  return { exitCode, description, changed, result };
}

/** The Map Runs of an execution that failed in a Distributed Map: which, and their counts. */
async function addMapRuns(
  sfn: StepFunctions,
  result: ExecutionResult,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  let runs: MapRunProgress[];
  try {
    runs = await readMapRuns(sfn, result.executionArn, signal);
  } catch (error) {
    log.warn(`cannot read the Map Runs of the failed execution: ${classifyError(error).message}`);
    return;
  }
  result.mapRuns = runs;
  for (const run of runs) {
    const line = `${progressText(run)} (${run.mapRunArn})`;
    if (run.status === "FAILED") log.error(line);
    else log.info(line);
  }
}

async function addFailureDetails(
  sfn: StepFunctions,
  result: ExecutionResult,
  log: Logger,
  signal?: AbortSignal,
  includeExecutionData = true,
): Promise<void> {
  // An Express child execution of a Distributed Map has no history GetExecutionHistory reads.
  if (isExpressExecutionArn(result.executionArn)) return;
  try {
    // Without the KMS key's data, the history still names the states (not errors or causes).
    const details = await failureFromHistory(
      sfn,
      result.executionArn,
      5,
      signal,
      includeExecutionData,
    );
    result.error ??= details.error;
    result.cause ??= details.cause;
    result.failedState = details.failedState;
    if (details.mapRunFailed) await addMapRuns(sfn, result, log, signal);
  } catch (error) {
    // The history is a bonus; missing permission for it must not hide the outcome.
    const why = signal?.aborted
      ? "cut short as the task ends (cancelled, or its time is up)"
      : classifyError(error).message;
    log.warn(`cannot read the execution history for failure details: ${why}`);
  }
}

/**
 * StopExecution with an error and a cause; when the state machine's KMS key refuses these
 * credentials (error and cause are encrypted execution data), stop it without them.
 * Resolves to why it stopped without them, or undefined when they were sent.
 */
export async function stopWithDataOrWithout(
  sfn: StepFunctions,
  arn: string,
  error: string,
  cause: string,
  log: Logger,
  signal?: AbortSignal,
  track?: CallTrack,
): Promise<string | undefined> {
  try {
    await sfn.stopExecution({ executionArn: arn, error, cause }, trackedCall(signal, track));
    return undefined;
  } catch (e) {
    if (!isKmsDataError(e)) throw e;
    const why = classifyError(e, { operation: "StopExecution" }).message;
    log.warn(`stopping execution ${arn} without an error and a cause: ${why}`);
    await sfn.stopExecution({ executionArn: arn }, trackedCall(signal, track));
    return why;
  }
}

/** Time allowed to stop an execution after a cancel, so a cancel always ends within seconds. */
export const STOP_TIMEOUT_MS = 5000;

/**
 * Time allowed for the last look at an execution the task stops watching (maximum wait,
 * cancel): one DescribeExecution and, when it shows an end, the history read for failure
 * details. A cancel then ends within STOP_TIMEOUT_MS and this.
 */
export const LAST_LOOK_TIMEOUT_MS = 3000;

/**
 * Pauses between StopExecution calls answered ExecutionDoesNotExist, for a start the cancel
 * cut off: AWS may still be carrying it out. All within STOP_TIMEOUT_MS.
 */
const ABSENT_PAUSES_MS = [250, 500, 750, 1000, 1000];
/** Kept free at the end of the stop's time for the call after a pause. */
const ABSENT_CALL_ROOM_MS = 1000;

/** Stop the execution, bounded in time; true when AWS confirmed the stop. */
export async function stopExecution(
  sfn: StepFunctions,
  arn: string,
  error: string,
  cause: string,
  log: Logger,
): Promise<boolean> {
  return (await stopWithin(sfn, arn, error, cause, log, false)) === "stopped";
}

/**
 * Stop the execution of a start (StartExecution of a name this program chose) whose answer a
 * cancel cut off, within the same STOP_TIMEOUT_MS: "stopped" when AWS accepted the stop,
 * "absent" when every answer was ExecutionDoesNotExist (asked again after short pauses, as
 * the aborted request may still be on its way at AWS), "failed" otherwise (logged).
 */
export function stopUnconfirmedStart(
  sfn: StepFunctions,
  arn: string,
  error: string,
  cause: string,
  log: Logger,
): Promise<"stopped" | "absent" | "failed"> {
  return stopWithin(sfn, arn, error, cause, log, true);
}

/** What became of a redrive a cancel cut off (see stopUnconfirmedRedrive). */
export type UnconfirmedRedrive =
  | { readonly kind: "stopped" | "not-redriven" | "failed" }
  | { readonly kind: "ended"; readonly status: string };

/**
 * Stop the execution of a redrive (RedriveExecution) whose answer a cancel cut off, within
 * STOP_TIMEOUT_MS. The execution had ended before the redrive, and AWS's API reference names
 * no error of StopExecution for an ended execution, so a stop's answer cannot tell whether
 * the redrive was made: DescribeExecution (no data, on the same client) tells first. Its
 * redrive count grown, it is stopped when still going; still as before, it is looked at
 * again after short pauses (the aborted request may still be on its way at AWS), then
 * "not-redriven". Failures are logged.
 */
export async function stopUnconfirmedRedrive(
  sfn: StepFunctions,
  arn: string,
  redriveCountBefore: number,
  error: string,
  cause: string,
  log: Logger,
): Promise<UnconfirmedRedrive> {
  const abort = new AbortController();
  const begun = Date.now();
  const timer = setTimeout(() => abort.abort(), STOP_TIMEOUT_MS);
  let step = "DescribeExecution";
  try {
    for (let attempt = 0; ; attempt++) {
      step = "DescribeExecution";
      const now = await sfn.describeExecution(
        { executionArn: arn, includedData: "METADATA_ONLY" },
        { abortSignal: abort.signal },
      );
      const status = now.status ?? "RUNNING";
      if ((now.redriveCount ?? 0) > redriveCountBefore || STILL_GOING.has(status)) {
        if (!STILL_GOING.has(status)) return { kind: "ended", status };
        step = "StopExecution";
        await stopWithDataOrWithout(sfn, arn, error, cause, log, abort.signal);
        log.info(`AWS accepted the stop of execution ${arn}`);
        return { kind: "stopped" };
      }
      const pause = ABSENT_PAUSES_MS[attempt];
      const spent = Date.now() - begun;
      if (pause === undefined || spent + pause + ABSENT_CALL_ROOM_MS > STOP_TIMEOUT_MS) {
        log.info(
          `execution ${arn} shows no redrive (still ${status}, redrive count ${redriveCountBefore}) after ${(spent / 1000).toFixed(1)} s`,
        );
        return { kind: "not-redriven" };
      }
      await sleep(pause, abort.signal);
    }
  } catch (e) {
    const why = abort.signal.aborted
      ? `${step} gave no answer within ${STOP_TIMEOUT_MS / 1000} s`
      : classifyError(e, { operation: step }).message;
    log.error(`could not stop execution ${arn}: ${why}`);
    return { kind: "failed" };
  } finally {
    clearTimeout(timer);
  }
}

async function stopWithin(
  sfn: StepFunctions,
  arn: string,
  error: string,
  cause: string,
  log: Logger,
  retryAbsent: boolean,
): Promise<"stopped" | "absent" | "failed"> {
  const abort = new AbortController();
  const begun = Date.now();
  const timer = setTimeout(() => abort.abort(), STOP_TIMEOUT_MS);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await stopWithDataOrWithout(sfn, arn, error, cause, log, abort.signal);
        // An execution that had already ended may be answered too: the caller looks after it.
        log.info(`AWS accepted the stop of execution ${arn}`);
        return "stopped";
      } catch (e) {
        if (!retryAbsent || abort.signal.aborted || errorName(e) !== "ExecutionDoesNotExist") {
          throw e;
        }
        const pause = ABSENT_PAUSES_MS[attempt];
        const spent = Date.now() - begun;
        if (pause === undefined || spent + pause + ABSENT_CALL_ROOM_MS > STOP_TIMEOUT_MS) {
          log.info(
            `no execution ${arn} exists (StopExecution answered ExecutionDoesNotExist ${attempt + 1} times within ${(spent / 1000).toFixed(1)} s)`,
          );
          return "absent";
        }
        log.debug(`StopExecution: no execution ${arn} (yet); asking again in ${pause} ms`);
        await sleep(pause, abort.signal);
      }
    }
  } catch (e) {
    const why = abort.signal.aborted
      ? `StopExecution gave no answer within ${STOP_TIMEOUT_MS / 1000} s`
      : classifyError(e, { operation: "StopExecution" }).message;
    log.error(`could not stop execution ${arn}: ${why}`);
    return "failed";
  } finally {
    clearTimeout(timer);
  }
}
