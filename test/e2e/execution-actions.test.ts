/**
 * End to end: Start Synchronous Express Execution, Monitor, Stop and Redrive Execution with
 * the bundle as a child process against the local endpoint, each documented outcome.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, describe, test } from "node:test";
import {
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { startLossyRelay } from "../helpers/lossy-relay.ts";
import { deadPort } from "../helpers/proxies.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";
import { HELD, type HeldTasks, holdTasks, releaseOnceDescribed } from "../helpers/held-task.ts";

const FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky";
const QUEUE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

describe("execution actions, end to end", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  const arns: Record<string, string> = {};
  let flakyFails = true;
  let held: HeldTasks;

  before(async () => {
    ep = await startLocalEndpoint();
    held = holdTasks(ep);
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    ep.registerTaskHandler(FLAKY, (input) => {
      if (flakyFails) throw new TaskFailure("Ledger.Locked", "the ledger is being closed");
      return { posted: input };
    });
    const define = (name: string, definition: object, type?: "EXPRESS") => {
      arns[name] = ep.createStateMachine({ name, definition, ...(type ? { type } : {}) });
    };
    define(
      "expressEcho",
      {
        StartAt: "Echo",
        States: { Echo: { Type: "Pass", Parameters: { "echo.$": "$" }, End: true } },
      },
      "EXPRESS",
    );
    define(
      "expressFails",
      {
        StartAt: "Refuse",
        States: { Refuse: { Type: "Fail", Error: "Quote.Refused", Cause: "no price for SKU 7" } },
      },
      "EXPRESS",
    );
    define(
      "expressTimesOut",
      {
        TimeoutSeconds: 1,
        StartAt: "Slow",
        States: { Slow: { Type: "Wait", Seconds: 10, End: true } },
      },
      "EXPRESS",
    );
    define(
      "expressSlow",
      { StartAt: "Slow", States: { Slow: { Type: "Wait", Seconds: 20, End: true } } },
      "EXPRESS",
    );
    define("twoSeconds", {
      StartAt: "Hold",
      States: {
        Hold: { Type: "Wait", Seconds: 2, Next: "Done" },
        Done: { Type: "Pass", Result: { closed: true }, End: true },
      },
    });
    // 3 s: the monitoring program must be up and see it RUNNING first, on a loaded machine too.
    define("failsLater", {
      StartAt: "Hold",
      States: {
        Hold: { Type: "Wait", Seconds: 3, Next: "Reject" },
        Reject: { Type: "Fail", Error: "Batch.Rejected", Cause: "3 records invalid" },
      },
    });
    // Held until the monitoring program has seen them RUNNING, however slowly it started.
    define("succeedsWhenSeen", {
      StartAt: "Hold",
      States: {
        Hold: { Type: "Task", Resource: HELD, Next: "Done" },
        Done: { Type: "Pass", Result: { closed: true }, End: true },
      },
    });
    define("failsWhenSeen", {
      StartAt: "Hold",
      States: {
        Hold: { Type: "Task", Resource: HELD, Next: "Reject" },
        Reject: { Type: "Fail", Error: "Batch.Rejected", Cause: "3 records invalid" },
      },
    });
    define("timesOut", {
      TimeoutSeconds: 3,
      StartAt: "Slow",
      States: { Slow: { Type: "Wait", Seconds: 30, End: true } },
    });
    define("long", {
      StartAt: "Slow",
      States: { Slow: { Type: "Wait", Seconds: 120, End: true } },
    });
    define("approval", {
      StartAt: "AwaitApproval",
      States: {
        AwaitApproval: {
          Type: "Task",
          Resource: QUEUE,
          Parameters: { "token.$": "$$.Task.Token" },
          End: true,
        },
      },
    });
    define("ledger", {
      StartAt: "Prepare",
      States: {
        Prepare: { Type: "Pass", Result: { batch: 9 }, Next: "Post" },
        Post: { Type: "Task", Resource: FLAKY, Next: "Settle" },
        // Long enough that a relaunch finds the redriven execution still RUNNING.
        Settle: { Type: "Wait", Seconds: 6, End: true },
      },
    });
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  const base = {
    endpoint_url: () => ep.url,
  };
  const fields = (action: string, extra: Record<string, unknown>) => ({
    action: [action],
    endpoint_url: base.endpoint_url(),
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    ...extra,
  });
  const start = async (machine: string, name?: string): Promise<string> => {
    const out = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arns[machine], ...(name ? { name } : {}) }),
    );
    return out.executionArn as string;
  };
  const monitor = (arn: string, extra: Record<string, unknown> = {}) =>
    fields("Monitor Execution", {
      target_execution_arn: arn,
      monitor_polling_interval: 1,
      ...extra,
    });
  const missingArn = () =>
    `arn:aws:states:${ep.region}:${ep.accountId}:execution:long:no-such-execution`;
  /**
   * Runs `action` on `arn` and cancels it (SIGTERM) once AWS holds its `operation` call
   * unanswered: exit 27, a valid document saying `said`, nothing changed.
   */
  const cancelWhileUnanswered = async (
    action: string,
    arn: string,
    operation: string,
    said: RegExp,
  ) => {
    ep.clearRequests();
    ep.faults.set({ hang: { operations: [operation] } });
    try {
      const run = await runBundle({
        fields: fields(action, { target_execution_arn: arn }),
        onStart: (child) => {
          const asked = setInterval(() => {
            if (!ep.requests.some((r) => r.operation === operation)) return;
            clearInterval(asked);
            child.kill("SIGTERM");
          }, 20);
          child.on("exit", () => clearInterval(asked));
        },
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, 27);
      assert.match(run.doc.status_description, said);
      assert.equal(run.doc.changed, false);
    } finally {
      ep.faults.reset();
    }
  };
  /** SIGTERM once the program has read the execution's status (it waits on it from then on). */
  const signalWhenWaiting = () => (child: ChildProcess, file: string) => {
    void waitForOutputField(file, "execution_status").then(() => child.kill("SIGTERM"));
  };

  describe("Start Synchronous Express Execution", () => {
    test("SUCCEEDED: the result arrives in the reply, output raw and parsed, billing", async () => {
      const input = '{"sku": 7, "qty": 2.50}';
      const run = await runBundle({
        fields: fields("Start Synchronous Express Execution", {
          state_machine_arn: arns["expressEcho"],
          input,
        }),
        env: { UE_TASK_NAME: "quote", UE_TASK_INSTANCE_ID: "i1" },
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.changed, true);
      assert.equal(run.doc.result.status, "SUCCEEDED");
      // Nothing could find an Express execution again: each run's name ends in its own time stamp.
      assert.match(run.doc.result.name, /^quote-i1-[0-9a-z]{8}$/);
      assert.ok(
        run.doc.result.executionArn.includes(`:express:expressEcho:${run.doc.result.name}:`),
      );
      assert.deepEqual(run.doc.result.outputParsed, { echo: { sku: 7, qty: 2.5 } });
      assert.equal(typeof run.doc.result.output, "string");
      assert.ok(run.doc.result.billingDetails.billedDurationInMilliseconds >= 100);
      assert.equal(run.doc.result.billingDetails.billedMemoryUsedInMB, 64);
      assert.deepEqual(run.outputFields.at(-1), {
        execution_arn: run.doc.result.executionArn,
        execution_status: "SUCCEEDED",
      });
      assert.ok(ep.requests.some((r) => r.operation === "StartSyncExecution" && r.status === 200));
    });

    // [machine, exit code, status, what the description says]
    const ends: Array<[string, number, string, RegExp]> = [
      ["expressFails", 23, "FAILED", /ended FAILED: Quote\.Refused: no price for SKU 7/],
      ["expressTimesOut", 25, "TIMED_OUT", /ended TIMED_OUT/],
    ];
    for (const [machine, code, status, description] of ends) {
      test(`${status}: exit ${code}`, async () => {
        const run = await runBundle({
          fields: fields("Start Synchronous Express Execution", {
            state_machine_arn: arns[machine],
          }),
        });
        assert.equal(run.code, code, run.stderr);
        assertValidDoc(run.doc);
        assert.equal(run.doc.result.status, status);
        assert.match(run.doc.status_description, /^FAIL: /);
        assert.match(run.doc.status_description, description);
      });
    }

    test("made once: a failed call is not retried (a retry could run the workflow twice)", async () => {
      ep.faults.set({ errorRate5xx: 1, operations: ["StartSyncExecution"] });
      ep.clearRequests();
      try {
        const run = await runBundle({
          fields: fields("Start Synchronous Express Execution", {
            state_machine_arn: arns["expressEcho"],
          }),
        });
        assert.equal(run.code, 10, run.stderr);
        assertValidDoc(run.doc);
        assert.equal(ep.requests.filter((r) => r.operation === "StartSyncExecution").length, 1);
      } finally {
        ep.faults.reset();
      }
    });

    test("its answer lost: exit 10 names the Express execution that may have run", async () => {
      ep.faults.set({ loseReplies: 1, operations: ["StartSyncExecution"] });
      try {
        const run = await runBundle({
          fields: fields("Start Synchronous Express Execution", {
            state_machine_arn: arns["expressEcho"],
          }),
        });
        assert.equal(run.code, 10, run.stderr);
        assertValidDoc(run.doc);
        const name = run.outputFields[0]?.["generated_execution_name"];
        assert.ok(name, "the execution's name was published");
        assert.match(
          run.doc.status_description,
          new RegExp(
            `^CONNECTION_ERROR: .*; AWS gave no answer to the start of Express execution ${name}, so it may have run \\(AWS cannot stop Express executions\\)$`,
          ),
        );
      } finally {
        ep.faults.reset();
      }
    });

    test("no connection: exit 10 says nothing of an execution that may have run", async () => {
      const nothing = await deadPort();
      const run = await runBundle({
        fields: fields("Start Synchronous Express Execution", {
          state_machine_arn: arns["expressEcho"],
          endpoint_url: `http://127.0.0.1:${nothing}`,
        }),
      });
      assert.equal(run.code, 10, run.stderr);
      assertValidDoc(run.doc);
      assert.doesNotMatch(run.doc.status_description, /may have run/);
    });

    test("cancel while the Express execution runs: exit 27, said to be maybe still running", async () => {
      // StartSyncExecution is held at the endpoint until the program has ended, and the
      // SIGTERM goes once it has arrived: a program that waited for its answer (with a request
      // timeout of an hour here) would never end, and the run's own time limit would fail
      // the test.
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      ep.faults.set({ holdUntil: held, operations: ["StartSyncExecution"] });
      const from = ep.requests.length;
      try {
        const run = await runBundle({
          fields: fields("Start Synchronous Express Execution", {
            state_machine_arn: arns["expressSlow"],
          }),
          env: { UE_AWS_REQUEST_TIMEOUT_MS: "3600000" },
          onStart: (child) => {
            const asked = setInterval(() => {
              const calls = ep.requests.slice(from);
              if (!calls.some((r) => r.operation === "StartSyncExecution")) return;
              clearInterval(asked);
              child.kill("SIGTERM");
            }, 20);
            child.on("exit", () => {
              clearInterval(asked);
              release();
            });
          },
        });
        assert.equal(run.code, 27, run.stderr);
        assertValidDoc(run.doc);
        assert.match(run.doc.status_description, /^CANCELLED: .*may still be running/);
      } finally {
        release();
        ep.faults.reset();
      }
    });

    test("a STANDARD state machine is refused and the right action named (exit 35)", async () => {
      const run = await runBundle({
        fields: fields("Start Synchronous Express Execution", {
          state_machine_arn: arns["twoSeconds"],
        }),
      });
      assert.equal(run.code, 35, run.stderr);
      assertValidDoc(run.doc);
      assert.match(
        run.doc.status_description,
        /^WRONG_STATE_MACHINE_TYPE: .* is a STANDARD state machine; .*use Start Asynchronous Execution/,
      );
      assert.equal(run.doc.changed, false);
    });
  });

  test("Start Asynchronous Execution waiting on an EXPRESS machine: said at once, exit 35", async () => {
    const from = ep.requests.length;
    const run = await runBundle({
      fields: fields("Start Asynchronous Execution", {
        state_machine_arn: arns["expressEcho"],
        wait_for_success_or_failure: true,
        polling_interval: 1,
      }),
    });
    assert.equal(run.code, 35, run.stderr);
    assertValidDoc(run.doc);
    assert.match(
      run.doc.status_description,
      /^WRONG_STATE_MACHINE_TYPE: .*EXPRESS state machine.*Start Synchronous Express Execution/,
    );
    assert.equal(run.doc.changed, true);
    assert.match(run.doc.result.executionArn, /:express:/);
    // At once: the start is the program's only call, no status check follows it.
    assert.deepEqual(
      ep.requests.slice(from).map((r) => r.operation),
      ["StartExecution"],
    );
  });

  describe("Monitor Execution", () => {
    // [machine, exit code, status, description]; a machine "...WhenSeen" ends once the
    // program's first status check is answered; timesOut, whose timeout (3 s) runs from its
    // start, is started only once that check has reached the endpoint (startWhenLooked).
    const ends: Array<[string, number, string, RegExp]> = [
      ["succeedsWhenSeen", 0, "SUCCEEDED", /^SUCCESS: execution .* SUCCEEDED/],
      [
        "failsWhenSeen",
        23,
        "FAILED",
        /^FAIL: .* ended FAILED in state "Reject": Batch\.Rejected: 3 records invalid/,
      ],
      ["timesOut", 25, "TIMED_OUT", /^FAIL: .* ended TIMED_OUT in state "Slow": States\.Timeout/],
    ];
    /**
     * An execution of `machine` started only once the program's first DescribeExecution of it
     * has reached the endpoint, which holds that call meanwhile (holdUntil) and answers it
     * after the start: the program is up and looking before the execution's own clock starts,
     * however slowly it started.
     */
    let looked = 0;
    const startWhenLooked = (machine: string) => {
      const name = `looked-${looked++}`;
      const arn = `${(arns[machine] as string).replace(":stateMachine:", ":execution:")}:${name}`;
      let answer = () => {};
      const held = new Promise<void>((resolve) => {
        answer = resolve;
      });
      ep.faults.set({ holdUntil: held, operations: ["DescribeExecution"] });
      const from = ep.requests.length;
      const onStart = (child: ChildProcess) => {
        const timer = setInterval(() => {
          if (!ep.requests.slice(from).some((r) => r.operation === "DescribeExecution")) return;
          clearInterval(timer);
          ep.faults.reset();
          void start(machine, name).finally(answer);
        }, 20);
        child.on("exit", () => {
          clearInterval(timer);
          ep.faults.reset();
          answer();
        });
      };
      return { arn, onStart };
    };
    for (const [machine, code, status, description] of ends) {
      test(`waits to ${status} like a started execution: exit ${code}, nothing changed`, async () => {
        const whenLooked = machine === "timesOut" ? startWhenLooked(machine) : undefined;
        const arn = whenLooked ? whenLooked.arn : await start(machine);
        const run = await runBundle({
          fields: monitor(arn),
          onStart: (child) => {
            if (whenLooked) whenLooked.onStart(child);
            else releaseOnceDescribed(ep, held, arn, child);
          },
        });
        assert.equal(run.code, code, run.stderr);
        assertValidDoc(run.doc);
        assert.equal(run.doc.changed, false);
        assert.equal(run.doc.result.executionArn, arn);
        assert.equal(run.doc.result.status, status);
        assert.match(run.doc.status_description, description);
        assert.deepEqual(run.outputFields[0], {
          execution_arn: arn,
          generated_execution_name: arn.split(":").at(-1),
        });
        assert.equal(run.outputFields.at(-1)?.["execution_status"], status);
        assert.ok(run.outputFields.some((l) => l["execution_status"] === "RUNNING"));
      });
    }

    test("ABORTED by someone else while monitored: exit 24", async () => {
      const arn = await start("long");
      const run = await runBundle({
        fields: monitor(arn),
        onStart: (_child, file) => {
          // Once the program has read the execution's status (RUNNING).
          void waitForOutputField(file, "execution_status").then(() =>
            sfn.send(
              new StopExecutionCommand({
                executionArn: arn,
                error: "Ops.Stop",
                cause: "maintenance",
              }),
            ),
          );
        },
      });
      assert.equal(run.code, 24, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.result.status, "ABORTED");
      assert.match(run.doc.status_description, /Ops\.Stop: maintenance/);
    });

    test("an execution that has already ended is reported at once", async () => {
      const arn = await start("twoSeconds");
      await ep.waitForExecution(arn);
      const run = await runBundle({ fields: monitor(arn) });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.deepEqual(run.doc.result.outputParsed, { closed: true });
    });

    test("cancel leaves the execution running by default: exit 27, nothing changed", async () => {
      const arn = await start("long");
      const run = await runBundle({ fields: monitor(arn), onStart: signalWhenWaiting() });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.match(
        run.doc.status_description,
        /^CANCELLED: task cancelled; execution .* left running/,
      );
      assert.equal(run.doc.changed, false);
      assert.equal(run.doc.result.status, "RUNNING");
      assert.equal(ep.getExecution(arn)?.status, "RUNNING");
      assert.match(run.stderr, /Stop Monitored Execution on Cancel is off/);
      await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    });

    test("cancel with Stop Monitored Execution on Cancel stops it: exit 27, changed", async () => {
      const arn = await start("long");
      const run = await runBundle({
        fields: monitor(arn, { stop_monitored_on_cancel: true }),
        env: { UE_TASK_NAME: "watch-ledger", UE_TASK_INSTANCE_ID: "w1" },
        onStart: signalWhenWaiting(),
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.changed, true);
      assert.equal(run.doc.result.status, "ABORTED");
      const stopped = ep.getExecution(arn);
      assert.equal(stopped?.status, "ABORTED");
      assert.equal(stopped?.cause, "cancelled with watch-ledger (instance w1)");
    });

    test("a cancel before the first status check answered still stops it with Stop Monitored Execution on Cancel", async () => {
      const arn = await start("long");
      ep.clearRequests();
      // The first DescribeExecution goes unanswered; the calls after it are answered.
      ep.faults.set({ hang: { operations: ["DescribeExecution"] } });
      try {
        const run = await runBundle({
          fields: monitor(arn, { stop_monitored_on_cancel: true }),
          env: { UE_TASK_NAME: "watch-ledger", UE_TASK_INSTANCE_ID: "w2" },
          onStart: (child) => {
            const asked = setInterval(() => {
              if (!ep.requests.some((r) => r.operation === "DescribeExecution")) return;
              clearInterval(asked);
              ep.faults.reset();
              child.kill("SIGTERM");
            }, 20);
            child.on("exit", () => clearInterval(asked));
          },
        });
        assert.equal(run.code, 27, run.stderr);
        assertValidDoc(run.doc);
        assert.match(
          run.doc.status_description,
          /^CANCELLED: task cancelled; execution .* stopped/,
        );
        assert.equal(run.doc.changed, true);
        assert.equal(run.doc.result.status, "ABORTED");
        const stopped = ep.getExecution(arn);
        assert.equal(stopped?.status, "ABORTED");
        assert.equal(stopped?.cause, "cancelled with watch-ledger (instance w2)");
      } finally {
        ep.faults.reset();
        if (ep.getExecution(arn)?.status === "RUNNING") {
          await sfn.send(new StopExecutionCommand({ executionArn: arn }));
        }
      }
    });

    test("maximum wait leaves the monitored execution running: exit 26", async () => {
      const arn = await start("long");
      const run = await runBundle({ fields: monitor(arn, { monitor_maximum_wait: 2 }) });
      assert.equal(run.code, 26, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.changed, false);
      assert.equal(ep.getExecution(arn)?.status, "RUNNING");
      await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    });

    test("names the state waiting for a callback, from the history", async () => {
      const arn = await start("approval");
      const run = await runBundle({ fields: monitor(arn, { monitor_maximum_wait: 5 }) });
      assert.equal(run.code, 26, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.stderr, /state "AwaitApproval" is waiting for a callback \(task token\)/);
      assert.equal(run.doc.result.waitingForCallback, "AwaitApproval");
      const histories = ep.requests.filter(
        (r) => r.operation === "GetExecutionHistory" && r.resource === arn,
      );
      const describes = ep.requests.filter(
        (r) => r.operation === "DescribeExecution" && r.resource === arn,
      );
      // One look at the history, not one per status check.
      assert.equal(histories.length, 1);
      assert.ok(describes.length > 3);
      await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    });

    // [what, ARN, exit code, message]
    const refused: Array<[string, () => string, number, RegExp]> = [
      ["not found", missingArn, 20, /no execution .* exists \(ExecutionDoesNotExist\)/],
      [
        "an Express execution",
        () => `arn:aws:states:${ep.region}:${ep.accountId}:express:expressEcho:x:0a1b`,
        20,
        /Target Execution ARN: is an Express execution/,
      ],
    ];
    for (const [what, arn, code, message] of refused) {
      test(`refused: ${what} (exit ${code})`, async () => {
        const run = await runBundle({ fields: monitor(arn()) });
        assert.equal(run.code, code, run.stderr);
        assertValidDoc(run.doc);
        assert.match(run.doc.status_description, /^DATA_VALIDATION_ERROR: /);
        assert.match(run.doc.status_description, message);
      });
    }
  });

  describe("Stop Execution", () => {
    test("stops a running execution with an error and a cause naming the task", async () => {
      const arn = await start("long");
      const run = await runBundle({
        fields: fields("Stop Execution", { target_execution_arn: arn }),
        env: { UE_TASK_NAME: "halt-batch", UE_TASK_INSTANCE_ID: "h1" },
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.changed, true);
      assert.equal(run.doc.result.status, "ABORTED");
      assert.match(run.doc.status_description, /^SUCCESS: execution .* stopped/);
      const stopped = ep.getExecution(arn);
      assert.equal(stopped?.error, "ue-aws-stepfunctions.Stopped");
      assert.equal(stopped?.cause, "stopped by halt-batch (instance h1)");
      assert.equal(run.outputFields.at(-1)?.["execution_status"], "ABORTED");
    });

    test("the error and cause given are the ones AWS records", async () => {
      const arn = await start("long");
      const run = await runBundle({
        fields: fields("Stop Execution", {
          target_execution_arn: arn,
          error: "Ops.Maintenance",
          cause: "database failover at 02:00",
        }),
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(ep.getExecution(arn)?.error, "Ops.Maintenance");
      assert.equal(ep.getExecution(arn)?.cause, "database failover at 02:00");
    });

    test("an execution that already ended is reported as it is, not as a failure", async () => {
      const arn = await start("failsLater");
      await ep.waitForExecution(arn);
      ep.clearRequests();
      const run = await runBundle({
        fields: fields("Stop Execution", { target_execution_arn: arn }),
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.changed, false);
      assert.equal(run.doc.result.status, "FAILED");
      assert.match(run.doc.status_description, /had already ended FAILED; nothing to stop/);
      assert.ok(!ep.requests.some((r) => r.operation === "StopExecution"));
    });

    // [the call AWS has not answered when the cancel comes, what the task says]
    const cancels: Array<[string, RegExp]> = [
      [
        "DescribeExecution",
        /^CANCELLED: task cancelled before execution .* was stopped; it is left running/,
      ],
      [
        "StopExecution",
        /^CANCELLED: task cancelled before AWS confirmed the stop of execution .*; it may have been stopped/,
      ],
    ];
    for (const [operation, said] of cancels) {
      test(`cancel while ${operation} is unanswered: exit 27, said plainly`, async () => {
        const arn = await start("long");
        await cancelWhileUnanswered("Stop Execution", arn, operation, said);
        assert.equal(ep.getExecution(arn)?.status, "RUNNING");
      });
    }

    test("a stop that got no answer even after retries: exit 10, and the description says it may have been stopped", async () => {
      const arn = await start("long", "stop-unanswered");
      ep.faults.set({ loseReplies: 10, operations: ["StopExecution"] });
      try {
        const run = await runBundle({
          fields: fields("Stop Execution", { target_execution_arn: arn }),
          env: { AWS_MAX_ATTEMPTS: "2" },
        });
        assert.equal(run.code, 10, run.stderr);
        assertValidDoc(run.doc);
        assert.match(run.doc.status_description, /^CONNECTION_ERROR: /);
        assert.ok(
          run.doc.status_description.endsWith(
            `; AWS gave no answer to the stop of execution stop-unanswered, so it may have been stopped: ${arn}`,
          ),
          run.doc.status_description,
        );
        assert.equal(run.doc.changed, false);
      } finally {
        ep.faults.reset();
      }
      assert.equal(ep.getExecution(arn)?.status, "ABORTED", "AWS did stop it");
    });

    test("a stop AWS accepted, then the look after it failed: exit 10, and the description says the stop was accepted", async () => {
      const arn = await start("long", "stop-accepted-unread");
      // The first look (before the stop) passes; every look after it is reset.
      const relay = await startLossyRelay(ep.url, [
        { operation: "DescribeExecution", fault: "reset", skip: 1, times: 10 },
      ]);
      try {
        const run = await runBundle({
          fields: fields("Stop Execution", { target_execution_arn: arn, endpoint_url: relay.url }),
          env: { AWS_MAX_ATTEMPTS: "2" },
        });
        assert.equal(run.code, 10, run.stderr);
        assertValidDoc(run.doc);
        assert.ok(
          run.doc.status_description.endsWith(
            "; AWS had accepted the stop of execution stop-accepted-unread before that",
          ),
          run.doc.status_description,
        );
        assert.equal(run.doc.changed, true);
      } finally {
        await relay.close();
      }
      assert.equal(ep.getExecution(arn)?.status, "ABORTED");
    });

    test("a stop AWS refuses (no states:StopExecution): exit 3, nothing changed", async () => {
      const arn = await start("long");
      const undo = ep.deny({ operation: "StopExecution", resource: arn });
      try {
        const run = await runBundle({
          fields: fields("Stop Execution", { target_execution_arn: arn }),
        });
        assert.equal(run.code, 3, run.stderr);
        assertValidDoc(run.doc);
        assert.match(run.doc.status_description, /^AUTHORIZATION_ERROR: .*StopExecution/);
        assert.equal(run.doc.changed, false);
        assert.equal(ep.getExecution(arn)?.status, "RUNNING");
      } finally {
        undo();
        await sfn.send(new StopExecutionCommand({ executionArn: arn }));
      }
    });

    // AWS documents no answer to a stop of an execution that has just ended: whatever it
    // refuses such a stop with, the execution's own end is what happened.
    const refusal = { code: "ValidationException", message: "Execution is not running" };

    test("a stop AWS refuses as the execution ends on its own: reported as ended, not as a failure", async () => {
      // The execution waits for a callback, given once the stop has reached the endpoint and
      // before its refusal goes back: it ends between the program's first look and AWS's
      // answer however long the program takes to start (an execution of a fixed length can
      // end before that look on a loaded machine, and the stop is then never asked).
      const arn = await start("approval");
      const from = ep.requests.length;
      ep.faults.set({ latencyMs: 3_000, answerError: refusal, operations: ["StopExecution"] });
      let called = false;
      let ended = false;
      const callbackOnStop = async () => {
        while (!ep.requests.slice(from).some((r) => r.operation === "StopExecution")) {
          if (ended) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        const [pending] = ep.pendingTaskTokens(arn);
        assert.ok(pending, "the execution waits for its callback");
        await sfn.send(
          new SendTaskSuccessCommand({ taskToken: pending.taskToken, output: '{"approved":true}' }),
        );
        called = true;
      };
      try {
        let calling: Promise<void> | undefined;
        const run = await runBundle({
          fields: fields("Stop Execution", { target_execution_arn: arn }),
          onStart: () => {
            calling = callbackOnStop();
          },
        });
        ended = true;
        await calling;
        assert.ok(called, "the callback came while the stop was under way");
        assert.equal(run.code, 0, run.stderr);
        assertValidDoc(run.doc);
        assert.equal(
          run.doc.status_description,
          `SUCCESS: execution ${arn.split(":").at(-1)} ended SUCCEEDED before it could be stopped`,
        );
        assert.equal(run.doc.changed, false);
        assert.equal(run.doc.result.status, "SUCCEEDED");
        assert.match(run.stderr, /AWS refused the stop \(.*Execution is not running\)/);
        assert.equal(ep.getExecution(arn)?.status, "SUCCEEDED");
      } finally {
        ep.faults.reset();
      }
    });

    test("a stop AWS refuses while the execution runs on: the refusal, exit 20, nothing changed", async () => {
      const arn = await start("long");
      ep.faults.set({ answerError: refusal, operations: ["StopExecution"] });
      try {
        const run = await runBundle({
          fields: fields("Stop Execution", { target_execution_arn: arn }),
        });
        assert.equal(run.code, 20, run.stderr);
        assertValidDoc(run.doc);
        assert.match(
          run.doc.status_description,
          /^DATA_VALIDATION_ERROR: .*ValidationException.*StopExecution.*Execution is not running/,
        );
        assert.equal(run.doc.changed, false);
        assert.equal(ep.getExecution(arn)?.status, "RUNNING");
      } finally {
        ep.faults.reset();
        await sfn.send(new StopExecutionCommand({ executionArn: arn }));
      }
    });

    test("not found: exit 20", async () => {
      const run = await runBundle({
        fields: fields("Stop Execution", { target_execution_arn: missingArn() }),
      });
      assert.equal(run.code, 20, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc.status_description, /ExecutionDoesNotExist/);
      assert.match(run.doc.status_description, new RegExp(missingArn()));
    });
  });

  describe("a target that cannot be read: no result, no status invented", () => {
    // [what, target ARN, deny rule (none: not denied), exit code, status word]
    const unread: Array<[string, () => string, boolean, number, string]> = [
      ["does not exist", missingArn, false, 20, "DATA_VALIDATION_ERROR"],
      ["DescribeExecution denied", () => "", true, 3, "AUTHORIZATION_ERROR"],
    ];
    for (const action of ["Monitor Execution", "Stop Execution", "Redrive Execution"]) {
      for (const [what, target, denied, code, word] of unread) {
        test(`${action}, the target ${what}: exit ${code}, result null`, async () => {
          const arn = target() || (await start("long"));
          const undo = denied ? ep.deny({ operation: "DescribeExecution", resource: arn }) : null;
          try {
            const run = await runBundle({
              fields: fields(action, { target_execution_arn: arn, monitor_polling_interval: 1 }),
            });
            assert.equal(run.code, code, run.stderr);
            assertValidDoc(run.doc);
            assert.ok(run.doc.status_description.startsWith(`${word}: `));
            assert.equal(run.doc.result, null, JSON.stringify(run.doc.result));
            assert.equal(run.doc.changed, false);
            assert.equal(run.doc.invocation.fields.target_execution_arn, arn);
            assert.ok(
              !run.outputFields.some((f) => "execution_status" in f),
              "no status published",
            );
          } finally {
            undo?.();
            if (denied) await sfn.send(new StopExecutionCommand({ executionArn: arn }));
          }
        });
      }
    }
  });

  describe("Redrive Execution", () => {
    test("redrives a FAILED execution from the failed state and waits: exit 0, changed", async () => {
      flakyFails = true;
      const arn = await start("ledger", "ledger-run-1");
      assert.equal((await ep.waitForExecution(arn)).status, "FAILED");
      flakyFails = false;
      const env = { UE_TASK_NAME: "redrive-ledger", UE_TASK_INSTANCE_ID: "rd1" };
      const run = await runBundle({
        fields: fields("Redrive Execution", {
          target_execution_arn: arn,
          wait_for_success_or_failure: true,
          polling_interval: 1,
        }),
        env,
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.changed, true);
      assert.equal(run.doc.result.status, "SUCCEEDED");
      assert.equal(run.doc.result.redriveCount, 1);
      const redriveDate = ep.getExecution(arn)?.redriveDate?.toISOString();
      assert.ok(redriveDate);
      assert.equal(run.doc.result.redriveDate, redriveDate);
      assert.deepEqual(run.doc.result.outputParsed, { posted: { batch: 9 } });
      const redrive = ep.requests.find((r) => r.operation === "RedriveExecution");
      assert.equal(redrive?.status, 200);

      // A relaunch of the same run does not redrive twice: it reports the redrive's result.
      const again = await runBundle({
        fields: fields("Redrive Execution", { target_execution_arn: arn }),
        env,
      });
      assert.equal(again.code, 0, again.stderr);
      assertValidDoc(again.doc);
      assert.equal(again.doc.changed, false);
      assert.equal(again.doc.result.status, "SUCCEEDED");
      assert.equal(again.doc.result.redriveDate, redriveDate);
      assert.equal(ep.getExecution(arn)?.redriveCount, 1);
      assert.match(
        again.stderr,
        /was redriven earlier \(1 redrive\) and is SUCCEEDED: not redriving it again/,
      );
      assert.equal(
        ep.requests.filter((r) => r.operation === "RedriveExecution" && r.resource === arn).length,
        1,
        "one redrive call in all",
      );
    });

    test("a redrive that got no answer even after retries: exit 10, and the description says it may have been redriven", async () => {
      flakyFails = true;
      const arn = await start("ledger", "ledger-unanswered");
      assert.equal((await ep.waitForExecution(arn)).status, "FAILED");
      ep.faults.set({ loseReplies: 10, operations: ["RedriveExecution"] });
      try {
        const run = await runBundle({
          fields: fields("Redrive Execution", { target_execution_arn: arn }),
          env: { UE_TASK_INSTANCE_ID: "rd-unanswered", AWS_MAX_ATTEMPTS: "2" },
        });
        assert.equal(run.code, 10, run.stderr);
        assertValidDoc(run.doc);
        assert.ok(
          run.doc.status_description.endsWith(
            `; AWS gave no answer to the redrive of execution ledger-unanswered, so it may have been redriven: ${arn}`,
          ),
          run.doc.status_description,
        );
        assert.equal(run.doc.changed, false);
      } finally {
        ep.faults.reset();
      }
      assert.equal(ep.getExecution(arn)?.redriveCount, 1, "AWS did redrive it, once");
      await sfn.send(new StopExecutionCommand({ executionArn: arn })).catch(() => {});
    });

    test("a relaunch of the same run within AWS's idempotency window joins the first redrive", async () => {
      flakyFails = true;
      const arn = await start("ledger", "ledger-run-2");
      assert.equal((await ep.waitForExecution(arn)).status, "FAILED");
      flakyFails = false;
      const env = { UE_TASK_INSTANCE_ID: "rd2" };
      const first = await runBundle({
        fields: fields("Redrive Execution", { target_execution_arn: arn }),
        env,
      });
      assert.equal(first.code, 0, first.stderr);
      assertValidDoc(first.doc);
      assert.equal(first.doc.changed, true);
      assert.equal(first.doc.result.status, "RUNNING");
      assert.equal(first.doc.result.redriveCount, 1);
      assert.equal(first.doc.result.redriveDate, ep.getExecution(arn)?.redriveDate?.toISOString());
      // Read before the redrive (REDRIVABLE), it would be stale: not reported.
      assert.equal(first.doc.result.redriveStatus, null);
      const relaunch = await runBundle({
        fields: fields("Redrive Execution", { target_execution_arn: arn }),
        env,
      });
      assert.equal(relaunch.code, 0, relaunch.stderr);
      assertValidDoc(relaunch.doc);
      assert.equal(relaunch.doc.changed, false);
      assert.match(
        relaunch.doc.status_description,
        /is RUNNING \(redriven earlier; not redriven again\)/,
      );
      assert.equal(relaunch.doc.result.status, "RUNNING");
      assert.equal(ep.getExecution(arn)?.redriveCount, 1);
      await ep.waitForExecution(arn);
    });

    // [the call AWS has not answered when the cancel comes, what the task says]
    const redriveCancels: Array<[string, RegExp]> = [
      [
        "DescribeExecution",
        /^CANCELLED: task cancelled before execution .* was redriven; it is left as it was/,
      ],
      [
        "RedriveExecution",
        /^CANCELLED: task cancelled before AWS confirmed the redrive of execution .*; it may have been redriven/,
      ],
    ];
    for (const [operation, said] of redriveCancels) {
      test(`cancel while ${operation} is unanswered: exit 27, said plainly`, async () => {
        flakyFails = true;
        const arn = await start("ledger", `ledger-cancel-${operation}`);
        assert.equal((await ep.waitForExecution(arn)).status, "FAILED");
        flakyFails = false;
        await cancelWhileUnanswered("Redrive Execution", arn, operation, said);
      });
    }

    test("not redrivable (SUCCEEDED): AWS's reason, exit 34", async () => {
      const arn = await start("twoSeconds");
      await ep.waitForExecution(arn);
      const run = await runBundle({
        fields: fields("Redrive Execution", { target_execution_arn: arn }),
      });
      assert.equal(run.code, 34, run.stderr);
      assertValidDoc(run.doc);
      assert.match(
        run.doc.status_description,
        /^NOT_REDRIVABLE: execution .* cannot be redriven: it is SUCCEEDED, not FAILED, TIMED_OUT or ABORTED/,
      );
      assert.equal(run.doc.changed, false);
    });

    test("not found: exit 20", async () => {
      const run = await runBundle({
        fields: fields("Redrive Execution", { target_execution_arn: missingArn() }),
      });
      assert.equal(run.code, 20, run.stderr);
      assertValidDoc(run.doc);
    });
  });
});
