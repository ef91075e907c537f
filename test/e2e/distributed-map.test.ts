/**
 * End to end: Distributed Map. While it runs, the task shows its Map Run's progress (log and
 * the output-only field map_run_progress); a failed Map Run is named with its counts; a
 * ResultWriter reference in the output says where the results are. A child execution of a
 * Distributed Map (`...:execution:<state machine>/<label>:<name>`) is monitored by its ARN.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";

const ITEM = "arn:aws:lambda:us-east-1:123456789012:function:item";

describe("Distributed Map", () => {
  let ep: LocalEndpoint;
  let release: () => void = () => {};
  let held: Promise<void> = Promise.resolve();
  const arns: Record<string, string> = {};

  const distributed = (extra: object = {}) => ({
    Type: "Map",
    ItemsPath: "$.items",
    ItemProcessor: {
      ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
      StartAt: "Work",
      States: { Work: { Type: "Task", Resource: ITEM, End: true } },
    },
    ...extra,
  });

  before(async () => {
    ep = await startLocalEndpoint();
    ep.registerTaskHandler(ITEM, async (input) => {
      const item = input as { id: number; bad?: boolean; wait?: boolean };
      if (item.wait) await held;
      if (item.bad) throw new TaskFailure("Item.Invalid", `item ${item.id} has no price`);
      return { done: item.id };
    });
    arns["each"] = ep.createStateMachine({
      name: "eachOrder",
      definition: { StartAt: "Each", States: { Each: { ...distributed(), End: true } } },
    });
    arns["written"] = ep.createStateMachine({
      name: "writtenOrders",
      definition: {
        StartAt: "Each",
        States: {
          Each: { ...distributed(), ResultPath: null, Next: "Written" },
          // The shape AWS gives a Distributed Map's output with a ResultWriter (the local
          // endpoint writes nothing to S3).
          Written: {
            Type: "Pass",
            Result: {
              MapRunArn: "arn:aws:states:us-east-1:123456789012:mapRun:writtenOrders/Each:1",
              ResultWriterDetails: { Bucket: "order-results", Key: "runs/1/manifest.json" },
            },
            End: true,
          },
        },
      },
    });
    // Waits past the loop's first look at the history (3 s into the wait).
    arns["plain"] = ep.createStateMachine({
      name: "plainHold",
      definition: { StartAt: "Hold", States: { Hold: { Type: "Wait", Seconds: 4, End: true } } },
    });
    // An inline Map of 30 items leaves more events than one look at the history reads.
    arns["long"] = ep.createStateMachine({
      name: "longHistoryHold",
      definition: {
        StartAt: "Inline",
        States: {
          Inline: {
            Type: "Map",
            ItemsPath: "$.items",
            ItemProcessor: { StartAt: "Step", States: { Step: { Type: "Pass", End: true } } },
            ResultPath: null,
            Next: "Hold",
          },
          Hold: { Type: "Wait", Seconds: 4, End: true },
        },
      },
    });
  });
  after(() => ep.close());

  const start = (arn: string, items: object[], onStart?: Parameters<typeof runBundle>[0]) =>
    runBundle({
      fields: {
        action: ["Start Asynchronous Execution"],
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        state_machine_arn: arn,
        input: JSON.stringify({ items }),
        wait_for_success_or_failure: true,
        polling_interval: 1,
      },
      ...onStart,
    });

  test("progress while it runs: a log line and map_run_progress, without a call per check", async () => {
    held = new Promise((resolve) => {
      release = resolve;
    });
    const items = [{ id: 1 }, { id: 2 }, { id: 3, wait: true }];
    const run = await start(arns["each"] as string, items, {
      onStart: (_child, file) => {
        void waitForOutputField(file, "map_run_progress").then(() => release());
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    const progress = run.outputFields.find((f) => f["map_run_progress"])?.["map_run_progress"];
    assert.match(
      progress ?? "",
      /^Map Run "Each" RUNNING: items 2 of 3 succeeded, 0 failed, 1 running, 0 pending/,
    );
    assert.match(run.stderr, /Map Run "Each" RUNNING: items 2 of 3 succeeded/);
    const arn = run.doc?.result.executionArn;
    const lists = ep.requests.filter((r) => r.operation === "ListMapRuns" && r.resource === arn);
    const checks = ep.requests.filter(
      (r) => r.operation === "DescribeExecution" && r.resource === arn,
    );
    assert.equal(lists.length, 1, "one look at the Map Runs");
    assert.ok(checks.length > lists.length, "status checks do not each look at the Map Runs");
  });

  const calls = (operation: string, executionArn: string | undefined) =>
    ep.requests.filter((r) => r.operation === operation && r.resource === executionArn).length;

  test("an execution whose whole history shows no Map Run: its Map Runs are not looked at", async () => {
    const run = await start(arns["plain"] as string, []);
    assert.equal(run.code, 0, run.stderr);
    const arn = run.doc?.result.executionArn;
    assert.ok(calls("GetExecutionHistory", arn) >= 1, "the history was looked at");
    assert.equal(calls("ListMapRuns", arn), 0);
  });

  test("a history longer than one look: its Map Runs are looked at, as they may exist", async () => {
    const items = Array.from({ length: 30 }, (_, id) => ({ id }));
    const run = await start(arns["long"] as string, items);
    assert.equal(run.code, 0, run.stderr);
    const arn = run.doc?.result.executionArn;
    assert.ok(calls("GetExecutionHistory", arn) >= 1, "the history was looked at");
    assert.equal(calls("ListMapRuns", arn), 1);
  });

  test("a failed Map Run: exit 23, named with its counts in the result and the description", async () => {
    const run = await start(arns["each"] as string, [{ id: 1 }, { id: 2, bad: true }]);
    assert.equal(run.code, 23, run.stderr);
    assertValidDoc(run.doc);
    const [mapRun] = run.doc?.result.mapRuns ?? [];
    assert.equal(mapRun?.status, "FAILED");
    assert.equal(mapRun?.label, "Each");
    assert.equal(mapRun?.itemCounts.failed, 1);
    assert.equal(mapRun?.itemCounts.total, 2);
    assert.match(mapRun?.mapRunArn, /:mapRun:eachOrder\/Each:/);
    assert.match(
      run.doc?.status_description,
      /Item.Invalid.*; Map Run "Each" FAILED: items \d of 2 succeeded, 1 failed/,
    );
  });

  test("a ResultWriter reference: the result says where the results are", async () => {
    const run = await start(arns["written"] as string, [{ id: 1 }]);
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.deepEqual(run.doc?.result.resultWriterDetails, {
      bucket: "order-results",
      key: "runs/1/manifest.json",
      mapRunArn: "arn:aws:states:us-east-1:123456789012:mapRun:writtenOrders/Each:1",
    });
    assert.match(
      run.doc?.status_description,
      /results in s3:\/\/order-results\/runs\/1\/manifest.json/,
    );
  });
});

describe("a child execution of a Distributed Map, by its ARN", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let machine: string;
  let release: () => void = () => {};
  let held: Promise<void> = Promise.resolve();

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    ep.registerTaskHandler(ITEM, async (input) => {
      const item = input as { id: number; bad?: boolean; wait?: boolean };
      if (item.wait) await held;
      if (item.bad) throw new TaskFailure("Item.Invalid", `item ${item.id} has no price`);
      return { done: item.id };
    });
    machine = ep.createStateMachine({
      name: "labelledOrders",
      definition: {
        StartAt: "Each",
        States: {
          Each: {
            Type: "Map",
            Label: "Items",
            ItemsPath: "$.items",
            ItemProcessor: {
              ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
              StartAt: "Price",
              States: { Price: { Type: "Task", Resource: ITEM, End: true } },
            },
            End: true,
          },
        },
      },
    });
  });
  after(async () => {
    release();
    sfn.destroy();
    await ep.close();
  });

  /** Starts the parent and finds its child executions as AWS lists them (by Map Run). */
  async function childrenOf(items: object[]): Promise<string[]> {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine, input: JSON.stringify({ items }) }),
    );
    for (let i = 0; i < 200; i++) {
      const [run] = (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns ?? [];
      if (run) {
        const listed = await sfn.send(new ListExecutionsCommand({ mapRunArn: run.mapRunArn }));
        const arns = (listed.executions ?? []).map((e) => e.executionArn as string);
        if (arns.length === items.length) return arns;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("the child executions did not show");
  }

  const monitor = (arn: string, extra: Parameters<typeof runBundle>[0] = {}) =>
    runBundle({
      ...extra,
      fields: {
        action: ["Monitor Execution"],
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        target_execution_arn: arn,
        monitor_polling_interval: 1,
      },
    });

  test("Monitor follows running children to their ends, each checked on its own (no shared listing)", async () => {
    held = new Promise((resolve) => {
      release = resolve;
    });
    const children = await childrenOf([
      { id: 1, wait: true },
      { id: 2, wait: true },
    ]);
    for (const arn of children) assert.match(arn, /:execution:labelledOrders\/Items:[^:/]+$/);
    const root = await mkdtemp(join(tmpdir(), "ue-sfn-child-share-"));
    await rm(root, { recursive: true });
    ep.clearRequests();
    // Both wait long enough together that tasks of one state machine would share a listing.
    const waiting: Array<Promise<void>> = [];
    const runs = await Promise.all(
      children.map((arn) =>
        monitor(arn, {
          env: { UE_WAIT_SHARING_DIR: root },
          onStart: (_child, file) => {
            waiting.push(waitForOutputField(file, "execution_status").then(() => {}));
            if (waiting.length === children.length) {
              void Promise.all(waiting)
                .then(() => new Promise((r) => setTimeout(r, 4_000)))
                .finally(() => release());
            }
          },
        }).then((run) => [arn, run] as const),
      ),
    ).then((done) => new Map(done));
    for (const arn of children) {
      const run = runs.get(arn);
      assert.equal(run?.code, 0, run?.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc?.result.executionArn, arn);
      assert.equal(run.doc?.result.status, "SUCCEEDED");
      assert.equal(run.doc?.result.name, arn.split(":").at(-1));
      assert.equal(
        run.doc?.result.stateMachineArn,
        `${machine}/Items`,
        "DescribeExecution names the Map Run's state machine",
      );
      assert.match(
        run.stderr,
        /console: https:\/\/us-east-1\.console\.aws\.amazon\.com\/.*labelledOrders\/Items:/,
      );
    }
    const listings = ep.requests.filter((r) => r.operation === "ListExecutions");
    assert.deepEqual(listings, [], "no listing under a qualified state machine ARN");
    assert.deepEqual(await readdir(root).catch(() => []), [], "no sharing group was formed");
  });

  test("a failed child: exit 23 with its error, cause and state", async () => {
    const [arn] = await childrenOf([{ id: 3, bad: true }]);
    for (let i = 0; ep.getExecution(arn as string)?.status === "RUNNING" && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const run = await monitor(arn as string);
    assert.equal(run.code, 23, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.status, "FAILED");
    assert.equal(run.doc?.result.error, "Item.Invalid");
    assert.equal(run.doc?.result.cause, "item 3 has no price");
    assert.equal(run.doc?.result.failedState, "Price");
  });

  test("a start with the Distributed Map's qualified ARN: exit 20 naming the field, no call", async () => {
    ep.clearRequests();
    const run = await runBundle({
      fields: {
        action: ["Start Asynchronous Execution"],
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        state_machine_arn: `${machine}/Items`,
      },
    });
    assert.equal(run.code, 20, run.stderr);
    assertValidDoc(run.doc);
    assert.match(
      run.doc?.status_description,
      /State Machine ARN: names the Distributed Map state labelled "Items" of a state machine, not a state machine/,
    );
    assert.deepEqual(ep.requests, []);
  });
});
