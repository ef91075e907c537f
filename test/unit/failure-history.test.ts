import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { failureIn } from "../../src/actions/execution.ts";

const at = new Date(0);
const event = (id: number, type: string, details: Partial<HistoryEvent> = {}): HistoryEvent =>
  ({ id, type, timestamp: at, ...details }) as HistoryEvent;

const cases: Array<[string, HistoryEvent[], ReturnType<typeof failureIn>]> = [
  [
    "JSONPath: a task fails",
    [
      event(5, "ExecutionFailed", {
        executionFailedEventDetails: { error: "Ledger.Locked", cause: "closing" },
      }),
      event(4, "TaskFailed", {
        taskFailedEventDetails: { resource: "x", resourceType: "lambda", error: "Ledger.Locked" },
      }),
      event(3, "TaskStateEntered", { stateEnteredEventDetails: { name: "Post" } }),
      event(2, "PassStateExited", { stateExitedEventDetails: { name: "Prepare" } }),
    ],
    { error: "Ledger.Locked", cause: "closing", failedState: "Post" },
  ],
  [
    "JSONata: an expression fails (EvaluationFailed names the state)",
    [
      event(4, "ExecutionFailed", {
        executionFailedEventDetails: {
          error: "States.QueryEvaluationError",
          cause: "in Condition",
        },
      }),
      event(3, "EvaluationFailed", {
        evaluationFailedEventDetails: {
          error: "States.QueryEvaluationError",
          cause: "in Condition",
          location: "Condition",
          state: "Route",
        },
      }),
      event(2, "ChoiceStateEntered", { stateEnteredEventDetails: { name: "Route" } }),
    ],
    { error: "States.QueryEvaluationError", cause: "in Condition", failedState: "Route" },
  ],
  [
    "JSONata: an evaluation failure with no execution-level details",
    [
      event(3, "EvaluationFailed", {
        evaluationFailedEventDetails: { error: "States.QueryEvaluationError", state: "Price" },
      }),
      event(2, "TaskStateEntered", { stateEnteredEventDetails: { name: "Price" } }),
    ],
    { error: "States.QueryEvaluationError", cause: null, failedState: "Price" },
  ],
];

for (const [what, events, expected] of cases) {
  test(`failureIn: ${what}`, () => {
    assert.deepEqual(failureIn(events), expected);
  });
}
