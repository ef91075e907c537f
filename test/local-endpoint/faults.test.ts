import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import {
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import {
  awsThrottling,
  Faults,
  LARGE_BUCKET_REGIONS,
  type LocalEndpoint,
} from "../../local/endpoint/index.ts";
import { rejection, sfnClient, sleep, withEndpoint } from "./helpers.ts";

describe("fault knobs", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let machine: string;
  before(async () => {
    ep = await withEndpoint();
    sfn = sfnClient(ep);
    machine = ep.createStateMachine({
      name: "m",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
  });
  afterEach(() => {
    ep.faults.reset();
    ep.clearRequests();
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  const describeMachine = () =>
    sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machine }));

  it("throttles per operation with a token bucket and counts the outcome", async () => {
    // One token per 4 s: the fourth call finds the bucket empty unless four local calls took
    // 4 s, which no loaded machine comes near.
    ep.faults.throttle("DescribeStateMachine", { bucketSize: 3, refillPerSecond: 0.25 });
    for (let i = 0; i < 3; i++) await describeMachine();
    const e = await rejection(describeMachine);
    assert.equal(e.name, "ThrottlingException");
    assert.equal(e.message, "Rate exceeded");
    assert.equal(e.$metadata?.httpStatusCode, 400);
    // Other operations have their own (here: no) bucket.
    await sfn.send(new ListStateMachinesCommand({}));
    assert.deepEqual(ep.faults.counter("DescribeStateMachine"), { accepted: 3, throttled: 1 });
    // Refilled at one token per 4 s.
    await sleep(4_100);
    await describeMachine();
    assert.deepEqual(ep.faults.counters()["DescribeStateMachine"], { accepted: 4, throttled: 1 });
    assert.equal(ep.requests.filter((r) => r.fault === "throttled").length, 1);
  });

  it("the SDK retries through throttling", async () => {
    ep.faults.throttle("DescribeStateMachine", { bucketSize: 1, refillPerSecond: 5 });
    const retrying = sfnClient(ep, { maxAttempts: 5 });
    await retrying.send(new DescribeStateMachineCommand({ stateMachineArn: machine }));
    const out = await retrying.send(new DescribeStateMachineCommand({ stateMachineArn: machine }));
    assert.ok((out.$metadata.attempts ?? 0) >= 2);
    assert.ok(ep.faults.counter("DescribeStateMachine").throttled >= 1);
    retrying.destroy();
  });

  it("adds latency to chosen operations", async () => {
    ep.faults.set({ latencyMs: 300, operations: ["DescribeStateMachine"] });
    const t = performance.now();
    await describeMachine();
    assert.ok(performance.now() - t >= 290);
    assert.equal(ep.requests.at(-1)?.fault, "latency");
    // The other operation is not delayed: its call carries no fault (the endpoint marks each
    // delay it adds), which a slow machine cannot change as it could a time taken.
    await sfn.send(new ListStateMachinesCommand({}));
    assert.equal(ep.requests.at(-1)?.operation, "ListStateMachines");
    assert.equal(ep.requests.at(-1)?.fault, undefined);
  });

  it("answers a share of calls with 500 InternalFailure or 503 ServiceUnavailable", async () => {
    ep.faults.set({ errorRate5xx: 0.5 });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await describeMachine();
        outcomes.push("ok");
      } catch (e) {
        outcomes.push(
          `${(e as Error).name}/${(e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode}`,
        );
      }
    }
    assert.deepEqual(outcomes, ["ok", "InternalFailure/500", "ok", "InternalFailure/500"]);
    ep.faults.set({ errorRate5xx: 1, error5xxStatus: 503 });
    const e = await rejection(describeMachine);
    assert.equal(e.name, "ServiceUnavailable");
    assert.equal(e.$metadata?.httpStatusCode, 503);
  });

  it("drops connections", async () => {
    ep.faults.set({ dropRate: 1 });
    const e = await rejection(describeMachine);
    assert.match(
      `${e.name} ${e.message} ${(e as { code?: string }).code ?? ""}`,
      /socket hang up|ECONNRESET/i,
    );
    assert.equal(ep.requests.at(-1)?.fault, "drop");
    assert.equal(ep.requests.at(-1)?.status, 0);
    ep.faults.set({});
    await describeMachine();
  });

  it("hangs chosen operations until the client gives up", async () => {
    ep.faults.set({ hang: { operations: ["DescribeStateMachine"] } });
    const impatient = sfnClient(ep, {
      requestHandler: new NodeHttpHandler({ requestTimeout: 300, throwOnRequestTimeout: true }),
    });
    const t = performance.now();
    const e = await rejection(() =>
      impatient.send(new DescribeStateMachineCommand({ stateMachineArn: machine })),
    );
    assert.ok(performance.now() - t >= 290);
    assert.match(`${e.name} ${e.message}`, /timeout/i);
    assert.equal(ep.requests.at(-1)?.fault, "hang");
    // Other operations still answer.
    await impatient.send(new ListStateMachinesCommand({}));
    impatient.destroy();
  });

  it("holds chosen operations until a promise settles, then carries them out, a call given up on too", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    ep.faults.set({ holdUntil: held, operations: ["DescribeStateMachine", "StartExecution"] });
    const arrived = async (operation: string) => {
      while (!ep.requests.some((r) => r.operation === operation)) await sleep(5);
      return ep.requests.find((r) => r.operation === operation);
    };
    let answered = false;
    const described = describeMachine().then(() => {
      answered = true;
    });
    const aborting = new AbortController();
    const started = sfn
      .send(new StartExecutionCommand({ stateMachineArn: machine, name: "held-start" }), {
        abortSignal: aborting.signal,
      })
      .catch((e: Error) => e);
    const describeEntry = await arrived("DescribeStateMachine");
    await arrived("StartExecution");
    aborting.abort();
    assert.equal(((await started) as Error).name, "AbortError");
    // Other operations answer meanwhile; a reset releases no call already held.
    ep.faults.reset();
    await sfn.send(new ListStateMachinesCommand({}));
    const execution = `${machine.replace(":stateMachine:", ":execution:")}:held-start`;
    assert.equal(answered, false);
    assert.equal(describeEntry?.fault, "held");
    assert.equal(describeEntry?.status, 0);
    assert.equal(ep.getExecution(execution), undefined, "the start is not carried out yet");
    release();
    await described;
    assert.equal(describeEntry?.status, 200);
    for (let i = 0; i < 2000 && !ep.getExecution(execution); i++) await sleep(5);
    assert.ok(ep.getExecution(execution), "the start the client gave up on was carried out");
  });

  it("reset restores normal service", async () => {
    ep.faults.set({ errorRate5xx: 1, latencyMs: 50 });
    ep.faults.throttle("*", { bucketSize: 1, refillPerSecond: 0 });
    ep.faults.reset();
    for (let i = 0; i < 3; i++) await describeMachine();
    assert.deepEqual(ep.faults.counter("DescribeStateMachine"), { accepted: 3, throttled: 0 });
  });
});

describe("AWS's throttling buckets by region", () => {
  it("are larger in us-east-1, us-west-2 and eu-west-1 for DescribeExecution, StartExecution and ListExecutions; the same everywhere for the history and Map Runs", () => {
    const everywhere = {
      GetExecutionHistory: { bucketSize: 400, refillPerSecond: 20 },
      ListMapRuns: { bucketSize: 100, refillPerSecond: 1 },
      DescribeMapRun: { bucketSize: 200, refillPerSecond: 1 },
    };
    // The regions named, not the endpoint's own list (an emptied list would skip the loop).
    assert.deepEqual([...LARGE_BUCKET_REGIONS].sort(), ["eu-west-1", "us-east-1", "us-west-2"]);
    for (const region of ["us-east-1", "us-west-2", "eu-west-1"]) {
      assert.deepEqual(awsThrottling(region), {
        DescribeExecution: { bucketSize: 300, refillPerSecond: 15 },
        StartExecution: { bucketSize: 1300, refillPerSecond: 300 },
        ListExecutions: { bucketSize: 200, refillPerSecond: 5 },
        ...everywhere,
      });
    }
    for (const region of ["eu-central-1", "ap-southeast-2", "us-east-2"]) {
      assert.deepEqual(awsThrottling(region), {
        DescribeExecution: { bucketSize: 250, refillPerSecond: 10 },
        StartExecution: { bucketSize: 800, refillPerSecond: 150 },
        ListExecutions: { bucketSize: 100, refillPerSecond: 2 },
        ...everywhere,
      });
    }
  });

  it("throttleLikeAws installs the region's buckets: a burst of 300 status calls passes in us-east-1, not in eu-central-1", () => {
    const burst = (region: string) => {
      const faults = new Faults();
      faults.throttleLikeAws(region);
      for (let i = 0; i < 300; i++) faults.admit("DescribeExecution");
      for (let i = 0; i < 1300; i++) faults.admit("StartExecution");
      return faults.counters();
    };
    const large = burst("us-east-1");
    assert.deepEqual(large["DescribeExecution"], { accepted: 300, throttled: 0 });
    assert.deepEqual(large["StartExecution"], { accepted: 1300, throttled: 0 });
    const small = burst("eu-central-1");
    // A full bucket of 250 (800), plus whatever refilled while the loop ran.
    assert.ok((small["DescribeExecution"]?.throttled ?? 0) > 0);
    assert.ok((small["DescribeExecution"]?.accepted ?? 0) >= 250);
    assert.ok((small["StartExecution"]?.throttled ?? 0) > 0);
  });
});
