/**
 * The pickers (Dynamic Choice fields State Machine and Execution) as the controller asks
 * for them: the package's real extension.py under the stand-in agent, its choice commands
 * run with the form's values, the bundled program listing from the local endpoint. Then a
 * picked value used by a task, and a picked value that contradicts the typed ARN.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { choiceCommandFields } from "../../local/runner/agent.ts";
import { main } from "../../local/runner/cli.ts";
import { ControllerRunner, type TaskDefinition } from "../../local/runner/runner.ts";
import { cleanEnv } from "../helpers/bundle.ts";
import { PACKAGE_ZIP, requireBuilt } from "../helpers/paths.ts";

const KEY_ID = "AKIDPICKERCANARY0001";
const CANARY = "PickerRunnerCanarySecret0000000000000000";
const WAIT = { StartAt: "Wait", States: { Wait: { Type: "Wait", Seconds: 600, End: true } } };
const FAIL = { StartAt: "Fail", States: { Fail: { Type: "Fail", Error: "E", Cause: "c" } } };
const PASS = { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } };

describe("the pickers through extension.py, as the controller asks for them", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let runner: ControllerRunner;
  const machines: Record<string, string> = {};
  const running: string[] = [];
  let failed: string;
  let aborted: string;

  const task = (name: string, fields: Record<string, unknown>): TaskDefinition => ({
    name,
    template: "AWS Step Functions",
    fields: {
      endpoint_url: ep.url,
      region: ep.region,
      credentials: { $credential: "canary" },
      ...fields,
    },
  });
  const start = async (machine: string) => {
    const arn = (
      await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[machine], input: "{}" }))
    ).executionArn as string;
    // Each start a millisecond after the one before, so "newest first" has one answer.
    const at = Date.now();
    while (Date.now() <= at + 1) await new Promise((r) => setImmediate(r));
    return arn;
  };
  const noLeak = (answer: { log: readonly string[]; problems: readonly string[] }) => {
    assert.deepEqual(
      answer.problems.filter((p) => p.startsWith("SECRET LEAK")),
      [],
    );
    assert.ok(!answer.log.join("\n").includes(CANARY));
  };

  before(async () => {
    ep = await startLocalEndpoint({
      credentials: [{ accessKeyId: KEY_ID, secretAccessKey: CANARY }],
    });
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    machines["waits"] = ep.createStateMachine({ name: "waits", definition: WAIT });
    machines["fails"] = ep.createStateMachine({ name: "fails", definition: FAIL });
    machines["quick"] = ep.createStateMachine({ name: "quick", definition: PASS });
    for (let i = 0; i < 101; i++) {
      machines[`m${i}`] = ep.createStateMachine({
        name: `m${i}`,
        definition: PASS,
        type: "EXPRESS",
      });
    }
    for (let i = 0; i < 101; i++) running.push(await start("waits"));
    aborted = await start("waits");
    await sfn.send(new StopExecutionCommand({ executionArn: aborted }));
    failed = await start("fails");
    await ep.waitForExecution(failed);
    runner = await ControllerRunner.open({
      packagePath: requireBuilt(PACKAGE_ZIP),
      credentials: new Map([["canary", { user: KEY_ID, password: CANARY }]]),
      env: cleanEnv(),
    });
  });
  after(async () => {
    await runner.close();
    sfn.destroy();
    await ep.close();
  });

  test("State Machine: every state machine (two pages), each as its label and ARN", async () => {
    ep.clearRequests();
    const answer = await runner.choices(task("pick", {}), "state_machine");
    assert.equal(answer.rc, 0, answer.message ?? "");
    assert.deepEqual(answer.problems, []);
    const values = answer.values ?? [];
    assert.deepEqual(values.map((v) => v.split(" ").at(-1)).sort(), Object.values(machines).sort());
    assert.ok(values.includes(`quick (STANDARD) ${machines["quick"]}`));
    assert.ok(values.includes(`m7 (EXPRESS) ${machines["m7"]}`));
    assert.equal(ep.requests.filter((r) => r.operation === "ListStateMachines").length, 2);
    assert.ok(
      ep.requests.every((r) => r.accessKeyId === KEY_ID),
      "the task's own credentials",
    );
    noLeak(answer);
  });

  // [action, state machine, the executions offered, newest first]
  const perAction: Array<[string, string, () => string[]]> = [
    ["Monitor Execution", "waits", () => running.slice(1).reverse()],
    ["Stop Execution", "waits", () => running.slice(1).reverse()],
    ["Redrive Execution", "waits", () => [aborted]],
    ["Redrive Execution", "fails", () => [failed]],
  ];
  for (const [action, machine, expected] of perAction) {
    test(`Execution for ${action} on ${machine}: the executions it can use, newest first, at most 100`, async () => {
      const picked = await runner.choices(task("pick", {}), "state_machine");
      const choice = picked.values?.find((v) => v.endsWith(` ${machines[machine]}`));
      assert.ok(choice);
      const answer = await runner.choices(
        task("pick", { action, state_machine: choice }),
        "execution",
      );
      assert.equal(answer.rc, 0, answer.message ?? "");
      assert.deepEqual(
        (answer.values ?? []).map((v) => v.split(" ").at(-1)),
        expected(),
      );
      noLeak(answer);
    });
  }

  test("access denied: rc 3 with the task's message, and no values", async () => {
    const undo = ep.deny({ operation: "ListStateMachines" });
    try {
      const answer = await runner.choices(task("pick", {}), "state_machine");
      assert.equal(answer.rc, 3);
      assert.deepEqual(answer.values, []);
      assert.match(answer.message ?? "", /^AUTHORIZATION_ERROR: .*ListStateMachines/);
      noLeak(answer);
    } finally {
      undo();
    }
  });

  test("a listing that hangs is stopped at the bridge's limit: rc 30, no values", async () => {
    const slow = await ControllerRunner.open({
      packagePath: requireBuilt(PACKAGE_ZIP),
      credentials: new Map([["canary", { user: KEY_ID, password: CANARY }]]),
      env: cleanEnv({ UE_AWS_STEPFUNCTIONS_LIST_TIMEOUT: "2" }),
    });
    ep.faults.set({ hang: { operations: ["ListStateMachines"] } });
    try {
      const answer = await slow.choices(task("pick", {}), "state_machine");
      assert.equal(answer.rc, 30);
      assert.deepEqual(answer.values, []);
      assert.match(answer.message ?? "", /took longer than 2 s/);
    } finally {
      ep.faults.reset();
      await slow.close();
    }
  });

  for (const value of ["0", "-5", "nan", "inf", "abc"]) {
    test(`UE_AWS_STEPFUNCTIONS_LIST_TIMEOUT=${value}: a warning naming it, and the list as usual`, async () => {
      const odd = await ControllerRunner.open({
        packagePath: requireBuilt(PACKAGE_ZIP),
        credentials: new Map([["canary", { user: KEY_ID, password: CANARY }]]),
        env: cleanEnv({ UE_AWS_STEPFUNCTIONS_LIST_TIMEOUT: value }),
      });
      try {
        const answer = await odd.choices(task("pick", {}), "state_machine");
        assert.equal(answer.rc, 0, answer.message ?? "");
        assert.ok((answer.values ?? []).length > 0);
        assert.ok(
          answer.log.some((line) =>
            /WARN.*UE_AWS_STEPFUNCTIONS_LIST_TIMEOUT must be a number of seconds above 0 and at most 86400.*; using 60/.test(
              line,
            ),
          ),
          answer.log.join("\n"),
        );
      } finally {
        await odd.close();
      }
    });
  }

  test("a Credential record that disagrees with its flattened parts: rc 20, no values, no listing", async () => {
    const odd = await ControllerRunner.open({
      packagePath: requireBuilt(PACKAGE_ZIP),
      credentials: new Map([["canary", { user: KEY_ID, password: CANARY }]]),
      env: cleanEnv(),
      agent: { fieldOverrides: { "credentials.user": "AKIDSOMEONEELSE00001" } },
    });
    ep.clearRequests();
    try {
      const answer = await odd.choices(task("pick", {}), "state_machine");
      assert.equal(answer.rc, 20);
      assert.deepEqual(answer.values, []);
      assert.match(
        answer.message ?? "",
        /^DATA_VALIDATION_ERROR: [\s\S]*AWS Credentials \(credentials\): the credential record and the flattened keys/,
      );
      assert.equal(ep.requests.length, 0, "nothing reached AWS");
      noLeak(answer);
    } finally {
      await odd.close();
    }
  });

  test("a picked state machine starts the execution when State Machine ARN is empty", async () => {
    const picked = await runner.choices(task("pick", {}), "state_machine");
    const choice = picked.values?.find((v) => v.endsWith(` ${machines["quick"]}`));
    assert.ok(choice);
    ep.clearRequests();
    const result = await runner.launch(
      task("start-picked", { state_machine: choice, wait_for_success_or_failure: true }),
    ).result;
    assert.equal(result.exitCode, 0, result.message ?? "");
    const started = ep.requests.filter((r) => r.operation === "StartExecution");
    assert.deepEqual(
      started.map((r) => r.resource),
      [machines["quick"]],
    );
    const doc = result.extensionOutput as { result: { stateMachineArn: string; status: string } };
    assert.equal(doc.result.stateMachineArn, machines["quick"]);
    assert.equal(doc.result.status, "SUCCEEDED");
  });

  test("State Machine ARN and a picked State Machine that differ: exit 20 naming both, nothing started", async () => {
    ep.clearRequests();
    const result = await runner.launch(
      task("start-both", {
        state_machine_arn: machines["waits"],
        state_machine: `quick (STANDARD) ${machines["quick"]}`,
      }),
    ).result;
    assert.equal(result.exitCode, 20, `${result.message}; ${result.problems.join("; ")}`);
    assert.match(
      result.message ?? "",
      /State Machine: is .*quick but State Machine ARN is .*waits/,
    );
    assert.equal(ep.requests.filter((r) => r.operation === "StartExecution").length, 0);
  });

  test("a picked execution is the one Stop Execution stops", async () => {
    const target = running[running.length - 1] as string;
    ep.clearRequests();
    const result = await runner.launch(
      task("stop-picked", {
        action: "Stop Execution",
        state_machine: `waits (STANDARD) ${machines["waits"]}`,
        execution: `x (started 2026-01-01T00:00:00.000Z) ${target}`,
      }),
    ).result;
    assert.equal(result.exitCode, 0, result.message ?? "");
    assert.deepEqual(
      ep.requests.filter((r) => r.operation === "StopExecution").map((r) => r.resource),
      [target],
    );
    running.pop();
  });

  test("the choice command receives only the fields choiceFields names", () => {
    const fields = choiceCommandFields(
      runner.template,
      "execution",
      {
        action: ["Monitor Execution"],
        region: "us-east-1",
        credentials: { user: KEY_ID, password: CANARY },
        input: '{"a":1}',
        target_execution_arn: "arn:aws:states:us-east-1:123456789012:execution:waits:x",
        state_machine: [machines["waits"] as string],
      },
      {},
    );
    assert.ok("action" in fields && "region" in fields && "state_machine" in fields);
    assert.ok("credentials" in fields && "credentials.password" in fields);
    assert.ok(!("input" in fields) && !("target_execution_arn" in fields));
    assert.ok(!("execution" in fields), "not the field being filled");
  });

  test("npm run runner -- choices <task.json> <field>: the choices, one a line, and the rc", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ue-runner-choices-"));
    try {
      await writeFile(
        join(dir, "task.json"),
        JSON.stringify({
          name: "pick",
          fields: {
            action: "Redrive Execution",
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a runner reference, not a template literal.
            endpoint_url: "${vars.endpoint_url}",
            region: ep.region,
            credentials: { $credential: "canary" },
            state_machine: machines["fails"],
          },
        }),
      );
      await writeFile(
        join(dir, "credentials.json"),
        JSON.stringify({ canary: { user: KEY_ID, password: CANARY } }),
      );
      let printed = "";
      const code = await main(
        [
          "choices",
          join(dir, "task.json"),
          "execution",
          "--var",
          `endpoint_url=${ep.url}`,
          "--credentials",
          join(dir, "credentials.json"),
          "--package",
          requireBuilt(PACKAGE_ZIP),
        ],
        (text) => {
          printed += text;
        },
      );
      assert.equal(code, 0, printed);
      const lines = printed.split("\n").filter((l) => l && !l.startsWith("  | "));
      assert.equal(lines.length, 2, printed);
      assert.ok(lines[0]?.endsWith(` ${failed}`), printed);
      assert.match(lines[1] ?? "", /^rc 0: SUCCESS: listed 1 execution in /);
      assert.ok(!printed.includes(CANARY));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
