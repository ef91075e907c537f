/**
 * The AWS boundary as the actions use it: every operation of the StepFunctions view on the
 * product's own clients (createAwsSession) against the local endpoint, with real SigV4;
 * clock skew corrected by the SDK; AWS_MAX_ATTEMPTS counted at the endpoint; and the
 * endpoints the SDK resolves (FIPS, dual-stack, ISO, GovCloud, the sync- host), seen as
 * the CONNECT requests a real proxy receives.
 */
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  type LocalEndpoint,
  startLocalEndpoint,
  type TaskTokenInfo,
} from "../../local/endpoint/index.ts";
import { classifyError } from "../../src/aws/classify.ts";
import { type AwsConfig, createAwsSession } from "../../src/aws/clients.ts";
import { readEnvironment } from "../../src/config/environment.ts";
import { resolveConfig } from "../../src/config/resolve.ts";
import { readFields } from "../../src/fields/read.ts";
import { validate } from "../../src/fields/validate.ts";
import { parseProxyConfig } from "../../src/proxy/config.ts";
import { runBundle } from "../helpers/bundle.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function configFor(ep: LocalEndpoint, extra: Partial<AwsConfig> = {}): AwsConfig {
  return {
    region: ep.region,
    regionSource: "test",
    endpointUrl: ep.url,
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts: 3,
    retryMode: "standard",
    credentials: { kind: "static", ...ep.credentials, source: "test" },
    sessionName: "test",
    http: {},
    ...extra,
  };
}

describe("the StepFunctions view against the local endpoint (real SigV4)", () => {
  let ep: LocalEndpoint;
  const tokens: TaskTokenInfo[] = [];
  let machine: string;
  let express: string;
  let failing: string;

  before(async () => {
    ep = await startLocalEndpoint();
    ep.onTaskToken((info) => tokens.push(info));
    machine = ep.createStateMachine({
      name: "contract",
      definition: {
        StartAt: "Ask",
        States: {
          Ask: {
            Type: "Task",
            Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            Parameters: { "token.$": "$$.Task.Token" },
            End: true,
          },
        },
      },
    });
    express = ep.createStateMachine({
      name: "contractExpress",
      type: "EXPRESS",
      definition: {
        StartAt: "P",
        States: { P: { Type: "Pass", Result: { sync: true }, End: true } },
      },
    });
    failing = ep.createStateMachine({
      name: "contractFails",
      definition: { StartAt: "F", States: { F: { Type: "Fail", Error: "E", Cause: "C" } } },
    });
  });
  after(() => ep.close());

  async function nextToken(): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const t = tokens.shift();
      if (t) return t.taskToken;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("no task token");
  }

  test("every operation, signed with the product's credentials and answered in the SDK's shapes", async () => {
    const session = createAwsSession(configFor(ep), quiet);
    try {
      const { sfn } = session;
      ep.clearRequests();
      const started = await sfn.startExecution({
        stateMachineArn: machine,
        name: "c1",
        input: "{}",
      });
      assert.ok(started.startDate instanceof Date);
      const described = await sfn.describeExecution({ executionArn: started.executionArn });
      assert.equal(described.status, "RUNNING");
      const sm = await sfn.describeStateMachine({ stateMachineArn: machine });
      assert.equal(sm.name, "contract");
      const forExecution = await sfn.describeStateMachineForExecution({
        executionArn: started.executionArn,
      });
      assert.equal(forExecution.stateMachineArn, machine);
      const token1 = await nextToken();
      await sfn.sendTaskHeartbeat({ taskToken: token1 });
      await sfn.sendTaskSuccess({ taskToken: token1, output: '{"done":1}' });
      assert.equal((await ep.waitForExecution(String(started.executionArn))).status, "SUCCEEDED");
      const second = await sfn.startExecution({ stateMachineArn: machine, name: "c2" });
      await nextToken();
      await sfn.stopExecution({ executionArn: second.executionArn, error: "Stop", cause: "test" });
      const history = await sfn.getExecutionHistory({ executionArn: second.executionArn });
      assert.ok((history.events ?? []).some((e) => e.type === "ExecutionAborted"));
      assert.ok((history.events ?? []).every((e) => e.timestamp instanceof Date));
      const third = await sfn.startExecution({ stateMachineArn: machine, name: "c3" });
      await sfn.sendTaskFailure({
        taskToken: await nextToken(),
        error: "Worker.Broke",
        cause: "x",
      });
      const failed = await ep.waitForExecution(String(third.executionArn));
      assert.equal(failed.status, "FAILED");
      const redriven = await sfn.redriveExecution({ executionArn: third.executionArn });
      assert.ok(redriven.redriveDate instanceof Date);
      const sync = await sfn.startSyncExecution({ stateMachineArn: express, input: "{}" });
      assert.equal(sync.status, "SUCCEEDED");
      assert.equal(sync.output, '{"sync":true}');

      const operations = ep.requests.map((r) => r.operation);
      for (const op of [
        "StartExecution",
        "DescribeExecution",
        "DescribeStateMachine",
        "DescribeStateMachineForExecution",
        "SendTaskHeartbeat",
        "SendTaskSuccess",
        "StopExecution",
        "GetExecutionHistory",
        "SendTaskFailure",
        "RedriveExecution",
        "StartSyncExecution",
      ]) {
        assert.ok(operations.includes(op), `${op} reached the endpoint`);
      }
      assert.ok(
        ep.requests.every((r) => r.status === 200 && r.accessKeyId === ep.credentials.accessKeyId),
        JSON.stringify(ep.requests.filter((r) => r.status !== 200)),
      );
    } finally {
      session.destroy();
    }
  });

  test("AWS errors keep the SDK's class and classify once into the product's exit codes", async () => {
    const session = createAwsSession(configFor(ep), quiet);
    try {
      const error = await session.sfn
        .describeExecution({
          executionArn: `${failing.replace(":stateMachine:", ":execution:")}:none`,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.equal((error as { name?: string }).name, "ExecutionDoesNotExist");
      assert.equal((error as { $fault?: string }).$fault, "client");
      assert.equal(classifyError(error).exitCode, 20);
      const bad = createAwsSession(
        configFor(ep, {
          credentials: {
            kind: "static",
            accessKeyId: "test",
            secretAccessKey: "not-the-secret",
            source: "t",
          },
        }),
        quiet,
      );
      const denied = await bad.sfn.describeStateMachine({ stateMachineArn: failing }).then(
        () => undefined,
        (e: unknown) => classifyError(e),
      );
      bad.destroy();
      assert.equal(denied?.exitCode, 2, denied?.message);
    } finally {
      session.destroy();
    }
  });

  // Step Functions allows 5 minutes between the signature's time and its own.
  for (const minutes of [20, -20, 6, -6]) {
    test(`the endpoint's clock ${minutes > 0 ? "ahead" : "behind"} by ${Math.abs(minutes)} minutes: the SDK corrects the skew and the call succeeds`, async () => {
      ep.setClockOffset(minutes * 60_000);
      const session = createAwsSession(configFor(ep), quiet);
      try {
        ep.clearRequests();
        const reply = await session.sfn.describeStateMachine({ stateMachineArn: failing });
        assert.equal(reply.name, "contractFails");
        const calls = ep.requests.filter((r) => r.operation === "DescribeStateMachine");
        assert.deepEqual(
          calls.map((r) => r.errorCode ?? r.status),
          ["InvalidSignatureException", 200],
          "one rejected signature, then the corrected one",
        );
        // The one-attempt client of the waiting loop signs with the offset the other learned.
        ep.clearRequests();
        const once = await session.sfnOnce.describeStateMachine({ stateMachineArn: failing });
        assert.equal(once.name, "contractFails");
        assert.deepEqual(
          ep.requests.map((r) => r.errorCode ?? r.status),
          [200],
          "no rejected signature for the one-attempt client",
        );
      } finally {
        session.destroy();
        ep.setClockOffset(0);
      }
    });
  }

  test("the bundle starts an execution with the endpoint's clock 20 minutes ahead: exit 0", async () => {
    ep.setClockOffset(20 * 60_000);
    try {
      const run = await runBundle({
        fields: {
          endpoint_url: ep.url,
          credentials: {
            user: ep.credentials.accessKeyId,
            password: ep.credentials.secretAccessKey,
          },
          state_machine_arn: failing,
        },
      });
      assert.equal(run.code, 0, run.stderr);
    } finally {
      ep.setClockOffset(0);
    }
  });

  for (const [setting, expected] of [
    [undefined, 3],
    ["1", 1],
    ["5", 5],
  ] as const) {
    test(`AWS_MAX_ATTEMPTS=${setting ?? "(unset)"}: ${expected} StartExecution attempts reach an endpoint answering 500`, async () => {
      ep.faults.set({ errorRate5xx: 1, operations: ["StartExecution"] });
      ep.clearRequests();
      try {
        const run = await runBundle({
          fields: {
            endpoint_url: ep.url,
            credentials: {
              user: ep.credentials.accessKeyId,
              password: ep.credentials.secretAccessKey,
            },
            state_machine_arn: failing,
          },
          env: setting === undefined ? {} : { AWS_MAX_ATTEMPTS: setting },
          timeoutMs: 60_000,
        });
        assert.equal(run.code, 10, run.stderr);
        const attempts = ep.requests.filter((r) => r.operation === "StartExecution");
        assert.equal(attempts.length, expected);
        assert.ok(attempts.every((r) => r.fault === "5xx"));
      } finally {
        ep.faults.reset();
      }
    });
  }
});

/** A proxy that records each CONNECT target and refuses it, so no request leaves the machine. */
async function recordingProxy(): Promise<{
  url: string;
  targets: string[];
  close(): Promise<void>;
}> {
  const targets: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const target = /^CONNECT (\S+) HTTP/.exec(head)?.[1];
      if (target) targets.push(target);
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("endpoints as the SDK resolves them, seen by a proxy", () => {
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  before(async () => {
    proxy = await recordingProxy();
  });
  after(() => proxy.close());

  /** The configuration the program resolves from these fields and variables. */
  async function configOf(arn: string, vars: Record<string, string>): Promise<AwsConfig> {
    const raw = readFields({ UE_FIELD_STATE_MACHINE_ARN: arn }, []);
    const task = validate(raw.values, raw.problems);
    const { settings, problems } = await readEnvironment({
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      ...vars,
    });
    assert.deepEqual(problems, []);
    const resolved = resolveConfig(task, settings).aws;
    const parsed = parseProxyConfig({ proxy_type: ["HTTP"], proxy: proxy.url });
    assert.ok(parsed.config);
    return {
      ...resolved,
      credentials: {
        kind: "static",
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "x".repeat(40),
        source: "t",
      },
      maxAttempts: 1,
      http: { ...resolved.http, proxy: parsed.config },
    };
  }

  // [case, state machine ARN, variables, operation, expected host:port]
  const cases: [string, string, Record<string, string>, "start" | "sync", string][] = [
    [
      "standard",
      "arn:aws:states:us-east-1:123456789012:stateMachine:m",
      {},
      "start",
      "states.us-east-1.amazonaws.com:443",
    ],
    [
      "FIPS",
      "arn:aws:states:us-east-1:123456789012:stateMachine:m",
      { AWS_USE_FIPS_ENDPOINT: "true" },
      "start",
      "states-fips.us-east-1.amazonaws.com:443",
    ],
    [
      "dual-stack",
      "arn:aws:states:eu-west-1:123456789012:stateMachine:m",
      { AWS_USE_DUALSTACK_ENDPOINT: "true" },
      "start",
      "states.eu-west-1.api.aws:443",
    ],
    [
      "GovCloud",
      "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:m",
      {},
      "start",
      "states.us-gov-west-1.amazonaws.com:443",
    ],
    [
      "GovCloud FIPS",
      "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:m",
      { AWS_USE_FIPS_ENDPOINT: "true" },
      "start",
      "states.us-gov-west-1.amazonaws.com:443",
    ],
    [
      "ISO (C2S)",
      "arn:aws-iso:states:us-iso-east-1:123456789012:stateMachine:m",
      {},
      "start",
      "states.us-iso-east-1.c2s.ic.gov:443",
    ],
    [
      "ISO-B (SC2S)",
      "arn:aws-iso-b:states:us-isob-east-1:123456789012:stateMachine:m",
      {},
      "start",
      "states.us-isob-east-1.sc2s.sgov.gov:443",
    ],
    [
      "China",
      "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m",
      {},
      "start",
      "states.cn-north-1.amazonaws.com.cn:443",
    ],
    [
      "StartSyncExecution",
      "arn:aws:states:us-east-1:123456789012:stateMachine:m",
      {},
      "sync",
      "sync-states.us-east-1.amazonaws.com:443",
    ],
  ];
  for (const [name, arn, vars, operation, expected] of cases) {
    test(`${name}: ${expected}`, async () => {
      const session = createAwsSession(await configOf(arn, vars), quiet);
      const before = proxy.targets.length;
      try {
        const error = await (operation === "sync"
          ? session.sfn.startSyncExecution({ stateMachineArn: arn })
          : session.sfn.startExecution({ stateMachineArn: arn })
        ).then(
          () => undefined,
          (e: unknown) => classifyError(e),
        );
        assert.equal(error?.exitCode, 11, "the proxy refused the tunnel");
        assert.deepEqual(proxy.targets.slice(before), [expected]);
      } finally {
        session.destroy();
      }
    });
  }
});
