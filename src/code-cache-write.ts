/**
 * The hand-over of a code cache still to be written, between the bundle's start
 * (src/code-cache.ts, which compiled the program without a usable cache) and the program
 * (which knows when the task begins to wait). The two parts are bundled apart and
 * share no module, only this global, under a registered symbol.
 */
const WRITE_NOW = Symbol.for("ue-aws-stepfunctions.code-cache.write-now");

type Slot = Record<symbol, (() => void) | undefined>;

/** Leaves `write` for writeCodeCacheNow(). */
export function offerCodeCacheWrite(write: () => void): void {
  (globalThis as unknown as Slot)[WRITE_NOW] = write;
}

/**
 * Writes the code cache now when this process owes one (once; it is written at exit
 * otherwise); nothing when the start had a cache, or when the program was not started from
 * the bundle (a test that imports it).
 */
export function writeCodeCacheNow(): void {
  const slot = globalThis as unknown as Slot;
  const write = slot[WRITE_NOW];
  delete slot[WRITE_NOW];
  write?.();
}
