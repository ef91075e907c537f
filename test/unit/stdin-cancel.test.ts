import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cancelLines, cancelOnStdin, cancelOnStdinProblem } from "../../src/stdin-cancel.ts";

/** How many cancels the chunks, fed in order, make. */
function cancels(...chunks: string[]): number {
  let count = 0;
  const feed = cancelLines(() => count++);
  for (const chunk of chunks) feed(chunk);
  return count;
}

describe("the cancel line on standard input", () => {
  const cases: Array<[string, string[], number]> = [
    ["a line", ["cancel\n"], 1],
    ["with a carriage return and spaces", ["  cancel \r\n"], 1],
    ["split across chunks", ["can", "cel", "\n"], 1],
    ["two lines, two cancels", ["cancel\ncancel\n"], 2],
    ["no line end yet (or ever: the input ended)", ["cancel"], 0],
    ["another word", ["cancelled\n", "CANCEL\n", "stop\n", "\n"], 0],
    ["the end of a line too long to keep", ["x".repeat(300), "cancel\n"], 0],
    ["a line after a line too long to keep", ["x".repeat(300), "\ncancel\n"], 1],
  ];
  for (const [name, chunks, expected] of cases) {
    test(`${name}: ${expected}`, () => {
      assert.equal(cancels(...chunks), expected);
    });
  }

  test("UE_CANCEL_ON_STDIN: 1 turns it on; 0, empty or unset leave it off; anything else is refused", () => {
    assert.equal(cancelOnStdin({ UE_CANCEL_ON_STDIN: "1" }), true);
    for (const value of ["0", "", undefined]) {
      assert.equal(cancelOnStdin({ UE_CANCEL_ON_STDIN: value }), false);
      assert.equal(cancelOnStdinProblem({ UE_CANCEL_ON_STDIN: value }), undefined);
    }
    assert.equal(cancelOnStdinProblem({ UE_CANCEL_ON_STDIN: "1" }), undefined);
    assert.match(
      cancelOnStdinProblem({ UE_CANCEL_ON_STDIN: "true" })?.message ?? "",
      /^must be 1 .* or 0 \(got "true"\)$/,
    );
  });
});
