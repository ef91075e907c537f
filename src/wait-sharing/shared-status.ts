/**
 * Shared status while waiting: the files. One private folder per OS user (0700, the user's
 * own; any other is refused and ignored), one sub-folder per group (endpoint, account,
 * region, state machine, credential identity; named by a hash). In it:
 * - `waiters/<pid>`: each waiting task's registration (pid, until when it counts);
 * - `lease`: created with O_EXCL by the task that lists next (pid, until when); it lapses by
 *   itself, so it also spaces the listings; an expired lease or one of a dead process is
 *   taken over, a live one is never waited for;
 * - `snapshot.json`: the last listing of RUNNING executions, replaced atomically;
 * - `denied`: until when ListExecutions is known to be refused to these credentials.
 * Nothing here is ever needed: any failure means the task asks AWS itself, as without it.
 */
import { constants, unlinkSync } from "node:fs";
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  opendir,
  rename,
  unlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifyError } from "../aws/classify.ts";
import type { StepFunctions } from "../aws/step-functions.ts";
import type { Logger } from "../log.ts";
import {
  formatSnapshot,
  type GroupParts,
  groupKey,
  leaseState,
  MAX_PAGES,
  parseLease,
  parseSnapshot,
  parseWaiter,
  refreshDue,
  type Snapshot,
  sharingTimes,
  snapshotVerdict,
  waiterLive,
} from "./decide.ts";

/** How long a refused ListExecutions keeps a group from trying again. */
export const DENIED_FOR_MS = 15 * 60_000;

/** A source of "still RUNNING" answers besides the task's own DescribeExecution. */
export interface StatusSource {
  /**
   * When shared data says the execution is still RUNNING, as of a time after `knownAt` (ms
   * since the epoch): that time. Null: ask AWS yourself. Never throws.
   */
  runningSince(knownAt: number): Promise<number | null>;
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
}

/** `<temp>/ue-aws-stepfunctions-waits-<uid>`. */
export function defaultSharingFolder(): string {
  const owner = typeof process.getuid === "function" ? String(process.getuid()) : "user";
  return join(tmpdir(), `ue-aws-stepfunctions-waits-${owner}`);
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
async function privateFolder(path: string): Promise<string | null> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (error) {
    if (code(error) !== "EEXIST") throw error;
  }
  const info = await lstat(path);
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

async function readIfPresent(path: string): Promise<{ text: string; mtimeMs: number } | null> {
  try {
    const handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    try {
      const info = await handle.stat();
      return { text: await handle.readFile("utf8"), mtimeMs: info.mtimeMs };
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (code(error) === "ENOENT") return null;
    throw error;
  }
}

/** Shared status for one waiting task; nothing is touched before the first question. */
export function sharedStatus(options: SharedStatusOptions): StatusSource {
  const { log, executionArn } = options;
  const { refreshGapMs, maxAgeMs } = sharingTimes(options.pollingIntervalMs);
  const listTimeoutMs = Math.max(2_000, maxAgeMs);
  const registrationMs = 3 * options.pollingIntervalMs + 5_000;
  let dir: string | null | undefined;
  let registeredUntil = 0;
  let snapshot: Snapshot | null = null;
  let snapshotMtime = 0;
  let deniedUntil = 0;
  let stateMachineArn = "";

  const waiterFile = () => join(dir as string, "waiters", String(process.pid));

  async function prepare(): Promise<string | null> {
    const parts = await options.group();
    stateMachineArn = parts.stateMachineArn;
    const group = join(options.folder, groupKey(parts));
    for (const path of [options.folder, group, join(group, "waiters")]) {
      const refusal = await privateFolder(path);
      if (refusal) {
        log.warn(
          `status checks are not shared with other tasks: ${refusal} (remove it, or set UE_WAIT_SHARING_DIR)`,
        );
        return null;
      }
    }
    return group;
  }

  async function register(now: number): Promise<void> {
    if (now < registeredUntil - 2 * options.pollingIntervalMs) return;
    registeredUntil = now + registrationMs;
    await writeFile(waiterFile(), JSON.stringify({ pid: process.pid, until: registeredUntil }), {
      mode: 0o600,
    });
  }

  /** The group's snapshot, read again only when the file changed. */
  async function currentSnapshot(): Promise<Snapshot | null> {
    const read = await readIfPresent(join(dir as string, "snapshot.json"));
    if (!read) return null;
    if (read.mtimeMs !== snapshotMtime || snapshot === null) {
      snapshot = parseSnapshot(read.text);
      snapshotMtime = read.mtimeMs;
    }
    return snapshot;
  }

  async function anotherWaiter(now: number): Promise<boolean> {
    const folder = await opendir(join(dir as string, "waiters"));
    try {
      for await (const entry of folder) {
        if (entry.name === String(process.pid)) continue;
        const path = join(dir as string, "waiters", entry.name);
        const read = await readIfPresent(path).catch(() => null);
        const waiter = read ? parseWaiter(read.text) : null;
        if (waiterLive(waiter, now, alive)) return true;
        // A crashed or finished task's registration: tidy it away.
        if (read && (waiter === null ? now - read.mtimeMs > 60_000 : true)) {
          await unlink(path).catch(() => undefined);
        }
      }
    } finally {
      await folder.close().catch(() => undefined);
    }
    return false;
  }

  async function deniedNow(now: number): Promise<boolean> {
    if (deniedUntil > now) return true;
    const read = await readIfPresent(join(dir as string, "denied"));
    const until = read ? parseLease(read.text)?.until : undefined;
    if (until !== undefined && until > now) {
      deniedUntil = until;
      return true;
    }
    return false;
  }

  /** Take the lease and list, when it is this task's turn; the new snapshot or null. */
  async function refresh(now: number, current: Snapshot | null): Promise<Snapshot | null> {
    if (current && !refreshDue(current.takenAt, now, refreshGapMs)) return null;
    if (await deniedNow(now)) return null;
    const leasePath = join(dir as string, "lease");
    const read = await readIfPresent(leasePath);
    const state = leaseState(
      read ? parseLease(read.text) : "absent",
      read ? now - read.mtimeMs : 0,
      now,
      alive,
      refreshGapMs + listTimeoutMs,
    );
    if (state === "held") return null;
    if (!(await anotherWaiter(now))) return null;
    if (state === "stale") await unlink(leasePath).catch(() => undefined);
    let handle: FileHandle;
    try {
      handle = await open(
        leasePath,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
        0o600,
      );
    } catch (error) {
      if (code(error) === "EEXIST") return null;
      throw error;
    }
    try {
      await handle.writeFile(JSON.stringify({ pid: process.pid, until: now + refreshGapMs }));
    } finally {
      await handle.close();
    }
    return list(now);
  }

  async function list(takenAt: number): Promise<Snapshot | null> {
    const running: string[] = [];
    const timeout = AbortSignal.timeout(listTimeoutMs);
    // AbortSignal.any arrived in Node 20.3; before it, the listing has its timeout only.
    const abortSignal =
      options.signal && typeof AbortSignal.any === "function"
        ? AbortSignal.any([timeout, options.signal])
        : timeout;
    try {
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const reply = await options.sfn.listExecutions(
          {
            stateMachineArn,
            statusFilter: "RUNNING",
            maxResults: 1000,
            ...(nextToken ? { nextToken } : {}),
          },
          { abortSignal },
        );
        for (const e of reply.executions ?? []) {
          if (e.executionArn && (e.status ?? "RUNNING") === "RUNNING") running.push(e.executionArn);
        }
        nextToken = reply.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      await listingFailed(error, takenAt);
      return null;
    }
    // Beyond MAX_PAGES the listing is partial: those it names still ran; the others ask AWS.
    const text = formatSnapshot(takenAt, running);
    const temp = join(dir as string, `snapshot.${process.pid}.tmp`);
    await writeFile(temp, text, { mode: 0o600 });
    await rename(temp, join(dir as string, "snapshot.json"));
    log.debug(
      `listed ${running.length} running execution(s) of the state machine for waiting tasks`,
    );
    return parseSnapshot(text);
  }

  async function listingFailed(error: unknown, now: number): Promise<void> {
    const name = (error as { name?: string } | null)?.name ?? "";
    if (name === "AccessDeniedException" || name === "AccessDenied") {
      deniedUntil = now + DENIED_FOR_MS;
      await writeFile(
        join(dir as string, "denied"),
        JSON.stringify({ pid: process.pid, until: deniedUntil }),
        { mode: 0o600 },
      ).catch(() => undefined);
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

  return {
    async runningSince(knownAt) {
      try {
        if (dir === undefined) dir = await prepare();
        if (dir === null) return null;
        const now = Date.now();
        await register(now);
        const current = await currentSnapshot();
        const verdict = snapshotVerdict(current, executionArn, knownAt, now, maxAgeMs);
        if (verdict === "running") return (current as Snapshot).takenAt;
        // A fresh listing without this execution: it may have ended; only AWS says how.
        if (verdict === "not-listed") return null;
        const fresh = await refresh(now, verdict === "from-the-future" ? null : current);
        if (fresh && snapshotVerdict(fresh, executionArn, knownAt, now, maxAgeMs) === "running") {
          return fresh.takenAt;
        }
        return null;
      } catch (error) {
        log.debug(`shared status unavailable: ${(error as Error).message}`);
        return null;
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
