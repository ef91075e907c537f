import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decideRun, findNewest } from "../../src/run-place.ts";

/** A look-up over runs 1..newest that records which runs it was asked about. */
function runsUpTo(newest: number) {
  const asked: number[] = [];
  const lookup = async (run: number) => {
    asked.push(run);
    return run <= newest ? { run } : null;
  };
  return { asked, lookup };
}

describe("finding the newest run of a task instance", () => {
  const cases: Array<[newest: number, maxLookups: number]> = [
    [1, 2],
    [2, 3],
    [3, 4],
    [7, 6],
    [8, 7],
    [100, 14],
    [1000, 20],
    [123_456, 34],
  ];
  for (const [newest, maxLookups] of cases) {
    test(`newest run ${newest}: found with at most ${maxLookups} look-ups (2 log2 k + 2)`, async () => {
      const { asked, lookup } = runsUpTo(newest);
      const found = await findNewest(1, lookup);
      assert.deepEqual(found, { run: newest, found: { run: newest } });
      assert.ok(asked.length <= maxLookups, `${asked.length} look-ups: ${asked.join(",")}`);
      assert.ok(asked.length <= 2 * Math.log2(newest) + 2);
    });
  }

  test("gallops 2, 4, 8 ... then halves the gap", async () => {
    const { asked, lookup } = runsUpTo(5);
    await findNewest(1, lookup);
    assert.deepEqual(asked, [2, 4, 8, 6, 5]);
  });

  test("starts from a run known to exist and reuses what was read of it", async () => {
    const { asked, lookup } = runsUpTo(6);
    const found = await findNewest(6, lookup, { run: 6 });
    assert.deepEqual(found, { run: 6, found: { run: 6 } });
    assert.deepEqual(asked, [12, 9, 7]);
  });

  test("stops at the largest run number", async () => {
    const { asked, lookup } = runsUpTo(50);
    const found = await findNewest(1, lookup, null, 40);
    assert.equal(found?.run, 40);
    assert.ok(
      asked.every((r) => r <= 40),
      asked.join(","),
    );
  });

  test("null when the run known to exist cannot be seen (eventual consistency)", async () => {
    const { lookup } = runsUpTo(0);
    assert.equal(await findNewest(1, lookup), null);
  });
});

describe("what a run does about the newest execution", () => {
  const table: Array<[string, string, string | null, boolean, ReturnType<typeof decideRun>]> = [
    ["still running: relaunch", "RUNNING", "it is RUNNING", false, { kind: "reattach", run: 3 }],
    ["running, redrive asked", "RUNNING", "it is RUNNING", true, { kind: "reattach", run: 3 }],
    ["pending redrive: relaunch", "PENDING_REDRIVE", "x", true, { kind: "reattach", run: 3 }],
    [
      "succeeded: rerun, next run",
      "SUCCEEDED",
      "it is SUCCEEDED",
      false,
      { kind: "start", run: 4 },
    ],
    ["succeeded, redrive asked", "SUCCEEDED", "it is SUCCEEDED", true, { kind: "start", run: 4 }],
    ["failed: rerun, next run", "FAILED", null, false, { kind: "start", run: 4 }],
    ["failed, redrive asked", "FAILED", null, true, { kind: "redrive", run: 3 }],
    ["timed out, redrive asked", "TIMED_OUT", null, true, { kind: "redrive", run: 3 }],
    [
      "failed, not redrivable",
      "FAILED",
      "AWS reports it not redrivable",
      true,
      { kind: "start", run: 4 },
    ],
  ];
  for (const [what, status, refusal, redrive, expected] of table) {
    test(what, () => {
      assert.deepEqual(decideRun({ run: 3, status, redriveRefusal: refusal }, redrive), expected);
    });
  }
});
