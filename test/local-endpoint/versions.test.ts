import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateStateMachineAliasCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  PublishStateMachineVersionCommand,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { LocalEndpoint } from "../../local/endpoint/index.ts";
import { rejection, sfnClient, withEndpoint } from "./helpers.ts";

describe("state machine versions and aliases", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let machine: string;
  before(async () => {
    ep = await withEndpoint();
    sfn = sfnClient(ep);
    machine = ep.createStateMachine({
      name: "billing",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  it("publishes versions, routes an alias, and reports both in DescribeExecution", async () => {
    const v1 = await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: machine }));
    assert.equal(v1.stateMachineVersionArn, `${machine}:1`);
    const alias = await sfn.send(
      new CreateStateMachineAliasCommand({
        name: "live",
        routingConfiguration: [{ stateMachineVersionArn: `${machine}:1`, weight: 100 }],
      }),
    );
    assert.equal(alias.stateMachineAliasArn, `${machine}:live`);

    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: `${machine}:live`, name: "via-alias" }),
    );
    assert.equal(
      started.executionArn,
      "arn:aws:states:us-east-1:123456789012:execution:billing:via-alias",
    );
    const described = await sfn.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn as string }),
    );
    assert.equal(described.stateMachineArn, machine);
    assert.equal(described.stateMachineVersionArn, `${machine}:1`);
    assert.equal(described.stateMachineAliasArn, `${machine}:live`);
  });

  it("lists the executions of a version or an alias when ListExecutions names one", async () => {
    const plain = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine, name: "unqualified" }),
    );
    const viaVersion = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: `${machine}:1`, name: "via-version" }),
    );
    const names = async (stateMachineArn: string) => {
      const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
      return (listed.executions ?? []).map((e) => e.name).sort();
    };
    assert.deepEqual(await names(machine), ["unqualified", "via-alias", "via-version"]);
    assert.deepEqual(await names(`${machine}:1`), ["via-alias", "via-version"]);
    assert.deepEqual(await names(`${machine}:live`), ["via-alias"]);
    // Each item names the version and alias it was started with, as ExecutionListItem does.
    const items = (await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine })))
      .executions;
    const item = (arn: string | undefined) => items?.find((e) => e.executionArn === arn);
    assert.equal(item(plain.executionArn)?.stateMachineVersionArn, undefined);
    assert.equal(item(viaVersion.executionArn)?.stateMachineVersionArn, `${machine}:1`);
    assert.equal(item(viaVersion.executionArn)?.stateMachineAliasArn, undefined);
  });

  it("DescribeStateMachine of a version ARN names the version, as AWS answers", async () => {
    const version = (
      await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: machine }))
    ).stateMachineVersionArn as string;
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: version }));
    assert.equal(described.stateMachineArn, version);
    assert.equal(described.name, "billing");
    const unqualified = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: machine }),
    );
    assert.equal(unqualified.stateMachineArn, machine);
    // A Distributed Map state's ARN is refused, as DescribeStateMachine's reference says.
    const mapState = await rejection(() =>
      sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${machine}/mapStateLabel` })),
    );
    assert.equal(mapState.name, "ValidationException");
  });

  it("an unknown version or alias does not exist", async () => {
    for (const qualifier of ["9", "staging"]) {
      const error = await rejection(() =>
        sfn.send(new StartExecutionCommand({ stateMachineArn: `${machine}:${qualifier}` })),
      );
      assert.equal((error as { name?: string }).name, "StateMachineDoesNotExist");
    }
  });
});
