import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type SFNClient,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { LocalEndpoint, TaskTokenInfo } from "../../local/endpoint/index.ts";
import { history, rejection, sfnClient, sleep, waitForStatus, withEndpoint } from "./helpers.ts";

const QUEUE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
const WORKER = "arn:aws:states:::lambda:invoke.waitForTaskToken";

describe("task token callbacks", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let queued: TaskTokenInfo[] = [];
  let unsubscribe: () => void;
  let callbackMachine: string;
  /** HeartbeatSeconds 3: a loaded machine's stall between two heartbeats stays under it. */
  let beatingMachine: string;
  /** HeartbeatSeconds 1: times out soon without a heartbeat. */
  let quietMachine: string;

  const nextToken = async (): Promise<TaskTokenInfo> => {
    for (let i = 0; i < 200; i++) {
      const t = queued.shift();
      if (t) return t;
      await sleep(10);
    }
    throw new Error("no task token arrived");
  };

  before(async () => {
    ep = await withEndpoint();
    sfn = sfnClient(ep);
    unsubscribe = ep.onTaskToken((info) => {
      if (info.resource === QUEUE) queued.push(info);
    });
    // Without HeartbeatSeconds the task waits for its answer however slowly the test sends it.
    const asking = (name: string, heartbeatSeconds?: number) =>
      ep.createStateMachine({
        name,
        definition: {
          StartAt: "Ask",
          States: {
            Ask: {
              Type: "Task",
              Resource: QUEUE,
              Parameters: { "token.$": "$$.Task.Token", "job.$": "$.job" },
              ...(heartbeatSeconds ? { HeartbeatSeconds: heartbeatSeconds } : {}),
              End: true,
            },
          },
        },
      });
    callbackMachine = asking("callback");
    beatingMachine = asking("beating", 3);
    quietMachine = asking("quiet", 1);
  });
  after(async () => {
    unsubscribe();
    sfn.destroy();
    await ep.close();
  });

  it("passes $$.Task.Token and resumes on SendTaskSuccess", async () => {
    queued = [];
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: callbackMachine, input: '{"job":"j-1"}' }),
    );
    const task = await nextToken();
    assert.equal(task.executionArn, executionArn);
    assert.equal(task.stateName, "Ask");
    assert.deepEqual(task.input, { token: task.taskToken, job: "j-1" });
    assert.equal(ep.pendingTaskTokens(executionArn).length, 1);
    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{"answer":42}' }),
    );
    const d = await waitForStatus(sfn, executionArn!);
    assert.equal(d.status, "SUCCEEDED");
    assert.equal(d.output, '{"answer":42}');
    const types = (await history(sfn, executionArn!)).map((e) => e.type);
    assert.deepEqual(types, [
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskSucceeded",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
    // The token is spent: a second answer is TaskTimedOut, as AWS says for closed tasks.
    const late = await rejection(() =>
      sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: "{}" })),
    );
    assert.equal(late.name, "TaskTimedOut");
  });

  it("fails the task on SendTaskFailure; a registered handler receives the token", async () => {
    const undo = ep.registerTaskHandler(WORKER, (input, ctx) => {
      setTimeout(() => {
        void sfn.send(
          new SendTaskFailureCommand({
            taskToken: ctx.taskToken!,
            error: "Worker.Rejected",
            cause: `no ${String((input as { job: string }).job)}`,
          }),
        );
      }, 20);
    });
    try {
      const arn = ep.createStateMachine({
        name: "worker",
        definition: {
          StartAt: "Work",
          States: {
            Work: {
              Type: "Task",
              Resource: WORKER,
              Parameters: { "job.$": "$.job", "token.$": "$$.Task.Token" },
              End: true,
            },
          },
        },
      });
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: arn, input: '{"job":"j-2"}' }),
      );
      const d = await waitForStatus(sfn, executionArn!);
      assert.equal(d.status, "FAILED");
      assert.equal(d.error, "Worker.Rejected");
      assert.equal(d.cause, "no j-2");
      const failed = (await history(sfn, executionArn!)).find((e) => e.type === "TaskFailed");
      assert.equal(failed?.taskFailedEventDetails?.error, "Worker.Rejected");
    } finally {
      undo();
    }
  });

  it("keeps a task alive with SendTaskHeartbeat and times it out without", async () => {
    queued = [];
    const alive = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: beatingMachine, input: '{"job":"beat"}' }),
    );
    const task = await nextToken();
    const startedAt = Date.now();
    while (Date.now() - startedAt <= 3_500) {
      await sleep(400);
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    }
    // More than HeartbeatSeconds (3) have passed: only the heartbeats kept it running.
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '"ok"' }));
    assert.equal((await waitForStatus(sfn, alive.executionArn!)).status, "SUCCEEDED");

    const silent = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: quietMachine, input: '{"job":"quiet"}' }),
    );
    const quiet = await nextToken();
    const d = await waitForStatus(sfn, silent.executionArn!, 5000);
    assert.equal(d.status, "FAILED");
    // AWS reports a heartbeat timeout as States.Timeout, without a cause (the name
    // States.HeartbeatTimeout is for Retry and Catch only).
    assert.equal(d.error, "States.Timeout");
    assert.equal(d.cause, undefined);
    const events = await history(sfn, silent.executionArn!);
    assert.deepEqual(
      events
        .slice(-2)
        .map((e) => [e.type, e.taskTimedOutEventDetails ?? e.executionFailedEventDetails]),
      [
        [
          "TaskTimedOut",
          {
            resourceType: "sqs",
            resource: "sendMessage.waitForTaskToken",
            error: "States.Timeout",
          },
        ],
        ["ExecutionFailed", { error: "States.Timeout" }],
      ],
    );
    const late = await rejection(() =>
      sfn.send(new SendTaskHeartbeatCommand({ taskToken: quiet.taskToken })),
    );
    assert.equal(late.name, "TaskTimedOut");
  });

  // [what the Catch names, whether it catches a heartbeat timeout]: a heartbeat timeout is a
  // States.Timeout, which States.TaskFailed does not match (AWS, "Error names":
  // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
  const catchers: Array<[string[], boolean]> = [
    [["States.Timeout"], true],
    [["States.HeartbeatTimeout"], true],
    [["States.ALL"], true],
    [["States.TaskFailed"], false],
    [["States.TaskFailed", "States.Timeout"], true],
    [["Other.Error"], false],
  ];
  for (const [errorEquals, caught] of catchers) {
    it(`a Catch of ${errorEquals.join(", ")} ${caught ? "catches" : "lets through"} a heartbeat timeout`, async () => {
      const arn = ep.createStateMachine({
        name: `heartbeat-catch-${errorEquals.join("-").replace(/\W/g, "-")}`,
        definition: {
          StartAt: "Ask",
          States: {
            Ask: {
              Type: "Task",
              Resource: QUEUE,
              Parameters: { "token.$": "$$.Task.Token" },
              HeartbeatSeconds: 1,
              Catch: [{ ErrorEquals: errorEquals, ResultPath: null, Next: "Handled" }],
              End: true,
            },
            Handled: { Type: "Pass", Result: "handled", End: true },
          },
        },
      });
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
      const d = await waitForStatus(sfn, executionArn!, 5000);
      if (caught) {
        assert.equal(d.status, "SUCCEEDED", `${d.error}: ${d.cause}`);
        assert.equal(d.output, '"handled"');
      } else {
        assert.equal(d.status, "FAILED");
        assert.equal(d.error, "States.Timeout");
      }
      const timedOut = (await history(sfn, executionArn!)).find((e) => e.type === "TaskTimedOut");
      assert.equal(timedOut?.taskTimedOutEventDetails?.error, "States.Timeout");
    });
  }

  // [what the Retry names, how many times the task runs]
  const retriers: Array<[string[], number]> = [
    [["States.TaskFailed"], 1],
    [["States.Timeout"], 2],
  ];
  for (const [errorEquals, runs] of retriers) {
    it(`a Retry of ${errorEquals.join(", ")} ${runs > 1 ? "retries" : "does not retry"} a heartbeat timeout`, async () => {
      const arn = ep.createStateMachine({
        name: `heartbeat-retry-${errorEquals.join("-").replace(/\W/g, "-")}`,
        definition: {
          StartAt: "Ask",
          States: {
            Ask: {
              Type: "Task",
              Resource: QUEUE,
              Parameters: { "token.$": "$$.Task.Token" },
              HeartbeatSeconds: 1,
              Retry: [{ ErrorEquals: errorEquals, IntervalSeconds: 1, MaxAttempts: 1 }],
              End: true,
            },
          },
        },
      });
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
      const d = await waitForStatus(sfn, executionArn!, 10_000);
      assert.equal(d.status, "FAILED");
      assert.equal(d.error, "States.Timeout");
      const events = await history(sfn, executionArn!);
      assert.equal(events.filter((e) => e.type === "TaskTimedOut").length, runs);
    });
  }

  it("rejects malformed, unknown and bad-output callbacks", async () => {
    const malformed = await rejection(() =>
      sfn.send(new SendTaskSuccessCommand({ taskToken: "garbage", output: "{}" })),
    );
    assert.equal(malformed.name, "InvalidToken");
    const unknown = await rejection(() =>
      sfn.send(new SendTaskFailureCommand({ taskToken: `AQCLocal${"A".repeat(160)}`, error: "x" })),
    );
    assert.equal(unknown.name, "TaskDoesNotExist");

    queued = [];
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: callbackMachine, input: '{"job":"j"}' }),
    );
    const task = await nextToken();
    const longError = await rejection(() =>
      sfn.send(new SendTaskFailureCommand({ taskToken: task.taskToken, error: "e".repeat(257) })),
    );
    assert.equal(longError.name, "ValidationException");
    const longToken = await rejection(() =>
      sfn.send(new SendTaskHeartbeatCommand({ taskToken: "t".repeat(2049) })),
    );
    assert.equal(longToken.name, "ValidationException");
    const badOutput = await rejection(() =>
      sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: "{nope" })),
    );
    assert.equal(badOutput.name, "InvalidOutput");
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: "{}" }));
    assert.equal((await waitForStatus(sfn, executionArn!)).status, "SUCCEEDED");
  });
});
