import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import {
  checkExecutionName,
  clean,
  executionBase,
  instanceTag,
  MAX_EXECUTION_COUNT,
  MAX_EXECUTION_NAME_FIELD_LENGTH,
  oneOffRun,
  runName,
} from "../../src/execution-name.ts";

const ALLOWED = /^[A-Za-z0-9_-]{1,80}$/;

describe("execution names", () => {
  test("the instance tag is the first 8 hex digits of the instance id's SHA-256", () => {
    const id = "8a2bdc4e0f1a4b6c9d0e1f2a3b4c5d6e";
    const expected = createHash("sha256").update(id).digest("hex").slice(0, 8);
    assert.equal(instanceTag(id), expected);
    assert.match(instanceTag(id), /^[0-9a-f]{8}$/);
    assert.notEqual(instanceTag("a"), instanceTag("b"));
  });

  test("an Execution Name with a task instance gets the instance's tag, then the run number", () => {
    const a = executionBase("nightly", { taskInstanceId: "instance-a" });
    const b = executionBase("nightly", { taskInstanceId: "instance-b" });
    assert.deepEqual(a, { base: `nightly-${instanceTag("instance-a")}`, findable: true });
    assert.notEqual(a.base, b.base, "two task instances with the same Execution Name never share");
    assert.equal(runName(a.base, 3), `nightly-${instanceTag("instance-a")}-3`);
    assert.deepEqual(executionBase("nightly", { taskInstanceId: "instance-a" }), a);
  });

  test("an Execution Name without a task instance is the instance itself (a fixed-name job)", () => {
    assert.deepEqual(executionBase("nightly", {}), { base: "nightly", findable: true });
    assert.equal(runName("nightly", 1), "nightly-1");
  });

  test("generated from the task: deterministic for the same instance", () => {
    const ctx = { taskName: "Load Orders (EU)", taskInstanceId: "1732190000123456789" };
    const a = executionBase(undefined, ctx);
    assert.deepEqual(a, { base: "Load-Orders-EU-1732190000123456789", findable: true });
    assert.deepEqual(executionBase(undefined, ctx), a);
  });

  test("instance ids that clean to the same text still get different names", () => {
    const a = executionBase(undefined, { taskName: "t", taskInstanceId: "a.b" });
    const b = executionBase(undefined, { taskName: "t", taskInstanceId: "a:b" });
    assert.notEqual(a.base, b.base);
    const long1 = executionBase(undefined, { taskInstanceId: `${"i".repeat(60)}1` });
    const long2 = executionBase(undefined, { taskInstanceId: `${"i".repeat(60)}2` });
    assert.notEqual(long1.base, long2.base);
  });

  test("generated names use only A-Z a-z 0-9 - _ and fit in 80 with the largest run number", () => {
    const cases = [
      { taskName: "x".repeat(200), taskInstanceId: "id-1" },
      { taskName: "ünïcødé 名前 ☃", taskInstanceId: "42" },
      { taskName: "t", taskInstanceId: "i".repeat(120) },
      { taskName: "t".repeat(100), taskInstanceId: "ü".repeat(100) },
      {},
    ];
    for (const ctx of cases) {
      const name = runName(executionBase(undefined, ctx).base, MAX_EXECUTION_COUNT);
      assert.match(name, ALLOWED, name);
      assert.ok(name.length <= 80, name);
    }
  });

  test("the task instance id is kept whole when the task name must be shortened", () => {
    const { base } = executionBase(undefined, {
      taskName: "y".repeat(100),
      taskInstanceId: "0123456789abcdef",
    });
    assert.ok(base.endsWith("-0123456789abcdef"), base);
    assert.equal(base.length, 70);
  });

  test("an instance id that is not clean, or longer than 40, becomes 30 characters and its tag", () => {
    const one = executionBase(undefined, { taskName: "t", taskInstanceId: "job:42 run.7" }).base;
    const two = executionBase(undefined, { taskName: "t", taskInstanceId: "job 42 run 7" }).base;
    assert.equal(one, `t-job-42-run-7-${instanceTag("job:42 run.7")}`);
    assert.notEqual(one, two);
    const clean40 = "a".repeat(40);
    assert.equal(
      executionBase(undefined, { taskName: "t", taskInstanceId: clean40 }).base,
      `t-${clean40}`,
    );
    const long = "a".repeat(41);
    assert.equal(
      executionBase(undefined, { taskName: "t", taskInstanceId: long }).base,
      `t-${"a".repeat(30)}-${instanceTag(long)}`,
    );
  });

  test("without a task instance id and an Execution Name each run gets a new, unfindable name", () => {
    const a = executionBase(undefined, {});
    const b = executionBase(undefined, {});
    assert.equal(a.findable, false);
    assert.notEqual(a.base, b.base);
  });

  test("a one-off run suffix fits in the room of a run number", () => {
    const suffix = oneOffRun(new Date("2059-01-01T00:00:00Z"));
    assert.ok(suffix.length <= String(MAX_EXECUTION_COUNT).length, suffix);
    assert.match(suffix, /^[0-9a-z]+$/);
    assert.notEqual(oneOffRun(new Date(1)), oneOffRun(new Date(2)));
  });

  const bad: Array<[string, RegExp]> = [
    ["has space", /whitespace/],
    ["tab\there", /whitespace/],
    ["ctl\u0001", /control character/],
    ...[...'<>{}[]?*"#%\\^|~`$&,;:/'].map((c): [string, RegExp] => [`a${c}b`, /must not contain/]),
  ];
  for (const [name, why] of bad) {
    test(`refuses ${JSON.stringify(name)}`, () => {
      assert.match(checkExecutionName(name) ?? "", why);
    });
  }

  test("one fixed limit for the Execution Name: 61, room for the tag and the run number", () => {
    assert.equal(MAX_EXECUTION_NAME_FIELD_LENGTH, 61);
    assert.equal(checkExecutionName("n".repeat(61)), null);
    assert.match(
      checkExecutionName("n".repeat(62)) ?? "",
      /^is 62 characters; use at most 61, so that the task instance tag .* and the run number .* fit in AWS's 80$/,
    );
    const longest = runName(
      executionBase("n".repeat(61), { taskInstanceId: "x" }).base,
      MAX_EXECUTION_COUNT,
    );
    assert.equal(longest.length, 80);
  });

  test("clean collapses runs of other characters", () => {
    assert.equal(clean("  a//b..c  "), "a-b-c");
  });
});
