/**
 * The target of Monitor, Stop and Redrive: its output-only fields are published from the
 * ARN at once, then from what DescribeExecution says of it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ActionContext } from "../../src/actions/action.ts";
import { describeTarget, targetOf } from "../../src/actions/target.ts";
import { parseExecutionArn } from "../../src/fields/validate.ts";
import { createOutputFields } from "../../src/output/output-fields.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function contextFor(arn: string, awsName: string): ActionContext {
  return {
    config: {
      task: {
        action: "Monitor Execution",
        targetExecutionArn: arn,
        targetExecution: parseExecutionArn(arn),
      },
    },
    aws: {
      sfn: {
        describeExecution: async () => ({ executionArn: arn, name: awsName, status: "RUNNING" }),
      },
    },
    log: quiet,
    outputs: createOutputFields(undefined),
  } as unknown as ActionContext;
}

// [what, ARN, the name read from it, the name AWS gives]
const cases: Array<[string, string, string, string]> = [
  [
    "a Standard execution: the ARN's name, which AWS confirms",
    "arn:aws:states:eu-west-1:123456789012:execution:orders:nightly-1",
    "nightly-1",
    "nightly-1",
  ],
  [
    "an Express child execution of a Distributed Map: AWS's name stands",
    "arn:aws:states:eu-west-1:123456789012:express:orders/Items:c1:0f1e2d3c",
    "c1",
    "child-from-aws",
  ],
];
for (const [what, arn, fromArn, fromAws] of cases) {
  test(`the target's name: ${what}`, async () => {
    const ctx = contextFor(arn, fromAws);
    const target = targetOf(ctx);
    assert.equal(ctx.outputs.current.execution_arn, arn);
    assert.equal(ctx.outputs.current.generated_execution_name, fromArn);
    await describeTarget(ctx, target);
    assert.equal(ctx.outputs.current.generated_execution_name, fromAws);
    assert.equal(ctx.outputs.current.execution_status, "RUNNING");
  });
}
