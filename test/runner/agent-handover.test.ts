/**
 * Fields as a real agent hands them over, through the controller runner with the real
 * package and the local endpoint: a Script as the path of a temporary file, a Credential
 * as a record (and flattened parts) with a session token the endpoint insists on.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type LocalEndpoint,
  startLocalEndpoint,
  type TaskTokenInfo,
} from "../../local/endpoint/index.ts";
import type { AgentOptions } from "../../local/runner/agent.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import { ControllerRunner } from "../../local/runner/runner.ts";
import { assertValidDoc, cleanEnv } from "../helpers/bundle.ts";
import { waitForStatus } from "../local-endpoint/helpers.ts";
import { PACKAGE_ZIP, requireBuilt } from "../helpers/paths.ts";

const QUEUE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
const SESSION_KEY = "ASIAHANDOVERCANARY01";
const SESSION_SECRET = "HandoverCanarySecret000000000000000000001";
const SESSION_TOKEN = "HandoverCanaryToken//+000000000000000000000000000000000000001";

interface Doc {
  exit_code: number;
  status_description: string;
  result: { status: string; output?: string } | null;
}

describe("fields as a real agent hands them over (real package, local endpoint)", () => {
  let ep: LocalEndpoint;
  let sfn: SFNClient;
  let runner: ControllerRunner;
  let dir: string;
  let echo: string;
  let answer: string;
  const events: RunnerEvent[] = [];
  const tokens: TaskTokenInfo[] = [];
  let tokenArrived: (() => void) | undefined;

  before(async () => {
    ep = await startLocalEndpoint({
      credentials: [
        { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY },
        { accessKeyId: SESSION_KEY, secretAccessKey: SESSION_SECRET, sessionToken: SESSION_TOKEN },
      ],
    });
    sfn = new SFNClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    echo = ep.createStateMachine({
      name: "echo",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    answer = ep.createStateMachine({
      name: "await-answer",
      definition: {
        StartAt: "Ask",
        States: {
          Ask: {
            Type: "Task",
            Resource: QUEUE,
            Parameters: { "token.$": "$$.Task.Token" },
            End: true,
          },
        },
      },
    });
    ep.onTaskToken((info) => {
      tokens.push(info);
      tokenArrived?.();
    });
    dir = await mkdtemp(join(tmpdir(), "ue-handover-"));
    runner = await ControllerRunner.open({
      packagePath: requireBuilt(PACKAGE_ZIP),
      credentials: new Map([
        ["local-test", { user: DEFAULT_ACCESS_KEY_ID, password: DEFAULT_SECRET_ACCESS_KEY }],
        ["session", { user: SESSION_KEY, password: SESSION_SECRET, token: SESSION_TOKEN }],
      ]),
      env: cleanEnv({ UE_AWS_STEPFUNCTIONS_CACHE: join(dir, "bridge-cache") }),
      cancelGraceMs: 10_000,
      onEvent: (e) => events.push(e),
    });
  });
  after(async () => {
    await runner.close();
    sfn.destroy();
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  const startTask = (name: string, fields: Record<string, unknown>, agent?: AgentOptions) =>
    runner.launch(
      {
        name,
        fields: {
          endpoint_url: ep.url,
          credentials: { $credential: "local-test" },
          state_machine_arn: echo,
          wait_for_success_or_failure: true,
          polling_interval: 1,
          ...fields,
        },
      },
      agent ? { agent } : {},
    ).result;
  const startExecutions = () => ep.requests.filter((r) => r.operation === "StartExecution").length;

  test("a Start whose Input is a Script file: the execution gets the text exactly, its output equals it", async () => {
    const input = '{"text":"line\\nbreak \\u00e9 ☃","n":1.50}';
    const result = await startTask("script-input", { input });

    assert.equal(result.state, "Success", JSON.stringify([result.message, result.problems]));
    const doc = result.extensionOutput as Doc;
    assert.equal(doc.result?.status, "SUCCEEDED");
    const execution = ep.getExecution(String(result.outputFields["execution_arn"]));
    assert.equal(execution?.input, input, "passed through exactly as written");
    assert.deepEqual(JSON.parse(doc.result?.output ?? "null"), JSON.parse(input));
  });

  // [case, how to make the path, what the message says]
  const unusable: Array<[string, (base: string) => Promise<string>, RegExp]> = [
    ["a path that does not exist", async (base) => join(base, "gone.json"), /does not exist/],
    ["a directory", async (base) => base, /is a directory; expected a file/],
    [
      "a file over the limit",
      async (base) => {
        const path = join(base, "big.json");
        await writeFile(path, `"${"x".repeat(262_143)}"`);
        return path;
      },
      /is 262145 bytes; Input takes at most 262144 bytes of UTF-8/,
    ],
    [
      "bytes that are not UTF-8",
      async (base) => {
        const path = join(base, "latin1.json");
        await writeFile(path, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]));
        return path;
      },
      /is not UTF-8 text \(byte 7 is not valid UTF-8\)/,
    ],
  ];
  for (const [name, make, says] of unusable) {
    test(`Input as ${name}: exit 20 naming the field and the path; nothing started`, async () => {
      const base = await mkdtemp(join(dir, "script-"));
      const path = await make(base);
      const before = startExecutions();

      const result = await startTask("bad-script", {}, { fieldOverrides: { input: path } });

      assert.equal(result.exitCode, 20);
      assert.equal(result.state, "Failed");
      const doc = result.extensionOutput as Doc;
      assertValidDoc(doc as unknown as Record<string, unknown>);
      assert.equal(doc.exit_code, 20);
      assert.match(doc.status_description, /^DATA_VALIDATION_ERROR: 1 field is invalid:/);
      assert.ok(doc.status_description.includes(`Input (input): the script file ${path} `));
      assert.match(doc.status_description, says);
      assert.equal(result.message, doc.status_description);
      assert.equal(startExecutions(), before, "the endpoint saw no StartExecution");
      assert.equal(result.outputFields["execution_arn"], undefined);
    });
  }

  test("Send Task Success with its Task Output as a Script file", async () => {
    const arrived = new Promise<void>((resolve) => {
      tokenArrived = resolve;
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: answer, input: "{}" }),
    );
    await arrived;
    const token = tokens.find((t) => t.executionArn === executionArn);
    assert.ok(token);
    const output = '{"approved":true,"by":"Zoë"}';

    const result = await runner.launch({
      name: "answer",
      fields: {
        endpoint_url: ep.url,
        region: ep.region,
        credentials: { $credential: "local-test" },
        action: "Send Task Success",
        task_token: token.taskToken,
        task_output: output,
      },
    }).result;

    assert.equal(result.state, "Success", JSON.stringify([result.message, result.problems]));
    const done = await waitForStatus(sfn, executionArn ?? "");
    assert.equal(done.status, "SUCCEEDED");
    assert.equal(done.output, output);
    assert.ok(!JSON.stringify(events).includes(token.taskToken), "the task token is never shown");
  });

  for (const credentialForm of ["both", "record", "flattened"] as const) {
    test(`a Credential with a session token (${credentialForm}): signed with it, never shown`, async () => {
      const before = ep.requests.filter((r) => r.accessKeyId === SESSION_KEY).length;
      const result = await startTask(
        `session-${credentialForm}`,
        { credentials: { $credential: "session" }, input: '{"k":1}' },
        { credentialForm },
      );

      assert.equal(result.state, "Success", JSON.stringify([result.message, result.problems]));
      const signed = ep.requests.filter((r) => r.accessKeyId === SESSION_KEY).slice(before);
      assert.ok(signed.some((r) => r.operation === "StartExecution" && r.status === 200));
      const doc = result.extensionOutput as Record<string, unknown>;
      assertValidDoc(doc);
      const shown = (doc["invocation"] as { fields: Record<string, unknown> }).fields;
      assert.equal(shown["credentials_token"], "****");
      const seen = JSON.stringify([events, result]);
      for (const canary of [
        SESSION_KEY,
        SESSION_SECRET,
        SESSION_TOKEN,
        encodeURIComponent(SESSION_TOKEN),
      ])
        assert.ok(!seen.includes(canary), "not in stdout, stderr, document or output fields");
      assert.deepEqual(result.problems, [], "the runner's leak check found nothing");
    });
  }

  test("the same key pair without its token is refused by the endpoint (the token is what makes it pass)", async () => {
    const from = ep.requests.length;
    const result = await startTask(
      "session-no-token",
      { credentials: { $credential: "session" } },
      {
        fieldOverrides: {
          "credentials.token": null,
          credentials: {
            user: SESSION_KEY,
            password: SESSION_SECRET,
            keyLocation: null,
            passphrase: null,
            token: null,
          },
        },
      },
    );
    assert.equal(result.exitCode, 2, result.message ?? "");
    // Refused by the endpoint for the missing token, not for want of credentials: the key
    // pair was used (and so in play for the check below).
    const refused = ep.requests.slice(from).filter((r) => r.accessKeyId === SESSION_KEY);
    assert.deepEqual(
      refused.map((r) => [r.operation, r.errorCode]),
      [["StartExecution", "UnrecognizedClientException"]],
    );
    assert.ok(!JSON.stringify([events, result]).includes(SESSION_SECRET));
  });
});
