/**
 * End to end: JSONata state machines fail as JSONPath ones do: the failing state, its error
 * and cause are reported, also when a JSONata expression itself fails (EvaluationFailed).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

describe("JSONata state machines", () => {
  let ep: LocalEndpoint;
  let rejects: string;
  let brokenExpression: string;

  before(async () => {
    ep = await startLocalEndpoint();
    rejects = ep.createStateMachine({
      name: "jsonataRejects",
      definition: {
        QueryLanguage: "JSONata",
        StartAt: "Prepare",
        States: {
          Prepare: { Type: "Pass", Next: "Reject" },
          Reject: {
            Type: "Fail",
            Error: "{% 'Order.' & 'Rejected' %}",
            Cause: "{% 'order ' & $string($states.input.order) & ' has no stock' %}",
          },
        },
      },
    });
    brokenExpression = ep.createStateMachine({
      name: "jsonataBroken",
      definition: {
        QueryLanguage: "JSONata",
        StartAt: "Prepare",
        States: {
          Prepare: { Type: "Pass", Next: "Reject" },
          Reject: { Type: "Fail", Error: "{% $states.input.missing.code %}", Cause: "unused" },
        },
      },
    });
  });
  after(() => ep.close());

  const start = (arn: string) =>
    runBundle({
      fields: {
        action: ["Start Asynchronous Execution"],
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        state_machine_arn: arn,
        input: '{"order": 42}',
        wait_for_success_or_failure: true,
        polling_interval: 1,
      },
    });

  test("a JSONata Fail state: exit 23, its evaluated error and cause, the state named", async () => {
    const run = await start(rejects);
    assert.equal(run.code, 23, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc?.result.status, "FAILED");
    assert.equal(run.doc?.result.failedState, "Reject");
    assert.equal(run.doc?.result.error, "Order.Rejected");
    assert.equal(run.doc?.result.cause, "order 42 has no stock");
    assert.match(run.doc?.status_description, /in state "Reject": Order.Rejected/);
  });

  test("a JSONata expression that fails: States.QueryEvaluationError in the state that holds it", async () => {
    const run = await start(brokenExpression);
    assert.equal(run.code, 23, run.stderr);
    assertValidDoc(run.doc);
    const arn = run.doc?.result.executionArn as string;
    const evaluation = ep.getExecution(arn)?.history.find((e) => e.type === "EvaluationFailed");
    assert.equal(evaluation?.details?.["state"], "Reject", "the endpoint recorded the evaluation");
    assert.equal(run.doc?.result.failedState, "Reject");
    assert.equal(run.doc?.result.error, "States.QueryEvaluationError");
    assert.match(run.doc?.result.cause, /field 'Error'/);
  });
});
