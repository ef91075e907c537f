// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the runner's references are ${...} inside plain strings
/** The runner's console report: pure formatting of events, with a fixed clock. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RunnerEvent, TaskIdentity } from "../../local/runner/events.ts";
import { consoleReporter, resolvedReferences, resultSummary } from "../../local/runner/report.ts";

const TASK: TaskIdentity = { name: "t", instanceId: "0".repeat(32), rerun: false };
const FIXED = () => new Date("2030-01-02T03:04:05.678Z");

function printed(
  events: RunnerEvent[],
  options: Parameters<typeof consoleReporter>[1] = {},
): string {
  let text = "";
  const report = consoleReporter(
    (t) => {
      text += t;
    },
    { now: FIXED, ...options },
  );
  for (const e of events) report(e);
  return text;
}

const log = (line: string): RunnerEvent => ({ type: "log", task: TASK, stream: "stderr", line });

describe("console report", () => {
  test("a log line with the program's own time shows that time once, in the time column", () => {
    const text = printed([log("2030-01-02T09:08:07.654Z INFO  started execution x")]);

    assert.match(text, /^09:08:07\.654 {2}t\b.*\| INFO {2}started execution x\n$/);
    assert.equal(text.match(/\d\d:\d\d:\d\d\.\d{3}/g)?.length, 1);
  });

  test('logs "warnings" keeps WARN, ERROR and lines without a level, and leaves INFO and DEBUG out', () => {
    const text = printed(
      [
        log("2030-01-02T09:08:07.654Z INFO  quiet"),
        log("2030-01-02T09:08:07.655Z DEBUG quieter"),
        log("2030-01-02T09:08:07.656Z WARN  the proxy is not used"),
        log("2030-01-02T09:08:07.657Z ERROR cannot reach the endpoint"),
        log("Traceback (most recent call last):"),
      ],
      { logs: "warnings" },
    );

    assert.doesNotMatch(text, /quiet/);
    assert.match(text, /WARN {2}the proxy is not used/);
    assert.match(text, /ERROR cannot reach the endpoint/);
    assert.match(text, /Traceback/);
  });

  // [case, extension output document, summary]
  const summaries: Array<[string, unknown, string | null]> = [
    [
      "succeeded",
      { result: { status: "SUCCEEDED", output: '{"a":1}' } },
      'SUCCEEDED, output {"a":1}',
    ],
    [
      "failed",
      {
        result: {
          status: "FAILED",
          failedState: "RejectOrder",
          error: "Orders.Invalid",
          cause: "no lines",
          output: null,
        },
      },
      "FAILED, in state RejectOrder, error Orders.Invalid, cause no lines",
    ],
    ["a callback", { result: { callback: "SendTaskHeartbeat" } }, "SendTaskHeartbeat"],
    [
      "a long output",
      { result: { status: "SUCCEEDED", output: "x".repeat(300) } },
      `SUCCEEDED, output ${"x".repeat(240)}... (300 characters)`,
    ],
    ["no result", { result: null }, null],
    ["no document", null, null],
  ];
  for (const [name, doc, expected] of summaries) {
    test(`result summary: ${name}`, () => {
      assert.equal(resultSummary(doc), expected);
    });
  }

  test("each task reference is shown with the value it resolved to; variables and literals are not", () => {
    const definition = {
      endpoint_url: "${vars.endpoint_url}",
      execution_name: "after-${tasks.first.state}",
      input: {
        arn: "${tasks.first.outputFields:$.execution_arn}",
        fixed: 1,
        list: ["${tasks.first.exitCode}"],
      },
      // The field's text: each reference with the text that replaced it.
      script: '{"n": ${tasks.first.exitCode}, "s": "${tasks.first.state}", "v": "${vars.x}"}',
    };
    const sent = {
      endpoint_url: "http://127.0.0.1:1",
      execution_name: "after-Success",
      input: JSON.stringify({ arn: "arn:x", fixed: 1, list: ["0"] }),
      script: '{"n": 0, "s": "Success", "v": "x"}',
    };

    assert.deepEqual(resolvedReferences(definition, sent), [
      "execution_name: Success  from ${tasks.first.state}",
      'input.arn = "arn:x"  from ${tasks.first.outputFields:$.execution_arn}',
      'input.list.0 = "0"  from ${tasks.first.exitCode}',
      "script: 0  from ${tasks.first.exitCode}",
      "script: Success  from ${tasks.first.state}",
    ]);
  });
});
