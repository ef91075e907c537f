/**
 * Shared status while waiting: the files. One private folder per OS user (0700, the user's
 * own; any other is refused and ignored), one sub-folder per group (endpoint, account,
 * region, state machine, credential identity; named by a hash). In it:
 * - `waiters/<pid>`: each waiting task's registration (pid, until when it counts);
 * - `lease`: created with O_EXCL by the task that lists next (pid, since and until when, long
 *   enough for a slow listing); removed by its holder once the snapshot is written, marked as
 *   failed and left to lapse after a failed listing so that nobody lists again at once (the
 *   others then wait for a listing only within the usual limit); an expired lease or one
 *   of a dead process is taken over (moved aside to `lease.stale.<pid>` and compared
 *   first, so that a lease a peer took meanwhile is never removed); while a live one
 *   lists, the others look again a moment later (within the limit of `waitForListing`)
 *   rather than ask AWS themselves;
 * - `snapshot.json`: the last listing of RUNNING executions, replaced atomically;
 * - `denied`: until when ListExecutions is known to be refused to these credentials.
 * Nothing here is ever needed: any failure means the task asks AWS itself, as without it.
 * Nor is anything here waited on: a named pipe in a file's place counts as unreadable.
 */
// Synchronous on purpose: these are a few small files on a local disk, and each await of a
// promise-based call is a round trip through libuv's thread pool, which on a machine that
// hundreds of tasks keep busy waits for the scheduler again; a synchronous call does the
// whole check in one turn. (Measured at 100 waiting tasks on a quiet machine: the same CPU,
// 1.1 to 1.2 ms per task per second, either way.)
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  opendirSync,
  readFileSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { classifyError, readOnceMoreIfDropped } from "../aws/classify.ts";
import { collectGarbage } from "../settle-memory.ts";
import type { StepFunctions } from "../aws/step-functions.ts";
import type { Logger } from "../log.ts";
import { writeFailureReason } from "../output/output-fields.ts";
import {
  formatSnapshot,
  type GroupParts,
  groupKey,
  type Lease,
  LISTINGS_FLOWING_WITHIN,
  leaseState,
  listTimeoutFor,
  MAX_LIST_TIMEOUT_MS,
  MAX_PAGES,
  MAX_REFRESH_GAP_MS,
  parseLease,
  parseSnapshot,
  parseWaiter,
  refreshDue,
  type Snapshot,
  sharingTimes,
  snapshotVerdict,
  waitForListing,
  waiterLive,
} from "./decide.ts";

/** How long a refused ListExecutions keeps a group from trying again. */
export const DENIED_FOR_MS = 15 * 60_000;

/**
 * What shared data says to a waiter: RUNNING as of a time (`at`, ms since the epoch), look
 * again in `inMs` because a peer's listing will answer soon, or ask AWS yourself.
 */
export type SharedAnswer =
  | { readonly kind: "running"; readonly at: number }
  | { readonly kind: "later"; readonly inMs: number }
  | { readonly kind: "ask" };

const ASK: SharedAnswer = { kind: "ask" };

/** A source of "still RUNNING" answers besides the task's own DescribeExecution. */
export interface StatusSource {
  /**
   * The answer for a waiter that last learned the execution was RUNNING at `knownAt` (ms since
   * the epoch): "running" only as of a later time. `ownCallsFailing`: the waiter's own status
   * calls are failing (throttled), so it waits longer for a listing. Never throws.
   */
  check(knownAt: number, ownCallsFailing?: boolean): Promise<SharedAnswer>;
  /** The wait is over: unregister. */
  close(): void;
}

export interface SharedStatusOptions {
  /** The per-user folder; its default is `defaultSharingFolder()`. */
  readonly folder: string;
  /** The group's parts, asked for at the first question (the credentials are known by then). */
  readonly group: () => Promise<GroupParts>;
  readonly executionArn: string;
  readonly pollingIntervalMs: number;
  /** One attempt per call. */
  readonly sfn: StepFunctions;
  readonly log: Logger;
  readonly signal?: AbortSignal | undefined;
  /** Run once a moment after each listing that went well; by default one full collection. */
  readonly afterListing?: () => unknown;
}

/**
 * How long after a listing its memory is collected: by then the reply is garbage. A listing
 * of a few hundred executions grows the lister's heap by 1 to 3 MiB that V8, in a task that
 * then sleeps, keeps for minutes; one collection gives some of it back (200 waiting tasks
 * side by side: the listers' PSS median 11.5 -> 11.0 MiB, worst 12.2 -> 11.4) for a few
 * milliseconds of CPU, once per listing, in one task of the group.
 */
export const COLLECT_AFTER_LISTING_MS = 100;

/**
 * `<temp>/ue-aws-stepfunctions-waits-<uid>`, or null when the temporary folder is not an
 * absolute path: a relative TMPDIR names a folder of the working directory, where no other
 * task looks (UE_WAIT_SHARING_DIR must be absolute for the same reason; the bridge, whose
 * program starts in its run folder, hands it an absolute TMPDIR instead).
 */
export function defaultSharingFolder(temp: string = tmpdir()): string | null {
  if (!isAbsolute(temp)) return null;
  const owner = typeof process.getuid === "function" ? String(process.getuid()) : "user";
  return join(temp, `ue-aws-stepfunctions-waits-${owner}`);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** A folder of ours alone: created 0700 when missing; another owner, mode or a link is refused. */
function privateFolder(path: string): string | null {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if (code(error) !== "EEXIST") throw error;
  }
  const info = lstatSync(path);
  if (!info.isDirectory()) return `${path} is not a folder`;
  if (typeof process.getuid === "function") {
    if (info.uid !== process.getuid())
      return `${path} belongs to user ${info.uid}, not to this user`;
    if ((info.mode & 0o077) !== 0) {
      return `${path} has mode ${(info.mode & 0o777).toString(8)}, not 700`;
    }
  }
  return null;
}

/**
 * Opening flags that never wait: a named pipe in a file's place opens at once for reading,
 * or fails (ENXIO) for writing, where a plain open waits for the other end for ever, in a
 * synchronous call that not even SIGTERM interrupts; a link is refused. Both are 0 where
 * Node has no such constant (Windows, which has no named pipes in folders).
 */
const NEVER_WAIT = (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Throws unless the open file is a regular one (a pipe, a device or a folder is not). */
function requireRegularFile(fd: number, path: string): Stats {
  const info = fstatSync(fd);
  if (!info.isFile()) throw new Error(`${path} is not a regular file`);
  return info;
}

/**
 * The largest snapshot read: a listing names at most MAX_PAGES pages of 1,000 execution ARNs
 * of at most about 220 characters (two names of 80), under 1 KiB each even in 4-byte UTF-8
 * characters, about 2 MiB in practice. Anything larger is not a listing: it is not read.
 */
export const MAX_SNAPSHOT_BYTES = MAX_PAGES * 1_000 * 1_024 + 1_024;
/** The largest lease, `denied` or registration read: they hold a few numbers (under 100 bytes). */
export const MAX_SMALL_FILE_BYTES = 4_096;

/**
 * A file's text and time; null when it is missing; throws when it is unreadable. A file
 * larger than `maxBytes` is not read: its text is given as empty, which no parser accepts,
 * so that it counts as a corrupt file (a lease is judged by its age, a registration tidied).
 */
function readIfPresent(
  path: string,
  maxBytes: number,
): { text: string; mtimeMs: number; info: Stats } | null {
  try {
    const fd = openSync(path, constants.O_RDONLY | NEVER_WAIT);
    try {
      const info = requireRegularFile(fd, path);
      const text = info.size > maxBytes ? "" : readFileSync(fd, "utf8");
      return { text, mtimeMs: info.mtimeMs, info };
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (code(error) === "ENOENT") return null;
    throw error;
  }
}

/** A file's identity for "unchanged since it was read": device, inode, size and time. */
function fileIdentity(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
}

/** Writes a private (0600) regular file, never waiting on a named pipe in its place. */
function writePrivate(path: string, text: string): void {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NEVER_WAIT,
    0o600,
  );
  try {
    requireRegularFile(fd, path);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a lease judged stale (`judged`: what was read), unless a peer has taken it over
 * since. Between the judgement and the removal a task may wait long on a busy machine (it
 * also looks for other waiters meanwhile) while a peer removes the stale lease and takes
 * its own: removing that one would let this task list at the same time, and on a starved
 * machine many tasks judging the same stale lease could do so one after another. So the
 * file is moved aside (atomic) and compared; one that is not the lease judged is put back
 * (a link, which fails where a newer lease has appeared since). False: a peer holds it.
 */
export function removeStaleLease(
  leasePath: string,
  judged: { text: string; mtimeMs: number },
  asidePath: string,
): boolean {
  try {
    renameSync(leasePath, asidePath);
  } catch {
    // Gone already (a peer removed it) or not removable: the exclusive creation decides.
    return true;
  }
  let moved: { text: string; mtimeMs: number } | null = null;
  try {
    moved = readIfPresent(asidePath, MAX_SMALL_FILE_BYTES);
  } catch {
    // Unreadable: not the lease judged.
  }
  const same = moved !== null && moved.text === judged.text && moved.mtimeMs === judged.mtimeMs;
  if (!same) {
    try {
      linkSync(asidePath, leasePath);
    } catch {
      // A newer lease is in place already.
    }
  }
  try {
    unlinkSync(asidePath);
  } catch {
    // Nothing to tidy.
  }
  return same;
}

/** Shared status for one waiting task; nothing is touched before the first question. */
export function sharedStatus(options: SharedStatusOptions): StatusSource {
  const { log, executionArn } = options;
  const ceilingMs = options.pollingIntervalMs;
  const { refreshGapMs, maxAgeMs } = sharingTimes(ceilingMs);
  const listTimeoutMs = listTimeoutFor(ceilingMs);
  const registrationMs = 3 * options.pollingIntervalMs + 5_000;
  let dir: string | null | undefined;
  let registeredUntil = 0;
  let snapshot: Snapshot | null = null;
  /** Which file `snapshot` was read from (see fileIdentity); "" before the first read. */
  let snapshotFrom = "";
  let deniedUntil = 0;
  let stateMachineArn = "";
  let peerSeenAt = Number.NEGATIVE_INFINITY;
  /** The process id of the live peer seen last, or 0. */
  let peerPid = 0;
  /** Whether the log has said that the folders cannot be made (said once; tried each check). */
  let toldUncreatable = false;

  const waiterFile = () => join(dir as string, "waiters", String(process.pid));

  async function prepare(): Promise<string | null> {
    const parts = await options.group();
    stateMachineArn = parts.stateMachineArn;
    const group = join(options.folder, groupKey(parts));
    for (const path of [options.folder, group, join(group, "waiters")]) {
      let refusal: string | null;
      try {
        refusal = privateFolder(path);
      } catch (error) {
        // A temporary folder that is missing, read-only or full: the task asks AWS itself.
        if (!toldUncreatable) {
          toldUncreatable = true;
          log.warn(
            `status checks are not shared with other tasks for now: cannot create ${path} (${writeFailureReason(error)}); name another folder in UE_WAIT_SHARING_DIR, or set UE_WAIT_SHARING=off to share nothing`,
          );
        }
        throw error;
      }
      if (refusal) {
        log.warn(
          `status checks are not shared with other tasks: ${refusal} (remove it, name another folder in UE_WAIT_SHARING_DIR, or set UE_WAIT_SHARING=off to share nothing)`,
        );
        return null;
      }
    }
    return group;
  }

  function register(now: number): void {
    if (now < registeredUntil - 2 * options.pollingIntervalMs) return;
    registeredUntil = now + registrationMs;
    writePrivate(waiterFile(), JSON.stringify({ pid: process.pid, until: registeredUntil }));
  }

  /**
   * The group's snapshot, read again only when the file changed: one that did not parse
   * (corrupt, or too large to be read) is not read again either, at every check.
   */
  function currentSnapshot(): Snapshot | null {
    const path = join(dir as string, "snapshot.json");
    try {
      // Replaced only by rename: the same inode, size and time mean the same file, no read.
      // (The time alone is not enough where it counts whole seconds: two listings renamed
      // in within one second, the first one not parsing, would hide the second.)
      const info = lstatSync(path);
      if (info.isFile() && fileIdentity(info) === snapshotFrom) return snapshot;
    } catch (error) {
      if (code(error) === "ENOENT") return null;
      throw error;
    }
    const read = readIfPresent(path, MAX_SNAPSHOT_BYTES);
    if (!read) return null;
    snapshot = parseSnapshot(read.text);
    snapshotFrom = fileIdentity(read.info);
    return snapshot;
  }

  function anotherWaiter(now: number): boolean {
    // A peer seen waiting less than a listing gap ago still counts: no look at the folder.
    if (now - peerSeenAt < refreshGapMs) return true;
    // The peer seen last is asked first: one file, where the folder holds one per waiter.
    const found =
      (peerPid !== 0 && peerWaiting(peerPid, now) !== "gone") || lookForAnotherWaiter(now);
    if (found) peerSeenAt = now;
    return found;
  }

  /** Whether a peer's registration counts; "gone" when it is missing, unreadable or over. */
  function peerWaiting(pid: number, now: number): "waiting" | "gone" {
    const path = join(dir as string, "waiters", String(pid));
    let read: { text: string; mtimeMs: number } | null = null;
    try {
      read = readIfPresent(path, MAX_SMALL_FILE_BYTES);
    } catch {
      // Unreadable: treated as no registration.
    }
    const waiter = read ? parseWaiter(read.text) : null;
    if (waiterLive(waiter, now, alive)) return "waiting";
    // A crashed or finished task's registration: tidy it away.
    if (read && (waiter === null ? now - read.mtimeMs > 60_000 : true)) {
      try {
        unlinkSync(path);
      } catch {
        // Gone already.
      }
    }
    return "gone";
  }

  /** Looks through the registrations until a live peer's (read a few at a time, not all). */
  function lookForAnotherWaiter(now: number): boolean {
    peerPid = 0;
    const folder = opendirSync(join(dir as string, "waiters"));
    try {
      for (let entry = folder.readSync(); entry !== null; entry = folder.readSync()) {
        const pid = Number(entry.name);
        if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) continue;
        if (peerWaiting(pid, now) === "waiting") {
          peerPid = pid;
          return true;
        }
      }
    } finally {
      folder.closeSync();
    }
    return false;
  }

  function deniedNow(now: number): boolean {
    if (deniedUntil > now) return true;
    const read = readIfPresent(join(dir as string, "denied"), MAX_SMALL_FILE_BYTES);
    const until = read ? parseLease(read.text)?.until : undefined;
    if (until !== undefined && until > now) {
      deniedUntil = until;
      return true;
    }
    return false;
  }

  /**
   * Take the lease and list, when it is this task's turn: the new snapshot; when a listing
   * is on its way (a live peer lists) or due soon, how long to wait for it; or nothing
   * (denied, no peer, or the listing failed): ask AWS.
   */
  async function refresh(
    now: number,
    current: Snapshot | null,
  ): Promise<
    | { listed: Snapshot }
    | {
        wait: {
          listingNow: boolean;
          listingSince?: number;
          nextListingAt: number;
          /** The last listing failed: the listings do not flow, whatever the snapshot's age. */
          failed?: true;
        };
      }
    | null
  > {
    if (deniedNow(now)) return null;
    if (current && !refreshDue(current.doneAt, now, refreshGapMs)) {
      // Listed less than a gap ago: the next listing, when due, is news to this task.
      if (!anotherWaiter(now)) return null;
      return { wait: { listingNow: false, nextListingAt: current.doneAt + refreshGapMs } };
    }
    const leasePath = join(dir as string, "lease");
    const read = readIfPresent(leasePath, MAX_SMALL_FILE_BYTES);
    const lease = read ? parseLease(read.text) : null;
    const state = leaseState(
      read ? lease : "absent",
      read ? now - read.mtimeMs : 0,
      now,
      alive,
      // A peer polling less often than this task holds its lease longer (a longer gap and a
      // longer listing limit): any task's longest.
      MAX_REFRESH_GAP_MS + MAX_LIST_TIMEOUT_MS,
    );
    if (state === "held") {
      // A live peer lists now (its lease is newer than the snapshot), or its listing failed
      // and its lease keeps everyone from listing again until it lapses.
      if (lease?.failed) {
        return { wait: { listingNow: false, nextListingAt: lease.until, failed: true } };
      }
      const since = lease?.since;
      const listingNow = since === undefined || current === null || current.takenAt < since;
      return {
        wait: {
          listingNow,
          ...(since !== undefined ? { listingSince: since } : {}),
          nextListingAt: lease?.until ?? now,
        },
      };
    }
    if (!anotherWaiter(now)) return null;
    const peerListsNow = { wait: { listingNow: true, listingSince: now, nextListingAt: now } };
    if (
      state === "stale" &&
      read &&
      !removeStaleLease(leasePath, read, join(dir as string, `lease.stale.${process.pid}`))
    ) {
      // A peer took the lease over since it was judged: it lists now.
      return peerListsNow;
    }
    let fd: number;
    try {
      fd = openSync(
        leasePath,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NEVER_WAIT,
        0o600,
      );
    } catch (error) {
      // A peer took it between the look and the creation: it lists now.
      if (code(error) === "EEXIST") return peerListsNow;
      throw error;
    }
    try {
      writeSync(
        fd,
        JSON.stringify({ pid: process.pid, until: now + refreshGapMs + listTimeoutMs, since: now }),
      );
    } finally {
      closeSync(fd);
    }
    const listed = await list(now, leasePath);
    // Listed: the snapshot's time spaces the next listing, so the lease goes (when still ours).
    // Failed: it stays, marked as failed, until it lapses, so that nobody lists again at once.
    if (listed) releaseLease(leasePath, now);
    else markLeaseFailed(leasePath, now);
    return listed ? { listed } : null;
  }

  /** The lease this task took at `since`, while it is still the one in the file. */
  function ownLease(leasePath: string, since: number): Lease | null {
    const read = readIfPresent(leasePath, MAX_SMALL_FILE_BYTES);
    const lease = read ? parseLease(read.text) : null;
    return lease?.pid === process.pid && lease.since === since ? lease : null;
  }

  function releaseLease(leasePath: string, since: number): void {
    try {
      if (ownLease(leasePath, since)) unlinkSync(leasePath);
    } catch {
      // Left to lapse by itself.
    }
  }

  async function list(takenAt: number, leasePath: string): Promise<Snapshot | null> {
    const running: string[] = [];
    // The listing's time limit, cleared when it ends: a limit left to fire after a listing
    // that went well still builds its error and dispatches its event, once per listing.
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(), listTimeoutMs);
    timer.unref();
    const cancel = () => limit.abort();
    options.signal?.addEventListener("abort", cancel, { once: true });
    if (options.signal?.aborted) limit.abort();
    try {
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const token = nextToken;
        const reply = await readOnceMoreIfDropped(
          () =>
            options.sfn.listExecutions(
              {
                stateMachineArn,
                statusFilter: "RUNNING",
                maxResults: 1000,
                ...(token ? { nextToken: token } : {}),
              },
              { abortSignal: limit.signal },
            ),
          limit.signal,
        );
        for (const e of reply.executions ?? []) {
          if (e.executionArn && (e.status ?? "RUNNING") === "RUNNING") running.push(e.executionArn);
        }
        nextToken = reply.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      listingFailed(error, takenAt);
      return null;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", cancel);
    }
    // Beyond MAX_PAGES the listing is partial: those it names still ran; the others ask AWS.
    const text = formatSnapshot(takenAt, running, Date.now());
    if (!ownLease(leasePath, takenAt)) {
      // This listing outlived its lease (a starved machine) and a peer took the lease over:
      // the peer's listing began later, so this one, older, is not put in its place.
      log.debug("a peer took the lease over while this task listed: its listing is kept");
      return parseSnapshot(text);
    }
    const temp = join(dir as string, `snapshot.${process.pid}.tmp`);
    writePrivate(temp, text);
    renameSync(temp, join(dir as string, "snapshot.json"));
    log.debug(
      `listed ${running.length} running execution(s) of the state machine for waiting tasks`,
    );
    // unref: the timer never keeps a finished task alive.
    setTimeout(options.afterListing ?? collectGarbage, COLLECT_AFTER_LISTING_MS).unref();
    return parseSnapshot(text);
  }

  /**
   * Says in this task's lease that its listing failed, so that the others, while it lapses,
   * ask AWS within the usual limit instead of waiting on a listing that will not come.
   */
  function markLeaseFailed(leasePath: string, since: number): void {
    const temp = join(dir as string, `lease.${process.pid}.tmp`);
    try {
      const lease = ownLease(leasePath, since);
      if (!lease) return;
      writePrivate(temp, JSON.stringify({ ...lease, failed: true }));
      renameSync(temp, leasePath);
    } catch {
      // Unmarked, the lease still lapses; the others wait a little longer meanwhile.
      try {
        unlinkSync(temp);
      } catch {
        // Not written.
      }
    }
  }

  function listingFailed(error: unknown, now: number): void {
    const name = (error as { name?: string } | null)?.name ?? "";
    if (name === "AccessDeniedException" || name === "AccessDenied") {
      deniedUntil = now + DENIED_FOR_MS;
      try {
        writePrivate(
          join(dir as string, "denied"),
          JSON.stringify({ pid: process.pid, until: deniedUntil }),
        );
      } catch {
        // This task remembers it; the others find out for themselves.
      }
      log.warn(
        `states:ListExecutions is not allowed for these credentials; each waiting task checks its own execution (shared status checks need it; not tried again for ${DENIED_FOR_MS / 60_000} minutes)`,
      );
      return;
    }
    // Throttled, failed, timed out: this round, each waiter asks for itself.
    log.debug(
      `listing running executions for waiting tasks failed: ${classifyError(error, { operation: "ListExecutions" }).message}`,
    );
  }

  /** Look again in a moment, when a listing newer than what this task knows is near. */
  function later(options: {
    now: number;
    knownAt: number;
    ownCallsFailing: boolean;
    listingsFlowing: boolean;
    listingNow: boolean;
    listingSince?: number;
    nextListingAt: number;
  }): SharedAnswer {
    const inMs = waitForListing({ ...options, ceilingMs });
    return inMs === null ? ASK : { kind: "later", inMs };
  }

  return {
    async check(knownAt, ownCallsFailing = false) {
      try {
        if (dir === undefined) dir = await prepare();
        if (dir === null) return ASK;
        const now = Date.now();
        register(now);
        const current = currentSnapshot();
        const verdict = snapshotVerdict(current, executionArn, knownAt, now, maxAgeMs);
        if (verdict === "running") return { kind: "running", at: (current as Snapshot).takenAt };
        // A fresh listing without this execution: it may have ended; only AWS says how.
        if (verdict === "not-listed") return ASK;
        // Not newer than what this task knows, too old, or none: a listing answers, this
        // task's own or a peer's, now or soon.
        const fresh = await refresh(now, verdict === "from-the-future" ? null : current);
        if (fresh === null) return ASK;
        if ("wait" in fresh) {
          // Listings that keep coming, if late, are worth waiting for (see waitForListing).
          const { failed, ...wait } = fresh.wait;
          const listingsFlowing =
            failed !== true &&
            verdict !== "from-the-future" &&
            current !== null &&
            now - current.doneAt <= LISTINGS_FLOWING_WITHIN * ceilingMs;
          return later({ now, knownAt, ownCallsFailing, listingsFlowing, ...wait });
        }
        if (snapshotVerdict(fresh.listed, executionArn, knownAt, now, maxAgeMs) === "running") {
          return { kind: "running", at: fresh.listed.takenAt };
        }
        return ASK;
      } catch (error) {
        log.debug(`shared status unavailable: ${(error as Error).message}`);
        return ASK;
      }
    },
    close() {
      if (!dir) return;
      try {
        unlinkSync(waiterFile());
      } catch {
        // Already gone, or never written: nothing to undo.
      }
    },
  };
}
