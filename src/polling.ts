/**
 * When to look again (SPEC 5.5). The wait grows with the time already spent, so a short
 * execution is noticed soon after it ends and a long one is not polled needlessly; the
 * polling interval is the ceiling; each wait has a little jitter.
 */

export const FIRST_CHECK_MS = 500;
/** Share of the elapsed time to wait: at most ~25% lateness relative to the run so far. */
const ELAPSED_SHARE = 0.25;
const JITTER = 0.1;

/** Milliseconds to wait before the next status check. */
export function nextPollDelay(
  elapsedMs: number,
  ceilingMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(ceilingMs, Math.max(FIRST_CHECK_MS, elapsedMs * ELAPSED_SHARE));
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  return Math.round(Math.min(ceilingMs, Math.max(100, jittered)));
}

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 30_000;

/** Backoff after the n-th consecutive failed status call (1-based): exponential, full jitter. */
export function backoffDelay(
  failures: number,
  ceilingMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.max(
    BACKOFF_BASE_MS,
    Math.min(BACKOFF_CAP_MS, Math.max(ceilingMs, BACKOFF_BASE_MS)),
  );
  const exp = Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16));
  // Half fixed, half random: spreads many waiting tasks apart without waiting zero.
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** "h:mm:ss" for the still-running lines. */
export function formatDuration(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** Whether a "still running" line is due: after 1 minute, then every 5 minutes. */
export function stillRunningDue(elapsedMs: number, lastReportedMs: number): boolean {
  if (lastReportedMs === 0) return elapsedMs >= 60_000;
  return elapsedMs - lastReportedMs >= 300_000;
}

/**
 * A floor under the polling delay that rises when the service throttles and sinks slowly
 * while calls succeed, so many tasks waiting at once settle on a rate the service accepts
 * instead of each retrying into the same empty bucket.
 */
export function raiseFloor(floorMs: number, ceilingMs: number): number {
  return Math.min(ceilingMs, Math.max(1_000, floorMs * 2));
}

export function lowerFloor(floorMs: number): number {
  const lowered = floorMs * 0.8;
  return lowered < 250 ? 0 : lowered;
}

/** Shortest wait between two status checks of one task while it is throttled. */
export const MIN_RETRY_MS = 500;

/** Longest pause between throttled retries once the first interval of a streak has passed. */
export const LATE_RETRY_SPREAD_MS = 1_000;

/**
 * Delay before retrying a throttled status check, `streakMs` after the first check of the
 * streak failed. Retries of a streak are spread at random over what is left of one polling
 * interval from its start; once that has passed, they come every half to one and a half
 * seconds. A task that keeps losing the race for the service's bucket so retries sooner,
 * not later: it is never pushed behind the tasks that are not throttled (the backoff that
 * doubles each time is what left one task 23.9 s late with a 10 s interval). The load stays
 * bounded by the floor, which every throttled check raises for the task's later polls.
 */
export function throttledRetryDelay(
  streakMs: number,
  ceilingMs: number,
  random: () => number = Math.random,
): number {
  const left = ceilingMs - streakMs;
  if (left >= 2 * MIN_RETRY_MS) return Math.round(Math.max(MIN_RETRY_MS, left * random()));
  if (left >= MIN_RETRY_MS) return Math.round(left);
  const spread = Math.min(LATE_RETRY_SPREAD_MS, ceilingMs / 4);
  return Math.round(MIN_RETRY_MS + spread * random());
}

/** What the waiting loop remembers between two status checks. */
export interface PollState {
  /** Failed checks in a row. */
  readonly failures: number;
  /** When the first of them failed (ms, the loop's clock). */
  readonly firstFailureAt: number;
  /** The throttling floor under the polling delay. */
  readonly floorMs: number;
}

export const INITIAL_POLL_STATE: PollState = { failures: 0, firstFailureAt: 0, floorMs: 0 };

/** How a status check went. */
export type CheckResult =
  | {
      readonly kind: "answered" /** Time since the execution started. */;
      readonly elapsedMs: number;
    }
  | { readonly kind: "throttled" }
  | { readonly kind: "failed" };

/** The schedule after a check: the next state, and how long to wait before the next check. */
export function afterCheck(
  state: PollState,
  result: CheckResult,
  nowMs: number,
  ceilingMs: number,
  random: () => number = Math.random,
): { state: PollState; delayMs: number } {
  if (result.kind === "answered") {
    const floorMs = lowerFloor(state.floorMs);
    return {
      state: { failures: 0, firstFailureAt: 0, floorMs },
      delayMs: Math.max(nextPollDelay(result.elapsedMs, ceilingMs, random), floorMs),
    };
  }
  const failures = state.failures + 1;
  const firstFailureAt = failures === 1 ? nowMs : state.firstFailureAt;
  if (result.kind === "throttled") {
    // Slow every later poll a little, but retry this one within its window.
    const floorMs = raiseFloor(state.floorMs, ceilingMs);
    return {
      state: { failures, firstFailureAt, floorMs },
      delayMs: throttledRetryDelay(nowMs - firstFailureAt, ceilingMs, random),
    };
  }
  return {
    state: { failures, firstFailureAt, floorMs: state.floorMs },
    delayMs: Math.max(backoffDelay(failures, ceilingMs, random), state.floorMs),
  };
}
