/**
 * End to end at the edges of the AWS boundary: the bundle as a child process against
 * listeners that misbehave (an endpoint that never answers, one that does not speak
 * HTTP, a TLS-only proxy addressed as plain HTTP, a forwarding proxy that refuses), and
 * a region from the environment that is not a region. Exit codes, the document, timing.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";
import { createTestCa, type TestCa } from "../helpers/certificates.ts";
import { startTestProxy, type TestProxy } from "../helpers/proxies.ts";

/** A TCP listener that answers every connection with `reply` (then closes), counting them. */
async function rawListener(
  reply: (socket: Socket) => void,
): Promise<{ url: string; port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    reply(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("the AWS boundary under hostile conditions, end to end", () => {
  let ep: LocalEndpoint;
  let ca: TestCa;
  let tlsProxy: TestProxy;
  let arn: string;

  before(async () => {
    ep = await startLocalEndpoint();
    ca = createTestCa("boundary");
    tlsProxy = await startTestProxy({ tls: ca.issue("proxy") });
    arn = ep.createStateMachine({
      name: "boundary",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
  });
  after(async () => {
    await Promise.all([ep.close(), tlsProxy.close()]);
    ca.remove();
  });

  const fields = (extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: arn,
    ...extra,
  });

  test("SIGTERM while StartExecution hangs: exit 27 within seconds, with a document", async () => {
    ep.faults.set({ hang: { operations: ["StartExecution"] } });
    try {
      let signalledAt = 0;
      const run = await runBundle({
        fields: fields({ wait_for_success_or_failure: true }),
        onStart: (child, outputFieldsFile) => {
          // The name is published just before the call that hangs.
          waitForOutputField(outputFieldsFile, "generated_execution_name").then(async () => {
            await new Promise((r) => setTimeout(r, 300));
            signalledAt = Date.now();
            child.kill("SIGTERM");
          });
        },
      });
      const tookMs = Date.now() - signalledAt;
      assert.equal(run.code, 27, run.stderr);
      assert.ok(signalledAt > 0, "the signal was sent");
      // StopExecution of the execution's ARN (asked again while none exists) is bounded to 5 s.
      assert.ok(tookMs < 8_000, `the task ended ${tookMs} ms after SIGTERM`);
      assertValidDoc(run.doc);
      assert.match(run.doc["status_description"], /^CANCELLED: .*it did not start/);
      assert.equal(
        ep.requests.filter((r) => r.operation === "StartExecution").length,
        1,
        "the aborted call was not retried",
      );
    } finally {
      ep.faults.reset();
    }
  });

  test("SIGTERM during the SDK's retry back-off after a 503: exit 27 within seconds", async () => {
    ep.faults.set({ errorRate5xx: 1, error5xxStatus: 503, operations: ["StartExecution"] });
    ep.clearRequests();
    try {
      let signalledAt = 0;
      const run = await runBundle({
        fields: fields(),
        env: { AWS_MAX_ATTEMPTS: "20" },
        onStart: (child) => {
          const timer = setInterval(() => {
            if (ep.requests.some((r) => r.operation === "StartExecution")) {
              clearInterval(timer);
              signalledAt = Date.now();
              child.kill("SIGTERM");
            }
          }, 20);
        },
      });
      const tookMs = Date.now() - signalledAt;
      assert.equal(run.code, 27, run.stderr);
      assert.ok(tookMs < 5_000, `the task ended ${tookMs} ms after SIGTERM`);
      assert.ok(
        ep.requests.filter((r) => r.operation === "StartExecution").length < 20,
        "the retries stopped",
      );
      assertValidDoc(run.doc);
    } finally {
      ep.faults.reset();
    }
  });

  test("an endpoint that does not answer in HTTP: exit 10", async () => {
    const garbage = await rawListener((socket) => {
      socket.end("SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n");
    });
    try {
      const run = await runBundle({ fields: fields({ endpoint_url: garbage.url }) });
      assert.equal(run.code, 10, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc["status_description"], /^CONNECTION_ERROR: .*127\.0\.0\.1/);
    } finally {
      await garbage.close();
    }
  });

  test("a load balancer's HTML page instead of AWS's answer: exit 10, said by its Content-Type, not by the SDK's parser", async () => {
    const page = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>";
    const balancer = await rawListener((socket) => {
      socket.once("data", () =>
        socket.end(
          `HTTP/1.1 503 Service Temporarily Unavailable\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\nConnection: close\r\n\r\n${page}`,
        ),
      );
    });
    try {
      const run = await runBundle({
        fields: fields({ endpoint_url: balancer.url }),
        env: { AWS_MAX_ATTEMPTS: "2" },
      });
      assert.equal(run.code, 10, run.stderr);
      assertValidDoc(run.doc);
      const said = run.doc["status_description"] as string;
      assert.match(
        said,
        /^CONNECTION_ERROR: .* with HTTP 503 .*after retries: the answer is not AWS's JSON \(Content-Type text\/html\), so the AWS SDK could not read it;/,
      );
      assert.doesNotMatch(said, /Deserialization|\$response|<html>|Unexpected token/);
    } finally {
      await balancer.close();
    }
  });

  test("AWS's JSON answer cut short on the way: exit 10 (a network fault, not a refusal), the start that may have happened named", async () => {
    const body = JSON.stringify({
      __type: "ExecutionAlreadyExists",
      message: "Execution Already Exists: 'arn:aws:states:us-east-1:123456789012:execution:x:y'",
    });
    const cut = await rawListener((socket) => {
      socket.once("data", () => {
        socket.write(
          `HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-ErrorType: ExecutionAlreadyExists\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 30)}`,
        );
        setImmediate(() => socket.destroy());
      });
    });
    try {
      const run = await runBundle({ fields: fields({ endpoint_url: cut.url }) });
      assert.equal(run.code, 10, run.stderr);
      assertValidDoc(run.doc);
      const said = run.doc["status_description"] as string;
      assert.match(
        said,
        /^CONNECTION_ERROR: the answer to StartExecution \(HTTP 400, Content-Type application\/x-amz-json-1\.0\) was cut short or damaged on the way, so the AWS SDK could not read it; AWS gave no answer to the start of execution \S+, so it may have started: arn:aws:states:/,
      );
    } finally {
      await cut.close();
    }
  });

  for (const scheme of ["http", "https"] as const) {
    test(`Proxy Type HTTP at a TLS-only proxy (${scheme}:// endpoint): exit 11, hint to choose HTTPS`, async () => {
      const endpoint = scheme === "http" ? ep.url : ep.url.replace("http://", "https://");
      const run = await runBundle({
        fields: fields({
          endpoint_url: endpoint,
          use_proxy: true,
          proxy_type: ["HTTP"],
          proxy: tlsProxy.url.replace("https://", "http://"),
        }),
      });
      assert.equal(run.code, 11, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc["status_description"], /Proxy Type HTTPS/);
    });
  }

  test("a forwarding proxy's 403 to the request is the proxy refusing: exit 11", async () => {
    const refusing = await rawListener((socket) => {
      socket.once("data", () => {
        const body = "access to this destination is not allowed by policy\n";
        socket.end(
          `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
    });
    try {
      const run = await runBundle({
        fields: fields({ use_proxy: true, proxy_type: ["HTTP"], proxy: refusing.url }),
      });
      assert.equal(run.code, 11, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc["status_description"], /proxy .*403/);
      assert.ok(refusing.connections() >= 1, "the request went to the proxy");
    } finally {
      await refusing.close();
    }
  });

  // [variable, value]: a region from the environment gets the field's checks (exit 20).
  const badRegions: [string, string][] = [
    ["AWS_REGION", "eu west 1"],
    ["AWS_REGION", "us-east-1.attacker.example#"],
    ["AWS_DEFAULT_REGION", "eu-west-1/evil"],
  ];
  for (const [name, value] of badRegions) {
    test(`${name}=${JSON.stringify(value)}: exit 20 naming ${name}, no request sent`, async () => {
      ep.clearRequests();
      const { endpoint_url: _none, ...noEndpoint } = fields();
      const run = await runBundle({
        fields: { ...noEndpoint, endpoint_url: ep.url },
        env: { [name]: value },
      });
      assert.equal(run.code, 20, run.stderr);
      assertValidDoc(run.doc);
      assert.match(run.doc["status_description"], new RegExp(`${name}: must be a region code`));
      assert.equal(ep.requests.length, 0);
    });
  }
});
