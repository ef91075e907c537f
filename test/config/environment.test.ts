import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readEnvironment, readFiles } from "../../src/config/environment.ts";
import { resolveConfig } from "../../src/config/resolve.ts";
import { readFields } from "../../src/fields/read.ts";
import { filesNamedBy, validate } from "../../src/fields/validate.ts";
import { createTestCa } from "../helpers/certificates.ts";

const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:Orders";
let dir: string;
let missingConfig: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ue-env-"));
  missingConfig = join(dir, "no-such-config");
});
after(() => rm(dir, { recursive: true, force: true }));

/** The environment as the program sees it, with no shared file of the machine in play. */
function env(vars: Record<string, string>): Record<string, string> {
  return { AWS_CONFIG_FILE: missingConfig, AWS_SHARED_CREDENTIALS_FILE: missingConfig, ...vars };
}

async function configFile(text: string): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}`);
  await writeFile(path, text);
  return path;
}

describe("settings from the environment", () => {
  test("defaults when nothing is set", async () => {
    const { settings, problems } = await readEnvironment(env({}));
    assert.deepEqual(problems, []);
    assert.equal(settings.connectTimeoutMs, 10_000);
    assert.equal(settings.requestTimeoutMs, 60_000);
    assert.equal(settings.statusFailureLimitMs, 900_000);
    assert.equal(settings.maxAttempts, 3);
    assert.equal(settings.retryMode, "standard");
    assert.equal(settings.useFipsEndpoint, false);
    assert.equal(settings.useDualstackEndpoint, false);
    assert.equal(settings.region, undefined);
    assert.deepEqual(settings.waitSharing, { enabled: true });
    assert.equal(
      settings.context.executionCount,
      undefined,
      "no count: the run finds its place from AWS",
    );
  });

  test("valid values are read", async () => {
    const { settings, problems } = await readEnvironment(
      env({
        UE_AWS_CONNECT_TIMEOUT_MS: "2500",
        UE_AWS_REQUEST_TIMEOUT_MS: " 900 ",
        UE_STATUS_FAILURE_LIMIT_SECONDS: "60",
        AWS_MAX_ATTEMPTS: "5",
        AWS_RETRY_MODE: "adaptive",
        AWS_USE_FIPS_ENDPOINT: "true",
        AWS_USE_DUALSTACK_ENDPOINT: "true",
        AWS_REGION: "eu-central-1",
        UE_EXECUTION_COUNT: "3",
        UE_WAIT_SHARING: " OFF ",
        UE_WAIT_SHARING_DIR: "/var/tmp/waits",
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(settings.waitSharing, { enabled: false, folder: "/var/tmp/waits" });
    assert.equal(settings.connectTimeoutMs, 2500);
    assert.equal(settings.requestTimeoutMs, 900);
    assert.equal(settings.statusFailureLimitMs, 60_000);
    assert.equal(settings.maxAttempts, 5);
    assert.equal(settings.retryMode, "adaptive");
    assert.equal(settings.useFipsEndpoint, true);
    assert.equal(settings.useDualstackEndpoint, true);
    assert.deepEqual(settings.region, { value: "eu-central-1", source: "AWS_REGION" });
    assert.equal(settings.context.executionCount, 3);
  });

  // [variable, bad value, start of the expected message]
  const bad: [string, string, RegExp][] = [
    ["UE_AWS_CONNECT_TIMEOUT_MS", "soon", /whole number of milliseconds from 1 to 3600000/],
    ["UE_AWS_CONNECT_TIMEOUT_MS", "0", /whole number of milliseconds from 1 to 3600000/],
    ["UE_AWS_REQUEST_TIMEOUT_MS", "-5", /whole number of milliseconds from 1 to 3600000/],
    ["UE_AWS_REQUEST_TIMEOUT_MS", "1.5", /whole number of milliseconds/],
    ["UE_AWS_REQUEST_TIMEOUT_MS", "10s", /whole number of milliseconds/],
    ["UE_AWS_REQUEST_TIMEOUT_MS", "3600001", /from 1 to 3600000/],
    ["UE_STATUS_FAILURE_LIMIT_SECONDS", "ten", /whole number of seconds/],
    ["UE_STATUS_FAILURE_LIMIT_SECONDS", "0", /whole number of seconds from 1/],
    ["AWS_MAX_ATTEMPTS", "3abc", /whole number from 1 to 100/],
    ["AWS_MAX_ATTEMPTS", "0", /whole number from 1 to 100/],
    ["UE_EXECUTION_COUNT", "9".repeat(400), /whole number from 1 to/],
    ["UE_EXECUTION_COUNT", "0", /whole number from 1 to/],
    ["UE_EXECUTION_COUNT", "1000000000", /whole number from 1 to 999999999/],
    ["UE_EXECUTION_COUNT", "1e3", /whole number from 1 to/],
    ["AWS_RETRY_MODE", "fast", /standard, adaptive or legacy/],
    ["AWS_USE_FIPS_ENDPOINT", "yes", /true or false/],
    ["AWS_USE_DUALSTACK_ENDPOINT", "1", /true or false/],
    ["AWS_REGION", "eu west 1", /region code such as eu-west-1/],
    ["AWS_REGION", "us-east-1.attacker.example#", /region code such as eu-west-1/],
    ["AWS_DEFAULT_REGION", "eu-west-1/x", /region code such as eu-west-1/],
    ["AWS_ENDPOINT_URL", "ftp://x", /https:\/\/ or http:\/\//],
    ["AWS_ENDPOINT_URL_SFN", "not a url", /must be a URL/],
    ["AWS_ENDPOINT_URL_SFN", "http://u:pa/ss@127.0.0.1:1", /must not contain credentials/],
    ["AWS_ENDPOINT_URL", "http://u:p@127.0.0.1:1", /must not contain credentials/],
    ["UE_STATUS_FAILURE_LIMIT_SECONDS", "604801", /whole number of seconds from 1 to 604800/],
    ["UE_STATUS_FAILURE_LIMIT_SECONDS", "9".repeat(400), /whole number of seconds/],
    ["AWS_CA_BUNDLE", "/no/such/ca.pem", /cannot read/],
    ["UE_WAIT_SHARING", "maybe", /must be on or off \(got "maybe"\)/],
    ["UE_WAIT_SHARING", "false", /must be on or off/],
    ["UE_WAIT_SHARING_DIR", "relative/dir", /must be an absolute path/],
  ];
  for (const [name, value, message] of bad) {
    test(`${name}=${value.length > 20 ? `${value.slice(0, 12)}...` : value} is a problem named by the variable`, async () => {
      const { problems } = await readEnvironment(env({ [name]: value }));
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]?.label, name);
      assert.match(problems[0]?.message ?? "", message);
    });
  }

  test("AWS_CA_BUNDLE naming a named pipe no one writes to: a problem at once, not a read that never ends", async () => {
    const fifo = join(dir, "ca-fifo.pem");
    execFileSync("mkfifo", [fifo]);
    try {
      const { problems } = await readEnvironment(env({ AWS_CA_BUNDLE: fifo }));
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]?.label, "AWS_CA_BUNDLE");
      assert.equal(
        problems[0]?.message,
        `${fifo} is not a file; expected a PEM file of CA certificates`,
      );
    } finally {
      await rm(fifo);
    }
  });

  test("the region of the shared config profile, read with the SDK's loader, is checked", async () => {
    const good = await configFile(
      "[default]\nregion = ap-south-1\n[profile ops]\nregion=eu-north-1\n",
    );
    const fromDefault = await readEnvironment(env({ AWS_CONFIG_FILE: good }));
    assert.deepEqual(fromDefault.settings.region, {
      value: "ap-south-1",
      source: "the shared config file's region",
    });
    const fromProfile = await readEnvironment(env({ AWS_CONFIG_FILE: good, AWS_PROFILE: "ops" }));
    assert.equal(fromProfile.settings.region?.value, "eu-north-1");

    const crafted = await configFile("[default]\nregion = evil.example.com/#\n");
    const { problems } = await readEnvironment(env({ AWS_CONFIG_FILE: crafted }));
    assert.equal(problems[0]?.label, "the shared config file's region");
    assert.match(problems[0]?.message ?? "", /region code/);
  });

  test("max_attempts, retry_mode and FIPS from the profile; the variables win", async () => {
    const file = await configFile(
      "[default]\nmax_attempts = 7\nretry_mode = adaptive\nuse_fips_endpoint = true\n",
    );
    const fromFile = await readEnvironment(env({ AWS_CONFIG_FILE: file }));
    assert.equal(fromFile.settings.maxAttempts, 7);
    assert.equal(fromFile.settings.retryMode, "adaptive");
    assert.equal(fromFile.settings.useFipsEndpoint, true);
    const overridden = await readEnvironment(
      env({ AWS_CONFIG_FILE: file, AWS_MAX_ATTEMPTS: "2", AWS_USE_FIPS_ENDPOINT: "false" }),
    );
    assert.equal(overridden.settings.maxAttempts, 2);
    assert.equal(overridden.settings.useFipsEndpoint, false);
    const badFile = await configFile("[default]\nmax_attempts = lots\n");
    const { problems } = await readEnvironment(env({ AWS_CONFIG_FILE: badFile }));
    assert.equal(problems[0]?.label, "the shared config file's max_attempts");
  });

  test("access keys from the environment, any key id shape, unless a profile is named", async () => {
    const keys = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test-secret-value" };
    const { settings } = await readEnvironment(env(keys));
    assert.deepEqual(settings.credentials, {
      accessKeyId: "test",
      secretAccessKey: "test-secret-value",
    });
    const withProfile = await readEnvironment(env({ ...keys, AWS_PROFILE: "ops" }));
    assert.equal(withProfile.settings.credentials, undefined);
  });
});

describe("resolving the run's configuration", () => {
  async function resolve(fields: Record<string, string>, vars: Record<string, string>) {
    const raw = readFields({ UE_FIELD_STATE_MACHINE_ARN: ARN, ...fields }, []);
    const task = validate(raw.values, raw.problems);
    const { settings, problems } = await readEnvironment(env(vars));
    assert.deepEqual(problems, []);
    return resolveConfig(task, settings);
  }

  test("region: the field, else the environment, else the state machine ARN", async () => {
    assert.equal(
      (await resolve({ UE_FIELD_REGION: "eu-west-1" }, { AWS_REGION: "us-east-1" })).aws
        .regionSource,
      "the AWS Region field",
    );
    const fromEnv = await resolve({}, { AWS_DEFAULT_REGION: "eu-west-1" });
    assert.deepEqual(
      [fromEnv.aws.region, fromEnv.aws.regionSource],
      ["eu-west-1", "AWS_DEFAULT_REGION"],
    );
    // An environment region that is not the ARN's gives way to it, and the log says so.
    const otherRegion = await resolve({}, { AWS_DEFAULT_REGION: "us-west-2" });
    assert.deepEqual(
      [otherRegion.aws.region, otherRegion.aws.regionSource],
      [
        "eu-west-1",
        "the state machine ARN; AWS_DEFAULT_REGION names us-west-2, where it cannot be called",
      ],
    );
    const fromArn = await resolve({}, {});
    assert.deepEqual(
      [fromArn.aws.region, fromArn.aws.regionSource],
      ["eu-west-1", "the state machine ARN"],
    );
  });

  test("endpoint: the field over AWS_ENDPOINT_URL_SFN over AWS_ENDPOINT_URL", async () => {
    const both = {
      AWS_ENDPOINT_URL_SFN: "http://sfn.local:1",
      AWS_ENDPOINT_URL: "http://all.local:2",
    };
    assert.equal((await resolve({}, both)).aws.endpointUrl, "http://sfn.local:1");
    assert.equal(
      (await resolve({}, { AWS_ENDPOINT_URL: "http://all.local:2" })).aws.endpointUrl,
      "http://all.local:2",
    );
    assert.equal(
      (await resolve({ UE_FIELD_ENDPOINT_URL: "https://field.local" }, both)).aws.endpointUrl,
      "https://field.local",
    );
  });

  test("credentials: the field, else the environment's keys, else the standard chain", async () => {
    const keys = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "env-secret-value" };
    const field = {
      UE_FIELD_CREDENTIALS_USER: "test",
      UE_FIELD_CREDENTIALS_PASSWORD: "field-secret",
    };
    assert.equal((await resolve(field, keys)).aws.credentials.source, "the AWS Credentials field");
    const fromEnv = (await resolve({}, keys)).aws.credentials;
    assert.equal(fromEnv.kind === "static" && fromEnv.accessKeyId, "AKIDENV");
    assert.equal((await resolve({}, {})).aws.credentials.kind, "chain");
  });

  test("timeouts, attempts and the failure limit reach the config the action receives", async () => {
    const config = await resolve(
      {},
      {
        UE_AWS_CONNECT_TIMEOUT_MS: "1234",
        AWS_MAX_ATTEMPTS: "4",
        UE_STATUS_FAILURE_LIMIT_SECONDS: "30",
      },
    );
    assert.equal(config.aws.http.connectTimeoutMs, 1234);
    assert.equal(config.aws.http.requestTimeoutMs, 60_000);
    assert.equal(config.aws.maxAttempts, 4);
    assert.equal(config.statusFailureLimitMs, 30_000);
  });
});

describe("validation reads no file", () => {
  test("the Proxy CA Bundle File is read before validation, which only checks what was read", () => {
    const ca = createTestCa("purity");
    try {
      const raw = readFields(
        {
          UE_FIELD_STATE_MACHINE_ARN: ARN,
          UE_FIELD_USE_PROXY: "true",
          UE_FIELD_PROXY_TYPE: "HTTPS",
          UE_FIELD_PROXY: "https://proxy.example:3128",
          UE_FIELD_PROXY_CA_BUNDLE_FILE: ca.certFile,
        },
        [],
      );
      assert.deepEqual(filesNamedBy(raw.values), [ca.certFile]);
      const read = validate(raw.values, raw.problems, {
        files: readFiles(filesNamedBy(raw.values)),
      });
      assert.match(read.proxy?.caBundle ?? "", /BEGIN CERTIFICATE/);
      // The file exists, but validation was handed nothing: it does not go and read it.
      assert.throws(
        () => validate(raw.values, raw.problems, { files: new Map() }),
        /Proxy CA Bundle File: .* does not exist/,
      );
    } finally {
      ca.remove();
    }
  });
});
