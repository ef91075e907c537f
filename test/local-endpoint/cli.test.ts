import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
} from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type LocalEndpoint,
} from "../../local/endpoint/index.ts";
import { rejection, sfnClient, startCli, stopCli, waitForStatus, withEndpoint } from "./helpers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = path.join(root, "test/fixtures");
const examples = path.join(root, "examples/state-machines");

const byName = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));

/** A client for an endpoint started from the command line, with its default key pair. */
/** A client signing for the endpoint's region (us-east-1 unless started with --region). */
function cliClient(url: string, region = "us-east-1"): SFNClient {
  return new SFNClient({
    endpoint: url,
    region,
    maxAttempts: 1,
    credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY },
  });
}

describe("command line", () => {
  it("serves a folder of definitions, prints its URL and stops on SIGTERM", async () => {
    const { child, url, output } = await startCli([
      "--port",
      "0",
      "--definitions",
      path.join(fixtures, "local-endpoint-definitions"),
    ]);
    try {
      assert.match(output(), new RegExp(`AWS_ACCESS_KEY_ID=${DEFAULT_ACCESS_KEY_ID}`));
      const sfn = new SFNClient({
        endpoint: url,
        region: "us-east-1",
        credentials: {
          accessKeyId: DEFAULT_ACCESS_KEY_ID,
          secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
        },
        disableHostPrefix: true,
      });
      const listed = await sfn.send(new ListStateMachinesCommand({}));
      assert.deepEqual(
        listed.stateMachines?.map((m) => [m.name, m.type]),
        [
          ["hello", "STANDARD"],
          ["quick", "EXPRESS"],
        ],
      );
      const hello = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: hello, input: '{"who":"world"}' }),
      );
      const done = await waitForStatus(sfn, executionArn!);
      assert.equal(done.output, '{"greeting":"Hello, world!"}');
      const quick = await sfn.send(
        new StartSyncExecutionCommand({
          stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:quick",
        }),
      );
      assert.equal(quick.output, '{"ok":true}');
      sfn.destroy();
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });

  it("lists the state machines it created at start, as ListStateMachines lists them", async () => {
    const { child, url, output } = await startCli(["--definitions", examples]);
    try {
      const sfn = cliClient(url);
      const listed = await sfn.send(new ListStateMachinesCommand({}));
      sfn.destroy();

      const table = /^State machines \((\d+)\):\n((?: {2}.+\n)+)/m.exec(output());
      assert.ok(table, output());
      const rows = (table[2] ?? "")
        .trimEnd()
        .split("\n")
        .map((row) => row.trim().split(/\s+/));
      assert.deepEqual(
        rows,
        listed.stateMachines?.map((m) => [m.name, m.type, m.stateMachineArn]),
      );
      assert.equal(Number(table[1]), rows.length);
      // What the folder holds, by the documented naming rule, independently of the endpoint.
      const expected = readdirSync(examples)
        .filter((f) => f.endsWith(".asl.json"))
        .map((f) => {
          const express = f.endsWith(".express.asl.json");
          const name = f.slice(0, -(express ? ".express.asl.json" : ".asl.json").length);
          const arn = `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
          return [name, express ? "EXPRESS" : "STANDARD", arn];
        });
      assert.ok(expected.length >= 6, `the examples folder holds ${expected.length} machines`);
      assert.deepEqual(rows.toSorted(byName), expected.toSorted(byName));
      assert.deepEqual(
        rows.find((r) => r[0] === "validate-order"),
        [
          "validate-order",
          "EXPRESS",
          "arn:aws:states:us-east-1:123456789012:stateMachine:validate-order",
        ],
      );
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });

  it("prints each task token as its task waits, and that token answers the task", async () => {
    const { child, url, output, waitFor } = await startCli(["--definitions", examples]);
    try {
      const sfn = cliClient(url);
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:approval",
          input: '{"batchId":"b-7"}',
        }),
      );

      const [, token] = await waitFor(/^(AQCLocal[A-Za-z0-9_-]+)$/m);
      await sfn.send(
        new SendTaskSuccessCommand({
          taskToken: token,
          output: '{"approved":true,"approvedBy":"me"}',
        }),
      );
      const done = await waitForStatus(sfn, executionArn ?? "");
      sfn.destroy();

      assert.equal(done.status, "SUCCEEDED");
      assert.deepEqual(JSON.parse(done.output ?? "{}"), {
        batchId: "b-7",
        approvedBy: "me",
        approved: true,
      });
      assert.match(
        output(),
        /Task token of state AwaitApproval in arn:aws:states:us-east-1:123456789012:execution:approval:/,
      );
      assert.match(
        output(),
        /this endpoint is local and throw-away: in AWS a task token is a secret/,
      );
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });

  it("accepts only the configured key pair when one is given", async () => {
    const { child, url, output } = await startCli([
      "--access-key-id",
      "AKIDCUSTOM0000000001",
      "--secret-access-key",
      "custom-secret",
    ]);
    try {
      assert.doesNotMatch(output(), /default test key pair/);
      assert.match(
        output(),
        /^State machines: none yet \(--definitions DIR creates them at start/m,
      );
      const custom = new SFNClient({
        endpoint: url,
        region: "us-east-1",
        credentials: { accessKeyId: "AKIDCUSTOM0000000001", secretAccessKey: "custom-secret" },
      });
      await custom.send(new ListStateMachinesCommand({}));
      const fallback = new SFNClient({
        endpoint: url,
        region: "us-east-1",
        maxAttempts: 1,
        credentials: {
          accessKeyId: DEFAULT_ACCESS_KEY_ID,
          secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
        },
      });
      const e = await rejection(() => fallback.send(new ListStateMachinesCommand({})));
      assert.equal(e.name, "UnrecognizedClientException");
      custom.destroy();
      fallback.destroy();
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });
  it("--max-open-executions simulates the account's quota: starts past it get ExecutionLimitExceeded", async () => {
    const { child, url, output } = await startCli([
      "--max-open-executions",
      "0",
      "--definitions",
      path.join(fixtures, "local-endpoint-definitions"),
    ]);
    try {
      assert.match(output(), /Open executions limited to 0: StartExecution and RedriveExecution/);
      const sfn = cliClient(url, "us-east-1");
      const refused = await rejection(() =>
        sfn.send(
          new StartExecutionCommand({
            stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:hello",
          }),
        ),
      );
      assert.equal(refused.name, "ExecutionLimitExceeded");
      sfn.destroy();
    } finally {
      assert.equal(await stopCli(child), 0);
    }
  });
  it("--throttle-like-aws throttles status calls with the region's AWS bucket (250 outside the large regions)", async () => {
    const { child, url, output } = await startCli([
      "--region",
      "eu-central-1",
      "--throttle-like-aws",
      "--definitions",
      path.join(fixtures, "local-endpoint-definitions"),
    ]);
    try {
      assert.match(
        output(),
        /Throttling as AWS does in eu-central-1: DescribeExecution 250 tokens, 10 per second; StartExecution 800 tokens, 150 per second/,
      );
      const sfn = cliClient(url, "eu-central-1");
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: "arn:aws:states:eu-central-1:123456789012:stateMachine:hello",
          input: '{"who":"world"}',
        }),
      );
      // 400 calls: the bucket refills 10 per second, so 150 more than it holds stay throttled
      // unless sending them took 15 s (300 took 0.5 s here, 1.1 s with three busy loops).
      const sentFrom = performance.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 400 }, () =>
          sfn.send(new DescribeExecutionCommand({ executionArn: executionArn! })),
        ),
      );
      const throttled = outcomes.filter(
        (o) => o.status === "rejected" && (o.reason as Error).name === "ThrottlingException",
      );
      const accepted = outcomes.filter((o) => o.status === "fulfilled");
      assert.ok(throttled.length > 0, "a burst of 400 exceeds the bucket of 250");
      assert.ok(accepted.length >= 250, `the full bucket passes (${accepted.length})`);
      assert.equal(accepted.length + throttled.length, 400);
      // No more than the bucket and what it refilled meanwhile (a bucket of 300 would pass more).
      const refilled = Math.ceil(((performance.now() - sentFrom) / 1000) * 10);
      assert.ok(accepted.length <= 250 + refilled, `${accepted.length} passed`);
      sfn.destroy();
    } finally {
      await stopCli(child);
    }
  });
});

function runAws(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("aws", args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const awsOnPath = (process.env["PATH"] ?? "").split(path.delimiter).some((dir) => {
  try {
    readFileSync(path.join(dir, "aws"));
    return true;
  } catch {
    return false;
  }
});

describe("AWS CLI", () => {
  it("gets the same answers from `aws stepfunctions`", {
    skip: awsOnPath ? false : "the AWS CLI (`aws`) is not on PATH",
  }, async () => {
    const ep: LocalEndpoint = await withEndpoint();
    try {
      const machine = ep.createStateMachine({
        name: "cli-machine",
        definition: {
          StartAt: "Echo",
          States: { Echo: { Type: "Pass", Parameters: { "echo.$": "$.say" }, End: true } },
        },
      });
      const env: NodeJS.ProcessEnv = {
        PATH: process.env["PATH"],
        HOME: process.env["HOME"],
        AWS_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: DEFAULT_SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_CONFIG_FILE: path.join(fixtures, "does-not-exist"),
        AWS_SHARED_CREDENTIALS_FILE: path.join(fixtures, "does-not-exist"),
      };
      const common = ["--endpoint-url", ep.url, "--output", "json"];
      const described = await runAws(
        ["stepfunctions", "describe-state-machine", "--state-machine-arn", machine, ...common],
        env,
      );
      assert.equal(described.code, 0, described.stderr);
      const d = JSON.parse(described.stdout) as Record<string, unknown>;
      assert.equal(d["stateMachineArn"], machine);
      assert.equal(d["name"], "cli-machine");
      assert.equal(d["status"], "ACTIVE");
      assert.equal(d["type"], "STANDARD");
      assert.deepEqual(
        JSON.parse(String(d["definition"])),
        JSON.parse(
          JSON.stringify({
            StartAt: "Echo",
            States: { Echo: { Type: "Pass", Parameters: { "echo.$": "$.say" }, End: true } },
          }),
        ),
      );
      // CLI v1 prints timestamps as received: epoch seconds with a fraction, as the service sends them.
      const created = Number(d["creationDate"]);
      assert.ok(Math.abs(created * 1000 - Date.now()) < 60_000, String(d["creationDate"]));

      const started = await runAws(
        [
          "stepfunctions",
          "start-execution",
          "--state-machine-arn",
          machine,
          "--name",
          "from-cli",
          "--input",
          '{"say":"hi"}',
          ...common,
        ],
        env,
      );
      assert.equal(started.code, 0, started.stderr);
      const s = JSON.parse(started.stdout) as Record<string, unknown>;
      assert.equal(
        s["executionArn"],
        "arn:aws:states:us-east-1:123456789012:execution:cli-machine:from-cli",
      );
      const snapshot = await ep.waitForExecution(String(s["executionArn"]));
      assert.equal(snapshot.output, '{"echo":"hi"}');
      assert.equal(
        ep.requests.filter((r) => r.operation === "StartExecution" && r.status === 200).length,
        1,
      );

      // The SDK sees the same execution.
      const sfn = sfnClient(ep);
      const viaSdk = await sfn.send(
        new DescribeExecutionCommand({ executionArn: String(s["executionArn"]) }),
      );
      assert.equal(viaSdk.status, "SUCCEEDED");
      sfn.destroy();

      const missing = await runAws(
        [
          "stepfunctions",
          "describe-execution",
          "--execution-arn",
          "arn:aws:states:us-east-1:123456789012:execution:cli-machine:nope",
          ...common,
        ],
        env,
      );
      assert.notEqual(missing.code, 0);
      assert.match(
        missing.stderr,
        /\(ExecutionDoesNotExist\) when calling the DescribeExecution operation/,
      );

      const badKey = await runAws(["stepfunctions", "list-state-machines", ...common], {
        ...env,
        AWS_SECRET_ACCESS_KEY: "wrong",
      });
      assert.match(badKey.stderr, /\(InvalidSignatureException\)/);
    } finally {
      await ep.close();
    }
  });
});

describe("TLS", () => {
  it("serves HTTPS when given a key and certificate", async () => {
    const cert = readFileSync(path.join(fixtures, "local-endpoint-cert.pem"));
    const key = readFileSync(path.join(fixtures, "local-endpoint-key.pem"));
    const ep = await withEndpoint({ tls: { key, cert } });
    try {
      assert.match(ep.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const httpsAgent = new https.Agent({ ca: cert });
      const sfn = sfnClient(ep, { requestHandler: new NodeHttpHandler({ httpsAgent }) });
      const machine = ep.createStateMachine({
        name: "tls",
        definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
      });
      const d = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machine }));
      assert.equal(d.name, "tls");
      const sts = new STSClient({
        endpoint: ep.url,
        region: "us-east-1",
        credentials: ep.credentials,
        requestHandler: new NodeHttpHandler({ httpsAgent }),
      });
      const who = await sts.send(new GetCallerIdentityCommand({}));
      assert.equal(who.Account, "123456789012");
      sfn.destroy();
      sts.destroy();
      httpsAgent.destroy();
    } finally {
      await ep.close();
    }
  });
});
