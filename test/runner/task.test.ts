// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the runner's references are ${...} inside plain strings
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DefinitionError } from "../../local/runner/errors.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import { productTemplate } from "../helpers/fixture-package.ts";
import { CANARY_SECRET, nextEvent, fixtureRunners } from "../helpers/runner-fixture.ts";

const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
const open = fixtureRunners();

const types = (events: RunnerEvent[]) => events.map((e) => e.type);

describe("a task through the controller runner (contract fixture program)", () => {
  test("the program gets the fields file, the context and the output files of SPEC 3.2", async () => {
    const f = await open();
    const result = await f.runner.launch({
      name: "start-hello",
      fields: {
        state_machine_arn: SM,
        credentials: { $credential: "local-test" },
        input: { a: 1 },
      },
    }).result;
    const got = await f.received("start-hello", 1);

    assert.equal(result.state, "Success");
    assert.equal(result.exitCode, 0);
    // The agent sends no variables (so no task name) and no execution count.
    assert.equal(got.env["UE_TASK_NAME"], undefined);
    assert.equal(got.env["UE_TASK_INSTANCE_ID"], result.instanceId);
    assert.equal(got.env["UE_EXECUTION_COUNT"], undefined);
    assert.ok(got.env["UE_OUTPUT_FIELDS_FILE"] && got.env["UE_EXTENSION_OUTPUT_FILE"]);
    assert.equal(
      got.env["UE_FIELD_REGION"],
      undefined,
      "stray UE_ variables from the agent's environment are not passed on",
    );
    assert.equal(got.fieldsFileMode, "600");
    assert.ok(
      !existsSync(got.env["UE_FIELDS_FILE"] ?? ""),
      "the fields file (it holds credentials) is removed after the run",
    );
    assert.deepEqual(got.fields, {
      action: ["Start Asynchronous Execution"],
      credentials: { user: "AKIDCANARYUSER000001", password: CANARY_SECRET },
      role_based_access: false,
      state_machine_arn: SM,
      input: '{"a":1}',
      wait_for_success_or_failure: false,
      rerun_behaviour: ["Start New Execution"],
      use_proxy: false,
    });
    const started = f.events.find((e) => e.type === "task-started");
    assert.ok(started?.type === "task-started");
    assert.deepEqual(started.fields["credentials"], { user: "****", password: "****" });
  });

  test("output-only field updates show while the program still runs, in order", async () => {
    const f = await open({
      "*": { outputFields: [{ execution_status: "RUNNING" }], holdMs: 30_000 },
    });
    const handle = f.runner.launch({ name: "live", fields: { state_machine_arn: SM } });

    const update = await nextEvent(
      f,
      (e) => e.type === "output-field" && e.name === "execution_status",
    );
    assert.ok(
      !types(f.events).includes("task-finished"),
      "the update arrived before the task ended",
    );
    assert.ok(update.type === "output-field" && update.value === "RUNNING");
    handle.cancel();
    const result = await handle.result;

    const fieldEvents = f.events.flatMap((e) =>
      e.type === "output-field" ? [`${e.name}=${String(e.value)}`] : [],
    );
    assert.deepEqual(fieldEvents.slice(0, 3), [
      `execution_arn=arn:aws:states:us-east-1:123456789012:execution:fixture:live-1`,
      "generated_execution_name=live-1",
      "execution_status=RUNNING",
    ]);
    assert.equal(result.outputFields["execution_status"], "ABORTED");
  });

  test("the extension output is collected and the program's log lines are passed on", async () => {
    const f = await open({ "*": { output: { greeting: "Hello" }, stderr: ["plain log line"] } });
    const result = await f.runner.launch({ name: "collect", fields: { state_machine_arn: SM } })
      .result;
    const doc = result.extensionOutput as { exit_code: number; result: { outputParsed: unknown } };

    assert.equal(doc.exit_code, 0);
    assert.deepEqual(doc.result.outputParsed, { greeting: "Hello" });
    assert.ok(
      f.events.some(
        (e) => e.type === "log" && e.stream === "stderr" && e.line === "plain log line",
      ),
    );
    assert.deepEqual(result.problems, []);
  });

  // [exit code of the program, template exit codes, expected state]
  const exitCases: Array<[number, string, string]> = [
    [0, "0", "Success"],
    [23, "0", "Failed"],
    [20, "0", "Failed"],
    [23, "0,23", "Success"],
  ];
  for (const [code, range, state] of exitCases) {
    test(`exit-code processing: exit ${code} with success range "${range}" is ${state}`, async () => {
      const template = await productTemplate();
      template["exitCodes"] = range;
      const f = await open({ "*": { exitCode: code } }, { template });
      const result = await f.runner.launch({ name: "codes", fields: { state_machine_arn: SM } })
        .result;
      assert.equal(result.exitCode, code);
      assert.equal(result.state, state);
    });
  }

  test("a program that writes no extension output: the bridge ends the task with exit code 30", async () => {
    const f = await open({ "*": { noExtensionOutput: true } });
    const result = await f.runner.launch({ name: "silent", fields: { state_machine_arn: SM } })
      .result;
    assert.equal(result.state, "Failed");
    assert.equal(result.exitCode, 30);
    assert.match(result.message ?? "", /exit code 0 without writing its extension output document/);
    assert.equal((result.extensionOutput as { exit_code: number }).exit_code, 30);
    assert.deepEqual(result.problems, []);
  });

  test("a secret that shows up in the program's output is flagged and masked", async () => {
    const f = await open({ "*": { stderr: [`oops ${CANARY_SECRET}`] } });
    const result = await f.runner.launch({
      name: "leaky",
      fields: { state_machine_arn: SM, credentials: { $credential: "local-test" } },
    }).result;
    assert.ok(result.problems.some((p) => p.startsWith("SECRET LEAK")));
    const printed = JSON.stringify(f.events);
    assert.ok(!printed.includes(CANARY_SECRET));
    assert.ok(printed.includes("oops ****"));
  });
});

describe("definitions the runner refuses", () => {
  // [fields, text of the expected problem]
  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "inline credentials",
      { credentials: { user: "AKID", password: "secret" } },
      /inline credentials are refused/,
    ],
    ["a credential as a string", { credentials: "AKID:secret" }, /inline credentials are refused/],
    [
      "an unknown field",
      { state_machine_arn: SM, colour: "red" },
      /colour: template "AWS Step Functions" has no such field/,
    ],
    [
      "an output-only field",
      { state_machine_arn: SM, execution_arn: "arn:x" },
      /output-only, the program sets it/,
    ],
  ];
  for (const [name, fields, problem] of refused) {
    test(name, async () => {
      const f = await open();
      assert.throws(
        () => f.runner.launch({ name: "bad", fields }),
        (e: unknown) => e instanceof DefinitionError && e.problems.some((p) => problem.test(p)),
      );
    });
  }

  test("a different template name", async () => {
    const f = await open();
    assert.throws(
      () => f.runner.launch({ name: "x", template: "Other", fields: {} }),
      /the package holds template "AWS Step Functions"/,
    );
  });

  // Values the controller's form would not accept: the task ends Start Failure, nothing launches.
  const startFailures: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "an unknown credential name",
      { state_machine_arn: SM, credentials: { $credential: "nope" } },
      /no credential named "nope"/,
    ],
    [
      "a choice that is not offered",
      { state_machine_arn: SM, action: "Dance" },
      /expected one of "Start Asynchronous Execution"/,
    ],
    [
      "a non-integer",
      { state_machine_arn: SM, wait_for_success_or_failure: true, polling_interval: "ten" },
      /expected a whole number/,
    ],
    ["a non-boolean", { state_machine_arn: SM, use_proxy: "yes" }, /expected true or false/],
    [
      "a reference to a task that did not run",
      { state_machine_arn: "${tasks.ghost.output:$.x}" },
      /task ghost has not run/,
    ],
  ];
  for (const [name, fields, problem] of startFailures) {
    test(`Start Failure: ${name}`, async () => {
      const f = await open();
      const result = await f.runner.launch({ name: "bad", fields }).result;
      assert.equal(result.state, "Start Failure");
      assert.ok(
        result.problems.some((p) => problem.test(p)),
        result.problems.join("; "),
      );
      assert.ok(!existsSync(join(f.dir, "bad-1.json")), "the program never ran");
    });
  }
});
