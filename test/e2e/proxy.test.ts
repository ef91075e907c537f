/**
 * End to end through real proxies: the bundle as a child process, the local endpoint
 * served over HTTPS with a test CA, proxy-chain in front of it. Exit codes, the proxy's
 * own counters, and secret canaries in every byte the program wrote.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { runBundle } from "../helpers/bundle.ts";
import { createTestCa, type TestCa } from "../helpers/certificates.ts";
import { deadPort, startTestProxy, type TestProxy } from "../helpers/proxies.ts";

const PROXY_USER = "batch-proxy";
const PROXY_PASSWORD = "CANARY-e2e-proxy-pw-51c9";
const SECRET_KEY = "CANARY-e2e-secret-key-0b7a";
const ACCESS_KEY = "AKIDPROXYE2E0000001";

describe("through proxies, end to end", () => {
  let ca: TestCa;
  let ep: LocalEndpoint;
  let httpProxy: TestProxy;
  let authProxy: TestProxy;
  let arn: string;
  let nothing: number;

  before(async () => {
    ca = createTestCa("e2e");
    ep = await startLocalEndpoint({
      tls: ca.issue("aws"),
      credentials: [{ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }],
    });
    httpProxy = await startTestProxy({});
    authProxy = await startTestProxy({
      tls: ca.issue("proxy"),
      auth: { user: PROXY_USER, password: PROXY_PASSWORD },
    });
    arn = ep.createStateMachine({
      name: "viaProxy",
      definition: {
        StartAt: "P",
        States: { P: { Type: "Pass", Result: { ok: true }, End: true } },
      },
    });
    nothing = await deadPort();
  });
  after(async () => {
    await Promise.all([ep.close(), httpProxy.close(), authProxy.close()]);
    ca.remove();
  });

  const fields = (extra: Record<string, unknown>) => ({
    endpoint_url: ep.url,
    credentials: { user: ACCESS_KEY, password: SECRET_KEY },
    state_machine_arn: arn,
    wait_for_success_or_failure: true,
    use_proxy: true,
    ...extra,
  });
  const env = () => ({ AWS_CA_BUNDLE: ca.certFile });
  const withAuth = (password: string) => ({
    proxy_type: ["HTTPS With Credentials"],
    proxy: authProxy.url,
    proxy_ca_bundle_file: ca.certFile,
    proxy_credentials: { user: PROXY_USER, password },
  });

  function assertNoCanary(bytes: string): void {
    for (const canary of [PROXY_PASSWORD, SECRET_KEY, "WRONG-canary-pw-77"]) {
      assert.ok(!bytes.includes(canary), `${canary} leaked`);
    }
    const basic = Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64");
    assert.ok(!bytes.includes(basic), "Basic credentials leaked");
  }

  test("HTTPS With Credentials: TLS to the proxy, Basic auth, CONNECT to the endpoint", async () => {
    const before = authProxy.served();
    const run = await runBundle({ fields: fields(withAuth(PROXY_PASSWORD)), env: env() });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.doc?.["result"].status, "SUCCEEDED");
    assert.ok(authProxy.served() > before, "the requests went through the proxy");
    assert.equal(run.doc?.["invocation"].fields.proxy_credentials_password, "****");
    assertNoCanary(run.allBytes);
  });

  test("HTTP: plain connection to the proxy, CONNECT to the HTTPS endpoint", async () => {
    const before = httpProxy.served();
    const run = await runBundle({
      fields: fields({ proxy_type: ["HTTP"], proxy: httpProxy.url }),
      env: env(),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(httpProxy.served() > before);
  });

  test("wrong proxy password: exit 11, password nowhere", async () => {
    const before = authProxy.refused();
    const run = await runBundle({ fields: fields(withAuth("WRONG-canary-pw-77")), env: env() });
    assert.equal(run.code, 11, run.stderr);
    assert.match(run.doc?.["status_description"], /^CONNECTION_ERROR: /);
    // The password was in play: the proxy was reached over TLS and refused it.
    assert.ok(authProxy.refused() > before, "the proxy refused the credentials it was sent");
    assertNoCanary(run.allBytes);
  });

  test("HTTPS proxy without its CA bundle: exit 11", async () => {
    const { proxy_ca_bundle_file: _dropped, ...noCa } = withAuth(PROXY_PASSWORD);
    const run = await runBundle({ fields: fields(noCa), env: env() });
    assert.equal(run.code, 11, run.stderr);
    assertNoCanary(run.allBytes);
  });

  test("proxy down: exit 11", async () => {
    const run = await runBundle({
      fields: fields({ proxy_type: ["HTTP"], proxy: `http://127.0.0.1:${nothing}` }),
      env: env(),
    });
    assert.equal(run.code, 11, run.stderr);
    assert.match(run.doc?.["status_description"], new RegExp(`127\\.0\\.0\\.1:${nothing}`));
  });

  test("endpoint down behind a working proxy: exit 10", async () => {
    const before = httpProxy.served();
    const run = await runBundle({
      fields: fields({
        proxy_type: ["HTTP"],
        proxy: httpProxy.url,
        endpoint_url: `https://127.0.0.1:${nothing}`,
      }),
      env: env(),
    });
    assert.equal(run.code, 10, run.stderr);
    // Through the proxy, which accepted the CONNECT: a direct connection fails with 10 too.
    assert.ok(httpProxy.served() > before, "the request went through the proxy");
  });

  test("a hanging endpoint ends within the request timeout: exit 10", async () => {
    // The endpoint never answers: a request timeout not applied through the proxy would
    // leave the program waiting for the default one (a minute, times the SDK's attempts) or
    // for ever, past the run's own time limit (a minute), which fails the test. Three
    // attempts of one second each end it in seconds. No clock is read.
    ep.faults.set({ hang: true });
    const before = httpProxy.served();
    try {
      const run = await runBundle({
        fields: fields({ proxy_type: ["HTTP"], proxy: httpProxy.url }),
        env: { ...env(), UE_AWS_REQUEST_TIMEOUT_MS: "1000" },
      });
      assert.equal(run.code, 10, run.stderr);
      assert.ok(httpProxy.served() > before, "the requests went through the proxy");
      assert.match(run.doc?.["status_description"], /no complete answer within 1000 ms/);
    } finally {
      ep.faults.reset();
    }
  });

  test("credentials inside the proxy URL: exit 20 before any call, password not echoed", async () => {
    const run = await runBundle({
      fields: fields({
        proxy_type: ["HTTP"],
        proxy: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:3128`,
      }),
      env: env(),
    });
    assert.equal(run.code, 20, run.stderr);
    assert.match(run.doc?.["status_description"], /Proxy: .*Proxy Credentials/);
    assertNoCanary(run.allBytes);
  });
});
