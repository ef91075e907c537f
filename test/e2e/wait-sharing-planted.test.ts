/**
 * End to end: what a waiting task finds in the shared folder never misleads nor blocks it: a
 * fresh listing is believed while it lasts; a stale, corrupt or foreign one is ignored; named
 * pipes in place of the group's files block nothing, not even a cancel. Real bundles as child
 * processes against the local endpoint; the shared folder is a private temporary one per test.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { formatSnapshot, SNAPSHOT_FORMAT } from "../../src/wait-sharing/decide.ts";
import { assertValidDoc, type BundleRun, waitForOutputField } from "../helpers/bundle.ts";
import {
  assertSucceeded,
  delay,
  groupFolder,
  sharingSuite,
  until,
} from "../helpers/wait-sharing.ts";

describe("shared status checks while waiting: what the shared folder holds", () => {
  const s = sharingSuite();

  /**
   * One task whose execution ends after 3 s, with a planted snapshot rewritten every 100 ms
   * until the task ends. A snapshot it believed would keep it waiting until its maximum wait.
   */
  async function withPlanted(
    content: (executionArn: string) => string,
    seconds = 3,
    pollingInterval = 2,
  ): Promise<BundleRun> {
    const arn = await s.setUp(seconds);
    let executionArn: string | undefined;
    let done = false;
    const planting = (async () => {
      const group = await groupFolder(s.root);
      while (!done) {
        if (executionArn) {
          // Replaced atomically, as the tasks do: a reader never sees a half-written file.
          await writeFile(join(group, "snapshot.planted"), content(executionArn));
          await rename(join(group, "snapshot.planted"), join(group, "snapshot.json"));
        }
        await delay(100);
      }
    })();
    const run = await s.waiter(arn, {
      fields: { maximum_wait: seconds + 8, polling_interval: pollingInterval },
      onStart: (_child, outputFields) => {
        waitForOutputField(outputFields, "execution_arn").then((a) => {
          executionArn = a;
        });
      },
    });
    done = true;
    await planting;
    return run;
  }

  const fresh = (arn: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      format: SNAPSHOT_FORMAT,
      version: 1,
      takenAt: Date.now(),
      running: [arn],
      ...extra,
    });

  test("control: a fresh listing that names the execution is believed while it lasts", async () => {
    const run = await withPlanted((arn) => formatSnapshot(Date.now(), [arn]));
    // Believed until the maximum wait; only the last look there sees the end.
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.doc?.["status_description"],
      /SUCCEEDED \(it had ended when the maximum wait of 11 s was reached\)$/,
    );
  });

  const ignored: Array<[string, (arn: string) => string, number?, number?]> = [
    // 3 s old, against 2.25 s allowed with a 5 s interval: newer than the task's last check
    // once its checks are more than 3 s apart, i.e. after the first 12 s of an execution.
    ["a stale snapshot", (arn) => formatSnapshot(Date.now() - 3_000, [arn]), 16, 5],
    ["a corrupt snapshot", (arn) => `${fresh(arn).slice(0, 40)}\u0000garbage`],
    ["a snapshot of another version", (arn) => fresh(arn, { version: 2 })],
    ["a snapshot of another format", (arn) => fresh(arn, { format: "something-else" })],
  ];
  for (const [name, content, seconds, interval] of ignored) {
    test(`${name} is ignored: the task sees its execution's end`, async () => {
      assertSucceeded(await withPlanted(content, seconds, interval));
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

  // Opened for reading, a pipe with no writer blocks for ever, and a task blocked in a
  // synchronous call would not even see SIGTERM. Each file is met on a later check.
  const pipes: Array<[string, (group: string, pid: number) => string[], number]> = [
    ["snapshot.json", () => ["snapshot.json"], 4],
    ["lease", () => ["lease"], 4],
    ["denied", () => ["denied"], 4],
    // A peer's registration (this test's process is alive).
    ["a peer's waiters/<pid>", () => [join("waiters", String(process.pid))], 4],
    // The task's own, written again (for writing, a pipe with no reader blocks too) once
    // its registration nears its end: after 7 s with a 2 s interval.
    ["the task's own waiters/<pid>", (_group, pid) => [join("waiters", String(pid))], 12],
  ];
  for (const [name, planted, seconds] of pipes) {
    test(`a named pipe as ${name} blocks nothing: the task sees its execution's end`, {
      skip: NO_FIFO,
    }, async () => {
      const arn = await s.setUp(seconds);
      let planting: Promise<void> = Promise.resolve();
      const run = await s.waiter(arn, {
        timeoutMs: (seconds + 20) * 1_000,
        onStart: (child) => {
          planting = plantPipes((group) => planted(group, child.pid as number));
        },
      });
      await planting;
      assertSucceeded(run);
    });
  }

  test("with named pipes in the group folder, SIGTERM still cancels the wait", {
    skip: NO_FIFO,
  }, async () => {
    const arn = await s.setUp(60);
    let signalledAt = 0;
    const run = await s.waiter(arn, {
      timeoutMs: 40_000,
      onStart: (child) => {
        void plantPipes(() => [
          "snapshot.json",
          "lease",
          "denied",
          join("waiters", String(process.pid)),
        ])
          // Past the next check, which meets the pipes.
          .then(() => delay(5_000))
          .then(() => {
            signalledAt = Date.now();
            child.kill("SIGTERM");
          });
      },
    });
    assert.equal(run.code, 27, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc["status_description"], /^CANCELLED: /);
    assert.ok(Date.now() - signalledAt < 15_000, "cancelled promptly");
  });
});
