/**
 * End to end: the built bundle as a child process against the local endpoint, through
 * the controller contract. Asserts exit codes, the document, the output-only fields and
 * what the endpoint recorded.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";

const SECRET_CANARY = "CanarySecretKey0000000000000000000000001";
const TOKEN_ROLE = "arn:aws:iam::123456789012:role/Scheduler";
const BOOM = "arn:aws:lambda:us-east-1:123456789012:function:boom";

describe("Start Asynchronous Execution, end to end", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  const arns: Record<string, string> = {};

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    ep.registerTaskHandler(BOOM, () => {
      throw new TaskFailure("Orders.Broken", "the order service is down");
    });
    const define = (name: string, definition: object) => {
      arns[name] = ep.createStateMachine({ name, definition });
    };
    define("quick", {
      StartAt: "Greet",
      States: { Greet: { Type: "Pass", Result: { greeting: "hello", n: 1 }, End: true } },
    });
    define("twoSeconds", {
      StartAt: "Hold",
      States: {
        Hold: { Type: "Wait", Seconds: 2, Next: "Done" },
        Done: { Type: "Pass", Parameters: { "echo.$": "$" }, End: true },
      },
    });
    define("fails", {
      StartAt: "Check",
      States: {
        Check: { Type: "Pass", Next: "RejectOrder" },
        RejectOrder: { Type: "Fail", Error: "Orders.Invalid", Cause: "order 42 has no lines" },
      },
    });
    define("taskFails", {
      StartAt: "CallService",
      States: { CallService: { Type: "Task", Resource: BOOM, End: true } },
    });
    define("timesOut", {
      TimeoutSeconds: 1,
      StartAt: "Slow",
      States: { Slow: { Type: "Wait", Seconds: 30, End: true } },
    });
    define("long", {
      StartAt: "Slow",
      States: { Slow: { Type: "Wait", Seconds: 60, End: true } },
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

  test("start without waiting: exit 0, RUNNING, output fields written live", async () => {
    const run = await runBundle({
      fields: fields("long"),
      env: { UE_TASK_INSTANCE_ID: "nowait1" },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc.exit_code, 0);
    assert.match(run.doc.status_description, /^SUCCESS: /);
    assert.equal(run.doc.changed, true);
    assert.equal(run.doc.result.status, "RUNNING");
    assert.equal(run.doc.result.name, "e2e-task-nowait1-1");
    const arn = run.doc.result.executionArn as string;
    assert.equal(ep.getExecution(arn)?.status, "RUNNING");
    assert.deepEqual(run.outputFields[0], { generated_execution_name: "e2e-task-nowait1-1" });
    assert.deepEqual(run.outputFields[1], { execution_arn: arn, execution_status: "RUNNING" });
    assert.equal(run.doc.invocation.fields.credentials_password, "****");
    assert.equal(run.doc.invocation.fields.credentials_user, "****");
    await sfn.send(new StopExecutionCommand({ executionArn: arn }));
  });

  test("a start dates its signature, log and document with the program's own toISOString, not V8's", async () => {
    // V8's sets up ICU's time zone on its first call (see src/iso-date.ts); a preload reports
    // at exit which one the process had.
    const dir = mkdtempSync(join(tmpdir(), "iso-probe-"));
    const probe = join(dir, "probe.cjs");
    const report = join(dir, "report.json");
    writeFileSync(
      probe,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify({ native: String(Date.prototype.toISOString).includes("[native code]") })));`,
    );
    try {
      const run = await runBundle({
        fields: fields("long"),
        env: {
          UE_TASK_INSTANCE_ID: "isodate1",
          NODE_OPTIONS: `--require ${JSON.stringify(probe)}`,
        },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(readFileSync(report, "utf8")), { native: false });
      assert.match(run.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO /m);
      const started = new Date(run.doc?.["result"].startDate as string);
      assert.equal(started.toISOString(), run.doc?.["result"].startDate);
      // The date AWS gave, to the millisecond (not one of the host's clock, nor a misread one).
      const arn = run.doc?.["result"].executionArn as string;
      assert.equal(started.getTime(), ep.getExecution(arn)?.startDate.getTime());
      await sfn.send(new StopExecutionCommand({ executionArn: run.doc?.["result"].executionArn }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the input reaches the execution byte for byte", async () => {
    const input = '{ "text": "tab\\there \\u00e9", "n": 1.50, "list": [ ] }';
    const run = await runBundle({
      fields: fields("quick", { input, wait_for_success_or_failure: true }),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(ep.getExecution(run.doc?.["result"].executionArn)?.input, input);
  });

  test("wait to SUCCEEDED: output raw and parsed, status updates, ends soon after the execution", async () => {
    const run = await runBundle({
      fields: fields("twoSeconds", {
        wait_for_success_or_failure: true,
        polling_interval: 10,
        input: '{"k":"v"}',
      }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc.result.status, "SUCCEEDED");
    assert.equal(run.doc.result.output, '{"echo":{"k":"v"}}');
    assert.deepEqual(run.doc.result.outputParsed, { echo: { k: "v" } });
    assert.match(run.doc.result.startDate, /^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)$/);
    assert.ok(run.doc.result.stopDate);
    const statuses = run.outputFields.map((l) => l["execution_status"]).filter((s) => s);
    assert.deepEqual(statuses, ["RUNNING", "SUCCEEDED"]);
    // The schedule checked often enough that the task did not sit out the 10 s interval.
    const describes = ep.requests.filter(
      (r) => r.operation === "DescribeExecution" && r.status === 200,
    ).length;
    assert.ok(describes >= 3, `only ${describes} status checks`);
  });

  test("wait to FAILED: exit 23 with error, cause and the failing state", async () => {
    const run = await runBundle({ fields: fields("fails", { wait_for_success_or_failure: true }) });
    assert.equal(run.code, 23, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /^FAIL: /);
    assert.equal(run.doc.result.status, "FAILED");
    assert.equal(run.doc.result.error, "Orders.Invalid");
    assert.equal(run.doc.result.cause, "order 42 has no lines");
    assert.equal(run.doc.result.failedState, "RejectOrder");
    assert.match(run.stderr, /RejectOrder/);
    assert.match(run.stderr, /Orders\.Invalid/);
  });

  test("a failing Task state is named in the output", async () => {
    const run = await runBundle({
      fields: fields("taskFails", { wait_for_success_or_failure: true }),
    });
    assert.equal(run.code, 23, run.stderr);
    assert.equal(run.doc?.["result"].failedState, "CallService");
    assert.equal(run.doc?.["result"].error, "Orders.Broken");
  });

  test("wait to TIMED_OUT: exit 25, error from the history", async () => {
    const run = await runBundle({
      fields: fields("timesOut", { wait_for_success_or_failure: true }),
    });
    assert.equal(run.code, 25, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc.result.status, "TIMED_OUT");
    assert.equal(run.doc.result.error, "States.Timeout");
    assert.equal(run.doc.result.failedState, "Slow");
  });

  test("wait to ABORTED when someone stops the execution: exit 24", async () => {
    const run = await runBundle({
      fields: fields("long", { wait_for_success_or_failure: true, polling_interval: 1 }),
      onStart: (_child, file) => {
        void waitForOutputField(file, "execution_arn").then((executionArn) =>
          sfn.send(new StopExecutionCommand({ executionArn, error: "Ops.Stop", cause: "by hand" })),
        );
      },
    });
    assert.equal(run.code, 24, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc.result.status, "ABORTED");
  });

  test("validation failures: exit 20, every problem named, no AWS call", async () => {
    ep.clearRequests();
    const run = await runBundle({
      fields: fields("quick", {
        state_machine_arn: "arn:aws:states:us-east-1:123:stateMachine:x",
        input: "{not json",
        wait_for_success_or_failure: true,
        polling_interval: 0,
        execution_name: "has space",
      }),
    });
    assert.equal(run.code, 20);
    assertValidDoc(run.doc);
    assert.equal(run.doc.result, null);
    for (const label of ["State Machine ARN", "Input", "Polling Interval", "Execution Name"]) {
      assert.match(run.doc.status_description, new RegExp(`${label}: `));
    }
    assert.equal(ep.requests.length, 0, "no request may reach AWS");
  });

  test("AWS rejects the request as invalid (state machine does not exist): exit 20", async () => {
    const run = await runBundle({
      fields: fields("quick", {
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:missing",
      }),
    });
    assert.equal(run.code, 20, run.stderr);
    assert.match(run.doc?.["status_description"], /StateMachineDoesNotExist/);
  });

  test("the account's open-execution quota reached (ExecutionLimitExceeded): exit 36, nothing started or redriven, said plainly", async () => {
    const failed = await sfn.send(new StartExecutionCommand({ stateMachineArn: arns["fails"] }));
    await ep.waitForExecution(failed.executionArn!);
    const refusals = (operation: string) =>
      ep.requests.filter(
        (r) => r.operation === operation && r.errorCode === "ExecutionLimitExceeded",
      ).length;
    // No room for one more open execution: AWS refuses with ExecutionLimitExceeded.
    ep.setMaxOpenExecutions(0);
    try {
      const starting = await runBundle({
        fields: fields("quick", { wait_for_success_or_failure: true, polling_interval: 1 }),
        env: { UE_TASK_INSTANCE_ID: "quota1" },
      });
      const redriving = await runBundle({
        fields: {
          action: ["Redrive Execution"],
          endpoint_url: ep.url,
          credentials: {
            user: ep.credentials.accessKeyId,
            password: ep.credentials.secretAccessKey,
          },
          target_execution_arn: failed.executionArn,
        },
      });
      for (const [run, operation, notDone] of [
        [starting, "StartExecution", "started"],
        [redriving, "RedriveExecution", "redriven"],
      ] as const) {
        assert.equal(run.code, 36, run.stderr);
        assertValidDoc(run.doc);
        assert.equal(run.doc.exit_code, 36);
        assert.equal(run.doc.changed, false);
        const description = run.doc.status_description as string;
        assert.match(
          description,
          new RegExp(`^EXECUTION_LIMIT_EXCEEDED: the execution was not ${notDone}: `),
        );
        assert.match(description, /quota of open executions/);
        assert.match(description, /again later/);
        assert.match(description, new RegExp(`\\(ExecutionLimitExceeded on ${operation}\\)`));
        assert.equal(refusals(operation), 1, "asked once, not retried");
      }
    } finally {
      ep.setMaxOpenExecutions(undefined);
    }
    assert.equal(ep.getExecution(failed.executionArn!)?.status, "FAILED", "not redriven");
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arns["quick"] }));
    assert.ok(!listed.executions?.some((e) => e.name?.includes("quota1")), "nothing started");
  });

  test("wrong secret: exit 2, and the secret appears nowhere", async () => {
    const from = ep.requests.length;
    const run = await runBundle({
      fields: fields("quick", {
        credentials: { user: ep.credentials.accessKeyId, password: SECRET_CANARY },
      }),
    });
    assert.equal(run.code, 2, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /^AUTHENTICATION_ERROR: /);
    // The secret was in play: the start was signed with it, and refused for its signature
    // (no credentials at all would give exit 2 too, without a request).
    assert.deepEqual(
      ep.requests.slice(from).map((r) => [r.operation, r.accessKeyId, r.errorCode]),
      [["StartExecution", ep.credentials.accessKeyId, "InvalidSignatureException"]],
    );
    assert.ok(!run.allBytes.includes(SECRET_CANARY), "secret canary leaked");
  });

  test("unknown access key: exit 2", async () => {
    const from = ep.requests.length;
    const run = await runBundle({
      fields: fields("quick", {
        credentials: { user: "AKIAUNKNOWNKEY000000", password: SECRET_CANARY },
      }),
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.doc?.["status_description"], /^AUTHENTICATION_ERROR: /);
    assert.deepEqual(
      ep.requests.slice(from).map((r) => [r.operation, r.accessKeyId, r.errorCode]),
      [["StartExecution", "AKIAUNKNOWNKEY000000", "UnrecognizedClientException"]],
    );
    assert.ok(!run.allBytes.includes(SECRET_CANARY));
  });

  test("access denied: exit 3", async () => {
    const undo = ep.deny({ operation: "StartExecution" });
    try {
      const run = await runBundle({ fields: fields("quick") });
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.doc?.["status_description"], /^AUTHORIZATION_ERROR: /);
      // The name is published before the start, as documented; no ARN: nothing exists.
      assert.deepEqual(
        run.outputFields.map((f) => Object.keys(f)),
        [["generated_execution_name"]],
      );
    } finally {
      undo();
    }
  });

  test("endpoint down: exit 10", async () => {
    const run = await runBundle({
      fields: fields("quick", { endpoint_url: "http://127.0.0.1:1" }),
    });
    assert.equal(run.code, 10, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /^CONNECTION_ERROR: /);
    // No request went out: nothing may have started.
    assert.doesNotMatch(run.doc.status_description, /may have started/);
  });

  test("StartExecution carried out but never answered, even on retry: exit 10 naming the ARN, and a rerun re-attaches", async () => {
    const env = { UE_TASK_INSTANCE_ID: "noanswer1" };
    ep.faults.set({ loseReplies: 10, operations: ["StartExecution"] });
    let run: Awaited<ReturnType<typeof runBundle>>;
    try {
      run = await runBundle({ fields: fields("long"), env: { ...env, AWS_MAX_ATTEMPTS: "2" } });
    } finally {
      ep.faults.reset();
    }
    assert.equal(run.code, 10, run.stderr);
    assertValidDoc(run.doc);
    const arn = `${(arns["long"] as string).replace(":stateMachine:", ":execution:")}:e2e-task-noanswer1-1`;
    assert.equal(ep.getExecution(arn)?.status, "RUNNING", "the start was carried out");
    assert.match(run.doc.status_description, /^CONNECTION_ERROR: /);
    assert.ok(
      run.doc.status_description.includes(
        `so it may have started: ${arn}; a rerun of this task instance re-attaches to it while it runs`,
      ),
      run.doc.status_description,
    );
    assert.equal(run.doc.result, null, "nothing was read");
    assert.equal(run.doc.changed, false);
    assert.ok(!run.outputFields.some((f) => f["execution_arn"]));

    // A start within a second of the first counts as new (see the relaunch test below).
    await new Promise((r) => setTimeout(r, 1200));
    const rerun = await runBundle({ fields: fields("long"), env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(rerun.doc?.["result"].executionArn, arn);
    assert.equal(rerun.doc?.["changed"], false);
    assert.match(rerun.stderr, /re-attached/);
    await sfn.send(new StopExecutionCommand({ executionArn: arn }));
  });

  test("StartExecution's reply lost, then the endpoint gone: exit 10 naming the ARN (the last attempt's refused connection does not undo the first)", async () => {
    // A relay to the endpoint that carries the first request, drops its reply and stops
    // listening: the SDK's retry then meets a refused connection.
    let relayed = false;
    const relay = createServer((client) => {
      if (relayed) return client.destroy();
      relayed = true;
      const upstream = connect(Number(new URL(ep.url).port), "127.0.0.1");
      client.pipe(upstream);
      upstream.once("data", () => {
        client.destroy();
        upstream.destroy();
        relay.close();
      });
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    const { port } = relay.address() as AddressInfo;
    const run = await runBundle({
      fields: fields("long", { endpoint_url: `http://127.0.0.1:${port}` }),
      env: { UE_TASK_INSTANCE_ID: "lostthengone", AWS_MAX_ATTEMPTS: "3" },
    });
    relay.close();
    assert.equal(run.code, 10, run.stderr);
    assertValidDoc(run.doc);
    const arn = `${(arns["long"] as string).replace(":stateMachine:", ":execution:")}:e2e-task-lostthengone-1`;
    assert.equal(ep.getExecution(arn)?.status, "RUNNING", "the start was carried out");
    assert.match(run.doc.status_description, /^CONNECTION_ERROR: /);
    assert.ok(
      run.doc.status_description.includes(`so it may have started: ${arn}`),
      run.doc.status_description,
    );
    await sfn.send(new StopExecutionCommand({ executionArn: arn }));
  });

  test("throttled status checks during the wait do not fail the task", async () => {
    ep.faults.throttle("DescribeExecution", { bucketSize: 1, refillPerSecond: 0.5 });
    try {
      const run = await runBundle({
        fields: fields("twoSeconds", { wait_for_success_or_failure: true, polling_interval: 2 }),
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.doc?.["result"].status, "SUCCEEDED");
      assert.ok(
        ep.requests.some((r) => r.operation === "DescribeExecution" && r.status === 400),
        "the endpoint really throttled",
      );
    } finally {
      ep.faults.reset();
    }
  });

  test("assumed role whose credentials expire during the wait: still succeeds", async () => {
    ep.sts.setExpirySeconds(1);
    const issuedBefore = ep.sts.issued.length;
    try {
      const run = await runBundle({
        fields: fields("twoSeconds", {
          wait_for_success_or_failure: true,
          polling_interval: 1,
          role_based_access: true,
          role_arn: TOKEN_ROLE,
        }),
        env: {
          AWS_ENDPOINT_URL_STS: ep.url,
          UE_TASK_NAME: "Nightly Load",
          UE_TASK_INSTANCE_ID: "role1",
        },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.ok(ep.sts.issued.length - issuedBefore >= 2, "credentials were refreshed");
      const assume = ep.requests.find((r) => r.operation === "AssumeRole");
      assert.match(JSON.stringify(assume), /ue-aws-sfn-Nightly-Load-role1/);
    } finally {
      ep.sts.setExpirySeconds(undefined);
    }
  });

  test("relaunch of the same run re-attaches instead of starting a second execution", async () => {
    const env = { UE_TASK_INSTANCE_ID: "reattach1", UE_EXECUTION_COUNT: "1" };
    const first = await runBundle({ fields: fields("long", { input: '{"a":1}' }), env });
    assert.equal(first.code, 0, first.stderr);
    // An agent restart takes a while; a start within a second of the first counts as new.
    await new Promise((r) => setTimeout(r, 1200));
    const second = await runBundle({ fields: fields("long", { input: '{"a":1}' }), env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.doc?.["result"].executionArn, first.doc?.["result"].executionArn);
    assert.equal(second.doc?.["changed"], false);
    assert.match(second.stderr, /re-attached/);
    const starts = ep.requests.filter((r) => r.operation === "StartExecution" && r.status === 200);
    assert.ok(starts.length >= 2);
    await sfn.send(new StopExecutionCommand({ executionArn: first.doc?.["result"].executionArn }));
  });

  test("with UE_EXECUTION_COUNT, a relaunch after the execution closed reports its final result", async () => {
    const env = { UE_TASK_INSTANCE_ID: "reattach2", UE_EXECUTION_COUNT: "1" };
    const first = await runBundle({
      fields: fields("fails", { wait_for_success_or_failure: true }),
      env,
    });
    assert.equal(first.code, 23);
    const again = await runBundle({
      fields: fields("fails", { wait_for_success_or_failure: true }),
      env,
    });
    assert.equal(again.code, 23, again.stderr);
    assert.equal(again.doc?.["changed"], false);
    assert.equal(again.doc?.["result"].executionArn, first.doc?.["result"].executionArn);
    assert.equal(again.doc?.["result"].failedState, "RejectOrder");
    const d = await sfn.send(
      new DescribeExecutionCommand({ executionArn: first.doc?.["result"].executionArn }),
    );
    assert.equal(d.status, "FAILED");
  });

  test("with UE_EXECUTION_COUNT, the same name with another input is refused: exit 20", async () => {
    const env = { UE_TASK_INSTANCE_ID: "conflict1", UE_EXECUTION_COUNT: "1" };
    const first = await runBundle({ fields: fields("quick", { input: '{"a":1}' }), env });
    assert.equal(first.code, 0);
    const other = await runBundle({ fields: fields("quick", { input: '{"a":2}' }), env });
    assert.equal(other.code, 20, other.stderr);
    assertValidDoc(other.doc);
    assert.match(other.doc.status_description, /different input/);
  });

  test("a run while the instance's execution still runs with another input: exit 20, nothing started", async () => {
    const env = { UE_TASK_INSTANCE_ID: "conflict2" };
    const first = await runBundle({ fields: fields("long", { input: '{"a":1}' }), env });
    assert.equal(first.code, 0, first.stderr);
    const other = await runBundle({ fields: fields("long", { input: '{"a":2}' }), env });
    assert.equal(other.code, 20, other.stderr);
    assertValidDoc(other.doc);
    assert.match(
      other.doc.status_description,
      /^DATA_VALIDATION_ERROR: an execution named \S+-1 already exists with a different input; it is still RUNNING: wait for it to end or stop it/,
    );
    const mine = (
      await sfn.send(new ListExecutionsCommand({ stateMachineArn: arns["long"] }))
    ).executions?.filter((e) => e.name?.startsWith(first.doc?.["result"].name.replace(/-1$/, "")));
    assert.equal(mine?.length, 1, "no second execution");
    await sfn.send(new StopExecutionCommand({ executionArn: first.doc?.["result"].executionArn }));
  });

  test("the SDK's Node-version notice never reaches the job log", async () => {
    // Role assumption loads the SDK's STS client, the part that emits the notice.
    const run = await runBundle({
      fields: fields("quick", { role_based_access: true, role_arn: TOKEN_ROLE }),
      env: { AWS_ENDPOINT_URL_STS: ep.url },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /assumed role/, "the SDK part really ran");
    assert.doesNotMatch(run.stderr, /NodeVersionSupportWarning|NodeDeprecationWarning/);
    assert.doesNotMatch(run.stderr, /\(node:\d+\)/);
  });

  test("fields from UE_FIELD_* variables and flags work the same way", async () => {
    const run = await runBundle({
      env: {
        UE_FIELD_ENDPOINT_URL: ep.url,
        UE_FIELD_CREDENTIALS_USER: ep.credentials.accessKeyId,
        UE_FIELD_CREDENTIALS_PASSWORD: ep.credentials.secretAccessKey,
      },
      args: [
        "--state-machine-arn",
        arns["quick"] as string,
        "--wait-for-success-or-failure",
        "--polling-interval=1",
      ],
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.doc?.["result"].status, "SUCCEEDED");
    assert.equal(run.doc?.["invocation"].fields.polling_interval, 1);
  });

  test("without UE_EXTENSION_OUTPUT_FILE the document goes to stdout", async () => {
    const run = await runBundle({
      fields: fields("quick"),
      env: { UE_EXTENSION_OUTPUT_FILE: undefined },
    });
    assert.equal(run.code, 0);
    const doc = JSON.parse(run.stdout);
    assertValidDoc(doc);
    assert.equal(doc.exit_code, 0);
  });
});
