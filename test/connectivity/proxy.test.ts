/**
 * Real AWS SDK clients, through real proxies (proxy-chain), to a real HTTPS endpoint:
 * each proxy type works and is really used, and every failure gets the right exit code
 * without leaking a secret.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { inspect } from "node:util";
import {
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { classifyError } from "../../src/aws/classify.ts";
import { type AwsConfig, createAwsSession } from "../../src/aws/clients.ts";
import { readEnvironment } from "../../src/config/environment.ts";
import { validationErrorFrom } from "../../src/errors.ts";
import { createHttpHandler, type HttpHandlerOptions } from "../../src/aws/http-handler.ts";
import type { ProductError } from "../../src/errors.ts";
import { type ProxyConfig, type ProxyFields, parseProxyConfig } from "../../src/proxy/config.ts";
import { type TestCa, createTestCa } from "../helpers/certificates.ts";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { deadPort, type TestProxy, startTestProxy } from "../helpers/proxies.ts";

const PROXY_USER = "ops-proxy";
const PROXY_PASSWORD = "CANARY-proxy-pw-7d1e";
const SECRET_KEY = "CANARY-secret-key-93fb";
const CREDENTIALS = { accessKeyId: "AKIDCONNECTIVITY", secretAccessKey: SECRET_KEY };

let ca: TestCa;
let otherCa: TestCa;
let aws: LocalEndpoint;
let plainAws: LocalEndpoint;
let strangerAws: LocalEndpoint;
let httpProxy: TestProxy;
let httpProxy2: TestProxy;
let httpsProxy: TestProxy;
let authProxy: TestProxy;
let nothing: number;
const closers: (() => unknown)[] = [];

before(async () => {
  ca = createTestCa("trusted");
  otherCa = createTestCa("stranger");
  // The local Step Functions endpoint checks every SigV4 signature against the canary key.
  const credentials = [CREDENTIALS];
  aws = await startLocalEndpoint({ tls: ca.issue("aws"), credentials });
  plainAws = await startLocalEndpoint({ credentials });
  strangerAws = await startLocalEndpoint({ tls: otherCa.issue("stranger"), credentials });
  httpProxy = await startTestProxy({});
  httpProxy2 = await startTestProxy({});
  httpsProxy = await startTestProxy({ tls: ca.issue("proxy") });
  authProxy = await startTestProxy({
    tls: ca.issue("auth-proxy"),
    auth: { user: PROXY_USER, password: PROXY_PASSWORD },
  });
  nothing = await deadPort();
  for (const s of [aws, plainAws, strangerAws, httpProxy, httpProxy2, httpsProxy, authProxy])
    closers.push(() => s.close());
  closers.push(
    () => ca.remove(),
    () => otherCa.remove(),
  );
});

after(async () => {
  for (const close of closers) await close();
});

/** The calls the endpoint received since the log held `since` entries: "service:Operation status". */
function callsSince(endpoint: LocalEndpoint, since: number): string[] {
  return endpoint.requests.slice(since).map((r) => `${r.service}:${r.operation} ${r.status}`);
}

function proxyFrom(fields: ProxyFields): ProxyConfig {
  const result = parseProxyConfig(fields);
  assert.ok(result.config, JSON.stringify(result.problems));
  return result.config;
}

const viaHttp = (): ProxyFields => ({ proxy_type: "HTTP", proxy: httpProxy.url });
const viaHttps = (): ProxyFields => ({
  proxy_type: "HTTPS",
  proxy: httpsProxy.url,
  proxy_ca_bundle_file: ca.certFile,
});
const viaAuth = (password = PROXY_PASSWORD): ProxyFields => ({
  proxy_type: "HTTPS With Credentials",
  proxy: authProxy.url,
  proxy_ca_bundle_file: ca.certFile,
  proxy_credentials: { user: PROXY_USER, password },
});

interface Outcome {
  ok: boolean;
  error?: ProductError;
  raw?: unknown;
}

/** One ListStateMachines call with a real SFNClient on createHttpHandler(...). */
async function listStateMachines(
  endpoint: string,
  proxy: ProxyFields | undefined,
  options: Omit<HttpHandlerOptions, "proxy"> = {},
): Promise<Outcome> {
  const config = proxy ? proxyFrom(proxy) : undefined;
  const client = new SFNClient({
    region: "us-east-1",
    endpoint,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: createHttpHandler({ proxy: config, endpointCa: ca.cert, ...options }),
  });
  try {
    await client.send(new ListStateMachinesCommand({}));
    return { ok: true };
  } catch (raw) {
    // Only the operation: the handler itself tells the classifier the endpoint and the proxy.
    const error = classifyError(raw, { operation: "ListStateMachines" });
    return { ok: false, error, raw };
  } finally {
    client.destroy();
  }
}

function assertNoCanary(error: unknown): void {
  const views = [
    String(error),
    (error as Error).message,
    (error as Error).stack ?? "",
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
  ];
  for (const view of views) {
    assert.doesNotMatch(view, /CANARY/, `canary in: ${view.slice(0, 300)}`);
    assert.ok(!view.includes(Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64")));
  }
}

describe("each proxy type carries the requests", () => {
  test("no proxy: straight to the endpoint", async () => {
    const before = aws.requests.length;
    const outcome = await listStateMachines(aws.url, undefined);
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.deepEqual(callsSince(aws, before), ["states:ListStateMachines 200"]);
  });

  const cases: [string, () => ProxyFields, () => TestProxy][] = [
    ["HTTP (plain connection to the proxy)", viaHttp, () => httpProxy],
    ["HTTPS (TLS to the proxy, CA bundle)", viaHttps, () => httpsProxy],
    ["HTTPS With Credentials (TLS and Basic authentication)", () => viaAuth(), () => authProxy],
  ];
  for (const [name, fields, proxy] of cases) {
    test(name, async () => {
      const tunnels = proxy().served();
      const calls = aws.requests.length;
      const outcome = await listStateMachines(aws.url, fields());
      assert.equal(outcome.ok, true, outcome.error?.message);
      assert.equal(proxy().served(), tunnels + 1, "the request went through the proxy");
      assert.deepEqual(callsSince(aws, calls), ["states:ListStateMachines 200"]);
    });
  }

  test("STS and Step Functions share one handler; keep-alive reuses the tunnel", async () => {
    const config = proxyFrom(viaAuth());
    const requestHandler = createHttpHandler({ proxy: config, endpointCa: ca.cert });
    const common = {
      region: "us-east-1",
      endpoint: aws.url,
      credentials: CREDENTIALS,
      requestHandler,
    };
    const sts = new STSClient(common);
    const sfn = new SFNClient(common);
    const tunnels = authProxy.served();
    const calls = aws.requests.length;
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Account, aws.accountId);
    const stateMachineArn = aws.createStateMachine({
      name: "connectivity",
      definition: JSON.stringify({
        StartAt: "Done",
        States: { Done: { Type: "Pass", End: true } },
      }),
    });
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: "{}" }));
    const execution = await sfn.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    );
    assert.equal(execution.stateMachineArn, stateMachineArn);
    assert.deepEqual(callsSince(aws, calls), [
      "sts:GetCallerIdentity 200",
      "states:StartExecution 200",
      "states:DescribeExecution 200",
    ]);
    assert.equal(authProxy.served(), tunnels + 1, "three calls, one tunnel");
    requestHandler.destroy();
  });

  test("two URLs: http:// endpoints through the http entry, https:// through the https entry", async () => {
    const fields: ProxyFields = {
      proxy_type: "HTTP",
      proxy: `https://127.0.0.1:${httpProxy2.port}, http://127.0.0.1:${httpProxy.port}`,
    };
    const first = httpProxy.served();
    const second = httpProxy2.served();
    assert.equal((await listStateMachines(plainAws.url, fields)).ok, true);
    assert.equal(httpProxy.served(), first + 1);
    assert.equal(httpProxy2.served(), second);
    assert.equal((await listStateMachines(aws.url, fields)).ok, true);
    assert.equal(httpProxy.served(), first + 1);
    assert.equal(httpProxy2.served(), second + 1);
  });

  test("a plain http:// endpoint through an HTTPS proxy with credentials", async () => {
    const outcome = await listStateMachines(plainAws.url, viaAuth());
    assert.equal(outcome.ok, true, outcome.error?.message);
  });
});

/** A TCP server that accepts connections and never says a word; records their closing. */
async function silentServer(): Promise<{
  port: number;
  closed: () => number;
  close: () => Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let closed = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    // Read (and ignore) what arrives, so the client's closing is seen.
    socket.resume();
    socket.on("close", () => {
      closed++;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    closed: () => closed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A proxy that answers every CONNECT with one fixed status, as Squid does for a dead endpoint. */
async function answeringProxy(
  status: string,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((socket) => {
    socket.once("data", () =>
      socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("failures are classified: 11 for the proxy, 10 for the endpoint", () => {
  // One line per case: endpoint, proxy fields, expected exit code, message.
  const cases: [string, () => string, () => ProxyFields | undefined, number, RegExp][] = [
    [
      "HTTPS proxy without the CA bundle",
      () => aws.url,
      () => ({ proxy_type: "HTTPS", proxy: httpsProxy.url }),
      11,
      /cannot connect to the proxy https:\/\/127\.0\.0\.1:\d+: TLS failure: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); give the CA .* in Proxy CA Bundle File/,
    ],
    [
      "HTTPS proxy with the wrong CA bundle",
      () => aws.url,
      () => ({
        proxy_type: "HTTPS",
        proxy: httpsProxy.url,
        proxy_ca_bundle_file: otherCa.certFile,
      }),
      11,
      /TLS failure.*check that Proxy CA Bundle File holds the CA/,
    ],
    // A TLS-only proxy closes a plain connection without a word, as a working proxy does for a
    // dead endpoint; the handler then tries a TLS handshake with it: it answers, so 11.
    [
      "TLS-only proxy with Proxy Type HTTP",
      () => aws.url,
      () => ({ proxy_type: "HTTP", proxy: httpsProxy.url.replace("https:", "http:") }),
      11,
      /the proxy http:\/\/127\.0\.0\.1:\d+: it only speaks TLS .*choose Proxy Type HTTPS/,
    ],
    [
      "plain proxy with Proxy Type HTTPS",
      () => aws.url,
      () => ({ proxy_type: "HTTPS", proxy: httpProxy.url.replace("http:", "https:") }),
      11,
      /cannot connect to the proxy https:\/\/127\.0\.0\.1:\d+: TLS failure: wrong version number \(EPROTO\); the proxy may not speak TLS/,
    ],
    [
      "wrong proxy password",
      () => aws.url,
      () => viaAuth("CANARY-wrong-pw-55aa"),
      11,
      /refused the credentials \(HTTP 407 Proxy Authentication Required\): check the Proxy Credentials field/,
    ],
    [
      "no credentials for a proxy that wants them",
      () => aws.url,
      () => ({ proxy_type: "HTTPS", proxy: authProxy.url, proxy_ca_bundle_file: ca.certFile }),
      11,
      /requires authentication \(HTTP 407/,
    ],
    [
      "wrong password, plain http:// endpoint",
      () => plainAws.url,
      () => viaAuth("CANARY-wrong-pw-55aa"),
      11,
      /HTTP 407/,
    ],
    [
      "proxy down",
      () => aws.url,
      () => ({ proxy_type: "HTTP", proxy: `http://127.0.0.1:${nothing}` }),
      11,
      /cannot connect to the proxy http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)/,
    ],
    [
      "HTTPS proxy down",
      () => aws.url,
      () => ({ ...viaAuth(), proxy: `https://127.0.0.1:${nothing}` }),
      11,
      /connection refused \(ECONNREFUSED\)/,
    ],
    [
      "proxy down, plain http:// endpoint",
      () => plainAws.url,
      () => ({ proxy_type: "HTTP", proxy: `http://127.0.0.1:${nothing}` }),
      11,
      /connection refused/,
    ],
    [
      "proxy host unknown",
      () => aws.url,
      () => ({ proxy_type: "HTTP", proxy: "http://proxy.ue-test.invalid:3128" }),
      11,
      /cannot connect to the proxy http:\/\/proxy\.ue-test\.invalid:3128: (host name not found \(ENOTFOUND\)|temporary DNS failure)/,
    ],
    [
      "endpoint down behind a working proxy",
      () => `https://127.0.0.1:${nothing}`,
      viaHttp,
      10,
      /through the proxy http:\/\/127\.0\.0\.1:\d+: the proxy closed the tunnel/,
    ],
    [
      "endpoint down behind an HTTPS proxy with credentials",
      () => `https://127.0.0.1:${nothing}`,
      () => viaAuth(),
      10,
      /the proxy closed the tunnel/,
    ],
    [
      "plain endpoint down behind a working proxy",
      () => `http://127.0.0.1:${nothing}`,
      viaHttp,
      10,
      /through the proxy .*: the proxy could not reach it \(it answered HTTP 594\)/,
    ],
    [
      "endpoint host unknown behind a working proxy",
      () => "https://states.ue-test.invalid",
      viaHttp,
      10,
      /https:\/\/states\.ue-test\.invalid through the proxy/,
    ],
    [
      "endpoint down, no proxy",
      () => `https://127.0.0.1:${nothing}`,
      () => undefined,
      10,
      /cannot connect to https:\/\/127\.0\.0\.1:\d+ \(ListStateMachines\): connection refused \(ECONNREFUSED\)/,
    ],
    [
      "endpoint host unknown, no proxy",
      () => "https://states.ue-test.invalid",
      () => undefined,
      10,
      /(host name not found \(ENOTFOUND\)|temporary DNS failure \(EAI_AGAIN\))/,
    ],
    [
      "endpoint certificate from an unknown CA",
      () => strangerAws.url,
      () => undefined,
      10,
      /TLS failure: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
    ],
    [
      "endpoint certificate from an unknown CA, through a proxy",
      () => strangerAws.url,
      viaHttps,
      10,
      /through the proxy https:.*TLS failure/,
    ],
  ];
  for (const [name, endpoint, fields, code, message] of cases) {
    test(name, async () => {
      const outcome = await listStateMachines(endpoint(), fields());
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.exitCode, code, outcome.error?.message);
      assert.match(outcome.error?.message ?? "", message);
      assertNoCanary(outcome.error);
    });
  }

  for (const status of ["502 Bad Gateway", "503 Service Unavailable", "504 Gateway Timeout"]) {
    test(`a proxy answering CONNECT with ${status}: the endpoint is unreachable (10)`, async () => {
      const proxy = await answeringProxy(status);
      try {
        const outcome = await listStateMachines(aws.url, {
          proxy_type: "HTTP",
          proxy: `http://127.0.0.1:${proxy.port}`,
        });
        assert.equal(outcome.error?.exitCode, 10, outcome.error?.message);
        assert.match(
          outcome.error?.message ?? "",
          new RegExp(`could not reach it \\(it answered HTTP ${status.slice(0, 3)}\\)`),
        );
      } finally {
        await proxy.close();
      }
    });
  }

  test("a proxy answering CONNECT with 403: the proxy refuses (11)", async () => {
    const proxy = await answeringProxy("403 Forbidden");
    try {
      const outcome = await listStateMachines(aws.url, {
        proxy_type: "HTTP",
        proxy: `http://127.0.0.1:${proxy.port}`,
      });
      assert.equal(outcome.error?.exitCode, 11, outcome.error?.message);
      assert.match(outcome.error?.message ?? "", /refused the tunnel .*HTTP 403/);
    } finally {
      await proxy.close();
    }
  });
});

// Which timeout ended the call is read from its message, written when that timer fired (the
// SDK handler's own for the request timeout, the proxy agent's for the CONNECT): the
// configured one, not a default. A timeout not applied at all never ends the call; the
// tests' time limit is only the guard against that hang, far above what they take.
const HANG_GUARD = { timeout: 60_000 };

describe("timeouts end hung connections", () => {
  test("a hanging endpoint ends within the request timeout (10)", HANG_GUARD, async () => {
    aws.faults.set({ hang: true });
    try {
      const outcome = await listStateMachines(aws.url, undefined, { requestTimeoutMs: 800 });
      assert.equal(outcome.error?.exitCode, 10, outcome.error?.message);
      assert.match(
        outcome.error?.message ?? "",
        /no (complete answer|data) (within|for) 800 ms \(request timeout\)/,
      );
    } finally {
      aws.faults.reset();
    }
  });

  test(
    "a hanging endpoint behind a working proxy ends within the request timeout (10)",
    HANG_GUARD,
    async () => {
      aws.faults.set({ hang: true });
      try {
        const outcome = await listStateMachines(aws.url, viaAuth(), { requestTimeoutMs: 800 });
        assert.equal(outcome.error?.exitCode, 10, outcome.error?.message);
        assert.match(outcome.error?.message ?? "", /through the proxy https:.*request timeout/);
        assertNoCanary(outcome.error);
      } finally {
        aws.faults.reset();
      }
    },
  );

  test(
    "a proxy that never answers CONNECT ends within the connect timeout (11) and its socket is released",
    HANG_GUARD,
    async () => {
      const silent = await silentServer();
      try {
        const outcome = await listStateMachines(
          aws.url,
          { proxy_type: "HTTP", proxy: `http://127.0.0.1:${silent.port}` },
          { connectTimeoutMs: 500, requestTimeoutMs: 5_000 },
        );
        assert.equal(outcome.error?.exitCode, 11, outcome.error?.message);
        assert.match(
          outcome.error?.message ?? "",
          /cannot connect to the proxy http:\/\/127\.0\.0\.1:\d+: no (tunnel|connection) .*within 500 ms/,
        );
        for (let i = 0; i < 50 && silent.closed() === 0; i++)
          await new Promise((r) => setTimeout(r, 20));
        assert.equal(silent.closed(), 1, "the connection to the proxy was closed");
      } finally {
        await silent.close();
      }
    },
  );

  test("the timeouts can be lowered through the environment", async () => {
    aws.faults.set({ hang: true });
    try {
      const { settings, problems } = await readEnvironment({ UE_AWS_REQUEST_TIMEOUT_MS: "700" });
      assert.deepEqual(problems, []);
      const outcome = await listStateMachines(aws.url, undefined, {
        requestTimeoutMs: settings.requestTimeoutMs,
      });
      assert.match(outcome.error?.message ?? "", /700 ms \(request timeout\)/);
    } finally {
      aws.faults.reset();
    }
  });

  test("an invalid environment override is a validation error (20)", async () => {
    const { problems } = await readEnvironment({ UE_AWS_CONNECT_TIMEOUT_MS: "soon" });
    const error = validationErrorFrom(problems);
    assert.equal(error.exitCode, 20);
    assert.match(error.message, /UE_AWS_CONNECT_TIMEOUT_MS: must be a whole number/);
  });
});

describe("AWS answers through the proxy keep their own meaning", () => {
  // One line per case: arrange (returns an undo), the call, exit code, message.
  const arn = () => `arn:aws:states:us-east-1:${aws.accountId}:execution:nothing:here`;
  const cases: [string, () => () => void, (c: SFNClient) => Promise<unknown>, number, RegExp][] = [
    [
      "access denied",
      () => aws.deny({ operation: "ListStateMachines" }),
      (c) => c.send(new ListStateMachinesCommand({})),
      3,
      /AccessDeniedException/,
    ],
    [
      "wrong secret key (real SigV4 check)",
      () => () => {},
      (c) => c.send(new ListStateMachinesCommand({})),
      2,
      /AWS rejected the credentials \((InvalidSignatureException|UnrecognizedClientException)/,
    ],
    [
      "no such execution",
      () => () => {},
      (c) => c.send(new DescribeExecutionCommand({ executionArn: arn() })),
      20,
      /ExecutionDoesNotExist/,
    ],
    [
      "5xx after retries",
      () => {
        aws.faults.set({ errorRate5xx: 1 });
        return () => aws.faults.reset();
      },
      (c) => c.send(new ListStateMachinesCommand({})),
      10,
      /HTTP 500/,
    ],
  ];
  for (const [name, arrange, act, code, message] of cases) {
    test(name, async () => {
      const undo = arrange();
      const secretAccessKey = name.startsWith("wrong secret")
        ? "CANARY-other-secret-0c4d"
        : SECRET_KEY;
      const client = new SFNClient({
        region: "us-east-1",
        endpoint: aws.url,
        credentials: { ...CREDENTIALS, secretAccessKey },
        maxAttempts: 1,
        requestHandler: createHttpHandler({ proxy: proxyFrom(viaAuth()), endpointCa: ca.cert }),
      });
      try {
        const error = await act(client).then(
          () => undefined,
          (e: unknown) => classifyError(e, { operation: "test" }),
        );
        assert.equal(error?.exitCode, code, error?.message);
        assert.match(error?.message ?? "", message);
        assertNoCanary(error);
      } finally {
        undo();
        client.destroy();
      }
    });
  }
});

describe("the product's Step Functions clients on the same handler", () => {
  const config = (handler: HttpHandlerOptions, maxAttempts = 3): AwsConfig => ({
    region: "us-east-1",
    regionSource: "test",
    endpointUrl: aws.url,
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts,
    retryMode: "standard",
    credentials: { kind: "static", ...CREDENTIALS, source: "test" },
    sessionName: "test",
    http: handler,
  });
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  test("work through an HTTPS proxy with credentials, and their failures classify alike", async () => {
    const tunnels = authProxy.served();
    const session = createAwsSession(
      config({ proxy: proxyFrom(viaAuth()), endpointCa: ca.cert }),
      quiet,
    );
    const stateMachineArn = aws.createStateMachine({
      name: "lean",
      definition: JSON.stringify({
        StartAt: "Done",
        States: { Done: { Type: "Pass", End: true } },
      }),
    });
    const started = await session.sfn.startExecution({ stateMachineArn, input: "{}" });
    const reply = await session.sfnOnce.describeExecution({ executionArn: started.executionArn });
    assert.equal(reply.stateMachineArn, stateMachineArn);
    assert.ok(reply.startDate instanceof Date, "dates are Date objects");
    assert.equal(authProxy.served(), tunnels + 1, "one kept-alive tunnel serves both clients");
    session.destroy();

    const down = createAwsSession(
      config({ proxy: proxyFrom({ ...viaAuth(), proxy: `https://127.0.0.1:${nothing}` }) }, 1),
      quiet,
    );
    const error = await down.sfnOnce
      .describeExecution({ executionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:run" })
      .then(
        () => undefined,
        (e: unknown) => classifyError(e, { operation: "DescribeExecution" }),
      );
    assert.equal(error?.exitCode, 11, error?.message);
    assertNoCanary(error);
    down.destroy();
  });
});
