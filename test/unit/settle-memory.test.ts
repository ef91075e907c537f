import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { ROOT } from "../helpers/paths.ts";
import { createOutputFields } from "../../src/output/output-fields.ts";
import {
  collectGarbage,
  settleWhenFollowing,
  WAITING_V8_FLAGS,
  waitingV8Flags,
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
