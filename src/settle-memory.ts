/**
 * A task that follows an execution mostly sleeps between status checks, for minutes or
 * hours, while what its start left behind stays in memory: the code cache's buffer, the
 * bundle's text that Node compiled, the garbage of loading and of the first calls. V8
 * collects it only when the task allocates enough to need room, which a sleeping task
 * rarely does. One full collection soon after the execution's status is first known gives
 * that memory back to the system (about 2.5 MiB of PSS per waiting task, see
 * docs/benchmarks.md). A start without waiting has ended before the timer fires. A task
 * that waits also turns V8's optimizing compilers off as its wait begins (prepareToWait()),
 * and gives its young generation back in a quiet moment of the wait (quietCollection()).
 */
import { runInNewContext } from "node:vm";
import { writeCodeCacheNow } from "./code-cache-write.ts";
import type { OutputFields } from "./output/output-fields.ts";

/** How long after the first status the collection runs: after the first status check. */
export const SETTLE_DELAY_MS = 1500;

/** When collectGarbage() last ran in this process (ms since the epoch; 0: never). */
let lastCollectionAt = 0;

/**
 * V8's gc(), made once: V8 gives it only to contexts made while --expose-gc is on, and each
 * context is some 150 KiB that the heap then holds until the collection after next. null:
 * the runtime refused.
 */
let gcFunction: (() => void) | null | undefined;

/**
 * One full garbage collection; nothing at all when the runtime refuses. node:v8 loads here,
 * on first use: a start without waiting never needs it.
 */
export async function collectGarbage(): Promise<void> {
  lastCollectionAt = Date.now();
  try {
    if (gcFunction === undefined) {
      gcFunction = null;
      const { setFlagsFromString } = await import("node:v8");
      // The flag goes off again at once, so that nothing else sees it and the code cache's
      // flag check is unchanged.
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as unknown;
      setFlagsFromString("--no-expose-gc");
      if (typeof gc === "function") gcFunction = gc as () => void;
    }
    gcFunction?.();
  } catch {
    // Only memory is at stake.
  }
}

/**
 * V8's optimizing compilers (TurboFan; Maglev from Node 22 on) start no more work once a task
 * waits. A waiting task runs little code, and what repeats in it (a listing's hundreds of
 * entries) is enough for them to compile, in memory that the sleeping process then keeps.
 * 200 waiting tasks side by side as a plain command line: set once the first status is known,
 * the listers' PSS median 12.6 -> 10.6 MiB, worst 15.1 -> 11.5; set as the wait begins
 * rather than then, the worst of all 200 a further 12.5 -> 11.6 and 13.1 -> 11.6 MiB (two
 * runs); CPU the same or a little lower.
 */
export const WAITING_V8_FLAGS = "--no-opt --no-maglev";

/**
 * The flags to set on a Node.js major version, or null: only on the versions whose V8 is
 * known to have them (tested on 20, 22 and 24). V8 prints "unrecognized flag" on standard
 * error for a flag it lacks, and a later V8 may drop one; there only the memory is lost.
 */
export function waitingV8Flags(nodeMajor: number): string | null {
  return nodeMajor >= 20 && nodeMajor <= 24 ? WAITING_V8_FLAGS : null;
}

/**
 * A task about to wait: the code cache it owes is written (V8 refuses a cache made under
 * other flags), then V8's optimizing compilers are turned off for the rest of the process
 * (nothing when the runtime refuses). Process-wide: only the program's own process waits.
 */
export async function prepareToWait(): Promise<void> {
  writeCodeCacheNow();
  const flags = waitingV8Flags(Number(process.versions.node.split(".")[0]));
  if (!flags) return;
  try {
    const { setFlagsFromString } = await import("node:v8");
    setFlagsFromString(flags);
  } catch {
    // Only memory is at stake.
  }
}

/** The output fields, arming one collection when an execution's status is first set. */
export function settleWhenFollowing(
  outputs: OutputFields,
  collect: () => unknown = collectGarbage,
  delayMs: number = SETTLE_DELAY_MS,
): OutputFields {
  let armed = false;
  return {
    get current() {
      return outputs.current;
    },
    get failure() {
      return outputs.failure;
    },
    set(values) {
      outputs.set(values);
      if (!armed && values.execution_status !== undefined) {
        armed = true;
        // unref: the timer never keeps a finished task alive.
        setTimeout(collect, delayMs).unref();
      }
    },
  };
}

/**
 * How long after the last full collection a quiet one may run: V8 judges the allocation rate
 * over the last 5 s of the periods between its collections (its kThroughputTimeFrameMs).
 */
export const QUIET_GAP_MS = 5000;
/** How long after the status check the quiet collection runs: once the check is done. */
export const QUIET_DELAY_MS = 100;
/**
 * The young generation's resident size above which a quiet collection is worth its few ms:
 * V8's initial semi-space on Node.js 20 to 24 (a settled waiting task's holds 0.25 to 1 MiB).
 */
export const QUIET_YOUNG_LIMIT_BYTES = 1024 * 1024;

/** The young generation's resident size (bytes), or null when the runtime does not say. */
export async function youngGenerationBytes(): Promise<number | null> {
  try {
    const { getHeapSpaceStatistics } = await import("node:v8");
    const young = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    return young ? young.physical_space_size : null;
  } catch {
    return null;
  }
}

export interface QuietCollectionOptions {
  readonly collect?: () => unknown;
  readonly youngBytes?: () => Promise<number | null>;
  readonly lastCollection?: () => number;
  readonly now?: () => number;
}

/**
 * One more full collection while a task waits, for its young generation. V8 grows the young
 * generation (the semi-spaces) while a start allocates much that lives on, and gives the room
 * back only in a collection that sees a low allocation rate, but not none: 1 to 1,000 bytes
 * per ms over the last 5 s. A sleeping task rarely collects; the collection soon after the
 * first status still sees the start's rate, and one at an idle moment sees none. So, once
 * per wait, at the first status check answered at least QUIET_GAP_MS after the last full
 * collection (a check allocates a little: more than nothing, far less than 5 MB), a task
 * whose young generation holds more than QUIET_YOUNG_LIMIT_BYTES runs one collection. 200
 * tasks launched at once as a plain command line, alternate tasks with it, PSS median /
 * worst: see docs/benchmarks.md. Up to 3 in a wait took the worst as far down, but cost CPU
 * (+59% for the waiting tasks over 30 s) and raised the median. Returns what the waiting
 * loop calls after each answered status check.
 */
export function quietCollection(options: QuietCollectionOptions = {}): () => void {
  const collect = options.collect ?? collectGarbage;
  const youngBytes = options.youngBytes ?? youngGenerationBytes;
  const lastCollection = options.lastCollection ?? (() => lastCollectionAt);
  const now = options.now ?? Date.now;
  let looked = false;
  return () => {
    if (looked) return;
    const last = lastCollection();
    // No collection yet: the one armed by the first status comes first.
    if (last === 0 || now() - last < QUIET_GAP_MS) return;
    looked = true;
    setTimeout(async () => {
      const young = await youngBytes();
      if (young !== null && young > QUIET_YOUNG_LIMIT_BYTES) await collect();
    }, QUIET_DELAY_MS).unref();
  };
}
