/**
 * End to end: the X-Ray Trace Header field reaches StartExecution and StartSyncExecution,
 * comes back in the result, and a header AWS would refuse is refused before any call.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

const HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

describe("X-Ray trace header", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let standard: string;
  let express: string;
  const definition = { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } };

  before(async () => {
    ep = await startLocalEndpoint();
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    standard = ep.createStateMachine({ name: "traced", definition });
    express = ep.createStateMachine({ name: "tracedExpress", definition, type: "EXPRESS" });
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  const fields = (action: string, arn: string, extra: Record<string, unknown>) => ({
    action: [action],
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: arn,
    ...extra,
  });

  test("Start Asynchronous Execution passes it; the result reports it", async () => {
    const run = await runBundle({
      fields: fields("Start Asynchronous Execution", standard, {
        trace_header: HEADER,
        wait_for_success_or_failure: true,
        polling_interval: 1,
      }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    const arn = run.doc?.result.executionArn as string;
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    assert.equal(described.traceHeader, HEADER);
    assert.equal(run.doc?.result.traceHeader, HEADER);
    assert.equal(run.doc?.invocation.fields.trace_header, HEADER);
  });

  test("Start Asynchronous Execution without waiting reports the header it sent", async () => {
    const run = await runBundle({
      fields: fields("Start Asynchronous Execution", standard, { trace_header: HEADER }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.status, "RUNNING");
    assert.equal(run.doc?.result.traceHeader, HEADER);
    const arn = run.doc?.result.executionArn as string;
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    assert.equal(described.traceHeader, HEADER, "the header reported is the one AWS has");
  });

  test("Start Asynchronous Execution without a header reports none", async () => {
    const run = await runBundle({ fields: fields("Start Asynchronous Execution", standard, {}) });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.traceHeader, undefined);
  });

  test("Start Synchronous Express Execution passes it", async () => {
    const run = await runBundle({
      fields: fields("Start Synchronous Express Execution", express, { trace_header: HEADER }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.traceHeader, HEADER);
  });

  test("a header AWS would refuse: exit 20, the field named, nothing started", async () => {
    ep.clearRequests();
    const run = await runBundle({
      fields: fields("Start Asynchronous Execution", standard, { trace_header: "Root=1-ü" }),
    });
    assert.equal(run.code, 20, run.stderr);
    assertValidDoc(run.doc);
    assert.match(
      run.doc?.status_description,
      /^DATA_VALIDATION_ERROR: [\s\S]*X-Ray Trace Header: must be ASCII/,
    );
    assert.equal(ep.requests.filter((r) => r.operation === "StartExecution").length, 0);
  });
});
