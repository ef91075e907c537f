import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { mayHaveMapRunsIn, waitingStateIn } from "../../src/actions/execution.ts";

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
