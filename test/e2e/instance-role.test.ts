/**
 * End to end: an agent host whose credential chain ends at the EC2 instance metadata
 * service (an instance role). A stand-in IMDS on a local port (AWS_EC2_METADATA_SERVICE_ENDPOINT)
 * serves the role's credentials, minted by the local endpoint's STS, which checks every
 * signature made with them. The SDK's documented behaviour must hold in the bundle: IMDSv2
 * first, IMDSv1 when the token PUT is refused (403, 404, 405) or unanswered, unless
 * AWS_EC2_METADATA_V1_DISABLED; a host with no IMDS ends with exit 2 and no more than that;
 * where the IMDS answered (or the operator turned IMDSv1 off), exit 2 says what it answered.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-imds-credentials.html
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { runBundle } from "../helpers/bundle.ts";
import {
  type InstanceMetadata,
  type InstanceMetadataOptions,
  startInstanceMetadata,
} from "../helpers/instance-metadata.ts";
import { deadPort, startTestProxy } from "../helpers/proxies.ts";

const TOKEN_PATH = "/latest/api/token";
const CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/";

/** The environment of a host whose chain ends at this IMDS (the tests' default turns it off). */
const onInstance = (url: string, extra: Record<string, string | undefined> = {}) => ({
  AWS_EC2_METADATA_DISABLED: undefined,
  AWS_EC2_METADATA_SERVICE_ENDPOINT: url,
  ...extra,
});

/** Every file under `dir`, read whole. */
async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const found: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.push({ path, bytes: await readFile(path) });
  }
  return found;
}

describe("instance role from the EC2 instance metadata service", () => {
  let ep: LocalEndpoint;
  let arn: string;
  let waitArn: string;

  before(async () => {
    ep = await startLocalEndpoint({ region: "eu-west-1" });
    arn = ep.createStateMachine({
      name: "instanceRole",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    waitArn = ep.createStateMachine({
      name: "instanceRoleWait",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 3, End: true } } },
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
  const starts = () => ep.requests.filter((r) => r.operation === "StartExecution");

  /** Run with a stand-in IMDS, closed afterwards. */
  async function withImds<T>(
    options: InstanceMetadataOptions,
    use: (imds: InstanceMetadata) => Promise<T>,
  ): Promise<T> {
    const imds = await startInstanceMetadata(ep, options);
    try {
      return await use(imds);
    } finally {
      await imds.close();
    }
  }

  function assertNoCredentialIn(text: string | Buffer, imds: InstanceMetadata, where: string) {
    assert.ok(imds.served.length > 0, "the stand-in served no credentials");
    for (const c of imds.served) {
      assert.ok(!text.includes(c.secretAccessKey), `the role's secret key reached ${where}`);
      assert.ok(!text.includes(c.sessionToken), `the role's session token reached ${where}`);
    }
  }

  test("IMDSv2: a token is asked for with a TTL and sent with every GET; the start is signed with the instance role's keys", async () => {
    await withImds({ requireToken: true }, async (imds) => {
      const run = await runBundle({ fields: fields(), env: onInstance(imds.url) });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /INFO {2}credentials from the standard credential chain/);
      const start = starts().at(-1);
      assert.equal(start?.status, 200);
      assert.equal(start?.accessKeyId, imds.served[0]?.accessKeyId);
      assert.match(start?.accessKeyId ?? "", /^ASIA/);

      const [put, ...gets] = imds.requests;
      assert.equal(put?.method, "PUT");
      assert.equal(put?.path, TOKEN_PATH);
      assert.match(put?.ttlSeconds ?? "", /^\d+$/);
      assert.equal(put?.status, 200);
      assert.deepEqual(
        gets.map((g) => [g.method, g.path, g.status]),
        [
          ["GET", CREDENTIALS_PATH, 200],
          ["GET", `${CREDENTIALS_PATH}agent-instance-role`, 200],
        ],
      );
      for (const g of gets) assert.equal(g.token, imds.tokens[0], "the PUT's token is sent");
      assertNoCredentialIn(run.allBytes, imds, "the output");
    });
  });

  test("instance-role credentials that expire every second are fetched again through a wait", async () => {
    ep.sts.setExpirySeconds(1);
    try {
      await withImds({}, async (imds) => {
        const run = await runBundle({
          fields: fields({
            state_machine_arn: waitArn,
            wait_for_success_or_failure: true,
            polling_interval: 1,
          }),
          env: onInstance(imds.url),
        });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.doc?.["result"].status, "SUCCEEDED");
        assert.ok(
          imds.served.length >= 3,
          `the role's credentials were served ${imds.served.length} times`,
        );
        assert.doesNotMatch(run.stderr, /status check failed/);
        // Each fetch asks for a token of its own and sends it.
        for (const g of imds.requests.filter((r) => r.method === "GET")) {
          assert.ok(g.token && imds.tokens.includes(g.token), "a GET without a token");
        }
        const described = ep.requests.filter((r) => r.operation === "DescribeExecution");
        const keys = new Set(described.map((r) => r.accessKeyId));
        assert.ok(keys.size >= 2, "the status checks were signed with fresh keys");
        assertNoCredentialIn(run.allBytes, imds, "the output");
      });
    } finally {
      ep.sts.setExpirySeconds(undefined);
    }
  });

  // The SDK's documented fallback: IMDSv1 when the token PUT is refused or unanswered.
  const refusedPut: Array<[string, NonNullable<InstanceMetadataOptions["tokenPut"]>]> = [
    ["403", 403],
    ["404", 404],
    ["405", 405],
    ["no answer (the SDK's 1 s IMDS timeout)", "never"],
  ];
  for (const [what, tokenPut] of refusedPut) {
    test(`token PUT refused (${what}): IMDSv1, the GETs without a token, the start signed with the role's keys`, async () => {
      await withImds({ tokenPut }, async (imds) => {
        const run = await runBundle({ fields: fields(), env: onInstance(imds.url) });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(starts().at(-1)?.accessKeyId, imds.served[0]?.accessKeyId);
        assert.equal(imds.requests[0]?.method, "PUT");
        const gets = imds.requests.filter((r) => r.method === "GET");
        assert.deepEqual(
          gets.map((g) => [g.path, g.token]),
          [
            [CREDENTIALS_PATH, undefined],
            [`${CREDENTIALS_PATH}agent-instance-role`, undefined],
          ],
        );
        assertNoCredentialIn(run.allBytes, imds, "the output");
      });
    });
  }

  test("token PUT refused with AWS_EC2_METADATA_V1_DISABLED=true: no IMDSv1 request, exit 2", async () => {
    await withImds({ tokenPut: 403 }, async (imds) => {
      const from = ep.requests.length;
      const run = await runBundle({
        fields: fields(),
        env: onInstance(imds.url, { AWS_EC2_METADATA_V1_DISABLED: "true" }),
      });
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.doc?.["status_description"],
        /^AUTHENTICATION_ERROR: no usable AWS credentials .*; the EC2 instance metadata service \(127\.0\.0\.1:\d+\) refused the IMDSv2 token request \(HTTP 403: the instance's metadata service is turned off, or the request is not allowed\), and the IMDSv1 fallback is turned off \(AWS_EC2_METADATA_V1_DISABLED\)$/,
      );
      assert.deepEqual(
        imds.requests.map((r) => r.method),
        ["PUT"],
        "nothing but the token PUT",
      );
      assert.deepEqual(ep.requests.slice(from), []);
    });
  });

  test("AWS_EC2_METADATA_DISABLED=true: the IMDS is never asked, exit 2", async () => {
    await withImds({}, async (imds) => {
      const run = await runBundle({
        fields: fields(),
        env: onInstance(imds.url, { AWS_EC2_METADATA_DISABLED: "true" }),
      });
      assert.equal(run.code, 2, run.stderr);
      assert.deepEqual(imds.requests, []);
    });
  });

  // An IMDS that answers, or one the operator set up (IMDSv1 turned off): exit 2 says what
  // it answered and what to change, where the SDK says only that no provider gave any.
  const hopLimit =
    "in a container, the instance's metadata hop limit must be 2 or more for the token's answer to reach it \\(aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2\\)";
  const answered: Array<{
    what: string;
    imds: InstanceMetadataOptions;
    env?: Record<string, string>;
    /** The profile's lines in the config file, when one is given. */
    config?: string;
    requests: Array<[string, string]>;
    why: RegExp;
  }> = [
    {
      what: "no instance profile attached (IMDSv2)",
      imds: { noRole: true },
      requests: [
        ["PUT", TOKEN_PATH],
        ["GET", CREDENTIALS_PATH],
      ],
      why: /has no IAM role for this instance \(HTTP 404\): attach an instance profile with a role to the instance$/,
    },
    {
      what: "no instance profile attached (IMDSv1 after a 404 to the token PUT)",
      imds: { noRole: true, tokenPut: 404 },
      requests: [
        ["PUT", TOKEN_PATH],
        ["GET", CREDENTIALS_PATH],
      ],
      why: /has no IAM role for this instance \(HTTP 404\): attach an instance profile with a role to the instance$/,
    },
    {
      what: "tokens required and the token PUT unanswered (a container behind a hop limit of 1)",
      imds: { requireToken: true, tokenPut: "never" },
      requests: [
        ["PUT", TOKEN_PATH],
        ["GET", CREDENTIALS_PATH],
      ],
      why: new RegExp(
        `requires IMDSv2 session tokens \\(HTTP 401 to a request without one\\) and did not answer the IMDSv2 token request within 1 s; ${hopLimit}$`,
      ),
    },
    {
      what: "AWS_EC2_METADATA_V1_DISABLED=true and the token PUT unanswered (a container behind a hop limit of 1)",
      imds: { tokenPut: "never" },
      env: { AWS_EC2_METADATA_V1_DISABLED: "true" },
      requests: [["PUT", TOKEN_PATH]],
      why: new RegExp(
        `did not answer the IMDSv2 token request within 1 s, and the IMDSv1 fallback is turned off \\(AWS_EC2_METADATA_V1_DISABLED\\); ${hopLimit}$`,
      ),
    },
    {
      what: "ec2_metadata_v1_disabled in the profile and a 405 to the token PUT",
      imds: { tokenPut: 405 },
      config: "[default]\nec2_metadata_v1_disabled = true\n",
      requests: [["PUT", TOKEN_PATH]],
      why: /refused the IMDSv2 token request \(HTTP 405\), and the IMDSv1 fallback is turned off \(ec2_metadata_v1_disabled in the profile\)$/,
    },
  ];
  for (const c of answered) {
    test(`${c.what}: exit 2 says what the IMDS answered`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "ue-imds-why-"));
      try {
        const configFile = join(dir, "config");
        if (c.config) await writeFile(configFile, c.config);
        await withImds(c.imds, async (imds) => {
          const from = ep.requests.length;
          const run = await runBundle({
            fields: fields(),
            env: onInstance(imds.url, {
              ...c.env,
              ...(c.config ? { AWS_CONFIG_FILE: configFile } : {}),
            }),
          });
          assert.equal(run.code, 2, run.stderr);
          const said = run.doc?.["status_description"] ?? "";
          assert.match(
            said,
            /^AUTHENTICATION_ERROR: no usable AWS credentials .*Could not load credentials from any providers; the EC2 instance metadata service \(127\.0\.0\.1:\d+\) /,
          );
          assert.match(said, c.why);
          assert.deepEqual(
            imds.requests.map((r) => [r.method, r.path]),
            c.requests,
          );
          assert.deepEqual(ep.requests.slice(from), [], "nothing reached Step Functions");
          for (const token of imds.tokens) {
            assert.ok(!run.allBytes.includes(token), "an IMDS session token reached the output");
          }
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  /** A port that accepts connections and never answers on them. */
  async function silentPort(): Promise<{ url: string; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  const refused = async () => ({
    url: `http://127.0.0.1:${await deadPort()}`,
    close: async () => {},
  });
  const noImds: Array<
    [string, () => Promise<{ url: string; close(): Promise<void> }>, Record<string, string>]
  > = [
    ["nothing listens (connection refused)", refused, {}],
    ["the connection is accepted and never answered", silentPort, {}],
    // The SDK's own reason would be its blocked IMDSv1 fallback: no IMDS is the reason.
    [
      "nothing listens, with AWS_EC2_METADATA_V1_DISABLED=true",
      refused,
      { AWS_EC2_METADATA_V1_DISABLED: "true" },
    ],
  ];
  for (const [what, host, extra] of noImds) {
    test(`no IMDS on the host, ${what}: exit 2 saying no credentials were found, and no more`, async (t) => {
      const place = await host();
      try {
        const from = ep.requests.length;
        const began = Date.now();
        const run = await runBundle({ fields: fields(), env: onInstance(place.url, extra) });
        t.diagnostic(`ended after ${Date.now() - began} ms`);
        assert.equal(run.code, 2, run.stderr);
        assert.match(
          run.doc?.["status_description"],
          /^AUTHENTICATION_ERROR: no usable AWS credentials \(CredentialsProviderError on loading credentials from the standard chain\): Could not load credentials from any providers$/,
        );
        assert.deepEqual(ep.requests.slice(from), []);
      } finally {
        await place.close();
      }
    });
  }

  test("the role's secret key and session token reach no file the task writes", async (t) => {
    const place = await mkdtemp(join(tmpdir(), "ue-imds-files-"));
    try {
      await withImds({}, async (imds) => {
        const run = await runBundle({
          fields: fields({
            state_machine_arn: waitArn,
            wait_for_success_or_failure: true,
            polling_interval: 1,
          }),
          env: onInstance(imds.url, {
            TMPDIR: place,
            HOME: place,
            UE_CODE_CACHE: join(place, "code-cache"),
          }),
        });
        assert.equal(run.code, 0, run.stderr);
        assertNoCredentialIn(run.allBytes, imds, "the output");
        const files = await filesUnder(place);
        t.diagnostic(`files: ${files.map((f) => f.path.slice(place.length)).join(", ")}`);
        assert.ok(files.length > 0, "the task wrote no file there");
        for (const f of files) assertNoCredentialIn(f.bytes, imds, f.path);
      });
    } finally {
      await rm(place, { recursive: true, force: true });
    }
  });

  // Node 22.21 and 24.5 onwards send requests made without an agent of their own (as the
  // SDK's metadata providers make them) through HTTP_PROXY when NODE_USE_ENV_PROXY=1; the
  // program reads no proxy variable. (Node 20 reads none at all.)
  const proxies: Array<[string, boolean]> = [
    ["the Proxy fields, HTTP_PROXY, HTTPS_PROXY and NODE_USE_ENV_PROXY=1", true],
    ["HTTP_PROXY, HTTPS_PROXY and NODE_USE_ENV_PROXY=1 only", false],
  ];
  for (const [what, useProxy] of proxies) {
    test(`a proxy never carries an IMDS request: ${what}`, async () => {
      const proxy = await startTestProxy({});
      try {
        await withImds({ requireToken: true }, async (imds) => {
          const run = await runBundle({
            fields: fields(
              useProxy ? { use_proxy: true, proxy_type: ["HTTP"], proxy: proxy.url } : {},
            ),
            env: onInstance(imds.url, {
              HTTP_PROXY: proxy.url,
              HTTPS_PROXY: proxy.url,
              NODE_USE_ENV_PROXY: "1",
            }),
          });
          assert.equal(run.code, 0, run.stderr);
          const imdsHost = new URL(imds.url).host;
          assert.deepEqual(
            proxy.targets().filter((t) => t === imdsHost),
            [],
            "an IMDS request went through the proxy",
          );
          // Step Functions goes through the task's proxy, and only through it.
          const endpoint = new URL(ep.url).host;
          assert.deepEqual([...new Set(proxy.targets())], useProxy ? [endpoint] : []);
          assert.equal(imds.requests[0]?.status, 200, "the token PUT reached the IMDS itself");
          assert.equal(starts().at(-1)?.accessKeyId, imds.served[0]?.accessKeyId);
          assertNoCredentialIn(run.allBytes, imds, "the output");
        });
      } finally {
        await proxy.close();
      }
    });
  }
});
