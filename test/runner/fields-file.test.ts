/**
 * The fields file the bridge writes holds the task's credentials: the package's real
 * extension.py under the stand-in agent, the bundled program against the local endpoint.
 * While a task waits on its execution, and while a picker lists, the run folder holds no
 * fields file any more; the run folder itself is removed at the end.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import { ControllerRunner, type TaskDefinition } from "../../local/runner/runner.ts";
import { cleanEnv } from "../helpers/bundle.ts";
import { HELD, type HeldTasks, holdTasks } from "../helpers/held-task.ts";
import { PACKAGE_ZIP, requireBuilt } from "../helpers/paths.ts";

const KEY_ID = "AKIDFIELDSFILECANARY";
const CANARY = "FieldsFileRunnerCanarySecret000000000000";

describe("the bridge's fields file, with the real bridge and program", () => {
  let ep: LocalEndpoint;
  let held: HeldTasks;
  let runner: ControllerRunner;
  let dir: string;
  let cache: string;
  let machine: string;
  const events: RunnerEvent[] = [];

  const task = (name: string, fields: Record<string, unknown> = {}): TaskDefinition => ({
    name,
    template: "AWS Step Functions",
    fields: {
      endpoint_url: ep.url,
      region: ep.region,
      credentials: { $credential: "canary" },
      ...fields,
    },
  });

  /** The run folders (run-*, list-*) in the bridge's cache, each with the files it holds. */
  const runFolders = async (prefix: string) => {
    const names = (await readdir(cache)).filter((n) => n.startsWith(prefix));
    return Promise.all(names.map(async (n) => [n, await readdir(join(cache, n))] as const));
  };

  /** The first output-only field update of this name, once it comes. */
  const outputField = (name: string) =>
    new Promise<string>((resolve) => {
      const seen = events.find((e) => e.type === "output-field" && e.name === name);
      if (seen?.type === "output-field") resolve(String(seen.value));
      const stop = runner.subscribe((e) => {
        if (e.type === "output-field" && e.name === name) {
          stop();
          resolve(String(e.value));
        }
      });
    });

  before(async () => {
    ep = await startLocalEndpoint({
      credentials: [{ accessKeyId: KEY_ID, secretAccessKey: CANARY }],
    });
    held = holdTasks(ep);
    machine = ep.createStateMachine({
      name: "held",
      definition: {
        StartAt: "Hold",
        States: { Hold: { Type: "Task", Resource: HELD, End: true } },
      },
    });
    dir = await mkdtemp(join(tmpdir(), "ue-runner-fields-file-"));
    cache = join(dir, "bridge-cache");
    runner = await ControllerRunner.open({
      packagePath: requireBuilt(PACKAGE_ZIP),
      credentials: new Map([["canary", { user: KEY_ID, password: CANARY }]]),
      env: cleanEnv({ UE_AWS_STEPFUNCTIONS_CACHE: cache, UE_WAIT_SHARING: "off" }),
      onEvent: (e) => events.push(e),
    });
  });
  after(async () => {
    await runner.close();
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("while a task waits on its execution, its run folder holds no fields file", async () => {
    const handle = runner.launch(
      task("waits", {
        state_machine_arn: machine,
        wait_for_success_or_failure: true,
        polling_interval: 1,
      }),
    );
    // The execution is held until released below: once its status is reported, the task
    // is waiting on it (a task that ended first fails the folder check below).
    const arn = await Promise.race([outputField("execution_arn"), handle.result.then(() => "")]);
    await Promise.race([outputField("execution_status"), handle.result]);

    const folders = await runFolders("run-");
    held.release(arn);
    const result = await handle.result;

    assert.equal(folders.length, 1, "the task's run folder");
    const [, files] = folders[0] as readonly [string, string[]];
    assert.ok(!files.includes("fields.json"), `the run folder holds ${files.join(", ")}`);
    assert.equal(result.state, "Success", result.message ?? "");
    assert.deepEqual(await runFolders("run-"), [], "the run folder is removed at the end");
    assert.ok(!JSON.stringify([events, result]).includes(CANARY));
  });

  test("while a picker lists, its run folder holds no fields file", async () => {
    ep.clearRequests();
    let release = () => {};
    ep.faults.set({
      holdUntil: new Promise<void>((r) => (release = r)),
      operations: ["ListStateMachines"],
    });
    try {
      const answer = runner.choices(task("pick"), "state_machine");
      let answered = false;
      void answer.finally(() => {
        answered = true;
      });
      // The listing's call is held at the endpoint: the program is listing (a listing that
      // ended first fails the folder check below).
      while (!answered && !ep.requests.some((r) => r.operation === "ListStateMachines")) {
        await new Promise((r) => setTimeout(r, 20));
      }

      const folders = await runFolders("list-");
      release();
      const listed = await answer;

      assert.equal(folders.length, 1, "the listing's run folder");
      const [, files] = folders[0] as readonly [string, string[]];
      assert.ok(!files.includes("fields.json"), `the run folder holds ${files.join(", ")}`);
      assert.equal(listed.rc, 0, listed.message ?? "");
      assert.ok((listed.values ?? []).some((v) => v.endsWith(machine)));
      assert.deepEqual(await runFolders("list-"), [], "the run folder is removed at the end");
    } finally {
      release();
      ep.faults.reset();
    }
  });
});
