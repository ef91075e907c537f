/**
 * Debug switches that would print credentials: NODE_DEBUG (Node's networking sections,
 * refused before any request) and DEBUG (the proxy agents' debug module, switched off).
 * The bundle as a child process against the local endpoint, directly and through real
 * proxies (forwarded requests and CONNECT tunnels, with proxy credentials): no canary in
 * any byte the program wrote.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";
import { createTestCa, type TestCa } from "../helpers/certificates.ts";
import { startTestProxy, type TestProxy } from "../helpers/proxies.ts";

const ACCESS_KEY = "AKIDDEBUGCANARY00001";
const SECRET_KEY = "CANARY-debug-secret-key-4e1a";
const SESSION_TOKEN = "CANARY-debug-session-token-77c2";
const PROXY_USER = "debug-proxy";
const PROXY_PASSWORD = "CANARY-debug-proxy-pw-0d9";
const CANARIES = [
  SECRET_KEY,
  SESSION_TOKEN,
  PROXY_PASSWORD,
  Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64"),
];

const SWITCHES: Array<Record<string, string>> = [
  { NODE_DEBUG: "http,net,tls,https" },
  { DEBUG: "*" },
  { NODE_DEBUG: "*", DEBUG: "*" },
];

describe("debug switches never print secrets", () => {
  let ca: TestCa;
  let plain: LocalEndpoint;
  let secure: LocalEndpoint;
  let httpProxy: TestProxy;
  let authProxy: TestProxy;

  before(async () => {
    ca = createTestCa("debug");
    const credentials = [
      { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN },
    ];
    plain = await startLocalEndpoint({ credentials });
    secure = await startLocalEndpoint({ credentials, tls: ca.issue("aws") });
    httpProxy = await startTestProxy({});
    authProxy = await startTestProxy({
      tls: ca.issue("proxy"),
      auth: { user: PROXY_USER, password: PROXY_PASSWORD },
    });
  });
  after(async () => {
    await Promise.all([plain.close(), secure.close(), httpProxy.close(), authProxy.close()]);
    ca.remove();
  });

  const definition = { StartAt: "P", States: { P: { Type: "Pass", End: true } } };
  /** The requests the endpoint accepted, signed with the canary key (and its session token). */
  const signedWith = (ep: LocalEndpoint) =>
    ep.requests.filter((r) => r.accessKeyId === ACCESS_KEY && r.status === 200);
  const withCredentials = () => ({
    use_proxy: true,
    proxy_type: ["HTTPS With Credentials"],
    proxy: authProxy.url,
    proxy_ca_bundle_file: ca.certFile,
    proxy_credentials: { user: PROXY_USER, password: PROXY_PASSWORD },
  });
  // [path, endpoint, proxy fields, the proxy the requests go through]
  const paths: Array<
    [string, () => LocalEndpoint, () => Record<string, unknown>, () => TestProxy | null]
  > = [
    ["direct, http endpoint", () => plain, () => ({}), () => null],
    ["direct, https endpoint", () => secure, () => ({}), () => null],
    [
      "HTTP proxy, request forwarded to an http endpoint",
      () => plain,
      () => ({ use_proxy: true, proxy_type: ["HTTP"], proxy: httpProxy.url }),
      () => httpProxy,
    ],
    [
      "HTTPS With Credentials proxy, request forwarded to an http endpoint",
      () => plain,
      withCredentials,
      () => authProxy,
    ],
    [
      "HTTPS With Credentials proxy, tunnel to an https endpoint",
      () => secure,
      withCredentials,
      () => authProxy,
    ],
  ];

  for (const [path, endpoint, proxyFields, proxyOf] of paths) {
    for (const switches of SWITCHES) {
      const shown = Object.entries(switches)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ");
      const outcome = switches["NODE_DEBUG"] ? "refused before any request" : "succeeds";
      test(`${shown}, ${path}: ${outcome}, no canary anywhere`, async () => {
        const ep = endpoint();
        const arn = ep.createStateMachine({ name: "debugged", definition });
        const proxy = proxyOf();
        const servedBefore = proxy?.served() ?? 0;
        const signedBefore = signedWith(ep).length;
        const run = await runBundle({
          fields: {
            endpoint_url: ep.url,
            state_machine_arn: arn,
            wait_for_success_or_failure: true,
            polling_interval: 1,
            ...proxyFields(),
          },
          env: {
            AWS_ACCESS_KEY_ID: ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY: SECRET_KEY,
            AWS_SESSION_TOKEN: SESSION_TOKEN,
            AWS_CA_BUNDLE: ca.certFile,
            ...switches,
          },
        });
        assertValidDoc(run.doc);
        for (const canary of CANARIES) {
          assert.ok(!run.allBytes.includes(canary), `${canary} leaked:\n${run.stderr}`);
        }
        if (switches["NODE_DEBUG"]) {
          // Refused before any request: Node would print the headers, nothing can stop it.
          assert.equal(run.code, 20, run.stderr);
          assert.match(run.doc.status_description, /NODE_DEBUG: names .*request headers/);
          assert.equal(run.doc.result, null);
          assert.equal(signedWith(ep).length, signedBefore, "no request was sent");
        } else {
          assert.equal(run.code, 0, run.stderr);
          assert.equal(run.doc.result.status, "SUCCEEDED");
          assert.match(run.stderr, /DEBUG is set: the proxy agents' debug output/);
          // The canaries were in play: the requests were signed with the key and its session
          // token, and went through the proxy with its credentials.
          assert.ok(signedWith(ep).length > signedBefore, "the requests used the credentials");
          if (proxy)
            assert.ok(proxy.served() > servedBefore, "the requests went through the proxy");
        }
      });
    }
  }

  test("NODE_DEBUG sections that print no secrets are allowed, and still print", async () => {
    const signedBefore = signedWith(plain).length;
    const arn = plain.createStateMachine({ name: "debugged", definition });
    const run = await runBundle({
      fields: { endpoint_url: plain.url, state_machine_arn: arn },
      env: {
        AWS_ACCESS_KEY_ID: ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: SECRET_KEY,
        AWS_SESSION_TOKEN: SESSION_TOKEN,
        NODE_DEBUG: "timer,module",
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^TIMER \d+:/m, "the timer section reaches the program");
    assert.ok(signedWith(plain).length > signedBefore, "the request used the credentials");
    for (const canary of CANARIES) assert.ok(!run.allBytes.includes(canary));
  });

  test("UE_DEBUG: false logs no debug line; a value other than true or false logs none either, and says so in a warning", async () => {
    const arn = plain.createStateMachine({ name: "debug-log", definition });
    // Each run's first status check does not see the new execution yet: a debug line's cue.
    const runWith = (value: string) => {
      plain.consistency.set({ hiddenAfterStart: 1 });
      return runBundle({
        fields: {
          endpoint_url: plain.url,
          state_machine_arn: arn,
          wait_for_success_or_failure: true,
        },
        env: {
          AWS_ACCESS_KEY_ID: ACCESS_KEY,
          AWS_SECRET_ACCESS_KEY: SECRET_KEY,
          AWS_SESSION_TOKEN: SESSION_TOKEN,
          UE_DEBUG: value,
        },
      }).finally(() => plain.consistency.reset());
    };
    for (const value of ["1", "TRUE", "yes"]) {
      const run = await runWith(value);
      // A diagnostic switch never fails the task.
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.match(
        run.stderr,
        new RegExp(
          `WARN.*UE_DEBUG is "${value}", neither true nor false: the debug log stays off \\(UE_DEBUG=true turns it on\\)`,
        ),
      );
      assert.doesNotMatch(run.stderr, / DEBUG /);
    }
    const off = await runWith("false");
    assert.equal(off.code, 0, off.stderr);
    assert.doesNotMatch(off.stderr, / DEBUG |UE_DEBUG/);
    const on = await runWith("true");
    assert.equal(on.code, 0, on.stderr);
    assert.match(
      on.stderr,
      / DEBUG .*not visible yet/,
      "true gives the debug line: the checks above could fail",
    );
  });
});
