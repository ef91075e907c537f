/**
 * End to end: `--list state-machines` and `--list executions` (what the State Machine and
 * Execution pickers offer) with the bundle as a child process against the local endpoint:
 * the JSON on standard output, every page, the statuses per action, newest first, bounded,
 * and the exit codes of a task when the list cannot be read.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

const CANARY = "PickerCanarySecret000000000000000000000";
const WAIT = { StartAt: "Wait", States: { Wait: { Type: "Wait", Seconds: 600, End: true } } };
const FAIL = { StartAt: "Fail", States: { Fail: { Type: "Fail", Error: "E", Cause: "c" } } };
const PASS = { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } };

interface Choice {
  value: string;
  label: string;
  choice: string;
  status?: string;
  startDate?: string;
  type?: string;
}

describe("--list: what the pickers offer, on the command line", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  const machines: Record<string, string> = {};
  const running: string[] = [];
  let succeeded: string;
  let failed: string;
  let aborted: string;

  const env = (extra: Record<string, string> = {}) => ({
    UE_FIELD_ENDPOINT_URL: ep.url,
    UE_FIELD_REGION: ep.region,
    UE_FIELD_CREDENTIALS_USER: ep.credentials.accessKeyId,
    UE_FIELD_CREDENTIALS_PASSWORD: ep.credentials.secretAccessKey,
    ...extra,
  });
  const list = async (args: string[], extra: Record<string, string> = {}) => {
    const run = await runBundle({ args, env: env(extra) });
    return { run, choices: run.code === 0 ? (JSON.parse(run.stdout) as Choice[]) : null };
  };
  const start = async (machine: string) => {
    const arn = (
      await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[machine], input: "{}" }))
    ).executionArn as string;
    // Each start a millisecond after the one before, so "newest first" has one answer.
    const at = Date.now();
    while (Date.now() <= at + 1) await new Promise((r) => setImmediate(r));
    return arn;
  };

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    machines["waits"] = ep.createStateMachine({ name: "waits", definition: WAIT });
    machines["fails"] = ep.createStateMachine({ name: "fails", definition: FAIL });
    machines["quick"] = ep.createStateMachine({ name: "quick", definition: PASS, type: "EXPRESS" });
    // More than one page of ListStateMachines (the endpoint's page holds 100, as AWS's).
    for (let i = 0; i < 102; i++) {
      machines[`m${i}`] = ep.createStateMachine({ name: `m${i}`, definition: PASS });
    }
    // 101 running executions of "waits", and one that ended.
    succeeded = await start("m0");
    for (let i = 0; i < 101; i++) running.push(await start("waits"));
    failed = await start("fails");
    await ep.waitForExecution(failed);
    aborted = await start("waits");
    await sfn.send(new StopExecutionCommand({ executionArn: aborted }));
    await ep.waitForExecution(succeeded);
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  test("state-machines: every state machine of every page, name and type, the ARN as value", async () => {
    ep.clearRequests();
    const { run, choices } = await list(["--list", "state-machines"]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(choices);
    assert.deepEqual(choices.map((c) => c.value).sort(), Object.values(machines).sort());
    const quick = choices.find((c) => c.value === machines["quick"]);
    assert.equal(quick?.label, "quick (EXPRESS)");
    assert.equal(quick?.choice, `quick (EXPRESS) ${machines["quick"]}`);
    assert.equal(choices.find((c) => c.value === machines["waits"])?.type, "STANDARD");
    const pages = ep.requests.filter((r) => r.operation === "ListStateMachines");
    assert.equal(pages.length, 2, "both pages were read");
    // The document goes to its file; standard output holds the list alone.
    assertValidDoc(run.doc);
    assert.equal(run.doc.exit_code, 0);
    assert.equal(run.doc.result, null);
  });

  for (const action of ["Monitor Execution", "Stop Execution"]) {
    test(`executions for ${action}: the running ones only, newest first, at most 100`, async () => {
      const { run, choices } = await list([
        "--list",
        "executions",
        "--action",
        action,
        "--state-machine",
        machines["waits"] as string,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(choices);
      // The 100 newest of the 101 running; the stopped one is not offered.
      assert.deepEqual(
        choices.map((c) => c.value),
        running.slice(1).reverse(),
      );
      assert.ok(choices.every((c) => c.status === "RUNNING"));
      assert.ok(choices.every((c) => c.choice.endsWith(` ${c.value}`)));
    });
  }

  test("executions for Redrive Execution: the failed, timed-out and aborted ones AWS would redrive", async () => {
    const forMachine = async (machine: string) =>
      list([
        "--list",
        "executions",
        "--action",
        "Redrive Execution",
        "--state-machine",
        `${machines[machine]}`,
      ]);
    const waits = await forMachine("waits");
    assert.equal(waits.run.code, 0, waits.run.stderr);
    assert.deepEqual(
      waits.choices?.map((c) => [c.value, c.status]),
      [[aborted, "ABORTED"]],
    );
    const fails = await forMachine("fails");
    assert.deepEqual(
      fails.choices?.map((c) => c.value),
      [failed],
    );
    assert.match(fails.choices?.[0]?.label ?? "", /^[^ ]+ \(FAILED, started \d{4}-/);
    const m0 = await forMachine("m0");
    assert.deepEqual(m0.choices, [], "a succeeded execution cannot be redriven");
  });

  // [what, arguments, environment, exit code, text the status description holds]
  const failures: Array<[string, string[], () => Record<string, string>, number, string]> = [
    ["access denied", ["--list", "state-machines"], () => ({}), 3, "AccessDeniedException"],
    [
      "no credentials anywhere",
      ["--list", "state-machines"],
      () => ({ UE_FIELD_CREDENTIALS_USER: "", UE_FIELD_CREDENTIALS_PASSWORD: "" }),
      2,
      "AUTHENTICATION_ERROR",
    ],
    [
      "no network (nothing listens)",
      ["--list", "state-machines"],
      () => ({ UE_FIELD_ENDPOINT_URL: "http://127.0.0.1:9" }),
      10,
      "CONNECTION_ERROR",
    ],
    [
      "executions without a state machine, for a start action",
      ["--list", "executions"],
      () => ({}),
      20,
      "State Machine: is required to list executions",
    ],
    ["an unknown list", ["--list", "machines"], () => ({}), 20, "--list: needs what to list"],
    [
      "executions of an EXPRESS state machine (AWS refuses ListExecutions for them)",
      ["--list", "executions", "--action", "Monitor Execution"],
      () => ({ UE_FIELD_STATE_MACHINE: machines["quick"] as string }),
      35,
      "is an EXPRESS state machine: AWS keeps no record of its executions that Monitor Execution could use",
    ],
  ];
  for (const [what, args, extra, code, text] of failures) {
    test(`${what}: exit ${code}, the document says why, no list`, async () => {
      const undo = what === "access denied" ? ep.deny({ operation: "ListStateMachines" }) : null;
      try {
        const run = await runBundle({ args, env: env(extra()) });
        assert.equal(run.code, code, run.stderr);
        assertValidDoc(run.doc);
        assert.equal(run.doc.exit_code, code);
        assert.ok(run.doc.status_description.includes(text), run.doc.status_description);
        assert.equal(run.stdout, "", "no list on standard output");
      } finally {
        undo?.();
      }
    });
  }

  test("SIGTERM while the listing is under way: exit 27, nothing listed, said plainly", async () => {
    ep.faults.set({ hang: { operations: ["ListStateMachines"] } });
    const from = ep.requests.length;
    try {
      const run = await runBundle({
        args: ["--list", "state-machines"],
        env: env(),
        timeoutMs: 30_000,
        onStart: (child) => {
          const timer = setInterval(() => {
            if (ep.requests.slice(from).some((r) => r.operation === "ListStateMachines")) {
              clearInterval(timer);
              child.kill("SIGTERM");
            }
          }, 50);
          child.on("exit", () => clearInterval(timer));
        },
      });
      assert.equal(run.code, 27, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(
        run.doc.status_description,
        "CANCELLED: cancelled while listing for state_machine; nothing was listed",
      );
      assert.equal(run.stdout, "", "no list on standard output");
      assert.doesNotMatch(run.stderr, /ERROR/);
    } finally {
      ep.faults.reset();
    }
  });

  test("a secret key the endpoint refuses: exit 2, and the key shows nowhere", async () => {
    const from = ep.requests.length;
    const run = await runBundle({
      args: ["--list", "state-machines"],
      env: env({ UE_FIELD_CREDENTIALS_PASSWORD: CANARY }),
    });
    assert.equal(run.code, 2, run.stderr);
    // The key was in play: the listing was signed with it and refused for its signature.
    assert.deepEqual(
      ep.requests.slice(from).map((r) => [r.operation, r.accessKeyId, r.errorCode]),
      [["ListStateMachines", ep.credentials.accessKeyId, "InvalidSignatureException"]],
    );
    assert.ok(!run.allBytes.includes(CANARY));
  });

  test("without an extension output file: the list alone on standard output, or the document on failure", async () => {
    const ok = await runBundle({
      args: ["--list", "state-machines"],
      env: env({ UE_EXTENSION_OUTPUT_FILE: "" }),
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(Array.isArray(JSON.parse(ok.stdout)));
    const bad = await runBundle({
      args: ["--list", "executions"],
      env: env({ UE_EXTENSION_OUTPUT_FILE: "" }),
    });
    assert.equal(bad.code, 20);
    const doc = JSON.parse(bad.stdout) as { exit_code: number };
    assertValidDoc(doc);
    assert.equal(doc.exit_code, 20);
  });
});
