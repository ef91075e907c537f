/**
 * Shared status while waiting (SPEC 5.11, "waiting at scale"): the pure decisions. Tasks of
 * one OS user that wait on executions of one state machine, with the same credentials, share
 * one ListExecutions(RUNNING) listing instead of each paying a DescribeExecution for "still
 * running". Shared data only ever says RUNNING; an end is always read by the task itself.
 */
import { createHash } from "node:crypto";

/** Written into every snapshot; a snapshot of another format or version is ignored. */
export const SNAPSHOT_FORMAT = "ue-aws-stepfunctions/running-executions";
export const SNAPSHOT_VERSION = 1;

/** At most this many ListExecutions pages (1,000 executions each) per refresh. */
export const MAX_PAGES = 10;

/**
 * The longest gap between a group's listings, whatever a task's polling interval: a lease
 * of a peer with a longer interval than this task's holds that long, and is no less live.
 */
export const MAX_REFRESH_GAP_MS = 15_000;

/**
 * The longest a listing may take, whatever a task's polling interval: a lease of a peer with
 * a longer interval than this task's allows its listing that long too.
 */
export const MAX_LIST_TIMEOUT_MS = 30_000;

/**
 * How long a listing may take, for a polling interval: long enough for one on a machine that
 * hundreds of starting tasks keep busy (a late listing is still news: its age counts from
 * when it is written), and never so long that a hung one holds the lease for minutes.
 */
export function listTimeoutFor(ceilingMs: number): number {
  return Math.min(MAX_LIST_TIMEOUT_MS, Math.max(5_000, ceilingMs));
}

/**
 * A snapshot taken, or a lease taken, up to this far after the time a task judges it by still
 * counts: another process's clock step, or a peer's write between the moment a check counts
 * from and its read of the file.
 */
const CLOCK_SLACK_MS = 1_000;

/** What one ListExecutions(statusFilter RUNNING) refresh found. */
export interface Snapshot {
  /** When the listing began (ms since the epoch): what it says is true at least as of then. */
  readonly takenAt: number;
  /** When the listing was written (ms since the epoch): the next one waits a gap from then. */
  readonly doneAt: number;
  readonly running: ReadonlySet<string>;
}

/** The snapshot file's content, or null when it is not one this version writes. */
export function parseSnapshot(text: string): Snapshot | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const o = raw as Record<string, unknown>;
  if (o["format"] !== SNAPSHOT_FORMAT || o["version"] !== SNAPSHOT_VERSION) return null;
  const takenAt = o["takenAt"];
  const executions = o["running"];
  if (typeof takenAt !== "number" || !Number.isFinite(takenAt) || takenAt <= 0) return null;
  if (!Array.isArray(executions) || !executions.every((a) => typeof a === "string")) return null;
  const done = o["doneAt"];
  const doneAt =
    typeof done === "number" && Number.isFinite(done) && done >= takenAt ? done : takenAt;
  return { takenAt, doneAt, running: new Set(executions as string[]) };
}

/** The snapshot file's content for a listing that began at `takenAt` and ended at `doneAt`. */
export function formatSnapshot(
  takenAt: number,
  running: readonly string[],
  doneAt: number = takenAt,
): string {
  return JSON.stringify({
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    takenAt,
    doneAt,
    running,
  });
}

/**
 * How long one group leaves between the end of a listing of its state machine's running
 * executions and the start of the next, and how old a listing a waiter accepts, for a
 * polling interval. A waiter times its next look from the listing that answered it, so it
 * is at most about one delay (1.1 intervals) behind its execution's end as long as a listing
 * it accepts cannot be older than half its shortest delay (2 x age <= 0.9 intervals): true
 * from a 5-second interval up. The gap (1.5 s at least) keeps a group's listings well inside
 * AWS's smallest ListExecutions bucket (2 per second), whatever its listings take.
 */
export function sharingTimes(ceilingMs: number): { refreshGapMs: number; maxAgeMs: number } {
  const refreshGapMs = Math.min(MAX_REFRESH_GAP_MS, Math.max(1_500, ceilingMs / 4));
  return { refreshGapMs, maxAgeMs: Math.max(refreshGapMs * 1.5, ceilingMs * 0.4) };
}

/** Why a snapshot answers a waiter's check, or why the waiter must ask AWS itself. */
export type SnapshotVerdict =
  | "running"
  | "no-snapshot"
  | "not-newer"
  | "too-old"
  | "from-the-future"
  | "not-listed";

/**
 * Whether a snapshot answers "still RUNNING" for this waiter now: it lists the execution, was
 * taken after what the waiter last learned (`knownAt`), and was written no longer than
 * `maxAgeMs` ago.
 */
export function snapshotVerdict(
  snapshot: Snapshot | null,
  executionArn: string,
  knownAt: number,
  now: number,
  maxAgeMs: number,
): SnapshotVerdict {
  if (!snapshot) return "no-snapshot";
  if (snapshot.takenAt > now + CLOCK_SLACK_MS) return "from-the-future";
  if (snapshot.takenAt <= knownAt) return "not-newer";
  // Its age counts from when it was written: a listing that took long under load is still
  // the newest news. What it says holds as of its start (`takenAt`), which is what the
  // waiter then knows, and what bounds its lateness (see waitForListing).
  if (now - snapshot.doneAt > maxAgeMs) return "too-old";
  return snapshot.running.has(executionArn) ? "running" : "not-listed";
}

/** A listing in progress is looked for again this soon: about what one ListExecutions page takes. */
export const LISTING_RECHECK_MS = 1_000;
/** Spread over the moment the next listing is due, so that the waiters do not all look at once. */
const DUE_SPREAD_MS = 300;

/** How old what a waiter knows may grow while it waits for a listing, in polling intervals. */
export const KNOWLEDGE_AGE_LIMIT = 1.25;
/**
 * The same while its own status calls fail (throttled), or while the group's listings flow
 * (one was written within LISTINGS_FLOWING_WITHIN intervals) but come late: a listing is then
 * its best source. Late listings mean a busy machine (or API): a call of every waiter's own
 * would add one call's work per waiter (about 20 ms of CPU each) to what made them late.
 */
export const KNOWLEDGE_AGE_LIMIT_BUSY = 3;
/** How recent the group's last listing must be for its listings to count as flowing, in intervals. */
export const LISTINGS_FLOWING_WITHIN = 1.5;
/** The longest a waiter leaves between two looks at a listing in progress. */
const LISTING_RECHECK_MAX_MS = 5_000;

/**
 * When a waiter whose snapshot cannot answer it may look again instead of asking AWS itself,
 * because a peer is listing now or the group's next listing is due soon: the milliseconds to
 * wait, or null to ask AWS now. What the waiter knows never grows older than 1.25 polling
 * intervals (`ceilingMs`) by the time it looks again, so it stays within the lateness bar
 * (1.5 intervals); 3 while its own calls fail, when AWS would not answer anyway, or while
 * the group's listings flow late, when the machine could not afford every waiter's call.
 * A listing in progress is looked at again after a moment, or after half as long as it has
 * taken so far (at most 5 s): a slow listing means a busy machine, which a thousand waiters
 * looking every second would make busier.
 */
export function waitForListing(options: {
  readonly now: number;
  readonly knownAt: number;
  readonly ceilingMs: number;
  /** The waiter's own status calls are failing (throttled, unavailable). */
  readonly ownCallsFailing?: boolean | undefined;
  /** The group's last listing was written within LISTINGS_FLOWING_WITHIN intervals. */
  readonly listingsFlowing?: boolean | undefined;
  /** A live peer is listing right now. */
  readonly listingNow: boolean;
  /** When the listing in progress began, when known. */
  readonly listingSince?: number | undefined;
  /** When the group's next listing may begin (the last one's start plus the gap). */
  readonly nextListingAt: number;
  readonly random?: () => number;
}): number | null {
  const { now, knownAt, ceilingMs } = options;
  const random = options.random ?? Math.random;
  const since = options.listingSince;
  const inMs = options.listingNow
    ? Math.min(
        LISTING_RECHECK_MAX_MS,
        Math.max(LISTING_RECHECK_MS, since !== undefined && since <= now ? (now - since) / 2 : 0),
      )
    : Math.max(LISTING_RECHECK_MS, options.nextListingAt - now) + DUE_SPREAD_MS * random();
  const limit =
    options.ownCallsFailing || options.listingsFlowing
      ? KNOWLEDGE_AGE_LIMIT_BUSY
      : KNOWLEDGE_AGE_LIMIT;
  if (knownAt <= 0 || now + inMs - knownAt > limit * ceilingMs) return null;
  return Math.round(inMs);
}

/** A claim on the right to list, held by a process until a time. */
export interface Lease {
  readonly pid: number;
  readonly until: number;
  /** When the holder began its listing (written since the lease also spaces listings). */
  readonly since?: number | undefined;
  /** The holder's listing failed; the lease is left to lapse. */
  readonly failed?: true | undefined;
}

export function parseLease(text: string): Lease | null {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const { pid, until, since } = o;
    if (typeof pid === "number" && Number.isInteger(pid) && pid > 0 && typeof until === "number") {
      return {
        pid,
        until,
        ...(typeof since === "number" && Number.isFinite(since) ? { since } : {}),
        ...(o["failed"] === true ? { failed: true as const } : {}),
      };
    }
  } catch {
    // Unreadable: treated as no valid lease (see leaseState).
  }
  return null;
}

/**
 * What to do about the lease file: `free` (absent), `held` (a live process holds it: leave it
 * and ask AWS yourself; never wait), `stale` (expired, its process gone, or unreadable and old:
 * remove it and try to take it).
 */
export function leaseState(
  lease: Lease | null | "absent",
  fileAgeMs: number,
  now: number,
  alive: (pid: number) => boolean,
  longestHoldMs: number,
): "free" | "held" | "stale" {
  if (lease === "absent") return "free";
  // A lease being written right now can be read empty: give it a moment.
  if (lease === null) return fileAgeMs > 2_000 ? "stale" : "held";
  if (lease.until <= now || lease.until > now + longestHoldMs + CLOCK_SLACK_MS) return "stale";
  return alive(lease.pid) ? "held" : "stale";
}

/** Whether a refresh is worth making now: the last listing (or attempt) is at least a gap old. */
export function refreshDue(lastAttemptAt: number | null, now: number, gapMs: number): boolean {
  return lastAttemptAt === null || now - lastAttemptAt >= gapMs;
}

/** The parts that decide who may share a listing; credentials enter only as an identity. */
export interface GroupParts {
  readonly endpoint: string;
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  readonly stateMachineArn: string;
  /** Who calls AWS: e.g. the access key id, the role and its external id (hashed, never written). */
  readonly credentialIdentity: string;
}

/** The group's folder name: a hash of its parts, so nothing about the credentials is written. */
export function groupKey(parts: GroupParts): string {
  const h = createHash("sha256");
  for (const value of [
    `v${SNAPSHOT_VERSION}`,
    parts.endpoint,
    parts.partition,
    parts.accountId,
    parts.region,
    parts.stateMachineArn,
    parts.credentialIdentity,
  ]) {
    h.update(value).update("\0");
  }
  return h.digest("hex").slice(0, 32);
}

/**
 * The state machine whose executions a listing shows this execution in (qualifiers are never
 * part of an execution ARN), or null: for an Express execution, and for a child execution of
 * a Distributed Map (`execution:<state machine>/<label>:<name>`), which ListExecutions lists
 * by its Map Run, not by a state machine: it is checked on its own.
 */
export function stateMachineOfExecution(
  executionArn: string,
): { arn: string; partition: string; region: string; accountId: string } | null {
  const m = /^arn:([\w-]+):states:([a-z0-9-]+):(\d{12}):execution:([^:/]+):[^:]+$/.exec(
    executionArn,
  );
  if (!m) return null;
  const [, partition, region, accountId, machine] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    arn: `arn:${partition}:states:${region}:${accountId}:stateMachine:${machine}`,
    partition,
    region,
    accountId,
  };
}

/** A waiter's registration: its process and until when it counts as waiting. */
export function parseWaiter(text: string): Lease | null {
  return parseLease(text);
}

/** Whether a registered waiter still counts. */
export function waiterLive(
  waiter: Lease | null,
  now: number,
  alive: (pid: number) => boolean,
): boolean {
  return waiter !== null && waiter.until > now && alive(waiter.pid);
}
