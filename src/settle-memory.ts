/**
 * A task that follows an execution mostly sleeps between status checks, for minutes or
 * hours, while what its start left behind stays in memory: the code cache's buffer, the
 * bundle's text that Node compiled, the garbage of loading and of the first calls. V8
 * collects it only when the task allocates enough to need room, which a sleeping task
 * rarely does. One full collection soon after the execution's status is first known gives
 * that memory back to the system (about 2.5 MiB of PSS per waiting task, see
 * docs/benchmarks.md). A start without waiting has ended before the timer fires. A task
 * that waits also turns V8's optimizing compilers off as its wait begins (prepareToWait()).
 */
import { runInNewContext } from "node:vm";
import { writeCodeCacheNow } from "./code-cache-write.ts";
import type { OutputFields } from "./output/output-fields.ts";

/** How long after the first status the collection runs: after the first status check. */
export const SETTLE_DELAY_MS = 1500;

/**
 * One full garbage collection; nothing at all when the runtime refuses. node:v8 loads here,
 * on first use: a start without waiting never needs it.
 */
export async function collectGarbage(): Promise<void> {
  try {
    const { setFlagsFromString } = await import("node:v8");
    // V8 gives its gc() only to contexts made while the flag is on; the flag goes off again
    // at once, so that nothing else sees it and the code cache's flag check is unchanged.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    setFlagsFromString("--no-expose-gc");
    if (typeof gc === "function") gc();
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
