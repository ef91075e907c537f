import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSuccessExitCode, parseExitCodeRanges } from "../../local/runner/exit-code-processing.ts";
import { conditionHolds, parseCondition } from "../../local/runner/workflow.ts";
import type { TaskResult } from "../../local/runner/events.ts";

describe("exit-code processing", () => {
  // [processing, codes, exit code, success?]
  const cases: Array<[string, string, number, boolean]> = [
    ["Success Exitcode Range", "0", 0, true],
    ["Success Exitcode Range", "0", 23, false],
    ["Success Exitcode Range", "0,23-25", 24, true],
    ["Success Exitcode Range", "0, 2 - 3", 3, true],
    ["Failure Exitcode Range", "1-255", 0, true],
    ["Failure Exitcode Range", "1-255", 20, false],
  ];
  for (const [processing, codes, code, success] of cases) {
    test(`${processing} "${codes}": exit ${code} is ${success ? "success" : "failure"}`, () => {
      assert.equal(
        isSuccessExitCode({ exitCodeProcessing: processing, exitCodes: codes }, code),
        success,
      );
    });
  }

  test("bad lists are refused", () => {
    assert.throws(() => parseExitCodeRanges("0,x"), /not a code or a range/);
    assert.throws(() => parseExitCodeRanges("5-2"), /backwards/);
    assert.throws(
      () => isSuccessExitCode({ exitCodeProcessing: "Step Conditions", exitCodes: "0" }, 0),
      /not supported/,
    );
  });
});

describe("workflow conditions", () => {
  const result = (state: TaskResult["state"], exitCode: number | null) =>
    ({ state, exitCode }) as TaskResult;
  // [runIf, state, exit code, holds?]
  const cases: Array<[string, TaskResult["state"], number | null, boolean]> = [
    ["success", "Success", 0, true],
    ["success", "Failed", 23, false],
    ["failure", "Failed", 23, true],
    ["failure", "Cancelled", 27, true],
    ["failure", "Start Failure", null, true],
    ["failure", "Success", 0, false],
    ["always", "Failed", 1, true],
    ["exit codes 23,25", "Failed", 25, true],
    ["exit code 23", "Failed", 24, false],
    ["exit code 23", "Start Failure", null, false],
  ];
  for (const [runIf, state, code, holds] of cases) {
    test(`runIf "${runIf}" on ${state} (${code}): ${holds}`, () => {
      assert.equal(conditionHolds(parseCondition(runIf), result(state, code)), holds);
    });
  }
  test("unknown conditions are refused", () => {
    assert.throws(() => parseCondition("sometimes"), /use "success"/);
  });
});
