import assert from "node:assert/strict";
import { test } from "node:test";
import { showsBeforeRedrive } from "../../src/actions/status-check.ts";

const cases: Array<
  [string, { status?: string; redriveCount?: number }, number | undefined, boolean]
> = [
  ["no redrive by this program", { status: "FAILED", redriveCount: 0 }, undefined, false],
  ["closed, count not grown", { status: "FAILED", redriveCount: 0 }, 0, true],
  ["closed, count missing", { status: "TIMED_OUT" }, 0, true],
  ["closed, second redrive not shown yet", { status: "ABORTED", redriveCount: 1 }, 1, true],
  ["closed after the redrive", { status: "FAILED", redriveCount: 1 }, 0, false],
  ["running again", { status: "RUNNING", redriveCount: 0 }, 0, false],
  ["pending redrive", { status: "PENDING_REDRIVE", redriveCount: 0 }, 0, false],
];

for (const [what, reply, before, expected] of cases) {
  test(`showsBeforeRedrive: ${what}`, () => {
    assert.equal(showsBeforeRedrive(reply as never, before), expected);
  });
}
