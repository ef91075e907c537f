/**
 * Eventual consistency of DescribeExecution, as AWS documents it: right after StartExecution
 * an execution may not be found yet, and right after RedriveExecution it may still show its
 * earlier, closed state. Off by default; a test turns it on to prove a client copes.
 */
import type { Execution } from "./executions.ts";

export interface ConsistencyConfig {
  /** DescribeExecution calls of a newly started execution answered ExecutionDoesNotExist. */
  hiddenAfterStart?: number;
  /** DescribeExecution calls after a redrive answered with the execution as it was before it. */
  staleAfterRedrive?: number;
}

type Body = Record<string, unknown>;

export class Consistency {
  #config: Required<ConsistencyConfig> = { hiddenAfterStart: 0, staleAfterRedrive: 0 };
  readonly #hidden = new Map<string, number>();
  readonly #stale = new Map<string, { left: number; before: Body }>();

  /** Replaces the configuration; applies to executions started or redriven from now on. */
  set(config: ConsistencyConfig): void {
    this.#config = {
      hiddenAfterStart: config.hiddenAfterStart ?? 0,
      staleAfterRedrive: config.staleAfterRedrive ?? 0,
    };
  }

  reset(): void {
    this.set({});
    this.#hidden.clear();
    this.#stale.clear();
  }

  started(exec: Execution): void {
    if (this.#config.hiddenAfterStart > 0) {
      this.#hidden.set(exec.arn, this.#config.hiddenAfterStart);
    }
  }

  redriven(exec: Execution, before: Body): void {
    if (this.#config.staleAfterRedrive > 0) {
      this.#stale.set(exec.arn, { left: this.#config.staleAfterRedrive, before });
    }
  }

  /** True when this DescribeExecution must not find the execution yet. */
  hides(arn: string): boolean {
    const left = this.#hidden.get(arn);
    if (left === undefined) return false;
    if (left <= 1) this.#hidden.delete(arn);
    else this.#hidden.set(arn, left - 1);
    return true;
  }

  /** The earlier reply this DescribeExecution must still give, if any. */
  staleReply(arn: string): Body | undefined {
    const entry = this.#stale.get(arn);
    if (!entry) return undefined;
    if (entry.left <= 1) this.#stale.delete(arn);
    else entry.left--;
    return entry.before;
  }
}
