/**
 * Joining an execution whose name AWS refused to start again: the input decides a conflict
 * when it can be read; when its KMS key keeps it from the task, AWS's refusal does for a
 * RUNNING execution only.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DescribeExecutionOutput } from "@aws-sdk/client-sfn";
import { attachExisting, type StartRequest } from "../../src/actions/execution.ts";
import type { StepFunctions } from "../../src/aws/step-functions.ts";
import { DataValidationError } from "../../src/errors.ts";
import { parseStateMachineArn } from "../../src/fields/validate.ts";
import type { Logger } from "../../src/log.ts";
import { createOutputFields } from "../../src/output/output-fields.ts";

const MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
const ARN = "arn:aws:states:us-east-1:123456789012:execution:orders:run-7";

function request(warnings: string[]): StartRequest {
  const log: Logger = {
    info() {},
    warn: (m: string) => warnings.push(m),
    error() {},
    debug() {},
  };
  return {
    sfn: {} as StepFunctions,
    stateMachineArn: MACHINE,
    stateMachine: parseStateMachineArn(MACHINE) as NonNullable<
      ReturnType<typeof parseStateMachineArn>
    >,
    name: "run-7",
    input: '{"batch":7}',
    log,
    outputs: createOutputFields(undefined),
    launchedAt: new Date(),
  };
}

const described = (status: string, extra: object = {}) =>
  ({
    executionArn: ARN,
    stateMachineArn: MACHINE,
    name: "run-7",
    status,
    startDate: new Date(Date.now() - 60_000),
    ...extra,
  }) as DescribeExecutionOutput & { unreadable?: string };

const KMS = "the state machine's customer managed KMS key does not let these credentials use it";

describe("attachExisting", () => {
  test("readable: the same input joins, another is a conflict", () => {
    const joined = attachExisting(request([]), described("RUNNING", { input: '{ "batch": 7 }' }));
    assert.equal(joined.executionArn, ARN);
    assert.equal(joined.startedNow, false);
    assert.throws(
      () => attachExisting(request([]), described("RUNNING", { input: '{"batch":8}' })),
      (e: unknown) => e instanceof DataValidationError && /a different input/.test(e.message),
    );
  });

  test("unreadable and RUNNING: AWS refused the same name, so the input differs", () => {
    assert.throws(
      () => attachExisting(request([]), described("RUNNING", { unreadable: KMS })),
      (e: unknown) =>
        e instanceof DataValidationError && /already exists with a different input/.test(e.message),
    );
  });

  test("unreadable and PENDING_REDRIVE: joined, with a warning that inputs were not compared", () => {
    const warnings: string[] = [];
    const joined = attachExisting(
      request(warnings),
      described("PENDING_REDRIVE", { unreadable: KMS }),
    );
    assert.equal(joined.executionArn, ARN);
    assert.equal(joined.unreadable, KMS);
    assert.match(warnings.join("\n"), /input of execution run-7 cannot be read/);
  });

  test("unreadable and ended: its result, with the same warning", () => {
    const warnings: string[] = [];
    const joined = attachExisting(request(warnings), described("SUCCEEDED", { unreadable: KMS }));
    assert.equal(joined.closed?.status, "SUCCEEDED");
    assert.match(warnings.join("\n"), /not compared with this task's input/);
  });
});
