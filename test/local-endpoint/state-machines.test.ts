import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import type { LocalEndpoint } from "../../local/endpoint/index.ts";
import { ROLE_ARN, rejection, sfnClient, withEndpoint } from "./helpers.ts";

const PASS = JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });

describe("state machines", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  before(async () => {
    ep = await withEndpoint();
    sfn = sfnClient(ep);
  });
  after(async () => {
    sfn.destroy();
    await ep.close();
  });

  it("creates, describes, lists and deletes", async () => {
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: "orders",
        definition: PASS,
        roleArn: ROLE_ARN,
        type: "STANDARD",
      }),
    );
    assert.equal(
      created.stateMachineArn,
      "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
    );
    assert.ok(created.creationDate instanceof Date);

    const d = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }),
    );
    assert.equal(d.name, "orders");
    assert.equal(d.status, "ACTIVE");
    assert.equal(d.type, "STANDARD");
    assert.equal(d.definition, PASS);
    assert.equal(d.roleArn, ROLE_ARN);
    assert.equal(d.creationDate?.getTime(), created.creationDate?.getTime());

    // Same request again is idempotent; a different definition under the same name is not.
    const again = await sfn.send(
      new CreateStateMachineCommand({ name: "orders", definition: PASS, roleArn: ROLE_ARN }),
    );
    assert.equal(again.stateMachineArn, created.stateMachineArn);
    const clash = await rejection(() =>
      sfn.send(
        new CreateStateMachineCommand({
          name: "orders",
          definition: JSON.stringify({ StartAt: "Q", States: { Q: { Type: "Succeed" } } }),
          roleArn: ROLE_ARN,
        }),
      ),
    );
    assert.equal(clash.name, "StateMachineAlreadyExists");

    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
    const gone = await rejection(() =>
      sfn.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn })),
    );
    assert.equal(gone.name, "StateMachineDoesNotExist");
    assert.equal(gone.$metadata?.httpStatusCode, 400);
    // Deleting again is fine, as in AWS.
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
  });

  it("pages ListStateMachines", async () => {
    for (const n of ["list-a", "list-b", "list-c", "list-d", "list-e"]) {
      ep.createStateMachine({
        name: n,
        definition: PASS,
        type: n === "list-e" ? "EXPRESS" : "STANDARD",
      });
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sfn.send(
        new ListStateMachinesCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }),
      );
      pages++;
      assert.ok((page.stateMachines ?? []).length <= 2);
      for (const m of page.stateMachines ?? []) names.push(m.name ?? "");
      nextToken = page.nextToken;
    } while (nextToken);
    assert.ok(pages >= 3);
    assert.deepEqual(
      names.filter((n) => n.startsWith("list-")),
      ["list-a", "list-b", "list-c", "list-d", "list-e"],
    );
    const bad = await rejection(() =>
      sfn.send(new ListStateMachinesCommand({ nextToken: "garbage" })),
    );
    assert.equal(bad.name, "InvalidToken");
  });

  it("rejects bad names, ARNs and definitions as AWS does", async () => {
    for (const name of [
      "has space",
      "a/b",
      "tab\there",
      "q?",
      "semi;colon",
      "x".repeat(79) + "#",
    ]) {
      const e = await rejection(() =>
        sfn.send(new CreateStateMachineCommand({ name, definition: PASS, roleArn: ROLE_ARN })),
      );
      assert.equal(e.name, "InvalidName", name);
    }
    // Out of the model's 1 to 80 characters: ValidationException, as AWS answers.
    for (const [name, limit] of [
      ["x".repeat(81), "less than or equal to 80"],
      ["", "greater than or equal to 1"],
    ]) {
      const e = await rejection(() =>
        sfn.send(new CreateStateMachineCommand({ name, definition: PASS, roleArn: ROLE_ARN })),
      );
      assert.equal(e.name, "ValidationException", name);
      assert.equal(
        e.message,
        `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must have length ${limit}`,
      );
    }
    const longest = await sfn.send(
      new CreateStateMachineCommand({ name: "x".repeat(80), definition: PASS, roleArn: ROLE_ARN }),
    );
    assert.match(longest.stateMachineArn ?? "", /:stateMachine:x{80}$/);
    const badDef = await rejection(() =>
      sfn.send(
        new CreateStateMachineCommand({
          name: "bad-def",
          definition: '{"StartAt":"Nope","States":{}}',
          roleArn: ROLE_ARN,
        }),
      ),
    );
    assert.equal(badDef.name, "InvalidDefinition");
    const notJson = await rejection(() =>
      sfn.send(
        new CreateStateMachineCommand({ name: "bad-json", definition: "{", roleArn: ROLE_ARN }),
      ),
    );
    assert.equal(notJson.name, "InvalidDefinition");
    const badRole = await rejection(() =>
      sfn.send(
        new CreateStateMachineCommand({
          name: "bad-role",
          definition: PASS,
          roleArn: "not-an-arn",
        }),
      ),
    );
    assert.equal(badRole.name, "InvalidArn");
    const badArn = await rejection(() =>
      sfn.send(new DescribeStateMachineCommand({ stateMachineArn: "nope" })),
    );
    assert.equal(badArn.name, "InvalidArn");
    const wrongType = await rejection(() =>
      sfn.send(
        new DescribeStateMachineCommand({
          stateMachineArn: "arn:aws:states:us-east-1:123456789012:execution:orders:x",
        }),
      ),
    );
    assert.equal(wrongType.name, "InvalidArn");
    const missing = await rejection(() =>
      sfn.send(
        new DescribeStateMachineCommand({
          stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:none",
        }),
      ),
    );
    assert.equal(missing.name, "StateMachineDoesNotExist");
    assert.match(missing.message, /State Machine Does Not Exist/);
  });
});
