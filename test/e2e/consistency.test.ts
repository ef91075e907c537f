/**
 * End to end: DescribeExecution's eventual consistency right after a start or a redrive
 * (the local endpoint's consistency knob), with the bundle as a child process.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

const FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky-ledger";

describe("eventual consistency after a start or a redrive", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let quick: string;
  let ledger: string;
  let flakyFails = true;

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    ep.registerTaskHandler(FLAKY, (input) => {
      if (flakyFails) throw new TaskFailure("Ledger.Locked", "the ledger is being closed");
      return { posted: input };
    });
    quick = ep.createStateMachine({
      name: "quick",
      definition: { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } },
    });
    ledger = ep.createStateMachine({
      name: "ledger",
      definition: {
        StartAt: "Post",
        States: {
          Post: { Type: "Task", Resource: FLAKY, Next: "Settle" },
          Settle: { Type: "Wait", Seconds: 1, End: true },
        },
      },
    });
  });
  afterEach(() => ep.consistency.reset());
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  const credentials = () => ({
    user: ep.credentials.accessKeyId,
    password: ep.credentials.secretAccessKey,
  });
  const describeErrors = (arn: string) =>
    ep.requests.filter((r) => r.operation === "DescribeExecution" && r.resource === arn);

  test("a just-started execution DescribeExecution does not find yet is looked up again: exit 0", async () => {
    ep.consistency.set({ hiddenAfterStart: 2 });
    const run = await runBundle({
      fields: {
        action: ["Start Asynchronous Execution"],
        endpoint_url: ep.url,
        credentials: credentials(),
        state_machine_arn: quick,
        wait_for_success_or_failure: true,
        polling_interval: 1,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.status, "SUCCEEDED");
    const calls = describeErrors(run.doc?.result.executionArn);
    assert.deepEqual(
      calls.slice(0, 3).map((c) => c.errorCode ?? "ok"),
      ["ExecutionDoesNotExist", "ExecutionDoesNotExist", "ok"],
    );
  });

  test("the look-ups are bounded: an execution that never shows is a clear error with its ARN", async () => {
    ep.consistency.set({ hiddenAfterStart: 100 });
    const run = await runBundle({
      fields: {
        action: ["Start Asynchronous Execution"],
        endpoint_url: ep.url,
        credentials: credentials(),
        state_machine_arn: quick,
        wait_for_success_or_failure: true,
      },
    });
    assert.equal(run.code, 20, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc?.status_description, /ExecutionDoesNotExist/);
    const arn = run.doc?.result.executionArn;
    assert.match(arn, /:execution:quick:/);
    assert.equal(describeErrors(arn).length, 5, "one look-up and four more");
  });

  test("after a redrive an old FAILED is not taken for the redrive's result", async () => {
    flakyFails = true;
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: ledger, name: "ledger-stale-1" }),
    );
    const arn = started.executionArn as string;
    assert.equal((await ep.waitForExecution(arn)).status, "FAILED");
    flakyFails = false;
    ep.consistency.set({ staleAfterRedrive: 3 });
    const run = await runBundle({
      fields: {
        action: ["Redrive Execution"],
        endpoint_url: ep.url,
        credentials: credentials(),
        target_execution_arn: arn,
        wait_for_success_or_failure: true,
        polling_interval: 1,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.status, "SUCCEEDED");
    assert.equal(run.doc?.result.redriveCount, 1);
    assert.doesNotMatch(run.stderr + run.stdout, /status PENDING_REDRIVE -> FAILED/);
    const redriveAt = ep.requests.findIndex((r) => r.operation === "RedriveExecution");
    const afterRedrive = ep.requests
      .slice(redriveAt)
      .filter((r) => r.operation === "DescribeExecution" && r.resource === arn);
    assert.ok(afterRedrive.length >= 4, "three stale replies, then the redrive's own");
  });
});
