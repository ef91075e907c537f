/**
 * End to end: reruns and relaunches without an execution count from the agent (SPEC 5.4).
 * Each run of a task instance finds its place from AWS (the local endpoint) by the
 * instance's execution names; the bundle runs as a child process.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";
import { startLossyRelay } from "../helpers/lossy-relay.ts";

/** Loaded into the bundle's process to move its clock (UE_TEST_CLOCK_SKEW_MS). */
const SKEW = fileURLToPath(new URL("../fixtures/host-clock-skew.cjs", import.meta.url));
const FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky-rerun";

/** The tag a task instance puts into an Execution Name: 8 hex digits of SHA-256. */
const tag = (instanceId: string) =>
  createHash("sha256").update(instanceId).digest("hex").slice(0, 8);

describe("reruns without an execution count, end to end", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  const arns: Record<string, string> = {};
  let flakyFailuresLeft = 0;

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    ep.registerTaskHandler(FLAKY, (input) => {
      if (flakyFailuresLeft > 0) {
        flakyFailuresLeft--;
        throw new TaskFailure("Upstream.Unavailable", "the upstream system is down");
      }
      return { processed: input };
    });
    arns["quick"] = ep.createStateMachine({
      name: "quick",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    arns["eightSeconds"] = ep.createStateMachine({
      name: "eightSeconds",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 8, End: true } } },
    });
    arns["flaky"] = ep.createStateMachine({
      name: "flaky",
      definition: {
        StartAt: "Prepare",
        States: {
          Prepare: { Type: "Pass", Result: { batch: 7 }, Next: "Load" },
          Load: { Type: "Task", Resource: FLAKY, End: true },
        },
      },
    });
    arns["held"] = ep.createStateMachine({
      name: "held",
      definition: { StartAt: "W", States: { W: { Type: "Wait", SecondsPath: "$.s", End: true } } },
    });
    arns["express"] = ep.createStateMachine({
      name: "expressQuick",
      type: "EXPRESS",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  const fields = (name: string, extra: Record<string, unknown> = {}) => ({
    action: ["Start Asynchronous Execution"],
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: arns[name],
    ...extra,
  });
  const waiting = { wait_for_success_or_failure: true, polling_interval: 1 };

  /** The names of a state machine's executions that start with a prefix, oldest first. */
  const executionsNamed = async (machine: string, prefix: string) => {
    const listed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arns[machine], maxResults: 1000 }),
    );
    return (listed.executions ?? [])
      .filter((e) => e.name?.startsWith(prefix))
      .map((e) => e.name as string)
      .reverse();
  };

  test("a rerun after SUCCEEDED starts the next run's execution, <base>-2, and says why", async () => {
    const env = { UE_TASK_NAME: "Daily Load", UE_TASK_INSTANCE_ID: "rr-succeeded" };
    const first = await runBundle({ fields: fields("quick", waiting), env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.doc?.["result"].name, "Daily-Load-rr-succeeded-1");

    const rerun = await runBundle({ fields: fields("quick", waiting), env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.equal(rerun.doc.changed, true);
    assert.equal(rerun.doc.result.name, "Daily-Load-rr-succeeded-2");
    assert.equal(rerun.doc.result.status, "SUCCEEDED");
    assert.match(
      rerun.stderr,
      /rerun: the newest execution of this task instance, Daily-Load-rr-succeeded-1, ended SUCCEEDED; starting Daily-Load-rr-succeeded-2/,
    );
    assert.deepEqual(await executionsNamed("quick", "Daily-Load-rr-succeeded-"), [
      "Daily-Load-rr-succeeded-1",
      "Daily-Load-rr-succeeded-2",
    ]);
  });

  test("without waiting, the outcome's description names the run", async () => {
    const env = { UE_TASK_INSTANCE_ID: "rr-nowait" };
    const first = await runBundle({ fields: fields("quick"), env });
    assert.equal(first.code, 0, first.stderr);
    await ep.waitForExecution(first.doc?.["result"].executionArn);
    const rerun = await runBundle({ fields: fields("quick"), env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.match(
      rerun.doc.status_description,
      /^SUCCESS: execution e2e-task-rr-nowait-2 started \(rerun: e2e-task-rr-nowait-1 had ended SUCCEEDED\)$/,
    );
  });

  test("a rerun after FAILED with Redrive Failed Execution redrives the same execution", async () => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: "rr-redrive" };
    const redrive = { ...waiting, rerun_behaviour: ["Redrive Failed Execution"] };
    const first = await runBundle({ fields: fields("flaky", redrive), env });
    assert.equal(first.code, 23, first.stderr);
    const arn = first.doc?.["result"].executionArn;

    const rerun = await runBundle({ fields: fields("flaky", redrive), env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.equal(rerun.doc.result.executionArn, arn);
    assert.equal(rerun.doc.result.status, "SUCCEEDED");
    assert.equal(rerun.doc.changed, true);
    assert.equal(ep.getExecution(arn)?.redriveCount, 1);
    assert.match(
      rerun.stderr,
      /rerun: the newest execution of this task instance, \S+-1, ended FAILED; redriving it/,
    );
    assert.deepEqual(await executionsNamed("flaky", "e2e-task-rr-redrive-"), [
      "e2e-task-rr-redrive-1",
    ]);

    // The next rerun finds the redriven execution SUCCEEDED: not redrivable, a new execution.
    const third = await runBundle({ fields: fields("flaky", redrive), env });
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.doc?.["result"].name, "e2e-task-rr-redrive-2");
    assert.match(third.stderr, /ended SUCCEEDED and is not redriven: it is SUCCEEDED/);
  });

  test("a rerun's redrive refused at the account's open-execution quota: exit 36, nothing redriven or started", async () => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: "rr-quota" };
    const redrive = { ...waiting, rerun_behaviour: ["Redrive Failed Execution"] };
    const first = await runBundle({ fields: fields("flaky", redrive), env });
    assert.equal(first.code, 23, first.stderr);
    const arn = first.doc?.["result"].executionArn;

    ep.setMaxOpenExecutions(0);
    const rerun = await runBundle({ fields: fields("flaky", redrive), env }).finally(() =>
      ep.setMaxOpenExecutions(undefined),
    );
    assert.equal(rerun.code, 36, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.equal(rerun.doc.changed, false);
    assert.match(
      rerun.doc.status_description,
      /^EXECUTION_LIMIT_EXCEEDED: the execution was not redriven: the account's quota of open executions .* again later may work/,
    );
    assert.equal(ep.getExecution(arn)?.redriveCount, 0);
    assert.deepEqual(await executionsNamed("flaky", "e2e-task-rr-quota-"), ["e2e-task-rr-quota-1"]);
  });

  test("killed mid-wait, the relaunch re-attaches: one execution in all", async () => {
    const env = { UE_TASK_INSTANCE_ID: "rr-killed" };
    const killed = await runBundle({
      fields: fields("eightSeconds", waiting),
      env,
      onStart: (child, file) => {
        void waitForOutputField(file, "execution_arn").then(() => child.kill("SIGKILL"));
      },
    });
    assert.equal(killed.signal, "SIGKILL");
    // An agent restart takes a while; a start within a second of the first counts as new.
    // The execution lasts 8 s so that the relaunch comes before its end even on a loaded
    // machine (a relaunch after the end cannot be told from a rerun).
    await new Promise((r) => setTimeout(r, 1200));
    const relaunched = await runBundle({ fields: fields("eightSeconds", waiting), env });
    assert.equal(relaunched.code, 0, relaunched.stderr);
    assertValidDoc(relaunched.doc);
    assert.equal(relaunched.doc.changed, false);
    assert.equal(relaunched.doc.result.status, "SUCCEEDED");
    assert.match(relaunched.stderr, /re-attached/);
    assert.deepEqual(await executionsNamed("eightSeconds", "e2e-task-rr-killed-"), [
      "e2e-task-rr-killed-1",
    ]);
  });

  test("a relaunch after a redrive that is still running joins it, redriving nothing", async () => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: "rr-redrive-killed" };
    const redrive = { rerun_behaviour: ["Redrive Failed Execution"] };
    const slowRedrive = ep.createStateMachine({
      name: "slowAfterFailure",
      definition: {
        StartAt: "Load",
        States: {
          Load: { Type: "Task", Resource: FLAKY, Next: "Slow" },
          Slow: { Type: "Wait", Seconds: 8, End: true },
        },
      },
    });
    const f = { ...fields("flaky", redrive), state_machine_arn: slowRedrive };
    const first = await runBundle({ fields: { ...f, ...waiting }, env });
    assert.equal(first.code, 23, first.stderr);
    const arn = first.doc?.["result"].executionArn;
    const redrove = await runBundle({ fields: f, env });
    assert.equal(redrove.code, 0, redrove.stderr);
    assert.equal(ep.getExecution(arn)?.redriveCount, 1);
    // An agent restart takes a while; a start within a second of the first counts as new.
    // The execution lasts 8 s so that the relaunch comes before its end even on a loaded
    // machine (a relaunch after the end cannot be told from a rerun).
    await new Promise((r) => setTimeout(r, 1200));
    // Not waiting: the result says what AWS shows of the redrive, its count included.
    const looked = await runBundle({ fields: f, env });
    assert.equal(looked.code, 0, looked.stderr);
    assertValidDoc(looked.doc);
    assert.equal(looked.doc.changed, false);
    assert.equal(looked.doc.result.executionArn, arn);
    assert.equal(looked.doc.result.redriveCount, 1);
    assert.equal(looked.doc.result.redriveDate, redrove.doc?.["result"].redriveDate);
    assert.match(looked.doc.status_description, /is running \(redriven earlier by this run\)/);
    // The same with the run's count from a scheduler (the previous run's execution is asked).
    const counted = await runBundle({ fields: f, env: { ...env, UE_EXECUTION_COUNT: "2" } });
    assert.equal(counted.code, 0, counted.stderr);
    assertValidDoc(counted.doc);
    assert.equal(counted.doc.changed, false);
    assert.match(counted.stderr, /re-attached to redriven execution/);
    assert.equal(counted.doc.result.redriveCount, 1);
    assert.equal(counted.doc.result.redriveDate, redrove.doc?.["result"].redriveDate);
    const relaunched = await runBundle({ fields: { ...f, ...waiting }, env });
    assert.equal(relaunched.code, 0, relaunched.stderr);
    assertValidDoc(relaunched.doc);
    assert.equal(relaunched.doc.result.executionArn, arn);
    assert.equal(relaunched.doc.result.status, "SUCCEEDED");
    assert.equal(relaunched.doc.changed, false);
    // Read by the wait's own status checks.
    assert.equal(relaunched.doc.result.redriveCount, 1);
    assert.equal(relaunched.doc.result.redriveDate, redrove.doc?.["result"].redriveDate);
    assert.equal(ep.getExecution(arn)?.redriveCount, 1, "not redriven a second time");
    // AWS answered the start of -1 (same input, still running) with the redriven execution.
    assert.match(relaunched.stderr, /re-attached to execution/);
    assert.match(relaunched.doc.status_description, /^SUCCESS: execution \S+-1 SUCCEEDED/);
  });

  test("a relaunch of a rerun still running rejoins it: AWS compares the inputs, no data is read", async () => {
    const env = { UE_TASK_INSTANCE_ID: "rr-rejoin" };
    const first = await runBundle({
      fields: fields("held", { input: '{"s":0}', ...waiting }),
      env,
    });
    assert.equal(first.code, 0, first.stderr);
    const rerun = await runBundle({ fields: fields("held", { input: '{"s":60}' }), env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(rerun.doc?.["result"].name, "e2e-task-rr-rejoin-2");

    ep.clearRequests();
    const relaunched = await runBundle({ fields: fields("held", { input: '{"s":60}' }), env });
    assert.equal(relaunched.code, 0, relaunched.stderr);
    assertValidDoc(relaunched.doc);
    assert.equal(relaunched.doc.changed, false);
    assert.equal(relaunched.doc.result.name, "e2e-task-rr-rejoin-2");
    assert.match(
      relaunched.doc.status_description,
      /is running \(started earlier by this run\) \(relaunch: e2e-task-rr-rejoin-2 was still RUNNING\)/,
    );
    assert.match(
      relaunched.stderr,
      /asking AWS whether execution e2e-task-rr-rejoin-2 runs with this task's input/,
    );
    const calls = ep.requests.filter((r) => r.service === "states");
    assert.deepEqual(
      calls.map((r) => `${r.operation} ${r.resource?.split(":").pop()} ${r.errorCode ?? "ok"}`),
      [
        "StartExecution held ExecutionAlreadyExists",
        "DescribeExecution e2e-task-rr-rejoin-2 ok",
        "DescribeExecution e2e-task-rr-rejoin-4 ExecutionDoesNotExist",
        "DescribeExecution e2e-task-rr-rejoin-3 ExecutionDoesNotExist",
        "StartExecution held ok",
      ],
      "the optimistic start of -1, the look-ups, the start of -2 that AWS answers with it",
    );

    // Another input: AWS refuses the running execution's name, which tells.
    const changed = await runBundle({ fields: fields("held", { input: '{"s":61}' }), env });
    assert.equal(changed.code, 20, changed.stderr);
    assertValidDoc(changed.doc);
    assert.match(
      changed.doc.status_description,
      /an execution named e2e-task-rr-rejoin-2 already exists with a different input; it is still RUNNING/,
    );
    assert.deepEqual(await executionsNamed("held", "e2e-task-rr-rejoin-"), [
      "e2e-task-rr-rejoin-1",
      "e2e-task-rr-rejoin-2",
    ]);
  });

  test("two task instances with the same Execution Name get two executions", async () => {
    const runs = await Promise.all(
      ["rr-twin-a", "rr-twin-b"].map((id) =>
        runBundle({
          fields: fields("quick", { ...waiting, execution_name: "nightly" }),
          env: { UE_TASK_INSTANCE_ID: id },
        }),
      ),
    );
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      runs.map((r) => r.doc?.["result"].name),
      [`nightly-${tag("rr-twin-a")}-1`, `nightly-${tag("rr-twin-b")}-1`],
    );
    assert.equal((await executionsNamed("quick", "nightly-")).length, 2);
  });

  test("an Execution Name without a task instance (a fixed-name job) finds its runs too", async () => {
    const f = fields("quick", { ...waiting, execution_name: "cron-fixed" });
    const env = { UE_TASK_INSTANCE_ID: undefined };
    const first = await runBundle({ fields: f, env });
    const second = await runBundle({ fields: f, env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await executionsNamed("quick", "cron-fixed-"), [
      "cron-fixed-1",
      "cron-fixed-2",
    ]);
  });

  test("the k-th rerun looks up O(log k) names: 20 earlier runs, at most 11 look-ups", async () => {
    const id = "rr-many";
    const base = `e2e-task-${id}`;
    for (let k = 1; k <= 20; k++) {
      await sfn.send(
        new StartExecutionCommand({ stateMachineArn: arns["quick"], name: `${base}-${k}` }),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    ep.clearRequests();
    const run = await runBundle({ fields: fields("quick"), env: { UE_TASK_INSTANCE_ID: id } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.doc?.["result"].name, `${base}-21`);
    const calls = ep.requests.filter((r) => r.service === "states").map((r) => r.operation);
    const lookups = calls.filter((o) => o === "DescribeExecution").length;
    // Gallop 2, 4, 8, 16, 32, then halve the gap 16..32: 2 log2(20) + 2 = 10.6.
    assert.ok(lookups <= 11, `${lookups} look-ups: ${calls.join(", ")}`);
    assert.deepEqual(
      calls.filter((o) => o !== "DescribeExecution"),
      ["StartExecution", "StartExecution"],
      "the optimistic start of -1, then the start of -21",
    );
  });

  test("a first run costs one call, as before", async () => {
    ep.clearRequests();
    const run = await runBundle({
      fields: fields("quick"),
      env: { UE_TASK_INSTANCE_ID: "rr-first" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      ep.requests.filter((r) => r.service === "states").map((r) => r.operation),
      ["StartExecution"],
    );
  });

  /** The ARN of execution `name` of state machine `machine`. */
  const executionArn = (machine: string, name: string) =>
    `${(arns[machine] as string).replace(":stateMachine:", ":execution:")}:${name}`;

  test("a start whose answer was lost, its execution ended before the retry: AWS's 'taken' is this start's own execution, not an earlier run's", async () => {
    for (const [instance, extra, count] of [
      ["rr-lost-ended-wait", waiting, undefined],
      ["rr-lost-ended-nowait", {}, undefined],
      // With a run number from the scheduler the same: started, not "already ran".
      ["rr-lost-ended-counted", {}, "1"],
    ] as const) {
      const name = `e2e-task-${instance}-1`;
      const arn = executionArn("quick", name);
      // The reply is lost only once the execution has ended, so the SDK's retry meets an
      // ended execution of that name (ExecutionAlreadyExists), as with a short state machine.
      const relay = await startLossyRelay(ep.url, [
        { operation: "StartExecution", fault: "lose-reply", after: () => ep.waitForExecution(arn) },
      ]);
      try {
        const run = await runBundle({
          fields: fields("quick", { ...extra, endpoint_url: relay.url }),
          env: { UE_TASK_INSTANCE_ID: instance, UE_EXECUTION_COUNT: count },
        });
        assert.equal(run.code, 0, run.stderr);
        assertValidDoc(run.doc);
        assert.deepEqual(await executionsNamed("quick", `e2e-task-${instance}-`), [name]);
        assert.equal(run.doc.result.executionArn, arn);
        assert.deepEqual(
          relay.calls.filter((c) => c.operation === "StartExecution").map((c) => c.fault),
          ["lose-reply", "none"],
          "the retry was answered: the name is taken",
        );
        // Without a wait too, the status is AWS's last word on it.
        assert.equal(run.doc.result.status, "SUCCEEDED");
        assert.match(run.doc.status_description, /^SUCCESS: execution /);
        assert.equal(run.doc.changed, true);
        assert.match(
          run.stderr,
          /an attempt whose answer was lost started it; AWS then called its name taken when the start was retried, and it has ended SUCCEEDED since/,
        );
        assert.doesNotMatch(run.stderr, /rerun:|already ran/);
      } finally {
        await relay.close();
      }
    }
  });

  test("a start whose answer was lost, then AWS's 'taken' on the retry, while DescribeExecution does not show the execution yet: looked up again, this start's own", async () => {
    const name = "e2e-task-rr-lost-hidden-1";
    const arn = executionArn("quick", name);
    const relay = await startLossyRelay(ep.url, [
      { operation: "StartExecution", fault: "lose-reply", after: () => ep.waitForExecution(arn) },
    ]);
    // DescribeExecution is eventually consistent: the first two looks do not find it.
    ep.consistency.set({ hiddenAfterStart: 2 });
    try {
      const run = await runBundle({
        fields: fields("quick", { endpoint_url: relay.url }),
        env: { UE_TASK_INSTANCE_ID: "rr-lost-hidden" },
      });

      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.result.executionArn, arn);
      assert.equal(run.doc.changed, true);
      assert.deepEqual(
        ep.requests
          .filter((r) => r.operation === "DescribeExecution" && r.resource === arn)
          .slice(0, 3)
          .map((r) => r.errorCode ?? "ok"),
        ["ExecutionDoesNotExist", "ExecutionDoesNotExist", "ok"],
      );
    } finally {
      ep.consistency.reset();
      await relay.close();
    }
    assert.deepEqual(await executionsNamed("quick", "e2e-task-rr-lost-hidden-"), [name]);
  });

  test("a start whose answer was lost, then AWS's 'taken' on the retry, then no look at the execution: exit 10 naming it, nothing more started", async () => {
    const name = "e2e-task-rr-lost-unseen-1";
    const arn = executionArn("quick", name);
    const relay = await startLossyRelay(ep.url, [
      { operation: "StartExecution", fault: "lose-reply", after: () => ep.waitForExecution(arn) },
    ]);
    try {
      // Every look at an execution fails (500, the SDK's retries too).
      ep.faults.set({ errorRate5xx: 1, operations: ["DescribeExecution"] });
      const run = await runBundle({
        fields: fields("quick", { endpoint_url: relay.url }),
        env: { UE_TASK_INSTANCE_ID: "rr-lost-unseen", AWS_MAX_ATTEMPTS: "2" },
      });
      assert.equal(run.code, 10, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc.status_description, /^CONNECTION_ERROR: /);
      assert.ok(
        run.doc.status_description.includes(
          `AWS gave no answer to an attempt of the start of execution ${name} and called its name taken when the start was retried, so this task may have started it: ${arn}`,
        ),
        run.doc.status_description,
      );
      assert.equal(run.doc.changed, false);
    } finally {
      ep.faults.reset();
      await relay.close();
    }
    assert.deepEqual(await executionsNamed("quick", "e2e-task-rr-lost-unseen-"), [name]);
  });

  test("a cancel while the run reads the execution AWS called taken after a lost answer: exit 27 naming it", async () => {
    const name = "e2e-task-rr-lost-cancel-1";
    const arn = executionArn("quick", name);
    const relay = await startLossyRelay(ep.url, [
      { operation: "StartExecution", fault: "lose-reply", after: () => ep.waitForExecution(arn) },
    ]);
    const from = ep.requests.length;
    try {
      ep.faults.set({ hang: { operations: ["DescribeExecution"] } });
      const run = await runBundle({
        fields: fields("quick", { endpoint_url: relay.url }),
        env: { UE_TASK_INSTANCE_ID: "rr-lost-cancel" },
        onStart: (child) => {
          // SIGTERM once the read of the execution (after the retry's "taken") began.
          const timer = setInterval(() => {
            if (!ep.requests.slice(from).some((r) => r.operation === "DescribeExecution")) return;
            clearInterval(timer);
            setTimeout(() => child.kill("SIGTERM"), 200);
          }, 20);
        },
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(
        run.doc.status_description,
        `CANCELLED: task cancelled while this run looked at execution ${name}, whose name AWS called taken when the start was retried after an attempt that got no answer; this task may have started it: ${arn}`,
      );
      assert.equal(run.doc.changed, false);
    } finally {
      ep.faults.reset();
      await relay.close();
    }
    assert.deepEqual(await executionsNamed("quick", "e2e-task-rr-lost-cancel-"), [name]);
  });

  test("a rerun whose first start attempt never reached AWS: the retry's 'taken' is the earlier run's execution, and the next run's starts", async () => {
    const input = JSON.stringify({ s: 2 });
    const first = executionArn("held", "e2e-task-rr-reset-rerun-1");
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: arns["held"],
        name: "e2e-task-rr-reset-rerun-1",
        input,
      }),
    );
    // Its Wait state puts its start seconds before this run's launch.
    await ep.waitForExecution(first);
    const relay = await startLossyRelay(ep.url, [{ operation: "StartExecution", fault: "reset" }]);
    try {
      const rerun = await runBundle({
        fields: fields("held", { input, endpoint_url: relay.url }),
        env: { UE_TASK_INSTANCE_ID: "rr-reset-rerun" },
      });
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(rerun.doc?.["result"].name, "e2e-task-rr-reset-rerun-2");
      assert.match(
        rerun.stderr,
        /rerun: the newest execution of this task instance, e2e-task-rr-reset-rerun-1, ended SUCCEEDED; starting e2e-task-rr-reset-rerun-2/,
      );
      await sfn.send(
        new StopExecutionCommand({ executionArn: rerun.doc?.["result"].executionArn }),
      );
    } finally {
      await relay.close();
    }
  });

  test("a host clock seconds off AWS's tells a first start from a relaunch all the same", async () => {
    const skewed = (ms: number) => ({
      NODE_OPTIONS: `--require ${SKEW}`,
      UE_TEST_CLOCK_SKEW_MS: String(ms),
      UE_TASK_INSTANCE_ID: "rr-skewed",
    });
    const input = JSON.stringify({ s: 30 });
    // A first start, the host 5 s ahead: AWS's start is "seconds before" the host's launch.
    const first = await runBundle({ fields: fields("held", { input }), env: skewed(5000) });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.doc?.["changed"], true);
    assert.match(first.stderr, /started execution /);
    // A relaunch 3 s later, the host 5 s behind: AWS's start is "after" the host's launch.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const relaunch = await runBundle({ fields: fields("held", { input }), env: skewed(-5000) });
    assert.equal(relaunch.code, 0, relaunch.stderr);
    assert.equal(relaunch.doc?.["changed"], false);
    assert.equal(relaunch.doc?.["result"].executionArn, first.doc?.["result"].executionArn);
    assert.match(relaunch.stderr, /re-attached to execution .*, started by an earlier launch/);
    await sfn.send(new StopExecutionCommand({ executionArn: first.doc?.["result"].executionArn }));
  });

  test("UE_EXECUTION_COUNT, where a scheduler passes it, is the run number: no look-up", async () => {
    const env = { UE_TASK_INSTANCE_ID: "rr-counted", UE_EXECUTION_COUNT: "5" };
    ep.clearRequests();
    const run = await runBundle({ fields: fields("quick"), env });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.doc?.["result"].name, "e2e-task-rr-counted-5");
    assert.ok(!ep.requests.some((r) => r.operation === "DescribeExecution"));
  });

  test("DescribeExecution denied on a rerun: exit 3 naming the permission, nothing started", async () => {
    const env = { UE_TASK_INSTANCE_ID: "rr-denied" };
    const first = await runBundle({ fields: fields("quick"), env });
    assert.equal(first.code, 0, first.stderr);
    const undo = ep.deny({ operation: "DescribeExecution" });
    try {
      const rerun = await runBundle({ fields: fields("quick"), env });
      assert.equal(rerun.code, 3, rerun.stderr);
      assertValidDoc(rerun.doc);
      assert.equal(rerun.doc.exit_code, 3);
      assert.equal(rerun.doc.changed, false);
      assert.match(
        rerun.doc.status_description,
        /^AUTHORIZATION_ERROR: states:DescribeExecution is needed: the name e2e-task-rr-denied-1 is taken, so this run is a rerun or a relaunch/,
      );
    } finally {
      undo();
    }
    assert.deepEqual(await executionsNamed("quick", "e2e-task-rr-denied-"), [
      "e2e-task-rr-denied-1",
    ]);
  });

  test("a cancel during a rerun's look-ups: exit 27, this run started nothing", async () => {
    const env = { UE_TASK_INSTANCE_ID: "rr-cancel-lookup" };
    const first = await runBundle({ fields: fields("quick"), env });
    assert.equal(first.code, 0, first.stderr);
    await ep.waitForExecution(first.doc?.["result"].executionArn);
    ep.faults.set({ hang: { operations: ["DescribeExecution"] } });
    const from = ep.requests.length;
    try {
      const rerun = await runBundle({
        fields: fields("quick"),
        env,
        onStart: (child) => {
          // SIGTERM once the look-ups (after AWS said e2e-task-rr-cancel-lookup-1 is taken) began.
          const timer = setInterval(() => {
            if (!ep.requests.slice(from).some((r) => r.operation === "DescribeExecution")) return;
            clearInterval(timer);
            setTimeout(() => child.kill("SIGTERM"), 200);
          }, 20);
        },
      });
      assert.equal(rerun.code, 27, rerun.stderr);
      assertValidDoc(rerun.doc);
      assert.equal(
        rerun.doc.status_description,
        "CANCELLED: task cancelled while this run looked up the task instance's executions (AWS said the name e2e-task-rr-cancel-lookup-1 is taken); this run started nothing",
      );
      assert.equal(rerun.doc.changed, false);
      assert.equal(rerun.doc.result, null);
    } finally {
      ep.faults.reset();
    }
    assert.deepEqual(await executionsNamed("quick", "e2e-task-rr-cancel-lookup-"), [
      "e2e-task-rr-cancel-lookup-1",
    ]);
  });

  test("EXPRESS: every run starts a new execution, and the log says so", async () => {
    const env = { UE_TASK_INSTANCE_ID: "rr-express" };
    const first = await runBundle({ fields: fields("express"), env });
    const second = await runBundle({ fields: fields("express"), env });
    for (const run of [first, second]) {
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stderr,
        /EXPRESS state machine: AWS neither refuses a repeated execution name/,
      );
    }
    assert.notEqual(first.doc?.["result"].executionArn, second.doc?.["result"].executionArn);
  });
});
