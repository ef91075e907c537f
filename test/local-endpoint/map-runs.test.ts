/**
 * The local endpoint's Distributed Map: Map Run ARNs carry the state's label, and each
 * iteration of a Standard item processor is a child execution the read operations serve.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  DescribeStateMachineForExecutionCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { type LocalEndpoint, TaskFailure } from "../../local/endpoint/index.ts";
import { history, rejection, sfnClient, waitForStatus, withEndpoint } from "./helpers.ts";

const ITEM = "arn:aws:lambda:us-east-1:123456789012:function:item";

describe("Distributed Map child executions", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;

  const machine = (name: string, map: object) =>
    ep.createStateMachine({
      name,
      definition: {
        StartAt: "Each",
        States: {
          Each: {
            Type: "Map",
            ItemsPath: "$.items",
            ItemProcessor: {
              ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
              StartAt: "Price",
              States: { Price: { Type: "Task", Resource: ITEM, End: true } },
            },
            End: true,
            ...map,
          },
        },
      },
    });

  /** Runs the machine on these items; its Map Run and the child executions listed by it. */
  async function run(arn: string, items: object[]) {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ items }) }),
    );
    await waitForStatus(sfn, executionArn as string);
    const [mapRun] = (await sfn.send(new ListMapRunsCommand({ executionArn }))).mapRuns ?? [];
    const listed = await sfn.send(new ListExecutionsCommand({ mapRunArn: mapRun?.mapRunArn }));
    return { executionArn: executionArn as string, mapRun, children: listed.executions ?? [] };
  }

  before(async () => {
    ep = await withEndpoint();
    sfn = sfnClient(ep);
    ep.registerTaskHandler(ITEM, (input) => {
      const item = input as { id: number; bad?: boolean };
      if (item.bad) throw new TaskFailure("Item.Invalid", `item ${item.id} has no price`);
      return { priced: item.id };
    });
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  it("the label is the state's Label, else its name, in the Map Run and child ARNs", async () => {
    const labelled = machine("labelled", { Label: "Items" });
    const named = machine("named", {});
    const a = await run(labelled, [{ id: 1 }]);
    const b = await run(named, [{ id: 1 }]);
    assert.match(a.mapRun?.mapRunArn ?? "", /:mapRun:labelled\/Items:/);
    assert.equal(a.mapRun?.stateMachineArn, `${labelled}/Items`);
    assert.match(b.mapRun?.mapRunArn ?? "", /:mapRun:named\/Each:/);
    assert.match(a.children[0]?.executionArn ?? "", /:execution:labelled\/Items:[0-9a-f-]{36}$/);
    assert.match(b.children[0]?.executionArn ?? "", /:execution:named\/Each:[0-9a-f-]{36}$/);
  });

  it("DescribeExecution, GetExecutionHistory and DescribeStateMachineForExecution of children", async () => {
    const arn = machine("priced", { Label: "Items" });
    const { mapRun, children } = await run(arn, [{ id: 1 }, { id: 2, bad: true }]);
    assert.equal(children.length, 2);
    const described = await Promise.all(
      children.map((c) => sfn.send(new DescribeExecutionCommand({ executionArn: c.executionArn }))),
    );
    const good = described.find((d) => d.input === '{"id":1}');
    const bad = described.find((d) => d.input === '{"id":2,"bad":true}');
    assert.equal(good?.status, "SUCCEEDED");
    assert.equal(good?.output, '{"priced":1}');
    assert.equal(good?.mapRunArn, mapRun?.mapRunArn);
    assert.equal(good?.stateMachineArn, `${arn}/Items`);
    assert.equal(bad?.status, "FAILED");
    assert.equal(bad?.error, "Item.Invalid");
    assert.equal(bad?.cause, "item 2 has no price");
    const events = await history(sfn, bad?.executionArn as string);
    assert.deepEqual(
      events.map((e) => e.type),
      ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"],
    );
    const machineOf = await sfn.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: good?.executionArn }),
    );
    assert.equal(machineOf.stateMachineArn, `${arn}/Items`);
    assert.equal(machineOf.label, "Items");
    assert.equal(machineOf.mapRunArn, mapRun?.mapRunArn);
    const failed = await sfn.send(
      new ListExecutionsCommand({ mapRunArn: mapRun?.mapRunArn, statusFilter: "FAILED" }),
    );
    assert.deepEqual(
      failed.executions?.map((e) => e.executionArn),
      [bad?.executionArn],
    );
    // PENDING_REDRIVE is a status filter for a Map Run's children (none is pending here).
    const pending = await sfn.send(
      new ListExecutionsCommand({ mapRunArn: mapRun?.mapRunArn, statusFilter: "PENDING_REDRIVE" }),
    );
    assert.deepEqual(pending.executions, []);
  });

  it("refusals: a listing by Map Run and state machine, an unknown Map Run, stop and redrive", async () => {
    const arn = machine("refused", {});
    const { mapRun, children } = await run(arn, [{ id: 1 }]);
    const both = await rejection(() =>
      sfn.send(new ListExecutionsCommand({ mapRunArn: mapRun?.mapRunArn, stateMachineArn: arn })),
    );
    assert.equal(both.name, "ValidationException");
    const unknown = await rejection(() =>
      sfn.send(new ListExecutionsCommand({ mapRunArn: `${mapRun?.mapRunArn}x` })),
    );
    assert.equal(unknown.name, "ResourceNotFound");
    const child = children[0]?.executionArn;
    for (const call of [
      () => sfn.send(new StopExecutionCommand({ executionArn: child })),
      () => sfn.send(new RedriveExecutionCommand({ executionArn: child })),
    ]) {
      const e = await rejection(call);
      assert.equal(e.name, "ValidationException");
      assert.match(e.message, /not implemented by the local endpoint/);
    }
  });

  it("DescribeMapRun counts the items; an unknown Map Run is ResourceNotFound, a malformed ARN InvalidArn", async () => {
    const arn = machine("described", { Label: "Items" });
    const { executionArn, mapRun } = await run(arn, [{ id: 1 }, { id: 2 }, { id: 3, bad: true }]);
    const d = await sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRun?.mapRunArn }));
    assert.equal(d.mapRunArn, mapRun?.mapRunArn);
    assert.equal(d.executionArn, executionArn);
    assert.equal(d.status, "FAILED");
    assert.deepEqual(
      [d.itemCounts?.total, d.itemCounts?.succeeded, d.itemCounts?.failed],
      [3, 2, 1],
    );
    const unknown = await rejection(() =>
      sfn.send(new DescribeMapRunCommand({ mapRunArn: `${mapRun?.mapRunArn}x` })),
    );
    assert.equal(unknown.name, "ResourceNotFound");
    for (const mapRunArn of ["arn:aws:states:us-east-1:123456789012:mapRun:nope", executionArn]) {
      for (const call of [
        () => sfn.send(new DescribeMapRunCommand({ mapRunArn })),
        () => sfn.send(new ListExecutionsCommand({ mapRunArn })),
      ]) {
        const e = await rejection(call);
        assert.equal(e.name, "InvalidArn", mapRunArn);
        assert.equal(e.$metadata?.httpStatusCode, 400);
      }
    }
  });

  it("a child whose Task times out failed with States.Timeout and no cause, as AWS reports it", async () => {
    const NEVER = "arn:aws:lambda:us-east-1:123456789012:function:never-item";
    const undo = ep.registerTaskHandler(
      NEVER,
      (_input, ctx) =>
        new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(null))),
    );
    try {
      const arn = machine("slow-items", {
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
          StartAt: "Price",
          States: { Price: { Type: "Task", Resource: NEVER, TimeoutSeconds: 1, End: true } },
        },
      });
      const { children } = await run(arn, [{ id: 1 }]);
      const child = await sfn.send(
        new DescribeExecutionCommand({ executionArn: children[0]?.executionArn }),
      );
      assert.equal(child.status, "FAILED");
      assert.equal(child.error, "States.Timeout");
      assert.equal(child.cause, undefined);
    } finally {
      undo();
    }
  });

  it("Express item processors give no child execution records", async () => {
    const arn = machine("express", {
      ItemProcessor: {
        ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "EXPRESS" },
        StartAt: "Price",
        States: { Price: { Type: "Task", Resource: ITEM, End: true } },
      },
    });
    const { children } = await run(arn, [{ id: 1 }]);
    assert.deepEqual(children, []);
  });
});
