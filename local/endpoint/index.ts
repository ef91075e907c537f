/**
 * A local Step Functions endpoint for tests, benchmarks and the demo: speaks the real wire
 * protocol (awsJson1_0 with SigV4, plus a minimal STS) so unmodified AWS clients work against it.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import {
  type CredentialInit,
  CredentialStore,
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
} from "./credentials.ts";
import { Consistency, type ConsistencyConfig } from "./consistency.ts";
import { type EncryptionConfig, Kms } from "./kms.ts";
import { MapRuns } from "./map-runs.ts";
import { ExecutionEngine, type ExecutionStatus } from "./executions.ts";
import { Faults } from "./faults.ts";
import type { HistoryEvent } from "./history.ts";
import {
  type CreateStateMachineInput,
  StateMachineRegistry,
  type StateMachineType,
} from "./state-machines.ts";
import { type DenyRule, type RequestLogEntry, startServer } from "./server.ts";
import { Sts, type StsControls } from "./sts.ts";
import { type TaskHandler, type TaskTokenInfo, TaskTokens } from "./tasks.ts";

export { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY } from "./credentials.ts";
export type { ConsistencyConfig } from "./consistency.ts";
export type { CredentialInit } from "./credentials.ts";
export type { EncryptionConfig } from "./kms.ts";
export type { ExecutionStatus } from "./executions.ts";
export type { FaultConfig, OperationCounters, ThrottleConfig } from "./faults.ts";
export { awsThrottling, Faults, LARGE_BUCKET_REGIONS } from "./faults.ts";
export type { HistoryEvent } from "./history.ts";
export type { CreateStateMachineInput, StateMachineType } from "./state-machines.ts";
export type { DenyRule, RequestLogEntry } from "./server.ts";
export type { ExternalIdRule, IssuedCredential, StsControls } from "./sts.ts";
export { TaskFailure } from "./tasks.ts";
export type { TaskContext, TaskHandler, TaskTokenInfo } from "./tasks.ts";

export interface LocalEndpointOptions {
  /** 0 or omitted: a free port. */
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
  /** Accepted long-term (or session) keys. Default: the documented test pair. */
  credentials?: CredentialInit[];
  /** Serve HTTPS with this key and certificate instead of HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Folder of `<name>.asl.json` (STANDARD) and `<name>.express.asl.json` (EXPRESS) definitions. */
  definitionsDir?: string;
  /**
   * The account's quota of open executions: StartExecution and RedriveExecution of a Standard
   * execution beyond it get ExecutionLimitExceeded. Default: no limit.
   */
  maxOpenExecutions?: number;
}

export interface ExecutionSnapshot {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
  redriveCount: number;
  redriveDate?: Date;
  history: HistoryEvent[];
}

export interface StateMachineSummary {
  name: string;
  type: StateMachineType;
  arn: string;
}

export interface LocalEndpoint {
  /** `http://127.0.0.1:PORT` (or https with `tls`). */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** The first configured key pair (the default test pair unless keys were given). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Creates (idempotently) a state machine and returns its ARN. */
  createStateMachine(input: CreateStateMachineInput): string;
  /** PublishStateMachineVersion: returns the version ARN (`<machine ARN>:<n>`). */
  publishStateMachineVersion(stateMachineArn: string): string;
  /**
   * Encrypt a state machine's execution data with a customer managed key (as its
   * EncryptionConfiguration would), refusing kms:Decrypt to some callers or the key to all.
   */
  encryptStateMachine(stateMachineArn: string, config: EncryptionConfig): void;
  /** CreateStateMachineAlias routing all starts to one version: returns the alias ARN. */
  createStateMachineAlias(name: string, versionArn: string): string;
  /** The state machines it holds, by name (what ListStateMachines lists). */
  stateMachines(): StateMachineSummary[];
  /**
   * Serves Task states whose `Resource` is `resource` (`'*'`: any resource without its own handler).
   * For `<resource>.waitForTaskToken` the handler is called with `context.taskToken` and the task
   * then waits for SendTaskSuccess/Failure. Returns a function that unregisters the handler.
   */
  registerTaskHandler(resource: string, handler: TaskHandler): () => void;
  /** Called with each task token as its `.waitForTaskToken` task starts waiting. */
  onTaskToken(listener: (info: TaskTokenInfo) => void): () => void;
  /** Tokens still waiting for a callback. */
  pendingTaskTokens(executionArn?: string): TaskTokenInfo[];
  readonly faults: Faults;
  /** Eventual consistency of DescribeExecution after a start or a redrive (off by default). */
  readonly consistency: { set(config: ConsistencyConfig): void; reset(): void };
  /**
   * Sets the quota of open executions (RUNNING Standard executions) beyond which StartExecution
   * and RedriveExecution answer ExecutionLimitExceeded; `undefined` lifts it.
   */
  setMaxOpenExecutions(limit: number | undefined): void;
  /** Answers matching calls with AccessDeniedException (AccessDenied on STS). Returns an undo function. */
  deny(rule: DenyRule): () => void;
  readonly sts: StsControls;
  /**
   * Ends the life of a key pair now (configured or issued by AssumeRole): from then on its
   * calls get ExpiredTokenException (STS: ExpiredToken), as AWS answers an expired session.
   */
  expireCredentials(accessKeyId: string): void;
  /** Every call received, oldest first. */
  readonly requests: ReadonlyArray<RequestLogEntry>;
  clearRequests(): void;
  /**
   * Moves the endpoint's clock (what it checks signatures against and sends in its Date
   * header) by this many milliseconds; 0 puts it back.
   */
  setClockOffset(offsetMs: number): void;
  getExecution(executionArn: string): ExecutionSnapshot | undefined;
  /** Resolves once the execution is no longer RUNNING (rejects after `timeoutMs`, default 30 s). */
  waitForExecution(executionArn: string, timeoutMs?: number): Promise<ExecutionSnapshot>;
  close(): Promise<void>;
}

async function loadDefinitions(
  dir: string,
  create: (input: CreateStateMachineInput) => string,
): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".asl.json")).sort();
  for (const file of files) {
    const base = file.slice(0, -".asl.json".length);
    const express = base.endsWith(".express");
    const definition = await readFile(path.join(dir, file), "utf8");
    try {
      create({
        name: express ? base.slice(0, -".express".length) : base,
        definition,
        type: express ? "EXPRESS" : "STANDARD",
      });
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
  }
}

export async function startLocalEndpoint(
  options: LocalEndpointOptions = {},
): Promise<LocalEndpoint> {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const keys: CredentialInit[] =
    options.credentials && options.credentials.length > 0
      ? options.credentials
      : [{ accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY }];
  const store = new CredentialStore(accountId, keys);
  const faults = new Faults();
  const consistency = new Consistency();
  const kms = new Kms();
  let clockOffsetMs = 0;
  const now = () => new Date(Date.now() + clockOffsetMs);
  const sts = new Sts(store, accountId, now);
  const tokens = new TaskTokens();
  const handlers = new Map<string, TaskHandler>();
  const machines = new StateMachineRegistry(region, accountId);
  const mapRuns = new MapRuns();
  const engine = new ExecutionEngine({
    region,
    accountId,
    tokens,
    mapRuns,
    handlerFor: (resource) => handlers.get(resource) ?? handlers.get("*"),
  });
  engine.maxOpenExecutions = options.maxOpenExecutions;
  const denyRules: DenyRule[] = [];
  const log: RequestLogEntry[] = [];

  const createStateMachine = (input: CreateStateMachineInput) => machines.create(input).arn;
  if (options.definitionsDir) await loadDefinitions(options.definitionsDir, createStateMachine);

  const server = await startServer(
    {
      region,
      accountId,
      credentials: store,
      faults,
      sts,
      ops: { machines, engine, tokens, consistency, kms, mapRuns },
      denyRules,
      log,
      now,
    },
    {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      ...(options.tls ? { tls: options.tls } : {}),
    },
  );

  const snapshot = (arn: string): ExecutionSnapshot | undefined => {
    // A Distributed Map's child execution: its Map Run's state machine, never redriven.
    const child = mapRuns.child(arn);
    const e = engine.get(arn) ?? (child && { ...child, redriveCount: 0, redriveDate: undefined });
    if (!e) return undefined;
    const s: ExecutionSnapshot = {
      executionArn: e.arn,
      stateMachineArn: "machine" in e ? e.machine.arn : e.mapRun.stateMachineArn,
      name: e.name,
      status: e.status,
      input: e.input,
      startDate: e.startDate,
      redriveCount: e.redriveCount,
      history: [...e.history.events],
    };
    if (e.output !== undefined) s.output = e.output;
    if (e.error !== undefined) s.error = e.error;
    if (e.cause !== undefined) s.cause = e.cause;
    if (e.stopDate) s.stopDate = e.stopDate;
    if (e.redriveDate) s.redriveDate = e.redriveDate;
    return s;
  };

  const first = keys[0]!;
  let closed: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    region,
    accountId,
    credentials: {
      accessKeyId: first.accessKeyId,
      secretAccessKey: first.secretAccessKey,
      ...(first.sessionToken ? { sessionToken: first.sessionToken } : {}),
    },
    createStateMachine,
    publishStateMachineVersion: (arn) => machines.publishVersion(arn),
    encryptStateMachine: (arn, config) => {
      machines.require(arn);
      kms.encrypt(arn, config);
    },
    createStateMachineAlias: (name, versionArn) => machines.createAlias(name, versionArn),
    stateMachines: () => machines.list().map(({ name, type, arn }) => ({ name, type, arn })),
    registerTaskHandler(resource, handler) {
      handlers.set(resource, handler);
      return () => {
        if (handlers.get(resource) === handler) handlers.delete(resource);
      };
    },
    onTaskToken: (listener) => tokens.onTaskToken(listener),
    pendingTaskTokens: (arn) => tokens.pending(arn),
    faults,
    consistency,
    setMaxOpenExecutions: (limit) => {
      engine.maxOpenExecutions = limit;
    },
    expireCredentials(accessKeyId) {
      const stored = store.get(accessKeyId);
      if (!stored) throw new Error(`no key pair ${accessKeyId} is known`);
      stored.expiresAt = now();
    },
    deny(rule) {
      const copy = { ...rule };
      denyRules.push(copy);
      return () => {
        const i = denyRules.indexOf(copy);
        if (i >= 0) denyRules.splice(i, 1);
      };
    },
    sts,
    requests: log,
    clearRequests: () => {
      log.length = 0;
    },
    setClockOffset: (offsetMs) => {
      clockOffsetMs = offsetMs;
    },
    getExecution: snapshot,
    async waitForExecution(arn, timeoutMs = 30_000) {
      const e = engine.get(arn);
      if (!e) throw new Error(`No such execution: ${arn}`);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          e.settled(),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`Execution still RUNNING after ${timeoutMs} ms: ${arn}`)),
              timeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      return snapshot(arn)!;
    },
    close() {
      closed ??= (async () => {
        engine.close();
        await server.close();
      })();
      return closed;
    },
  };
}
