/**
 * A task that follows an execution mostly sleeps between status checks, for minutes or
 * hours, while what its start left behind stays in memory: the code cache's buffer, the
 * bundle's text that Node compiled, the garbage of loading and of the first calls. V8
 * collects it only when the task allocates enough to need room, which a sleeping task
 * rarely does. One full collection soon after the execution's status is first known gives
 * that memory back to the system (about 2.5 MiB of PSS per waiting task, see
 * docs/benchmarks.md). A start without waiting has ended before the timer fires.
 */
import { runInNewContext } from "node:vm";
import { writeCodeCacheNow } from "./code-cache-write.ts";
import type { OutputFields } from "./output/output-fields.ts";

/** How long after the first status the collection runs: after the first status check. */
export const SETTLE_DELAY_MS = 1500;

/**
 * One full garbage collection; nothing at all when the runtime refuses. node:v8 loads here,
 * on first use: a start without waiting never needs it. A code cache this process still owes
 * is written first, and the collection takes the memory of its writing as well.
 */
export async function collectGarbage(): Promise<void> {
  writeCodeCacheNow();
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
