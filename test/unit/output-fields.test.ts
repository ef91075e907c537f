import assert from "node:assert/strict";
import { test } from "node:test";
import { writeFailureReason } from "../../src/output/output-fields.ts";

test("a file-system error is said plainly, with its code", () => {
  const error = (code: string) => Object.assign(new Error(`${code}: raw`), { code });
  const cases: Array<[string, string]> = [
    ["ENOSPC", "no space left on the device, ENOSPC"],
    ["EPIPE", "the pipe's reader has ended, EPIPE"],
    // A low ulimit -n: the limit, not only its code.
    ["EMFILE", "this process has too many open files, EMFILE"],
    ["ENFILE", "this host has too many open files, ENFILE"],
    ["EWHATEVER", "EWHATEVER"],
  ];
  for (const [code, expected] of cases) assert.equal(writeFailureReason(error(code)), expected);
});
