/**
 * Output files that cannot be written, on real full file systems (/dev/full, and a tiny
 * tmpfs filled up where mounting is allowed): the bundle as a child process against the
 * local endpoint. The execution's real outcome is never lost, and the messages name the
 * file.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, type BundleOptions, runBundle } from "../helpers/bundle.ts";

describe("output files that cannot be written", () => {
  let ep: LocalEndpoint;
  const arns: Record<string, string> = {};

  before(async () => {
    ep = await startLocalEndpoint();
    arns["ok"] = ep.createStateMachine({
      name: "ok",
      definition: {
        StartAt: "W",
        States: { W: { Type: "Wait", Seconds: 1, Next: "P" }, P: { Type: "Pass", End: true } },
      },
    });
    arns["fails"] = ep.createStateMachine({
      name: "fails",
      definition: { StartAt: "F", States: { F: { Type: "Fail", Error: "E", Cause: "c" } } },
    });
  });
  after(async () => {
    await ep.close();
  });

  const fields = (name: string) => ({
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: arns[name],
    wait_for_success_or_failure: true,
    polling_interval: 1,
  });

  const cases: Array<[string, number, string]> = [
    ["ok", 0, "SUCCEEDED"],
    ["fails", 23, "FAILED"],
  ];
  for (const [name, code, status] of cases) {
    test(`output-only fields to a full disk while waiting: the real outcome ${status}, exit ${code}`, async () => {
      const run = await runBundle({
        fields: fields(name),
        env: { UE_OUTPUT_FIELDS_FILE: "/dev/full" },
      });
      assert.equal(run.code, code, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, code);
      assert.equal(run.doc.result.status, status);
      assert.match(
        run.doc.status_description,
        /; output-only fields could not be written to \/dev\/full \(no space left on the device, ENOSPC\)$/,
      );
      assert.match(run.stderr, /WARN .*could not be written to \/dev\/full/);
      assert.doesNotMatch(run.stderr, /DescribeExecution/);
    });
  }

  for (const [name, code, status] of cases) {
    test(`standard error closed by its reader (a log pipe that ended): the real outcome ${status}, exit ${code}, the document written`, async () => {
      const run = await runBundle({ fields: fields(name), closeReaders: ["stderr"] });
      assert.equal(run.signal, null);
      assert.equal(run.code, code);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, code);
      assert.equal(run.doc.result.status, status);
    });
  }

  const closedStandardOutputs: Array<[string, (fullDisk: number) => Partial<BundleOptions>]> = [
    ["a file on a full disk (> /dev/full)", (fullDisk) => ({ stdoutFd: fullDisk })],
    ["a pipe whose reader has ended", () => ({ closeReaders: ["stdout"] })],
  ];
  for (const [name, options] of closedStandardOutputs) {
    test(`extension output to standard output, ${name}: exit 40, the real outcome in the log`, async () => {
      const fullDisk = openSync("/dev/full", "w");
      const run = await runBundle({
        fields: fields("ok"),
        env: { UE_EXTENSION_OUTPUT_FILE: undefined },
        ...options(fullDisk),
      }).finally(() => closeSync(fullDisk));
      assert.equal(run.code, 40, run.stderr);
      assert.match(
        run.stderr,
        /ERROR cannot write the extension output to standard output \(.*\); the task's outcome: SUCCESS: execution .* SUCCEEDED; exit code 40/,
      );
    });
  }

  test("--list to standard output, a pipe whose reader has ended: exit 40", async () => {
    const run = await runBundle({
      fields: { endpoint_url: ep.url, region: ep.region, credentials: fields("ok").credentials },
      args: ["--list", "state-machines"],
      env: { UE_EXTENSION_OUTPUT_FILE: undefined },
      closeReaders: ["stdout"],
    });
    assert.equal(run.code, 40, run.stderr);
    assert.match(run.stderr, /ERROR cannot write the list to standard output \(/);
  });

  const documentTargets: Array<[string, () => string]> = [
    ["/dev/full", () => "/dev/full"],
    ["a folder that does not exist", () => join(tmpdir(), "no-such-folder-ue", "out.json")],
  ];
  for (const [name, target] of documentTargets) {
    test(`extension output to ${name}: exit 40, the document with the real outcome on stdout`, async () => {
      const file = target();
      const run = await runBundle({
        fields: fields("ok"),
        env: { UE_EXTENSION_OUTPUT_FILE: file },
      });
      assert.equal(run.code, 40, run.stderr);
      const doc = JSON.parse(run.stdout);
      assertValidDoc(doc);
      assert.equal(doc.exit_code, 40);
      assert.ok(
        doc.status_description.startsWith(
          `OUTPUT_ERROR: cannot write the extension output to ${file} (`,
        ),
        doc.status_description,
      );
      assert.match(doc.status_description, /the task's outcome: SUCCESS: execution .* SUCCEEDED/);
      assert.equal(doc.result.status, "SUCCEEDED");
      assert.match(run.stderr, new RegExp(`cannot write the extension output to ${file}`));
    });
  }

  // /dev/stdout is the same link one folder up; a wrong write would replace that link in
  // the machine's /dev, where /proc and /dev/fd refuse to hold a temporary file.
  for (const link of ["/proc/self/fd/1", "/dev/fd/1"]) {
    test(`extension output to ${link} with standard output on a file (> result.json): written into that file, exit 0`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "ue-stdout-file-"));
      try {
        const result = join(dir, "result.json");
        const fd = openSync(result, "w");
        const run = await runBundle({
          fields: fields("ok"),
          env: { UE_EXTENSION_OUTPUT_FILE: link },
          stdoutFd: fd,
        }).finally(() => closeSync(fd));
        assert.equal(run.code, 0, run.stderr);
        const doc = JSON.parse(readFileSync(result, "utf8"));
        assertValidDoc(doc);
        assert.equal(doc.result.status, "SUCCEEDED");
        assert.deepEqual(readdirSync(dir), ["result.json"], "no temporary file left behind");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test("extension output to a pipe: written into it, the pipe left in place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ue-fifo-"));
    try {
      const fifo = join(dir, "result.pipe");
      execFileSync("mkfifo", [fifo]);
      const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "ignore"] });
      let received = "";
      reader.stdout.on("data", (c: Buffer) => {
        received += c.toString();
      });
      const closed = new Promise<void>((resolve) => reader.on("close", () => resolve()));
      const run = await runBundle({
        fields: fields("ok"),
        env: { UE_EXTENSION_OUTPUT_FILE: fifo },
      });
      // A program that replaced the pipe never opened it: do not wait for the reader then.
      const timer = setTimeout(() => reader.kill(), 5000);
      await closed;
      clearTimeout(timer);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(statSync(fifo).isFIFO(), "the pipe is still a pipe");
      const doc = JSON.parse(received);
      assertValidDoc(doc);
      assert.equal(doc.result.status, "SUCCEEDED");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("extension output on a filled tmpfs: exit 40, no temporary file left", async (t) => {
    const mountPoint = mkdtempSync(join(tmpdir(), "ue-full-"));
    try {
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=8k", "tmpfs", mountPoint], {
          stdio: "ignore",
        });
      } catch {
        t.skip("mounting a tmpfs is not permitted here; /dev/full covers the full disk");
        return;
      }
      try {
        try {
          writeFileSync(join(mountPoint, "filler"), Buffer.alloc(64 * 1024));
        } catch {
          // Full now, as intended.
        }
        const file = join(mountPoint, "out.json");
        const run = await runBundle({
          fields: fields("ok"),
          env: { UE_EXTENSION_OUTPUT_FILE: file },
        });
        assert.equal(run.code, 40, run.stderr);
        const doc = JSON.parse(run.stdout);
        assertValidDoc(doc);
        assert.match(doc.status_description, /no space left on the device, ENOSPC/);
        assert.equal(doc.result.status, "SUCCEEDED");
        assert.deepEqual(readdirSync(mountPoint), ["filler"], "no temporary file left behind");
      } finally {
        execFileSync("umount", [mountPoint], { stdio: "ignore" });
      }
    } finally {
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });
});
