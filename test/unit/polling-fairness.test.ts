/**
 * Fairness of the waiting loop's schedule under throttling, on the pure schedule functions
 * the loop uses (afterCheck), in virtual time: no timers, no timed assertions.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  afterCheck,
  type CheckResult,
  INITIAL_POLL_STATE,
  MIN_RETRY_MS,
  type PollState,
  throttledRetryDelay,
} from "../../src/polling.ts";

/** A small deterministic PRNG (mulberry32), so every run of the test is the same. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("throttled retries stay inside one polling interval", () => {
  const edges = [() => 0, () => 0.5, () => 0.999999];
  for (const ceilingMs of [1_000, 5_000, 10_000, 60_000]) {
    for (const random of edges) {
      test(`interval ${ceilingMs} ms, jitter ${random().toFixed(2)}: every retry of a streak lands within the interval`, () => {
        let streakMs = 0;
        let retries = 0;
        while (streakMs < ceilingMs - MIN_RETRY_MS) {
          const delay = throttledRetryDelay(streakMs, ceilingMs, random);
          assert.ok(delay >= MIN_RETRY_MS, `delay ${delay} below the minimum`);
          streakMs += delay;
          retries++;
          assert.ok(streakMs <= ceilingMs, `retry ${retries} at ${streakMs} ms, past ${ceilingMs}`);
        }
        assert.ok(retries >= 1);
      });
    }
  }

  test("six throttled checks in a row, whatever the jitter: the next check comes within one interval plus 1.5 s per late retry", () => {
    for (const random of edges) {
      let state: PollState = INITIAL_POLL_STATE;
      let now = 100_000;
      const first = now;
      for (let i = 0; i < 6; i++) {
        const next = afterCheck(state, { kind: "throttled" }, now, 10_000, random);
        state = next.state;
        now += next.delayMs;
      }
      assert.equal(state.failures, 6);
      // A doubling backoff would be past 30 s here.
      assert.ok(
        now - first <= 10_000 + 6 * 1_500,
        `seventh check ${now - first} ms after the first`,
      );
    }
  });

  test("past the window the service still refuses: retries every half to one and a half seconds", () => {
    assert.equal(
      throttledRetryDelay(12_000, 10_000, () => 0),
      500,
    );
    assert.equal(
      throttledRetryDelay(12_000, 10_000, () => 1),
      1_500,
    );
  });

  test("an answer after throttling: the floor stays under the interval and sinks", () => {
    let state: PollState = INITIAL_POLL_STATE;
    for (let i = 0; i < 20; i++) state = afterCheck(state, { kind: "throttled" }, i, 10_000).state;
    assert.equal(state.floorMs, 10_000);
    const answered = afterCheck(
      state,
      { kind: "answered", elapsedMs: 1_000 },
      50,
      10_000,
      () => 0.5,
    );
    assert.equal(answered.state.failures, 0);
    assert.ok(answered.delayMs <= 10_000);
    assert.ok(answered.state.floorMs < state.floorMs);
  });

  test("other failures back off exponentially, capped", () => {
    let state: PollState = INITIAL_POLL_STATE;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = afterCheck(state, { kind: "failed" }, i * 1000, 10_000, () => 1);
      state = next.state;
      delays.push(next.delayMs);
    }
    assert.deepEqual(delays.slice(0, 4), [1_000, 2_000, 4_000, 8_000]);
    assert.ok(delays.every((d) => d <= 10_000));
  });
});

/** A token bucket as the service keeps one (and as the local endpoint's faults do). */
class Bucket {
  #tokens: number;
  #last = 0;
  accepted = 0;
  throttled = 0;
  constructor(
    readonly size: number,
    readonly perSecond: number,
  ) {
    this.#tokens = size;
  }
  take(now: number): boolean {
    this.#tokens = Math.min(this.size, this.#tokens + ((now - this.#last) / 1000) * this.perSecond);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.accepted++;
      return true;
    }
    this.throttled++;
    return false;
  }
}

/**
 * Many tasks waiting at once on one DescribeExecution bucket, in virtual time. Each task's
 * execution ends at a random time; the result is how late each task saw the end.
 */
function simulate(options: {
  tasks: number;
  ceilingMs: number;
  bucket: Bucket;
  seed: number;
  maxRunMs: number;
}): { lateness: number[]; maxStreak: number } {
  const random = prng(options.seed);
  interface Task {
    endsAt: number;
    startedAt: number;
    state: PollState;
    nextAt: number;
    streak: number;
    doneAt?: number;
  }
  const tasks: Task[] = [];
  for (let i = 0; i < options.tasks; i++) {
    // All start within the same second, as a workflow's fan-out does.
    const startedAt = Math.floor(random() * 1000);
    tasks.push({
      startedAt,
      endsAt: startedAt + 5_000 + Math.floor(random() * options.maxRunMs),
      state: INITIAL_POLL_STATE,
      nextAt: startedAt + 500,
      streak: 0,
    });
  }
  let maxStreak = 0;
  for (;;) {
    const waiting = tasks.filter((t) => t.doneAt === undefined);
    if (waiting.length === 0) break;
    // The next check of all: process in time order.
    const task = waiting.reduce((a, b) => (b.nextAt < a.nextAt ? b : a));
    const now = task.nextAt;
    let result: CheckResult;
    if (options.bucket.take(now)) {
      if (now >= task.endsAt) {
        task.doneAt = now;
        continue;
      }
      result = { kind: "answered", elapsedMs: now - task.startedAt };
      task.streak = 0;
    } else {
      result = { kind: "throttled" };
      task.streak++;
      maxStreak = Math.max(maxStreak, task.streak);
    }
    const next = afterCheck(task.state, result, now, options.ceilingMs, random);
    task.state = next.state;
    task.nextAt = now + next.delayMs;
  }
  return { lateness: tasks.map((t) => (t.doneAt as number) - t.endsAt), maxStreak };
}

describe("200 tasks on one bucket of 250, 25 per second", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    test(`seed ${seed}: every task sees its end within twice its 10 s interval`, () => {
      const bucket = new Bucket(250, 25);
      const { lateness, maxStreak } = simulate({
        tasks: 200,
        ceilingMs: 10_000,
        bucket,
        seed,
        maxRunMs: 120_000,
      });
      const worst = Math.max(...lateness);
      assert.equal(lateness.length, 200);
      assert.ok(
        worst <= 20_000,
        `worst lateness ${worst} ms (longest throttled streak ${maxStreak})`,
      );
      assert.ok(bucket.throttled > 0, "the scenario does throttle");
    });
  }
});
