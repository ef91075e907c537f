/**
 * The pickers' lists (SPEC 5.11): the account's state machines, and the executions of one
 * state machine that an action can use, read live with the task's own region, credentials,
 * role and proxy. What the State Machine and Execution fields offer, and what
 * `--list state-machines` / `--list executions` print.
 */
import type { ExecutionListItem, ExecutionStatus } from "@aws-sdk/client-sfn";
import { classifyError } from "../aws/classify.ts";
import { createAwsSession } from "../aws/clients.ts";
import type { StepFunctions } from "../aws/step-functions.ts";
import type { RunConfig } from "../config/resolve.ts";
import { type FieldProblem, WrongStateMachineTypeError } from "../errors.ts";
import { ACTIONS, type ActionName, EXISTING_EXECUTION_ACTIONS } from "../fields/catalog.ts";
import { choiceText } from "../fields/picked.ts";
import type { TaskConfig } from "../fields/validate.ts";
import type { Logger } from "../log.ts";

/** What `--list` can list. */
export const PICKER_LISTS = ["state-machines", "executions"] as const;
export type PickerList = (typeof PICKER_LISTS)[number];

/** The picker field each list fills. */
export const PICKER_FIELD: Readonly<Record<PickerList, string>> = {
  "state-machines": "state_machine",
  executions: "execution",
};

/** At most this many executions are offered: the newest. */
export const EXECUTION_LIMIT = 100;

/** How many redrive checks (DescribeExecution) run at once. */
const DESCRIBE_CONCURRENCY = 5;

/** One entry of a list: the value the field takes (an ARN), what the form shows, and facts. */
export interface PickerChoice {
  /** The ARN. */
  readonly value: string;
  /** For the person choosing: "orders (STANDARD)", "run-7 (started 2026-...)". */
  readonly label: string;
  /** What the form offers and the field then holds: the label, then the ARN. */
  readonly choice: string;
  readonly [fact: string]: unknown;
}

/** The statuses of the executions an action can act on; null for an action on none. */
export function statusesFor(action: ActionName): readonly ExecutionStatus[] | null {
  switch (action) {
    case ACTIONS.monitor:
    case ACTIONS.stop:
      return ["RUNNING"];
    case ACTIONS.redrive:
      return ["FAILED", "TIMED_OUT", "ABORTED"];
    default:
      return null;
  }
}

function iso(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** The state machines of the account in the client's region, every page, in AWS's order. */
export async function listStateMachines(
  sfn: StepFunctions,
  signal?: AbortSignal,
): Promise<PickerChoice[]> {
  const choices: PickerChoice[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call("ListStateMachines", () =>
      sfn.listStateMachines(nextToken ? { nextToken } : {}, { abortSignal: signal }),
    );
    for (const m of page.stateMachines ?? []) {
      if (!m.stateMachineArn || !m.name) continue;
      const label = `${m.name} (${m.type ?? "STANDARD"})`;
      choices.push({
        value: m.stateMachineArn,
        label,
        choice: choiceText(label, m.stateMachineArn),
        name: m.name,
        type: m.type ?? null,
        creationDate: iso(m.creationDate),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return choices;
}

/** Newest first (by start date), at most the limit. */
export function newestFirst<T extends { readonly startDate?: Date | undefined }>(
  items: readonly T[],
  limit = EXECUTION_LIMIT,
): T[] {
  const time = (d: Date | undefined) => d?.getTime() ?? 0;
  return [...items].sort((a, b) => time(b.startDate) - time(a.startDate)).slice(0, limit);
}

function executionChoice(e: ExecutionListItem, action: ActionName): PickerChoice {
  const arn = e.executionArn as string;
  const started = iso(e.startDate);
  // Redrive offers several statuses: the label says which; for Monitor and Stop all run.
  const label =
    action === ACTIONS.redrive
      ? `${e.name} (${e.status}, started ${started})`
      : `${e.name} (started ${started})`;
  return {
    value: arn,
    label,
    choice: choiceText(label, arn),
    name: e.name ?? null,
    status: e.status ?? null,
    startDate: started,
    stopDate: iso(e.stopDate),
  };
}

/**
 * The executions of a state machine that the action can use, newest first, at most
 * EXECUTION_LIMIT: RUNNING ones for Monitor and Stop; for Redrive, FAILED, TIMED_OUT and
 * ABORTED ones that AWS says are redrivable (DescribeExecution's redriveStatus).
 */
export async function listExecutions(
  sfn: StepFunctions,
  stateMachineArn: string,
  action: ActionName,
  signal?: AbortSignal,
): Promise<PickerChoice[]> {
  const statuses = statusesFor(action) ?? [];
  // AWS lists the newest first: the first page of each status holds its newest executions.
  const pages = await Promise.all(
    statuses.map((statusFilter) =>
      call("ListExecutions", () =>
        sfn
          .listExecutions(
            { stateMachineArn, statusFilter, maxResults: EXECUTION_LIMIT },
            { abortSignal: signal },
          )
          .catch((error: unknown) => {
            throw expressRefusal(error, stateMachineArn, action);
          }),
      ),
    ),
  );
  let candidates = newestFirst(
    pages.flatMap((p) => p.executions ?? []).filter((e) => e.executionArn),
    action === ACTIONS.redrive ? statuses.length * EXECUTION_LIMIT : EXECUTION_LIMIT,
  );
  if (action === ACTIONS.redrive) candidates = await redrivable(sfn, candidates, signal);
  return candidates.slice(0, EXECUTION_LIMIT).map((e) => executionChoice(e, action));
}

/**
 * ListExecutions refuses an EXPRESS state machine (StateMachineTypeNotSupported): said in
 * the words of a typed Express execution ARN; any other error as it came.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
 */
function expressRefusal(error: unknown, stateMachineArn: string, action: ActionName): unknown {
  if ((error as { name?: string }).name !== "StateMachineTypeNotSupported") return error;
  return new WrongStateMachineTypeError(
    `${stateMachineArn} is an EXPRESS state machine: AWS keeps no record of its executions that ${action} could use (ListExecutions serves Standard state machines only, DescribeExecution, StopExecution and RedriveExecution Standard executions); run Express workflows with Start Synchronous Express Execution to get their result (StateMachineTypeNotSupported on ListExecutions)`,
    { cause: error },
  );
}

/** The candidates AWS would redrive, in their order, stopping once the limit is reached. */
async function redrivable(
  sfn: StepFunctions,
  candidates: readonly ExecutionListItem[],
  signal?: AbortSignal,
): Promise<ExecutionListItem[]> {
  const kept: ExecutionListItem[] = [];
  for (let i = 0; i < candidates.length && kept.length < EXECUTION_LIMIT; ) {
    const batch = candidates.slice(i, i + DESCRIBE_CONCURRENCY);
    i += batch.length;
    const described = await Promise.all(
      batch.map((e) =>
        call("DescribeExecution", () =>
          // redriveStatus is metadata: no input or output, which a customer managed KMS key
          // may keep from these credentials (the Redrive action itself works without it).
          sfn.describeExecution(
            { executionArn: e.executionArn, includedData: "METADATA_ONLY" },
            { abortSignal: signal },
          ),
        ),
      ),
    );
    batch.forEach((e, j) => {
      if (described[j]?.redriveStatus === "REDRIVABLE") kept.push(e);
    });
  }
  return kept;
}

/** One AWS call, its failure classified once, here at the boundary. */
async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw classifyError(error, { operation });
  }
}

/** `--list <what>` taken out of the arguments; the rest are the field flags. */
export interface ListRequest {
  /** Whether --list was given at all (with a known value or not). */
  readonly requested: boolean;
  readonly list?: PickerList;
  readonly argv: readonly string[];
  readonly problems: readonly FieldProblem[];
}

/** Take `--list <what>` (or `--list=<what>`) out of the command line. */
export function takeListFlag(argv: readonly string[]): ListRequest {
  const rest: string[] = [];
  const problems: FieldProblem[] = [];
  let list: PickerList | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg !== "--list" && !arg.startsWith("--list=")) {
      rest.push(arg);
      continue;
    }
    const value = arg === "--list" ? argv[++i] : arg.slice("--list=".length);
    const known = PICKER_LISTS.find((l) => l === value);
    if (known) list = known;
    else {
      problems.push({
        field: "--list",
        label: "--list",
        message: `needs what to list: ${PICKER_LISTS.join(" or ")} (got ${value === undefined ? "none" : JSON.stringify(value)})`,
      });
    }
  }
  const requested = list !== undefined || problems.length > 0;
  return list ? { requested, list, argv: rest, problems } : { requested, argv: rest, problems };
}

/** What a list needs beyond valid fields: a region, and for executions an action and a state machine. */
export function listingProblems(
  list: PickerList,
  task: TaskConfig,
  environmentRegion: boolean,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!task.region && !environmentRegion && !task.stateMachine) {
    problems.push({
      field: "region",
      label: "AWS Region",
      message: `is required to list ${list.replace("-", " ")} (or set AWS_REGION or a profile's region on the agent)`,
    });
  }
  if (list === "executions") {
    if (!statusesFor(task.action)) {
      problems.push({
        field: "action",
        label: "Action",
        message: `must be ${EXISTING_EXECUTION_ACTIONS.slice(0, -1).join(", ")} or ${EXISTING_EXECUTION_ACTIONS.at(-1)} to list executions (each uses executions of its own statuses); got ${task.action}`,
      });
    }
    if (!task.stateMachineArn) {
      problems.push({
        field: "state_machine",
        label: "State Machine",
        message: "is required to list executions: pick the state machine whose executions to list",
      });
    }
  }
  return problems;
}

/** Read the list live from AWS with the task's region, credentials, role and proxy. */
export async function listChoices(
  list: PickerList,
  config: RunConfig,
  log: Logger,
  signal?: AbortSignal,
): Promise<PickerChoice[]> {
  log.info(`region ${config.aws.region} (from ${config.aws.regionSource})`);
  const session = createAwsSession(config.aws, log);
  log.info(`credentials from ${session.credentialSource}`);
  try {
    if (list === "state-machines") return await listStateMachines(session.sfn, signal);
    const { stateMachineArn, action } = config.task;
    return await listExecutions(session.sfn, stateMachineArn as string, action, signal);
  } finally {
    session.destroy();
  }
}
