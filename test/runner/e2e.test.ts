// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the runner's references are ${...} inside plain strings
/**
 * The controller runner end to end: the real built package (its bundled program) against
 * the real local endpoint, with the example state machines and workflow.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { loadRunFile, main as cli } from "../../local/runner/cli.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import type { ControllerRunner } from "../../local/runner/runner.ts";
import { WorkflowRun } from "../../local/runner/workflow.ts";
import { openPackageRunner } from "../helpers/runner-fixture.ts";
import { PACKAGE_ZIP, ROOT } from "../helpers/paths.ts";

const EXAMPLES = join(ROOT, "examples");
const WORKFLOW = join(EXAMPLES, "workflows", "demo.workflow.json");

interface Doc {
  exit_code: number;
  result: {
    executionArn: string;
    name: string;
    status: string;
    outputParsed: Record<string, unknown>;
    error: string | null;
  } | null;
}

describe("the controller runner with the real package and the local endpoint", () => {
  let ep: LocalEndpoint;
  let runner: ControllerRunner;
  let dir: string;
  const events: RunnerEvent[] = [];
  const arn = (name: string) => `arn:aws:states:${ep.region}:${ep.accountId}:stateMachine:${name}`;
  const fields = (stateMachine: string, extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    credentials: { $credential: "local-test" },
    state_machine_arn: arn(stateMachine),
    wait_for_success_or_failure: true,
    polling_interval: 2,
    ...extra,
  });

  before(async () => {
    ep = await startLocalEndpoint({ definitionsDir: join(EXAMPLES, "state-machines") });
    dir = await mkdtemp(join(tmpdir(), "ue-runner-e2e-"));
    runner = await openPackageRunner((e) => events.push(e));
  });
  after(async () => {
    await runner.close();
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the example workflow: start and wait, then a task that reads its output", async () => {
    const definition = await loadRunFile(WORKFLOW);
    const run = new WorkflowRun(runner, definition, {
      vars: {
        endpoint_url: ep.url,
        hello_state_machine_arn: arn("hello-world"),
        report_state_machine_arn: arn("report"),
      },
    });

    const result = await run.run();

    assert.equal(result.state, "Success");
    const [hello, report] = result.tasks;
    assert.ok(hello?.ran && report?.ran);
    const helloDoc = hello.result.extensionOutput as Doc;
    const reportDoc = report.result.extensionOutput as Doc;
    assert.equal(helloDoc.result?.status, "SUCCEEDED");
    assert.deepEqual(helloDoc.result?.outputParsed, {
      greeting: "Hello, operator",
      orderCount: 3,
      batchId: "batch-2024-001",
    });
    assert.equal(hello.result.outputFields["execution_arn"], helloDoc.result?.executionArn);
    assert.equal(hello.result.outputFields["execution_status"], "SUCCEEDED");
    // The chained value: report's execution got hello-world's ARN and output keys as its input.
    const reportExecution = ep.getExecution(reportDoc.result?.executionArn ?? "");
    assert.deepEqual(JSON.parse(reportExecution?.input ?? "{}"), {
      greeting: "Hello, operator",
      orderCount: 3,
      batchId: "batch-2024-001",
      previousExecutionArn: helloDoc.result?.executionArn,
    });
    assert.equal(
      reportDoc.result?.outputParsed["report"],
      "Hello, operator (3 orders in batch-2024-001)",
    );
    // The operator saw the status while hello-world ran, before the task ended.
    const helloEvents = events.filter(
      (e) => "task" in e && typeof e.task === "object" && e.task.name === "start-hello",
    );
    const running = helloEvents.findIndex(
      (e) => e.type === "output-field" && e.value === "RUNNING",
    );
    const succeeded = helloEvents.findIndex(
      (e) => e.type === "output-field" && e.value === "SUCCEEDED",
    );
    assert.ok(running >= 0 && succeeded > running);
  });

  test("a chained workflow passes a value of one task's output to the next; a failure is handled", async () => {
    const run = new WorkflowRun(runner, {
      name: "chained",
      tasks: [
        { name: "first", fields: fields("hello-world", { input: { who: "chain" } }) },
        {
          name: "second",
          fields: fields("report", {
            input: {
              greeting:
                "${_outputJsonPathFromTask('first','EXTENSION','$.result.outputParsed.greeting')}",
              orderCount: 0,
              batchId: "${tasks.first.outputFields:$.generated_execution_name}",
              previousExecutionArn: "${tasks.first.output:$.result.executionArn}",
            },
          }),
        },
        { name: "fails", fields: fields("always-fails") },
        { name: "skipped-on-failure", fields: fields("hello-world") },
        {
          name: "on-failure",
          after: "fails",
          runIf: "exit code 23",
          fields: fields("report", {
            input: {
              greeting: "${tasks.fails.output:$.result.error}",
              orderCount: 1,
              batchId: "x",
              previousExecutionArn: "${tasks.fails.output:$.result.executionArn}",
            },
          }),
        },
      ],
    });

    const result = await run.run();

    const byName = Object.fromEntries(result.tasks.map((t) => [t.name, t]));
    const second = byName["second"];
    assert.ok(second?.ran);
    const secondOutput = (second.result.extensionOutput as Doc).result?.outputParsed;
    assert.match(
      String(secondOutput?.["report"]),
      // The agent hands over no task name: the generated name is made from the instance id.
      /^Hello, chain \(0 orders in ue-aws-sfn-[0-9a-f]+-1\)$/,
    );
    const fails = byName["fails"];
    assert.ok(fails?.ran);
    assert.equal(fails.result.state, "Failed");
    assert.equal(fails.result.exitCode, 23);
    assert.deepEqual(byName["skipped-on-failure"], {
      name: "skipped-on-failure",
      ran: false,
      reason: "runs on success of fails, which ended Failed, exit code 23",
    });
    const onFailure = byName["on-failure"];
    assert.ok(onFailure?.ran);
    assert.match(
      String((onFailure.result.extensionOutput as Doc).result?.outputParsed["report"]),
      /^Orders\.Invalid/,
    );
    assert.equal(
      result.state,
      "Success",
      "the failure was handled by a task that runs on its exit code",
    );
  });

  test("references are replaced inside the field's text, as the controller does: the execution gets that text", async () => {
    const ref = (path: string) => `\${_outputJsonPathFromTask('first','EXTENSION','${path}')}`;
    const run = new WorkflowRun(runner, {
      name: "textual",
      tasks: [
        { name: "first", fields: fields("hello-world", { input: { who: "text" } }) },
        {
          // Written as an object: each reference inside quotes stays a JSON string.
          name: "quoted",
          fields: fields("report", {
            input: {
              greeting: ref("$.result.outputParsed.greeting"),
              orderCount: ref("$.result.outputParsed.orderCount"),
              batchId: ref("$.result.outputParsed.batchId"),
              previousExecutionArn: ref("$.result.executionArn"),
            },
          }),
        },
        {
          // Written as the field's text: a number and an object outside quotes.
          name: "as-text",
          fields: fields("report", {
            input: `{"greeting":"${ref("$.result.outputParsed.greeting")}","orderCount":${ref("$.result.outputParsed.orderCount")},"batchId":"${ref("$.result.outputParsed.batchId")}","previousExecutionArn":"${ref("$.result.executionArn")}","hello":${ref("$.result.outputParsed")}}`,
          }),
        },
        {
          // An object put inside quotes: its own quotes end the string, the text is no JSON.
          name: "object-in-quotes",
          runIf: "always",
          fields: fields("report", { input: { hello: ref("$.result.outputParsed") } }),
        },
      ],
    });

    const result = await run.run();

    const byName = Object.fromEntries(result.tasks.map((t) => [t.name, t]));
    const inputOf = (name: string): string | undefined => {
      const t = byName[name];
      assert.ok(t?.ran, name);
      const doc = t.result.extensionOutput as Doc;
      return ep.getExecution(doc.result?.executionArn ?? "")?.input;
    };
    const first = byName["first"];
    assert.ok(first?.ran);
    const helloArn = (first.result.extensionOutput as Doc).result?.executionArn;
    const hello = '{"greeting":"Hello, text","orderCount":3,"batchId":"batch-2024-001"}';
    assert.equal(
      inputOf("quoted"),
      `{"greeting":"Hello, text","orderCount":"3","batchId":"batch-2024-001","previousExecutionArn":"${helloArn}"}`,
    );
    assert.equal(
      inputOf("as-text"),
      `{"greeting":"Hello, text","orderCount":3,"batchId":"batch-2024-001","previousExecutionArn":"${helloArn}","hello":${hello}}`,
    );
    const broken = byName["object-in-quotes"];
    assert.ok(broken?.ran);
    assert.equal(broken.result.state, "Failed");
    assert.match(broken.result.message ?? "", /Input: is not valid JSON/);
    assert.equal((broken.result.extensionOutput as Doc).result, null, "no execution started");
  });

  test("a start without waiting: extension.py returns rc 0, the document and its status description", async () => {
    const result = await runner.launch({
      name: "just-start",
      fields: fields("long-running", { wait_for_success_or_failure: false }),
    }).result;

    assert.equal(result.state, "Success");
    assert.equal(result.exitCode, 0);
    assert.match(result.message ?? "", /^SUCCESS: /);
    const doc = result.extensionOutput as Doc;
    assert.equal(doc.result?.status, "RUNNING");
    assert.equal(result.outputFields["execution_arn"], doc.result?.executionArn);
  });

  test("a relative TMPDIR: the bridge hands the program the folder it names as an absolute path, and two waiting tasks share their status checks, with no warning", async () => {
    // The agent's working directory is this process's: TMPDIR names the folder from there.
    const temp = await mkdtemp(join(tmpdir(), "ue-runner-temp-"));
    const machine = ep.createStateMachine({
      name: "relative-temp",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 4, End: true } } },
    });
    const seen: RunnerEvent[] = [];
    const agent = await openPackageRunner((e) => seen.push(e), {
      TMPDIR: relative(process.cwd(), temp),
      TMP: undefined,
      TEMP: undefined,
    });
    try {
      const results = await Promise.all(
        ["share-a", "share-b"].map(
          (name) => agent.launch({ name, fields: fields("relative-temp") }).result,
        ),
      );

      for (const result of results) {
        assert.equal(result.state, "Success", result.message ?? "");
        assert.equal((result.extensionOutput as Doc).result?.status, "SUCCEEDED");
      }
      const lines = seen.flatMap((e) => (e.type === "log" ? [e.line] : []));
      assert.deepEqual(
        lines.filter((line) => / WARN /.test(line)),
        [],
        "no warning (a relative temporary folder shares nothing)",
      );
      assert.ok(
        ep.requests.some((r) => r.operation === "ListExecutions" && r.resource === machine),
        "the tasks listed the state machine's running executions",
      );
      const waits = join(temp, `ue-aws-stepfunctions-waits-${process.getuid?.() ?? "user"}`);
      assert.equal((await stat(waits)).mode & 0o777, 0o700);
    } finally {
      await agent.close();
      await rm(temp, { recursive: true, force: true });
    }
  });

  test("cancel calls extension_cancel: the program stops the execution and the task ends Cancelled", async () => {
    const handle = runner.launch({ name: "cancel-me", fields: fields("long-running") });
    await new Promise<void>((resolve) => {
      const stop = runner.subscribe((e) => {
        if (
          e.type === "output-field" &&
          e.task.instanceId === handle.instanceId &&
          e.value === "RUNNING"
        ) {
          stop();
          resolve();
        }
      });
    });

    runner.cancel(handle.instanceId);
    const result = await handle.result;

    assert.equal(result.state, "Cancelled");
    assert.equal(result.exitCode, 27);
    const doc = result.extensionOutput as Doc;
    assert.equal(doc.exit_code, 27);
    const execution = ep.getExecution(String(result.outputFields["execution_arn"]));
    assert.equal(execution?.status, "ABORTED");
  });

  test("rerun: the same task instance runs again, with no count, and starts its own execution", async () => {
    const first = await runner.launch({ name: "rerun-me", fields: fields("always-fails") }).result;
    const second = await runner.rerun(first.instanceId).result;

    assert.deepEqual(
      [first.state, first.exitCode, second.state, second.exitCode],
      ["Failed", 23, "Failed", 23],
    );
    assert.equal(second.rerun, true);
    assert.equal(second.instanceId, first.instanceId);
    // No task name reaches the program (no variables are sent): the name is the instance's.
    assert.equal(
      first.outputFields["generated_execution_name"],
      `ue-aws-sfn-${first.instanceId}-1`,
    );
    // The program finds its place from AWS: the first run's execution ended, so a new one.
    assert.equal(
      second.outputFields["generated_execution_name"],
      `ue-aws-sfn-${first.instanceId}-2`,
    );
    assert.notEqual(second.outputFields["execution_arn"], first.outputFields["execution_arn"]);
    assert.equal(ep.getExecution(String(second.outputFields["execution_arn"]))?.status, "FAILED");
    assert.equal((second.extensionOutput as Doc).result?.error, "Orders.Invalid");
    assert.match(second.message ?? "", /^FAIL: /);
    assert.equal((second.extensionOutput as Doc).exit_code, 23);
  });

  test("command line: run a task file, then rerun it from the saved run", async () => {
    const taskFile = join(dir, "fails.task.json");
    await writeFile(
      taskFile,
      JSON.stringify({
        name: "cli-fails",
        template: "AWS Step Functions",
        fields: fields("always-fails"),
      }),
    );
    const options = [
      "--package",
      PACKAGE_ZIP,
      "--credentials",
      join(EXAMPLES, "credentials.json"),
      "--state-dir",
      dir,
    ];
    let printed = "";
    const out = (t: string) => {
      printed += t;
    };

    const runCode = await cli(["run", taskFile, ...options], out);
    const runId = /rerun ([0-9a-f]{32}) <task>/.exec(printed)?.[1];
    const rerunCode = await cli(["rerun", runId ?? "", "cli-fails", ...options], out);
    printed = "";
    await cli(["list", ...options], out);

    assert.equal(runCode, 1);
    assert.ok(runId, "the run tells how to rerun it");
    assert.equal(rerunCode, 1);
    assert.match(printed, new RegExp(`${runId}  cli-fails  Failed  cli-fails\\(2 runs\\)=Failed`));
  });
});
