/**
 * End to end: what a waiting task finds in the shared folder never misleads nor blocks it: a
 * fresh listing is believed while it lasts; a stale, corrupt or foreign one is ignored; named
 * pipes in place of the group's files block nothing, not even a cancel. Real bundles as child
 * processes against the local endpoint; the shared folder is a private temporary one per test.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, test } from "node:test";
import { formatSnapshot } from "../../src/wait-sharing/decide.ts";
import { assertValidDoc, type BundleRun } from "../helpers/bundle.ts";
import { HELD, type HeldTasks, holdTasks } from "../helpers/held-task.ts";
import {
  assertSucceeded,
  delay,
  groupFolder,
  sharingSuite,
  until,
} from "../helpers/wait-sharing.ts";

describe("shared status checks while waiting: what the shared folder holds", () => {
  const s = sharingSuite();
  let held: HeldTasks;
  before(() => {
    held = holdTasks(s.ep);
  });

  /** Stand for the execution's ARN and the time of planting in a planted snapshot. */
  const ARN_MARK = "@planted-execution-arn@";
  const TIME_MARK = 4_000_000_000_000;
  const PLANT = fileURLToPath(new URL("../fixtures/plant-snapshot.cjs", import.meta.url));

  /**
   * One task whose execution ends after `seconds`, with a planted snapshot rewritten every
   * 50 ms, dated `shiftMs` from the time of planting, from the task's first check on (see
   * plant-snapshot.cjs: planted from within the task, it is as fresh as written whenever the
   * task looks, however long the test's process stalls). A snapshot it believed would keep
   * it waiting until its maximum wait.
   */
  async function withPlanted(
    content: string,
    { seconds = 3, pollingInterval = 2, shiftMs = 0 } = {},
  ): Promise<BundleRun> {
    const arn = await s.setUp(seconds);
    const run = await s.waiter(arn, {
      fields: { maximum_wait: seconds + 8, polling_interval: pollingInterval },
      env: {
        NODE_OPTIONS: `--require ${JSON.stringify(PLANT)}`,
        UE_TEST_PLANTED_ROOT: s.root,
        UE_TEST_PLANTED_SNAPSHOT: Buffer.from(content).toString("base64"),
        UE_TEST_PLANTED_ARN_MARK: ARN_MARK,
        UE_TEST_PLANTED_TIME_MARK: String(TIME_MARK),
        UE_TEST_PLANTED_SHIFT_MS: String(shiftMs),
      },
    });
    // What the task found: the content planted for its execution, at some time.
    const planted = await readFile(join(await groupFolder(s.root), "snapshot.json"), "utf8");
    const executionArn = String(run.doc?.["result"]?.executionArn);
    assert.equal(
      planted.replace(/\b\d{13}\b/g, "<time>"),
      content.replaceAll(ARN_MARK, executionArn).replaceAll(String(TIME_MARK), "<time>"),
      `the snapshot found is the one planted for the execution; the task said: ${run.stderr}`,
    );
    return run;
  }

  /** A listing that names the execution, as the tasks write it. */
  const fresh = formatSnapshot(TIME_MARK, [ARN_MARK]);
  const changed = (extra: Record<string, unknown>) =>
    JSON.stringify({ ...JSON.parse(fresh), ...extra });

  test("control: a fresh listing that names the execution is believed while it lasts", async () => {
    const run = await withPlanted(fresh);
    // Believed until the maximum wait; only the last look there sees the end.
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.doc?.["status_description"],
      /SUCCEEDED \(it had ended when the maximum wait of 11 s was reached\)$/,
    );
  });

  const ignored: Array<
    [string, string, { seconds?: number; pollingInterval?: number; shiftMs?: number }?]
  > = [
    // 3 s old, against 2.25 s allowed with a 5 s interval: newer than the task's last check
    // once its checks are more than 3 s apart, i.e. after the first 12 s of an execution.
    ["a stale snapshot", fresh, { seconds: 16, pollingInterval: 5, shiftMs: -3_000 }],
    ["a corrupt snapshot", `${fresh.slice(0, 40)}\u0000garbage`],
    ["a snapshot of another version", changed({ version: 2 })],
    ["a snapshot of another format", changed({ format: "something-else" })],
  ];
  for (const [name, content, options] of ignored) {
    test(`${name} is ignored: the task sees its execution's end`, async () => {
      assertSucceeded(await withPlanted(content, options));
    });
  }

  const NO_FIFO =
    process.platform === "win32" ? "no named pipes (mkfifo) in folders on Windows" : false;

  /** Named pipes in place of the group's files, once the task has made the folder. */
  async function plantPipes(names: (group: string) => string[]): Promise<void> {
    const group = await groupFolder(s.root);
    await until("the waiters folder", () =>
      stat(join(group, "waiters")).then(
        () => true,
        () => undefined,
      ),
    );
    for (const name of names(group)) {
      await rm(join(group, name), { force: true });
      const made = spawnSync("mkfifo", ["-m", "600", join(group, name)]);
      assert.equal(made.status, 0, `mkfifo ${name}: ${made.stderr}`);
    }
  }

  /** A state machine whose executions run until the test releases them. */
  const heldMachine = () => s.setUp({ resource: HELD });

  /**
   * Resolves with the execution's ARN once the task has made a whole status check after the
   * pipes were planted: the second DescribeExecution after the planting comes from a check
   * that began once the first was answered, so it read the group's files with the pipes in
   * place. Null if the task ended first.
   */
  async function checkedPastPipes(
    child: ChildProcess,
    machine: string,
    planting: Promise<void>,
  ): Promise<string | null> {
    await planting;
    const from = s.ep.requests.length;
    const ofMachine = `:execution:${machine.split(":").at(-1)}:`;
    for (;;) {
      const described = s.ep.requests
        .slice(from)
        .filter((r) => r.operation === "DescribeExecution" && r.resource?.includes(ofMachine));
      if (described.length >= 2) return described[1]?.resource as string;
      if (child.exitCode !== null || child.signalCode !== null) return null;
      await delay(20);
    }
  }

  // Opened for reading, a pipe with no writer blocks for ever, and a task blocked in a
  // synchronous call would not even see SIGTERM. A lone task reads each of these files at
  // every check; its execution ends once a check has met them.
  const pipes: Array<[string, () => string[]]> = [
    ["snapshot.json", () => ["snapshot.json"]],
    ["lease", () => ["lease"]],
    ["denied", () => ["denied"]],
    // A peer's registration (this test's process is alive).
    ["a peer's waiters/<pid>", () => [join("waiters", String(process.pid))]],
  ];
  for (const [name, planted] of pipes) {
    test(`a named pipe as ${name} blocks nothing: the task sees its execution's end`, {
      skip: NO_FIFO,
    }, async () => {
      const machine = await heldMachine();
      let met: Promise<string | null> = Promise.resolve(null);
      const run = await s.waiter(machine, {
        timeoutMs: 60_000,
        onStart: (child) => {
          met = checkedPastPipes(child, machine, plantPipes(planted));
          void met.then((arn) => arn && held.release(arn));
        },
      });
      assert.ok(await met, "a check met the pipes before the task ended");
      assertSucceeded(run);
    });
  }

  // The task's own registration is written again (for writing, a pipe with no reader blocks
  // too) once it nears its end: after 7 s with a 2 s interval.
  test("a named pipe as the task's own waiters/<pid> blocks nothing: the task sees its execution's end", {
    skip: NO_FIFO,
  }, async () => {
    const seconds = 12;
    const arn = await s.setUp(seconds);
    let planting: Promise<void> = Promise.resolve();
    const run = await s.waiter(arn, {
      timeoutMs: (seconds + 20) * 1_000,
      onStart: (child) => {
        planting = plantPipes(() => [join("waiters", String(child.pid))]);
      },
    });
    await planting;
    assertSucceeded(run);
  });

  test("with named pipes in the group folder, SIGTERM still cancels the wait", {
    skip: NO_FIFO,
  }, async () => {
    const machine = await heldMachine();
    let met: Promise<string | null> = Promise.resolve(null);
    // A task blocked on a pipe never ends: the time limit kills it (no exit code then).
    const run = await s.waiter(machine, {
      timeoutMs: 60_000,
      onStart: (child) => {
        const planting = plantPipes(() => [
          "snapshot.json",
          "lease",
          "denied",
          join("waiters", String(process.pid)),
        ]);
        met = checkedPastPipes(child, machine, planting);
        void met.then(() => child.kill("SIGTERM"));
      },
    });
    assert.ok(await met, "a check met the pipes before the signal");
    assert.equal(run.code, 27, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc["status_description"], /^CANCELLED: /);
  });
});
