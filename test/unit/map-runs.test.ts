import assert from "node:assert/strict";
import { test } from "node:test";
import {
  labelOf,
  newestMapRuns,
  progressText,
  resultWriterLocation,
  toProgress,
} from "../../src/actions/map-runs.ts";

const RUN =
  "arn:aws:states:us-east-1:123456789012:mapRun:orders/ProcessOrders:0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";

test("labelOf: the Distributed Map's label from the Map Run ARN", () => {
  assert.equal(labelOf(RUN), "ProcessOrders");
  assert.equal(labelOf("not an ARN"), "not an ARN");
});

test("progressText: items and child executions, timed out and aborted only when there are any", () => {
  const progress = toProgress({
    mapRunArn: RUN,
    executionArn: "arn:aws:states:us-east-1:123456789012:execution:orders:run-1",
    status: "FAILED",
    startDate: new Date(0),
    maxConcurrency: 0,
    toleratedFailurePercentage: 0,
    toleratedFailureCount: 0,
    itemCounts: {
      pending: 0,
      running: 0,
      succeeded: 7,
      failed: 2,
      timedOut: 0,
      aborted: 1,
      total: 10,
      resultsWritten: 0,
    },
    executionCounts: {
      pending: 0,
      running: 0,
      succeeded: 7,
      failed: 2,
      timedOut: 1,
      aborted: 0,
      total: 10,
      resultsWritten: 0,
    },
  });
  assert.equal(
    progressText(progress),
    'Map Run "ProcessOrders" FAILED: items 7 of 10 succeeded, 2 failed, 1 aborted, 0 running, 0 pending; child executions 7 of 10 succeeded, 2 failed, 1 timed out, 0 running, 0 pending',
  );
});

const writer = { Bucket: "results-bucket", Key: "runs/abc/manifest.json" };
const cases: Array<[string, unknown, ReturnType<typeof resultWriterLocation>]> = [
  [
    "the output is the reference",
    { MapRunArn: RUN, ResultWriterDetails: writer },
    { bucket: "results-bucket", key: "runs/abc/manifest.json", mapRunArn: RUN },
  ],
  [
    "the reference under a key (ResultPath)",
    { order: 1, results: { ResultWriterDetails: writer } },
    { bucket: "results-bucket", key: "runs/abc/manifest.json", mapRunArn: null },
  ],
  ["no reference", { results: [1, 2] }, null],
  ["details without a key", { ResultWriterDetails: { Bucket: "b" } }, null],
  ["not an object", [1, 2], null],
  ["nothing", undefined, null],
];
for (const [what, output, expected] of cases) {
  test(`resultWriterLocation: ${what}`, () => {
    assert.deepEqual(resultWriterLocation(output), expected);
  });
}

test("newestMapRuns: the newest three by start date, whatever order the listing has", () => {
  const run = (n: number, startDate?: Date) => ({
    executionArn: "arn:aws:states:us-east-1:123456789012:execution:orders:run-1",
    mapRunArn: `${RUN.slice(0, -1)}${n}`,
    stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:orders/ProcessOrders",
    ...(startDate ? { startDate } : {}),
  });
  const oldestFirst = [1, 2, 3, 4, 5].map((n) => run(n, new Date(n * 1000)));
  assert.deepEqual(
    newestMapRuns(oldestFirst).map((r) => r.mapRunArn.at(-1)),
    ["5", "4", "3"],
  );
  assert.deepEqual(
    newestMapRuns(oldestFirst.toReversed()).map((r) => r.mapRunArn.at(-1)),
    ["5", "4", "3"],
  );
  // Without a start date last; without an ARN left out.
  const { mapRunArn: _, ...noArn } = run(9, new Date(9000));
  assert.deepEqual(
    newestMapRuns([run(7), noArn as (typeof oldestFirst)[0], run(6, new Date(6000))]).map((r) =>
      r.mapRunArn.at(-1),
    ),
    ["6", "7"],
  );
});
