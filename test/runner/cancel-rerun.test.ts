import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { findPython } from "../../local/runner/agent.ts";
import { startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, cleanEnv } from "../helpers/bundle.ts";
import { productTemplate } from "../helpers/fixture-package.ts";
import { BUNDLE, ROOT, requireBuilt } from "../helpers/paths.ts";
import { type FixtureRunner, nextEvent, fixtureRunners } from "../helpers/runner-fixture.ts";

const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
const open = fixtureRunners();

const running = (f: FixtureRunner) =>
  nextEvent(f, (e) => e.type === "output-field" && e.value === "RUNNING");

/**
 * Launch a task, cancel it once it runs, and check that the bridge ended it with exit 27
 * and a document of its own carrying the message; the task's result.
 */
async function cancelledByTheBridge(f: FixtureRunner, name: string, message: string) {
  const handle = f.runner.launch({ name, fields: { state_machine_arn: SM } });
  await running(f);
  handle.cancel();
  const result = await handle.result;
  assert.equal(result.state, "Cancelled");
  assert.equal(result.exitCode, 27);
  assert.equal(result.message, message);
  const doc = result.extensionOutput as Record<string, unknown>;
  assertValidDoc(doc);
  assert.equal(doc["exit_code"], 27);
  assert.equal(doc["status_description"], result.message);
  return result;
}

/** A private folder, removed after the file's tests. */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ue-undelivered-cancel-"));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The real bridge in Python, as the agent runs it, starting `bundle` with `fields`, its
 * signal to stop raising `failure` (as the console break does on Windows without a
 * console). extension_cancel is called from another thread 0.3 s after the program started,
 * or once the program has reported its execution RUNNING (`whenRunning`), or has created
 * `readyFile` (what it does before that, however slowly it starts, comes first).
 */
async function cancelWithoutSignal(options: {
  bundle: string;
  failure: "SystemError" | "PermissionError";
  cache: string;
  fields?: Record<string, unknown>;
  whenRunning?: boolean;
  readyFile?: string;
  env?: Record<string, string>;
}) {
  const python = findPython();
  assert.ok(python, "python3 is needed for these tests");
  const probe = [
    "import json, os, signal, sys, threading, time",
    "sys.path[:0] = sys.argv[1:3]",
    "import extension",
    "extension.bundle_path = lambda root: sys.argv[3]",
    "real_killpg = os.killpg",
    "def killpg(pid, sig):",
    "    if sig == signal.SIGTERM:",
    "        if sys.argv[4] == 'SystemError':",
    "            raise SystemError('<built-in function kill> returned a result with an error set')",
    "        raise PermissionError(1, 'Operation not permitted')",
    "    return real_killpg(pid, sig)",
    "os.killpg = killpg",
    "ext = extension.Extension()",
    "updates = []",
    "ext._output_field_update = lambda: updates.append",
    "seen = {}",
    "def cancel():",
    "    while ext._process is None:",
    "        time.sleep(0.05)",
    "    while sys.argv[7] and not os.path.exists(sys.argv[7]) and ext._process.poll() is None:",
    "        time.sleep(0.05)",
    "    if sys.argv[6] == 'running':",
    "        while not any(u.get('execution_status') == 'RUNNING' for u in updates):",
    "            time.sleep(0.05)",
    "    time.sleep(0.3)",
    "    try:",
    "        ext.extension_cancel()",
    "        seen['cancel'] = 'returned'",
    "    except Exception as error:",
    "        seen['cancel'] = type(error).__name__",
    "canceller = threading.Thread(target=cancel)",
    "canceller.start()",
    "start = time.time()",
    "result = ext.extension_start(json.loads(sys.argv[5]))",
    "seen.update(rc=result.rc, message=result.message, seconds=time.time() - start, doc=json.loads(result.unv_output))",
    "canceller.join()",
    "print(json.dumps(seen))",
  ].join("\n");
  const fields = options.fields ?? {
    state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:hello",
  };
  const { stdout, stderr } = await promisify(execFile)(
    python,
    [
      "-B",
      "-c",
      probe,
      join(ROOT, "local/runner/python"),
      join(ROOT, "src/bridge"),
      options.bundle,
      options.failure,
      JSON.stringify(fields),
      options.whenRunning ? "running" : "started",
      options.readyFile ?? "",
    ],
    { env: cleanEnv({ UE_AWS_STEPFUNCTIONS_CACHE: options.cache, ...options.env }) },
  );
  const seen = JSON.parse(stdout) as {
    cancel: string;
    rc: number;
    message: string;
    seconds: number;
    doc: Record<string, unknown>;
  };
  return { ...seen, stderr };
}

describe("cancel (the real bridge, contract fixture program)", () => {
  test("cancel calls extension_cancel, which forwards SIGTERM; the task ends Cancelled with the program's exit code", async () => {
    const f = await open({ "*": { holdMs: 30_000 } });
    const handle = f.runner.launch({ name: "cancel-me", fields: { state_machine_arn: SM } });
    await running(f);

    assert.equal(f.runner.cancel(handle.instanceId), true);
    const result = await handle.result;

    assert.equal(result.state, "Cancelled");
    assert.equal(result.exitCode, 27);
    assert.equal(result.cancelReason, "cancelled by the operator");
    assert.equal(result.outputFields["execution_status"], "ABORTED");
    assert.ok(f.events.some((e) => e.type === "cancel-requested" && e.how === "extension_cancel"));
    assert.match(result.message ?? "", /^CANCELLED: /);
    assert.ok(
      f.events.some((e) => e.type === "log" && e.line.endsWith("SIGTERM received: stopping")),
    );
  });

  test("a second extension_cancel only waits: the program is asked once and stops in order", async () => {
    // The program's stop lasts until the test lets it end: the second cancel comes while it
    // is under way however slowly the log lines and the signal travel.
    const f = await open({ "*": { holdMs: 30_000, stopUntil: "stop-may-end" } });
    const handle = f.runner.launch({ name: "twice", fields: { state_machine_arn: SM } });
    await running(f);
    const started = f.events.find((e) => e.type === "task-started");
    assert.ok(started?.type === "task-started");

    handle.cancel();
    await nextEvent(f, (e) => e.type === "log" && e.line.endsWith("SIGTERM received: stopping"));
    // The agent (or a user) cancels again while the program stops the execution.
    process.kill(started.pid, "SIGUSR1");
    await Promise.race([
      nextEvent(f, (e) => e.type === "log" && / cancel: the program was asked/.test(e.line)),
      handle.result,
    ]);
    await writeFile(join(f.dir, "stop-may-end"), "");
    const result = await handle.result;

    assert.equal(result.state, "Cancelled");
    assert.equal(result.exitCode, 27);
    assert.equal(result.message, "CANCELLED: fixture ABORTED", "the orderly stop finished");
    assert.equal(result.outputFields["execution_status"], "ABORTED");
    assert.equal(
      f.events.filter((e) => e.type === "log" && / SIGTERM received/.test(e.line)).length,
      1,
      "one SIGTERM",
    );
    assert.ok(
      f.events.some(
        (e) => e.type === "log" && / cancel: the program was asked to stop already/.test(e.line),
      ),
    );
  });

  test("a program that ignores SIGTERM is killed by the bridge after its bounded wait: exit 27 and the bridge's document", async () => {
    const f = await open(
      { "*": { holdMs: 30_000, ignoreSigterm: true } },
      { bridgeCancelWaitSeconds: 0.3 },
    );
    const result = await cancelledByTheBridge(
      f,
      "stubborn",
      "CANCELLED: the program did not stop within 0.3 s of the cancel (UE_AWS_STEPFUNCTIONS_CANCEL_WAIT) and was killed; " +
        "execution arn:aws:states:us-east-1:123456789012:execution:fixture:stubborn-1 may still be running",
    );
    assert.equal(result.signal, null, "the Python process itself ended normally");
    assert.deepEqual(
      f.events.flatMap((e) => (e.type === "cancel-requested" ? [e.how] : [])),
      ["extension_cancel"],
    );
    assert.ok(
      f.events.some((e) => e.type === "log" && e.line.endsWith("SIGTERM received and ignored")),
    );
  });

  test("a cancel before the program has installed its handlers: exit 27 and the bridge's document", async () => {
    const f = await open({ "*": { holdMs: 30_000, sigtermHandlerAfterMs: 30_000 } });
    const result = await cancelledByTheBridge(
      f,
      "early",
      "CANCELLED: the program was ended by SIGTERM before it could stop anything; " +
        "execution arn:aws:states:us-east-1:123456789012:execution:fixture:early-1 may still be running",
    );
    assert.equal((result.extensionOutput as Record<string, unknown>)["result"], null);
  });

  // On Windows the cancel is a console break, which fails where the agent's Python has no
  // console (python/cpython#112190), and os.kill then raises SystemError rather than OSError
  // (python/cpython#58689). Simulated here by making the stop request raise.
  for (const failure of ["SystemError", "PermissionError"] as const) {
    test(`a cancel that reaches the program neither way (${failure}, its standard input closed) kills it at once: exit 27, saying so`, async () => {
      const dir = await tempDir();
      const bundle = join(dir, "program.cjs");
      // The cancel comes once the program has closed its input (it says so with a file), not
      // at a time a slow start could outlast: a line written before would be taken.
      const ready = join(dir, `closed-${failure}`);
      await writeFile(
        bundle,
        `const fs = require("fs");\nfs.closeSync(0);\nfs.writeFileSync(${JSON.stringify(ready)}, "");\nsetTimeout(() => {}, 20000);\n`,
      );

      const seen = await cancelWithoutSignal({
        bundle,
        failure,
        cache: join(dir, "cache"),
        readyFile: ready,
      });

      assert.equal(seen.cancel, "returned", "extension_cancel raises nothing into the agent");
      assert.equal(seen.rc, 27);
      assert.ok(
        seen.seconds < 10,
        `the task ended at once, not with the program (${seen.seconds} s)`,
      );
      assert.match(
        seen.message,
        new RegExp(
          `^CANCELLED: the program could not be asked to stop \\(${failure}: .*; standard input: BrokenPipeError: .*\\) and was killed; ` +
            "the execution, if one was started, may still be running$",
        ),
      );
      assertValidDoc(seen.doc);
      assert.equal(seen.doc["status_description"], seen.message);
      assert.match(
        seen.stderr,
        / ERROR bridge: cancel: the program could not be asked to stop .*; killing it/,
      );
    });
  }

  test("a cancel whose signal fails waits for the program to end on the line on its standard input, then kills it", async () => {
    const dir = await tempDir();
    const bundle = join(dir, "program.cjs");
    await writeFile(bundle, "setTimeout(() => {}, 20000);\n");

    const seen = await cancelWithoutSignal({
      bundle,
      failure: "SystemError",
      cache: join(dir, "cache"),
      env: { UE_AWS_STEPFUNCTIONS_CANCEL_WAIT: "0.5" },
    });

    assert.equal(seen.cancel, "returned");
    assert.equal(seen.rc, 27);
    assert.ok(seen.seconds < 10, `the bounded wait, not the program's 20 s (${seen.seconds} s)`);
    assert.equal(
      seen.message,
      "CANCELLED: the program did not stop within 0.5 s of the cancel (UE_AWS_STEPFUNCTIONS_CANCEL_WAIT) and was killed; " +
        "the execution, if one was started, may still be running",
    );
    assert.match(
      seen.stderr,
      / WARN bridge: cancel: the SIGTERM could not be sent \(SystemError: .*\); the program was asked on its standard input/,
    );
  });

  test("a cancel whose signal fails reaches the real program on its standard input: the execution is stopped, exit 27 and the program's document", async () => {
    const ep = await startLocalEndpoint();
    after(() => ep.close());
    const arn = ep.createStateMachine({
      name: "long",
      definition: { StartAt: "Slow", States: { Slow: { Type: "Wait", Seconds: 120, End: true } } },
    });
    const dir = await tempDir();

    const seen = await cancelWithoutSignal({
      bundle: requireBuilt(BUNDLE),
      failure: "SystemError",
      cache: join(dir, "cache"),
      fields: {
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        state_machine_arn: arn,
        wait_for_success_or_failure: true,
        polling_interval: 1,
      },
      whenRunning: true,
    });

    assert.equal(seen.cancel, "returned");
    assert.equal(seen.rc, 27, seen.stderr);
    assertValidDoc(seen.doc);
    assert.match(seen.message, /^CANCELLED: task cancelled; execution \S+ stopped/);
    assert.equal(seen.doc["status_description"], seen.message, "the program's own document");
    const result = seen.doc["result"] as Record<string, unknown>;
    assert.equal(result["status"], "ABORTED");
    assert.equal(ep.getExecution(String(result["executionArn"]))?.status, "ABORTED");
    assert.match(
      seen.stderr,
      / WARN bridge: cancel: the SIGTERM could not be sent \(SystemError: /,
    );
    assert.match(seen.stderr, / WARN {2}received "cancel" on standard input: cancelling/);
  });

  // [case, exit code as Popen gives it, why the cancel killed the program, Windows, how it ended]
  const KILLED = "did not stop within 30 s of the cancel (UE_AWS_STEPFUNCTIONS_CANCEL_WAIT)";
  const cancelEnds: [string, number, string | null, boolean, string | null][] = [
    [
      "Windows: the console break before the program listened for it (STATUS_CONTROL_C_EXIT)",
      0xc000013a,
      null,
      true,
      "the program was ended by the console break before it could stop anything",
    ],
    [
      "Windows: the kill (TerminateProcess, exit code 1)",
      1,
      KILLED,
      true,
      `the program ${KILLED} and was killed`,
    ],
    ["Windows: the program's own exit 27 that came before the kill", 27, KILLED, true, null],
    ["Windows: the program's own exit 27", 27, null, true, null],
    [
      "POSIX: SIGTERM before the program listened for it",
      -15,
      null,
      false,
      "the program was ended by SIGTERM before it could stop anything",
    ],
    ["POSIX: the kill (SIGKILL)", -9, KILLED, false, `the program ${KILLED} and was killed`],
    ["POSIX: the program's own exit 27 that came before the kill", 27, KILLED, false, null],
  ];

  test("how a cancel ended the program, on Windows and POSIX: a kill or an unheeded signal gets the bridge's own result, the program's own exit its document", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const probe = [
      "import json, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "cases = json.loads(sys.argv[3])",
      "print(json.dumps([extension.cut_short_by_cancel(code, killed, windows) for code, killed, windows in cases]))",
    ].join("\n");
    const { stdout } = await promisify(execFile)(python, [
      "-c",
      probe,
      join(ROOT, "local/runner/python"),
      join(ROOT, "src/bridge"),
      JSON.stringify(cancelEnds.map(([, code, killed, windows]) => [code, killed, windows])),
    ]);
    const how: unknown[] = JSON.parse(stdout);
    for (const [i, [label, , , , expected]] of cancelEnds.entries()) {
      assert.equal(how[i], expected, label);
    }
  });

  test("a task timeout cancels with SIGTERM", async () => {
    const f = await open({ "*": { holdMs: 30_000 } });
    const result = await f.runner.launch({
      name: "slow",
      fields: { state_machine_arn: SM },
      timeoutSeconds: 3,
    }).result;
    assert.equal(result.state, "Cancelled");
    assert.equal(result.cancelReason, "timeout after 3 s");
    assert.equal(result.exitCode, 27);
  });
});

describe("rerun (contract fixture program)", () => {
  test("a rerun is the same task instance run again, with no execution count", async () => {
    const f = await open({ "*": { exitCodeByCount: { "1": 23 }, exitCode: 0 } });
    const first = await f.runner.launch({
      name: "flaky",
      fields: { state_machine_arn: SM, credentials: { $credential: "local-test" } },
    }).result;
    const second = await f.runner.rerun(first.instanceId).result;
    const third = await f.runner.rerun(first.instanceId).result;

    assert.deepEqual([first.state, second.state, third.state], ["Failed", "Success", "Success"]);
    assert.deepEqual([first.rerun, second.rerun, third.rerun], [false, true, true]);
    assert.equal(second.instanceId, first.instanceId);
    assert.equal(third.instanceId, first.instanceId);
    const [r1, r2, r3] = await Promise.all([1, 2, 3].map((n) => f.received("flaky", n)));
    for (const r of [r1, r2, r3]) {
      assert.equal(r?.env["UE_EXECUTION_COUNT"], undefined, "the agent passes no count");
      assert.equal(r?.env["UE_TASK_INSTANCE_ID"], first.instanceId);
    }
    assert.deepEqual(r2?.fields, r1?.fields, "a rerun sends the same fields");
  });

  test("output-only fields with preserveOutputOnRerun are kept on rerun, then updated", async () => {
    const template = await productTemplate();
    for (const field of template.fields) field.preserveOutputOnRerun = true;
    const f = await open({ "*": { exitCodeByCount: { "1": 23 } } }, { template });
    const first = await f.runner.launch({ name: "again", fields: { state_machine_arn: SM } })
      .result;
    const second = await f.runner.rerun(first.instanceId).result;

    const rerunStart = f.events.filter((e) => e.type === "task-started")[1];
    assert.ok(rerunStart?.type === "task-started");
    assert.deepEqual(rerunStart.cleared, []);
    assert.equal(first.outputFields["execution_status"], "FAILED");
    assert.equal(
      second.outputFields["execution_arn"],
      "arn:aws:states:us-east-1:123456789012:execution:fixture:again-2",
    );
  });

  test("output-only fields without preserveOutputOnRerun are cleared on rerun", async () => {
    const template = await productTemplate();
    for (const field of template.fields) field.preserveOutputOnRerun = false;
    const f = await open({ "*": { exitCodeByCount: { "1": 23 } } }, { template });
    const first = await f.runner.launch({ name: "again", fields: { state_machine_arn: SM } })
      .result;
    await f.runner.rerun(first.instanceId).result;

    const rerunStart = f.events.filter((e) => e.type === "task-started")[1];
    assert.ok(rerunStart?.type === "task-started");
    assert.deepEqual([...rerunStart.cleared].sort(), [
      "execution_arn",
      "execution_status",
      "generated_execution_name",
    ]);
  });

  test("a running instance cannot be rerun, an unknown one neither", async () => {
    const f = await open({ "*": { holdMs: 30_000 } });
    const handle = f.runner.launch({ name: "busy", fields: { state_machine_arn: SM } });
    assert.throws(() => f.runner.rerun(handle.instanceId), /still running/);
    assert.throws(() => f.runner.rerun("0".repeat(32)), /no task instance/);
    handle.cancel();
    await handle.result;
  });
});
