/**
 * End to end: cancel, maximum wait, rerun and redrive, re-attach and long waits, with the
 * bundle as a child process against the local endpoint.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";
import {
  describedOnce,
  HELD,
  type HeldTasks,
  holdTasks,
  releaseOnceDescribed,
} from "../helpers/held-task.ts";

const FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky";
const ROLE = "arn:aws:iam::123456789012:role/LongWait";

describe("task lifecycle, end to end", () => {
  let ep: LocalEndpoint;
  const arns: Record<string, string> = {};
  let flakyFailuresLeft = 0;
  let held: HeldTasks;

  before(async () => {
    ep = await startLocalEndpoint();
    held = holdTasks(ep);
    ep.registerTaskHandler(FLAKY, (input) => {
      if (flakyFailuresLeft > 0) {
        flakyFailuresLeft--;
        throw new TaskFailure("Upstream.Unavailable", "the upstream system is down");
      }
      return { processed: input };
    });
    arns["long"] = ep.createStateMachine({
      name: "long",
      definition: { StartAt: "Slow", States: { Slow: { Type: "Wait", Seconds: 120, End: true } } },
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
    arns["flakyThenLong"] = ep.createStateMachine({
      name: "flakyThenLong",
      definition: {
        StartAt: "Load",
        States: {
          Load: { Type: "Task", Resource: FLAKY, Next: "Slow" },
          Slow: { Type: "Wait", Seconds: 120, End: true },
        },
      },
    });
    arns["threeSeconds"] = ep.createStateMachine({
      name: "threeSeconds",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 3, End: true } } },
    });
    // Held until the test releases them (see endUnseen), not ended at a clock time.
    arns["succeedsWhenReleased"] = ep.createStateMachine({
      name: "succeedsWhenReleased",
      definition: {
        StartAt: "Hold",
        States: {
          Hold: { Type: "Task", Resource: HELD, Next: "Done" },
          Done: { Type: "Pass", Result: { finished: true }, End: true },
        },
      },
    });
    arns["failsAtOnce"] = ep.createStateMachine({
      name: "failsAtOnce",
      definition: {
        StartAt: "Broken",
        States: { Broken: { Type: "Fail", Error: "Batch.Broken", Cause: "input rejected" } },
      },
    });
    arns["failsWhenReleased"] = ep.createStateMachine({
      name: "failsWhenReleased",
      definition: {
        StartAt: "Hold",
        States: {
          Hold: { Type: "Task", Resource: HELD, Next: "Broken" },
          Broken: { Type: "Fail", Error: "Batch.Broken", Cause: "input rejected" },
        },
      },
    });
  });
  after(async () => {
    await ep.close();
  });

  const fields = (name: string, extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: arns[name],
    wait_for_success_or_failure: true,
    polling_interval: 1,
    ...extra,
  });

  /**
   * Send a signal once the program is waiting for the execution: the endpoint has answered
   * its first status check.
   */
  const signalWhenRunning =
    (signal: NodeJS.Signals, also?: () => void) => (child: ChildProcess, file: string) => {
      void (async () => {
        const arn = await waitForOutputField(file, "execution_arn");
        if (!(await describedOnce(ep, arn, child))) return;
        child.kill(signal);
        also?.();
      })();
    };

  /**
   * Let the program see the execution RUNNING once, then keep its status checks from seeing
   * the end (each one waits 4 s, then fails with a 500) and end the execution: the end falls
   * between two checks, as it does when the limit or a cancel comes first. Each step follows
   * what the program did, not the clock: the execution waits in a held task until its first
   * look was answered, however slowly the program started; it ends only once no check that
   * escaped the fault is still being answered; and the fault stays until the program's next
   * check has met it (the limit or the cancel cuts that check short, and the last look
   * afterwards is answered).
   */
  const endUnseen = async (file: string, child: ChildProcess): Promise<string> => {
    const ours = ep.requests.length;
    const arn = await waitForOutputField(file, "execution_arn");
    if (!(await describedOnce(ep, arn, child))) return arn;
    const running = () => child.exitCode === null && child.signalCode === null;
    const pause = () => new Promise((r) => setTimeout(r, 5));
    ep.faults.set({ latencyMs: 4000, errorRate5xx: 1, operations: ["DescribeExecution"] });
    const checks = (from: number, faulted: boolean) =>
      ep.requests
        .slice(from)
        .some(
          (r) =>
            r.operation === "DescribeExecution" &&
            (faulted ? r.fault !== undefined : r.status === 0 && r.fault === undefined),
        );
    while (checks(ours, false) && running()) await pause();
    const from = ep.requests.length;
    held.release(arn);
    await ep.waitForExecution(arn);
    while (!checks(from, true) && running()) await pause();
    ep.faults.reset();
    return arn;
  };

  const endedMeanwhile = [
    {
      when: "maximum wait reached (Stop Execution)",
      machine: "succeedsWhenReleased",
      extra: { maximum_wait: 3 },
      code: 0,
      status: "SUCCEEDED",
      stopCalled: true,
    },
    {
      when: "maximum wait reached (Leave Execution Running)",
      machine: "succeedsWhenReleased",
      extra: { maximum_wait: 3, maximum_wait_action: ["Leave Execution Running"] },
      code: 0,
      status: "SUCCEEDED",
      stopCalled: false,
    },
    {
      when: "maximum wait reached (Stop Execution), FAILED",
      machine: "failsWhenReleased",
      extra: { maximum_wait: 3 },
      code: 23,
      status: "FAILED",
      stopCalled: true,
    },
    {
      when: "SIGTERM (Stop Execution on Cancel)",
      machine: "succeedsWhenReleased",
      extra: {},
      signal: true,
      code: 0,
      status: "SUCCEEDED",
      stopCalled: true,
    },
    {
      when: "SIGTERM (Stop Execution on Cancel off)",
      machine: "succeedsWhenReleased",
      extra: { stop_execution_on_cancel: false },
      signal: true,
      code: 0,
      status: "SUCCEEDED",
      stopCalled: false,
    },
    {
      when: "Monitor Maximum Wait reached",
      machine: "succeedsWhenReleased",
      monitor: { monitor_maximum_wait: 3 },
      code: 0,
      status: "SUCCEEDED",
      stopCalled: false,
    },
    {
      when: "SIGTERM of Monitor (Stop Monitored Execution on Cancel)",
      machine: "succeedsWhenReleased",
      monitor: { stop_monitored_on_cancel: true },
      signal: true,
      code: 0,
      status: "SUCCEEDED",
      stopCalled: true,
    },
  ];
  /** Fields that monitor an execution the test starts itself. */
  const monitoring = async (machine: string, extra: Record<string, unknown>) => {
    const sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arns[machine] }));
    return {
      action: ["Monitor Execution"],
      endpoint_url: ep.url,
      credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
      target_execution_arn: started.executionArn,
      monitor_polling_interval: 60,
      ...extra,
    };
  };
  for (const c of endedMeanwhile) {
    test(`${c.when} after the execution ended ${c.status} unseen: its own end, exit ${c.code}`, async () => {
      let arn = "";
      const run = await runBundle({
        fields: c.monitor
          ? await monitoring(c.machine, c.monitor)
          : fields(c.machine, { polling_interval: 60, ...c.extra }),
        env: { UE_WAIT_SHARING: "off" },
        onStart: (child, file) => {
          void endUnseen(file, child).then((ended) => {
            arn = ended;
            if (c.signal) child.kill("SIGTERM");
          });
        },
      });
      assert.equal(run.code, c.code, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, c.code);
      assert.equal(run.doc.result.executionArn, arn);
      assert.equal(run.doc.result.status, c.status);
      assert.equal(run.doc.changed, !c.monitor, "changed: the start only");
      assert.ok(run.doc.result.stopDate, "the end's stop date");
      assert.equal(ep.getExecution(arn)?.status, c.status, "not stopped");
      assert.equal(run.outputFields.at(-1)?.["execution_status"], c.status);
      if (c.status === "SUCCEEDED") {
        assert.deepEqual(run.doc.result.outputParsed, { finished: true });
        // The wording docs/controller.md quotes ("The last look").
        assert.match(
          run.doc.status_description,
          c.signal
            ? /^SUCCESS: execution .* SUCCEEDED \(it had ended when the task was cancelled\)$/
            : /^SUCCESS: execution .* SUCCEEDED \(it had ended when the maximum wait of 3 s was reached\)$/,
        );
      } else {
        assert.equal(run.doc.result.error, "Batch.Broken");
        assert.equal(run.doc.result.failedState, "Broken");
      }
      const calls = ep.requests.filter((r) => r.resource === arn).map((r) => r.operation);
      assert.equal(calls.includes("StopExecution"), c.stopCalled);
      // The last look comes after the stop.
      assert.equal(
        calls.lastIndexOf("DescribeExecution") > calls.lastIndexOf("StopExecution"),
        true,
      );
    });
  }

  test("SIGTERM while waiting stops the execution and writes the output", async () => {
    // The cancel comes while a status check is under way, held at the endpoint until the
    // program has ended, and with a request timeout of an hour: a program that finished the
    // check before it acted on the cancel would never end, and the run's own time limit
    // would fail the test. No clock is read.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let heldCheck = -1;
    try {
      const run = await runBundle({
        fields: fields("long"),
        env: { UE_TASK_NAME: "Cancel Me", UE_AWS_REQUEST_TIMEOUT_MS: "3600000" },
        onStart: (child, file) => {
          child.on("exit", () => release());
          void (async () => {
            const arn = await waitForOutputField(file, "execution_arn");
            if (!(await describedOnce(ep, arn, child))) return;
            const from = ep.requests.length;
            ep.faults.set({ holdUntil: held, operations: ["DescribeExecution"] });
            const running = () => child.exitCode === null && child.signalCode === null;
            while (running() && heldCheck < 0) {
              await new Promise((r) => setTimeout(r, 20));
              const i = ep.requests
                .slice(from)
                .findIndex((r) => r.operation === "DescribeExecution" && r.fault === "held");
              if (i >= 0) heldCheck = from + i;
            }
            // Only that check is held: the stop and the last look are answered.
            ep.faults.reset();
            child.kill("SIGTERM");
          })();
        },
      });
      assert.ok(heldCheck >= 0, "the signal came while a status check was under way");
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc.status_description, /^CANCELLED: .*stopped/);
      const arn = run.doc.result.executionArn as string;
      const execution = ep.getExecution(arn);
      assert.equal(execution?.status, "ABORTED");
      assert.match(execution?.cause ?? "", /Cancel Me/);
      assert.equal(run.doc.result.status, "ABORTED");
      // As AWS shows it after the stop, in the document and the output-only field.
      assert.equal(run.doc.result.error, "ue-aws-stepfunctions.Cancelled");
      assert.ok(run.doc.result.stopDate);
      assert.equal(run.outputFields.at(-1)?.["execution_status"], "ABORTED");
      // After the check the cancel cut short: the stop, then the one last look; no other check.
      const afterCut = ep.requests
        .slice(heldCheck + 1)
        .filter((r) => r.resource === arn)
        .map((r) => r.operation);
      assert.deepEqual(afterCut, ["StopExecution", "DescribeExecution"]);
    } finally {
      release();
      ep.faults.reset();
    }
  });

  for (const signal of ["SIGINT", "SIGHUP"] as const) {
    test(`${signal} cancels the same way`, async () => {
      const run = await runBundle({ fields: fields("long"), onStart: signalWhenRunning(signal) });
      assert.equal(run.code, 27, run.stderr);
      assert.equal(ep.getExecution(run.doc?.["result"].executionArn)?.status, "ABORTED");
    });
  }

  test("with Stop Execution on Cancel off, the execution is left running", async () => {
    const run = await runBundle({
      fields: fields("long", { stop_execution_on_cancel: false }),
      onStart: signalWhenRunning("SIGTERM"),
    });
    assert.equal(run.code, 27, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /left running/);
    const arn = run.doc.result.executionArn as string;
    assert.equal(ep.getExecution(arn)?.status, "RUNNING");
    assert.ok(!ep.requests.some((r) => r.operation === "StopExecution" && r.resource === arn));
  });

  // The cancel comes once the StartExecution has reached the endpoint, so it aborts a call
  // that was sent, however slowly the program sends it: the program chose the name, so it
  // knows the execution's ARN without the answer.
  const signalDuringStart = () => {
    const from = ep.requests.length;
    return (child: ChildProcess) => {
      const timer = setInterval(() => {
        if (ep.requests.slice(from).some((r) => r.operation === "StartExecution")) {
          clearInterval(timer);
          child.kill("SIGTERM");
        }
      }, 20);
      child.on("exit", () => clearInterval(timer));
    };
  };
  /**
   * Send SIGTERM once the endpoint's log from request `from` on satisfies `seen`: a cancel
   * while what it shows is under way.
   */
  const signalOnceSeen = (
    child: ChildProcess,
    from: number,
    seen: (calls: LocalEndpoint["requests"]) => boolean,
  ) => {
    const timer = setInterval(() => {
      if (seen(ep.requests.slice(from))) {
        clearInterval(timer);
        child.kill("SIGTERM");
      }
    }, 20);
    child.on("exit", () => clearInterval(timer));
  };

  const executionArnOf = (
    machine: string,
    run: { outputFields: Array<Record<string, string>> },
  ) => {
    const name = run.outputFields.find((f) => f["generated_execution_name"])?.[
      "generated_execution_name"
    ];
    assert.ok(name, "the execution name was published");
    return `${(arns[machine] as string).replace(":stateMachine:", ":execution:")}:${name}`;
  };

  /**
   * StartExecution held at the endpoint (holdUntil) from its arrival until `carryOut` says
   * (or the program has ended): the SIGTERM goes once it has arrived, so the cancel comes
   * while the start is under way however slowly the program reacts, and the start is carried
   * out after what the test waits for, not after a latency the program could outlast.
   */
  const heldStart = (carryOutWhen: (from: number) => boolean) => {
    let carryOut = () => {};
    const held = new Promise<void>((resolve) => {
      carryOut = resolve;
    });
    ep.faults.set({ holdUntil: held, operations: ["StartExecution"] });
    const from = ep.requests.length;
    const state = { from, signalled: false, carryOut };
    const onStart = (child: ChildProcess) => {
      const timer = setInterval(() => {
        const calls = ep.requests.slice(from);
        if (!state.signalled && calls.some((r) => r.operation === "StartExecution")) {
          state.signalled = true;
          child.kill("SIGTERM");
        }
        if (state.signalled && carryOutWhen(from)) {
          clearInterval(timer);
          carryOut();
        }
      }, 20);
      child.on("exit", () => {
        clearInterval(timer);
        carryOut();
      });
    };
    return { state, onStart };
  };

  test("SIGTERM while StartExecution is under way: the execution it started is stopped by its ARN", async () => {
    // Carried out once the program's StopExecution has found no execution: a program that
    // waited for the start's answer before it stopped would never end (its request timeout is
    // an hour here), and the run's own time limit would fail the test.
    const { state, onStart } = heldStart((from) =>
      ep.requests
        .slice(from)
        .some((r) => r.operation === "StopExecution" && r.errorCode === "ExecutionDoesNotExist"),
    );
    const { from } = state;
    try {
      const run = await runBundle({
        fields: fields("long"),
        env: { UE_AWS_REQUEST_TIMEOUT_MS: "3600000" },
        onStart,
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      const arn = executionArnOf("long", run);
      assert.match(run.doc.status_description, /^CANCELLED: task cancelled; execution \S+ stopped/);
      assert.equal(run.doc.changed, true);
      assert.equal(run.doc.result.executionArn, arn);
      assert.equal(run.doc.result.status, "ABORTED");
      assert.equal(run.outputFields.at(-1)?.["execution_arn"], arn);
      assert.equal(run.outputFields.at(-1)?.["execution_status"], "ABORTED");
      const execution = ep.getExecution(arn);
      assert.equal(execution?.status, "ABORTED");
      assert.equal(execution?.error, "ue-aws-stepfunctions.Cancelled");
      // Asked before the start was carried out, StopExecution found none and asked again
      // (within the stop's own bound: a stop that outlasted it would report none above).
      const stops = ep.requests.slice(from).filter((r) => r.operation === "StopExecution");
      assert.equal(stops[0]?.errorCode, "ExecutionDoesNotExist");
      assert.equal(stops.at(-1)?.status, 200);
      assert.doesNotMatch(run.stderr, /ERROR/);
    } finally {
      state.carryOut();
      ep.faults.reset();
    }
  });

  test("SIGTERM while StartExecution is under way, Stop Execution on Cancel off: left running, the ARN named", async () => {
    // Carried out once the program has ended.
    const { state, onStart } = heldStart(() => false);
    const { from } = state;
    try {
      const run = await runBundle({
        fields: fields("long", { stop_execution_on_cancel: false }),
        onStart,
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      const arn = executionArnOf("long", run);
      // The wording docs/controller.md quotes, with the ARN an operator looks for.
      const name = arn.split(":").at(-1);
      assert.equal(
        run.doc.status_description,
        `CANCELLED: task cancelled before the start of execution ${name} was confirmed by AWS; it may have started and is then left running (Stop Execution on Cancel is off): ${arn}`,
      );
      assert.equal(run.doc.changed, false);
      // The endpoint carries the start out once the program has ended: the execution runs on.
      const start = ep.requests.slice(from).find((r) => r.operation === "StartExecution");
      while (start?.status === 0) await new Promise((r) => setTimeout(r, 20));
      assert.equal(start?.status, 200);
      assert.equal(ep.getExecution(arn)?.status, "RUNNING");
      assert.ok(!ep.requests.slice(from).some((r) => r.operation === "StopExecution"));
    } finally {
      state.carryOut();
      ep.faults.reset();
    }
  });

  test("SIGTERM while StartExecution hangs (never carried out): it did not start, no error", async () => {
    ep.faults.set({ hang: { operations: ["StartExecution"] } });
    const from = ep.requests.length;
    try {
      const run = await runBundle({ fields: fields("long"), onStart: signalDuringStart() });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      const arn = executionArnOf("long", run);
      assert.match(
        run.doc.status_description,
        /^CANCELLED: task cancelled before the start of execution \S+ was confirmed by AWS; it did not start \(no execution of that name exists\), unless the state machine is of type EXPRESS, whose executions StopExecution does not see$/,
      );
      assert.equal(run.doc.changed, false);
      assert.equal(run.doc.result, null);
      assert.ok(!run.outputFields.some((f) => f["execution_arn"]));
      assert.doesNotMatch(run.stderr, /ERROR/);
      const stops = ep.requests.slice(from).filter((r) => r.operation === "StopExecution");
      assert.ok(stops.length > 1, "StopExecution was asked again");
      assert.ok(stops.every((r) => r.errorCode === "ExecutionDoesNotExist" && r.resource === arn));
    } finally {
      ep.faults.reset();
    }
  });

  test("a second signal during the stop ends at once and still writes the output", async () => {
    ep.faults.set({ hang: { operations: ["StopExecution"] } });
    const from = ep.requests.length;
    let stopArrived = false;
    try {
      const run = await runBundle({
        fields: fields("long"),
        onStart: (child, file) => {
          void (async () => {
            // The first signal once the program waits (its first check answered), the second
            // once its StopExecution has reached the endpoint, which never answers it.
            const arn = await waitForOutputField(file, "execution_arn");
            if (!(await describedOnce(ep, arn, child))) return;
            child.kill("SIGTERM");
            const running = () => child.exitCode === null && child.signalCode === null;
            while (running() && !stopArrived) {
              await new Promise((r) => setTimeout(r, 20));
              stopArrived = ep.requests.slice(from).some((r) => r.operation === "StopExecution");
            }
            child.kill("SIGTERM");
          })();
        },
      });
      assert.ok(stopArrived, "the second signal came while the stop was under way");
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc.status_description, /cancelled again/);
      assert.ok(run.doc.result.executionArn);
    } finally {
      ep.faults.reset();
    }
  });

  test("a status check whose connection drops without an answer is sent again at once, not failed", async () => {
    // Every second DescribeExecution's connection is destroyed before any answer.
    ep.faults.set({ dropRate: 0.5, operations: ["DescribeExecution"] });
    try {
      const run = await runBundle({
        fields: fields("threeSeconds", { polling_interval: 1 }),
        env: { UE_DEBUG: "true" },
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      // A dropped call is logged before its body is read: by its operation only.
      const dropped = ep.requests.filter(
        (r) => r.operation === "DescribeExecution" && r.fault === "drop",
      );
      assert.ok(dropped.length >= 1, "some checks were dropped");
      assert.doesNotMatch(run.stderr, /failed attempt|status check .*failed/i);
    } finally {
      ep.faults.reset();
    }
  });

  test("maximum wait reached with Stop Execution: exit 26, execution stopped", async () => {
    const run = await runBundle({ fields: fields("long", { maximum_wait: 2 }) });
    assert.equal(run.code, 26, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /maximum wait of 2 s reached/);
    assert.equal(ep.getExecution(run.doc.result.executionArn)?.status, "ABORTED");
    assert.equal(run.doc.result.status, "ABORTED");
    assert.equal(run.doc.result.error, "ue-aws-stepfunctions.MaximumWait");
    assert.ok(run.doc.result.stopDate);
    assert.equal(run.outputFields.at(-1)?.["execution_status"], "ABORTED");
  });

  test("maximum wait reached while a status check hangs: the limit cuts the check short", async () => {
    // Every DescribeExecution hangs: without the cut, the task would wait for the request
    // timeout (an hour here) times the SDK's attempts before its limit of 2 s counted, and
    // the run's own time limit would fail the test. No clock is read.
    ep.faults.set({ hang: { operations: ["DescribeExecution"] } });
    try {
      const run = await runBundle({
        fields: fields("long", { maximum_wait: 2 }),
        env: { UE_AWS_REQUEST_TIMEOUT_MS: "3600000" },
      });
      assert.equal(run.code, 26, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc.status_description, /maximum wait of 2 s reached; execution .* stopped/);
      assert.equal(ep.getExecution(run.doc.result.executionArn)?.status, "ABORTED");
      // The last look hung too, and its own bound ended it.
      assert.match(run.doc.status_description, /DescribeExecution gave no answer within 3 s/);
    } finally {
      ep.faults.reset();
    }
  });

  // A role's credentials renewed while waiting, and STS stops answering: the SDK's abort
  // reaches sockets and its retry sleeps, not the credential fetch a call waits for, so
  // without a cut the task would sit out the request timeout (an hour here) times the
  // attempts, for the status check, then the stop, then the last look, and the run's own
  // time limit would fail the test. No clock is read.
  for (const c of [
    { when: "SIGTERM", extra: {}, code: 27, description: /^CANCELLED: task cancelled; / },
    { when: "the maximum wait", extra: { maximum_wait: 3 }, code: 26, description: /maximum wait/ },
  ]) {
    test(`${c.when} while AssumeRole hangs: exit ${c.code} within seconds, with a document`, async () => {
      ep.sts.setExpirySeconds(1); // every call fetches the role's credentials again
      try {
        const run = await runBundle({
          fields: fields("long", { role_based_access: true, role_arn: ROLE, ...c.extra }),
          env: { AWS_ENDPOINT_URL_STS: ep.url, UE_AWS_REQUEST_TIMEOUT_MS: "3600000" },
          timeoutMs: 45_000,
          onStart: (child, file) => {
            void waitForOutputField(file, "execution_arn").then(() => {
              const from = ep.requests.length;
              ep.faults.set({ hang: { operations: ["AssumeRole"] } });
              // While a renewal of the role's credentials hangs.
              if (c.code === 27) {
                signalOnceSeen(child, from, (calls) =>
                  calls.some((r) => r.operation === "AssumeRole"),
                );
              }
            });
          },
        });
        assert.equal(run.code, c.code, run.stderr);
        assertValidDoc(run.doc);
        assert.match(run.doc.status_description, c.description);
        assert.match(run.doc.result.executionArn, /:execution:long:/);
        // The log says why the stop failed: its bound, not an SDK error name.
        assert.match(
          run.stderr,
          /could not stop execution \S+: StopExecution gave no answer within 5 s/,
        );
      } finally {
        ep.faults.reset();
        ep.sts.setExpirySeconds(undefined);
      }
    });
  }

  test("SIGTERM while the credentials AWS called expired are fetched again and STS hangs: exit 27 within seconds", async () => {
    // As above: without the cut, the request timeout (an hour here) and the run's own time
    // limit.
    const issued = ep.sts.issued.length;
    const from = ep.requests.length;
    try {
      const run = await runBundle({
        fields: fields("long", { role_based_access: true, role_arn: ROLE }),
        env: { AWS_ENDPOINT_URL_STS: ep.url, UE_AWS_REQUEST_TIMEOUT_MS: "3600000" },
        timeoutMs: 45_000,
        onStart: (child, file) => {
          void waitForOutputField(file, "execution_arn").then(() => {
            // The next status check is answered ExpiredTokenException; fetching new ones hangs.
            const hangFrom = ep.requests.length;
            ep.faults.set({ hang: { operations: ["AssumeRole"] } });
            for (const c of ep.sts.issued.slice(issued)) ep.expireCredentials(c.accessKeyId);
            // Once a check was refused for expired credentials and their renewal hangs.
            signalOnceSeen(child, hangFrom, (calls) => {
              const refused = calls.findIndex((r) => r.errorCode === "ExpiredTokenException");
              return refused >= 0 && calls.slice(refused).some((r) => r.operation === "AssumeRole");
            });
          });
        },
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc.status_description, /^CANCELLED: task cancelled; /);
      assert.ok(
        ep.requests
          .slice(from)
          .some(
            (r) => r.operation === "DescribeExecution" && r.errorCode === "ExpiredTokenException",
          ),
        "a status check was answered ExpiredTokenException",
      );
    } finally {
      ep.faults.reset();
    }
  });

  test("SIGTERM while the failure details are read (GetExecutionHistory hangs): exit 23 within seconds", async () => {
    // Without the cut, the hung read would last the request timeout (an hour here) and the
    // run's own time limit would fail the test. No clock is read.
    ep.faults.set({ hang: { operations: ["GetExecutionHistory"] } });
    const from = ep.requests.length;
    try {
      const run = await runBundle({
        fields: fields("failsAtOnce"),
        env: { UE_AWS_REQUEST_TIMEOUT_MS: "3600000" },
        timeoutMs: 45_000,
        onStart: (child) => {
          const timer = setInterval(() => {
            if (ep.requests.slice(from).some((r) => r.operation === "GetExecutionHistory")) {
              clearInterval(timer);
              child.kill("SIGTERM");
            }
          }, 20);
          child.on("exit", () => clearInterval(timer));
        },
      });
      assert.equal(run.code, 23, run.stderr);
      assertValidDoc(run.doc);
      // The end DescribeExecution showed; the history (the failed state's name) is a bonus.
      assert.equal(run.doc.result.status, "FAILED");
      assert.equal(run.doc.result.error, "Batch.Broken");
      assert.match(run.stderr, /cannot read the execution history for failure details: cut short/);
    } finally {
      ep.faults.reset();
    }
  });

  test("maximum wait reached with Leave Execution Running: exit 26, execution still running", async () => {
    const run = await runBundle({
      fields: fields("long", { maximum_wait: 2, maximum_wait_action: ["Leave Execution Running"] }),
    });
    assert.equal(run.code, 26, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /left running/);
    assert.equal(ep.getExecution(run.doc.result.executionArn)?.status, "RUNNING");
  });

  test("rerun with Redrive Failed Execution resumes the failed execution on the same ARN", async () => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: "redrive1" };
    const redrive = { rerun_behaviour: ["Redrive Failed Execution"] };
    const first = await runBundle({
      fields: fields("flaky", redrive),
      env: { ...env, UE_EXECUTION_COUNT: "1" },
    });
    assert.equal(first.code, 23, first.stderr);
    assert.equal(first.doc?.["result"].failedState, "Load");
    const rerun = await runBundle({
      fields: fields("flaky", redrive),
      env: { ...env, UE_EXECUTION_COUNT: "2" },
    });
    assert.equal(rerun.code, 0, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.equal(rerun.doc.result.executionArn, first.doc?.["result"].executionArn);
    assert.equal(rerun.doc.result.status, "SUCCEEDED");
    assert.equal(ep.getExecution(rerun.doc.result.executionArn)?.redriveCount, 1);
    assert.match(rerun.stderr, /redrove execution/);
    assert.ok(
      rerun.outputFields.some((l) => l["execution_arn"] === first.doc?.["result"].executionArn),
    );
  });

  test("a rerun's RedriveExecution never answered, even on retry: exit 10 naming the execution it may have redriven", async () => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: "redriveNoAnswer" };
    const redrive = { rerun_behaviour: ["Redrive Failed Execution"] };
    const first = await runBundle({ fields: fields("flaky", redrive), env });
    assert.equal(first.code, 23, first.stderr);
    const arn = first.doc?.["result"].executionArn as string;
    ep.faults.set({ loseReplies: 10, operations: ["RedriveExecution"] });
    let rerun: Awaited<ReturnType<typeof runBundle>>;
    try {
      rerun = await runBundle({
        fields: fields("flaky", redrive),
        env: { ...env, AWS_MAX_ATTEMPTS: "2" },
      });
    } finally {
      ep.faults.reset();
    }
    assert.equal(rerun.code, 10, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.equal(ep.getExecution(arn)?.redriveCount, 1, "the redrive was carried out");
    assert.match(rerun.doc.status_description, /^CONNECTION_ERROR: /);
    assert.ok(
      rerun.doc.status_description.includes(
        `AWS gave no answer to the redrive of execution ${arn.split(":").at(-1)}, so it may have been redriven: ${arn}; a rerun of this task instance re-attaches to it while it runs`,
      ),
      rerun.doc.status_description,
    );
    assert.equal(rerun.doc.changed, false);
  });

  /**
   * A rerun whose RedriveExecution the endpoint holds (holdUntil) or never answers (hang): the
   * SIGTERM goes once the call has arrived, so the cancel comes while the redrive is in flight
   * however slowly the program or the test runs. A held redrive is carried out once the
   * program, after the signal, has read the execution as it was before the redrive (or once it
   * has ended).
   */
  const cancelledRedrive = async (hang: boolean) => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: `redriveCancel${hang ? "Hang" : "Held"}` };
    const redrive = { rerun_behaviour: ["Redrive Failed Execution"] };
    const first = await runBundle({
      fields: fields("flakyThenLong", redrive),
      env: { ...env, UE_EXECUTION_COUNT: "1" },
    });
    assert.equal(first.code, 23, first.stderr);
    const arn = first.doc?.["result"].executionArn as string;
    let carryOut = () => {};
    const held = new Promise<void>((resolve) => {
      carryOut = resolve;
    });
    ep.faults.set(
      hang
        ? { hang: { operations: ["RedriveExecution"] } }
        : { holdUntil: held, operations: ["RedriveExecution"] },
    );
    const from = ep.requests.length;
    /** Where in the endpoint's log: the redrive the signal cut off; the read the hold waited for. */
    const seen = { redrive: -1, readBeforeCarriedOut: -1 };
    try {
      const rerun = await runBundle({
        fields: fields("flakyThenLong", redrive),
        env: { ...env, UE_EXECUTION_COUNT: "2" },
        onStart: (child) => {
          const timer = setInterval(() => {
            const calls = ep.requests;
            if (seen.redrive < 0) {
              seen.redrive = calls.findIndex(
                (r, i) => i >= from && r.operation === "RedriveExecution",
              );
              if (seen.redrive < 0) return;
              child.kill("SIGTERM");
            }
            seen.readBeforeCarriedOut = calls.findIndex(
              (r, i) => i > seen.redrive && r.operation === "DescribeExecution" && r.status === 200,
            );
            if (seen.readBeforeCarriedOut >= 0) {
              clearInterval(timer);
              carryOut();
            }
          }, 20);
          child.on("exit", () => {
            clearInterval(timer);
            carryOut();
          });
        },
      });
      return { rerun, arn, from, seen };
    } finally {
      carryOut();
      ep.faults.reset();
    }
  };

  test("SIGTERM while RedriveExecution is under way (held at the endpoint): the redriven execution is stopped once its redrive shows", async () => {
    const { rerun, arn, from, seen } = await cancelledRedrive(false);
    assert.equal(rerun.code, 27, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.doesNotMatch(rerun.stderr, /ERROR/);
    const name = arn.split(":").at(-1);
    // The cancel's path for a redrive AWS had not answered, not a stop while waiting.
    assert.equal(
      rerun.doc.status_description,
      `CANCELLED: task cancelled; execution ${name} stopped (it had been redriven, AWS had not confirmed it yet)`,
    );
    assert.equal(rerun.doc.changed, true);
    assert.equal(rerun.doc.result.executionArn, arn);
    assert.equal(rerun.doc.result.status, "ABORTED");
    assert.equal(rerun.outputFields.at(-1)?.["execution_arn"], arn);
    assert.equal(rerun.outputFields.at(-1)?.["execution_status"], "ABORTED");
    const execution = ep.getExecution(arn);
    assert.equal(execution?.redriveCount, 1, "the held redrive was carried out");
    assert.equal(execution?.status, "ABORTED");
    assert.equal(execution?.error, "ue-aws-stepfunctions.Cancelled");
    const calls = ep.requests.slice(from);
    const at = (i: number) => i - from;
    assert.equal(calls[at(seen.redrive)]?.fault, "held");
    // Read before the redrive was carried out (still FAILED), the execution was read again
    // until the redrive showed, and only then stopped.
    assert.ok(seen.readBeforeCarriedOut > seen.redrive, "read after the signal, while held");
    const stops = calls.filter((r) => r.operation === "StopExecution");
    assert.equal(stops.length, 1, JSON.stringify(stops));
    assert.equal(stops[0]?.status, 200);
    assert.equal(stops[0]?.resource, arn);
    const stopAt = calls.indexOf(stops[0] as (typeof calls)[number]);
    assert.ok(
      calls
        .slice(at(seen.readBeforeCarriedOut) + 1, stopAt)
        .some((r) => r.operation === "DescribeExecution"),
      "read again before the stop",
    );
  });

  test("SIGTERM while RedriveExecution hangs (never carried out): not redriven", async () => {
    const { rerun, arn, from, seen } = await cancelledRedrive(true);
    assert.equal(rerun.code, 27, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.doesNotMatch(rerun.stderr, /ERROR/);
    assert.equal(
      rerun.doc.status_description,
      `CANCELLED: task cancelled before the redrive of execution ${arn.split(":").at(-1)} was confirmed by AWS; it was not redriven (AWS shows it as before the redrive): ${arn}`,
    );
    assert.equal(rerun.doc.changed, false);
    const execution = ep.getExecution(arn);
    assert.equal(execution?.redriveCount, 0);
    assert.equal(execution?.status, "FAILED");
    const calls = ep.requests.slice(from);
    assert.equal(calls[seen.redrive - from]?.fault, "hang");
    assert.ok(!calls.some((r) => r.operation === "StopExecution"));
    // Looked at again after short pauses before being called not redriven.
    assert.ok(
      calls.filter((r, i) => i > seen.redrive - from && r.operation === "DescribeExecution")
        .length > 1,
    );
  });

  test("rerun with Redrive Failed Execution, not waiting, says it redrove the execution", async () => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: "redrive3" };
    const redrive = { rerun_behaviour: ["Redrive Failed Execution"] };
    const first = await runBundle({ fields: fields("flaky", redrive), env });
    assert.equal(first.code, 23, first.stderr);
    const arn = first.doc?.["result"].executionArn as string;
    const rerun = await runBundle({
      fields: fields("flaky", { ...redrive, wait_for_success_or_failure: false }),
      env,
    });
    assert.equal(rerun.code, 0, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.match(
      rerun.doc.status_description,
      /^SUCCESS: execution .*-1 redriven \(rerun: .*-1 had ended FAILED\)$/,
    );
    assert.equal(rerun.doc.changed, true);
    assert.equal(rerun.doc.result.executionArn, arn);
    assert.equal(rerun.doc.result.status, "RUNNING");
    assert.equal(rerun.doc.result.startDate, first.doc?.["result"].startDate);
    assert.equal(rerun.doc.result.redriveCount, 1);
    assert.equal(rerun.doc.result.redriveDate, ep.getExecution(arn)?.redriveDate?.toISOString());
    assert.equal(rerun.outputFields.at(-1)?.["execution_arn"], arn);
    assert.equal(rerun.outputFields.at(-1)?.["execution_status"], "RUNNING");
    assert.ok(
      !ep.requests.some((r) => r.operation === "StartExecution" && r.resource?.endsWith("-2")),
      "nothing started",
    );
    assert.equal((await ep.waitForExecution(arn)).status, "SUCCEEDED");
  });

  test("rerun with the default behaviour starts a new execution", async () => {
    flakyFailuresLeft = 1;
    const env = { UE_TASK_INSTANCE_ID: "rerun1" };
    const first = await runBundle({
      fields: fields("flaky"),
      env: { ...env, UE_EXECUTION_COUNT: "1" },
    });
    assert.equal(first.code, 23);
    const rerun = await runBundle({
      fields: fields("flaky"),
      env: { ...env, UE_EXECUTION_COUNT: "2" },
    });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.notEqual(rerun.doc?.["result"].executionArn, first.doc?.["result"].executionArn);
    assert.match(rerun.doc?.["result"].name, /-2$/);
    assert.equal(ep.getExecution(first.doc?.["result"].executionArn)?.status, "FAILED");
  });

  test("redrive falls back to a new execution when the previous one succeeded", async () => {
    const env = { UE_TASK_INSTANCE_ID: "redrive2" };
    const redrive = { rerun_behaviour: ["Redrive Failed Execution"] };
    const first = await runBundle({
      fields: fields("flaky", redrive),
      env: { ...env, UE_EXECUTION_COUNT: "1" },
    });
    assert.equal(first.code, 0, first.stderr);
    const rerun = await runBundle({
      fields: fields("flaky", redrive),
      env: { ...env, UE_EXECUTION_COUNT: "2" },
    });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.notEqual(rerun.doc?.["result"].executionArn, first.doc?.["result"].executionArn);
    assert.match(rerun.stderr, /not redriven: it is SUCCEEDED/);
  });

  test("relaunch after an agent restart re-attaches to the waiting execution", async () => {
    // The execution waits in a held task until the relaunched program has looked at it: the
    // relaunch comes before its end however slowly either process runs.
    const env = { UE_TASK_INSTANCE_ID: "restart1" };
    const killed = await runBundle({
      fields: fields("succeedsWhenReleased"),
      env,
      onStart: (child, file) => {
        void waitForOutputField(file, "execution_arn").then(() => child.kill("SIGKILL"));
      },
    });
    assert.equal(killed.signal, "SIGKILL");
    const arn = killed.outputFields.find((l) => l["execution_arn"])?.["execution_arn"];
    assert.ok(arn, "the execution ARN was on disk before the program died");
    const first = ep.getExecution(arn);
    assert.equal(first?.status, "RUNNING");
    // AWS answers the relaunch's StartExecution (same name and input) with the running
    // execution; the program tells that from a start of its own by the start date, older than
    // its launch by more than a second. The relaunch comes later than that (a lower bound,
    // which a slow machine only lengthens: the held execution cannot end meanwhile).
    const gap = (first?.startDate.getTime() ?? 0) + 1_500 - Date.now();
    if (gap > 0) await new Promise((r) => setTimeout(r, gap));
    const from = ep.requests.length;
    const relaunched = await runBundle({
      fields: fields("succeedsWhenReleased"),
      env,
      onStart: (child) => releaseOnceDescribed(ep, held, arn, child, from),
    });
    assert.equal(relaunched.code, 0, relaunched.stderr);
    assert.equal(relaunched.doc?.["result"].executionArn, arn);
    assert.equal(relaunched.doc?.["result"].status, "SUCCEEDED");
    assert.deepEqual(relaunched.doc?.["result"].outputParsed, { finished: true });
    assert.match(relaunched.stderr, /re-attached/);
    assert.equal(relaunched.doc?.["changed"], false, "the relaunch started nothing");
  });

  test("a host clock 20 minutes behind AWS: the role is renewed by AWS's clock, and a cancel still stops", async () => {
    // AWS's clock 20 minutes ahead of this host's: credentials AWS issues for 10 s look good
    // for 20 minutes more here. The cancel comes once the first ones have expired at AWS.
    const offsetMs = 20 * 60_000;
    ep.setClockOffset(offsetMs);
    ep.sts.setExpirySeconds(10);
    const issued = ep.sts.issued.length;
    const firstRequest = ep.requests.length;
    try {
      const run = await runBundle({
        fields: fields("long", { role_based_access: true, role_arn: ROLE }),
        env: { AWS_ENDPOINT_URL_STS: ep.url },
        onStart: (child) => {
          const timer = setInterval(() => {
            const first = ep.sts.issued[issued];
            if (!first || Date.now() + offsetMs < first.expiration.getTime() + 1000) return;
            clearInterval(timer);
            child.kill("SIGTERM");
          }, 200);
          child.on("close", () => clearInterval(timer));
        },
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc.status_description, /^CANCELLED: .*stopped/);
      assert.equal(ep.getExecution(run.doc.result.executionArn)?.status, "ABORTED");
      const expired = ep.requests
        .slice(firstRequest)
        .filter((r) => r.errorCode === "ExpiredTokenException");
      assert.deepEqual(
        expired.map((r) => r.operation),
        [],
        "no call is signed with credentials AWS calls expired",
      );
    } finally {
      ep.setClockOffset(0);
      ep.sts.setExpirySeconds(undefined);
    }
  });

  test("assumed-role credentials expiring every second are refreshed through a longer wait", async () => {
    ep.sts.setExpirySeconds(1);
    const issued = ep.sts.issued.length;
    try {
      const run = await runBundle({
        fields: fields("threeSeconds", { role_based_access: true, role_arn: ROLE }),
        env: { AWS_ENDPOINT_URL_STS: ep.url },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.doc?.["result"].status, "SUCCEEDED");
      assert.ok(
        ep.sts.issued.length - issued >= 3,
        `only ${ep.sts.issued.length - issued} refreshes`,
      );
      assert.doesNotMatch(run.stderr, /status check failed/);
    } finally {
      ep.sts.setExpirySeconds(undefined);
    }
  });
});
