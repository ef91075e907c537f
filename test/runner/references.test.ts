// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the runner's references are ${...} inside plain strings
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { queryJsonPath } from "../../local/runner/jsonpath.ts";
import {
  type ReferenceScope,
  parseTemplateString,
  resolveReferences,
} from "../../local/runner/references.ts";

const output = {
  exit_code: 0,
  result: {
    executionArn: "arn:aws:states:us-east-1:123456789012:execution:hello:run-1",
    outputParsed: { greeting: "Hello", items: [1, 2, 3], nested: { "odd key": true } },
  },
};
const scope: ReferenceScope = {
  vars: { region: "us-east-1", empty: "" },
  task: (name) =>
    name === "start"
      ? {
          state: "Success",
          exitCode: 0,
          outputFields: { execution_arn: "arn:x" },
          extensionOutput: output,
        }
      : undefined,
};

function resolve(value: unknown): { value: unknown; problems: string[] } {
  const problems: string[] = [];
  return { value: resolveReferences(value, scope, problems), problems };
}

describe("references", () => {
  // [written, resolved]
  const cases: Array<[string, unknown, unknown]> = [
    [
      "the controller's function: an array by its JSON text",
      "${_outputJsonPathFromTask('start','EXTENSION','$.result.outputParsed.items')}",
      "[1,2,3]",
    ],
    [
      "the controller's function inside text, spaces after commas",
      "arn=${_outputJsonPathFromTask('start', 'EXTENSION', '$.result.executionArn')}",
      `arn=${output.result.executionArn}`,
    ],
    [
      "a whole reference is text too: an array by its JSON text",
      "${tasks.start.output:$.result.outputParsed.items}",
      "[1,2,3]",
    ],
    ["a number by its text", "${tasks.start.output:$.exit_code}", "0"],
    [
      "a string inside quotes: its text, no quotes added, nothing escaped",
      '{"g":"${tasks.start.output:$.result.outputParsed.greeting}"}',
      '{"g":"Hello"}',
    ],
    ["a string value", "${tasks.start.output:$.result.executionArn}", output.result.executionArn],
    [
      "embedded references are interpolated",
      "arn=${tasks.start.output:$.result.executionArn};n=${tasks.start.output:$.exit_code}",
      `arn=${output.result.executionArn};n=0`,
    ],
    [
      "objects interpolate as JSON",
      "x ${tasks.start.output:$.result.outputParsed.items}",
      "x [1,2,3]",
    ],
    [
      "bracket notation with quotes",
      "${tasks.start.output:$.result.outputParsed.nested['odd key']}",
      "true",
    ],
    ["no path: the whole document's JSON text", "${tasks.start.output}", JSON.stringify(output)],
    ["output-only fields", "${tasks.start.outputFields:$.execution_arn}", "arn:x"],
    ["exit code and state", "${tasks.start.exitCode}/${tasks.start.state}", "0/Success"],
    ["variables", "${vars.region}", "us-east-1"],
    ["an escaped reference stays literal", "$${vars.region}", "${vars.region}"],
    ["references inside objects", { a: ["${vars.region}"], b: 1 }, { a: ["us-east-1"], b: 1 }],
    ["plain text is untouched", "no references here", "no references here"],
    // The controller's function, as its documentation describes it (Universal Controller,
    // Functions: "If the output record cannot be found, the function will remain
    // unresolved"; a path that yields nothing resolves to the default value, '' unless given).
    [
      "the function: a path that matches nothing gives '' by default",
      "[${_outputJsonPathFromTask('start','EXTENSION','$.result.missing')}]",
      "[]",
    ],
    [
      "the function: a path that matches nothing gives the default value written",
      "${_outputJsonPathFromTask('start', 'EXTENSION', '$.result.missing', 'none')}",
      "none",
    ],
    [
      "the function: a default value is not used when the path matches",
      "${_outputJsonPathFromTask('start','EXTENSION','$.result.outputParsed.greeting','none',false)}",
      "Hello",
    ],
    [
      "the function: prettyPrint true indents an object",
      "${_outputJsonPathFromTask('start','EXTENSION','$.result.outputParsed.nested','',true)}",
      '{\n  "odd key": true\n}',
    ],
    [
      "the function: prettyPrint 'false' keeps it compact",
      "${_outputJsonPathFromTask('start','EXTENSION','$.result.outputParsed.items','',  'false')}",
      "[1,2,3]",
    ],
    [
      "the function: a path with quotes in brackets, and a default",
      "${_outputJsonPathFromTask('start','EXTENSION','$.result.outputParsed.nested['odd key']','x')}",
      "true",
    ],
    [
      "the function: no output of that task leaves it unresolved, as written",
      "a ${_outputJsonPathFromTask('ghost','EXTENSION','$.x','d')} b",
      "a ${_outputJsonPathFromTask('ghost','EXTENSION','$.x','d')} b",
    ],
  ];
  for (const [name, written, expected] of cases) {
    test(name, () => {
      const r = resolve(written);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(r.value, expected);
    });
  }

  // [written, text the problem must contain]
  const bad: Array<[string, string]> = [
    ["${tasks.start.output:$.result.missing}", "matches nothing"],
    ["${tasks.later.output:$.x}", "task later has not run"],
    ["${vars.nope}", "no variable nope"],
    ["${tasks.start.output:result}", "must start with $"],
    ["${something.else}", "is not a reference"],
    ["${vars.region", "never closed"],
    ["${_outputJsonPathFromTask('start','STDOUT','$.x')}", "only the EXTENSION output type"],
    ["${_outputJsonPathFromTask('start','EXTENSION','result')}", "must start with $"],
  ];
  for (const [written, expected] of bad) {
    test(`refused: ${written}`, () => {
      const r = resolve(written);
      assert.equal(r.problems.length, 1, r.problems.join("; "));
      assert.match(r.problems[0] ?? "", new RegExp(expected.replace(/[$]/g, "\\$")));
    });
  }

  test("parseTemplateString splits literal text and references", () => {
    const segments = parseTemplateString("a ${vars.x} b", []);
    assert.deepEqual(segments, ["a ", { kind: "var", name: "x", text: "${vars.x}" }, " b"]);
  });

  test("queryJsonPath returns several matches as an array", () => {
    assert.deepEqual(queryJsonPath({ a: [{ b: 1 }, { b: 2 }] }, "$.a[*].b"), {
      found: true,
      value: [1, 2],
    });
  });
});
