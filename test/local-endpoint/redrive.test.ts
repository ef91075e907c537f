import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { history, rejection, sfnClient, waitForStatus, withEndpoint } from "./helpers.ts";

const SOMETIMES = "arn:aws:lambda:us-east-1:123456789012:function:sometimes";

describe("RedriveExecution", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let machine: string;
  let healthy = false;
  const seen: unknown[] = [];

  before(async () => {
    ep = await withEndpoint();
    sfn = sfnClient(ep);
    ep.registerTaskHandler(SOMETIMES, (input) => {
      seen.push(input);
      if (!healthy) throw new TaskFailure("Downstream.Unavailable", "try later");
      return { processed: input };
    });
    machine = ep.createStateMachine({
      name: "redrivable",
      definition: {
        StartAt: "Prepare",
        States: {
          Prepare: { Type: "Pass", Parameters: { "prepared.$": "$.value" }, Next: "Call" },
          Call: { Type: "Task", Resource: SOMETIMES, Next: "Done" },
          Done: { Type: "Succeed" },
        },
      },
    });
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  it("redrives a FAILED execution from the failed state, with the same ARN", async () => {
    healthy = false;
    seen.length = 0;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine, name: "r1", input: '{"value":42}' }),
    );
    const failed = await waitForStatus(sfn, executionArn!);
    assert.equal(failed.status, "FAILED");
    assert.equal(failed.error, "Downstream.Unavailable");
    assert.equal(failed.redriveStatus, "REDRIVABLE");
    assert.equal(failed.redriveCount, 0);

    healthy = true;
    const { redriveDate } = await sfn.send(new RedriveExecutionCommand({ executionArn }));
    assert.ok(redriveDate instanceof Date);
    const running = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    assert.equal(running.redriveCount, 1);
    assert.equal(running.redriveDate?.getTime(), redriveDate.getTime());

    const done = await waitForStatus(sfn, executionArn!);
    assert.equal(done.status, "SUCCEEDED");
    assert.equal(done.output, '{"processed":{"prepared":42}}');
    assert.equal(done.redriveCount, 1);
    assert.equal(done.redriveStatus, "NOT_REDRIVABLE");
    assert.equal(done.startDate?.getTime(), failed.startDate?.getTime());
    // The failed state ran again with its original input; Prepare did not run twice.
    assert.deepEqual(seen, [{ prepared: 42 }, { prepared: 42 }]);

    const types = (await history(sfn, executionArn!)).map((e) => e.type);
    const redriven = types.indexOf("ExecutionRedriven");
    // The failure stays in history, right before the redrive.
    assert.equal(types[redriven - 1], "ExecutionFailed");
    assert.equal(types.filter((t) => t === "ExecutionFailed").length, 1);
    assert.deepEqual(types.slice(redriven), [
      "ExecutionRedriven",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSucceeded",
      "TaskStateExited",
      "SucceedStateEntered",
      "SucceedStateExited",
      "ExecutionSucceeded",
    ]);
    assert.equal(types.filter((t) => t === "PassStateEntered").length, 1);
  });

  it("redrives ABORTED executions too", async () => {
    // The first run waits until it is stopped, however long the test takes to stop it (a
    // Wait state could end first on a slow machine); the redriven run ends at once.
    let calls = 0;
    const HELD = "arn:aws:lambda:us-east-1:123456789012:function:held-until-stopped";
    ep.registerTaskHandler(HELD, (_input, ctx) => {
      calls++;
      if (calls > 1) return { resumed: true };
      return new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(null)));
    });
    const waiting = ep.createStateMachine({
      name: "redrive-abort",
      definition: {
        StartAt: "Hold",
        States: { Hold: { Type: "Task", Resource: HELD, End: true } },
      },
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: waiting }),
    );
    const notYet = await rejection(() => sfn.send(new RedriveExecutionCommand({ executionArn })));
    assert.equal(notYet.name, "ExecutionNotRedrivable");
    await sfn.send(new StopExecutionCommand({ executionArn }));
    assert.equal(
      (await sfn.send(new DescribeExecutionCommand({ executionArn }))).redriveStatus,
      "REDRIVABLE",
    );
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    const done = await waitForStatus(sfn, executionArn!);
    assert.equal(done.status, "SUCCEEDED");
    assert.equal(done.redriveCount, 1);
    assert.equal(done.output, '{"resumed":true}');
  });

  it("redrives TIMED_OUT executions, restarting the timeout", async () => {
    let calls = 0;
    const SLOW = "arn:aws:lambda:us-east-1:123456789012:function:slow-then-fast";
    ep.registerTaskHandler(SLOW, (_input, ctx) => {
      calls++;
      if (calls > 1) return { fast: true };
      // The first call outlives the execution's TimeoutSeconds; the stop signal ends it.
      return new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(null)));
    });
    const timed = ep.createStateMachine({
      name: "redrive-timeout",
      definition: {
        TimeoutSeconds: 1,
        StartAt: "Slow",
        States: { Slow: { Type: "Task", Resource: SLOW, End: true } },
      },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: timed }));
    const timedOut = await waitForStatus(sfn, executionArn!);
    assert.equal(timedOut.status, "TIMED_OUT");
    assert.equal(timedOut.redriveStatus, "REDRIVABLE");
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    const done = await waitForStatus(sfn, executionArn!);
    assert.equal(done.status, "SUCCEEDED");
    assert.equal(done.output, '{"fast":true}');
    const types = (await history(sfn, executionArn!)).map((e) => e.type);
    const redriven = types.indexOf("ExecutionRedriven");
    assert.equal(types[redriven - 1], "ExecutionTimedOut");
    assert.equal(types.filter((t) => t === "ExecutionTimedOut").length, 1);
    assert.equal(types.at(-1), "ExecutionSucceeded");
  });

  it("answers a repeated client token with the same redrive, as AWS does", async () => {
    healthy = false;
    const waiting = ep.createStateMachine({
      name: "redrive-token",
      definition: {
        StartAt: "Call",
        States: {
          Call: { Type: "Task", Resource: SOMETIMES, Next: "Nap" },
          Nap: { Type: "Wait", Seconds: 2, End: true },
        },
      },
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: waiting, input: '{"value":7}' }),
    );
    assert.equal((await waitForStatus(sfn, executionArn!)).status, "FAILED");
    healthy = true;
    const first = await sfn.send(
      new RedriveExecutionCommand({ executionArn, clientToken: "run-7-r2" }),
    );
    const again = await sfn.send(
      new RedriveExecutionCommand({ executionArn, clientToken: "run-7-r2" }),
    );
    assert.equal(again.redriveDate?.getTime(), first.redriveDate?.getTime());
    const other = await rejection(() =>
      sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: "run-7-r3" })),
    );
    assert.equal(other.name, "ExecutionNotRedrivable");
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    assert.equal(d.redriveCount, 1);
    const badToken = await rejection(() =>
      sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: "has space" })),
    );
    assert.equal(badToken.name, "ValidationException");
    await sfn.send(new StopExecutionCommand({ executionArn }));
  });

  it("refuses SUCCEEDED and unknown executions", async () => {
    healthy = true;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine, input: '{"value":1}' }),
    );
    await waitForStatus(sfn, executionArn!);
    const e = await rejection(() => sfn.send(new RedriveExecutionCommand({ executionArn })));
    assert.equal(e.name, "ExecutionNotRedrivable");
    const missing = await rejection(() =>
      sfn.send(
        new RedriveExecutionCommand({
          executionArn: "arn:aws:states:us-east-1:123456789012:execution:redrivable:nope",
        }),
      ),
    );
    assert.equal(missing.name, "ExecutionDoesNotExist");
  });
});
