/**
 * Fault injection for tests and benchmarks: AWS-shaped throttling (a token bucket per
 * operation) and transport-level misbehaviour (latency, 5xx replies, dropped connections, hangs).
 * Rates are applied deterministically (every 1/rate-th matching call) so that tests are repeatable.
 */

export interface ThrottleConfig {
  /** Tokens the bucket holds when full; each call takes one. */
  bucketSize: number;
  /** Tokens added back per second, up to `bucketSize`. */
  refillPerSecond: number;
}

/** The regions where AWS gives Step Functions its larger API buckets. */
export const LARGE_BUCKET_REGIONS: readonly string[] = ["us-east-1", "us-west-2", "eu-west-1"];

/** The operations a waiting task calls, whose buckets awsThrottling() gives. */
export type WaitingOperation =
  | "DescribeExecution"
  | "StartExecution"
  | "ListExecutions"
  | "GetExecutionHistory"
  | "ListMapRuns"
  | "DescribeMapRun";

/**
 * AWS's documented token buckets for the operations a waiting task uses (Step Functions
 * quotas, "Quotas related to API action throttling",
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): larger in
 * us-east-1, us-west-2 and eu-west-1 than in every other region for DescribeExecution,
 * StartExecution and ListExecutions; the same everywhere for GetExecutionHistory,
 * ListMapRuns and DescribeMapRun.
 */
export function awsThrottling(region: string): Record<WaitingOperation, ThrottleConfig> {
  const everywhere = {
    GetExecutionHistory: { bucketSize: 400, refillPerSecond: 20 },
    ListMapRuns: { bucketSize: 100, refillPerSecond: 1 },
    DescribeMapRun: { bucketSize: 200, refillPerSecond: 1 },
  };
  return LARGE_BUCKET_REGIONS.includes(region)
    ? {
        DescribeExecution: { bucketSize: 300, refillPerSecond: 15 },
        StartExecution: { bucketSize: 1300, refillPerSecond: 300 },
        ListExecutions: { bucketSize: 200, refillPerSecond: 5 },
        ...everywhere,
      }
    : {
        DescribeExecution: { bucketSize: 250, refillPerSecond: 10 },
        StartExecution: { bucketSize: 800, refillPerSecond: 150 },
        ListExecutions: { bucketSize: 100, refillPerSecond: 2 },
        ...everywhere,
      };
}

export interface FaultConfig {
  /** Extra delay before every matching reply. */
  latencyMs?: number;
  /** Fraction (0..1) of matching calls answered with a 5xx error. */
  errorRate5xx?: number;
  /** 500 answers InternalFailure, 503 ServiceUnavailable. Default 500. */
  error5xxStatus?: 500 | 503;
  /** Fraction (0..1) of matching calls whose connection is destroyed without a reply. */
  dropRate?: number;
  /**
   * The next this many matching calls are carried out as usual and their replies lost (the
   * connection is destroyed instead of answered): the client cannot tell such a call from
   * one that never arrived, and its retry meets what the first one did.
   */
  loseReplies?: number;
  /**
   * Never answer matching calls (the socket stays open until the client gives up or the endpoint
   * closes). An object restricts the hang to its own list of operations.
   */
  hang?: boolean | { operations: string[] };
  /**
   * Answer matching calls with this error of the service instead of carrying them out (after
   * the latency above): a refusal whose reason the endpoint does not model, for a client's
   * handling of it.
   */
  answerError?: { code: string; message: string; status?: number };
  /**
   * Matching calls are carried out only once this promise has settled (after any latency);
   * the client waits meanwhile as for a slow call, and a call it gave up on is carried out all
   * the same. A test orders what the endpoint does after events of its choosing this way
   * rather than after a time. Captured when a call arrives: resetting the faults does not
   * release a call already held.
   */
  holdUntil?: Promise<unknown>;
  /** Restricts the faults above to these operations (e.g. `DescribeExecution`, `AssumeRole`). Default: all. */
  operations?: string[];
}

export interface OperationCounters {
  /** Calls that got past the bucket. */
  accepted: number;
  /** Calls answered with ThrottlingException. */
  throttled: number;
}

export type FaultDecision = (
  | { kind: "none"; latencyMs: number }
  | { kind: "drop"; latencyMs: number }
  | { kind: "reply-lost"; latencyMs: number }
  | { kind: "hang"; latencyMs: number }
  | { kind: "5xx"; latencyMs: number; status: 500 | 503 }
  | { kind: "error"; latencyMs: number; code: string; message: string; status: number }
) & { holdUntil?: Promise<unknown> };

class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(readonly config: ThrottleConfig) {
    this.#tokens = config.bucketSize;
    this.#last = performance.now();
  }
  take(): boolean {
    const now = performance.now();
    const { bucketSize, refillPerSecond } = this.config;
    this.#tokens = Math.min(
      bucketSize,
      this.#tokens + ((now - this.#last) / 1000) * refillPerSecond,
    );
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }
}

/** Spreads a rate evenly over calls: with rate 0.25 every fourth call fires. */
class RateGate {
  #acc = 0;
  fire(rate: number | undefined): boolean {
    if (!rate || rate <= 0) return false;
    this.#acc += Math.min(rate, 1);
    if (this.#acc >= 1 - 1e-9) {
      this.#acc -= 1;
      return true;
    }
    return false;
  }
}

export class Faults {
  #config: FaultConfig = {};
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #counters = new Map<string, OperationCounters>();
  #errorGate = new RateGate();
  #dropGate = new RateGate();
  #repliesToLose = 0;

  /** Installs (or replaces) a token bucket for one operation; `'*'` applies to operations without their own. */
  throttle(operation: string, config: ThrottleConfig): void {
    if (!(config.bucketSize >= 1) || !(config.refillPerSecond >= 0)) {
      throw new RangeError("bucketSize must be >= 1 and refillPerSecond >= 0");
    }
    this.#buckets.set(operation, new TokenBucket(config));
  }

  /** Installs AWS's buckets of a region (see awsThrottling) for the operations it lists. */
  throttleLikeAws(region: string): void {
    for (const [operation, config] of Object.entries(awsThrottling(region)))
      this.throttle(operation, config);
  }

  /** Removes the bucket of one operation, or all buckets. */
  unthrottle(operation?: string): void {
    if (operation === undefined) this.#buckets.clear();
    else this.#buckets.delete(operation);
  }

  /** Replaces the transport fault configuration. */
  set(config: FaultConfig): void {
    this.#config = { ...config };
    this.#errorGate = new RateGate();
    this.#dropGate = new RateGate();
    this.#repliesToLose = config.loseReplies ?? 0;
  }

  get config(): Readonly<FaultConfig> {
    return this.#config;
  }

  /** Clears every fault, bucket and counter. */
  reset(): void {
    this.set({});
    this.#buckets.clear();
    this.#counters.clear();
  }

  /** Accepted/throttled counts per operation, for every operation seen since the last reset. */
  counters(): Record<string, OperationCounters> {
    return Object.fromEntries([...this.#counters].map(([op, c]) => [op, { ...c }]));
  }

  /** Counts for one operation (zeros if never called). */
  counter(operation: string): OperationCounters {
    return { ...(this.#counters.get(operation) ?? { accepted: 0, throttled: 0 }) };
  }

  /** Transport faults for a call, decided before authentication like a misbehaving network or front end. */
  decide(operation: string): FaultDecision {
    const decision = this.#decide(operation);
    const c = this.#config;
    const applies = !c.operations || c.operations.includes(operation);
    return applies && c.holdUntil && decision.kind !== "hang"
      ? { ...decision, holdUntil: c.holdUntil }
      : decision;
  }

  #decide(operation: string): FaultDecision {
    const c = this.#config;
    const applies = !c.operations || c.operations.includes(operation);
    const latencyMs = applies ? (c.latencyMs ?? 0) : 0;
    const hang =
      typeof c.hang === "object" ? c.hang.operations.includes(operation) : c.hang && applies;
    if (hang) return { kind: "hang", latencyMs };
    if (!applies) return { kind: "none", latencyMs };
    if (this.#dropGate.fire(c.dropRate)) return { kind: "drop", latencyMs };
    if (this.#repliesToLose > 0) {
      this.#repliesToLose--;
      return { kind: "reply-lost", latencyMs };
    }
    if (this.#errorGate.fire(c.errorRate5xx)) {
      return { kind: "5xx", latencyMs, status: c.error5xxStatus ?? 500 };
    }
    if (c.answerError) {
      const { code, message, status = 400 } = c.answerError;
      return { kind: "error", latencyMs, code, message, status };
    }
    return { kind: "none", latencyMs };
  }

  /** Takes a token for an authenticated call; false means ThrottlingException. */
  admit(operation: string): boolean {
    const bucket = this.#buckets.get(operation) ?? this.#buckets.get("*");
    const ok = bucket ? bucket.take() : true;
    const counter = this.#counters.get(operation) ?? { accepted: 0, throttled: 0 };
    if (ok) counter.accepted++;
    else counter.throttled++;
    this.#counters.set(operation, counter);
    return ok;
  }
}
