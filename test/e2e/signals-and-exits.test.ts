/**
 * Signals and the end of the process: the bundle as a child process against the local
 * endpoint. The exit status always equals the document's exit_code, however a SIGTERM
 * races the end of the program; a credential that cannot be sent ends the task at once
 * with a clear message instead of leaving the process behind.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { run } from "../../src/main.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

describe("signals and exits", () => {
  let ep: LocalEndpoint;
  let arn: string;

  before(async () => {
    ep = await startLocalEndpoint();
    arn = ep.createStateMachine({
      name: "quick",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
  });
  after(async () => {
    await ep.close();
  });

  const fields = (extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: arn,
    ...extra,
  });

  test("SIGTERM racing the end of the program: the status always equals the document", async () => {
    // Arrange: how long a whole run takes on this machine now.
    const started = Date.now();
    const first = await runBundle({ fields: fields() });
    assert.equal(first.code, 0, first.stderr);
    const lifetime = Date.now() - started;
    const outcomes = new Map<string, number>();
    // Act: signals around the end of the run, one or two, many times.
    for (let i = 0; i < 60; i++) {
      const delay = lifetime * (0.5 + Math.random() * 0.8);
      const twice = i % 2 === 1;
      const result = await runBundle({
        fields: fields({ wait_for_success_or_failure: i % 4 < 2 }),
        onStart: (child) => {
          setTimeout(() => {
            child.kill("SIGTERM");
            if (twice) setTimeout(() => child.kill("SIGTERM"), 5);
          }, delay);
        },
      });
      // Assert: whenever a document was written, the process ended by itself with its code.
      const key = `${result.code}/${result.signal}/${result.doc?.["exit_code"] ?? "none"}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (result.doc) {
        assertValidDoc(result.doc);
        assert.equal(result.signal, null, `killed by ${result.signal} after writing ${key}`);
        assert.equal(result.code, result.doc.exit_code, key);
      } else {
        // Only a signal that came while Node itself was starting can end it without one.
        assert.equal(result.signal, "SIGTERM", key);
      }
    }
    assert.ok(
      [...outcomes.keys()].some((k) => !k.endsWith("/none")),
      `no run wrote a document: ${JSON.stringify([...outcomes])}`,
    );
  });

  test("a cancel before anything started: exit 27, a document, no request", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ue-early-cancel-"));
    try {
      const before = ep.requests.length;
      const controller = new AbortController();
      controller.abort("SIGTERM");
      const output = join(dir, "out.json");
      const code = await run({
        argv: [],
        env: {
          UE_FIELD_ENDPOINT_URL: ep.url,
          UE_FIELD_CREDENTIALS_USER: ep.credentials.accessKeyId,
          UE_FIELD_CREDENTIALS_PASSWORD: ep.credentials.secretAccessKey,
          UE_FIELD_STATE_MACHINE_ARN: arn,
          UE_EXTENSION_OUTPUT_FILE: output,
        },
        signal: controller.signal,
        log: { info() {}, warn() {}, error() {}, debug() {} },
      });
      const doc = JSON.parse(await readFile(output, "utf8"));
      assert.equal(code, 27);
      assertValidDoc(doc);
      assert.equal(doc.exit_code, 27);
      assert.match(doc.status_description, /^CANCELLED: cancelled before an execution was started/);
      assert.equal(ep.requests.length, before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const badCredentials: Array<[string, Record<string, string>, RegExp]> = [
    [
      "a session token ending in a carriage return",
      { AWS_SESSION_TOKEN: "FwoGZXIvYXdzEXAMPLETOKEN\r" },
      /session token from the environment .* holds a carriage return at its end/,
    ],
    [
      "a session token with a line feed inside",
      { AWS_SESSION_TOKEN: "FwoGZXIv\nYXdz" },
      /session token .* holds a line feed at character 9/,
    ],
    [
      "an access key id with a trailing space",
      { AWS_ACCESS_KEY_ID: "AKIDLOCALTEST0000001 " },
      /access key id .* holds whitespace at its end/,
    ],
  ];
  for (const [name, env, expected] of badCredentials) {
    test(`${name}: exit 2 at once, a document, the process does not linger`, async () => {
      const before = ep.requests.length;
      const result = await runBundle({
        fields: fields({ credentials: undefined }),
        env: {
          AWS_ACCESS_KEY_ID: ep.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: ep.credentials.secretAccessKey,
          ...env,
        },
        // A process left behind by a pending timer would run into this.
        timeoutMs: 20_000,
      });
      assert.equal(result.signal, null, "ended by itself");
      assert.equal(result.code, 2, result.stderr);
      assertValidDoc(result.doc);
      assert.match(result.doc.status_description, expected);
      assert.equal(ep.requests.length, before, "nothing was sent");
      assert.ok(!result.allBytes.includes("FwoGZXIv"), "the token is never shown");
    });
  }
});
