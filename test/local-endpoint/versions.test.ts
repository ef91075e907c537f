import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateStateMachineAliasCommand,
  DescribeExecutionCommand,
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

  it("an unknown version or alias does not exist", async () => {
    for (const qualifier of ["9", "staging"]) {
      const error = await rejection(() =>
        sfn.send(new StartExecutionCommand({ stateMachineArn: `${machine}:${qualifier}` })),
      );
      assert.equal((error as { name?: string }).name, "StateMachineDoesNotExist");
    }
  });
});
