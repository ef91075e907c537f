import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { endedOutcome, failureIn } from "../../src/actions/execution.ts";
import type { StepFunctions } from "../../src/aws/step-functions.ts";
import type { Logger } from "../../src/log.ts";
import type { ExecutionResult } from "../../src/output/extension-output.ts";

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

/** A Step Functions view whose history reads are counted: a Distributed Map child's history. */
function historyOnly() {
  const asked: string[] = [];
  const sfn = {
    getExecutionHistory: async (input: { executionArn?: string }) => {
      asked.push(input.executionArn ?? "");
      return {
        events: [
          event(3, "ExecutionFailed", {
            executionFailedEventDetails: { error: "Item.Invalid", cause: "no price" },
          }),
          event(2, "TaskStateEntered", { stateEnteredEventDetails: { name: "Price" } }),
          event(1, "ExecutionStarted"),
        ],
        $metadata: {},
      };
    },
  } as unknown as StepFunctions;
  const warnings: string[] = [];
  const log: Logger = {
    info: () => {},
    warn: (m) => warnings.push(m),
    error: () => {},
    debug: () => {},
  };
  return { sfn, asked, warnings, log };
}

// [what, execution ARN, history read, failed state]
const children: Array<[string, string, boolean, string | null]> = [
  [
    "a Standard child execution of a Distributed Map: its history names the failed state",
    "arn:aws:states:eu-west-1:123456789012:execution:orders/Items:c1",
    true,
    "Price",
  ],
  [
    "an Express child execution: no history is asked for (GetExecutionHistory serves no Express execution)",
    "arn:aws:states:eu-west-1:123456789012:express:orders/Items:c1:0f1e2d3c",
    false,
    null,
  ],
];
for (const [what, executionArn, read, failedState] of children) {
  test(`endedOutcome: ${what}`, async () => {
    const { sfn, asked, warnings, log } = historyOnly();
    const outcome = await endedOutcome(
      sfn,
      { executionArn, status: "FAILED", error: "Item.Invalid", cause: "no price" } as never,
      false,
      log,
    );
    assert.equal(outcome.exitCode, 23);
    assert.deepEqual(asked, read ? [executionArn] : []);
    assert.deepEqual(warnings, []);
    const result = outcome.result as ExecutionResult;
    assert.equal(result.error, "Item.Invalid");
    assert.equal(result.failedState, failedState);
  });
}
