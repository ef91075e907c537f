/**
 * End to end: Send Task Success, Failure and Heartbeat with the bundle as a child process
 * against the local endpoint, every documented outcome, and task-token canaries: the
 * token never appears whole on stdout, stderr, the document or the output fields.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  type LocalEndpoint,
  startLocalEndpoint,
  type TaskTokenInfo,
} from "../../local/endpoint/index.ts";
import { assertValidDoc, type BundleRun, runBundle } from "../helpers/bundle.ts";
import { deadPort } from "../helpers/proxies.ts";

const QUEUE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
/** Far longer than one run of the program on a loaded machine, which is a heartbeat's gap. */
const LONG_HEARTBEAT_SECONDS = 6;

describe("task token callbacks, end to end", () => {
  let ep: LocalEndpoint;
  let machine: string;
  let shortHeartbeat: string;
  let longHeartbeat: string;
  const tokens: TaskTokenInfo[] = [];

  before(async () => {
    ep = await startLocalEndpoint();
    ep.onTaskToken((info) => tokens.push(info));
    const waitsFor = (heartbeat?: number) => ({
      StartAt: "AwaitApproval",
      States: {
        AwaitApproval: {
          Type: "Task",
          Resource: QUEUE,
          Parameters: { "token.$": "$$.Task.Token", "job.$": "$.job" },
          ...(heartbeat ? { HeartbeatSeconds: heartbeat } : {}),
          End: true,
        },
      },
    });
    machine = ep.createStateMachine({ name: "approval", definition: waitsFor() });
    shortHeartbeat = ep.createStateMachine({ name: "heartbeat", definition: waitsFor(1) });
    longHeartbeat = ep.createStateMachine({
      name: "heartbeat6",
      definition: waitsFor(LONG_HEARTBEAT_SECONDS),
    });
  });
  after(async () => {
    await ep.close();
  });

  /** Start an execution of the machine and resolve with the token its task waits on. */
  const waitingTask = async (arn = machine): Promise<{ executionArn: string; token: string }> => {
    const before = tokens.length;
    const started = await fetchStart(arn);
    for (let i = 0; i < 200 && tokens.length === before; i++) await sleep(10);
    const info = tokens.find((t) => t.executionArn === started);
    assert.ok(info, "the task handed out a token");
    return { executionArn: started, token: info.taskToken };
  };
  const fetchStart = async (arn: string): Promise<string> => {
    const { SFNClient, StartExecutionCommand } = await import("@aws-sdk/client-sfn");
    const sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    try {
      const out = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: arn, input: '{"job":"nightly"}' }),
      );
      return out.executionArn as string;
    } finally {
      sfn.destroy();
    }
  };

  const fields = (action: string, token: string, extra: Record<string, unknown> = {}) => ({
    action: [action],
    endpoint_url: ep.url,
    region: ep.region,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    task_token: token,
    ...extra,
  });

  /** The canary: nothing the program wrote holds the token (nor its base64 form). */
  const assertTokenHidden = (run: BundleRun, token: string) => {
    assert.ok(!run.allBytes.includes(token), "the task token leaked");
    assert.ok(!run.allBytes.includes(Buffer.from(token).toString("base64")));
    assert.ok(!run.allBytes.includes(token.slice(0, 40)), "a long prefix of the token leaked");
    assert.equal(run.doc?.["invocation"].fields.task_token, "****");
    const fingerprint = createHash("sha256").update(token).digest("hex").slice(0, 8);
    assert.match(run.stderr, new RegExp(`fingerprint ${fingerprint}`));
    assert.equal(run.doc?.["result"]?.taskTokenFingerprint, fingerprint);
  };

  test("Send Task Success releases the task with the output; exit 0, changed", async () => {
    const { executionArn, token } = await waitingTask();
    const output = '{ "approved": true, "by": "night shift", "n": 1.50 }';
    const run = await runBundle({
      fields: fields("Send Task Success", token, { task_output: output }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /^SUCCESS: success sent/);
    assert.equal(run.doc.changed, true);
    assert.equal(run.doc.result.callback, "SendTaskSuccess");
    assert.equal(run.doc.result.output, output);
    assert.deepEqual(run.doc.result.outputParsed, { approved: true, by: "night shift", n: 1.5 });
    assertTokenHidden(run, token);
    const done = await ep.waitForExecution(executionArn);
    assert.equal(done.status, "SUCCEEDED");
    assert.deepEqual(JSON.parse(done.output ?? "null"), JSON.parse(output));
  });

  test("Send Task Success whose reply was lost: the retry's TaskTimedOut says the first attempt may have delivered it", async () => {
    const { executionArn, token } = await waitingTask();
    ep.clearRequests();
    // AWS carries out the first call, but its answer never arrives; the SDK tries again.
    ep.faults.set({ operations: ["SendTaskSuccess"], loseReplies: 1 });
    try {
      const run = await runBundle({
        fields: fields("Send Task Success", token, { task_output: '{"ok":true}' }),
      });
      assert.equal(run.code, 31, run.stderr);
      assertValidDoc(run.doc);
      assert.match(
        run.doc.status_description,
        /an earlier attempt of this call got no answer and may be the one that delivered it/,
      );
      assertTokenHidden(run, token);
    } finally {
      ep.faults.reset();
    }
    const calls = ep.requests.filter((r) => r.operation === "SendTaskSuccess");
    assert.deepEqual(
      calls.map((r) => r.fault ?? r.errorCode),
      ["reply-lost", "TaskTimedOut"],
    );
    assert.equal((await ep.waitForExecution(executionArn)).status, "SUCCEEDED");
  });

  test("Send Task Success whose every answer was lost: exit 10 says it may have been delivered, naming the token's fingerprint", async () => {
    const { executionArn, token } = await waitingTask();
    ep.clearRequests();
    // AWS carries out the first call (the retries find the task closed), no answer arrives.
    ep.faults.set({ operations: ["SendTaskSuccess"], loseReplies: 100 });
    try {
      const run = await runBundle({
        fields: fields("Send Task Success", token, { task_output: '{"ok":true}' }),
      });
      assert.equal(run.code, 10, run.stderr);
      assertValidDoc(run.doc);
      const fingerprint = createHash("sha256").update(token).digest("hex").slice(0, 8);
      assert.match(
        run.doc.status_description,
        new RegExp(
          `^CONNECTION_ERROR: .*; AWS gave no answer to SendTaskSuccess for the task token with fingerprint ${fingerprint}, so it may have been delivered: see the execution's history$`,
        ),
      );
      assertTokenHidden(run, token);
    } finally {
      ep.faults.reset();
    }
    assert.equal((await ep.waitForExecution(executionArn)).status, "SUCCEEDED");
  });

  test("a callback that never got a connection says nothing of a delivery: exit 10", async () => {
    const { executionArn, token } = await waitingTask();
    const nothing = await deadPort();
    const run = await runBundle({
      fields: fields("Send Task Heartbeat", token, { endpoint_url: `http://127.0.0.1:${nothing}` }),
    });
    assert.equal(run.code, 10, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /^CONNECTION_ERROR: /);
    assert.doesNotMatch(run.doc.status_description, /may have been delivered/);
    assertTokenHidden(run, token);
    assert.equal(ep.pendingTaskTokens(executionArn).length, 1, "the task still waits");
  });

  test("Send Task Failure fails the task with the error and cause; defaults name the task", async () => {
    const first = await waitingTask();
    const run = await runBundle({
      fields: fields("Send Task Failure", first.token, {
        error: "Approval.Rejected",
        cause: "budget exceeded",
      }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc.result.callback, "SendTaskFailure");
    assertTokenHidden(run, first.token);
    const failed = await ep.waitForExecution(first.executionArn);
    assert.equal(failed.status, "FAILED");
    assert.equal(failed.error, "Approval.Rejected");
    assert.equal(failed.cause, "budget exceeded");

    const second = await waitingTask();
    const plain = await runBundle({
      fields: fields("Send Task Failure", second.token),
      env: { UE_TASK_NAME: "approve-batch", UE_TASK_INSTANCE_ID: "inst42" },
    });
    assert.equal(plain.code, 0, plain.stderr);
    const defaulted = await ep.waitForExecution(second.executionArn);
    assert.equal(defaulted.error, "ue-aws-stepfunctions.TaskFailed");
    assert.equal(defaulted.cause, "failed by approve-batch (instance inst42)");
  });

  test("Send Task Heartbeat keeps a task with HeartbeatSeconds alive", async () => {
    const { executionArn, token } = await waitingTask(longHeartbeat);
    const startedAt = Date.now();
    // Each heartbeat follows the end of the run before it after a short pause: a gap is one
    // pause and one run of the program, however slow the machine, never a fixed time that a
    // slow start of the program could push past HeartbeatSeconds. They go on until the task
    // has waited longer than HeartbeatSeconds, then the status is read at once.
    const pastHeartbeatMs = LONG_HEARTBEAT_SECONDS * 1000 + 1000;
    let heartbeats = 0;
    while (heartbeats < 2 || Date.now() - startedAt <= pastHeartbeatMs) {
      if (heartbeats > 0) await sleep(1000);
      const run = await runBundle({ fields: fields("Send Task Heartbeat", token) });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.result.callback, "SendTaskHeartbeat");
      assert.equal(run.doc.changed, true);
      assertTokenHidden(run, token);
      heartbeats++;
    }
    // Past HeartbeatSeconds since the task started: only the heartbeats kept it waiting.
    assert.equal(ep.getExecution(executionArn)?.status, "RUNNING");
    const done = await runBundle({ fields: fields("Send Task Success", token) });
    assert.equal(done.code, 0, done.stderr);
    assert.equal((await ep.waitForExecution(executionArn)).output, "{}");
  });

  // [what, token to send, exit code, status word, message start]
  const refused: Array<[string, () => Promise<string>, number, string, RegExp]> = [
    [
      "a token whose task was already answered",
      async () => {
        const { executionArn, token } = await waitingTask();
        const first = await runBundle({ fields: fields("Send Task Success", token) });
        assert.equal(first.code, 0, first.stderr);
        await ep.waitForExecution(executionArn);
        return token;
      },
      31,
      "TASK_TIMED_OUT",
      /the task of this task token is closed/,
    ],
    [
      "a token whose task timed out (no heartbeat)",
      async () => {
        const { executionArn, token } = await waitingTask(shortHeartbeat);
        const ended = await ep.waitForExecution(executionArn, 10_000);
        // A heartbeat timeout, as AWS reports it: States.Timeout.
        assert.equal(ended.status, "FAILED");
        assert.equal(ended.error, "States.Timeout");
        return token;
      },
      31,
      "TASK_TIMED_OUT",
      /timed out \(its TimeoutSeconds or HeartbeatSeconds\)/,
    ],
    [
      "a well-formed token no task knows",
      async () => `AQCLocal${"Q".repeat(160)}`,
      32,
      "TASK_DOES_NOT_EXIST",
      /no task is known for this task token/,
    ],
    [
      "a token AWS cannot read",
      async () => "not-a-real-task-token-0123456789",
      33,
      "INVALID_TASK_TOKEN",
      /AWS cannot read this task token/,
    ],
  ];
  for (const [what, tokenFor, code, word, message] of refused) {
    test(`refused: ${what} (exit ${code})`, async () => {
      const token = await tokenFor();
      const run = await runBundle({ fields: fields("Send Task Success", token) });
      assert.equal(run.code, code, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, code);
      assert.ok(run.doc.status_description.startsWith(`${word}: `), run.doc.status_description);
      assert.match(run.doc.status_description, message);
      assert.equal(run.doc.changed, false);
      assert.equal(run.doc.result.callback, "SendTaskSuccess");
      assertTokenHidden(run, token);
    });
  }

  // A token that reads like the document's own words or figures: masked where it stands, the
  // document still whole, valid and with the real outcome. [what, token, output, parsed output]
  const lookalikes: Array<[string, string, string, unknown]> = [
    ["a word of the document's keys", "task", '{"task":1}', { "****": 1 }],
    ["a number in the output", "12345", '{"n":12345,"m":7}', { n: "****", m: 7 }],
    ["a key of the result", "output", '{"output":"output"}', { "****": "****" }],
  ];
  for (const [what, token, output, parsed] of lookalikes) {
    test(`a token that is ${what}: the document stays valid, exit 33`, async () => {
      const run = await runBundle({
        fields: fields("Send Task Success", token, { task_output: output }),
      });
      assert.equal(run.code, 33, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, 33);
      assert.match(run.doc.status_description, /^INVALID_TASK_TOKEN: /);
      assert.equal(run.doc.result.callback, "SendTaskSuccess");
      assert.deepEqual(run.doc.result.outputParsed, parsed);
      assert.equal(run.doc.invocation.fields.task_token, "****");
      assert.ok(!run.docText.includes(output), "the output holding the token is masked");
    });
  }

  test("field problems are all reported before any call, the token still hidden", async () => {
    const token = `AQCLocal${"Z".repeat(160)}`;
    ep.clearRequests();
    const run = await runBundle({
      fields: fields("Send Task Failure", token, {
        error: "e".repeat(300),
        cause: "c".repeat(40_000),
      }),
    });
    assert.equal(run.code, 20, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /^DATA_VALIDATION_ERROR: 2 fields are invalid/);
    assert.match(run.doc.status_description, /Error: must be at most 256 characters/);
    assert.match(run.doc.status_description, /Cause: must be at most 32768 characters/);
    assert.equal(ep.requests.length, 0, "no AWS call was made");
    assert.ok(!run.allBytes.includes(token));
    assert.equal(run.doc.invocation.fields.task_token, "****");
  });

  test("a task token names no region: without the field or the environment, exit 20 before any call", async () => {
    const token = `AQCLocal${"R".repeat(160)}`;
    ep.clearRequests();
    const { region: _none, ...noRegion } = fields("Send Task Heartbeat", token);
    const run = await runBundle({ fields: { ...noRegion, task_token: "t".repeat(2049) } });
    assert.equal(run.code, 20, run.stderr);
    assertValidDoc(run.doc);
    // Reported with the other problems, at once.
    assert.match(run.doc.status_description, /^DATA_VALIDATION_ERROR: 2 fields are invalid/);
    assert.match(run.doc.status_description, /AWS Region: is required for Send Task Heartbeat/);
    assert.match(run.doc.status_description, /Task Token: must be at most 2048 characters/);
    assert.equal(ep.requests.length, 0);
    const fromEnv = await runBundle({ fields: noRegion, env: { AWS_REGION: ep.region } });
    assert.equal(fromEnv.code, 32, fromEnv.stderr);
  });

  test("the token never reaches the logs, even with every debug switch the program allows on", async () => {
    const { executionArn, token } = await waitingTask();
    const run = await runBundle({
      fields: fields("Send Task Success", token, { task_output: "[1,2]" }),
      env: { UE_DEBUG: "true", DEBUG: "*", NODE_DEBUG: "timer,module" },
    });
    assert.equal(run.code, 0, run.stderr);
    assertTokenHidden(run, token);
    assert.equal((await ep.waitForExecution(executionArn)).output, "[1,2]");
  });

  test("NODE_DEBUG sections that print traffic are refused before the token is sent", async () => {
    const { executionArn, token } = await waitingTask();
    ep.clearRequests();
    const run = await runBundle({
      fields: fields("Send Task Success", token, { task_output: "[1,2]" }),
      env: { NODE_DEBUG: "http,net,tls" },
    });
    assert.equal(run.code, 20, run.stderr);
    assert.match(run.doc?.status_description ?? "", /NODE_DEBUG: names http, net, tls/);
    assert.ok(!run.allBytes.includes(token));
    assert.equal(ep.requests.length, 0);
    assert.equal(ep.getExecution(executionArn)?.status, "RUNNING");
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
