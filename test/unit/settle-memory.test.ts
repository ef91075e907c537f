import assert from "node:assert/strict";
import { test } from "node:test";
import { createOutputFields } from "../../src/output/output-fields.ts";
import { collectGarbage, settleWhenFollowing } from "../../src/settle-memory.ts";

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
