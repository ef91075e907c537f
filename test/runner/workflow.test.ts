// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the runner's references are ${...} inside plain strings
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DefinitionError } from "../../local/runner/errors.ts";
import { WorkflowRun, parseWorkflow } from "../../local/runner/workflow.ts";
import { type FixtureRunner, nextEvent, openFixtureRunner } from "../helpers/runner-fixture.ts";

const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
const fixtures: FixtureRunner[] = [];
async function open(plan: Record<string, unknown>): Promise<FixtureRunner> {
  const f = await openFixtureRunner(plan);
  fixtures.push(f);
  return f;
}
after(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
});

const task = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  fields: { state_machine_arn: SM },
  ...extra,
});

describe("workflows (contract fixture program)", () => {
  test("a later task's field takes a value from an earlier task's extension output", async () => {
    const f = await open({ a: { output: { orderId: "o-42", lines: [1, 2] } } });
    const run = new WorkflowRun(f.runner, {
      name: "chain",
      variables: { prefix: "order" },
      tasks: [
        task("a"),
        {
          name: "b",
          fields: {
            state_machine_arn: SM,
            execution_name: "${vars.prefix}-${tasks.a.output:$.result.outputParsed.orderId}",
            // The field's text: the array stands outside quotes, the ARN inside them.
            input:
              '{"lines": ${tasks.a.output:$.result.outputParsed.lines}, "arn": "${tasks.a.outputFields:$.execution_arn}"}',
          },
        },
      ],
    });

    const result = await run.run();

    assert.equal(result.state, "Success");
    const got = (await f.received("b", 1)).fields;
    assert.equal(got["execution_name"], "order-o-42");
    assert.equal(
      got["input"],
      '{"lines": [1,2], "arn": "arn:aws:states:us-east-1:123456789012:execution:fixture:a-1"}',
    );
  });

  test("conditions: success skips, failure handles, a skipped predecessor skips", async () => {
    const f = await open({ a: { exitCode: 23 } });
    const run = new WorkflowRun(f.runner, {
      name: "conditions",
      tasks: [
        task("a"),
        task("next"),
        task("after-next"),
        task("handler", { after: "a", runIf: "failure" }),
        task("cleanup", { after: "a", runIf: "always" }),
      ],
    });

    const result = await run.run();

    assert.deepEqual(
      result.tasks.map((t) => `${t.name}:${t.ran ? t.result.state : "Skipped"}`),
      ["a:Failed", "next:Skipped", "after-next:Skipped", "handler:Success", "cleanup:Success"],
    );
    const skipped = result.tasks[2];
    assert.ok(skipped && !skipped.ran && skipped.reason === "next was skipped");
    assert.equal(
      result.state,
      "Success",
      "a's failure is handled by the task that runs on failure",
    );
  });

  test("an unhandled failure fails the workflow; rerunning the failed task carries on with the skipped ones", async () => {
    const f = await open({ a: { exitCodeByCount: { "1": 23 } } });
    const run = new WorkflowRun(f.runner, { name: "resume", tasks: [task("a"), task("b")] });

    const first = await run.run();
    const second = await run.rerun("a");

    assert.equal(first.state, "Failed");
    assert.equal(second.state, "Success");
    assert.deepEqual(
      second.tasks.map((t) =>
        t.ran
          ? `${t.name}${t.result.rerun ? " (rerun)" : ""}:${t.result.state}`
          : `${t.name}:Skipped`,
      ),
      ["a (rerun):Success", "b:Success"],
    );
  });

  test("cancelling the workflow cancels the running task (SIGTERM) and runs nothing more", async () => {
    const f = await open({ a: { holdMs: 30_000 } });
    const run = new WorkflowRun(f.runner, {
      name: "stop",
      tasks: [task("a"), task("b", { runIf: "always" })],
    });
    const done = run.run();
    await nextEvent(f, (e) => e.type === "output-field" && e.value === "RUNNING");

    run.cancel();
    const result = await done;

    assert.equal(result.state, "Cancelled");
    const [a, b] = result.tasks;
    assert.ok(a?.ran && a.result.state === "Cancelled" && a.result.exitCode === 27);
    assert.deepEqual(b, { name: "b", ran: false, reason: "not run (workflow cancelled)" });
  });

  test("a saved run can be restored on another runner and a task rerun there", async () => {
    const f = await open({ a: { exitCodeByCount: { "1": 20 } } });
    const run = new WorkflowRun(f.runner, { name: "saved", tasks: [task("a"), task("b")] });
    await run.run();
    const record = JSON.parse(JSON.stringify(run.save()));

    const g = await open({ a: {} });
    const restored = WorkflowRun.restore(g.runner, record);
    const result = await restored.rerun("a");

    assert.equal(result.state, "Success");
    // The first run of "a" on this runner, of the instance saved by the other one.
    assert.equal((await g.received("a", 1)).env["UE_TASK_INSTANCE_ID"], run.instanceIdOf("a"));
  });

  // [workflow, expected problem]
  const invalid: Array<[string, unknown, RegExp]> = [
    ["no tasks", { name: "w", tasks: [] }, /non-empty list/],
    ["duplicate names", { name: "w", tasks: [task("a"), task("a")] }, /name used twice/],
    [
      "after an unknown task",
      { name: "w", tasks: [task("a"), task("b", { after: "z" })] },
      /after "z"/,
    ],
    [
      "a bad condition",
      { name: "w", tasks: [task("a"), task("b", { runIf: "sometimes" })] },
      /runIf "sometimes"/,
    ],
    [
      "a reference to a later task",
      { name: "w", tasks: [{ name: "a", fields: { region: "${tasks.b.output:$.x}" } }, task("b")] },
      /task b is not listed before this one/,
    ],
    [
      "an undeclared variable",
      { name: "w", tasks: [{ name: "a", fields: { region: "${vars.r}" } }] },
      /no variable r is declared/,
    ],
    [
      "conditions on the first task",
      { name: "w", tasks: [task("a", { runIf: "failure" })] },
      /the first task always runs/,
    ],
  ];
  for (const [name, workflow, problem] of invalid) {
    test(`refused: ${name}`, () => {
      assert.throws(
        () => parseWorkflow(workflow),
        (e: unknown) => e instanceof DefinitionError && e.problems.some((p) => problem.test(p)),
      );
    });
  }

  test("refused at load: inline secrets in any task, unknown variables given by the caller", async () => {
    const f = await open({});
    const workflow = {
      name: "w",
      variables: { v: "" },
      tasks: [task("a"), { name: "b", fields: { credentials: { user: "AKID", password: "s" } } }],
    };
    assert.throws(
      () => new WorkflowRun(f.runner, workflow),
      /task b: AWS Credentials \(credentials\): inline credentials are refused/,
    );
    assert.throws(
      () => new WorkflowRun(f.runner, { ...workflow, tasks: [task("a")] }, { vars: { nope: "1" } }),
      /variable nope/,
    );
  });
});
