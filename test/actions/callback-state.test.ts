import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import {
  CALLBACK_LOOK_AFTER_MS,
  mayHaveMapRunsIn,
  waitForExecution,
  waitingStateIn,
} from "../../src/actions/execution.ts";
import type { StepFunctions } from "../../src/aws/step-functions.ts";
import { createOutputFields } from "../../src/output/output-fields.ts";

/** History events newest first, as GetExecutionHistory with reverseOrder gives them. */
function history(...events: Array<[string, string?]>): HistoryEvent[] {
  return events.map(([type, detail], i) => {
    const e: HistoryEvent = {
      type: type as HistoryEvent["type"],
      id: 100 - i,
      timestamp: new Date(),
    };
    if (type.endsWith("StateEntered")) e.stateEnteredEventDetails = { name: detail ?? "" };
    if (type === "TaskScheduled") {
      e.taskScheduledEventDetails = {
        resourceType: "sqs",
        resource: detail ?? "sendMessage",
        region: "eu-west-1",
        parameters: "{}",
      };
    }
    return e;
  });
}

describe("which state waits for a callback, from the newest history events", () => {
  // [what, events newest first, the waiting state]
  const cases: Array<[string, HistoryEvent[], string | null]> = [
    [
      "a .waitForTaskToken task submitted and not answered",
      history(
        ["TaskSubmitted"],
        ["TaskStarted"],
        ["TaskScheduled", "sendMessage.waitForTaskToken"],
        ["TaskStateEntered", "AwaitApproval"],
        ["ExecutionStarted"],
      ),
      "AwaitApproval",
    ],
    [
      "the callback answered",
      history(
        ["TaskStateExited"],
        ["TaskSucceeded"],
        ["TaskSubmitted"],
        ["TaskScheduled", "sendMessage.waitForTaskToken"],
        ["TaskStateEntered", "AwaitApproval"],
      ),
      null,
    ],
    [
      "an ordinary task running",
      history(["TaskStarted"], ["TaskScheduled", "invoke"], ["TaskStateEntered", "Load"]),
      null,
    ],
    [
      "a callback task after an answered one",
      history(
        ["TaskScheduled", "invoke.waitForTaskToken"],
        ["TaskStateEntered", "SecondApproval"],
        ["TaskStateExited"],
        ["TaskSucceeded"],
        ["TaskScheduled", "sendMessage.waitForTaskToken"],
        ["TaskStateEntered", "FirstApproval"],
      ),
      "SecondApproval",
    ],
    [
      "a retried callback task that timed out once",
      history(
        ["TaskScheduled", "sendMessage.waitForTaskToken"],
        ["TaskTimedOut"],
        ["TaskScheduled", "sendMessage.waitForTaskToken"],
        ["TaskStateEntered", "AwaitApproval"],
      ),
      "AwaitApproval",
    ],
    ["no events", [], null],
  ];
  for (const [what, events, expected] of cases) {
    test(what, () => {
      assert.equal(waitingStateIn(events), expected);
    });
  }
});

describe("whether an execution may have Map Runs, from the newest history events", () => {
  // [what, events newest first, may have Map Runs]
  const cases: Array<[string, HistoryEvent[], boolean]> = [
    [
      "the whole history, no Distributed Map: none",
      history(["WaitStateEntered", "Hold"], ["PassStateExited"], ["ExecutionStarted"]),
      false,
    ],
    [
      "the whole history with a Map Run started",
      history(["MapRunStarted"], ["MapStateEntered", "Each"], ["ExecutionStarted"]),
      true,
    ],
    [
      "a Map Run started and newer events, not the whole history",
      history(["TaskStateEntered", "Other"], ["MapRunStarted"], ["MapStateEntered", "Each"]),
      true,
    ],
    [
      "newest events that do not reach back to the start: it may",
      history(["PassStateExited"], ["PassStateEntered", "Step"], ["MapIterationSucceeded"]),
      true,
    ],
    ["no events at all: it may", [], true],
  ];
  for (const [what, events, expected] of cases) {
    test(what, () => assert.equal(mayHaveMapRunsIn(events), expected));
  }
});

describe("the look at the history while waiting, for a Distributed Map's child execution", () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  /**
   * Step Functions answering RUNNING until it has answered so once when the first look was due,
   * then SUCCEEDED; calls counted. Timed from the first status check (the wait began before it),
   * never from the clock alone: a slow machine must not end the execution before the look.
   */
  function fakeSfn(executionArn: string) {
    const calls: string[] = [];
    let firstAskedAt: number | undefined;
    let lookDueAnswered = false;
    const sfn = {
      describeExecution: async () => {
        calls.push("DescribeExecution");
        const now = Date.now();
        firstAskedAt ??= now;
        const status = lookDueAnswered ? "SUCCEEDED" : "RUNNING";
        if (now - firstAskedAt >= CALLBACK_LOOK_AFTER_MS) lookDueAnswered = true;
        return { executionArn, status, startDate: new Date(), $metadata: {} };
      },
      getExecutionHistory: async () => {
        calls.push("GetExecutionHistory");
        return { events: history(["TaskStateEntered", "Price"], ["ExecutionStarted"]) };
      },
      listMapRuns: async () => {
        calls.push("ListMapRuns");
        return { mapRuns: [] };
      },
    } as unknown as StepFunctions;
    return { sfn, calls };
  }

  // [what, execution ARN, history looked at]
  const cases: Array<[string, string, boolean]> = [
    [
      "a Standard child: its history is looked at",
      "arn:aws:states:eu-west-1:123456789012:execution:orders/Items:c1",
      true,
    ],
    [
      "an Express child: no GetExecutionHistory (it serves no Express execution), no Map Runs",
      "arn:aws:states:eu-west-1:123456789012:express:orders/Items:c1:0f1e2d3c",
      false,
    ],
  ];
  for (const [what, executionArn, looked] of cases) {
    test(what, async () => {
      const { sfn, calls } = fakeSfn(executionArn);
      const waited = await waitForExecution({
        sfn,
        executionArn,
        executionStart: new Date(),
        pollingIntervalSeconds: 1,
        maximumWaitSeconds: 0,
        failureLimitMs: 60_000,
        log: quiet,
        outputs: createOutputFields(undefined),
      });
      assert.equal(waited.kind, "ended");
      assert.equal(calls.includes("GetExecutionHistory"), looked, calls.join(", "));
      if (!looked) assert.deepEqual([...new Set(calls)], ["DescribeExecution"]);
    });
  }
});
