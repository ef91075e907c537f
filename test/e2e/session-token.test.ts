/**
 * The token part of a Credential: for AWS Credentials the session token of temporary keys,
 * sent with every signed request (and with the AssumeRole base credentials); for Proxy
 * Credentials ignored with a warning. The local endpoint accepts the key pair only with
 * its session token, so a token that is not sent fails the task.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";

const KEY_ID = "ASIACANARYKEYID00001";
const SECRET = "CanarySessionSecret0000000000000000000001";
const TOKEN = "CanarySessionToken//+0000000000000000000000000000000000000001";
const ROLE = "arn:aws:iam::123456789012:role/Scheduler";
// A second pair, expired by the test while a task waits.
const SHORT_KEY_ID = "ASIACANARYKEYID00002";
const SHORT_SECRET = "CanarySessionSecret0000000000000000000002";
const SHORT_TOKEN = "CanarySessionToken//+0000000000000000000000000000000000000002";

describe("AWS Credentials with a session token", () => {
  let ep: LocalEndpoint;
  let arn: string;

  before(async () => {
    ep = await startLocalEndpoint({
      region: "us-east-1",
      credentials: [
        { accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN },
        { accessKeyId: SHORT_KEY_ID, secretAccessKey: SHORT_SECRET, sessionToken: SHORT_TOKEN },
      ],
    });
    arn = ep.createStateMachine({
      name: "tokenPass",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
  });
  after(async () => {
    await ep.close();
  });

  const fields = (extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    state_machine_arn: arn,
    ...extra,
  });
  const started = () =>
    ep.requests.filter((r) => r.operation === "StartExecution" && r.status === 200);
  const assertNoCanary = (allBytes: string) => {
    for (const canary of [SECRET, TOKEN, encodeURIComponent(TOKEN), SHORT_SECRET, SHORT_TOKEN])
      assert.ok(
        !allBytes.includes(canary),
        "no secret in stdout, stderr, document or output fields",
      );
  };

  test("from the fields file: the request carries it, the document shows credentials_token ****", async () => {
    const before = started().length;
    const run = await runBundle({
      fields: fields({ credentials: { user: KEY_ID, password: SECRET, token: TOKEN } }),
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc["invocation"].fields.credentials_token, "****");
    assert.equal(run.doc["invocation"].fields.credentials_password, "****");
    assert.equal(started().length, before + 1);
    assert.equal(started().at(-1)?.accessKeyId, KEY_ID);
    assertNoCanary(run.allBytes);
  });

  test("from UE_FIELD_CREDENTIALS_TOKEN beside _USER and _PASSWORD", async () => {
    const run = await runBundle({
      env: {
        UE_FIELD_ENDPOINT_URL: ep.url,
        UE_FIELD_STATE_MACHINE_ARN: arn,
        UE_FIELD_CREDENTIALS_USER: KEY_ID,
        UE_FIELD_CREDENTIALS_PASSWORD: SECRET,
        UE_FIELD_CREDENTIALS_TOKEN: TOKEN,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc["invocation"].fields.credentials_token, "****");
    assertNoCanary(run.allBytes);
  });

  test("the base credentials of AssumeRole carry it too", async () => {
    const run = await runBundle({
      fields: fields({
        credentials: { user: KEY_ID, password: SECRET, token: TOKEN },
        role_based_access: true,
        role_arn: ROLE,
      }),
      env: { AWS_ENDPOINT_URL_STS: ep.url },
    });
    assert.equal(run.code, 0, run.stderr);
    const assume = ep.requests.filter((r) => r.operation === "AssumeRole").at(-1);
    assert.equal(assume?.status, 200);
    assert.equal(assume?.accessKeyId, KEY_ID);
    assertNoCanary(run.allBytes);
  });

  test("a session token that expires while the task waits ends it with exit 2, saying why", async () => {
    const waitArn = ep.createStateMachine({
      name: "tokenWait",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 600, End: true } } },
    });
    let started = "";
    const run = await runBundle({
      fields: {
        ...fields({
          credentials: { user: SHORT_KEY_ID, password: SHORT_SECRET, token: SHORT_TOKEN },
        }),
        state_machine_arn: waitArn,
        wait_for_success_or_failure: true,
        polling_interval: 1,
      },
      // Fixed keys cannot be renewed: trying them again until this limit (exit 28) is wrong.
      env: { UE_STATUS_FAILURE_LIMIT_SECONDS: "3" },
      onStart: (_child, outputFieldsFile) => {
        void waitForOutputField(outputFieldsFile, "execution_arn").then((executionArn) => {
          started = executionArn;
          ep.expireCredentials(SHORT_KEY_ID);
        });
      },
    });
    assert.equal(run.code, 2, run.stderr);
    assertValidDoc(run.doc);
    assert.match(
      run.doc["status_description"],
      /^AUTHENTICATION_ERROR: AWS rejected the credentials \(ExpiredTokenException on DescribeExecution\).*; these credentials cannot be renewed .*rerun the task to re-attach to arn:/,
    );
    assert.equal(run.doc["result"].executionArn, started);
    assertNoCanary(run.allBytes);
  });

  test("without the token the same key pair is refused: exit 2, no token echoed", async () => {
    const from = ep.requests.length;
    const run = await runBundle({
      fields: fields({ credentials: { user: KEY_ID, password: SECRET } }),
    });
    assert.equal(run.code, 2, run.stderr);
    // Refused by the endpoint, not for want of credentials: the key pair was used.
    assert.deepEqual(
      ep.requests.slice(from).map((r) => [r.operation, r.accessKeyId, r.errorCode]),
      [["StartExecution", KEY_ID, "UnrecognizedClientException"]],
    );
    assertValidDoc(run.doc);
    assert.equal(run.doc["invocation"].fields.credentials_token, null);
    assertNoCanary(run.allBytes);
  });

  test("a token alone is not a credential: exit 20 naming the field", async () => {
    const run = await runBundle({
      fields: fields({ credentials: { user: "", password: "", token: TOKEN } }),
    });
    assert.equal(run.code, 20, run.stderr);
    assertValidDoc(run.doc);
    assert.match(
      run.doc["status_description"],
      /AWS Credentials: needs both a user and a password/,
    );
    assertNoCanary(run.allBytes);
  });

  test("never as a flag: refused, and the message names the variables to use", async () => {
    const run = await runBundle({ args: ["--credentials", TOKEN, "--state-machine-arn", arn] });
    assert.equal(run.code, 20, run.stderr);
    assert.match(
      run.stderr,
      /UE_FIELD_CREDENTIALS_USER and UE_FIELD_CREDENTIALS_PASSWORD \(UE_FIELD_CREDENTIALS_TOKEN for a session token\)/,
    );
    assertNoCanary(run.allBytes);
  });

  test("a token in Proxy Credentials is not used: one warning, never echoed", async () => {
    // No state machine: validation ends the run before any connection, after the warning.
    const run = await runBundle({
      fields: {
        endpoint_url: ep.url,
        use_proxy: true,
        proxy_type: ["HTTPS With Credentials"],
        proxy: "https://127.0.0.1:9",
        proxy_credentials: {
          user: "proxyuser",
          password: "ProxyCanaryPassword1",
          token: "ProxyCanaryToken0001",
        },
      },
    });
    assert.equal(run.code, 20, run.stderr);
    const warnings = run.stderr.split("\n").filter((l) => l.includes("token part is ignored"));
    assert.equal(warnings.length, 1, run.stderr);
    assert.match(
      warnings[0] ?? "",
      / WARN .*Proxy Credentials: the token part is ignored; it is not used for proxy authentication/,
    );
    assert.ok(!run.allBytes.includes("ProxyCanaryToken0001"));
    assertValidDoc(run.doc);
    assert.equal("proxy_credentials_token" in run.doc["invocation"].fields, false);
  });
});
