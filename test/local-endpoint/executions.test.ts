import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DescribeExecutionCommand,
  DescribeStateMachineForExecutionCommand,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { history, rejection, sfnClient, sleep, waitForStatus, withEndpoint } from "./helpers.ts";

const ADD = "arn:aws:lambda:us-east-1:123456789012:function:add";
const FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky";
const BROKEN = "arn:aws:lambda:us-east-1:123456789012:function:broken";

describe("executions", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let waitArn: string;
  let flakyCalls = 0;

  before(async () => {
    ep = await withEndpoint();
    sfn = sfnClient(ep);
    ep.registerTaskHandler(ADD, (input) => {
      const { a, b } = input as { a: number; b: number };
      return { sum: a + b };
    });
    ep.registerTaskHandler(FLAKY, () => {
      flakyCalls++;
      if (flakyCalls < 3) throw new TaskFailure("Flaky.Error", `attempt ${flakyCalls}`);
      return { attempts: flakyCalls };
    });
    ep.registerTaskHandler(BROKEN, () => {
      throw new TaskFailure("Broken.Error", "it broke");
    });
    waitArn = ep.createStateMachine({
      name: "wait-a-bit",
      definition: {
        StartAt: "Nap",
        States: { Nap: { Type: "Wait", Seconds: 1, Next: "Done" }, Done: { Type: "Succeed" } },
      },
    });
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  it("runs a Standard execution with a real Wait and describes every field", async () => {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: waitArn, name: "nap-1", input: '{"x":1}' }),
    );
    assert.equal(
      started.executionArn,
      "arn:aws:states:us-east-1:123456789012:execution:wait-a-bit:nap-1",
    );
    const running = await sfn.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    );
    assert.equal(running.status, "RUNNING");
    assert.equal(running.stopDate, undefined);
    assert.equal(running.output, undefined);
    assert.equal(running.redriveStatus, "NOT_REDRIVABLE");

    const done = await waitForStatus(sfn, started.executionArn!);
    assert.equal(done.status, "SUCCEEDED");
    assert.equal(done.name, "nap-1");
    assert.equal(done.stateMachineArn, waitArn);
    assert.equal(done.input, '{"x":1}');
    assert.equal(done.output, '{"x":1}');
    assert.equal(done.startDate?.getTime(), started.startDate?.getTime());
    const elapsed = done.stopDate!.getTime() - done.startDate!.getTime();
    assert.ok(elapsed >= 950, `Wait of 1 s really waited (${elapsed} ms)`);
    assert.equal(done.redriveCount, 0);
    assert.equal(done.error, undefined);

    const types = (await history(sfn, started.executionArn!)).map((e) => e.type);
    assert.deepEqual(types, [
      "ExecutionStarted",
      "WaitStateEntered",
      "WaitStateExited",
      "SucceedStateEntered",
      "SucceedStateExited",
      "ExecutionSucceeded",
    ]);
    const forExecution = await sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: started.executionArn }),
    );
    assert.equal(forExecution.stateMachineArn, waitArn);
  });

  it("applies the idempotency rule of StartExecution", async () => {
    const a = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: waitArn, name: "idem", input: '{"k":1}' }),
    );
    const b = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: waitArn, name: "idem", input: '{"k":1}' }),
    );
    assert.equal(b.executionArn, a.executionArn);
    assert.equal(b.startDate?.getTime(), a.startDate?.getTime());
    const different = await rejection(() =>
      sfn.send(
        new StartExecutionCommand({ stateMachineArn: waitArn, name: "idem", input: '{"k":2}' }),
      ),
    );
    assert.equal(different.name, "ExecutionAlreadyExists");
    await waitForStatus(sfn, a.executionArn!);
    const closed = await rejection(() =>
      sfn.send(
        new StartExecutionCommand({ stateMachineArn: waitArn, name: "idem", input: '{"k":1}' }),
      ),
    );
    assert.equal(closed.name, "ExecutionAlreadyExists");
    assert.equal(closed.$metadata?.httpStatusCode, 400);
  });

  it("validates names, input and ARNs", async () => {
    const badName = await rejection(() =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: waitArn, name: "a b" })),
    );
    assert.equal(badName.name, "InvalidName");
    const longest = "n".repeat(79) + "\u00e9";
    const at80 = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: waitArn, name: longest }),
    );
    assert.equal(
      at80.executionArn,
      `arn:aws:states:us-east-1:123456789012:execution:wait-a-bit:${longest}`,
    );
    const exactlyMax = `"${"x".repeat(262_142)}"`;
    assert.equal(Buffer.byteLength(exactlyMax), 262_144);
    await sfn.send(
      new StartExecutionCommand({ stateMachineArn: waitArn, name: "max-input", input: exactlyMax }),
    );
    const overMax = await rejection(() =>
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: waitArn,
          input: `"${"x".repeat(262_141)}\u00e9"`,
        }),
      ),
    );
    assert.equal(overMax.name, "InvalidExecutionInput");
    const badJson = await rejection(() =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: waitArn, input: "{oops" })),
    );
    assert.equal(badJson.name, "InvalidExecutionInput");
    const tooBig = await rejection(() =>
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: waitArn,
          input: JSON.stringify({ s: "x".repeat(262_144) }),
        }),
      ),
    );
    assert.equal(tooBig.name, "InvalidExecutionInput");
    const noMachine = await rejection(() =>
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:ghost",
        }),
      ),
    );
    assert.equal(noMachine.name, "StateMachineDoesNotExist");
    // A qualified ARN naming a Distributed Map state, as StartExecution's reference says.
    const mapState = await rejection(() =>
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${waitArn}/mapStateLabel` })),
    );
    assert.equal(mapState.name, "ValidationException");
    const badArn = await rejection(() =>
      sfn.send(new DescribeExecutionCommand({ executionArn: "arn:aws:states:nope" })),
    );
    assert.equal(badArn.name, "InvalidArn");
    const noExec = await rejection(() =>
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: "arn:aws:states:us-east-1:123456789012:execution:wait-a-bit:ghost",
        }),
      ),
    );
    assert.equal(noExec.name, "ExecutionDoesNotExist");
    const noHistory = await rejection(() =>
      sfn.send(
        new GetExecutionHistoryCommand({
          executionArn: "arn:aws:states:us-east-1:123456789012:execution:wait-a-bit:ghost",
        }),
      ),
    );
    assert.equal(noHistory.name, "ExecutionDoesNotExist");
  });

  it("runs Task, Choice, Parallel, Map, Retry and Catch with real history names", async () => {
    const arn = ep.createStateMachine({
      name: "everything",
      definition: {
        StartAt: "Add",
        States: {
          Add: { Type: "Task", Resource: ADD, ResultPath: "$.result", Next: "Big?" },
          "Big?": {
            Type: "Choice",
            Choices: [{ Variable: "$.result.sum", NumericGreaterThan: 10, Next: "Both" }],
            Default: "Small",
          },
          Small: { Type: "Fail", Error: "TooSmall", Cause: "sum was small" },
          Both: {
            Type: "Parallel",
            Branches: [
              { StartAt: "B1", States: { B1: { Type: "Pass", Result: 1, End: true } } },
              { StartAt: "B2", States: { B2: { Type: "Pass", Result: 2, End: true } } },
            ],
            ResultPath: "$.parallel",
            Next: "Each",
          },
          Each: {
            Type: "Map",
            ItemsPath: "$.items",
            ItemProcessor: {
              StartAt: "Double",
              States: {
                Double: { Type: "Pass", Parameters: { "v.$": "States.MathAdd($, $)" }, End: true },
              },
            },
            ResultPath: "$.mapped",
            Next: "Flaky",
          },
          Flaky: {
            Type: "Task",
            Resource: FLAKY,
            Retry: [
              { ErrorEquals: ["Flaky.Error"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 },
            ],
            ResultPath: "$.flaky",
            Next: "Broken",
          },
          Broken: {
            Type: "Task",
            Resource: BROKEN,
            Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.caught", Next: "Done" }],
            Next: "Done",
          },
          Done: { Type: "Succeed" },
        },
      },
    });
    flakyCalls = 0;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: arn,
        input: JSON.stringify({ a: 7, b: 8, items: [1, 2, 3] }),
      }),
    );
    // Two real retry intervals of 1 s each.
    const done = await waitForStatus(sfn, executionArn!, 15_000);
    assert.equal(done.status, "SUCCEEDED", done.cause);
    const out = JSON.parse(done.output!);
    assert.deepEqual(out.result, { sum: 15 });
    assert.deepEqual(out.parallel, [1, 2]);
    assert.deepEqual(out.mapped, [{ v: 2 }, { v: 4 }, { v: 6 }]);
    assert.deepEqual(out.flaky, { attempts: 3 });
    assert.equal(out.caught.Error, "Broken.Error");
    assert.equal(out.caught.Cause, "it broke");

    const events = await history(sfn, executionArn!);
    const types: string[] = events.map((e) => e.type ?? "");
    for (const t of [
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSucceeded",
      "TaskStateExited",
      "ChoiceStateEntered",
      "ChoiceStateExited",
      "ParallelStateEntered",
      "ParallelStateStarted",
      "ParallelStateSucceeded",
      "ParallelStateExited",
      "MapStateEntered",
      "MapStateStarted",
      "MapIterationStarted",
      "MapIterationSucceeded",
      "MapStateSucceeded",
      "MapStateExited",
      "TaskFailed",
      "ExecutionSucceeded",
    ]) {
      assert.ok(types.includes(t), `history has ${t}: ${types.join(",")}`);
    }
    assert.equal(types.filter((t) => t === "MapIterationStarted").length, 3);
    const mapStarted = events.find((e) => e.type === "MapStateStarted");
    assert.equal(mapStarted?.mapStateStartedEventDetails?.length, 3);
    // Two failed attempts of Flaky, each followed by a new schedule, and one of Broken.
    assert.equal(types.filter((t) => t === "TaskFailed").length, 3);
    const flakyFailure = events.find((e) => e.type === "TaskFailed");
    assert.equal(flakyFailure?.taskFailedEventDetails?.error, "Flaky.Error");
    assert.equal(flakyFailure?.taskFailedEventDetails?.resource, FLAKY);
    // Ids are consecutive and each event points at the previous one.
    events.forEach((e, i) => {
      assert.equal(e.id, i + 1);
      assert.equal(e.previousEventId, i);
    });
  });

  it("fails with the error and cause of a Fail state, findable in history", async () => {
    const arn = ep.createStateMachine({
      name: "fails-small",
      definition: {
        StartAt: "Add",
        States: {
          Add: { Type: "Task", Resource: ADD, Next: "Check" },
          Check: {
            Type: "Choice",
            Choices: [{ Variable: "$.sum", NumericGreaterThan: 10, Next: "Ok" }],
            Default: "Small",
          },
          Small: { Type: "Fail", Error: "TooSmall", Cause: "sum was small" },
          Ok: { Type: "Succeed" },
        },
      },
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"a":1,"b":2}' }),
    );
    const d = await waitForStatus(sfn, executionArn!);
    assert.equal(d.status, "FAILED");
    assert.equal(d.error, "TooSmall");
    assert.equal(d.cause, "sum was small");
    assert.equal(d.redriveStatus, "REDRIVABLE");
    const events = await history(sfn, executionArn!);
    const failed = events.at(-1);
    assert.equal(failed?.type, "ExecutionFailed");
    assert.deepEqual(failed?.executionFailedEventDetails, {
      error: "TooSmall",
      cause: "sum was small",
    });
    assert.equal(events.at(-2)?.type, "FailStateEntered");
    assert.equal(events.at(-2)?.stateEnteredEventDetails?.name, "Small");
  });

  it("fails on a failing Task; the state is named in history", async () => {
    const arn = ep.createStateMachine({
      name: "task-fails",
      definition: {
        StartAt: "Explode",
        States: { Explode: { Type: "Task", Resource: BROKEN, End: true } },
      },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    const d = await waitForStatus(sfn, executionArn!);
    assert.equal(d.status, "FAILED");
    assert.equal(d.error, "Broken.Error");
    assert.equal(d.cause, "it broke");
    const events = await history(sfn, executionArn!);
    const entered = events.filter((e) => e.type === "TaskStateEntered").at(-1);
    assert.equal(entered?.stateEnteredEventDetails?.name, "Explode");
    assert.deepEqual(
      events.slice(-2).map((e) => e.type),
      ["TaskFailed", "ExecutionFailed"],
    );
  });

  it("describes with METADATA_ONLY: no input, output, error or cause, and details that say so", async () => {
    const arn = ep.createStateMachine({
      name: "metadata-only",
      definition: {
        StartAt: "Route",
        States: {
          Route: {
            Type: "Choice",
            Choices: [{ Variable: "$.fail", BooleanEquals: true, Next: "Refuse" }],
            Default: "Done",
          },
          Refuse: { Type: "Fail", Error: "Refused", Cause: "asked to fail" },
          Done: { Type: "Pass", Result: { ok: true }, End: true },
        },
      },
    });
    const ended = async (input: string) => {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: arn, input }),
      );
      await waitForStatus(sfn, executionArn!);
      const describe = (includedData: "ALL_DATA" | "METADATA_ONLY") =>
        sfn.send(new DescribeExecutionCommand({ executionArn, includedData }));
      return { all: await describe("ALL_DATA"), metadata: await describe("METADATA_ONLY") };
    };
    // The details say whether the input or output "was included in the response"
    // (API reference, CloudWatchEventsExecutionDataDetails).
    const succeeded = await ended('{"fail":false}');
    assert.equal(succeeded.all.input, '{"fail":false}');
    assert.deepEqual(succeeded.all.inputDetails, { included: true });
    assert.deepEqual(succeeded.all.outputDetails, { included: true });
    assert.equal(succeeded.metadata.status, "SUCCEEDED");
    assert.equal(succeeded.metadata.input, undefined);
    assert.equal(succeeded.metadata.output, undefined);
    assert.deepEqual(succeeded.metadata.inputDetails, { included: false });
    assert.deepEqual(succeeded.metadata.outputDetails, { included: false });

    const failed = await ended('{"fail":true}');
    assert.equal(failed.all.error, "Refused");
    assert.equal(failed.metadata.status, "FAILED");
    assert.equal(failed.metadata.error, undefined);
    assert.equal(failed.metadata.cause, undefined);
    assert.deepEqual(failed.metadata.inputDetails, { included: false });
    assert.equal(failed.metadata.outputDetails, undefined);
  });

  it("refuses starts and redrives past the open-execution quota: ExecutionLimitExceeded", async () => {
    const limited = await withEndpoint({ maxOpenExecutions: 2 });
    const client = sfnClient(limited);
    try {
      const holding = limited.createStateMachine({
        name: "holding",
        definition: {
          StartAt: "Hold",
          States: { Hold: { Type: "Wait", Seconds: 600, End: true } },
        },
      });
      const failing = limited.createStateMachine({
        name: "failing",
        definition: { StartAt: "No", States: { No: { Type: "Fail", Error: "No" } } },
      });
      const express = limited.createStateMachine({
        name: "quick",
        type: "EXPRESS",
        definition: { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } },
      });
      const failed = await client.send(new StartExecutionCommand({ stateMachineArn: failing }));
      assert.equal((await waitForStatus(client, failed.executionArn!)).status, "FAILED");
      const first = await client.send(
        new StartExecutionCommand({ stateMachineArn: holding, name: "open-1" }),
      );
      await client.send(new StartExecutionCommand({ stateMachineArn: holding, name: "open-2" }));

      const refused = await rejection(() =>
        client.send(new StartExecutionCommand({ stateMachineArn: holding, name: "open-3" })),
      );
      assert.equal(refused.name, "ExecutionLimitExceeded");
      assert.equal(refused.$metadata?.httpStatusCode, 400);
      assert.equal(
        limited.getExecution(first.executionArn!.replace("open-1", "open-3")),
        undefined,
      );
      const redrive = await rejection(() =>
        client.send(new RedriveExecutionCommand({ executionArn: failed.executionArn })),
      );
      assert.equal(redrive.name, "ExecutionLimitExceeded");
      assert.equal(limited.getExecution(failed.executionArn!)?.status, "FAILED");

      // The same start again opens nothing (the same execution); Express executions do not count.
      const again = await client.send(
        new StartExecutionCommand({ stateMachineArn: holding, name: "open-1" }),
      );
      assert.equal(again.executionArn, first.executionArn);
      await client.send(new StartExecutionCommand({ stateMachineArn: express }));
      // An execution that ends gives its place back; lifting the limit lets the redrive through.
      await client.send(new StopExecutionCommand({ executionArn: first.executionArn }));
      await client.send(new StartExecutionCommand({ stateMachineArn: holding, name: "open-3" }));
      limited.setMaxOpenExecutions(undefined);
      await client.send(new RedriveExecutionCommand({ executionArn: failed.executionArn }));
    } finally {
      client.destroy();
      await limited.close();
    }
  });

  it("stops an execution: ABORTED, with error and cause in history", async () => {
    const arn = ep.createStateMachine({
      name: "long-wait",
      definition: { StartAt: "Nap", States: { Nap: { Type: "Wait", Seconds: 600, End: true } } },
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: "to-stop" }),
    );
    await sleep(50);
    const stopped = await sfn.send(
      new StopExecutionCommand({ executionArn, error: "Operator.Stop", cause: "stopped by test" }),
    );
    assert.ok(stopped.stopDate instanceof Date);
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    assert.equal(d.status, "ABORTED");
    assert.equal(d.stopDate?.getTime(), stopped.stopDate?.getTime());
    const last = (await history(sfn, executionArn!)).at(-1);
    assert.equal(last?.type, "ExecutionAborted");
    assert.deepEqual(last?.executionAbortedEventDetails, {
      error: "Operator.Stop",
      cause: "stopped by test",
    });
    assert.ok(ep.requests.some((r) => r.operation === "StopExecution" && r.status === 200));
    // Stopping a closed execution changes nothing.
    const again = await sfn.send(new StopExecutionCommand({ executionArn }));
    assert.equal(again.stopDate?.getTime(), stopped.stopDate?.getTime());
  });

  it("times out from TimeoutSeconds: TIMED_OUT without error in Describe, with it in history", async () => {
    const arn = ep.createStateMachine({
      name: "too-slow",
      // The Wait would end it long after the test's own limit (waitForStatus: 10 s): an
      // execution the timeout does not end fails the test without a clock being read.
      definition: {
        TimeoutSeconds: 1,
        StartAt: "Nap",
        States: { Nap: { Type: "Wait", Seconds: 3600, End: true } },
      },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    const d = await waitForStatus(sfn, executionArn!);
    assert.equal(d.status, "TIMED_OUT");
    assert.equal(d.error, undefined);
    assert.equal(d.cause, undefined);
    // Not before its TimeoutSeconds, by the endpoint's own dates (a timer never fires early).
    const lasted = d.stopDate!.getTime() - d.startDate!.getTime();
    assert.ok(lasted >= 950, `timed out after ${lasted} ms`);
    const last = (await history(sfn, executionArn!)).at(-1);
    assert.equal(last?.type, "ExecutionTimedOut");
    // AWS names the error and gives no cause (https://github.com/floci-io/floci/issues/2965).
    assert.deepEqual(last?.executionTimedOutEventDetails, { error: "States.Timeout" });
  });

  it("fails on a Task's TimeoutSeconds: States.Timeout without a cause, as AWS reports it", async () => {
    const NEVER = "arn:aws:lambda:us-east-1:123456789012:function:never";
    const undo = ep.registerTaskHandler(
      NEVER,
      (_input, ctx) =>
        new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(null))),
    );
    try {
      const arn = ep.createStateMachine({
        name: "task-too-slow",
        definition: {
          StartAt: "Slow",
          States: { Slow: { Type: "Task", Resource: NEVER, TimeoutSeconds: 1, End: true } },
        },
      });
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
      const d = await waitForStatus(sfn, executionArn!, 5000);
      assert.equal(d.status, "FAILED");
      assert.equal(d.error, "States.Timeout");
      assert.equal(d.cause, undefined);
      const events = await history(sfn, executionArn!);
      assert.deepEqual(
        events
          .slice(-2)
          .map((e) => [e.type, e.taskTimedOutEventDetails ?? e.executionFailedEventDetails]),
        [
          ["TaskTimedOut", { resourceType: "lambda", resource: NEVER, error: "States.Timeout" }],
          ["ExecutionFailed", { error: "States.Timeout" }],
        ],
      );
    } finally {
      undo();
    }
  });

  it("pages history, in both orders, with or without data", async () => {
    const arn = ep.createStateMachine({
      name: "chain",
      definition: {
        StartAt: "S1",
        States: {
          S1: { Type: "Pass", Next: "S2" },
          S2: { Type: "Pass", Next: "S3" },
          S3: { Type: "Pass", Next: "S4" },
          S4: { Type: "Pass", End: true },
        },
      },
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"secret":1}' }),
    );
    await waitForStatus(sfn, executionArn!);
    const collect = async (reverseOrder: boolean) => {
      const ids: number[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(
          new GetExecutionHistoryCommand({
            executionArn,
            maxResults: 3,
            reverseOrder,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        assert.ok((page.events ?? []).length <= 3);
        ids.push(...(page.events ?? []).map((e) => e.id ?? 0));
        nextToken = page.nextToken;
      } while (nextToken);
      return ids;
    };
    const forward = await collect(false);
    assert.equal(forward.length, 10);
    assert.deepEqual(
      forward,
      [...forward].sort((a, b) => a - b),
    );
    assert.deepEqual(await collect(true), [...forward].reverse());
    const newest = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1, reverseOrder: true }),
    );
    assert.equal(newest.events?.[0]?.type, "ExecutionSucceeded");
    const noData = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );
    assert.equal(noData.events?.[0]?.executionStartedEventDetails?.input, undefined);
    const bad = await rejection(() =>
      sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken: "nope" })),
    );
    assert.equal(bad.name, "InvalidToken");
  });

  it("lists executions by status: only those with it, newest first", async () => {
    const quick = ep.createStateMachine({
      name: "listed-by-status",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    const long = ep.createStateMachine({
      name: "listed-by-status-long",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 60, End: true } } },
    });
    const start = async (stateMachineArn: string, name: string) =>
      (await sfn.send(new StartExecutionCommand({ stateMachineArn, name }))).executionArn!;
    const first = await start(quick, "s1");
    await waitForStatus(sfn, first);
    await sleep(5);
    const second = await start(quick, "s2");
    await waitForStatus(sfn, second);
    // The same names on another machine, one running and one stopped: neither is listed.
    const running = await start(long, "s1");
    const aborted = await start(long, "s2");
    await sfn.send(new StopExecutionCommand({ executionArn: aborted }));
    const arns = async (stateMachineArn: string, statusFilter?: ExecutionStatus) =>
      (
        await sfn.send(
          new ListExecutionsCommand({ stateMachineArn, ...(statusFilter ? { statusFilter } : {}) }),
        )
      ).executions?.map((e) => e.executionArn);
    assert.deepEqual(await arns(quick, "SUCCEEDED"), [second, first]);
    assert.deepEqual(await arns(quick, "RUNNING"), []);
    assert.deepEqual(await arns(long, "RUNNING"), [running]);
    assert.deepEqual(await arns(long, "ABORTED"), [aborted]);
    assert.deepEqual(await arns(long, "SUCCEEDED"), []);
    await sfn.send(new StopExecutionCommand({ executionArn: running }));
  });

  // [what, the call, the message AWS gives]
  const refused: Array<[string, () => Promise<unknown>, RegExp]> = [
    [
      "StopExecution with an error over 256 characters",
      () =>
        sfn.send(new StopExecutionCommand({ executionArn: stopTarget, error: "e".repeat(257) })),
      /at 'error' failed to satisfy constraint: Member must have length less than or equal to 256$/,
    ],
    [
      "StopExecution with a cause over 32768 characters",
      () =>
        sfn.send(new StopExecutionCommand({ executionArn: stopTarget, cause: "c".repeat(32769) })),
      /at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768$/,
    ],
    [
      "ListExecutions with a statusFilter that is no execution status",
      () =>
        sfn.send(
          new ListExecutionsCommand({
            stateMachineArn: waitArn,
            statusFilter: "DONE" as ExecutionStatus,
          }),
        ),
      /^1 validation error detected: Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: \[RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE\]$/,
    ],
    [
      "ListExecutions with PENDING_REDRIVE and a stateMachineArn",
      () =>
        sfn.send(
          new ListExecutionsCommand({ stateMachineArn: waitArn, statusFilter: "PENDING_REDRIVE" }),
        ),
      // Not the enum's refusal (which names PENDING_REDRIVE too): the one for its use.
      /^(?!.*enum value set).*PENDING_REDRIVE.*mapRunArn/,
    ],
    [
      "ListExecutions with a negative maxResults",
      () => sfn.send(new ListExecutionsCommand({ stateMachineArn: waitArn, maxResults: -1 })),
      /^1 validation error detected: Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0$/,
    ],
    [
      "ListExecutions with maxResults over 1000",
      () => sfn.send(new ListExecutionsCommand({ stateMachineArn: waitArn, maxResults: 1001 })),
      /^1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000$/,
    ],
    [
      "ListExecutions with a negative maxResults, for a machine that does not exist (the model is checked first)",
      () =>
        sfn.send(
          new ListExecutionsCommand({ stateMachineArn: `${waitArn}-ghost`, maxResults: -1 }),
        ),
      /^1 validation error detected: Value '-1' at 'maxResults'/,
    ],
    [
      "ListExecutions with an empty nextToken",
      () => sfn.send(new ListExecutionsCommand({ stateMachineArn: waitArn, nextToken: "" })),
      /^1 validation error detected: Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1$/,
    ],
    [
      "ListExecutions with a nextToken over 3096 characters",
      () =>
        sfn.send(
          new ListExecutionsCommand({ stateMachineArn: waitArn, nextToken: "t".repeat(3097) }),
        ),
      /^1 validation error detected: Value 't{3097}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 3096$/,
    ],
    [
      "GetExecutionHistory with a nextToken over 1024 characters",
      () =>
        sfn.send(
          new GetExecutionHistoryCommand({ executionArn: stopTarget, nextToken: "t".repeat(1025) }),
        ),
      /at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 1024$/,
    ],
    [
      "ListStateMachines with both maxResults and nextToken out of range: both said",
      () =>
        sfn.send(new ListStateMachinesCommand({ maxResults: 1001, nextToken: "t".repeat(1025) })),
      /^2 validation errors detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000; Value 't{1025}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 1024$/,
    ],
  ];
  let stopTarget: string;
  for (const [what, call, message] of refused) {
    it(`refuses ${what}: ValidationException`, async () => {
      stopTarget ??= (
        await sfn.send(new StartExecutionCommand({ stateMachineArn: waitArn, name: "stop-limits" }))
      ).executionArn!;
      const e = await rejection(call);
      assert.equal(e.name, "ValidationException");
      assert.equal(e.$metadata?.httpStatusCode, 400);
      assert.match(e.message, message);
    });
  }

  // The model's 1 to 80 characters: ValidationException before anything else (even before
  // the machine is looked up), as AWS answers (https://github.com/getmoto/moto/issues/6438).
  const lengths: Array<[string, string, boolean, RegExp]> = [
    ["81 characters", "n".repeat(81), false, /less than or equal to 80$/],
    [
      "81 characters, on a machine that does not exist",
      "n".repeat(81),
      true,
      /less than or equal to 80$/,
    ],
    [
      "81 characters, some of them forbidden ones",
      `${"n".repeat(80)}/`,
      false,
      /less than or equal to 80$/,
    ],
    ["no character", "", false, /greater than or equal to 1$/],
  ];
  for (const [what, name, ghost, message] of lengths) {
    const starts: Array<
      [string, (input: { stateMachineArn: string; name: string }) => Promise<unknown>]
    > = [
      ["StartExecution", (input) => sfn.send(new StartExecutionCommand(input))],
      ["StartSyncExecution", (input) => sfn.send(new StartSyncExecutionCommand(input))],
    ];
    for (const [operation, start] of starts) {
      it(`${operation} refuses a name of ${what}: ValidationException`, async () => {
        const stateMachineArn = ghost
          ? "arn:aws:states:us-east-1:123456789012:stateMachine:ghost"
          : waitArn;
        const e = await rejection(() => start({ stateMachineArn, name }));
        assert.equal(e.name, "ValidationException");
        assert.equal(e.$metadata?.httpStatusCode, 400);
        assert.equal(
          e.message.replace(message, ""),
          `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must have length `,
        );
      });
    }
  }

  it("takes a nextToken of the longest length as a token, and refuses it as one", async () => {
    for (const [call, length] of [
      [
        (nextToken: string) =>
          sfn.send(new ListExecutionsCommand({ stateMachineArn: waitArn, nextToken })),
        3096,
      ],
      [(nextToken: string) => sfn.send(new ListStateMachinesCommand({ nextToken })), 1024],
    ] as const) {
      const e = await rejection(() => call("t".repeat(length)));
      assert.equal(e.name, "InvalidToken");
    }
  });

  it("takes maxResults 0 as the default page of 100", async () => {
    const machine = ep.createStateMachine({
      name: "default-page",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    const started: string[] = [];
    for (let i = 0; i < 101; i++) {
      const r = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: machine, name: `d${i}` }),
      );
      started.push(r.executionArn!);
    }
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machine, maxResults: 0 }),
    );
    assert.equal(page.executions?.length, 100);
    assert.ok(page.nextToken, "a 101st execution is on a next page");
    const rest = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: machine,
        maxResults: 0,
        nextToken: page.nextToken,
      }),
    );
    assert.equal(rest.executions?.length, 1);
    assert.equal(rest.nextToken, undefined);
    const listed = [...(page.executions ?? []), ...(rest.executions ?? [])].map(
      (e) => e.executionArn,
    );
    assert.deepEqual(listed.toSorted(), started.toSorted());
  });

  it("lists RUNNING executions page by page, as waiting tasks share them", async () => {
    const long = ep.createStateMachine({
      name: "long-listed",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 60, End: true } } },
    });
    const started: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await sfn.send(new StartExecutionCommand({ stateMachineArn: long, name: `l${i}` }));
      started.push(r.executionArn as string);
    }
    await sfn.send(new StopExecutionCommand({ executionArn: started[0] }));
    const listed: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: long,
          statusFilter: "RUNNING",
          maxResults: 2,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      pages++;
      for (const e of page.executions ?? []) {
        assert.equal(e.status, "RUNNING");
        listed.push(e.executionArn as string);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    assert.equal(pages, 2);
    assert.deepEqual(listed.toSorted(), started.slice(1).toSorted());
    for (const arn of started.slice(1)) {
      await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    }
  });

  it("runs EXPRESS machines synchronously; Standard ones refuse StartSyncExecution", async () => {
    const express = ep.createStateMachine({
      name: "quick",
      type: "EXPRESS",
      definition: { StartAt: "Add", States: { Add: { Type: "Task", Resource: ADD, End: true } } },
    });
    const ok = await sfn.send(
      new StartSyncExecutionCommand({
        stateMachineArn: express,
        input: '{"a":2,"b":3}',
        name: "q1",
      }),
    );
    assert.equal(ok.status, "SUCCEEDED");
    assert.equal(ok.output, '{"sum":5}');
    assert.match(
      ok.executionArn ?? "",
      /^arn:aws:states:us-east-1:123456789012:express:quick:q1:[0-9a-f-]{36}$/,
    );
    assert.ok(ok.stopDate instanceof Date);
    const failing = ep.createStateMachine({
      name: "quick-fail",
      type: "EXPRESS",
      definition: {
        StartAt: "Explode",
        States: { Explode: { Type: "Task", Resource: BROKEN, End: true } },
      },
    });
    const bad = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: failing }));
    assert.equal(bad.status, "FAILED");
    assert.equal(bad.error, "Broken.Error");
    assert.equal(bad.cause, "it broke");
    const notExpress = await rejection(() =>
      sfn.send(new StartSyncExecutionCommand({ stateMachineArn: waitArn })),
    );
    assert.equal(notExpress.name, "StateMachineTypeNotSupported");
    // Express executions are not describable, as in AWS.
    const notDescribable = await rejection(() =>
      sfn.send(new DescribeExecutionCommand({ executionArn: ok.executionArn })),
    );
    assert.equal(notDescribable.name, "InvalidArn");
    // Nor listable: ListExecutions "is not supported by EXPRESS state machines".
    const notListed = await rejection(() =>
      sfn.send(new ListExecutionsCommand({ stateMachineArn: express })),
    );
    assert.equal(notListed.name, "StateMachineTypeNotSupported");
  });
});
