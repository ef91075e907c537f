/**
 * The code cache of the bundle's start, end to end: whatever state its folder or file is in,
 * the real bundle starts an execution with the right result and exit code, says nothing
 * about the cache, and (re)creates the cache where it may; folders that are not private to
 * the user are refused and left untouched.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { Script } from "node:vm";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { CACHE_FOLDER, pack } from "../../src/code-cache.ts";
import { assertValidDoc, type BundleRun, runBundle } from "../helpers/bundle.ts";

const SECRET_CANARY = "CanaryCodeCacheSecret000000000000000001";
/** Anything a cache problem could print: none of it may appear. */
const CACHE_TALK = /cache|\.v8\b|UESFNCC|EACCES|ENOENT|ENOTDIR|EISDIR|EPERM|warning/i;
const uid = process.getuid?.() ?? 0;

const cacheFiles = (dir: string): string[] =>
  existsSync(dir) && lstatSync(dir).isDirectory()
    ? readdirSync(dir).filter((f) => f.endsWith(".v8"))
    : [];

describe("code cache of the bundle's start", () => {
  let ep: LocalEndpoint;
  let arn: string;
  let root: string;
  let n = 0;

  before(async () => {
    ep = await startLocalEndpoint({
      credentials: [{ accessKeyId: "AKIACODECACHE0000001", secretAccessKey: SECRET_CANARY }],
    });
    arn = ep.createStateMachine({
      name: "quick",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    root = await mkdtemp(join(tmpdir(), "ue-code-cache-"));
  });
  after(async () => {
    await ep.close();
    await rm(root, { recursive: true, force: true });
  });

  /** A fresh folder for one case. */
  const place = (): string => {
    const dir = join(root, `case${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };

  const startFields = () => ({
    endpoint_url: ep.url,
    credentials: { user: "AKIACODECACHE0000001", password: SECRET_CANARY },
    state_machine_arn: arn,
  });

  /** Starts one execution without waiting; asserts the outcome and that nothing was said. */
  async function start(env: Record<string, string | undefined>): Promise<BundleRun> {
    const run = await runBundle({
      fields: startFields(),
      env: { UE_TASK_INSTANCE_ID: `cc${n++}`, NODE_DEBUG: undefined, ...env },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(run.doc.exit_code, 0);
    assert.equal(ep.getExecution(run.doc.result.executionArn)?.status, "SUCCEEDED");
    assert.doesNotMatch(`${run.stdout}\n${run.stderr}`, CACHE_TALK);
    assert.equal(run.allBytes.includes(SECRET_CANARY), false);
    return run;
  }

  /** A cache folder with a good cache file made by a first start; returns the file's path. */
  async function warmed(): Promise<{ dir: string; file: string }> {
    const dir = join(place(), "cache");
    await start({ UE_CODE_CACHE: dir });
    const [name] = cacheFiles(dir);
    assert.ok(name, "the first start writes the cache");
    return { dir, file: join(dir, name) };
  }

  test("a missing folder is created private (0700), the file owner-only (0600), and later starts reuse it", async () => {
    const dir = join(place(), "deeper", "cache");
    await start({ UE_CODE_CACHE: dir });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const [name] = cacheFiles(dir);
    assert.ok(name, "cache file written");
    const file = join(dir, name);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file).includes(SECRET_CANARY), false, "no secret in the cache");
    const written = statSync(file).ino;
    await start({ UE_CODE_CACHE: dir });
    // Rewritten files are renamed into place: the same inode means it was accepted as it is.
    assert.equal(statSync(file).ino, written);
    assert.deepEqual(cacheFiles(dir), [name]);
  });

  test("a start that takes the cache gives its bytes back at once, not at a later collection", async () => {
    const { dir } = await warmed();
    const run = await runBundle({
      fields: startFields(),
      env: { UE_TASK_INSTANCE_ID: `cc${n++}`, UE_CODE_CACHE: dir, NODE_DEBUG: "ue-code-cache" },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /V8 refused/);
    assert.match(run.stderr, /gave the cache's \d+ bytes back/);
  });

  test("a task that waits writes the cache as its wait begins, before it ends, and the next start takes it as it is", async () => {
    const dir = join(place(), "cache");
    const slow = ep.createStateMachine({
      name: `waits${n++}`,
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 6, End: true } } },
    });
    let seenWhileWaiting: Promise<boolean> = Promise.resolve(false);
    const run = await runBundle({
      fields: {
        endpoint_url: ep.url,
        credentials: { user: "AKIACODECACHE0000001", password: SECRET_CANARY },
        state_machine_arn: slow,
        wait_for_success_or_failure: true,
      },
      env: { UE_TASK_INSTANCE_ID: `cc${n++}`, UE_CODE_CACHE: dir, NODE_DEBUG: undefined },
      onStart: (child) => {
        // The tasks started meanwhile find the cache: it does not wait for this one's end.
        seenWhileWaiting = (async () => {
          while (child.exitCode === null && child.signalCode === null) {
            if (cacheFiles(dir).length > 0) return child.exitCode === null;
            await new Promise((r) => setTimeout(r, 50));
          }
          return false;
        })();
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.doc?.result.status, "SUCCEEDED");
    // The V8 flags set as the wait begins are all known to this Node.js version.
    assert.doesNotMatch(run.stderr, /unrecognized flag|Error:/);
    assert.equal(await seenWhileWaiting, true, "the cache was written before the task ended");
    const [name] = cacheFiles(dir);
    assert.ok(name, "the waiting task writes the cache");
    assert.deepEqual(cacheFiles(dir), [name], "once");
    const written = statSync(join(dir, name)).ino;
    await start({ UE_CODE_CACHE: dir });
    assert.equal(statSync(join(dir, name)).ino, written, "V8 took the cache as it was");
  });

  test("--version and --help leave no cache (they compile a sliver of the program); the next task writes it", async () => {
    const dir = join(place(), "cache");
    for (const args of [["--version"], ["--help"]]) {
      const run = await runBundle({ args, env: { UE_CODE_CACHE: dir } });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /ue-aws-stepfunctions/);
    }
    assert.deepEqual(cacheFiles(dir), []);
    await start({ UE_CODE_CACHE: dir });
    assert.equal(cacheFiles(dir).length, 1);
  });

  test("the default places: XDG_CACHE_HOME, NODE_COMPILE_CACHE, the temporary folder with the user id", async () => {
    const xdg = place();
    await start({ XDG_CACHE_HOME: xdg });
    assert.equal(cacheFiles(join(xdg, CACHE_FOLDER)).length, 1);

    const bridge = place();
    await start({ NODE_COMPILE_CACHE: bridge, XDG_CACHE_HOME: xdg });
    assert.equal(cacheFiles(join(bridge, CACHE_FOLDER)).length, 1);

    const temp = place();
    await start({ HOME: undefined, XDG_CACHE_HOME: undefined, TMPDIR: temp });
    const own = join(temp, `${CACHE_FOLDER}-${uid}`);
    assert.equal(statSync(own).mode & 0o777, 0o700);
    assert.equal(cacheFiles(own).length, 1);
  });

  test("a HOME that does not exist is not created (not even by root): the cache goes to the temporary folder with the user id", async () => {
    const home = join(place(), "gone", "home");
    const temp = place();
    await start({ HOME: home, XDG_CACHE_HOME: undefined, TMPDIR: temp });
    assert.equal(existsSync(home), false, "the home folder was created");
    const own = join(temp, `${CACHE_FOLDER}-${uid}`);
    assert.equal(statSync(own).mode & 0o777, 0o700);
    assert.equal(cacheFiles(own).length, 1);
  });

  test("a HOME that does not exist and a temporary folder of the user's open to others: no cache there, the same result", async () => {
    const home = join(place(), "gone", "home");
    const temp = place();
    const own = join(temp, `${CACHE_FOLDER}-${uid}`);
    mkdirSync(own);
    chmodSync(own, 0o755);
    await start({ HOME: home, XDG_CACHE_HOME: undefined, TMPDIR: temp });
    assert.equal(existsSync(home), false, "the home folder was created");
    assert.deepEqual(cacheFiles(own), []);
  });

  test("UE_CODE_CACHE=off (and NODE_DISABLE_COMPILE_CACHE) leave no cache", async () => {
    const xdg = place();
    await start({ XDG_CACHE_HOME: xdg, UE_CODE_CACHE: "off" });
    await start({ XDG_CACHE_HOME: xdg, NODE_DISABLE_COMPILE_CACHE: "1" });
    assert.equal(existsSync(join(xdg, CACHE_FOLDER)), false);
  });

  const damaged: Array<[string, (file: string) => void]> = [
    [
      "with bytes changed in the middle",
      (file) => {
        const data = readFileSync(file);
        for (let i = data.length >> 1; i < (data.length >> 1) + 64; i++)
          data[i] = (data[i] as number) ^ 0xff;
        writeFileSync(file, data);
      },
    ],
    ["cut short", (file) => writeFileSync(file, readFileSync(file).subarray(0, 1000))],
    ["that is empty", (file) => writeFileSync(file, "")],
    ["that is not a cache at all", (file) => writeFileSync(file, "{ not a cache }\n".repeat(100))],
    [
      // Well formed, but V8's code for another script: V8 refuses it.
      "holding another program's code under its name",
      (file) => writeFileSync(file, pack(new Script("6 * 7").createCachedData())),
    ],
  ];
  for (const [name, damage] of damaged) {
    test(`a cache file ${name} is replaced by a good one`, async () => {
      const { dir, file } = await warmed();
      damage(file);
      const bad = readFileSync(file);
      await start({ UE_CODE_CACHE: dir });
      assert.notDeepEqual(readFileSync(file), bad, "rewritten");
      const good = statSync(file).ino;
      await start({ UE_CODE_CACHE: dir });
      assert.equal(statSync(file).ino, good, "and accepted by the next start");
    });
  }

  test("a cache file that is a named pipe blocks no start: --version answers, a task runs and replaces it", {
    skip: process.platform === "win32" ? "no named pipes (mkfifo) in folders on Windows" : false,
  }, async () => {
    const { dir, file } = await warmed();
    await rm(file);
    assert.equal(spawnSync("mkfifo", ["-m", "600", file]).status, 0, "mkfifo");
    // Opened for reading, a pipe with no writer would keep the start waiting for ever.
    const version = await runBundle({
      args: ["--version"],
      env: { UE_CODE_CACHE: dir },
      timeoutMs: 20_000,
    });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /ue-aws-stepfunctions/);
    assert.ok(lstatSync(file).isFIFO(), "--version writes no cache");
    await start({ UE_CODE_CACHE: dir });
    assert.ok(lstatSync(file).isFile(), "the task wrote a cache file in its place");
    const good = statSync(file).ino;
    await start({ UE_CODE_CACHE: dir });
    assert.equal(statSync(file).ino, good, "and the next start took it");
  });

  test("an entry of another build is removed when this build writes its own", async () => {
    const { dir, file } = await warmed();
    const name = file.slice(dir.length + 1);
    const stale = join(dir, `0123456789abcdef${name.slice(name.indexOf("-node"))}`);
    const otherNode = join(dir, "0123456789abcdef-node18.0.0-x64.v8");
    writeFileSync(stale, readFileSync(file), { mode: 0o600 });
    writeFileSync(otherNode, "kept: another Node version", { mode: 0o600 });
    writeFileSync(file, "");
    await start({ UE_CODE_CACHE: dir });
    assert.deepEqual(cacheFiles(dir).sort(), [name, "0123456789abcdef-node18.0.0-x64.v8"].sort());
  });

  /** Folders the program must not use: nothing is written into them. */
  const refused: Array<[string, (dir: string) => string]> = [
    [
      "open to group and others (0755)",
      (dir) => {
        chmodSync(dir, 0o755);
        return dir;
      },
    ],
    [
      "readable by the group (0750)",
      (dir) => {
        chmodSync(dir, 0o750);
        return dir;
      },
    ],
    [
      "owned by another user",
      (dir) => {
        if (uid === 0) {
          chownSync(dir, 65534, 65534);
          return dir;
        }
        return "/"; // the root folder belongs to root
      },
    ],
    [
      "a symbolic link to a private folder",
      (dir) => {
        const link = join(dir, "..", `${dir.split("/").pop()}-link`);
        symlinkSync(dir, link);
        return link;
      },
    ],
  ];
  for (const [name, arrange] of refused) {
    test(`a folder ${name} is refused and not used`, async () => {
      const dir = place();
      const target = arrange(dir);
      await start({ UE_CODE_CACHE: target });
      assert.deepEqual(cacheFiles(dir), []);
      assert.deepEqual(cacheFiles(target), []);
    });
  }

  const unusable: Array<[string, () => string]> = [
    // Nobody, not even root, can create files there; it is private to the process's user.
    ["a private folder nobody can write (/proc/self/fd)", () => "/proc/self/fd"],
    [
      "a path through a regular file",
      () => {
        const file = join(place(), "file");
        writeFileSync(file, "");
        return join(file, "cache");
      },
    ],
  ];
  for (const [name, target] of unusable) {
    test(`${name}: the start works without a cache`, async () => {
      await start({ UE_CODE_CACHE: target() });
    });
  }

  test("the cache file's name taken by a folder: the start works, the folder stays", async () => {
    const { dir, file } = await warmed();
    await rm(file);
    mkdirSync(join(file, "inside"), { recursive: true });
    await start({ UE_CODE_CACHE: dir });
    assert.ok(statSync(file).isDirectory());
    assert.deepEqual(readdirSync(file), ["inside"]);
  });
});
