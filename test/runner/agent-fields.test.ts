/**
 * What the bridge makes of fields as real agents hand them over (the real extension.py
 * under the stand-in agent, the contract fixture program as its bundle): Script files,
 * Credential records and flattened parts, the output-field update call of each API level,
 * and the housekeeping of its private cache.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { BUNDLE_NAME, VERSION } from "../../build/generators.ts";
import {
  CREDENTIAL_PARTS,
  controllerFields,
  findPython,
  writeScriptFiles,
} from "../../local/runner/agent.ts";
import { assertValidDoc } from "../helpers/bundle.ts";
import { productTemplate } from "../helpers/fixture-package.ts";
import { ROOT } from "../helpers/paths.ts";
import { CANARY_SECRET, fixtureRunners, nextEvent } from "../helpers/runner-fixture.ts";

const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
const CANARY_USER = "AKIDCANARYUSER000001";
const CANARY_TOKEN = "CanarySessionTokenValue000000000000000001";
const open = fixtureRunners();
const scratch = await mkdtemp(join(tmpdir(), "ue-agent-fields-"));
after(() => rm(scratch, { recursive: true, force: true }));

describe("the stand-in agent's shapes", () => {
  test("a Credential: a record of its five parts (unset ones None) and the flattened keys", async () => {
    const template = await productTemplate();
    const fields = controllerFields(
      template,
      { credentials: { user: "AKID", password: "pw", token: "tok" } },
      { input: "/tmp/x.script" },
    );
    assert.deepEqual(fields["credentials"], {
      user: "AKID",
      password: "pw",
      keyLocation: null,
      passphrase: null,
      token: "tok",
    });
    for (const part of CREDENTIAL_PARTS)
      assert.ok(`credentials.${part}` in fields, `credentials.${part}`);
    assert.equal(fields["credentials.token"], "tok");
    assert.deepEqual(fields["proxy_credentials"], {
      user: null,
      password: null,
      keyLocation: null,
      passphrase: null,
      token: null,
    });
    assert.equal(fields["input"], "/tmp/x.script");
    assert.equal(fields["task_output"], null);
  });

  test("a Script value: a 0600 temporary file holding the text, removed afterwards", async () => {
    const template = await productTemplate();
    const files = await writeScriptFiles(template, { input: '{"a":"é"}', task_output: "" });
    const path = files.paths["input"] ?? "";
    assert.deepEqual(Object.keys(files.paths), ["input"], "an empty Script is not set");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await files.remove();
    assert.equal(existsSync(path), false);
  });
});

describe("Script and Credential fields through the bridge (contract fixture program)", () => {
  test("a Script's text reaches the program through the agent's temporary file", async () => {
    const f = await open();
    const result = await f.runner.launch({
      name: "scripted",
      fields: { state_machine_arn: SM, input: '{"a":"\\u00e9\\n"}' },
    }).result;
    const got = await f.received("scripted", 1);
    assert.equal(result.state, "Success");
    assert.equal(got.fields["input"], '{"a":"\\u00e9\\n"}');
  });

  // [case, the Script's JSON text the agent hands over in place of a path]
  const handedAsText: Array<[string, string]> = [
    ["short", '{"handed": "as text", "n": [1, 2]}'],
    // Longer than a file name may be (255 bytes), with no "/": open() answers ENAMETOOLONG.
    [
      "longer than a file name",
      JSON.stringify({ orders: Array.from({ length: 100 }, (_, i) => i) }),
    ],
    ["a path-like part longer than a file name", JSON.stringify({ url: `a/${"x".repeat(300)}` })],
  ];
  for (const [name, text] of handedAsText) {
    test(`an agent that hands over a Script's JSON text (${name}) instead of a file's path: the text is used`, async () => {
      const f = await open({}, { agent: { fieldOverrides: { input: text } } });
      const result = await f.runner.launch({ name: "as-text", fields: { state_machine_arn: SM } })
        .result;
      const got = await f.received("as-text", 1);
      assert.equal(result.state, "Success", result.message ?? "");
      assert.equal(got.fields["input"], text);
      assert.ok(
        f.events.some((e) => e.type === "log" && /handed over the script's text/.test(e.line)),
      );
    });
  }

  test("a long value that is neither a path nor JSON: exit 20 showing only its first characters", async () => {
    const value = `not JSON ${"x".repeat(300_000)}`;
    const f = await open({}, { agent: { fieldOverrides: { input: value } } });
    const result = await f.runner.launch({ name: "garbage", fields: { state_machine_arn: SM } })
      .result;

    assert.equal(result.exitCode, 20);
    const doc = result.extensionOutput as Record<string, unknown>;
    assertValidDoc(doc);
    assert.equal(
      doc["status_description"],
      [
        "DATA_VALIDATION_ERROR: 1 field is invalid:",
        `  Input (input): the script file ${value.slice(0, 80)}... (300009 characters) does not exist; expected a readable file`,
      ].join("\n"),
    );
    assert.equal(result.message, doc["status_description"]);
    const longest = Math.max(...f.events.map((e) => (e.type === "log" ? e.line.length : 0)));
    assert.ok(longest < 400, `the log shows no whole value (longest line ${longest})`);
    assert.ok(!existsSync(join(f.dir, "garbage-1.json")), "the program never ran");
  });

  test("an empty Script file is not set", async () => {
    const empty = join(scratch, "empty.json");
    await writeFile(empty, "");
    const f = await open({}, { agent: { fieldOverrides: { input: empty } } });
    const result = await f.runner.launch({ name: "empty", fields: { state_machine_arn: SM } })
      .result;
    const got = await f.received("empty", 1);
    assert.equal(result.state, "Success");
    assert.equal("input" in got.fields, false);
  });

  test("every unusable Script file is named at once, and the program is not started", async () => {
    const missing = join(scratch, "missing.json");
    const f = await open(
      {},
      { agent: { fieldOverrides: { input: missing, task_output: scratch } } },
    );
    const result = await f.runner.launch({ name: "unusable", fields: { state_machine_arn: SM } })
      .result;

    assert.equal(result.exitCode, 20);
    const doc = result.extensionOutput as Record<string, unknown>;
    assertValidDoc(doc);
    assert.equal(
      doc["status_description"],
      [
        "DATA_VALIDATION_ERROR: 2 fields are invalid:",
        `  Input (input): the script file ${missing} does not exist; expected a readable file`,
        `  Task Output (task_output): the script file ${scratch} is a directory; expected a file`,
      ].join("\n"),
    );
    assert.ok(!existsSync(join(f.dir, "unusable-1.json")), "the program never ran");
    assert.ok(
      f.events.some(
        (e) =>
          e.type === "log" &&
          e.stream === "stderr" &&
          / ERROR bridge: DATA_VALIDATION_ERROR/.test(e.line),
      ),
    );
  });

  for (const credentialForm of ["both", "record", "flattened"] as const) {
    test(`a Credential handed over as ${credentialForm}: user, password and token reach the program, nothing else`, async () => {
      const f = await open(
        {},
        {
          agent: {
            credentialForm,
            // keyLocation and passphrase never leave the bridge.
            fieldOverrides: {
              "credentials.keyLocation": "/secret/KeyLocationCanary",
              "credentials.passphrase": "PassphraseCanary0001",
              ...(credentialForm === "flattened" ? { "credentials.token": CANARY_TOKEN } : {}),
              ...(credentialForm === "flattened"
                ? {}
                : {
                    credentials: {
                      user: CANARY_USER,
                      password: CANARY_SECRET,
                      keyLocation: "/secret/KeyLocationCanary",
                      passphrase: "PassphraseCanary0001",
                      token: CANARY_TOKEN,
                    },
                  }),
              ...(credentialForm === "both" ? { "credentials.token": CANARY_TOKEN } : {}),
            },
          },
        },
      );
      const result = await f.runner.launch({
        name: `cred-${credentialForm}`,
        fields: { state_machine_arn: SM, credentials: { $credential: "local-test" } },
      }).result;
      const got = await f.received(`cred-${credentialForm}`, 1);

      assert.equal(result.state, "Success");
      assert.deepEqual(got.fields["credentials"], {
        user: CANARY_USER,
        password: CANARY_SECRET,
        token: CANARY_TOKEN,
      });
      const everything = JSON.stringify([got, f.events, result]);
      assert.ok(!everything.includes("KeyLocationCanary"));
      assert.ok(!everything.includes("PassphraseCanary0001"));
      assert.ok(!JSON.stringify([got.allEnv, got.argv]).includes(CANARY_TOKEN));
      assert.ok(!JSON.stringify([f.events, result]).includes(CANARY_TOKEN));
      assert.deepEqual(result.problems, [], "the runner's leak check found nothing");
    });
  }

  test("a record and flattened parts that disagree: exit 20 naming the keys, no value shown", async () => {
    const f = await open(
      {},
      { agent: { fieldOverrides: { "credentials.password": "OtherSecretCanary0001" } } },
    );
    const result = await f.runner.launch({
      name: "disagree",
      fields: { state_machine_arn: SM, credentials: { $credential: "local-test" } },
    }).result;

    assert.equal(result.exitCode, 20);
    assert.equal(
      result.message,
      "DATA_VALIDATION_ERROR: 1 field is invalid:\n  AWS Credentials (credentials): the credential record and the flattened keys credentials.password disagree; expected the same credential in both",
    );
    assertValidDoc(result.extensionOutput as Record<string, unknown>);
    assert.ok(!existsSync(join(f.dir, "disagree-1.json")), "the program never ran");
    const everything = JSON.stringify([f.events, result]);
    assert.ok(!everything.includes("OtherSecretCanary0001"));
    assert.ok(!everything.includes(CANARY_SECRET));
    assert.deepEqual(result.problems, [], "the runner's leak check found nothing");
  });
});

describe("output-only field updates by API level", () => {
  for (const [call, expected] of [
    [undefined, "ui.update_output_fields"],
    ["update_extension_status", "update_extension_status"],
  ] as const) {
    test(`an agent offering ${expected}: every update goes through it`, async () => {
      const f = await open({}, call ? { agent: { outputFieldsCall: call } } : {});
      const result = await f.runner.launch({ name: "updates", fields: { state_machine_arn: SM } })
        .result;

      assert.equal(result.state, "Success");
      assert.equal(result.outputFields["execution_status"], "SUCCEEDED");
      const calls = f.events.flatMap((e) => (e.type === "output-field" ? [e.call] : []));
      assert.ok(calls.length >= 3, JSON.stringify(calls));
      assert.deepEqual(new Set(calls), new Set([expected]));
    });
  }
});

describe("the bridge's private cache", () => {
  test("after a new copy, the newest 3 versions are kept, older ones removed unless used lately", async () => {
    const f = await open();
    const cache = join(f.dir, "bridge-cache");
    // Copies of older archives (their modification times 1 to 5, in hex in the name), last
    // used 11 minutes ago, but for 0.0.1's: a task found it a moment ago and may be about to
    // start node on it (tasks of several archive versions at once).
    const longAgo = new Date(Date.now() - 11 * 60_000);
    for (const mtime of [1, 2, 3, 4, 5]) {
      const folder = join(cache, `0.0.${mtime}-10-${mtime.toString(16)}`);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      await writeFile(join(folder, BUNDLE_NAME), "old");
      if (mtime !== 1) await utimes(folder, longAgo, longAgo);
    }
    await chmod(cache, 0o700);
    await mkdir(join(cache, "not-a-copy-1-2"), { mode: 0o700 });

    const result = await f.runner.launch({ name: "prune", fields: { state_machine_arn: SM } })
      .result;

    assert.equal(result.state, "Success");
    const left = (await readdir(cache)).filter((n) => /-[0-9a-f]+-[0-9a-f]+$/.test(n)).sort();
    const current = left.filter((n) => n.startsWith(`${VERSION}-`));
    assert.equal(current.length, 1);
    assert.deepEqual(
      left,
      ["0.0.1-10-1", "0.0.4-10-4", "0.0.5-10-5", current[0], "not-a-copy-1-2"].sort(),
    );
  });

  // The copies are read-only (0500), and Windows removes no read-only file
  // (https://github.com/tkhyn/dirsync/issues/25); POSIX does, so the refusal is simulated.
  test("old copies are removed where read-only files cannot be (Windows)", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const dir = await mkdtemp(join(tmpdir(), "ue-prune-readonly-"));
    after(() => rm(dir, { recursive: true, force: true }));
    const probe = [
      "import json, os, stat, sys, time",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "root = sys.argv[3]",
      "old = time.time() - 11 * 60",
      "for mtime in range(1, 6):",
      "    folder = os.path.join(root, '0.0.%d-10-%x' % (mtime, mtime))",
      "    os.makedirs(folder, 0o700)",
      "    with open(os.path.join(folder, extension.BUNDLE_NAME), 'w') as out:",
      "        out.write('old')",
      "    os.chmod(os.path.join(folder, extension.BUNDLE_NAME), 0o500)",
      "    os.utime(folder, (old, old))",
      "real_remove = os.remove",
      "def remove(path):",
      "    if not os.stat(path).st_mode & stat.S_IWUSR:",
      "        raise PermissionError(13, 'Access is denied', path)",
      "    return real_remove(path)",
      "os.remove = remove",
      "extension.prune_copies(root, '0.0.5-10-5')",
      "print(json.dumps(sorted(os.listdir(root))))",
    ].join("\n");
    const { stdout, stderr } = await promisify(execFile)(python, [
      "-B",
      "-c",
      probe,
      join(ROOT, "local/runner/python"),
      join(ROOT, "src/bridge"),
      dir,
    ]);
    assert.deepEqual(JSON.parse(stdout), ["0.0.3-10-3", "0.0.4-10-4", "0.0.5-10-5"]);
    assert.equal(stderr, "", "no warning: nothing was left that should have gone");
  });

  test("a task run from an existing copy dates its folder, so that it counts as used", async () => {
    const f = await open();
    const cache = join(f.dir, "bridge-cache");
    const first = await f.runner.launch({ name: "copy", fields: { state_machine_arn: SM } }).result;
    assert.equal(first.state, "Success");
    const [copy] = (await readdir(cache)).filter((n) => n.startsWith(`${VERSION}-`));
    assert.ok(copy);
    const longAgo = new Date(Date.now() - 11 * 60_000);
    await utimes(join(cache, copy), longAgo, longAgo);

    const again = await f.runner.launch({ name: "reuse", fields: { state_machine_arn: SM } })
      .result;

    assert.equal(again.state, "Success");
    const used = (await stat(join(cache, copy))).mtimeMs;
    assert.ok(Date.now() - used < 5 * 60_000, `dated ${new Date(used).toISOString()}`);
  });

  test("a run folder left by a bridge that was killed is removed by a later task; live and recent ones stay", async () => {
    const f = await open({ killed: { holdMs: 30_000 } });
    const cache = join(f.dir, "bridge-cache");
    const handle = f.runner.launch({
      name: "killed",
      fields: { state_machine_arn: SM, credentials: { $credential: "local-test" } },
    });
    await nextEvent(f, (e) => e.type === "output-field" && e.name === "execution_status");
    const started = f.events.find((e) => e.type === "task-started");
    assert.ok(started?.type === "task-started");
    const got = await f.received("killed", 1);
    const left = dirname(got.env["UE_FIELDS_FILE"] ?? "");
    // kill -9 of the agent's Python; its program (in its own process group) is ended too.
    process.kill(started.pid, "SIGKILL");
    process.kill(-got.pid, "SIGKILL");
    await handle.result;
    assert.ok(existsSync(join(left, "fields.json")), "the killed bridge left its run folder");

    // Left long enough ago; beside it, a listing's folder of the same dead bridge, one of a
    // live bridge (this test's process stands in for it), and a dead bridge's recent one.
    const old = new Date(Date.now() - 11 * 60_000);
    const deadPid = started.pid;
    // The host's name as the bridge puts it into its folders' names (letters and digits).
    const host =
      hostname()
        .replace(/[^A-Za-z0-9]/g, "")
        .slice(0, 24) || "host";
    const listing = join(cache, `list-${deadPid}-${host}-0123456789ab`);
    const live = join(cache, `run-${process.pid}-${host}-0123456789ab`);
    const recent = join(cache, `run-${deadPid}-${host}-ba9876543210`);
    // A cache shared with another host: that host's process ids mean nothing here.
    const otherHost = join(cache, `run-${deadPid}-otherhost${host}-0123456789ab`);
    for (const folder of [listing, live, recent, otherHost]) {
      await mkdir(folder, { mode: 0o700 });
      await writeFile(join(folder, "fields.json"), "{}", { mode: 0o600 });
    }
    for (const folder of [left, listing, live, otherHost]) await utimes(folder, old, old);
    // The folders are looked over at most once a minute: the first task's look is forgotten.
    await rm(join(cache, ".run-folders-checked"), { force: true });

    const next = await f.runner.launch({ name: "next", fields: { state_machine_arn: SM } }).result;

    assert.equal(next.state, "Success");
    assert.equal(existsSync(left), false, "the killed bridge's run folder is removed");
    assert.equal(existsSync(listing), false);
    assert.equal(existsSync(live), true, "a live bridge's folder stays, however old");
    assert.equal(existsSync(recent), true, "a recent folder stays");
    assert.equal(existsSync(otherHost), true, "another host's folder stays");
    assert.ok(
      f.events.some((e) => e.type === "log" && e.line.includes(`bridge: removed ${left}, left by`)),
    );
  });
});
