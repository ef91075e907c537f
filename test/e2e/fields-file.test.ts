/**
 * The fields file once read, with the bundle as a child process against the local endpoint:
 * the bridge's (UE_FIELDS_FILE with UE_REMOVE_FIELDS_FILE=1) is gone before the first call
 * to AWS; a file a person names is left in place.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

describe("the fields file once read", () => {
  let ep: LocalEndpoint;
  let dir: string;
  let machine: string;

  before(async () => {
    ep = await startLocalEndpoint();
    dir = await mkdtemp(join(tmpdir(), "ue-fields-file-"));
    machine = ep.createStateMachine({
      name: "quick",
      definition: { StartAt: "Done", States: { Done: { Type: "Pass", End: true } } },
    });
  });
  after(async () => {
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fields = (extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: machine,
    ...extra,
  });

  /** Polls the endpoint's request log until a call is held there; false if the child ended. */
  const heldCall = async (child: import("node:child_process").ChildProcess) => {
    while (!ep.requests.some((r) => r.fault === "held")) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };

  test("with UE_REMOVE_FIELDS_FILE=1 the file UE_FIELDS_FILE names is gone when the first call reaches AWS", async () => {
    ep.clearRequests();
    let release = () => {};
    ep.faults.set({ holdUntil: new Promise<void>((r) => (release = r)) });
    let atFirstCall: boolean | undefined;
    try {
      const run = await runBundle({
        fields: fields(),
        env: { UE_REMOVE_FIELDS_FILE: "1", UE_WAIT_SHARING: "off" },
        onStart: (child, outputFieldsFile) => {
          const file = join(dirname(outputFieldsFile), "fields.json");
          void heldCall(child).then((held) => {
            if (held) atFirstCall = existsSync(file);
            release();
          });
        },
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(atFirstCall, false, "the fields file was still there at the first call");
      assert.ok(!run.stderr.includes("could not be removed"), run.stderr);
    } finally {
      ep.faults.reset();
    }
  });

  /**
   * Which file goes, as a table: [what, arguments, environment, the files left]. FILE and
   * OTHER stand for two fields files, both written before each run.
   */
  const cases: Array<[string, string[], Record<string, string>, string[]]> = [
    ["the bridge's way", [], { UE_FIELDS_FILE: "FILE", UE_REMOVE_FIELDS_FILE: "1" }, ["OTHER"]],
    [
      "the bridge's way, listing",
      ["--list", "state-machines"],
      { UE_FIELDS_FILE: "FILE", UE_REMOVE_FIELDS_FILE: "1" },
      ["OTHER"],
    ],
    ["UE_FIELDS_FILE alone", [], { UE_FIELDS_FILE: "FILE" }, ["FILE", "OTHER"]],
    [
      "UE_REMOVE_FIELDS_FILE=0",
      [],
      { UE_FIELDS_FILE: "FILE", UE_REMOVE_FIELDS_FILE: "0" },
      ["FILE", "OTHER"],
    ],
    ["--fields-file", ["--fields-file", "FILE"], { UE_REMOVE_FIELDS_FILE: "1" }, ["FILE", "OTHER"]],
    [
      "--fields-file over UE_FIELDS_FILE",
      ["--fields-file", "FILE"],
      { UE_FIELDS_FILE: "OTHER", UE_REMOVE_FIELDS_FILE: "1" },
      ["FILE", "OTHER"],
    ],
    [
      "--fields-file and UE_FIELDS_FILE naming one file",
      ["--fields-file", "FILE"],
      { UE_FIELDS_FILE: "FILE", UE_REMOVE_FIELDS_FILE: "1" },
      ["FILE", "OTHER"],
    ],
  ];
  test("only the file UE_FIELDS_FILE names with UE_REMOVE_FIELDS_FILE=1 is removed, a file --fields-file names never", async () => {
    const outcomes: Array<[string, number | null, string[]]> = [];
    for (const [what, args, env] of cases) {
      const files: Record<string, string> = {
        FILE: join(dir, `${what.replace(/\W+/g, "-")}.json`),
        OTHER: join(dir, `${what.replace(/\W+/g, "-")}-other.json`),
      };
      for (const path of Object.values(files)) {
        await writeFile(path, JSON.stringify(fields()), { mode: 0o600 });
      }
      const named = (v: string) => files[v] ?? v;

      const run = await runBundle({
        args: args.map(named),
        env: {
          UE_WAIT_SHARING: "off",
          ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, named(v)])),
        },
      });

      const left = Object.keys(files).filter((k) => existsSync(files[k] as string));
      outcomes.push([what, run.code, left]);
    }

    assert.deepEqual(
      outcomes,
      cases.map(([what, , , left]) => [what, 0, left]),
    );
  });

  test("a fields file that names a pipe as input file: gone while the pipe waits for its writer, and read once", async () => {
    const pipe = join(dir, "input.pipe");
    execFileSync("mkfifo", [pipe]);
    const file = join(dir, "names-a-pipe.json");
    await writeFile(file, JSON.stringify(fields({ input_file: pipe })), { mode: 0o600 });
    let whileWaiting: boolean | undefined;

    const run = await runBundle({
      env: { UE_FIELDS_FILE: file, UE_REMOVE_FIELDS_FILE: "1", UE_WAIT_SHARING: "off" },
      onStart: () => {
        // Opening a pipe to write waits for its reader: the program, done with the file.
        void open(pipe, "w").then(async (writer) => {
          whileWaiting = existsSync(file);
          await writer.write('{"from": "the pipe"}');
          await writer.close();
        });
      },
    });

    assert.equal(run.code, 0, run.stderr);
    assert.equal(whileWaiting, false, "the fields file was still there while the pipe waited");
    const arn = run.doc?.result?.executionArn as string;
    assert.equal(ep.getExecution(arn)?.input, '{"from": "the pipe"}');
  });

  // Removing a name in /proc fails whoever asks (EPERM, root too), as removing from a
  // read-only folder does; the file itself, the child's standard input, is read through it.
  test("a fields file that cannot be removed: a warning naming it and why, and the task runs on", async () => {
    const file = join(dir, "kept.json");
    await writeFile(file, JSON.stringify(fields()), { mode: 0o600 });
    const input = await open(file, "r");
    try {
      const run = await runBundle({
        env: {
          UE_FIELDS_FILE: "/proc/self/fd/0",
          UE_REMOVE_FIELDS_FILE: "1",
          UE_WAIT_SHARING: "off",
        },
        stdin: input.fd,
      });

      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stderr,
        /UE_FIELDS_FILE \/proc\/self\/fd\/0 could not be removed once read \(permission denied\); it stays on disk, with any credentials it holds, until it is removed otherwise/,
      );
      assert.ok(!run.allBytes.includes(ep.credentials.secretAccessKey));
    } finally {
      await input.close();
    }
  });

  test("a cancel while a pipe the fields file names waits: the warning of a removal that failed is still given", async () => {
    const pipe = join(dir, "never-written.pipe");
    execFileSync("mkfifo", [pipe]);
    const file = join(dir, "kept-names-a-pipe.json");
    await writeFile(file, JSON.stringify(fields({ input_file: pipe })), { mode: 0o600 });
    const input = await open(file, "r");
    let writer: Awaited<ReturnType<typeof open>> | undefined;
    try {
      const run = await runBundle({
        env: { UE_FIELDS_FILE: "/proc/self/fd/0", UE_REMOVE_FIELDS_FILE: "1" },
        stdin: input.fd,
        onStart: (child) => {
          // Opening a pipe to write waits for its reader: the program, done with the file.
          void open(pipe, "w").then((opened) => {
            writer = opened;
            child.kill("SIGTERM");
          });
        },
      });

      assert.equal(run.code, 27, run.stderr);
      assert.match(run.stderr, /UE_FIELDS_FILE \/proc\/self\/fd\/0 could not be removed once read/);
      assert.match(run.doc?.status_description ?? "", /cancelled while waiting for /);
    } finally {
      await writer?.close();
      await input.close();
    }
  });

  test("UE_REMOVE_FIELDS_FILE other than 1 or 0 is refused with exit 20, naming it; the file stays", async () => {
    const file = join(dir, "refused.json");
    await writeFile(file, JSON.stringify(fields()), { mode: 0o600 });

    const run = await runBundle({
      env: { UE_FIELDS_FILE: file, UE_REMOVE_FIELDS_FILE: "true" },
    });

    assert.equal(run.code, 20, run.stderr);
    assert.match(run.doc?.status_description ?? "", /UE_REMOVE_FIELDS_FILE: must be 1 .* or 0/);
    assert.ok(existsSync(file));
  });
});
