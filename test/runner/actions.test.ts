/**
 * The further actions through the controller runner with the real package and the local
 * endpoint: Monitor (to the end, and cancelled), Stop, and the demo's callback round trip.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { callbackRoundTrip } from "../../local/demo-callback.ts";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import type { ControllerRunner } from "../../local/runner/runner.ts";
import { openPackageRunner } from "../helpers/runner-fixture.ts";
import { ROOT } from "../helpers/paths.ts";

const EXAMPLES = join(ROOT, "examples");

interface Doc {
  exit_code: number;
  changed: boolean;
  status_description: string;
  result: { status: string; outputParsed?: Record<string, unknown>; output?: string } | null;
}

describe("the further actions through the controller runner", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let runner: ControllerRunner;
  const events: RunnerEvent[] = [];
  const arn = (name: string) => `arn:aws:states:${ep.region}:${ep.accountId}:stateMachine:${name}`;
  const start = async (machine: string, input = "{}") =>
    (await sfn.send(new StartExecutionCommand({ stateMachineArn: arn(machine), input })))
      .executionArn as string;
  const task = (name: string, fields: Record<string, unknown>) => ({
    name,
    template: "AWS Step Functions",
    fields: { endpoint_url: ep.url, credentials: { $credential: "local-test" }, ...fields },
  });

  before(async () => {
    ep = await startLocalEndpoint({ definitionsDir: join(EXAMPLES, "state-machines") });
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    runner = await openPackageRunner((e) => events.push(e));
  });
  after(async () => {
    await runner.close();
    sfn.destroy();
    await ep.close();
  });

  test("Monitor Execution waits for an execution it did not start and reports it", async () => {
    const executionArn = await start("hello-world", '{"who":"monitor"}');
    const result = await runner.launch(
      task("watch-hello", {
        action: "Monitor Execution",
        target_execution_arn: executionArn,
        monitor_polling_interval: 1,
      }),
    ).result;
    assert.equal(result.state, "Success", JSON.stringify(result.problems));
    const doc = result.extensionOutput as Doc;
    assert.equal(doc.changed, false);
    assert.equal(doc.result?.status, "SUCCEEDED");
    assert.equal(doc.result?.outputParsed?.["greeting"], "Hello, monitor");
    assert.equal(result.outputFields["execution_arn"], executionArn);
    assert.equal(result.outputFields["execution_status"], "SUCCEEDED");
  });

  test("cancelling the monitoring task leaves the execution running", async () => {
    const executionArn = await start("long-running");
    const handle = runner.launch(
      task("watch-long", {
        action: "Monitor Execution",
        target_execution_arn: executionArn,
        monitor_polling_interval: 1,
      }),
    );
    await waitFor(() =>
      events.some(
        (e) =>
          e.type === "output-field" &&
          e.task.instanceId === handle.instanceId &&
          e.name === "execution_status",
      ),
    );
    handle.cancel("the operator cancelled the monitor");
    const result = await handle.result;
    assert.equal(result.state, "Cancelled");
    assert.equal(result.exitCode, 27);
    assert.equal((result.extensionOutput as Doc).changed, false);
    assert.equal(ep.getExecution(executionArn)?.status, "RUNNING");
    await sfn.send(new StopExecutionCommand({ executionArn }));
  });

  test("Stop Execution stops a running execution; the controller sees Success", async () => {
    const executionArn = await start("long-running");
    const result = await runner.launch(
      task("halt-long", { action: "Stop Execution", target_execution_arn: executionArn }),
    ).result;
    assert.equal(result.state, "Success", JSON.stringify(result.problems));
    const doc = result.extensionOutput as Doc;
    assert.equal(doc.changed, true);
    assert.equal(doc.result?.status, "ABORTED");
    assert.equal(ep.getExecution(executionArn)?.status, "ABORTED");
    assert.equal(
      ep.getExecution(executionArn)?.cause,
      // No task name reaches the program (the template sends no variables): the instance names it.
      `stopped by the scheduler task (instance ${result.instanceId})`,
    );
  });

  test("the callback round trip: the waiting task ends SUCCEEDED with what the release task sent", async () => {
    const tokens: string[] = [];
    const stop = ep.onTaskToken((info) => tokens.push(info.taskToken));
    const seen: RunnerEvent[] = [];
    const unsubscribe = runner.subscribe((e) => seen.push(e));
    try {
      const trip = await callbackRoundTrip(runner, ep, {
        endpoint_url: ep.url,
        credential: "local-test",
        approval_state_machine_arn: arn("approval"),
      });
      assert.equal(trip.released.state, "Success", JSON.stringify(trip.released.problems));
      assert.equal(trip.awaited.state, "Success", JSON.stringify(trip.awaited.problems));
      const awaited = trip.awaited.extensionOutput as Doc;
      assert.equal(awaited.result?.status, "SUCCEEDED");
      assert.deepEqual(awaited.result?.outputParsed, {
        batchId: "batch-2024-001",
        approvedBy: "night shift",
        approved: true,
      });
      const released = trip.released.extensionOutput as Doc & {
        result: { callback: string; taskTokenFingerprint: string };
      };
      assert.equal(released.result.callback, "SendTaskSuccess");
      // The waiting task's log named the state that waited for the callback.
      const logs = seen
        .filter((e) => e.type === "log" && e.task.name === "await-approval")
        .map((e) => (e.type === "log" ? e.line : ""));
      assert.ok(logs.some((l) => l.includes('state "AwaitApproval" is waiting for a callback')));
      // The task token never shows, whichever event the operator looks at.
      assert.equal(tokens.length, 1);
      const token = tokens[0] as string;
      assert.ok(!JSON.stringify(seen).includes(token), "the task token leaked into runner events");
      const started = seen.find(
        (e) => e.type === "task-started" && e.task.name === "release-approval",
      );
      assert.equal(started?.type === "task-started" && started.fields["task_token"], "****");
    } finally {
      unsubscribe();
      stop();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
