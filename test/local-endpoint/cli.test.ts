import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
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
import { rejection, sfnClient, waitForStatus, withEndpoint } from "./helpers.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = path.join(root, "test/fixtures");

/** Starts the command-line endpoint and resolves with its URL once it prints it. */
async function startCli(
  args: string[],
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "local/endpoint/cli.ts", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${out}`)), 20_000);
    child.stdout?.on("data", () => {
      const m = /^Local Step Functions endpoint listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(
        out,
      );
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code}: ${out}`));
    });
  });
  return { child, url, output: () => out };
}

async function stopCli(child: ChildProcess): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  return code;
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

  it("accepts only the configured key pair when one is given", async () => {
    const { child, url, output } = await startCli([
      "--access-key-id",
      "AKIDCUSTOM0000000001",
      "--secret-access-key",
      "custom-secret",
    ]);
    try {
      assert.doesNotMatch(output(), /default test key pair/);
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
