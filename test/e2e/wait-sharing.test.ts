/**
 * End to end: tasks of one user waiting on one state machine share what one ListExecutions
 * tells them (SPEC 5.11), never trusting it for an end. Real bundles as child processes
 * against the local endpoint; the shared folder is a private temporary one per test.
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
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { formatSnapshot, SNAPSHOT_FORMAT } from "../../src/wait-sharing/decide.ts";
import {
  assertValidDoc,
  type BundleRun,
  runBundle,
  waitForOutputField,
} from "../helpers/bundle.ts";

const SECOND_KEY = {
  accessKeyId: "AKIDSECONDWAITER0001",
  secretAccessKey: "second-canary-SECRET/+=",
};
const DENIED_WARNING = /states:ListExecutions is not allowed for these credentials/g;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await delay(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Every file under a folder, with its content. */
async function filesUnder(dir: string): Promise<Array<{ path: string; text: string }>> {
  const out: Array<{ path: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, text: await readFile(path, "utf8").catch(() => "") });
  }
  return out;
}

/** The one group folder the tasks of a test created. */
async function groupFolder(root: string): Promise<string> {
  return until("the group folder", async () => {
    const entries = await readdir(root).catch(() => [] as string[]);
    return entries.length === 1 ? join(root, entries[0] as string) : undefined;
  });
}

function assertSucceeded(run: BundleRun): void {
  assert.equal(run.code, 0, run.stderr);
  assertValidDoc(run.doc);
  assert.equal(run.doc["result"].status, "SUCCEEDED");
  // Seen by the waiting loop, not only by the last look at the maximum wait.
  assert.doesNotMatch(run.doc["status_description"], /maximum wait/);
}

describe("shared status checks while waiting", () => {
  let ep: LocalEndpoint;
  let root: string;
  let machines = 0;

  before(async () => {
    ep = await startLocalEndpoint({
      credentials: [
        { accessKeyId: "AKIDFIRSTWAITER00001", secretAccessKey: "first-canary-SECRET/+=" },
        SECOND_KEY,
      ],
    });
  });
  after(async () => {
    await ep.close();
  });

  /** A new state machine that waits this long, and a fresh shared folder. */
  async function setUp(seconds: number): Promise<string> {
    root = await mkdtemp(join(tmpdir(), "ue-sfn-share-"));
    await rm(root, { recursive: true });
    return ep.createStateMachine({
      name: `share${machines++}`,
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: seconds, End: true } } },
    });
  }

  const calls = (operation: string, machineOrExecution?: string) =>
    ep.requests.filter(
      (r) =>
        r.operation === operation &&
        (machineOrExecution === undefined || (r.resource ?? "").includes(machineOrExecution)),
    );

  function waiter(
    stateMachineArn: string,
    extra: {
      env?: Record<string, string>;
      fields?: Record<string, unknown>;
      key?: { accessKeyId: string; secretAccessKey: string };
      onStart?: (child: ChildProcess, outputFieldsFile: string) => void;
      timeoutMs?: number;
    } = {},
  ): Promise<BundleRun> {
    const key = extra.key ?? ep.credentials;
    return runBundle({
      fields: {
        action: ["Start Asynchronous Execution"],
        endpoint_url: ep.url,
        credentials: { user: key.accessKeyId, password: key.secretAccessKey },
        state_machine_arn: stateMachineArn,
        wait_for_success_or_failure: true,
        polling_interval: 2,
        ...extra.fields,
      },
      env: { UE_WAIT_SHARING_DIR: root, ...extra.env },
      ...(extra.onStart ? { onStart: extra.onStart } : {}),
      ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}),
    });
  }

  test("several tasks share: far fewer DescribeExecution calls than the same tasks unshared, all right", async () => {
    const shared = await setUp(16);
    const sharedRoot = root;
    const unshared = await setUp(16);
    ep.clearRequests();
    root = sharedRoot;
    const fields = { polling_interval: 5 };
    const runs = await Promise.all([
      ...Array.from({ length: 4 }, () => waiter(shared, { fields })),
      ...Array.from({ length: 4 }, () =>
        waiter(unshared, { fields, env: { UE_WAIT_SHARING: "off" } }),
      ),
    ]);
    for (const run of runs) assertSucceeded(run);

    const executionsOf = (machine: string) => `:execution:${machine.split(":").at(-1)}:`;
    const sharedDescribes = calls("DescribeExecution", executionsOf(shared)).length;
    const unsharedDescribes = calls("DescribeExecution", executionsOf(unshared)).length;
    assert.ok(calls("ListExecutions", shared).length >= 1, "the shared tasks listed");
    assert.equal(calls("ListExecutions", unshared).length, 0, "UE_WAIT_SHARING=off lists nothing");
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
      const stop = ep.getExecution(arn)?.stopDate?.getTime() ?? Number.POSITIVE_INFINITY;
      assert.ok(
        calls("DescribeExecution", arn).some((r) => r.time.getTime() >= stop - 5),
        `the end of ${arn} was read with its own call`,
      );
    }
    // The folder is private, and no credential reached it.
    assert.equal((await stat(sharedRoot)).mode & 0o777, 0o700);
    const files = await filesUnder(sharedRoot);
    assert.ok(files.some((f) => f.path.endsWith("snapshot.json")));
    for (const f of files) {
      for (const canary of [ep.credentials.accessKeyId, ep.credentials.secretAccessKey]) {
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
    const arn = await setUp(4);
    ep.clearRequests();
    assertSucceeded(await waiter(arn));
    assert.equal(calls("ListExecutions").length, 0);
  });

  test("tasks with different credentials never share", async () => {
    const arn = await setUp(6);
    ep.clearRequests();
    const runs = await Promise.all([waiter(arn), waiter(arn, { key: SECOND_KEY })]);
    for (const run of runs) assertSucceeded(run);
    assert.equal(calls("ListExecutions").length, 0);
    assert.equal((await readdir(root)).length, 2, "one group per identity");
  });

  /**
   * One task whose execution ends after 3 s, with a planted snapshot rewritten every 100 ms
   * until the task ends. A snapshot it believed would keep it waiting until its maximum wait.
   */
  async function withPlanted(
    content: (executionArn: string) => string,
    seconds = 3,
    pollingInterval = 2,
  ): Promise<BundleRun> {
    const arn = await setUp(seconds);
    let executionArn: string | undefined;
    let done = false;
    const planting = (async () => {
      const group = await groupFolder(root);
      while (!done) {
        if (executionArn) {
          // Replaced atomically, as the tasks do: a reader never sees a half-written file.
          await writeFile(join(group, "snapshot.planted"), content(executionArn));
          await rename(join(group, "snapshot.planted"), join(group, "snapshot.json"));
        }
        await delay(100);
      }
    })();
    const run = await waiter(arn, {
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
    const group = await groupFolder(root);
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
      const arn = await setUp(seconds);
      let planting: Promise<void> = Promise.resolve();
      const run = await waiter(arn, {
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
    const arn = await setUp(60);
    let signalledAt = 0;
    const run = await waiter(arn, {
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

  test("the task holding the lease is killed while it lists: the others go on right, another takes the lease over", async () => {
    const arn = await setUp(14);
    ep.clearRequests();
    // Slow listings, so that a task is caught holding the lease.
    ep.faults.set({ latencyMs: 1_500, operations: ["ListExecutions"] });
    const children = new Map<number, ChildProcess>();
    const runs = Array.from({ length: 4 }, () =>
      waiter(arn, { onStart: (child) => children.set(child.pid as number, child) }),
    );
    const group = await groupFolder(root);
    const leader = await until("a lease", async () => {
      if (calls("ListExecutions").length === 0) return undefined;
      const text = await readFile(join(group, "lease"), "utf8").catch(() => "");
      const pid = text ? (JSON.parse(text) as { pid: number }).pid : undefined;
      return pid !== undefined && children.has(pid) ? pid : undefined;
    });
    children.get(leader)?.kill("SIGKILL");
    const killedAt = Date.now();
    let done: BundleRun[];
    try {
      done = await Promise.all(runs);
    } finally {
      ep.faults.reset();
    }
    const killed = done.filter((r) => r.signal === "SIGKILL");
    assert.equal(killed.length, 1);
    for (const run of done.filter((r) => r.signal !== "SIGKILL")) assertSucceeded(run);
    assert.ok(
      calls("ListExecutions").some((r) => r.time.getTime() > killedAt),
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

  test("a lease left by a process that is gone is taken over", async () => {
    const arn = await setUp(8);
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    }).stdout;
    ep.clearRequests();
    const runs = Array.from({ length: 3 }, () => waiter(arn));
    const group = await groupFolder(root);
    // A lease that has not expired, of a process that has.
    await writeFile(
      join(group, "lease"),
      JSON.stringify({ pid: Number(gone), until: Date.now() + 1_500 }),
    );
    const plantedAt = Date.now();
    for (const run of await Promise.all(runs)) assertSucceeded(run);
    assert.ok(calls("ListExecutions").some((r) => r.time.getTime() > plantedAt));
  });

  test("ListExecutions denied: one warning, one attempt for the group, results right", async () => {
    const arn = await setUp(8);
    ep.clearRequests();
    const undo = ep.deny({ operation: "ListExecutions" });
    let runs: BundleRun[];
    try {
      runs = await Promise.all(Array.from({ length: 3 }, () => waiter(arn)));
    } finally {
      undo();
    }
    for (const run of runs) {
      assertSucceeded(run);
      for (const canary of [ep.credentials.secretAccessKey, ep.credentials.accessKeyId]) {
        assert.ok(!run.allBytes.includes(canary), "no credential in the output or the log");
      }
    }
    const warnings = runs.map((r) => (r.stderr.match(DENIED_WARNING) ?? []).length);
    assert.deepEqual(
      warnings.toSorted((a, b) => a - b),
      [0, 0, 1],
    );
    const listed = calls("ListExecutions");
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.errorCode, "AccessDeniedException");
  });

  test("ListExecutions throttled: the tasks check for themselves, results right", async () => {
    const arn = await setUp(8);
    ep.clearRequests();
    ep.faults.throttle("ListExecutions", { bucketSize: 1, refillPerSecond: 0 });
    let runs: BundleRun[];
    try {
      runs = await Promise.all(Array.from({ length: 3 }, () => waiter(arn)));
    } finally {
      ep.faults.unthrottle("ListExecutions");
    }
    for (const run of runs) assertSucceeded(run);
    assert.ok(calls("ListExecutions").some((r) => r.errorCode === "ThrottlingException"));
  });

  test("a shared folder of the wrong mode is refused and left alone", async () => {
    const arn = await setUp(5);
    await mkdir(root, { mode: 0o700 });
    await chmod(root, 0o755);
    ep.clearRequests();
    const runs = await Promise.all([waiter(arn), waiter(arn)]);
    for (const run of runs) {
      assertSucceeded(run);
      assert.match(
        run.stderr,
        /status checks are not shared with other tasks: .* has mode 755, not 700/,
      );
    }
    assert.deepEqual(await readdir(root), []);
    assert.equal(calls("ListExecutions").length, 0);
  });
});
