/** Why the instance or container metadata service gave no credentials, from what it answered. */
import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import {
  type MetadataExchange,
  type MetadataOutcome,
  metadataFailure,
  watchMetadataRequests,
} from "../../src/aws/metadata-failure.ts";
import { deadPort } from "../helpers/proxies.ts";

const HOST = "169.254.169.254";
const IMDS = `the EC2 instance metadata service (${HOST})`;
const HOP =
  "in a container, the instance's metadata hop limit must be 2 or more for the token's answer to reach it (aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2)";
const s = (status: number): MetadataOutcome => ({ status });
const silent: MetadataOutcome = { unanswered: true };
const refused: MetadataOutcome = { error: "ECONNREFUSED" };
const token = (outcome: MetadataOutcome): MetadataExchange => ({
  service: "instance",
  step: "token",
  withToken: false,
  host: HOST,
  outcome,
});
const role = (outcome: MetadataOutcome, withToken = false): MetadataExchange => ({
  service: "instance",
  step: "role",
  withToken,
  host: HOST,
  outcome,
});
const credentials = (outcome: MetadataOutcome, withToken = true): MetadataExchange => ({
  service: "instance",
  step: "credentials",
  withToken,
  host: HOST,
  outcome,
});
const container = (outcome: MetadataOutcome): MetadataExchange => ({
  service: "container",
  step: "credentials",
  withToken: false,
  host: "169.254.170.2",
  outcome,
});
const V1_OFF = { AWS_EC2_METADATA_V1_DISABLED: "true" };

const cases: Array<[string, MetadataExchange[], Record<string, string>, string | null]> = [
  // No IMDS: refused, unreachable or silent, whatever the SDK then says.
  ["nothing asked", [], {}, null],
  ["refused, then refused", [token(refused), role(refused)], {}, null],
  ["silent, then silent", [token(silent), role(silent)], {}, null],
  ["no route", [token({ error: "EHOSTUNREACH" }), role({ error: "EHOSTUNREACH" })], {}, null],
  ["refused with IMDSv1 off", [token(refused)], V1_OFF, null],
  // The IMDS answered.
  [
    "no role",
    [token(s(200)), role(s(404), true)],
    {},
    `${IMDS} has no IAM role for this instance (HTTP 404): attach an instance profile with a role to the instance`,
  ],
  [
    "tokens required, token unanswered",
    [token(silent), role(s(401))],
    {},
    `${IMDS} requires IMDSv2 session tokens (HTTP 401 to a request without one) and did not answer the IMDSv2 token request within 1 s; ${HOP}`,
  ],
  [
    "tokens required, token refused",
    [token(s(405)), role(s(401))],
    {},
    `${IMDS} requires IMDSv2 session tokens (HTTP 401 to a request without one) and refused the IMDSv2 token request (HTTP 405)`,
  ],
  [
    "IMDSv1 off, token 403",
    [token(s(403))],
    V1_OFF,
    `${IMDS} refused the IMDSv2 token request (HTTP 403: the instance's metadata service is turned off, or the request is not allowed), and the IMDSv1 fallback is turned off (AWS_EC2_METADATA_V1_DISABLED)`,
  ],
  [
    "IMDSv1 off in the profile, token unanswered",
    [token(silent)],
    {},
    `${IMDS} did not answer the IMDSv2 token request within 1 s, and the IMDSv1 fallback is turned off (ec2_metadata_v1_disabled in the profile); ${HOP}`,
  ],
  [
    "tokens required, no token request (the SDK asks for none again after a refusal)",
    [role(s(401))],
    {},
    `${IMDS} requires IMDSv2 session tokens (HTTP 401 to a request without one)`,
  ],
  ["token 400", [token(s(400))], {}, `${IMDS} refused the IMDSv2 token request (HTTP 400)`],
  [
    "credentials unusable",
    [token(s(200)), role(s(200), true), credentials(s(200))],
    {},
    `${IMDS} answered without usable credentials when asked for the role's credentials`,
  ],
  [
    "credentials not found",
    [token(s(200)), role(s(200), true), credentials(s(404))],
    {},
    `${IMDS} answered HTTP 404 when asked for the role's credentials`,
  ],
  [
    "token given, then silent",
    [token(s(200)), role(silent, true)],
    {},
    `${IMDS} answered the IMDSv2 token request but gave no answer within 1 s when asked for the instance's role`,
  ],
  // The container endpoint the environment names.
  [
    "container refused",
    [container(refused)],
    { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/id" },
    "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, 169.254.170.2) could not be reached (error ECONNREFUSED)",
  ],
  [
    "container 403 with a token file",
    [container(s(500)), container(s(403)), container(silent)],
    {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.2/v1/credentials",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "/var/run/token",
    },
    "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI, 169.254.170.2) answered HTTP 403: it refused the authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  ],
  [
    "container 401 without a token",
    [container(s(401))],
    { AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.2/v1/credentials" },
    "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI, 169.254.170.2) answered HTTP 401: it wants an authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN), and none is set",
  ],
];
for (const [what, exchanges, env, expected] of cases) {
  test(`metadata failure, ${what}`, () => {
    assert.equal(metadataFailure(exchanges, env), expected);
  });
}

/** One request as the SDK's IMDS provider makes it, settled whatever happens. */
function send(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ hostname: "127.0.0.1", port, path, timeout: 300, ...options });
    req.on("error", () => resolve());
    req.on("timeout", () => {
      resolve();
      req.destroy();
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    req.end();
  });
}

test("the watch records the metadata requests this process makes, and nothing of any header's value", async () => {
  const server = createServer((req, res) => {
    if (req.url === "/latest/meta-data/iam/security-credentials/") return; // never answered
    res.statusCode = req.url === "/latest/api/token" ? 403 : 200;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const closed = await deadPort();
  const watch = watchMetadataRequests({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${closed}/creds`,
  });
  try {
    await send(port, "/latest/api/token", { method: "PUT" });
    await send(port, "/latest/meta-data/iam/security-credentials/", {
      headers: { "x-aws-ec2-metadata-token": "imds-token-CANARY" },
    });
    await send(port, "/not-metadata");
    await send(closed, "/creds", { headers: { authorization: "container-token-CANARY" } });
  } finally {
    watch.stop();
    server.closeAllConnections();
    server.close();
  }
  await send(port, "/latest/api/token", { method: "PUT" }); // after stop(): not recorded
  const host = `127.0.0.1:${port}`;
  assert.deepEqual(watch.exchanges, [
    { service: "instance", step: "token", withToken: false, host, outcome: { status: 403 } },
    { service: "instance", step: "role", withToken: true, host, outcome: { unanswered: true } },
    {
      service: "container",
      step: "credentials",
      withToken: false,
      host: `127.0.0.1:${closed}`,
      outcome: { error: "ECONNREFUSED" },
    },
  ]);
  assert.doesNotMatch(JSON.stringify(watch.exchanges), /CANARY/);
});
