import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffDelay, formatDuration, nextPollDelay, stillRunningDue } from "../../src/polling.ts";

describe("polling schedule", () => {
  const mid = () => 0.5;
  test("early checks come soon; the polling interval is the ceiling", () => {
    assert.equal(nextPollDelay(0, 10_000, mid), 500);
    assert.equal(nextPollDelay(3_000, 10_000, mid), 750);
    assert.equal(nextPollDelay(20_000, 10_000, mid), 5_000);
    assert.equal(nextPollDelay(600_000, 10_000, mid), 10_000);
  });

  test("a 3 s execution under a 10 s interval is seen within 1.5 s of its end, whatever the jitter", () => {
    for (const r of [0, 0.5, 0.999]) {
      let t = 0;
      while (t < 3_000) t += nextPollDelay(t, 10_000, () => r);
      assert.ok(t - 3_000 <= 1_500, `seen at ${t} ms with jitter ${r}`);
    }
  });

  test("jitter stays within the ceiling and spreads waits", () => {
    // 20 s in: the base wait is 5 s, spread by ±10 %.
    assert.equal(
      nextPollDelay(20_000, 10_000, () => 0),
      4_500,
    );
    assert.equal(
      nextPollDelay(20_000, 10_000, () => 1),
      5_500,
    );
    // Near the ceiling the jitter never pushes past it.
    assert.equal(
      nextPollDelay(100_000, 10_000, () => 1),
      10_000,
    );
    assert.equal(
      nextPollDelay(100_000, 10_000, () => 0),
      9_000,
    );
  });

  test("backoff grows exponentially, capped, never zero", () => {
    const delays = [1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, 10_000, () => 1));
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    assert.equal(
      backoffDelay(1, 10_000, () => 0),
      500,
    );
    assert.ok(backoffDelay(20, 60_000, () => 1) <= 30_000);
  });

  test("still-running lines after a minute, then every five minutes", () => {
    assert.equal(stillRunningDue(59_000, 0), false);
    assert.equal(stillRunningDue(60_000, 0), true);
    assert.equal(stillRunningDue(200_000, 60_000), false);
    assert.equal(stillRunningDue(360_000, 60_000), true);
  });

  test("durations read h:mm:ss", () => {
    assert.equal(formatDuration(3_723_000), "1:02:03");
  });
});
