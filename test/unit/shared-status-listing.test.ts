/**
 * What follows a shared listing in time: its time limit ends a listing that hangs and is gone
 * once a listing ends, so that nothing fires later; a listing that went well is followed by
 * one garbage collection. Driven through sharedStatus() with Node's mock timers; the listing
 * call is a stand-in that records the abort signal it was given.
 */
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { StepFunctions } from "../../src/aws/step-functions.ts";
import { formatSnapshot, groupKey, sharingTimes } from "../../src/wait-sharing/decide.ts";
import { COLLECT_AFTER_LISTING_MS, sharedStatus } from "../../src/wait-sharing/shared-status.ts";
import { EXECUTION, PARTS, quiet } from "../helpers/shared-status-group.ts";

/** A 10-second polling interval gives a 10-second listing limit. */
const INTERVAL_MS = 10_000;

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "ue-listing-limit-"));
  // A live peer (this test's parent process) waits too, so that listing pays.
  const waiters = join(folder, groupKey(PARTS), "waiters");
  await mkdir(waiters, { recursive: true, mode: 0o700 });
  await writeFile(
    join(waiters, String(process.ppid)),
    JSON.stringify({ pid: process.ppid, until: Date.now() + 600_000 }),
    { mode: 0o600 },
  );
  mock.timers.enable({ apis: ["setTimeout"] });
});

afterEach(async () => {
  mock.timers.reset();
  await rm(folder, { recursive: true, force: true });
});

function source(
  listExecutions: (signal: AbortSignal) => Promise<unknown>,
  signal?: AbortSignal,
  afterListing: () => unknown = () => {},
) {
  const sfn = {
    listExecutions: (_input: unknown, options: { abortSignal: AbortSignal }) =>
      listExecutions(options.abortSignal),
  } as unknown as StepFunctions;
  return sharedStatus({
    folder,
    group: async () => PARTS,
    executionArn: EXECUTION,
    pollingIntervalMs: INTERVAL_MS,
    sfn,
    log: quiet,
    signal,
    afterListing,
  });
}

/** A listing that never answers, ending only when its signal aborts; records the signal. */
function hangingListing(signals: AbortSignal[]) {
  return (signal: AbortSignal) =>
    new Promise((_, reject) => {
      signals.push(signal);
      signal.addEventListener("abort", () =>
        reject(Object.assign(new Error("aborted"), { name: "AbortError" })),
      );
    });
}

/** Lets the check run up to its listing call (the timers are mocked, I/O is not). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("shared status: a listing's time limit", () => {
  test("a listing that went well leaves no limit behind to fire later", async () => {
    const signals: AbortSignal[] = [];
    const shared = source(async (signal) => {
      signals.push(signal);
      return { executions: [{ executionArn: EXECUTION, status: "RUNNING" }] };
    });
    const answer = await shared.check(Date.now() - 1_000);
    assert.equal(answer.kind, "running");
    assert.equal(signals.length, 1);
    mock.timers.tick(5 * INTERVAL_MS);
    assert.equal(signals[0]?.aborted, false);
    shared.close();
  });

  test("a listing whose connection dropped without an answer is sent again at once, not failed", async () => {
    let calls = 0;
    const shared = source(async () => {
      calls++;
      if (calls === 1) {
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      }
      return { executions: [{ executionArn: EXECUTION, status: "RUNNING" }] };
    });
    const answer = await shared.check(Date.now() - 1_000);
    assert.equal(answer.kind, "running");
    assert.equal(calls, 2);
    shared.close();
  });

  test("a listing that hangs is given up at its limit: the task asks AWS itself", async () => {
    const signals: AbortSignal[] = [];
    const shared = source(hangingListing(signals));
    const pending = shared.check(Date.now() - 1_000);
    await settle();
    assert.equal(signals.length, 1, "the listing began");
    mock.timers.tick(INTERVAL_MS - 1);
    assert.equal(signals[0]?.aborted, false, "not before its limit");
    mock.timers.tick(1);
    assert.deepEqual(await pending, { kind: "ask" });
    shared.close();
  });

  test("a cancelled task's listing ends at once", async () => {
    const cancel = new AbortController();
    const signals: AbortSignal[] = [];
    const shared = source(hangingListing(signals), cancel.signal);
    const pending = shared.check(Date.now() - 1_000);
    await settle();
    assert.equal(signals.length, 1, "the listing began");
    cancel.abort();
    assert.deepEqual(await pending, { kind: "ask" });
    assert.equal(signals[0]?.aborted, true);
    shared.close();
  });
});

describe("shared status: memory after a listing", () => {
  test("a listing that went well is followed by one collection, once its reply is garbage", async () => {
    let collections = 0;
    const shared = source(
      async () => ({ executions: [{ executionArn: EXECUTION, status: "RUNNING" }] }),
      undefined,
      () => collections++,
    );
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "running");
    mock.timers.tick(COLLECT_AFTER_LISTING_MS - 1);
    assert.equal(collections, 0, "not while the reply may still be in use");
    mock.timers.tick(1);
    assert.equal(collections, 1);
    mock.timers.tick(5 * INTERVAL_MS);
    assert.equal(collections, 1, "once per listing");
    shared.close();
  });

  test("a listing that failed collects nothing", async () => {
    let collections = 0;
    const shared = source(
      async () => {
        throw Object.assign(new Error("rate exceeded"), { name: "ThrottlingException" });
      },
      undefined,
      () => collections++,
    );
    assert.deepEqual(await shared.check(Date.now() - 1_000), { kind: "ask" });
    mock.timers.tick(5 * INTERVAL_MS);
    assert.equal(collections, 0);
    shared.close();
  });
});

describe("shared status: late listings under load", () => {
  /**
   * A peer (this test's parent process) lists now, begun 2 s ago; the group's last listing
   * began 20 s ago (what this waiter knows, 2 intervals old) and was written `writtenMsAgo`.
   */
  async function slowGroup(writtenMsAgo: number, leaseExtra: Record<string, unknown> = {}) {
    // The clock stands still from here: the task's "now" is the one these files are dated
    // from, however long writing them takes on a loaded machine (the wait it answers grows
    // with the time that passes, half of it, and is checked to the 100 ms).
    mock.timers.reset();
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.now() });
    const now = Date.now();
    const group = join(folder, groupKey(PARTS));
    await writeFile(
      join(group, "snapshot.json"),
      formatSnapshot(now - 20_000, [EXECUTION], now - writtenMsAgo),
      { mode: 0o600 },
    );
    await writeFile(
      join(group, "lease"),
      JSON.stringify({ pid: process.ppid, until: now + 10_000, since: now - 2_000, ...leaseExtra }),
      { mode: 0o600 },
    );
    const listings: AbortSignal[] = [];
    const shared = source(hangingListing(listings));
    const answer = await shared.check(now - 20_000);
    shared.close();
    assert.equal(listings.length, 0, "a live peer's lease: no listing of this task's own");
    return answer;
  }

  test("listings that keep coming, if late, are waited for past 1.25 intervals", async () => {
    const answer = await slowGroup(5_000);
    assert.equal(answer.kind, "later");
    assert.ok(answer.kind === "later" && answer.inMs >= 1_000 && answer.inMs <= 1_100);
  });

  test("listings that stopped (the last written 1.5 intervals ago): the task asks AWS", async () => {
    assert.deepEqual(await slowGroup(15_500), { kind: "ask" });
  });

  test("a peer's listing that failed is not waited for past 1.25 intervals, however recent the last one", async () => {
    assert.deepEqual(await slowGroup(5_000, { failed: true }), { kind: "ask" });
  });

  test("a task whose listing failed says so in its lease, which it leaves to lapse", async () => {
    const shared = source(async () => {
      throw Object.assign(new Error("rate exceeded"), { name: "ThrottlingException" });
    });
    const before = Date.now();
    assert.deepEqual(await shared.check(before - 1_000), { kind: "ask" });
    shared.close();
    const lease = JSON.parse(await readFile(join(folder, groupKey(PARTS), "lease"), "utf8"));
    assert.equal(lease.pid, process.pid);
    assert.equal(lease.failed, true);
    // It lapses by itself a gap and a listing limit after the listing began.
    assert.ok(lease.since >= before, JSON.stringify(lease));
    assert.equal(lease.until - lease.since, sharingTimes(INTERVAL_MS).refreshGapMs + INTERVAL_MS);
  });
});

describe("shared status: finding a live peer", () => {
  test("the peer seen last is asked first; once it is gone, another is looked for, and none means asking AWS", async () => {
    mock.timers.reset();
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.now() });
    const group = join(folder, groupKey(PARTS));
    const waiters = join(group, "waiters");
    const listings: AbortSignal[] = [];
    const shared = source(hangingListing(listings));
    /** A listing written just now, not newer than what the task knows: is a peer there to list next? */
    const look = async () => {
      const now = Date.now();
      await writeFile(join(group, "snapshot.json"), formatSnapshot(now - 1_000, [EXECUTION], now), {
        mode: 0o600,
      });
      return (await shared.check(now - 1_000)).kind;
    };
    assert.equal(await look(), "later", "the parent process waits too");
    await unlink(join(waiters, String(process.ppid)));
    // Process 1 is always alive.
    await writeFile(join(waiters, "1"), JSON.stringify({ pid: 1, until: Date.now() + 600_000 }), {
      mode: 0o600,
    });
    mock.timers.tick(INTERVAL_MS);
    assert.equal(await look(), "later", "another live peer is found");
    await writeFile(join(waiters, "1"), JSON.stringify({ pid: 1, until: Date.now() - 1 }), {
      mode: 0o600,
    });
    mock.timers.tick(INTERVAL_MS);
    assert.equal(await look(), "ask", "no live peer: the task asks AWS itself");
    await assert.rejects(
      access(join(waiters, "1")),
      { code: "ENOENT" },
      "the lapsed one tidied away",
    );
    shared.close();
    assert.equal(listings.length, 0);
  });
});
