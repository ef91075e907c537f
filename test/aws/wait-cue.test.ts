/**
 * The waiting loop's cue for the quiet collection (WaitRequest.onAnswered): once after each
 * status check answered RUNNING, never for the check that reads the end, against the local
 * endpoint with the product's own clients.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { waitForExecution } from "../../src/actions/execution.ts";
import { createAwsSession } from "../../src/aws/clients.ts";
import { createOutputFields } from "../../src/output/output-fields.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let ep: LocalEndpoint;
before(async () => {
  ep = await startLocalEndpoint();
});
after(() => ep.close());

/** The product's own clients on the local endpoint, one attempt per call. */
function localSession() {
  return createAwsSession(
    {
      region: ep.region,
      regionSource: "test",
      endpointUrl: ep.url,
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
      maxAttempts: 1,
      retryMode: "standard",
      credentials: { kind: "static", ...ep.credentials, source: "test" },
      sessionName: "test",
      http: {},
    },
    quiet,
  );
}

test("the waiting loop gives the cue after each check answered RUNNING, not after the end", async () => {
  const machine = ep.createStateMachine({
    name: "cue",
    definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 3, End: true } } },
  });
  const session = localSession();
  try {
    const started = await session.sfn.startExecution({ stateMachineArn: machine, name: "cue1" });
    ep.clearRequests();
    let cues = 0;
    const waited = await waitForExecution({
      sfn: session.sfnOnce,
      executionArn: String(started.executionArn),
      executionStart: started.startDate ?? new Date(),
      pollingIntervalSeconds: 1,
      maximumWaitSeconds: 0,
      failureLimitMs: 60_000,
      log: quiet,
      outputs: createOutputFields(undefined),
      onAnswered: () => cues++,
    });
    assert.equal(waited.kind, "ended");
    const describes = ep.requests.filter((r) => r.operation === "DescribeExecution").length;
    assert.ok(describes >= 2, `checks: ${describes}`);
    assert.equal(cues, describes - 1, "one cue per RUNNING answer, none for the end");
  } finally {
    session.destroy();
  }
});

test("a Maximum Wait beyond a timer's reach (30 days) waits as no limit would", async () => {
  const machine = ep.createStateMachine({
    name: "longLimit",
    definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 2, End: true } } },
  });
  const session = localSession();
  try {
    const started = await session.sfn.startExecution({ stateMachineArn: machine, name: "long1" });
    // setTimeout takes at most 2^31 - 1 ms; a longer delay fires at once and would cut
    // every status check short.
    const waited = await waitForExecution({
      sfn: session.sfnOnce,
      executionArn: String(started.executionArn),
      executionStart: started.startDate ?? new Date(),
      pollingIntervalSeconds: 1,
      maximumWaitSeconds: 30 * 86_400,
      failureLimitMs: 60_000,
      log: quiet,
      outputs: createOutputFields(undefined),
    });
    assert.equal(waited.kind, "ended");
  } finally {
    session.destroy();
  }
});
