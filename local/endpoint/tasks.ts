/**
 * Task states: the handlers callers register per resource, and the task tokens of
 * `.waitForTaskToken` tasks, released by SendTaskSuccess / SendTaskFailure.
 */
import { randomBytes } from "node:crypto";
import { errors } from "./errors.ts";

/** Throw this from a task handler to fail the task with a chosen error name and cause. */
export class TaskFailure extends Error {
  constructor(error: string, cause = "") {
    super(cause);
    this.name = error;
  }
}

/** A `.waitForTaskToken` task's missed heartbeat (in AWS a kind of `States.Timeout`). */
export class HeartbeatTimeout extends TaskFailure {
  constructor() {
    super("States.HeartbeatTimeout", "The task did not send a heartbeat in time");
  }
}

export interface TaskContext {
  resource: string;
  stateName: string;
  executionArn: string;
  /** Set for `.waitForTaskToken` resources: the token the task waits on. */
  taskToken?: string;
  /** Aborted when the execution stops, times out or the endpoint closes. */
  signal: AbortSignal;
}

export type TaskHandler = (input: unknown, context: TaskContext) => unknown;

export interface TaskTokenInfo {
  taskToken: string;
  executionArn: string;
  stateName: string;
  resource: string;
  input: unknown;
}

interface PendingTask extends TaskTokenInfo {
  state: "pending" | "closed";
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
}

const TOKEN_PREFIX = "AQCLocal";
const TOKEN_RE = /^AQCLocal[A-Za-z0-9_-]{160}$/;

export function newTaskToken(): string {
  return TOKEN_PREFIX + randomBytes(120).toString("base64url");
}

export class TaskTokens {
  readonly #byToken = new Map<string, PendingTask>();
  readonly #listeners = new Set<(info: TaskTokenInfo) => void>();

  /** Calls `listener` with each token as its task starts waiting; returns an unsubscribe function. */
  onTaskToken(listener: (info: TaskTokenInfo) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Registers a waiting task; the promise settles on SendTask*, heartbeat timeout or close. */
  wait(info: TaskTokenInfo, heartbeatSeconds?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const pending: PendingTask = { ...info, state: "pending", resolve, reject };
      if (heartbeatSeconds && heartbeatSeconds > 0) pending.heartbeatMs = heartbeatSeconds * 1000;
      this.#byToken.set(info.taskToken, pending);
      this.#armHeartbeat(pending);
      for (const listener of this.#listeners) {
        try {
          listener({ ...info });
        } catch {
          // A failing test listener must not break the execution.
        }
      }
    });
  }

  #armHeartbeat(p: PendingTask): void {
    clearTimeout(p.heartbeatTimer);
    if (p.heartbeatMs === undefined) return;
    p.heartbeatTimer = setTimeout(() => {
      this.#settle(p, () => p.reject(new HeartbeatTimeout()));
    }, p.heartbeatMs);
  }

  #settle(p: PendingTask, action: () => void): void {
    if (p.state !== "pending") return;
    p.state = "closed";
    clearTimeout(p.heartbeatTimer);
    action();
  }

  #lookup(token: string): PendingTask {
    if (!TOKEN_RE.test(token)) throw errors.invalidToken("Invalid token");
    const p = this.#byToken.get(token);
    if (!p) throw errors.taskDoesNotExist();
    if (p.state !== "pending") throw errors.taskTimedOut();
    return p;
  }

  /** The execution a token's task belongs to; throws as a callback with this token would. */
  executionOf(token: string): string {
    return this.#lookup(token).executionArn;
  }

  succeed(token: string, output: unknown): void {
    const p = this.#lookup(token);
    this.#settle(p, () => p.resolve(output));
  }

  fail(token: string, error: string | undefined, cause: string | undefined): void {
    const p = this.#lookup(token);
    this.#settle(p, () => p.reject(new TaskFailure(error ?? "", cause ?? "")));
  }

  heartbeat(token: string): void {
    this.#armHeartbeat(this.#lookup(token));
  }

  /** Closes waiting tasks of an execution (or one state of it), so late callbacks get TaskTimedOut. */
  close(executionArn: string, stateName?: string, reason?: Error): void {
    for (const p of this.#byToken.values()) {
      if (p.executionArn !== executionArn || p.state !== "pending") continue;
      if (stateName !== undefined && p.stateName !== stateName) continue;
      this.#settle(p, () => p.reject(reason ?? new TaskFailure("States.Runtime", "Task closed")));
    }
  }

  /** Tasks still waiting for a callback. */
  pending(executionArn?: string): TaskTokenInfo[] {
    return [...this.#byToken.values()]
      .filter(
        (p) =>
          p.state === "pending" && (executionArn === undefined || p.executionArn === executionArn),
      )
      .map(({ taskToken, executionArn: arn, stateName, resource, input }) => ({
        taskToken,
        executionArn: arn,
        stateName,
        resource,
        input,
      }));
  }
}
