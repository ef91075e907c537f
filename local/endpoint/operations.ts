/** The Step Functions operations, taking and returning the JSON bodies of the awsJson1_0 protocol. */
import { randomUUID } from "node:crypto";
import type { Consistency } from "./consistency.ts";
import { errors, ServiceError } from "./errors.ts";
import type { Kms } from "./kms.ts";
import { type ChildExecution, counts, type MapRuns } from "./map-runs.ts";
import type { Execution, ExecutionEngine } from "./executions.ts";
import { serializeEvent } from "./history.ts";
import type {
  StateMachineRecord,
  StateMachineRegistry,
  StateMachineType,
} from "./state-machines.ts";
import type { TaskTokens } from "./tasks.ts";
import {
  checkNameLength,
  MAX_PAYLOAD_BYTES,
  optionalString,
  parseStatesArn,
  requireString,
  validateInput,
  validateName,
} from "./validation.ts";

export interface OperationContext {
  machines: StateMachineRegistry;
  engine: ExecutionEngine;
  tokens: TaskTokens;
  consistency: Consistency;
  kms: Kms;
  mapRuns: MapRuns;
  /** The access key id of the request, when signed. */
  caller?: string | undefined;
}

type Body = Record<string, unknown>;
type Operation = (body: Body, ctx: OperationContext) => Promise<Body> | Body;

/** Dates travel as epoch seconds with a fractional part, as the service sends them. */
const epoch = (d: Date | undefined): number | undefined => (d ? d.getTime() / 1000 : undefined);

function compact(o: Body): Body {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** ListExecutions' statusFilter values (ExecutionStatus), as the API reference lists them. */
const EXECUTION_STATUSES = [
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "TIMED_OUT",
  "ABORTED",
  "PENDING_REDRIVE",
];

/** PageToken's length limit; ListExecutions' token (ListExecutionsPageToken) may be longer. */
const PAGE_TOKEN_MAX = 1024;
const LIST_EXECUTIONS_TOKEN_MAX = 3096;

/**
 * maxResults (0 to 1000, 0 meaning the default page) and nextToken (1 to `tokenMax`
 * characters) are constraints of the API's model: checked before anything else, every
 * problem in one ValidationException, as AWS words it.
 */
function checkPaging(body: Body, tokenMax = PAGE_TOKEN_MAX): void {
  const problems: string[] = [];
  const n = body["maxResults"];
  if (n !== undefined && n !== null && (typeof n !== "number" || !Number.isInteger(n))) {
    throw errors.serialization("Expected an integer for 'maxResults'");
  }
  if (typeof n === "number" && (n < 0 || n > 1000)) {
    problems.push(
      `Value '${n}' at 'maxResults' failed to satisfy constraint: Member must have value ${n < 0 ? "greater than or equal to 0" : "less than or equal to 1000"}`,
    );
  }
  const token = optionalString(body, "nextToken");
  const length = token === undefined ? 1 : [...token].length;
  if (length < 1 || length > tokenMax) {
    problems.push(
      `Value '${token}' at 'nextToken' failed to satisfy constraint: Member must have length ${length < 1 ? "greater than or equal to 1" : `less than or equal to ${tokenMax}`}`,
    );
  }
  if (problems.length > 0) {
    throw errors.validation(
      `${problems.length} validation error${problems.length > 1 ? "s" : ""} detected: ${problems.join("; ")}`,
    );
  }
}

function pageSize(body: Body): number {
  const n = body["maxResults"];
  return typeof n === "number" && n > 0 ? n : 100;
}

/** Opaque paging tokens bound to the listing they came from. */
function paginate<T>(items: T[], body: Body, scope: string): { page: T[]; nextToken?: string } {
  const size = pageSize(body);
  let offset = 0;
  const token = optionalString(body, "nextToken");
  if (token !== undefined) {
    try {
      const decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
        s: string;
        o: number;
      };
      if (decoded.s !== scope || !Number.isInteger(decoded.o) || decoded.o < 0)
        throw new Error("scope");
      offset = decoded.o;
    } catch {
      throw errors.invalidToken("Invalid token");
    }
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size;
  if (next >= items.length) return { page };
  return {
    page,
    nextToken: Buffer.from(JSON.stringify({ s: scope, o: next })).toString("base64url"),
  };
}

function requireStandardExecution(ctx: OperationContext, arn: string): Execution {
  parseStatesArn(arn, "execution");
  const exec = ctx.engine.get(arn);
  if (!exec) throw errors.executionDoesNotExist(arn);
  return exec;
}

/** An execution DescribeExecution and GetExecutionHistory serve: a Distributed Map's child too. */
function requireDescribable(ctx: OperationContext, arn: string): Execution | ChildExecution {
  parseStatesArn(arn, "execution");
  const found = ctx.engine.get(arn) ?? ctx.mapRuns.child(arn);
  if (!found) throw errors.executionDoesNotExist(arn);
  return found;
}

function isChild(e: Execution | ChildExecution): e is ChildExecution {
  return "mapRun" in e;
}

/** The state machine whose definition (and KMS key) the execution runs. */
function machineOf(e: Execution | ChildExecution): string {
  return isChild(e) ? e.mapRun.parentStateMachineArn : e.machine.arn;
}

/** A child execution of a Distributed Map, where the operation is not served for one. */
function requireNotChild(ctx: OperationContext, arn: string, operation: string): void {
  if (ctx.mapRuns.child(arn)) {
    throw errors.validation(
      `${operation} of a Distributed Map's child execution is not implemented by the local endpoint`,
    );
  }
}

/**
 * The state machine (and version or alias) a state machine ARN names. Documented for
 * StartExecution and DescribeStateMachine: an ARN naming a Distributed Map state
 * (`<machine>/<label>`) is a ValidationException.
 */
function resolveMachine(ctx: OperationContext, requested: string) {
  const { parts } = parseStatesArn(requested, "stateMachine");
  if (parts[0]?.includes("/")) {
    throw errors.validation(
      `The state machine ARN names a Distributed Map state, not a state machine: '${requested}'`,
    );
  }
  return ctx.machines.resolve(requested);
}

function describeMachine(m: StateMachineRecord): Body {
  return {
    stateMachineArn: m.arn,
    name: m.name,
    status: "ACTIVE",
    definition: m.definition,
    roleArn: m.roleArn,
    type: m.type,
    creationDate: epoch(m.creationDate),
    loggingConfiguration: { level: "OFF", includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
}

/** DescribeExecution of a Distributed Map's child execution: its Map Run is named. */
function describeChild(c: ChildExecution): Body {
  return compact({
    executionArn: c.arn,
    stateMachineArn: c.mapRun.stateMachineArn,
    name: c.name,
    status: c.status,
    startDate: epoch(c.startDate),
    stopDate: epoch(c.stopDate),
    input: c.input,
    inputDetails: { included: true },
    output: c.output,
    outputDetails: c.output === undefined ? undefined : { included: true },
    error: c.error,
    cause: c.cause,
    mapRunArn: c.mapRun.arn,
  });
}

export function describeExecution(e: Execution): Body {
  const redrive = e.redrivable;
  return compact({
    executionArn: e.arn,
    stateMachineArn: e.machine.arn,
    stateMachineVersionArn: e.versionArn,
    stateMachineAliasArn: e.aliasArn,
    traceHeader: e.traceHeader,
    name: e.name,
    status: e.status,
    startDate: epoch(e.startDate),
    stopDate: epoch(e.stopDate),
    input: e.input,
    inputDetails: { included: true },
    output: e.output,
    outputDetails: e.output === undefined ? undefined : { included: true },
    error: e.status === "TIMED_OUT" ? undefined : e.error,
    cause: e.status === "TIMED_OUT" ? undefined : e.cause,
    redriveCount: e.redriveCount,
    redriveDate: epoch(e.redriveDate),
    redriveStatus: redrive.ok ? "REDRIVABLE" : "NOT_REDRIVABLE",
    redriveStatusReason: redrive.ok ? undefined : redrive.reason,
  });
}

function startExecution(
  body: Body,
  ctx: OperationContext,
  sync: boolean,
): Execution | { existing: Execution } {
  const requested = requireString(body, "stateMachineArn");
  const named = body["name"] !== undefined && body["name"] !== null;
  // The model's length limit is checked before anything else, as in AWS.
  if (named) checkNameLength(body["name"], "name");
  const { machine, versionArn, aliasArn } = resolveMachine(ctx, requested);
  const name = named ? validateName(body["name"], "name") : randomUUID();
  const { text, value } = validateInput(body["input"]);
  const traceHeader = optionalString(body, "traceHeader");
  if (traceHeader !== undefined) {
    checkLength(traceHeader, "traceHeader", 0, 256);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: AWS's pattern is \p{ASCII}*, control characters included.
    if (!/^[\x00-\x7f]*$/.test(traceHeader)) {
      throw errors.validation(
        "1 validation error detected: Value at 'traceHeader' failed to satisfy constraint: Member must satisfy regular expression pattern: \\p{ASCII}*",
      );
    }
  }
  if (sync && machine.type !== "EXPRESS") throw errors.typeNotSupported();
  if (machine.type === "STANDARD") {
    const arn = ctx.engine.executionArn(machine, name, false);
    const existing = ctx.engine.get(arn);
    if (existing) {
      // AWS's idempotency rule: same name and input while still running is the same execution.
      if (existing.status === "RUNNING" && existing.input === text) return { existing };
      throw errors.executionAlreadyExists(arn);
    }
  }
  const exec = ctx.engine.start(machine, name, text, value);
  exec.versionArn = versionArn;
  exec.aliasArn = aliasArn;
  exec.traceHeader = traceHeader;
  return exec;
}

/** The member's length constraint, answered as AWS's ValidationException words it. */
function checkLength(value: string, member: string, min: number, max: number): void {
  const length = [...value].length;
  if (length < min) {
    throw errors.validation(
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
    );
  }
  if (length > max) {
    throw errors.validation(
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
}

function taskToken(body: Body): string {
  const token = requireString(body, "taskToken");
  checkLength(token, "taskToken", 1, 2048);
  return token;
}

function parseTaskOutput(body: Body): unknown {
  const output = requireString(body, "output");
  if (Buffer.byteLength(output, "utf8") > MAX_PAYLOAD_BYTES) {
    throw new ServiceError(
      "InvalidOutput",
      `Invalid Output: 'Output exceeds the maximum size of ${MAX_PAYLOAD_BYTES} bytes'`,
    );
  }
  try {
    return JSON.parse(output);
  } catch (e) {
    throw new ServiceError("InvalidOutput", `Invalid Output: '${(e as Error).message}'`);
  }
}

/** A callback's data is encrypted with the key of the token's execution's state machine. */
function checkCallbackData(ctx: OperationContext, token: string): void {
  const exec = ctx.engine.get(ctx.tokens.executionOf(token));
  if (exec) ctx.kms.checkData(exec.machine.arn, ctx.caller);
}

export const operations: Record<string, Operation> = {
  CreateStateMachine(body, ctx) {
    const roleArn = requireString(body, "roleArn");
    const definition = requireString(body, "definition");
    const type = optionalString(body, "type") as StateMachineType | undefined;
    const m = ctx.machines.create({
      name: body["name"] as string,
      definition,
      roleArn,
      ...(type ? { type } : {}),
    });
    return { stateMachineArn: m.arn, creationDate: epoch(m.creationDate) };
  },

  DescribeStateMachine(body, ctx) {
    // A version ARN describes that version, named by its own ARN.
    const { machine, versionArn, aliasArn } = resolveMachine(
      ctx,
      requireString(body, "stateMachineArn"),
    );
    const described = describeMachine(machine);
    return versionArn && !aliasArn ? { ...described, stateMachineArn: versionArn } : described;
  },

  DescribeStateMachineForExecution(body, ctx) {
    const found = requireDescribable(ctx, requireString(body, "executionArn"));
    if (!isChild(found)) return describeMachine(found.machine);
    // Documented: for a Map Run's child, the Map Run's state machine, its label and the Map Run.
    const run = found.mapRun;
    return {
      ...describeMachine(ctx.machines.require(run.parentStateMachineArn)),
      stateMachineArn: run.stateMachineArn,
      label: run.label,
      mapRunArn: run.arn,
    };
  },

  ListStateMachines(body, ctx) {
    checkPaging(body);
    const all = ctx.machines.list().map((m) => ({
      stateMachineArn: m.arn,
      name: m.name,
      type: m.type,
      creationDate: epoch(m.creationDate),
    }));
    const { page, nextToken } = paginate(all, body, "ListStateMachines");
    return compact({ stateMachines: page, nextToken });
  },

  DeleteStateMachine(body, ctx) {
    const arn = requireString(body, "stateMachineArn");
    parseStatesArn(arn, "stateMachine");
    // Idempotent, as in AWS: deleting an unknown machine succeeds.
    ctx.machines.delete(arn);
    return {};
  },

  PublishStateMachineVersion(body, ctx) {
    const arn = requireString(body, "stateMachineArn");
    parseStatesArn(arn, "stateMachine");
    return {
      stateMachineVersionArn: ctx.machines.publishVersion(arn),
      creationDate: epoch(new Date()),
    };
  },

  CreateStateMachineAlias(body, ctx) {
    const name = requireString(body, "name");
    const routes = body["routingConfiguration"];
    const route = Array.isArray(routes) && routes.length === 1 ? (routes[0] as Body) : undefined;
    if (!route || typeof route["stateMachineVersionArn"] !== "string") {
      throw errors.validation(
        "routingConfiguration: one route to a stateMachineVersionArn (weighted routing is not implemented here)",
      );
    }
    return {
      stateMachineAliasArn: ctx.machines.createAlias(name, route["stateMachineVersionArn"]),
      creationDate: epoch(new Date()),
    };
  },

  StartExecution(body, ctx) {
    const started = startExecution(body, ctx, false);
    const exec = "existing" in started ? started.existing : started;
    if (!("existing" in started)) ctx.consistency.started(exec);
    return { executionArn: exec.arn, startDate: epoch(exec.startDate) };
  },

  async StartSyncExecution(body, ctx) {
    const started = startExecution(body, ctx, true);
    const exec = "existing" in started ? started.existing : started;
    await exec.settled();
    const stopDate = exec.stopDate ?? new Date();
    return compact({
      executionArn: exec.arn,
      stateMachineArn: exec.machine.arn,
      name: exec.name,
      startDate: epoch(exec.startDate),
      stopDate: epoch(stopDate),
      status: exec.status,
      traceHeader: exec.traceHeader,
      input: exec.input,
      inputDetails: { included: true },
      output: exec.output,
      outputDetails: exec.output === undefined ? undefined : { included: true },
      error: exec.status === "TIMED_OUT" ? undefined : exec.error,
      cause: exec.status === "TIMED_OUT" ? undefined : exec.cause,
      billingDetails: {
        billedMemoryUsedInMB: 64,
        billedDurationInMilliseconds: Math.max(
          100,
          Math.ceil((stopDate.getTime() - exec.startDate.getTime()) / 100) * 100,
        ),
      },
    });
  },

  DescribeExecution(body, ctx) {
    const found = requireDescribable(ctx, requireString(body, "executionArn"));
    const child = isChild(found);
    if (!child && ctx.consistency.hides(found.arn)) throw errors.executionDoesNotExist(found.arn);
    const metadataOnly = optionalString(body, "includedData") === "METADATA_ONLY";
    if (!metadataOnly) ctx.kms.checkData(machineOf(found), ctx.caller);
    const reply = child
      ? describeChild(found)
      : (ctx.consistency.staleReply(found.arn) ?? describeExecution(found));
    if (!metadataOnly) return reply;
    // The encrypted data stays out of the answer, and its details say so: `included` is
    // "whether input or output was included in the response" (API reference,
    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_CloudWatchEventsExecutionDataDetails.html).
    const { input: _i, output: _o, error: _e, cause: _c, ...metadata } = reply;
    return compact({
      ...metadata,
      inputDetails: { included: false },
      outputDetails: reply["outputDetails"] === undefined ? undefined : { included: false },
    });
  },

  ListExecutions(body, ctx) {
    checkPaging(body, LIST_EXECUTIONS_TOKEN_MAX);
    const status = optionalString(body, "statusFilter");
    if (status !== undefined && !EXECUTION_STATUSES.includes(status)) {
      throw errors.validation(
        `1 validation error detected: Value '${status}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(", ")}]`,
      );
    }
    const mapRunArn = optionalString(body, "mapRunArn");
    if (mapRunArn !== undefined) {
      // Documented: a mapRunArn or a stateMachineArn, not both.
      if (body["stateMachineArn"] !== undefined) {
        throw errors.validation("Specify either a mapRunArn or a stateMachineArn, but not both");
      }
      return listChildren(ctx, mapRunArn, status, body);
    }
    const requested = requireString(body, "stateMachineArn");
    parseStatesArn(requested, "stateMachine");
    // Documented: a version or an alias ARN lists the executions associated with it.
    const { machine, versionArn, aliasArn } = ctx.machines.resolve(requested);
    // Documented: "This API action is not supported by EXPRESS state machines."
    if (machine.type === "EXPRESS") throw errors.typeNotSupported();
    // Documented: PENDING_REDRIVE needs a mapRunArn; with a stateMachineArn it is a ValidationException.
    if (status === "PENDING_REDRIVE") {
      throw errors.validation(
        "The PENDING_REDRIVE statusFilter can only be used with a mapRunArn, not with a stateMachineArn",
      );
    }
    const all = ctx.engine
      .list()
      .filter(
        (e) =>
          !e.express &&
          e.machine.arn === machine.arn &&
          (aliasArn === undefined || e.aliasArn === aliasArn) &&
          (versionArn === undefined || e.versionArn === versionArn) &&
          (status === undefined || e.status === status),
      )
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((e) =>
        compact({
          executionArn: e.arn,
          stateMachineArn: machine.arn,
          name: e.name,
          status: e.status,
          startDate: epoch(e.startDate),
          stopDate: epoch(e.stopDate),
          stateMachineVersionArn: e.versionArn,
          stateMachineAliasArn: e.aliasArn,
          redriveCount: e.redriveCount,
          redriveDate: epoch(e.redriveDate),
        }),
      );
    const { page, nextToken } = paginate(all, body, `ListExecutions:${requested}:${status ?? ""}`);
    return compact({ executions: page, nextToken });
  },

  StopExecution(body, ctx) {
    const error = optionalString(body, "error");
    const cause = optionalString(body, "cause");
    if (error !== undefined) checkLength(error, "error", 0, 256);
    if (cause !== undefined) checkLength(cause, "cause", 0, 32768);
    const arn = requireString(body, "executionArn");
    requireNotChild(ctx, arn, "StopExecution");
    const exec = requireStandardExecution(ctx, arn);
    // An error or a cause is execution data: it is encrypted with the machine's key.
    if (error !== undefined || cause !== undefined) ctx.kms.checkData(exec.machine.arn, ctx.caller);
    ctx.engine.stop(exec, error, cause);
    return { stopDate: epoch(exec.stopDate ?? new Date()) };
  },

  GetExecutionHistory(body, ctx) {
    checkPaging(body);
    const exec = requireDescribable(ctx, requireString(body, "executionArn"));
    const reverse = body["reverseOrder"] === true;
    const includeData = body["includeExecutionData"] !== false;
    if (includeData) ctx.kms.checkData(machineOf(exec), ctx.caller);
    const encrypted = ctx.kms.configOf(machineOf(exec)) !== undefined;
    const events = [...exec.history.events];
    if (reverse) events.reverse();
    const { page, nextToken } = paginate(
      events,
      body,
      `GetExecutionHistory:${exec.arn}:${reverse}`,
    );
    return compact({
      events: page.map((e) => serializeEvent(e, includeData, !includeData && encrypted)),
      nextToken,
    });
  },

  ListMapRuns(body, ctx) {
    checkPaging(body);
    const exec = requireDescribable(ctx, requireString(body, "executionArn"));
    const all = ctx.mapRuns.of(exec.arn).map((r) =>
      compact({
        executionArn: r.executionArn,
        mapRunArn: r.arn,
        stateMachineArn: r.stateMachineArn,
        startDate: epoch(r.startDate),
        stopDate: epoch(r.stopDate),
      }),
    );
    const { page, nextToken } = paginate(all, body, `ListMapRuns:${exec.arn}`);
    return compact({ mapRuns: page, nextToken });
  },

  DescribeMapRun(body, ctx) {
    const arn = requireString(body, "mapRunArn");
    parseStatesArn(arn, "mapRun");
    const r = ctx.mapRuns.get(arn);
    if (!r) throw new ServiceError("ResourceNotFound", `Resource not found: '${arn}'`);
    const c = counts(r);
    return compact({
      mapRunArn: r.arn,
      executionArn: r.executionArn,
      status: r.status,
      startDate: epoch(r.startDate),
      stopDate: epoch(r.stopDate),
      maxConcurrency: 0,
      toleratedFailurePercentage: 0,
      toleratedFailureCount: 0,
      itemCounts: c,
      executionCounts: c,
      redriveCount: 0,
    });
  },

  RedriveExecution(body, ctx) {
    const arn = requireString(body, "executionArn");
    requireNotChild(ctx, arn, "RedriveExecution");
    const exec = requireStandardExecution(ctx, arn);
    const clientToken = optionalString(body, "clientToken");
    if (clientToken !== undefined) {
      checkLength(clientToken, "clientToken", 1, 64);
      if (!/^[!-~]+$/.test(clientToken)) {
        throw errors.validation(
          "1 validation error detected: Value at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [!-~]+",
        );
      }
    }
    const before = describeExecution(exec);
    const countBefore = exec.redriveCount;
    const redriveDate = epoch(ctx.engine.redrive(exec, clientToken));
    if (exec.redriveCount > countBefore) ctx.consistency.redriven(exec, before);
    return { redriveDate };
  },

  SendTaskSuccess(body, ctx) {
    const token = taskToken(body);
    const output = parseTaskOutput(body);
    // The output is execution data: encrypted with the machine's key.
    checkCallbackData(ctx, token);
    ctx.tokens.succeed(token, output);
    return {};
  },

  SendTaskFailure(body, ctx) {
    const token = taskToken(body);
    const error = optionalString(body, "error");
    const cause = optionalString(body, "cause");
    if (error !== undefined) checkLength(error, "error", 0, 256);
    if (cause !== undefined) checkLength(cause, "cause", 0, 32768);
    // Documented: without an error and a cause no data is encrypted, and no KMS permission is needed.
    if (error !== undefined || cause !== undefined) checkCallbackData(ctx, token);
    ctx.tokens.fail(token, error, cause);
    return {};
  },

  SendTaskHeartbeat(body, ctx) {
    ctx.tokens.heartbeat(taskToken(body));
    return {};
  },
};

/** ListExecutions of a Map Run: its Standard child executions, newest first. */
function listChildren(
  ctx: OperationContext,
  mapRunArn: string,
  status: string | undefined,
  body: Body,
): Body {
  parseStatesArn(mapRunArn, "mapRun");
  const run = ctx.mapRuns.get(mapRunArn);
  if (!run) throw new ServiceError("ResourceNotFound", `Resource not found: '${mapRunArn}'`);
  const all = [...(run.children?.values() ?? [])]
    .filter((c) => status === undefined || c.status === status)
    .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
    .map((c) =>
      compact({
        executionArn: c.arn,
        stateMachineArn: run.stateMachineArn,
        name: c.name,
        status: c.status,
        startDate: epoch(c.startDate),
        stopDate: epoch(c.stopDate),
        mapRunArn: run.arn,
      }),
    );
  const { page, nextToken } = paginate(all, body, `ListExecutions:${run.arn}:${status ?? ""}`);
  return compact({ executions: page, nextToken });
}

/** The ARN an operation acts on, used by deny rules and AccessDenied messages. */
export function resourceOf(
  operation: string,
  body: Body,
  region: string,
  accountId: string,
): string {
  const arn = body["executionArn"] ?? body["stateMachineArn"] ?? body["mapRunArn"];
  if (typeof arn === "string") return arn;
  if (operation === "CreateStateMachine" && typeof body["name"] === "string") {
    return `arn:aws:states:${region}:${accountId}:stateMachine:${body["name"]}`;
  }
  return `arn:aws:states:${region}:${accountId}:*`;
}
