/**
 * Reruns through the controller runner with the real package and the local endpoint: the
 * agent hands over no execution count, a rerun is the same instance id run again, and the
 * program finds its place from AWS by the instance's execution names.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { after, before, describe, test } from "node:test";
import { ListExecutionsCommand, SFNClient } from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import type { ControllerRunner } from "../../local/runner/runner.ts";
import { openPackageRunner } from "../helpers/runner-fixture.ts";

const FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky-runner-rerun";

interface Doc {
  exit_code: number;
  changed: boolean;
  result: { executionArn: string; name: string; status: string } | null;
}

/** The pids of a process's children (Linux). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

/** A variable of a running process's environment (Linux). */
function environOf(pid: number, name: string): string | undefined {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  return entries.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
}

describe("reruns through the controller runner (real package, local endpoint)", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let runner: ControllerRunner;
  const events: RunnerEvent[] = [];
  const machines: Record<string, string> = {};
  let flakyFailuresLeft = 0;

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    ep.registerTaskHandler(FLAKY, (input) => {
      if (flakyFailuresLeft > 0) {
        flakyFailuresLeft--;
        throw new TaskFailure("Upstream.Unavailable", "the upstream system is down");
      }
      return { processed: input };
    });
    machines["quick"] = ep.createStateMachine({
      name: "runnerQuick",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    machines["slow"] = ep.createStateMachine({
      name: "runnerSlow",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 3, End: true } } },
    });
    machines["flaky"] = ep.createStateMachine({
      name: "runnerFlaky",
      definition: {
        StartAt: "Load",
        States: { Load: { Type: "Task", Resource: FLAKY, End: true } },
      },
    });
    runner = await openPackageRunner((e) => events.push(e));
  });
  after(async () => {
    await runner.close();
    sfn.destroy();
    await ep.close();
  });

  const task = (name: string, machine: string, extra: Record<string, unknown> = {}) => ({
    name,
    fields: {
      endpoint_url: ep.url,
      credentials: { $credential: "local-test" },
      state_machine_arn: machines[machine],
      wait_for_success_or_failure: true,
      polling_interval: 1,
      ...extra,
    },
  });
  const executionsOf = async (machine: string) =>
    (
      await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: machines[machine], maxResults: 1000 }),
      )
    ).executions ?? [];
  const doc = (r: { extensionOutput: unknown }) => r.extensionOutput as Doc;
  /** Resolves with the first event, seen or to come, that matches. */
  const nextEvent = (match: (e: RunnerEvent) => boolean): Promise<RunnerEvent> => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const stop = runner.subscribe((e) => {
        if (match(e)) {
          stop();
          resolve(e);
        }
      });
    });
  };

  test("a rerun after SUCCEEDED starts a new execution", async () => {
    const first = await runner.launch(task("daily", "quick")).result;
    const second = await runner.rerun(first.instanceId).result;

    assert.deepEqual([first.state, second.state], ["Success", "Success"]);
    const [a, b] = [doc(first).result, doc(second).result];
    assert.equal(a?.name, `ue-aws-sfn-${first.instanceId}-1`);
    assert.equal(b?.name, `ue-aws-sfn-${first.instanceId}-2`);
    assert.notEqual(b?.executionArn, a?.executionArn);
    assert.equal(doc(second).changed, true);
    const mine = (await executionsOf("quick")).filter((e) => e.name?.includes(first.instanceId));
    assert.equal(mine.length, 2);
  });

  test("a rerun after FAILED with Rerun Behaviour redrive redrives the same execution", async () => {
    flakyFailuresLeft = 1;
    const definition = task("redrive-me", "flaky", { rerun_behaviour: "Redrive Failed Execution" });
    const first = await runner.launch(definition).result;
    assert.equal(first.exitCode, 23, first.message ?? "");
    const second = await runner.rerun(first.instanceId).result;

    assert.equal(second.state, "Success", second.message ?? "");
    assert.equal(doc(second).result?.executionArn, doc(first).result?.executionArn);
    assert.equal(doc(second).result?.status, "SUCCEEDED");
    assert.equal(ep.getExecution(doc(first).result?.executionArn ?? "")?.redriveCount, 1);
    const mine = (await executionsOf("flaky")).filter((e) => e.name?.includes(first.instanceId));
    assert.equal(mine.length, 1);
  });

  test("a run after the bridge and the program were killed mid-wait re-attaches: one execution in all", async () => {
    const handle = runner.launch(task("killed", "slow"));
    const started = await nextEvent(
      (e) => e.type === "task-started" && e.task.instanceId === handle.instanceId,
    );
    assert.ok(started.type === "task-started");
    await nextEvent(
      (e) =>
        e.type === "output-field" &&
        e.task.instanceId === handle.instanceId &&
        e.name === "execution_arn",
    );
    // The agent dies: the host (extension.py) and the program it started, at once.
    const host = started.pid;
    const program = childrenOf(host);
    const runFolders = program.map((pid) => dirname(environOf(pid, "UE_FIELDS_FILE") ?? "."));
    for (const pid of [host, ...program]) process.kill(pid, "SIGKILL");
    const killed = await handle.result;
    assert.equal(killed.exitCode, null, "no result from a killed agent");
    assert.equal(program.length, 1);
    // What a killed bridge leaves behind (its run folder, with the fields file) goes here.
    for (const folder of runFolders) await rm(folder, { recursive: true, force: true });

    const relaunched = await runner.rerun(handle.instanceId).result;

    assert.equal(relaunched.state, "Success", relaunched.message ?? "");
    assert.equal(doc(relaunched).result?.status, "SUCCEEDED");
    assert.equal(doc(relaunched).result?.executionArn, killed.outputFields["execution_arn"]);
    const mine = (await executionsOf("slow")).filter((e) => e.name?.includes(handle.instanceId));
    assert.equal(mine.length, 1);
  });

  test("two task instances with the same Execution Name get two executions", async () => {
    const results = await Promise.all(
      ["twin-a", "twin-b"].map(
        (name) => runner.launch(task(name, "quick", { execution_name: "nightly-twin" })).result,
      ),
    );

    assert.deepEqual(
      results.map((r) => r.state),
      ["Success", "Success"],
    );
    const arns = results.map((r) => doc(r).result?.executionArn);
    assert.notEqual(arns[0], arns[1]);
    const twins = (await executionsOf("quick")).filter((e) => e.name?.startsWith("nightly-twin-"));
    assert.equal(twins.length, 2);
  });
});
