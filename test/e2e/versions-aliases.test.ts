/**
 * End to end: a version- or alias-qualified State Machine ARN starts that version; the
 * result reports the version and the alias; every ARN derived from it drops the qualifier.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

describe("state machine versions and aliases", () => {
  let ep: LocalEndpoint;
  let machine: string;
  let version: string;
  let alias: string;

  before(async () => {
    ep = await startLocalEndpoint();
    machine = ep.createStateMachine({
      name: "invoices",
      definition: { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } },
    });
    ep.publishStateMachineVersion(machine);
    version = ep.publishStateMachineVersion(machine);
    alias = ep.createStateMachineAlias("prod", version);
  });
  after(() => ep.close());

  const start = (stateMachineArn: string, instance: string, wait: boolean) =>
    runBundle({
      fields: {
        action: ["Start Asynchronous Execution"],
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        state_machine_arn: stateMachineArn,
        wait_for_success_or_failure: wait,
        polling_interval: 1,
      },
      env: { UE_TASK_NAME: "invoices", UE_TASK_INSTANCE_ID: instance },
    });

  test("an alias ARN starts its version; the result names machine, version and alias", async () => {
    assert.equal(alias, `${machine}:prod`);
    const run = await start(alias, "alias1", true);
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    const result = run.doc?.result;
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(result.stateMachineArn, machine);
    assert.equal(result.stateMachineVersionArn, `${machine}:2`);
    assert.equal(result.stateMachineAliasArn, alias);
    assert.match(result.executionArn, /:execution:invoices:[^:]+$/);
    // The console link names the execution, never the alias or version.
    assert.equal(
      result.consoleUrl,
      `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${result.executionArn}`,
    );
    assert.ok(run.stderr.includes(`console: ${result.consoleUrl}`), run.stderr);
    assert.equal(ep.getExecution(result.executionArn)?.status, "SUCCEEDED");
  });

  test("without waiting, the result splits the qualifier off as AWS reports it", async () => {
    const byVersion = await start(version, "version1", false);
    assert.equal(byVersion.code, 0, byVersion.stderr);
    assertValidDoc(byVersion.doc);
    assert.equal(byVersion.doc?.result.stateMachineArn, machine);
    assert.equal(byVersion.doc?.result.stateMachineVersionArn, version);
    assert.equal(byVersion.doc?.result.stateMachineAliasArn, undefined);

    const byAlias = await start(alias, "alias2", false);
    assert.equal(byAlias.doc?.result.stateMachineArn, machine);
    assert.equal(byAlias.doc?.result.stateMachineAliasArn, alias);
  });

  test("a rerun through an alias finds the earlier execution by its unqualified ARN", async () => {
    const first = await start(alias, "alias3", true);
    assert.equal(first.code, 0, first.stderr);
    const second = await start(alias, "alias3", true);
    assert.equal(second.code, 0, second.stderr);
    assertValidDoc(second.doc);
    assert.match(second.doc?.result.name, /-2$/, "the rerun starts the next run's name");
    const lookups = ep.requests.filter(
      (r) => r.operation === "DescribeExecution" && r.resource === first.doc?.result.executionArn,
    );
    assert.ok(
      lookups.some((r) => r.status === 200),
      "the earlier execution was found under the execution ARN without the qualifier",
    );
  });
});
