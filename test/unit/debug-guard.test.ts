import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nodeDebugProblem, splitNodeDebug } from "../../src/debug-guard.ts";

describe("NODE_DEBUG sections that print secrets", () => {
  const cases: Array<[string, string[], string[]]> = [
    ["http", [], ["http"]],
    ["http,net,tls,https", [], ["http", "net", "tls", "https"]],
    ["HTTP", [], ["HTTP"]],
    ["*", [], ["*"]],
    ["ht*", [], ["ht*"]],
    ["timer, module", ["timer", "module"], []],
    ["timer,http2,child_process", ["timer"], ["http2", "child_process"]],
    ["", [], []],
  ];
  for (const [value, kept, dropped] of cases) {
    test(JSON.stringify(value), () => {
      assert.deepEqual(splitNodeDebug(value), { kept, dropped });
    });
  }

  test("the problem names the sections and what to run with instead", () => {
    const problem = nodeDebugProblem({ NODE_DEBUG: "timer,tls" });
    assert.equal(problem?.field, "NODE_DEBUG");
    assert.match(problem?.message ?? "", /names tls: .* run with NODE_DEBUG=timer/);
    assert.equal(nodeDebugProblem({ NODE_DEBUG: "timer" }), null);
    assert.equal(nodeDebugProblem({}), null);
  });
});
