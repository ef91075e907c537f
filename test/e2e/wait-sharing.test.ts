/**
 * End to end: tasks of one user waiting on one state machine share what one ListExecutions
 * tells them (SPEC 5.11), never trusting it for an end: sharing, identities, a killed or
 * vanished lease holder, ListExecutions denied or throttled, a shared folder of the wrong
 * mode. Real bundles as child processes against the local endpoint; the shared folder is a
 * private temporary one per test. Planted listings and named pipes: wait-sharing-planted.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { BundleRun } from "../helpers/bundle.ts";
import {
  assertSucceeded,
  delay,
  filesUnder,
  groupFolder,
  SECOND_KEY,
  sharingSuite,
  until,
} from "../helpers/wait-sharing.ts";

const DENIED_WARNING = /states:ListExecutions is not allowed for these credentials/g;

describe("shared status checks while waiting", () => {
  const s = sharingSuite();

  test("several tasks share: far fewer DescribeExecution calls than the same tasks unshared, all right", async () => {
    const shared = await s.setUp(16);
    const sharedRoot = s.root;
    const unshared = await s.setUp(16);
    s.ep.clearRequests();
    s.root = sharedRoot;
    const fields = { polling_interval: 5 };
    const runs = await Promise.all([
      ...Array.from({ length: 4 }, () => s.waiter(shared, { fields })),
      ...Array.from({ length: 4 }, () =>
        s.waiter(unshared, { fields, env: { UE_WAIT_SHARING: "off" } }),
      ),
    ]);
    for (const run of runs) assertSucceeded(run);

    const executionsOf = (machine: string) => `:execution:${machine.split(":").at(-1)}:`;
    const sharedDescribes = s.calls("DescribeExecution", executionsOf(shared)).length;
    const unsharedDescribes = s.calls("DescribeExecution", executionsOf(unshared)).length;
    assert.ok(s.calls("ListExecutions", shared).length >= 1, "the shared tasks listed");
    assert.equal(
      s.calls("ListExecutions", unshared).length,
      0,
      "UE_WAIT_SHARING=off lists nothing",
    );
    console.log(
      `DescribeExecution calls: ${sharedDescribes} shared, ${unsharedDescribes} unshared`,
    );
    assert.ok(
      sharedDescribes * 2 <= unsharedDescribes,
      `DescribeExecution: ${sharedDescribes} shared against ${unsharedDescribes} unshared`,
    );
    // A task that has just started its execution needs no call of its own to know it runs,
    // and leaves its early checks to the listings: about its end, and at most a few more.
    assert.ok(sharedDescribes <= 3 * 4, `${sharedDescribes} DescribeExecution calls for 4 tasks`);
    // Each end was read by the task's own DescribeExecution, after the execution stopped.
    for (const run of runs.slice(0, 4)) {
      const arn = run.doc?.["result"].executionArn as string;
      const stop = s.ep.getExecution(arn)?.stopDate?.getTime() ?? Number.POSITIVE_INFINITY;
      assert.ok(
        s.calls("DescribeExecution", arn).some((r) => r.time.getTime() >= stop - 5),
        `the end of ${arn} was read with its own call`,
      );
    }
    // The folder is private, and no credential reached it.
    assert.equal((await stat(sharedRoot)).mode & 0o777, 0o700);
    const files = await filesUnder(sharedRoot);
    assert.ok(files.some((f) => f.path.endsWith("snapshot.json")));
    for (const f of files) {
      for (const canary of [s.ep.credentials.accessKeyId, s.ep.credentials.secretAccessKey]) {
        assert.ok(!f.text.includes(canary), `${f.path} holds a credential`);
        assert.ok(!f.path.includes(canary), `${f.path} names a credential`);
      }
      assert.equal((await stat(f.path)).mode & 0o077, 0, `${f.path} is private`);
    }
    // Finished tasks unregistered.
    const group = await groupFolder(sharedRoot);
    assert.deepEqual(await readdir(join(group, "waiters")), []);
  });

  test("one task alone makes no ListExecutions call", async () => {
    const arn = await s.setUp(4);
    s.ep.clearRequests();
    assertSucceeded(await s.waiter(arn));
    assert.equal(s.calls("ListExecutions").length, 0);
  });

  test("tasks with different credentials never share", async () => {
    const arn = await s.setUp(6);
    s.ep.clearRequests();
    const runs = await Promise.all([s.waiter(arn), s.waiter(arn, { key: SECOND_KEY })]);
    for (const run of runs) assertSucceeded(run);
    assert.equal(s.calls("ListExecutions").length, 0);
    assert.equal((await readdir(s.root)).length, 2, "one group per identity");
  });

  test("the task holding the lease is killed while it lists: the others go on right, another takes the lease over", async () => {
    const arn = await s.setUp(14);
    s.ep.clearRequests();
    // Listings held at the endpoint until the lease holder is killed: it is caught listing,
    // however slowly the test finds it.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    s.ep.faults.set({ holdUntil: held, operations: ["ListExecutions"] });
    const children = new Map<number, ChildProcess>();
    const runs = Array.from({ length: 4 }, () =>
      s.waiter(arn, { onStart: (child) => children.set(child.pid as number, child) }),
    );
    const group = await groupFolder(s.root);
    const leader = await until("a lease", async () => {
      if (s.calls("ListExecutions").length === 0) return undefined;
      const text = await readFile(join(group, "lease"), "utf8").catch(() => "");
      const pid = text ? (JSON.parse(text) as { pid: number }).pid : undefined;
      return pid !== undefined && children.has(pid) ? pid : undefined;
    });
    children.get(leader)?.kill("SIGKILL");
    const afterKill = s.ep.requests.length;
    release();
    let done: BundleRun[];
    try {
      done = await Promise.all(runs);
    } finally {
      s.ep.faults.reset();
    }
    const killed = done.filter((r) => r.signal === "SIGKILL");
    assert.equal(killed.length, 1);
    for (const run of done.filter((r) => r.signal !== "SIGKILL")) assertSucceeded(run);
    assert.ok(
      s.ep.requests.slice(afterKill).some((r) => r.operation === "ListExecutions"),
      "the others listed again after the kill",
    );
    // The lease the killed task left was taken over: gone (removed by a later holder once its
    // listing was written) or held by another task.
    const left = await readFile(join(group, "lease"), "utf8").catch(() => null);
    if (left !== null) {
      const lease = JSON.parse(left) as { pid: number };
      assert.notEqual(lease.pid, leader);
      assert.ok(children.has(lease.pid));
    }
  });

  test("a lease left by a process that is gone is taken over before it lapses", async () => {
    const arn = await s.setUp(8);
    const gone = Number(
      spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
        encoding: "utf8",
      }).stdout,
    );
    s.ep.clearRequests();
    let ended = false;
    const runs = Promise.all(Array.from({ length: 3 }, () => s.waiter(arn))).finally(() => {
      ended = true;
    });
    const group = await groupFolder(s.root);
    const lease = join(group, "lease");
    // A lease of a process that has ended, kept from lapsing until a task takes it over: it
    // is written again (replaced whole, as the tasks do) whenever less than half of its
    // 5 s is left. A task that waited for it to lapse would never take it over.
    const plant = async () => {
      const until = Date.now() + 5_000;
      await writeFile(`${lease}.planted`, JSON.stringify({ pid: gone, until }));
      await rename(`${lease}.planted`, lease);
      return until;
    };
    let until = await plant();
    const from = s.ep.requests.length;
    let takenOver = false;
    while (!ended && !takenOver) {
      let holder: number | undefined;
      try {
        holder = (JSON.parse(await readFile(lease, "utf8")) as { pid: number }).pid;
      } catch {
        // Gone, or a task's own being written: not the planted one.
      }
      if (holder !== gone) takenOver = true;
      else if (until - Date.now() < 2_500) until = await plant();
      else await delay(50);
    }
    for (const run of await runs) assertSucceeded(run);
    assert.ok(takenOver, "a task took the lease over");
    assert.ok(s.ep.requests.slice(from).some((r) => r.operation === "ListExecutions"));
  });

  test("ListExecutions denied: one warning, one attempt for the group, results right", async () => {
    const arn = await s.setUp(8);
    s.ep.clearRequests();
    const undo = s.ep.deny({ operation: "ListExecutions" });
    let runs: BundleRun[];
    try {
      runs = await Promise.all(Array.from({ length: 3 }, () => s.waiter(arn)));
    } finally {
      undo();
    }
    for (const run of runs) {
      assertSucceeded(run);
      for (const canary of [s.ep.credentials.secretAccessKey, s.ep.credentials.accessKeyId]) {
        assert.ok(!run.allBytes.includes(canary), "no credential in the output or the log");
      }
    }
    const warnings = runs.map((r) => (r.stderr.match(DENIED_WARNING) ?? []).length);
    assert.deepEqual(
      warnings.toSorted((a, b) => a - b),
      [0, 0, 1],
    );
    const listed = s.calls("ListExecutions");
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.errorCode, "AccessDeniedException");
  });

  test("ListExecutions throttled: the tasks check for themselves, results right", async () => {
    const arn = await s.setUp(8);
    s.ep.clearRequests();
    s.ep.faults.throttle("ListExecutions", { bucketSize: 1, refillPerSecond: 0 });
    let runs: BundleRun[];
    try {
      runs = await Promise.all(Array.from({ length: 3 }, () => s.waiter(arn)));
    } finally {
      s.ep.faults.unthrottle("ListExecutions");
    }
    for (const run of runs) assertSucceeded(run);
    assert.ok(s.calls("ListExecutions").some((r) => r.errorCode === "ThrottlingException"));
  });

  test("a shared folder that cannot be created (its parent missing): a warning once, the tasks check for themselves", async () => {
    const arn = await s.setUp(3);
    const folder = join(s.root, "missing", "waits");
    s.ep.clearRequests();
    const run = await s.waiter(arn, { env: { UE_WAIT_SHARING_DIR: folder } });
    assertSucceeded(run);
    const warnings = run.stderr.match(/ WARN .*status checks are not shared/g) ?? [];
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(
      run.stderr,
      / WARN {2}status checks are not shared with other tasks for now: cannot create .*missing\/waits \(the folder does not exist, ENOENT\); name another folder in UE_WAIT_SHARING_DIR, or set UE_WAIT_SHARING=off to share nothing/,
    );
    assert.equal(s.calls("ListExecutions").length, 0);
  });

  test("a relative TMPDIR (and no UE_WAIT_SHARING_DIR): nothing is shared, nothing made in the working directory, a warning says why", async () => {
    const arn = await s.setUp(3);
    // The folder TMPDIR names exists in the working directory, as "tmp" often does.
    const work = await mkdtemp(join(tmpdir(), "ue-sfn-share-cwd-"));
    try {
      await mkdir(join(work, "tmp"));
      s.ep.clearRequests();
      const runs = await Promise.all([
        s.waiter(arn, { cwd: work, env: { TMPDIR: "tmp", UE_WAIT_SHARING_DIR: undefined } }),
        s.waiter(arn, { cwd: work, env: { TMPDIR: "tmp", UE_WAIT_SHARING_DIR: undefined } }),
      ]);
      for (const run of runs) {
        assertSucceeded(run);
        assert.match(
          run.stderr,
          / WARN {2}status checks are not shared with other tasks: the temporary folder "tmp" \(TMPDIR\) is not an absolute path; name a folder in UE_WAIT_SHARING_DIR, or set UE_WAIT_SHARING=off to share nothing/,
        );
      }
      assert.deepEqual(await readdir(join(work, "tmp")), []);
      assert.equal(s.calls("ListExecutions").length, 0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  test("a shared folder of the wrong mode is refused and left alone", async () => {
    const arn = await s.setUp(5);
    await mkdir(s.root, { mode: 0o700 });
    await chmod(s.root, 0o755);
    s.ep.clearRequests();
    const runs = await Promise.all([s.waiter(arn), s.waiter(arn)]);
    for (const run of runs) {
      assertSucceeded(run);
      assert.match(
        run.stderr,
        /status checks are not shared with other tasks: .* has mode 755, not 700 \(remove it, name another folder in UE_WAIT_SHARING_DIR, or set UE_WAIT_SHARING=off to share nothing\)/,
      );
    }
    assert.deepEqual(await readdir(s.root), []);
    assert.equal(s.calls("ListExecutions").length, 0);
  });
});
