import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatSnapshot,
  groupKey,
  KNOWLEDGE_AGE_LIMIT_BUSY,
  LISTING_RECHECK_MS,
  leaseState,
  parseLease,
  parseSnapshot,
  refreshDue,
  SNAPSHOT_FORMAT,
  type Snapshot,
  sharingTimes,
  snapshotVerdict,
  stateMachineOfExecution,
  waitForListing,
  waiterLive,
} from "../../src/wait-sharing/decide.ts";
import { defaultSharingFolder } from "../../src/wait-sharing/shared-status.ts";

const ARN = "arn:aws:states:eu-west-1:123456789012:execution:orders:run-1";
const OTHER = "arn:aws:states:eu-west-1:123456789012:execution:orders:run-2";
const snap = (takenAt: number, running: string[] = [ARN]): Snapshot => ({
  takenAt,
  doneAt: takenAt,
  running: new Set(running),
});

describe("shared status: is the snapshot an answer for me now?", () => {
  const now = 1_000_000;
  const maxAge = 2_500;
  // [case, snapshot, what the waiter last learned at, verdict]
  const cases: Array<[string, Snapshot | null, number, string]> = [
    ["listed, newer than my last answer, young", snap(now - 1_000), now - 9_000, "running"],
    ["no snapshot", null, now - 9_000, "no-snapshot"],
    ["taken before my last answer", snap(now - 1_000), now - 500, "not-newer"],
    ["taken exactly at my last answer", snap(now - 1_000), now - 1_000, "not-newer"],
    ["older than the age allowed", snap(now - 2_501), now - 9_000, "too-old"],
    ["at the age allowed", snap(now - 2_500), now - 9_000, "running"],
    [
      "a slow listing, written just now: its age counts from its end",
      { ...snap(now - 6_000), doneAt: now - 100 },
      now - 9_000,
      "running",
    ],
    [
      "a slow listing written long ago",
      { ...snap(now - 6_000), doneAt: now - 2_501 },
      now - 9_000,
      "too-old",
    ],
    ["not listed (it may have ended)", snap(now - 1_000, [OTHER]), now - 9_000, "not-listed"],
    ["empty listing", snap(now - 1_000, []), now - 9_000, "not-listed"],
    ["dated in the future beyond the slack", snap(now + 5_000), now - 9_000, "from-the-future"],
  ];
  for (const [name, snapshot, knownAt, verdict] of cases) {
    test(name, () => {
      assert.equal(snapshotVerdict(snapshot, ARN, knownAt, now, maxAge), verdict);
    });
  }
});

describe("shared status: the snapshot file", () => {
  test("round trip", () => {
    const parsed = parseSnapshot(formatSnapshot(123_456, [ARN, OTHER], 124_000));
    assert.equal(parsed?.takenAt, 123_456);
    assert.equal(parsed?.doneAt, 124_000);
    assert.deepEqual([...(parsed?.running ?? [])], [ARN, OTHER]);
  });
  const good = { format: SNAPSHOT_FORMAT, version: 1, takenAt: 5, running: [ARN] };
  const bad: Array<[string, string]> = [
    ["not JSON", "{running"],
    ["empty", ""],
    ["null", "null"],
    ["another version", JSON.stringify({ ...good, version: 2 })],
    ["another format", JSON.stringify({ ...good, format: "other" })],
    ["no time", JSON.stringify({ ...good, takenAt: undefined })],
    ["time as text", JSON.stringify({ ...good, takenAt: "5" })],
    ["executions not a list", JSON.stringify({ ...good, running: ARN })],
    ["executions not text", JSON.stringify({ ...good, running: [1] })],
  ];
  for (const [name, text] of bad) {
    test(`ignored: ${name}`, () => assert.equal(parseSnapshot(text), null));
  }
  test("a missing or impossible end time is taken as the start (the gap then counts from it)", () => {
    assert.equal(parseSnapshot(JSON.stringify(good))?.doneAt, 5);
    assert.equal(parseSnapshot(JSON.stringify({ ...good, doneAt: 4 }))?.doneAt, 5);
    assert.equal(parseSnapshot(JSON.stringify({ ...good, doneAt: "9" }))?.doneAt, 5);
    assert.equal(parseSnapshot(JSON.stringify({ ...good, doneAt: 9 }))?.doneAt, 9);
  });
});

describe("shared status: the lease", () => {
  const now = 50_000;
  const alive = (pid: number) => pid === 10;
  const cases: Array<[string, Parameters<typeof leaseState>[0], number, string]> = [
    ["no lease file", "absent", 0, "free"],
    ["held by a live process, not expired", { pid: 10, until: now + 1_000 }, 0, "held"],
    ["expired", { pid: 10, until: now }, 0, "stale"],
    ["its process is gone", { pid: 11, until: now + 1_000 }, 0, "stale"],
    ["claims to last far too long", { pid: 10, until: now + 999_999 }, 0, "stale"],
    // Taken by a peer just after the time this task judges by (its check's start).
    ["taken up to a second later", { pid: 10, until: now + 11_000 }, 0, "held"],
    ["claims a second and more too long", { pid: 10, until: now + 11_001 }, 0, "stale"],
    ["unreadable, just written", null, 100, "held"],
    ["unreadable and old", null, 5_000, "stale"],
  ];
  for (const [name, lease, age, state] of cases) {
    test(name, () => assert.equal(leaseState(lease, age, now, alive, 10_000), state));
  }
  test("a refresh waits for the gap after the last listing", () => {
    assert.equal(refreshDue(null, 10_000, 2_000), true);
    assert.equal(refreshDue(9_000, 10_000, 2_000), false);
    assert.equal(refreshDue(8_000, 10_000, 2_000), true);
  });
  test("a waiter counts while registered and its process lives", () => {
    const alive10 = (pid: number) => pid === 10;
    assert.equal(waiterLive({ pid: 10, until: 2 }, 1, alive10), true);
    assert.equal(waiterLive({ pid: 10, until: 1 }, 1, alive10), false);
    assert.equal(waiterLive({ pid: 11, until: 2 }, 1, alive10), false);
    assert.equal(waiterLive(null, 1, alive10), false);
  });
});

describe("shared status: times and groups", () => {
  test("listing gap and accepted age follow the polling interval, within bounds", () => {
    assert.deepEqual(sharingTimes(10_000), { refreshGapMs: 2_500, maxAgeMs: 4_000 });
    assert.deepEqual(sharingTimes(1_000), { refreshGapMs: 1_500, maxAgeMs: 2_250 });
    assert.deepEqual(sharingTimes(600_000), { refreshGapMs: 15_000, maxAgeMs: 240_000 });
  });
  test("from a 5-second interval up, no listing accepted is older than half the shortest delay", () => {
    // A waiter times its next look from the listing that answered it; the listing it then
    // accepts is newer than any end that the earlier one missed, so it is about one delay late.
    for (const ceiling of [5_000, 10_000, 60_000, 600_000, 3_600_000]) {
      const { maxAgeMs, refreshGapMs } = sharingTimes(ceiling);
      assert.ok(2 * maxAgeMs <= 0.9 * ceiling, `interval ${ceiling}`);
      assert.ok(
        maxAgeMs >= refreshGapMs * 1.5,
        `a listing lasts past the next one's gap (${ceiling})`,
      );
    }
  });
  test("a group's listings stay inside AWS's smallest ListExecutions bucket (2 per second)", () => {
    for (const ceiling of [1_000, 5_000, 10_000]) {
      assert.ok(1_000 / sharingTimes(ceiling).refreshGapMs < 2, `interval ${ceiling}`);
    }
  });
  const parts = {
    endpoint: "default",
    partition: "aws",
    accountId: "123456789012",
    region: "eu-west-1",
    stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:orders",
    credentialIdentity: "AKIAEXAMPLE\0no role",
  };
  test("every part separates groups; the key holds no part in clear", () => {
    const key = groupKey(parts);
    assert.match(key, /^[0-9a-f]{32}$/);
    for (const field of Object.keys(parts) as Array<keyof typeof parts>) {
      assert.notEqual(groupKey({ ...parts, [field]: `${parts[field]}x` }), key, field);
    }
    assert.equal(groupKey({ ...parts }), key);
  });
  test("the state machine of an execution ARN", () => {
    assert.deepEqual(stateMachineOfExecution(ARN), {
      arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:orders",
      partition: "aws",
      region: "eu-west-1",
      accountId: "123456789012",
    });
    assert.equal(
      stateMachineOfExecution("arn:aws:states:eu-west-1:123456789012:express:orders:a:b"),
      null,
    );
    // A Distributed Map's child execution is listed by its Map Run, never under a qualified
    // state machine ARN (orders/Items): it is checked on its own.
    assert.equal(
      stateMachineOfExecution("arn:aws:states:eu-west-1:123456789012:execution:orders/Items:c1"),
      null,
    );
    assert.equal(
      stateMachineOfExecution("arn:aws:states:eu-west-1:123456789012:express:orders/Items:c1:x"),
      null,
    );
    assert.equal(stateMachineOfExecution("not an arn"), null);
  });
});

describe("shared status: looking again for a peer's listing instead of asking AWS", () => {
  const now = 1_000_000;
  const ceilingMs = 10_000;
  const fixed = () => 0.5;
  test("a peer is listing now: a moment", () => {
    const inMs = waitForListing({
      now,
      knownAt: now - 1_000,
      ceilingMs,
      listingNow: true,
      nextListingAt: now + 5_000,
      random: fixed,
    });
    assert.equal(inMs, LISTING_RECHECK_MS);
  });
  test("the next listing is due in a second: just after it, spread", () => {
    const early = waitForListing({
      now,
      knownAt: now - 500,
      ceilingMs,
      listingNow: false,
      nextListingAt: now + 1_000,
      random: () => 0,
    });
    const late = waitForListing({
      now,
      knownAt: now - 500,
      ceilingMs,
      listingNow: false,
      nextListingAt: now + 1_000,
      random: () => 0.999,
    });
    assert.equal(early, 1_000);
    assert.ok(late !== null && late > 1_250 && late <= 1_300, String(late));
  });
  test("a listing already due: never sooner than a moment", () => {
    const inMs = waitForListing({
      now,
      knownAt: now - 500,
      ceilingMs,
      listingNow: false,
      nextListingAt: now - 3_000,
      random: () => 0,
    });
    assert.equal(inMs, LISTING_RECHECK_MS);
  });
  test("what the task knows would pass 1.25 intervals: ask AWS", () => {
    // Looks again in 1.15 s.
    const args = { now, ceilingMs, listingNow: false, nextListingAt: now + 1_000, random: fixed };
    assert.notEqual(waitForListing({ ...args, knownAt: now - 10_000 }), null);
    assert.notEqual(waitForListing({ ...args, knownAt: now - 11_350 }), null);
    assert.equal(waitForListing({ ...args, knownAt: now - 11_351 }), null);
    assert.equal(waitForListing({ ...args, knownAt: now - 2 * ceilingMs }), null);
  });
  test("while its own calls fail, up to 3 intervals: AWS would not answer anyway", () => {
    const args = { now, ceilingMs, listingNow: false, nextListingAt: now + 1_000, random: fixed };
    assert.notEqual(
      waitForListing({ ...args, knownAt: now - 2 * ceilingMs, ownCallsFailing: true }),
      null,
    );
    assert.notEqual(
      waitForListing({ ...args, knownAt: now - 28_850, ownCallsFailing: true }),
      null,
    );
    assert.equal(waitForListing({ ...args, knownAt: now - 28_851, ownCallsFailing: true }), null);
  });
  test("while the group's listings flow, if late, up to 3 intervals: every waiter's own call would add to what makes them late", () => {
    const args = { now, ceilingMs, listingNow: false, nextListingAt: now + 1_000, random: fixed };
    assert.equal(waitForListing({ ...args, knownAt: now - 2 * ceilingMs }), null, "not flowing");
    assert.equal(
      waitForListing({ ...args, knownAt: now - 2 * ceilingMs, listingsFlowing: true }),
      1_150,
    );
    const limit = KNOWLEDGE_AGE_LIMIT_BUSY * ceilingMs - 1_150;
    assert.equal(waitForListing({ ...args, knownAt: now - limit, listingsFlowing: true }), 1_150);
    assert.equal(
      waitForListing({ ...args, knownAt: now - limit - 1, listingsFlowing: true }),
      null,
    );
  });
  test("a listing in progress is looked at again after half the time it has taken, within 1 to 5 s", () => {
    const args = { now, knownAt: now - 1_000, ceilingMs, listingNow: true, nextListingAt: now };
    assert.equal(waitForListing(args), LISTING_RECHECK_MS, "its start unknown");
    assert.equal(waitForListing({ ...args, listingSince: now - 500 }), LISTING_RECHECK_MS);
    assert.equal(waitForListing({ ...args, listingSince: now - 3_000 }), 1_500);
    assert.equal(waitForListing({ ...args, listingSince: now - 60_000 }), 5_000);
    assert.equal(
      waitForListing({ ...args, listingSince: now + 60_000 }),
      LISTING_RECHECK_MS,
      "a start in the future (another clock) counts as just begun",
    );
  });
  test("nothing known yet: ask AWS", () => {
    assert.equal(
      waitForListing({ now, knownAt: 0, ceilingMs, listingNow: true, nextListingAt: now }),
      null,
    );
  });
  test("the lease says when its holder began listing", () => {
    assert.deepEqual(parseLease(JSON.stringify({ pid: 7, until: 9, since: 8 })), {
      pid: 7,
      until: 9,
      since: 8,
    });
    assert.deepEqual(parseLease(JSON.stringify({ pid: 7, until: 9 })), { pid: 7, until: 9 });
    assert.deepEqual(parseLease(JSON.stringify({ pid: 7, until: 9, since: "8" })), {
      pid: 7,
      until: 9,
    });
    assert.deepEqual(parseLease(JSON.stringify({ pid: 7, until: 9, since: 8, failed: true })), {
      pid: 7,
      until: 9,
      since: 8,
      failed: true,
    });
    assert.deepEqual(parseLease(JSON.stringify({ pid: 7, until: 9, failed: "yes" })), {
      pid: 7,
      until: 9,
    });
  });
});

test("the default shared folder is in the temporary folder only when that is an absolute path", () => {
  const owner = typeof process.getuid === "function" ? String(process.getuid()) : "user";
  assert.equal(defaultSharingFolder("/var/tmp"), `/var/tmp/ue-aws-stepfunctions-waits-${owner}`);
  // A relative TMPDIR names a folder of the working directory, where no other task looks.
  assert.equal(defaultSharingFolder("tmp"), null);
  assert.equal(defaultSharingFolder(""), null);
});
