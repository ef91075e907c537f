/**
 * Signals and the end of the process: the bundle as a child process against the local
 * endpoint. The exit status always equals the document's exit_code, however a SIGTERM
 * races the end of the program; a credential that cannot be sent ends the task at once
 * with a clear message instead of leaving the process behind.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, readSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { run } from "../../src/main.ts";
import { assertValidDoc, runBundle, waitForOutputField } from "../helpers/bundle.ts";

describe("signals and exits", () => {
  let ep: LocalEndpoint;
  let arn: string;
  let long: string;
  let twoSeconds: string;

  before(async () => {
    ep = await startLocalEndpoint();
    arn = ep.createStateMachine({
      name: "quick",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    long = ep.createStateMachine({
      name: "long",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 120, End: true } } },
    });
    twoSeconds = ep.createStateMachine({
      name: "twoSeconds",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 2, End: true } } },
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

  // The cancel that needs no console (UE_CANCEL_ON_STDIN=1, as the bridge starts the program).
  const waiting = (machine: string) =>
    fields({ state_machine_arn: machine, wait_for_success_or_failure: true, polling_interval: 1 });
  const CANCELLING = /received "cancel" on standard input: cancelling/g;
  /** A waiting task with the channel on; `act` runs once its execution has started. */
  const withChannel = (act: (child: ChildProcess) => void) =>
    runBundle({
      fields: waiting(long),
      env: { UE_CANCEL_ON_STDIN: "1" },
      stdin: "pipe",
      timeoutMs: 30_000,
      onStart: (child, file) => {
        void waitForOutputField(file, "execution_arn").then(() => act(child));
      },
    });

  test('with UE_CANCEL_ON_STDIN=1 a line "cancel" on standard input cancels like SIGTERM; other lines do not', async () => {
    let firstWrite = 0;
    const run = await withChannel((child) => {
      firstWrite = Date.now();
      child.stdin?.write("hello\n  CANCEL\ncancelled\ncanc");
      // The line's end comes later, in a chunk of its own.
      setTimeout(() => child.stdin?.write("el \r\n"), 1_500);
    });
    const took = Date.now() - firstWrite;

    assert.equal(run.code, 27, run.stderr);
    assertValidDoc(run.doc);
    assert.match(run.doc.status_description, /^CANCELLED: task cancelled; execution \S+ stopped/);
    assert.equal(run.doc.result.status, "ABORTED");
    assert.equal(ep.getExecution(run.doc.result.executionArn)?.status, "ABORTED");
    assert.equal(run.stderr.match(CANCELLING)?.length, 1, run.stderr);
    assert.ok(took >= 1_500, `cancelled only by the "cancel" line (${took} ms)`);
  });

  test('a line "cancel" and SIGTERM together are one cancel (the bridge sends both); a second line ends the program at once', async () => {
    // The stop is held at the endpoint until the program has seen the signal too: the test
    // process may be descheduled between the line and the signal for longer than the whole
    // orderly stop takes (the signal then comes after the document).
    let release = () => {};
    const seenBoth = new Promise<void>((resolve) => {
      release = resolve;
    });
    ep.faults.set({ holdUntil: seenBoth, operations: ["StopExecution"] });
    let once: Awaited<ReturnType<typeof withChannel>>;
    try {
      once = await withChannel((child) => {
        let text = "";
        child.stderr?.on("data", (chunk: Buffer) => {
          text += String(chunk);
          if (/as well: the cancel is under way/.test(text)) release();
        });
        // Within the stop's own 5 s: without the line, the assertions below say why.
        setTimeout(release, 3_000).unref();
        child.stdin?.write("cancel\n");
        child.kill("SIGTERM");
      });
    } finally {
      release();
      ep.faults.reset();
    }
    assert.equal(once.code, 27, once.stderr);
    assertValidDoc(once.doc);
    assert.match(once.doc.status_description, /stopped/, "the orderly stop finished");
    assert.equal(ep.getExecution(once.doc.result.executionArn)?.status, "ABORTED");
    assert.match(once.stderr, / as well: the cancel is under way/);

    const twice = await withChannel((child) => child.stdin?.write("cancel\ncancel\n"));
    assert.equal(twice.code, 27, twice.stderr);
    assertValidDoc(twice.doc);
    assert.match(
      twice.doc.status_description,
      /^CANCELLED: cancelled again before the cancel finished/,
    );
    assert.match(twice.stderr, /received "cancel" on standard input again: ending now/);
  });

  test("standard input is read only with UE_CANCEL_ON_STDIN=1, and its end does not cancel", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ue-stdin-"));
    try {
      // The test keeps the file open: what the program reads moves the offset they share.
      const unread = (text: string) => {
        const file = join(dir, `input-${Math.random()}`);
        writeFileSync(file, text);
        return openSync(file, "r");
      };
      const rest = (fd: number) => {
        const buffer = Buffer.alloc(64);
        const length = readSync(fd, buffer, 0, buffer.length, null);
        closeSync(fd);
        return buffer.subarray(0, length).toString();
      };
      const without = unread("cancel\n");
      const plain = await runBundle({ fields: fields(), stdin: without });
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(rest(without), "cancel\n", "without the variable the input is not read");

      const withIt = unread("not a cancel\n");
      const reading = await runBundle({
        fields: fields(),
        env: { UE_CANCEL_ON_STDIN: "1" },
        stdin: withIt,
      });
      assert.equal(reading.code, 0, reading.stderr);
      assert.equal(rest(withIt), "", "with it the input is read, to its end");

      const closed = await runBundle({
        fields: waiting(twoSeconds),
        env: { UE_CANCEL_ON_STDIN: "1" },
        stdin: "pipe",
        onStart: (child) => child.stdin?.end(),
      });
      assert.equal(closed.code, 0, closed.stderr);
      assertValidDoc(closed.doc);
      assert.equal(closed.doc.result.status, "SUCCEEDED");

      const misspelt = await runBundle({ fields: fields(), env: { UE_CANCEL_ON_STDIN: "yes" } });
      assert.equal(misspelt.code, 20, misspelt.stderr);
      assert.match(misspelt.doc?.["status_description"], /UE_CANCEL_ON_STDIN: must be 1 /);
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
