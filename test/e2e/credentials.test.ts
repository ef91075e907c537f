/**
 * End to end: where credentials come from when the AWS Credentials field is empty, the
 * environment, a shared profile, container metadata that expires or refuses, nothing at all, and
 * where the region comes from.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, cleanEnv, runBundle } from "../helpers/bundle.ts";
import { bundleNode } from "../helpers/node-versions.ts";
import { BUNDLE, requireBuilt } from "../helpers/paths.ts";

/** A user id without an entry in the user database (checked by the test that uses it). */
const UNKNOWN_UID = 54321;

/** Root with setpriv, and Node.js runs as the unknown user id (not inside a private folder). */
/** A command run as another user id (setpriv), to its end. */
function runAs(
  uid: number,
  command: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<{ status: number | null; stderr: string }> {
  const id = String(uid);
  const child = spawn("setpriv", ["--reuid", id, "--regid", id, "--clear-groups", ...command], {
    ...options,
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 30_000,
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stderr })));
}

function runsAsRootWithSetpriv(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  if (spawnSync("id", [String(UNKNOWN_UID)]).status === 0) return false;
  const id = String(UNKNOWN_UID);
  const node = spawnSync("setpriv", [
    "--reuid",
    id,
    "--regid",
    id,
    "--clear-groups",
    bundleNode(),
    "--version",
  ]);
  return node.status === 0;
}

describe("credentials and region from the agent host", () => {
  let ep: LocalEndpoint;
  let dir: string;
  let arn: string;
  let waitArn: string;

  before(async () => {
    ep = await startLocalEndpoint({ region: "eu-west-1" });
    dir = await mkdtemp(join(tmpdir(), "ue-creds-"));
    arn = ep.createStateMachine({
      name: "hostCreds",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    waitArn = ep.createStateMachine({
      name: "hostCredsWait",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 3, End: true } } },
    });
  });
  after(async () => {
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fields = (extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    state_machine_arn: arn,
    ...extra,
  });
  const lastCaller = () => ep.requests.filter((r) => r.operation === "StartExecution").at(-1);

  test("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment", async () => {
    const run = await runBundle({
      fields: fields(),
      env: {
        AWS_ACCESS_KEY_ID: ep.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: ep.credentials.secretAccessKey,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /credentials from the environment/);
    assert.equal(lastCaller()?.accessKeyId, ep.credentials.accessKeyId);
  });

  test("a profile of the shared credentials file (the SDK chain, loaded on demand)", async () => {
    const file = join(dir, "credentials");
    await writeFile(
      file,
      `[batch]\naws_access_key_id = ${ep.credentials.accessKeyId}\naws_secret_access_key = ${ep.credentials.secretAccessKey}\n`,
    );
    const run = await runBundle({
      fields: fields(),
      env: {
        AWS_SHARED_CREDENTIALS_FILE: file,
        AWS_PROFILE: "batch",
        // The profile wins over these, as in the SDK.
        AWS_ACCESS_KEY_ID: "AKIAIGNOREDBYPROFILE",
        AWS_SECRET_ACCESS_KEY: "ignored-by-profile",
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /standard credential chain/);
    // The SDK's warning about the two sources is a line of the log, as every line is.
    for (const line of run.stderr.split("\n").filter((l) => l)) {
      assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO|WARN) /);
    }
    assert.match(run.stderr, / WARN {2}Multiple credential sources detected: Both AWS_PROFILE /);
  });

  test("a profile's role_arn with source_profile is assumed in the task's region, not us-east-1", async () => {
    const credentials = join(dir, "credentials-role-base");
    await writeFile(
      credentials,
      `[base]\naws_access_key_id = ${ep.credentials.accessKeyId}\naws_secret_access_key = ${ep.credentials.secretAccessKey}\n`,
    );
    // No region in the profile: the region comes from the state machine ARN (eu-west-1).
    const config = join(dir, "config-role");
    await writeFile(
      config,
      "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/Ops\nsource_profile = base\n",
    );
    const run = await runBundle({
      fields: fields(),
      env: {
        AWS_SHARED_CREDENTIALS_FILE: credentials,
        AWS_CONFIG_FILE: config,
        AWS_PROFILE: "ops",
        AWS_ENDPOINT_URL_STS: ep.url,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    // The endpoint refuses a signature scoped to another region than its own.
    const assume = ep.requests.filter((r) => r.operation === "AssumeRole").at(-1);
    assert.equal(assume?.status, 200);
    assert.match(lastCaller()?.accessKeyId ?? "", /^ASIA/);
    assert.doesNotMatch(run.stderr, /us-east-1/);
  });

  test("no credentials anywhere: exit 2 with a message that says so", async () => {
    const run = await runBundle({ fields: fields() });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.doc?.["status_description"], /^AUTHENTICATION_ERROR: .*credential/i);
  });

  test("AWS_PROFILE naming a profile neither shared file holds: exit 2 naming it", async () => {
    const file = join(dir, "credentials-without-nightly");
    await writeFile(
      file,
      `[batch]\naws_access_key_id = ${ep.credentials.accessKeyId}\naws_secret_access_key = ${ep.credentials.secretAccessKey}\n`,
    );
    const config = join(dir, "config-without-nightly");
    await writeFile(config, "[profile other]\nregion = eu-west-1\n");
    const run = await runBundle({
      fields: fields(),
      env: { AWS_SHARED_CREDENTIALS_FILE: file, AWS_CONFIG_FILE: config, AWS_PROFILE: "nightly" },
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.doc?.["status_description"],
      /^AUTHENTICATION_ERROR: no usable AWS credentials .*; AWS_PROFILE names the profile "nightly", which neither .*credentials-without-nightly nor .*config-without-nightly holds$/,
    );
  });

  /** The environment of a profile "nightly" whose credential_process runs this shell script. */
  async function credentialProcessProfile(name: string, body: string, args = "") {
    const script = join(dir, `${name}-credential-process.sh`);
    await writeFile(script, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    const config = join(dir, `config-with-${name}-process`);
    await writeFile(
      config,
      `[profile nightly]\nregion = eu-west-1\ncredential_process = ${script}${args}\n`,
    );
    return {
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-credentials-file"),
      AWS_CONFIG_FILE: config,
      AWS_PROFILE: "nightly",
    };
  }

  test("a profile's credential_process that fails: exit 2 with what it wrote on stderr, not its command line", {
    skip: process.platform === "win32" ? "a shell script as credential_process" : false,
  }, async () => {
    const env = await credentialProcessProfile(
      "failing",
      "echo 'checking the cache' >&2\necho 'token expired: run the login again' >&2\nexit 3",
      " --password cmdline-canary-SECRET",
    );
    const run = await runBundle({ fields: fields(), env });
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.doc?.["status_description"],
      /^AUTHENTICATION_ERROR: no usable AWS credentials .*; the profile's credential_process ended with an error: checking the cache \/ token expired: run the login again$/,
    );
    assert.ok(!run.allBytes.includes("cmdline-canary"), "the command line stays out");
  });

  test("a credential_process that never answers: the log says what the task waits for after 15 s, and SIGTERM still ends it at once, exit 27", {
    skip: process.platform === "win32" ? "a shell script as credential_process" : false,
  }, async () => {
    // It waits for a line on its standard input, which the SDK keeps open and never writes.
    const env = await credentialProcessProfile("waiting", "read answer");
    const from = ep.requests.length;
    let startedAt = 0;
    let noticedAfter = 0;
    const run = await runBundle({
      fields: fields(),
      env,
      // Killed (no exit code) if the cancel does not end it.
      timeoutMs: 60_000,
      onStart: (child) => {
        let text = "";
        child.stderr?.on("data", (chunk: Buffer) => {
          text += String(chunk);
          if (!startedAt && /starting execution/.test(text)) startedAt = Date.now();
          if (!noticedAfter && /no credentials from the standard credential chain/.test(text)) {
            noticedAfter = Date.now() - startedAt;
            child.kill("SIGTERM");
          }
        });
      },
    });
    assert.equal(run.code, 27, run.stderr);
    assert.match(
      run.stderr,
      /WARN.*no credentials from the standard credential chain after \d+:\d\d:\d\d; still waiting \(a profile's credential_process that waits for input never answers: it is given none\); a cancel ends the task/,
    );
    assert.ok(noticedAfter >= 14_000, `the notice came ${noticedAfter} ms after the start`);
    assert.doesNotMatch(run.stderr, /ending now/, "one signal was enough");
    // No request went out without credentials: nothing started, and nothing to stop.
    assert.match(
      run.doc?.["status_description"],
      /^CANCELLED: task cancelled before the start of execution \S+ was sent to AWS; it did not start$/,
    );
    assert.equal(run.doc?.["changed"], false);
    assert.equal(run.doc?.["result"], null);
    assert.doesNotMatch(run.stderr, /ERROR/);
    assert.deepEqual(ep.requests.slice(from), []);
  });

  test("container credentials that expire every second are fetched again through a wait", async () => {
    ep.sts.setExpirySeconds(1);
    const sts = new STSClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
    let served = 0;
    const metadata: Server = createServer((_req, res) => {
      void sts
        .send(
          new AssumeRoleCommand({
            RoleArn: "arn:aws:iam::123456789012:role/task",
            RoleSessionName: "task",
          }),
        )
        .then((reply) => {
          served++;
          const c = reply.Credentials;
          res.setHeader("content-type", "application/json");
          res.end(
            JSON.stringify({
              AccessKeyId: c?.AccessKeyId,
              SecretAccessKey: c?.SecretAccessKey,
              Token: c?.SessionToken,
              Expiration: c?.Expiration?.toISOString(),
            }),
          );
        });
    });
    await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
    try {
      const port = (metadata.address() as AddressInfo).port;
      const run = await runBundle({
        fields: fields({
          state_machine_arn: waitArn,
          wait_for_success_or_failure: true,
          polling_interval: 1,
        }),
        env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/creds` },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.doc?.["result"].status, "SUCCEEDED");
      assert.ok(served >= 3, `metadata asked only ${served} times`);
      assert.doesNotMatch(run.stderr, /status check failed/);
    } finally {
      ep.sts.setExpirySeconds(undefined);
      sts.destroy();
      metadata.close();
    }
  });

  // The container credentials endpoint the environment names gave nothing: exit 2 says what
  // it answered, naming the variable and the host, never the URI's path nor the token.
  const refusedContainer: Array<{
    what: string;
    /** The endpoint's answer, or "nothing listens". */
    answer: number | "nothing listens";
    env: Record<string, string>;
    why: RegExp;
  }> = [
    {
      what: "403 to the authorization token",
      answer: 403,
      env: { AWS_CONTAINER_AUTHORIZATION_TOKEN: "Basic container-token-CANARY" },
      why: /; the container credentials endpoint \(AWS_CONTAINER_CREDENTIALS_FULL_URI, 127\.0\.0\.1:\d+\) answered HTTP 403: it refused the authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN$/,
    },
    {
      what: "nothing listens",
      answer: "nothing listens",
      env: {},
      why: /; the container credentials endpoint \(AWS_CONTAINER_CREDENTIALS_FULL_URI, 127\.0\.0\.1:\d+\) could not be reached \(error ECONNREFUSED\)$/,
    },
  ];
  for (const c of refusedContainer) {
    test(`container credentials endpoint, ${c.what}: exit 2 says what it answered`, async () => {
      const tokens: Array<string | undefined> = [];
      const metadata: Server = createServer((req, res) => {
        tokens.push(req.headers.authorization);
        res.statusCode = typeof c.answer === "number" ? c.answer : 500;
        res.end(JSON.stringify({ Code: "Refused", Message: "refused" }));
      });
      await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
      const port = (metadata.address() as AddressInfo).port;
      if (c.answer === "nothing listens") await new Promise((resolve) => metadata.close(resolve));
      try {
        const from = ep.requests.length;
        const run = await runBundle({
          fields: fields(),
          env: {
            AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/v1/credentials-path-CANARY?id=query-CANARY`,
            ...c.env,
          },
        });
        assert.equal(run.code, 2, run.stderr);
        assert.match(
          run.doc?.["status_description"],
          /^AUTHENTICATION_ERROR: no usable AWS credentials .*Could not load credentials from any providers; /,
        );
        assert.match(run.doc?.["status_description"], c.why);
        assert.doesNotMatch(
          run.allBytes,
          /CANARY/,
          "the URI's path or the token reached the output",
        );
        assert.deepEqual(ep.requests.slice(from), []);
        if (typeof c.answer === "number") {
          assert.ok(
            tokens.length > 0 &&
              tokens.every((t) => t === c.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]),
          );
        }
      } finally {
        metadata.close();
      }
    });
  }

  test("region: the state machine ARN's when nothing else names one", async () => {
    const run = await runBundle({
      fields: fields({
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
      }),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /region eu-west-1 \(from the state machine ARN\)/);
  });

  test("region: AWS_REGION names it when it is the ARN's; another gives way to the ARN's", async () => {
    const withCredentials = fields({
      credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    });
    const same = await runBundle({ fields: withCredentials, env: { AWS_REGION: "eu-west-1" } });
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /region eu-west-1 \(from AWS_REGION\)/);
    // An agent-wide AWS_REGION elsewhere: the state machine is called in its own region.
    const other = await runBundle({ fields: withCredentials, env: { AWS_REGION: "eu-central-1" } });
    assert.equal(other.code, 0, other.stderr);
    assert.match(
      other.stderr,
      /region eu-west-1 \(from the state machine ARN; AWS_REGION names eu-central-1, where it cannot be called\)/,
    );
  });

  test("HOME empty: no .aws of the working directory is read (its credential_process never runs)", async () => {
    const work = await mkdtemp(join(dir, "work-"));
    const marker = join(work, "credential-process-ran");
    await mkdir(join(work, ".aws"));
    await writeFile(
      join(work, ".aws", "config"),
      `[default]\ncredential_process = /bin/sh -c "touch '${marker}'; echo '{\\"Version\\":1,\\"AccessKeyId\\":\\"${ep.credentials.accessKeyId}\\",\\"SecretAccessKey\\":\\"${ep.credentials.secretAccessKey}\\"}'"\n`,
    );
    const run = await runBundle({
      fields: fields(),
      cwd: work,
      env: { HOME: "", AWS_CONFIG_FILE: undefined, AWS_SHARED_CREDENTIALS_FILE: undefined },
    });
    assert.ok(!existsSync(marker), "the planted credential_process ran");
    assertValidDoc(run.doc);
    assert.match(run.stderr, / WARN {2}HOME is "", not an absolute path/);
  });

  test("a user id with no entry in the user database and no HOME: the task runs, ~/.aws is not read", {
    skip: !runsAsRootWithSetpriv() && "needs root and setpriv to take an unknown user id",
  }, async () => {
    const open = await mkdtemp(join(tmpdir(), "ue-nouser-"));
    try {
      await chmod(open, 0o777);
      const document = join(open, "extension-output.json");
      // A copy the user id can read wherever the checkout is.
      const bundle = join(open, "ue-aws-stepfunctions.cjs");
      await copyFile(requireBuilt(BUNDLE), bundle);
      const env = cleanEnv({
        UE_EXTENSION_OUTPUT_FILE: document,
        UE_TASK_INSTANCE_ID: `nouser${Date.now()}`,
      });
      delete env["HOME"];
      env["UE_FIELD_ENDPOINT_URL"] = ep.url;
      env["UE_FIELD_STATE_MACHINE_ARN"] = arn;
      env["UE_FIELD_CREDENTIALS_USER"] = ep.credentials.accessKeyId;
      env["UE_FIELD_CREDENTIALS_PASSWORD"] = ep.credentials.secretAccessKey;
      env["TMPDIR"] = open;
      const uid = String(UNKNOWN_UID);
      // Asynchronous: the local endpoint answers from this process.
      const child = await runAs(UNKNOWN_UID, [bundleNode(), bundle], { env, cwd: open });
      assert.equal(child.status, 0, child.stderr);
      assert.match(
        child.stderr,
        new RegExp(
          `INFO {2}no home folder \\(HOME is not set and user id ${uid} has no entry in the user database\\)`,
        ),
      );
      assert.equal(JSON.parse(await readFile(document, "utf8")).exit_code, 0);
    } finally {
      await rm(open, { recursive: true, force: true });
    }
  });
});
