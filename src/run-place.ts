/**
 * Which run of a task instance this is, found from AWS itself rather than from a count the
 * agent does not pass (SPEC 5.4). Run k+1's execution is only ever created after run k's
 * exists, so the instance's executions are <base>-1 ... <base>-k with no gap: the newest is
 * found by galloping (2, 4, 8, ...) until a name is free, then by binary search, in
 * O(log k) look-ups. Pure: the look-up is passed in.
 */
import { MAX_EXECUTION_COUNT } from "./execution-name.ts";

/** Looks run `run` up: what AWS says about it, or null when no execution has its name. */
export type RunLookup<T> = (run: number) => Promise<T | null>;

export interface Newest<T> {
  readonly run: number;
  readonly found: T;
}

/**
 * The newest run, given one known to exist (`known`, with what a look-up said about it if
 * one was made). Returns null only when `known` itself cannot be seen.
 */
export async function findNewest<T>(
  known: number,
  lookup: RunLookup<T>,
  knownFound: T | null = null,
  maxRun: number = MAX_EXECUTION_COUNT,
): Promise<Newest<T> | null> {
  let low = known;
  let lowFound = knownFound;
  let high: number | null = null;
  // Gallop: double until a free name (or the largest run number) bounds the newest.
  while (high === null) {
    if (low >= maxRun) {
      high = maxRun + 1;
      break;
    }
    const next = Math.min(low * 2, maxRun);
    const found = await lookup(next);
    if (found === null) high = next;
    else {
      low = next;
      lowFound = found;
    }
  }
  // Binary search between the newest known to exist and the first known to be free.
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const found = await lookup(middle);
    if (found === null) high = middle;
    else {
      low = middle;
      lowFound = found;
    }
  }
  lowFound ??= await lookup(low);
  return lowFound === null ? null : { run: low, found: lowFound };
}

/** What a run decides from the newest execution of its task instance. */
export type RunDecision =
  | { readonly kind: "reattach"; readonly run: number }
  | { readonly kind: "redrive"; readonly run: number }
  | { readonly kind: "start"; readonly run: number };

/** Statuses in which an execution is still going: its task was relaunched, not rerun. */
export const STILL_GOING = new Set(["RUNNING", "PENDING_REDRIVE"]);

export interface NewestState {
  readonly run: number;
  readonly status: string;
  /** Why it cannot be redriven, or null when it can (see redriveRefusal). */
  readonly redriveRefusal: string | null;
}

/**
 * Still going: a relaunch after the agent died, re-attach. Ended: a rerun, start the next
 * run, or redrive the ended one when asked and AWS allows it.
 */
export function decideRun(newest: NewestState, redriveOnRerun: boolean): RunDecision {
  if (STILL_GOING.has(newest.status)) return { kind: "reattach", run: newest.run };
  if (redriveOnRerun && newest.redriveRefusal === null) {
    return { kind: "redrive", run: newest.run };
  }
  return { kind: "start", run: newest.run + 1 };
}
