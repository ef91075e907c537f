import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkExecutionName,
  clean,
  executionName,
  MAX_EXECUTION_COUNT,
} from "../../src/execution-name.ts";

const ALLOWED = /^[A-Za-z0-9_-]{1,80}$/;

describe("execution names", () => {
  test("a user name gets the execution count suffix", () => {
    assert.equal(executionName("nightly", { executionCount: 1 }), "nightly-1");
    assert.equal(executionName("nightly", { executionCount: 3 }), "nightly-3");
  });

  test("generated from the task: deterministic for the same instance and count", () => {
    const ctx = {
      taskName: "Load Orders (EU)",
      taskInstanceId: "1732190000123456789",
      executionCount: 2,
    };
    const a = executionName(undefined, ctx);
    assert.equal(a, "Load-Orders-EU-1732190000123456789-2");
    assert.equal(executionName(undefined, ctx), a);
    assert.notEqual(executionName(undefined, { ...ctx, executionCount: 3 }), a);
  });

  test("generated names use only A-Z a-z 0-9 - _ and fit in 80 characters", () => {
    const cases = [
      { taskName: "x".repeat(200), taskInstanceId: "id-1", executionCount: 1 },
      { taskName: "ünïcødé 名前 ☃", taskInstanceId: "42", executionCount: 12345 },
      { taskName: "t", taskInstanceId: "i".repeat(120), executionCount: 9 },
      { executionCount: 1 },
    ];
    for (const ctx of cases) {
      const name = executionName(undefined, ctx);
      assert.match(name, ALLOWED, name);
      assert.ok(name.endsWith(`-${ctx.executionCount}`), name);
    }
  });

  test("the task instance id is kept whole when the task name must be shortened", () => {
    const name = executionName(undefined, {
      taskName: "y".repeat(100),
      taskInstanceId: "0123456789abcdef",
      executionCount: 1,
    });
    assert.ok(name.endsWith("-0123456789abcdef-1"), name);
    assert.equal(name.length, 80);
  });

  test("without a task instance id two runs get different names", () => {
    assert.notEqual(
      executionName(undefined, { executionCount: 1 }),
      executionName(undefined, { executionCount: 1 }),
    );
  });

  const bad: Array<[string, RegExp]> = [
    ["has space", /whitespace/],
    ["tab\there", /whitespace/],
    ["ctl\u0001", /control character/],
    ...[...'<>{}[]?*"#%\\^|~`$&,;:/'].map((c): [string, RegExp] => [`a${c}b`, /must not contain/]),
  ];
  for (const [name, why] of bad) {
    test(`refuses ${JSON.stringify(name)}`, () => {
      assert.match(checkExecutionName(name, 1) ?? "", why);
    });
  }

  test("accepts the longest name that fits with its suffix", () => {
    assert.equal(checkExecutionName("n".repeat(78), 1), null);
    assert.match(checkExecutionName("n".repeat(78), 10) ?? "", /at most 77/);
  });

  test("clean collapses runs of other characters", () => {
    assert.equal(clean("  a//b..c  "), "a-b-c");
  });

  test("the largest count leaves a name that obeys the 80-character rule", () => {
    const context = {
      taskName: "t".repeat(100),
      taskInstanceId: "i".repeat(100),
      executionCount: MAX_EXECUTION_COUNT,
    };
    const name = executionName(undefined, context);
    assert.ok(name.length <= 80, name);
    assert.ok(name.endsWith(`-${MAX_EXECUTION_COUNT}`));
    assert.equal(checkExecutionName("n".repeat(70), MAX_EXECUTION_COUNT), null);
  });
});
