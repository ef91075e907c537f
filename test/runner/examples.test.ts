/**
 * The examples a newcomer runs by hand, run as the how-to says: the runner's command line
 * (a child process, on the built package) against the local endpoint.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { StartExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type LocalEndpoint,
  startLocalEndpoint,
} from "../../local/endpoint/index.ts";
import { startCli, stopCli, waitForStatus } from "../local-endpoint/helpers.ts";
import { runTool } from "../helpers/local-tools.ts";
import { PACKAGE_ZIP, ROOT, requireBuilt } from "../helpers/paths.ts";

const EXAMPLES = join(ROOT, "examples");
const CREDENTIALS = join(EXAMPLES, "credentials.json");

describe("the Express example", () => {
  let ep: LocalEndpoint;
  before(async () => {
    requireBuilt(PACKAGE_ZIP);
    ep = await startLocalEndpoint({ definitionsDir: join(EXAMPLES, "state-machines") });
  });
  after(() => ep.close());

  test("validate-order.task.json runs validate-order with Start Synchronous Express Execution", async () => {
    const task = join(EXAMPLES, "tasks", "validate-order.task.json");

    const run = await runTool("runner/cli.ts", [
      "run",
      task,
      "--credentials",
      CREDENTIALS,
      "--var",
      `endpoint_url=${ep.url}`,
      "--var",
      "credential=local-test",
    ]);

    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /validate-order\b.*output field execution_status = SUCCEEDED/);
    assert.match(
      run.stdout,
      /"outputParsed": \{\s+"orderId": "order-42",\s+"lineCount": 2,\s+"verdict": "accepted"/,
    );
    const calls = ep.requests
      .filter((r) => r.service === "states")
      .map((r) => `${r.operation} ${r.status}`);
    assert.deepEqual(calls, ["StartSyncExecution 200"]);
    assert.equal(
      ep.requests[0]?.resource,
      "arn:aws:states:us-east-1:123456789012:stateMachine:validate-order",
    );
  });
});

describe("answering a task token by hand", () => {
  test("the token the endpoint prints, sent with release-approval.task.json, lets the execution succeed", async () => {
    requireBuilt(PACKAGE_ZIP);
    const endpoint = await startCli(["--definitions", join(EXAMPLES, "state-machines")]);
    const sfn = new SFNClient({
      endpoint: endpoint.url,
      region: "us-east-1",
      maxAttempts: 1,
      credentials: {
        accessKeyId: DEFAULT_ACCESS_KEY_ID,
        secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
      },
    });
    try {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:approval",
          input: '{"batchId":"batch-2024-001"}',
        }),
      );
      const [, token = ""] = await endpoint.waitFor(/^(AQCLocal[A-Za-z0-9_-]+)$/m);

      const run = await runTool("runner/cli.ts", [
        "run",
        join(EXAMPLES, "tasks", "release-approval.task.json"),
        "--credentials",
        CREDENTIALS,
        "--var",
        `endpoint_url=${endpoint.url}`,
        "--var",
        "credential=local-test",
        "--var",
        "batch_id=batch-2024-001",
        "--var",
        `task_token=${token}`,
      ]);
      const done = await waitForStatus(sfn, executionArn ?? "");

      assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
      assert.equal(done.status, "SUCCEEDED");
      assert.deepEqual(JSON.parse(done.output ?? "{}"), {
        batchId: "batch-2024-001",
        approvedBy: "night shift",
        approved: true,
      });
      // The endpoint prints the token; the product never does.
      assert.ok(
        !`${run.stdout}${run.stderr}`.includes(token),
        "the runner's output shows the task token",
      );
    } finally {
      sfn.destroy();
      assert.equal(await stopCli(endpoint.child), 0);
    }
  });

  test("a task file run without a value for one of its variables names it and exits 2", async () => {
    const run = await runTool("runner/cli.ts", [
      "run",
      join(EXAMPLES, "tasks", "release-approval.task.json"),
      "--credentials",
      CREDENTIALS,
      "--var",
      "endpoint_url=http://127.0.0.1:9",
      "--var",
      "credential=local-test",
      "--var",
      "batch_id=b",
    ]);

    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^runner: task file \S+release-approval\.task\.json uses \$\{vars\.task_token\}: give it with --var NAME=VALUE\n$/,
    );
  });
});
