import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "../helpers/paths.ts";

const run = promisify(execFile);
import { createOutputFields } from "../../src/output/output-fields.ts";
import {
  collectGarbage,
  QUIET_DELAY_MS,
  QUIET_GAP_MS,
  QUIET_YOUNG_LIMIT_BYTES,
  quietCollection,
  settleWhenFollowing,
  WAITING_V8_FLAGS,
  waitingV8Flags,
  youngGenerationBytes,
} from "../../src/settle-memory.ts";

test("one collection, armed by the first execution status and by nothing before it", async () => {
  let collections = 0;
  const outputs = settleWhenFollowing(createOutputFields(undefined), () => collections++, 5);
  outputs.set({ generated_execution_name: "n" });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(collections, 0);
  outputs.set({ execution_arn: "arn:x", execution_status: "RUNNING" });
  outputs.set({ execution_status: "SUCCEEDED" });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(collections, 1);
  assert.deepEqual(outputs.current, {
    generated_execution_name: "n",
    execution_arn: "arn:x",
    execution_status: "SUCCEEDED",
  });
  assert.equal(outputs.failure, undefined);
});

test("the wrapper passes a write failure through", () => {
  const outputs = settleWhenFollowing(
    createOutputFields("/nonexistent/folder/fields.jsonl"),
    () => {},
  );
  outputs.set({ execution_status: "RUNNING" });
  assert.match(outputs.failure ?? "", /\/nonexistent\/folder\/fields\.jsonl/);
});

test("a collection leaves no gc() behind and does not throw", async () => {
  await collectGarbage();
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined");
});

test("a collection collects: an object nothing refers to is gone afterwards", async () => {
  let ref: WeakRef<object> | undefined;
  (() => {
    ref = new WeakRef({ payload: new Array(1000).fill(1) });
  })();
  // A WeakRef's target lives at least until the current job ends.
  await new Promise((r) => setImmediate(r));
  await collectGarbage();
  await new Promise((r) => setImmediate(r));
  assert.equal(ref?.deref(), undefined);
});

/**
 * In a fresh Node process (the test runner's own flags stay as they are): a function asked to
 * be optimized, with or without prepareToWait() first, and what V8 says of it.
 */
function optimizedAfter(prepared: boolean): boolean {
  const module = pathToFileURL(join(ROOT, "src/settle-memory.ts")).href;
  const code = `
    const { prepareToWait } = await import(${JSON.stringify(module)});
    if (${prepared}) await prepareToWait();
    const natives = (body) => new Function("f", body);
    const status = natives("return %GetOptimizationStatus(f)");
    const hot = (n) => { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; };
    natives("%PrepareFunctionForOptimization(f)")(hot);
    hot(10);
    hot(10);
    natives("%OptimizeFunctionOnNextCall(f)")(hot);
    hot(10);
    // V8's optimization status: bit 4 is "optimized" on Node 20, 22 and 24.
    console.log((status(hot) & 16) !== 0 ? "optimized" : "not optimized");
  `;
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "--allow-natives-syntax", "--input-type=module", "-e", code],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(child.status, 0, child.stderr);
  return child.stdout.trim() === "optimized";
}

test("the flags are set only on Node.js versions whose V8 is known to have them", () => {
  for (const major of [20, 21, 22, 23, 24]) assert.equal(waitingV8Flags(major), WAITING_V8_FLAGS);
  for (const major of [18, 19, 25, 26]) assert.equal(waitingV8Flags(major), null);
});

test("once a task is about to wait, V8 optimizes no more code", () => {
  assert.equal(optimizedAfter(false), true, "before: V8 optimizes when asked");
  assert.equal(optimizedAfter(true), false, "after prepareToWait(): it does not");
});

/** A quiet collection with a clock, a young generation of `young` bytes and a counter. */
function quietWith(young: number) {
  const state = { clock: 1_000_000, last: 0, collections: 0, looks: 0 };
  const answered = quietCollection({
    collect: () => {
      state.collections++;
      state.last = state.clock;
    },
    youngBytes: async () => {
      state.looks++;
      return young;
    },
    lastCollection: () => state.last,
    now: () => state.clock,
  });
  return { state, answered };
}

const settled = () => new Promise((r) => setTimeout(r, QUIET_DELAY_MS + 50));

test("a quiet collection: once per wait, at the first check answered 5 s or more after the last collection", async () => {
  const { state, answered } = quietWith(4 * 1024 * 1024);
  answered();
  await settled();
  assert.equal(state.looks, 0, "no collection yet: the one armed by the first status comes first");
  state.last = state.clock;
  state.clock += QUIET_GAP_MS - 1;
  answered();
  await settled();
  assert.equal(state.looks, 0, "too soon after the last collection");
  state.clock += 1;
  answered();
  answered();
  assert.equal(state.collections, 0, "not at once: after the check is done");
  await settled();
  assert.equal(state.collections, 1, "one, however many checks meanwhile");
  for (let i = 0; i < 3; i++) {
    state.clock += QUIET_GAP_MS;
    answered();
    await settled();
  }
  assert.equal(state.collections, 1, "once per wait");
  assert.equal(state.looks, 1);
});

test("no quiet collection while the young generation is small, and no second look", async () => {
  const { state, answered } = quietWith(QUIET_YOUNG_LIMIT_BYTES);
  state.last = state.clock;
  for (let i = 0; i < 3; i++) {
    state.clock += QUIET_GAP_MS;
    answered();
    await settled();
  }
  assert.equal(state.looks, 1);
  assert.equal(state.collections, 0);
});

test("the young generation's size comes from V8", async () => {
  const bytes = await youngGenerationBytes();
  assert.ok(bytes !== null && bytes > 0 && bytes < 64 * 1024 * 1024, String(bytes));
});

/**
 * In a fresh Node process: a young generation grown by a start-like burst, one collection
 * at once (as the one armed by the first status), then a trickle of allocation such as status
 * checks make, the waiting loop's cue every 500 ms for 6 s (with the quiet collection, until
 * it has run, if later); what V8 says of the young generation's size (MiB) after the first
 * collection and at the end, and whether the quiet collection ran.
 */
async function youngGenerationSizes(
  quiet: boolean,
): Promise<{ afterFirst: number; atEnd: number; collected: boolean }> {
  const module = pathToFileURL(join(ROOT, "src/settle-memory.ts")).href;
  const code = `
    const { collectGarbage, quietCollection } = await import(${JSON.stringify(module)});
    const { getHeapSpaceStatistics } = await import("node:v8");
    const young = () =>
      getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 1048576;
    let kept = [];
    for (let i = 0; i < 300000; i++) kept.push({ i, s: "x" + i });
    kept = null;
    await collectGarbage();
    const afterFirst = young();
    let collected = false;
    const answered = ${quiet}
      ? quietCollection({ collect: async () => { await collectGarbage(); collected = true; } })
      : () => {};
    let trickle;
    const tick = setInterval(() => {
      trickle = Array.from({ length: 200 }, (_, i) => ({ i }));
      answered();
    }, 500);
    // 6 s, and with the quiet collection until it has run (at most 30 s): on a loaded machine
    // the cue that arms it can come too late for it to run within the 6 s.
    const began = Date.now();
    while (Date.now() - began < 6000 || (!collected && ${quiet} && Date.now() - began < 30000)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    clearInterval(tick);
    console.log(JSON.stringify({ afterFirst, atEnd: young(), collected }));
  `;
  const child = await run(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", code],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  return JSON.parse(child.stdout.trim()) as {
    afterFirst: number;
    atEnd: number;
    collected: boolean;
  };
}

test("V8 gives a grown young generation back at the quiet collection, not without it", async () => {
  const [without, quiet] = await Promise.all([
    youngGenerationSizes(false),
    youngGenerationSizes(true),
  ]);
  assert.ok(without.afterFirst > 4, `grown by the burst: ${without.afterFirst} MiB`);
  assert.ok(without.atEnd > 4, `kept without the quiet collection: ${without.atEnd} MiB`);
  assert.ok(quiet.afterFirst > 4, `grown by the burst: ${quiet.afterFirst} MiB`);
  // Run, not waited out: past 6 s V8 may give the room back by itself.
  assert.equal(quiet.collected, true, "the quiet collection ran");
  assert.ok(quiet.atEnd <= 2, `given back at the quiet collection: ${quiet.atEnd} MiB`);
});
