/**
 * How far the group's files are read: a file larger than anything the tasks write is never
 * read (it counts as a corrupt one), and a snapshot that does not parse is not read again
 * until it changes. Driven through sharedStatus() on real files; the task waits alone, so a
 * snapshot it does not believe sends it to AWS ("ask").
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { StepFunctions } from "../../src/aws/step-functions.ts";
import {
  formatSnapshot,
  groupKey,
  listTimeoutFor,
  MAX_PAGES,
  sharingTimes,
} from "../../src/wait-sharing/decide.ts";
import {
  MAX_SMALL_FILE_BYTES,
  MAX_SNAPSHOT_BYTES,
  sharedStatus,
} from "../../src/wait-sharing/shared-status.ts";
import { EXECUTION, PARTS, quiet } from "../helpers/shared-status-group.ts";

let folder: string;
let group: string;
let listings: number;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "ue-shared-files-"));
  group = join(folder, groupKey(PARTS));
  await mkdir(join(group, "waiters"), { recursive: true, mode: 0o700 });
  listings = 0;
  // The clock stands still: a snapshot dated "now" is as fresh when the task reads it, however
  // long writing and reading a large file takes on a loaded machine (it would otherwise be
  // older than the time the task last knew of, or than the age allowed, and not believed).
  mock.timers.enable({ apis: ["Date"], now: Date.now() });
});
afterEach(async () => {
  mock.timers.reset();
  await rm(folder, { recursive: true, force: true });
});

/** The shared status of a task waiting on EXECUTION; `listed` stands for AWS's listing. */
function source(listed: () => Promise<unknown> = async () => ({ executions: [] })) {
  const sfn = {
    listExecutions: async () => {
      listings++;
      return listed();
    },
  } as unknown as StepFunctions;
  return sharedStatus({
    folder,
    group: async () => PARTS,
    executionArn: EXECUTION,
    pollingIntervalMs: 10_000,
    sfn,
    log: quiet,
    afterListing: () => {},
  });
}

const snapshotFile = () => join(group, "snapshot.json");
/** A fresh snapshot that names the execution, padded (JSON allows it) to `bytes`. */
const padded = (bytes: number) => {
  const text = formatSnapshot(Date.now(), [EXECUTION]);
  return text + " ".repeat(Math.max(0, bytes - text.length));
};

describe("shared status: the size of the group's files", () => {
  test("control: the largest listing the tasks can write is read and believed", async () => {
    // MAX_PAGES pages of 1,000 ARNs with the longest names (80 characters of 3 UTF-8 bytes).
    const name = (i: number) => `${String(i).padStart(6, "0")}${"€".repeat(74)}`;
    const arns = Array.from(
      { length: MAX_PAGES * 1_000 - 1 },
      (_, i) => `arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:${name(i)}:${name(i)}`,
    );
    const text = formatSnapshot(Date.now(), [...arns, EXECUTION]);
    assert.ok(Buffer.byteLength(text) > 5_000_000, "a big listing");
    assert.ok(Buffer.byteLength(text) <= MAX_SNAPSHOT_BYTES);
    await writeFile(snapshotFile(), text, { mode: 0o600 });
    const shared = source();
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "running");
    shared.close();
  });

  test("a snapshot larger than any listing is not read, even one that would parse", async () => {
    await writeFile(snapshotFile(), padded(MAX_SNAPSHOT_BYTES + 1), { mode: 0o600 });
    const shared = source();
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "ask");
    shared.close();
  });

  test("a snapshot that does not parse is not read again until it changes", async () => {
    const then = new Date(Math.floor(Date.now() / 1_000) * 1_000 - 5_000);
    const valid = padded(0);
    await writeFile(snapshotFile(), "\u0000".repeat(valid.length), { mode: 0o600 });
    await utimes(snapshotFile(), then, then);
    const shared = source();
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "ask");

    // New content in the same file, of the same size, under the same time: not read again
    // (peers never write in place: they rename a new file in).
    await writeFile(snapshotFile(), valid);
    await utimes(snapshotFile(), then, then);
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "ask");

    const later = new Date(then.getTime() + 1_000);
    await utimes(snapshotFile(), later, later);
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "running");
    shared.close();
  });

  test("a listing renamed in under the same whole-second time as a corrupt one is read", async () => {
    // Where the filesystem keeps whole seconds, two listings within a second share a time.
    const then = new Date(Math.floor(Date.now() / 1_000) * 1_000 - 5_000);
    await writeFile(snapshotFile(), "\u0000garbage", { mode: 0o600 });
    await utimes(snapshotFile(), then, then);
    const shared = source();
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "ask");

    const next = join(group, "snapshot.json.next");
    await writeFile(next, padded(0), { mode: 0o600 });
    await utimes(next, then, then);
    await rename(next, snapshotFile());
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "running");
    shared.close();
  });

  test("a listing that outlived its lease, taken over by a peer meanwhile, is not written", async () => {
    // A live peer (this test's parent process) waits too, so the task takes the lease and lists.
    const waiter = join(group, "waiters", String(process.ppid));
    const registration = JSON.stringify({ pid: process.ppid, until: Date.now() + 600_000 });
    await writeFile(waiter, registration, { mode: 0o600 });
    const peersLease = () =>
      JSON.stringify({ pid: process.ppid, until: Date.now() + 30_000, since: Date.now() });
    for (const takenOver of [false, true]) {
      await rm(snapshotFile(), { force: true });
      const shared = source(async () => {
        // The machine starved this task past its lease; a peer took the lease over.
        if (takenOver) await writeFile(join(group, "lease"), peersLease(), { mode: 0o600 });
        return { executions: [{ executionArn: EXECUTION, status: "RUNNING" }] };
      });
      // The task's own listing answers it either way.
      assert.equal((await shared.check(Date.now() - 1_000)).kind, "running", `${takenOver}`);
      shared.close();
      assert.equal(existsSync(snapshotFile()), !takenOver, `snapshot written: ${!takenOver}`);
      if (takenOver) {
        assert.equal(JSON.parse(await readFile(join(group, "lease"), "utf8")).pid, process.ppid);
      }
      await rm(join(group, "lease"), { force: true });
    }
  });

  /** A live peer (this test's parent process) waits and holds this lease: it is left to it. */
  async function leftToLivePeer(since: number, until: number): Promise<void> {
    const registration = JSON.stringify({ pid: process.ppid, until: Date.now() + 600_000 });
    await writeFile(join(group, "waiters", String(process.ppid)), registration, { mode: 0o600 });
    const lease = JSON.stringify({ pid: process.ppid, until, since });
    await writeFile(join(group, "lease"), lease, { mode: 0o600 });
    const shared = source();
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "later");
    shared.close();
    assert.equal(listings, 0, "no listing of its own while the peer lists");
    assert.equal(await readFile(join(group, "lease"), "utf8"), lease);
  }

  test("a lease a live peer took just after this task's check began is left to it", async () => {
    // Written 500 ms after the time this task's check counts from (taken before the group's
    // files are read; a pause of the task in between, or a peer's clock that runs a little
    // ahead): as long as this task's own lease, counted from then.
    const since = Date.now() + 500;
    await leftToLivePeer(since, since + sharingTimes(10_000).refreshGapMs + listTimeoutFor(10_000));
  });

  test("a lease of a live peer that polls less often (a longer hold than this task's) is left to it", async () => {
    // A peer with a 10-minute interval holds the lease for its own, longer gap and listing
    // limit, as it writes it.
    const peerHold = sharingTimes(600_000).refreshGapMs + listTimeoutFor(600_000);
    const ownHold = sharingTimes(10_000).refreshGapMs + listTimeoutFor(10_000);
    assert.ok(peerHold > ownHold + 1_000, "the peer's hold is longer");
    const since = Date.now();
    await leftToLivePeer(since, since + peerHold);
  });

  test("a peer's registration larger than any registration does not count as one", async () => {
    // A live peer (this test's parent process) in a registration that would parse.
    const registration = JSON.stringify({ pid: process.ppid, until: Date.now() + 600_000 });
    const waiter = join(group, "waiters", String(process.ppid));
    await writeFile(waiter, registration.padEnd(MAX_SMALL_FILE_BYTES + 1), { mode: 0o600 });
    const shared = source();
    assert.equal((await shared.check(Date.now() - 1_000)).kind, "ask");
    assert.equal(listings, 0, "alone: no listing");

    // Control: the same registration at its size makes listing worth it.
    await writeFile(waiter, registration);
    const again = source();
    await again.check(Date.now() - 1_000);
    assert.equal(listings, 1);
    again.close();
    shared.close();
    assert.ok((await stat(waiter)).isFile());
  });
});
