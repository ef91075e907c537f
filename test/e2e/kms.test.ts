/**
 * End to end: state machines encrypted with a customer managed KMS key whose policy refuses
 * the task's credentials kms:Decrypt. The task still supervises the execution (status with
 * METADATA_ONLY), reports the final status with its exit code, and says plainly what it
 * could not read and why; a cancel stops the execution without an error and a cause.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";
import { startLossyRelay } from "../helpers/lossy-relay.ts";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/** A task that waits for a callback with its task token. */
const APPROVAL = {
  StartAt: "Await",
  States: {
    Await: {
      Type: "Task",
      Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      Parameters: { "token.$": "$$.Task.Token" },
      End: true,
    },
  },
};

describe("customer managed KMS keys without kms:Decrypt", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  const arns: Record<string, string> = {};

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    const define = (name: string, definition: object) => {
      arns[name] = ep.createStateMachine({ name, definition });
      ep.encryptStateMachine(arns[name], {
        kmsKeyId: KEY,
        refuseDecryptTo: [ep.credentials.accessKeyId],
      });
    };
    define("sealedOk", {
      StartAt: "Hold",
      States: {
        Hold: { Type: "Wait", Seconds: 1, Next: "Done" },
        Done: { Type: "Pass", Result: { secret: "payroll" }, End: true },
      },
    });
    define("sealedFails", {
      StartAt: "Hold",
      States: {
        Hold: { Type: "Wait", Seconds: 1, Next: "Reject" },
        Reject: { Type: "Fail", Error: "Payroll.Rejected", Cause: "salary data invalid" },
      },
    });
    define("sealedHeld", {
      StartAt: "W",
      States: { W: { Type: "Wait", SecondsPath: "$.s", End: true } },
    });
    define("sealedLong", {
      StartAt: "Slow",
      States: { Slow: { Type: "Wait", Seconds: 120, End: true } },
    });
    define("sealedApproval", APPROVAL);
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  const fields = (action: string, extra: Record<string, unknown>) => ({
    action: [action],
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    polling_interval: 1,
    ...extra,
  });
  const kmsRefusals = (arn: string) =>
    ep.requests.filter((r) => r.resource === arn && r.errorCode === "KmsAccessDeniedException")
      .length;

  test("SUCCEEDED: exit 0, the output said to be unreadable and why, one refused call", async () => {
    const run = await runBundle({
      fields: fields("Start Asynchronous Execution", {
        state_machine_arn: arns["sealedOk"],
        wait_for_success_or_failure: true,
      }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    const result = run.doc?.result;
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(result.output, null);
    assert.deepEqual(result.outputDetails, { included: false }, "as AWS says of METADATA_ONLY");
    assert.match(result.dataUnavailable, /could not be read: .*kms:Decrypt/);
    assert.match(
      run.doc?.status_description,
      /SUCCEEDED; its output, error and cause could not be read/,
    );
    assert.match(run.stderr, /following its status only \(DescribeExecution with METADATA_ONLY\)/);
    assert.doesNotMatch(run.allBytes, /payroll/, "nothing of the encrypted output leaks");
    assert.equal(kmsRefusals(result.executionArn), 1, "METADATA_ONLY after the first refusal");
  });

  test("FAILED: exit 23, the failing state from the history, no error or cause invented", async () => {
    const run = await runBundle({
      fields: fields("Start Asynchronous Execution", {
        state_machine_arn: arns["sealedFails"],
        wait_for_success_or_failure: true,
      }),
    });
    assert.equal(run.code, 23, run.stderr);
    assertValidDoc(run.doc);
    const result = run.doc?.result;
    assert.equal(result.status, "FAILED");
    assert.equal(result.failedState, "Reject");
    assert.equal(result.error, null);
    assert.equal(result.cause, null);
    assert.match(
      run.doc?.status_description,
      /^FAIL: execution .* ended FAILED in state "Reject"; its output, error and cause could not be read: /,
    );
    assert.doesNotMatch(run.allBytes, /salary data invalid/);
  });

  test("Monitor Execution follows an encrypted execution to its end", async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arns["sealedFails"], name: "monitored-1" }),
    );
    const run = await runBundle({
      fields: fields("Monitor Execution", {
        target_execution_arn: started.executionArn,
        monitor_polling_interval: 1,
      }),
    });
    assert.equal(run.code, 23, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.status, "FAILED");
    assert.match(run.doc?.result.dataUnavailable, /kms:Decrypt/);
  });

  test("a start whose attempt got no answer, then 'taken' on the retry by a running execution of another input: not taken for this start's own", async () => {
    const name = "e2e-task-kms-lost-other-1";
    // The first attempt never reaches AWS (reset unforwarded), and meanwhile another launch
    // starts the name with another input; the SDK's retry then meets it RUNNING: taken.
    const relay = await startLossyRelay(ep.url, [
      {
        operation: "StartExecution",
        fault: "reset",
        after: () =>
          sfn.send(
            new StartExecutionCommand({
              stateMachineArn: arns["sealedHeld"],
              name,
              input: '{"s":60}',
            }),
          ),
      },
    ]);
    try {
      const run = await runBundle({
        fields: fields("Start Asynchronous Execution", {
          state_machine_arn: arns["sealedHeld"],
          input: '{"s":61}',
          endpoint_url: relay.url,
        }),
        env: { UE_TASK_INSTANCE_ID: "kms-lost-other" },
      });

      assert.equal(run.code, 20, run.stderr);
      assertValidDoc(run.doc);
      assert.match(
        run.doc.status_description,
        new RegExp(`an execution named ${name} already exists with a different input`),
      );
      assert.equal(run.doc.changed, false);
      assert.doesNotMatch(run.stderr, /an attempt whose answer was lost started it/);
    } finally {
      await relay.close();
    }
  });

  test("reruns and relaunches find their place without reading data", async () => {
    const env = { UE_TASK_INSTANCE_ID: "kms-rerun" };
    const held = (input: string, extra: Record<string, unknown> = {}) =>
      fields("Start Asynchronous Execution", {
        state_machine_arn: arns["sealedHeld"],
        input,
        ...extra,
      });
    const first = await runBundle({
      fields: held('{"s":0}', { wait_for_success_or_failure: true }),
      env,
    });
    assert.equal(first.code, 0, first.stderr);

    ep.clearRequests();
    // The rerun: -1 ended, so -2 starts (the look-ups ask for no data).
    const rerun = await runBundle({ fields: held('{"s":60}'), env });
    assert.equal(rerun.code, 0, rerun.stderr);
    assertValidDoc(rerun.doc);
    assert.equal(rerun.doc.result.name, "e2e-task-kms-rerun-2");
    assert.equal(rerun.doc.changed, true);
    // The relaunch of that run: -2 still runs with the same input, which AWS confirms.
    const relaunched = await runBundle({ fields: held('{"s":60}'), env });
    assert.equal(relaunched.code, 0, relaunched.stderr);
    assertValidDoc(relaunched.doc);
    assert.equal(relaunched.doc.result.name, "e2e-task-kms-rerun-2");
    assert.equal(relaunched.doc.changed, false);
    assert.equal(
      ep.requests.filter((r) => r.errorCode?.startsWith("Kms")).length,
      0,
      "no call was refused by the key",
    );
    // Another input: AWS refuses a start of the running execution's name, which tells.
    const changed = await runBundle({ fields: held('{"s":61}'), env });
    assert.equal(changed.code, 20, changed.stderr);
    assertValidDoc(changed.doc);
    assert.match(
      changed.doc.status_description,
      /an execution named e2e-task-kms-rerun-2 already exists with a different input; it is still RUNNING/,
    );
    // A scheduler's count naming the ended -1: its result, without the inputs compared.
    const counted = await runBundle({
      fields: held('{"s":0}'),
      env: { ...env, UE_EXECUTION_COUNT: "1" },
    });
    assert.equal(counted.code, 0, counted.stderr);
    assertValidDoc(counted.doc);
    assert.equal(counted.doc.changed, false);
    assert.match(
      counted.doc.status_description,
      /^SUCCESS: execution e2e-task-kms-rerun-1 SUCCEEDED; its output, error and cause could not be read: /,
    );
    assert.match(counted.stderr, /the input of execution e2e-task-kms-rerun-1 cannot be read/);
  });

  test("the Redrive Execution picker lists a failed encrypted execution, reading no data", async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arns["sealedFails"], name: "to-redrive-1" }),
    );
    const arn = started.executionArn as string;
    assert.equal((await ep.waitForExecution(arn)).status, "FAILED");
    ep.clearRequests();
    const run = await runBundle({
      args: [
        "--list",
        "executions",
        "--action",
        "Redrive Execution",
        "--state-machine",
        arns["sealedFails"] as string,
      ],
      env: {
        UE_FIELD_ENDPOINT_URL: ep.url,
        UE_FIELD_REGION: ep.region,
        UE_FIELD_CREDENTIALS_USER: ep.credentials.accessKeyId,
        UE_FIELD_CREDENTIALS_PASSWORD: ep.credentials.secretAccessKey,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    const choices = JSON.parse(run.stdout) as Array<{ value: string; status: string }>;
    assert.ok(
      choices.some((c) => c.value === arn && c.status === "FAILED"),
      JSON.stringify(choices),
    );
    assert.equal(kmsRefusals(arn), 0, "the redrive check asks for the status only");
  });

  const UNREAD = /; its output, error and cause could not be read: .*kms:Decrypt/;

  test("Stop Execution stops without an error and a cause, and says so", async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arns["sealedLong"], name: "to-stop-1" }),
    );
    const arn = started.executionArn as string;
    const run = await runBundle({
      fields: fields("Stop Execution", { target_execution_arn: arn }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.changed, true);
    assert.equal(run.doc?.result.status, "ABORTED");
    assert.match(run.doc?.result.dataUnavailable, /kms:Decrypt/);
    const description = run.doc?.status_description as string;
    assert.match(description, /^SUCCESS: execution to-stop-1 stopped without an error and a cause/);
    assert.match(description, UNREAD);
    assert.doesNotMatch(description, /ue-aws-stepfunctions\.Stopped/, "no error it did not send");
    assert.equal(ep.getExecution(arn)?.error, undefined);
  });

  test("Stop Execution of an ended execution says what it could not read", async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arns["sealedFails"], name: "to-stop-2" }),
    );
    const arn = started.executionArn as string;
    await ep.waitForExecution(arn);
    const run = await runBundle({
      fields: fields("Stop Execution", { target_execution_arn: arn }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.changed, false);
    assert.match(run.doc?.result.dataUnavailable, /kms:Decrypt/);
    const description = run.doc?.status_description as string;
    assert.match(description, /had already ended FAILED; nothing to stop/);
    assert.match(description, UNREAD);
  });

  test("Monitor Execution's maximum wait: left running, and what could not be read", async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arns["sealedLong"], name: "watched-1" }),
    );
    const arn = started.executionArn as string;
    try {
      const run = await runBundle({
        fields: fields("Monitor Execution", {
          target_execution_arn: arn,
          monitor_polling_interval: 1,
          monitor_maximum_wait: 2,
        }),
      });
      assert.equal(run.code, 26, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc?.result.status, "RUNNING");
      assert.match(run.doc?.result.dataUnavailable, /kms:Decrypt/);
      const description = run.doc?.status_description as string;
      assert.match(description, /maximum wait of 2 s reached; execution watched-1 left running/);
      assert.match(description, UNREAD);
    } finally {
      await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    }
  });

  test("cancel: the execution is stopped without an error and a cause", async () => {
    const run = await runBundle({
      fields: fields("Start Asynchronous Execution", {
        state_machine_arn: arns["sealedLong"],
        wait_for_success_or_failure: true,
        stop_execution_on_cancel: true,
      }),
      onStart: (child, file) => {
        void waitForOutputField(file, "execution_status").then(() => child.kill("SIGTERM"));
      },
    });
    assert.equal(run.code, 27, run.stderr);
    assertValidDoc(run.doc);
    const arn = run.doc?.result.executionArn as string;
    const stopped = ep.getExecution(arn);
    assert.equal(stopped?.status, "ABORTED");
    assert.equal(stopped?.error, undefined);
    assert.match(run.doc?.status_description, /execution .* stopped/);
    assert.match(run.doc?.status_description, UNREAD);
    assert.match(run.stderr, /stopping execution .* without an error and a cause/);
  });

  describe("callbacks to a task of an encrypted execution", () => {
    /** Start an execution (of sealedApproval); its ARN and the token its task waits on. */
    const waitingTask = async (
      name: string,
      stateMachineArn = arns["sealedApproval"],
    ): Promise<{ arn: string; token: string }> => {
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name }));
      const arn = started.executionArn as string;
      for (let i = 0; i < 500 && ep.pendingTaskTokens(arn).length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const token = ep.pendingTaskTokens(arn)[0]?.taskToken;
      assert.ok(token, "the task handed out a token");
      return { arn, token };
    };
    const callback = (action: string, token: string, extra: Record<string, unknown> = {}) => ({
      action: [action],
      endpoint_url: ep.url,
      region: ep.region,
      credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
      task_token: token,
      ...extra,
    });

    test("Send Task Failure with the default error and cause fails the task without them, and says so", async () => {
      const { arn, token } = await waitingTask("approve-1");
      const run = await runBundle({ fields: callback("Send Task Failure", token) });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc?.changed, true);
      assert.match(
        run.doc?.status_description,
        /^SUCCESS: failure without an error and a cause \(.*kms:Decrypt.*\) sent/,
      );
      assert.equal(run.doc?.result.error, null);
      assert.equal(run.doc?.result.cause, null);
      const failed = await ep.waitForExecution(arn);
      assert.equal(failed.status, "FAILED");
      assert.ok(!failed.error, "no error was sent");
    });

    // [action, fields beyond the token]: what the user chose is never dropped.
    const refused: Array<[string, Record<string, unknown>]> = [
      ["Send Task Failure", { error: "Approval.Rejected" }],
      ["Send Task Failure", { cause: "budget exceeded" }],
      ["Send Task Success", { task_output: '{"approved":true}' }],
    ];
    test("Send Task Success while KMS throttles the key: the SDK tries again, exit 0", async () => {
      const approval = ep.createStateMachine({ name: "throttledApproval", definition: APPROVAL });
      const { arn, token } = await waitingTask("approve-throttled", approval);
      // A key these credentials may use, which KMS throttles once.
      ep.encryptStateMachine(approval, { kmsKeyId: KEY, throttleNext: 1 });
      ep.clearRequests();
      const run = await runBundle({
        fields: callback("Send Task Success", token, { task_output: '{"approved":true}' }),
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.deepEqual(
        ep.requests
          .filter((r) => r.operation === "SendTaskSuccess")
          .map((r) => r.errorCode ?? r.status),
        ["KmsThrottlingException", 200],
      );
      assert.equal((await ep.waitForExecution(arn)).status, "SUCCEEDED");
    });

    for (const [i, [action, extra]] of refused.entries()) {
      test(`${action} with ${Object.keys(extra).join(", ")}: refused by the key, exit 3, the task still waits`, async () => {
        const { arn, token } = await waitingTask(`approve-refused-${i}`);
        try {
          const run = await runBundle({ fields: callback(action, token, extra) });
          assert.equal(run.code, 3, run.stderr);
          assertValidDoc(run.doc);
          assert.equal(run.doc?.changed, false);
          assert.match(run.doc?.status_description, /^AUTHORIZATION_ERROR: .*KMS key/);
          assert.match(run.doc?.status_description, /KmsAccessDeniedException on /);
          assert.equal(ep.getExecution(arn)?.status, "RUNNING");
        } finally {
          await sfn.send(new StopExecutionCommand({ executionArn: arn }));
        }
      });
    }
  });
});
