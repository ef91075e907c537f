/**
 * The package's real extension.py, run in Python under the stand-in extension API, with
 * the contract fixture program as its bundle: what the bridge hands the program, what it
 * gives back, and how it fails.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { findPython } from "../../local/runner/agent.ts";
import { BUNDLE_NAME, VERSION } from "../../build/generators.ts";
import { ROOT } from "../helpers/paths.ts";
import { CANARY_SECRET, nextEvent, fixtureRunners } from "../helpers/runner-fixture.ts";

const run = promisify(execFile);
const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
const CANARY_USER = "AKIDCANARYUSER000001";
const open = fixtureRunners();

const CREDENTIALS = { $credential: "local-test" };
/** The folder of the bridge's copy: <version>-<archive size>-<archive mtime>, in hex. */
function copyFolder(bundle: string): string {
  const folder = basename(dirname(bundle));
  assert.match(folder, new RegExp(`^${VERSION.replaceAll(".", "\\.")}-[0-9a-f]+-[0-9a-f]+$`));
  return folder;
}

describe("the bridge (extension.py) as the agent runs it", () => {
  test("extension.py keeps to Python 3.7 syntax and the standard library", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const check = [
      "import ast, sys",
      "source = open(sys.argv[1]).read()",
      "tree = ast.parse(source, feature_version=(3, 7))",
      "names = {a.name.split('.')[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}",
      "names |= {n.module.split('.')[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}",
      "names.discard('universal_extension')",
      "print(sorted(names - set(sys.stdlib_module_names)))",
    ].join("\n");
    const { stdout } = await run(python, ["-c", check, join(ROOT, "src/bridge/extension.py")]);
    assert.equal(stdout.trim(), "[]");
  });

  test("credentials arrive as a record and flattened keys and reach the program only through its 0600 file", async () => {
    const f = await open({ "*": { stderr: ["a log line"] } });
    const result = await f.runner.launch({
      name: "secret-keeper",
      fields: { state_machine_arn: SM, credentials: CREDENTIALS },
    }).result;
    const got = await f.received("secret-keeper", 1);

    assert.equal(result.state, "Success");
    assert.deepEqual(got.fields["credentials"], { user: CANARY_USER, password: CANARY_SECRET });
    assert.equal(got.fieldsFileMode, "600");
    const outside = JSON.stringify([got.allEnv, got.argv]);
    assert.ok(!outside.includes(CANARY_SECRET), "not in the program's environment or argv");
    assert.ok(!outside.includes(CANARY_USER));
    assert.ok(!JSON.stringify(f.events).includes(CANARY_SECRET), "not in output, logs or document");
    assert.ok(!JSON.stringify(result).includes(CANARY_SECRET));
    assert.ok(!existsSync(got.env["UE_FIELDS_FILE"] ?? ""), "the fields file is removed");
    const cache = join(f.dir, "bridge-cache");
    assert.deepEqual(
      (await readdir(cache)).filter((n) => n.startsWith("run-")),
      [],
      "the run folder is removed",
    );
    assert.equal((await stat(cache)).mode & 0o777, 0o700);
  });

  test("text beyond ASCII reaches the program as it was typed under a C locale with Python's UTF-8 mode off", async () => {
    const f = await open(
      {},
      { env: { LC_ALL: "C", LANG: "C", PYTHONUTF8: "0", PYTHONCOERCECLOCALE: "0" } },
    );
    const fields = { state_machine_arn: `${SM}-zoë`, execution_name: "nächtlich-☃" };
    const result = await f.runner.launch({ name: "locale", fields }).result;
    const got = await f.received("locale", 1);
    assert.equal(result.state, "Success");
    assert.equal(got.fields["state_machine_arn"], fields.state_machine_arn);
    assert.equal(got.fields["execution_name"], fields.execution_name);
  });

  test("the task context comes from self.uip: the instance id, and no execution count", async () => {
    // The program's per-task inputs in the agent's own environment do not reach the program;
    // agent-wide settings do.
    const f = await open(
      {},
      {
        env: {
          UE_EXECUTION_COUNT: "7",
          UE_FIELD_INPUT: '{"stray": true}',
          UE_TASK_NAME: "agent-wide",
          UE_WAIT_SHARING: "off",
          UE_AWS_CONNECT_TIMEOUT_MS: "5000",
        },
      },
    );
    const first = await f.runner.launch({ name: "context", fields: { state_machine_arn: SM } })
      .result;
    await f.runner.rerun(first.instanceId).result;
    const got = await f.received("context", 2);
    assert.equal(got.env["UE_TASK_NAME"], undefined, "the template sends no variables");
    assert.equal(got.env["UE_TASK_INSTANCE_ID"], first.instanceId);
    assert.equal(got.env["UE_EXECUTION_COUNT"], undefined);
    assert.equal(got.env["UE_FIELD_INPUT"], undefined);
    assert.equal(got.env["UE_WAIT_SHARING"], "off");
    assert.equal(got.env["UE_AWS_CONNECT_TIMEOUT_MS"], "5000");
    assert.ok(!f.events.some((e) => e.type === "log" && /ops_exec_count/.test(e.line)));
    // Node's compile cache lives in the bridge's private folder, beside the run folders.
    assert.equal(
      dirname(got.allEnv["NODE_COMPILE_CACHE"] ?? ""),
      dirname(dirname(got.env["UE_FIELDS_FILE"] ?? "")),
    );
    assert.equal(basename(got.allEnv["NODE_COMPILE_CACHE"] ?? ""), "node-compile-cache");
    assert.equal(got.allEnv["MALLOC_MMAP_THRESHOLD_"], "65536");
  });

  test("task_context: the task name where task_variables has one; never a count, no warning", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const probe = [
      "import json, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "class Uip: task_variables = {'ops_task_name': 't', 'ops_exec_count': '3'}; instance_id = 'abc'",
      "class Bare: task_variables = {}; instance_id = 'abc'",
      "print(json.dumps([extension.task_context(Uip()), extension.task_context(Bare())]))",
    ].join("\n");
    const { stdout, stderr } = await run(python, [
      "-c",
      probe,
      join(ROOT, "local/runner/python"),
      join(ROOT, "src/bridge"),
    ]);
    assert.deepEqual(JSON.parse(stdout), [
      { UE_TASK_NAME: "t", UE_TASK_INSTANCE_ID: "abc" },
      { UE_TASK_INSTANCE_ID: "abc" },
    ]);
    assert.equal(stderr, "");
  });

  test("the stand-in's self.uip has exactly its five attributes", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const probe = [
      "import json, sys",
      "sys.path[:0] = sys.argv[1:2]",
      "import universal_extension",
      "uip = universal_extension.UniversalExtension().uip",
      "names = sorted(n for n in dir(uip) if not n.startswith('_'))",
      "print(json.dumps([names, hasattr(uip, '__dict__')]))",
    ].join("\n");
    const { stdout } = await run(python, ["-c", probe, join(ROOT, "local/runner/python")]);
    assert.deepEqual(JSON.parse(stdout), [
      ["instance_id", "is_triggered", "monitor_id", "task_variables", "trigger_id"],
      false,
    ]);
  });

  for (const archive of ["zip", "folder"] as const) {
    test(`runs with extension.py imported from the ${archive}`, async () => {
      const f = await open({}, { archive });
      const result = await f.runner.launch({ name: "where", fields: { state_machine_arn: SM } })
        .result;
      const got = await f.received("where", 1);
      assert.equal(result.state, "Success");
      const bundle = got.argv[1] ?? "";
      if (archive === "zip") {
        // From inside the zip, the bundle runs from the bridge's private copy.
        assert.ok(bundle.startsWith(join(f.dir, "bridge-cache")), bundle);
        assert.equal(bundle, join(f.dir, "bridge-cache", copyFolder(bundle), BUNDLE_NAME));
      } else {
        assert.ok(!bundle.startsWith(join(f.dir, "bridge-cache")), bundle);
      }
    });
  }

  test("many tasks starting at once from the zip share one private copy of the bundle", async () => {
    const f = await open();
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(
        (i) => f.runner.launch({ name: `crowd-${i}`, fields: { state_machine_arn: SM } }).result,
      ),
    );
    assert.deepEqual(
      results.map((r) => r.state),
      Array(6).fill("Success"),
    );
    const cache = join(f.dir, "bridge-cache");
    const copies = (await readdir(cache)).filter((n) => n.startsWith(`${VERSION}-`));
    assert.equal(copies.length, 1);
    assert.deepEqual(await readdir(join(cache, copies[0] ?? "")), [BUNDLE_NAME]);
  });

  // Windows refuses to rename onto a read-only file (the copy is made read-only) or one in
  // use (https://github.com/Graphify-Labs/graphify/pull/3670,
  // https://github.com/rotki/rotki/pull/11764); POSIX renames onto it, so the refusal is
  // simulated: the other task's copy lands just before this task's rename, which then fails.
  test("a task whose rename onto the copy fails (Windows) uses the copy another task put there", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const dir = await mkdtemp(join(tmpdir(), "ue-copy-race-"));
    after(() => rm(dir, { recursive: true, force: true }));
    const probe = [
      "import json, os, shutil, sys, zipfile",
      "bridge, stand_in, dir = sys.argv[1:4]",
      "archive = os.path.join(dir, 'extension_archive.zip')",
      "with zipfile.ZipFile(archive, 'w') as z:",
      "    z.write(os.path.join(bridge, 'extension.py'), 'extension.py')",
      "    z.writestr('ue-aws-stepfunctions.cjs', 'the bundle\\n')",
      "sys.path[:0] = [stand_in, archive]",
      "import extension",
      "real_replace = os.replace",
      "def replace(src, dst):",
      "    if os.path.basename(dst) == extension.BUNDLE_NAME:",
      "        shutil.copyfile(src, dst)",
      "        os.chmod(dst, 0o500)",
      "        raise PermissionError(13, 'Access is denied', dst)",
      "    return real_replace(src, dst)",
      "os.replace = replace",
      "root = os.path.join(dir, 'cache')",
      "os.mkdir(root, 0o700)",
      "try:",
      "    bundle = extension.bundle_path(root)",
      "    outcome = {'text': open(bundle).read(), 'beside': sorted(os.listdir(os.path.dirname(bundle)))}",
      "except extension.BridgeError as error:",
      "    outcome = {'error': str(error)}",
      "print(json.dumps(outcome))",
    ].join("\n");
    const { stdout } = await run(python, [
      "-B",
      "-c",
      probe,
      join(ROOT, "src/bridge"),
      join(ROOT, "local/runner/python"),
      dir,
    ]);
    assert.deepEqual(JSON.parse(stdout), {
      text: "the bundle\n",
      beside: [BUNDLE_NAME],
    });
  });

  test("output-only updates are relayed live, only for fields the template defines", async () => {
    const f = await open({
      "*": {
        outputFields: [{ execution_status: "RUNNING", colour: "red" }],
        rawOutputFieldLines: ["not json at all"],
        holdMs: 30_000,
      },
    });
    const handle = f.runner.launch({ name: "live", fields: { state_machine_arn: SM } });
    await nextEvent(f, (e) => e.type === "output-field" && e.name === "execution_status");
    assert.ok(!f.events.some((e) => e.type === "task-finished"), "relayed while running");
    await nextEvent(f, (e) => e.type === "log" && e.line.includes("not JSON"));
    handle.cancel();
    const result = await handle.result;

    assert.ok(!f.events.some((e) => e.type === "output-field" && e.name === "colour"));
    assert.ok(
      f.events.some(
        (e) =>
          e.type === "log" && /output fields the template does not define.*colour/.test(e.line),
      ),
    );
    assert.ok(
      f.events.some((e) => e.type === "log" && e.line.includes("an output-field line is not JSON")),
    );
    assert.equal(result.outputFields["execution_status"], "ABORTED");
  });

  test("a process the program leaves behind does not hold the task: it ends with the program", async () => {
    // The child holds the output-fields file (on Linux a pipe) open after the program ends.
    const f = await open({ "*": { lingeringChildMs: 20_000 } });
    const result = await f.runner.launch({ name: "orphan", fields: { state_machine_arn: SM } })
      .result;
    assert.equal(result.state, "Success");
    assert.equal(result.outputFields["execution_status"], "SUCCEEDED", "the last update relayed");
    assert.ok(
      !existsSync(join(f.dir, "orphan-1.lingered")),
      "the task ended while the left-behind process still ran",
    );
  });

  // [case, plan, agent environment, exit code, message]
  const failures: Array<[string, Record<string, unknown>, Record<string, string>, number, RegExp]> =
    [
      [
        "the program is killed by a signal",
        { killSelf: "SIGKILL" },
        {},
        30,
        /^BRIDGE_ERROR: the program was ended by SIGKILL/,
      ],
      [
        "the document is not JSON",
        { badDocument: true },
        {},
        30,
        /^BRIDGE_ERROR: the program \(exit code 0\) wrote an extension output document that is not JSON/,
      ],
      [
        "no node on PATH",
        {},
        { PATH: "/nonexistent-bin" },
        29,
        /^NODE_UNAVAILABLE: Node\.js 20 or newer is needed and was not found; looked at UE_AWS_STEPFUNCTIONS_NODE \(not set\), then node on PATH \(\/nonexistent-bin\)/,
      ],
      [
        "the setting names no file",
        {},
        { UE_AWS_STEPFUNCTIONS_NODE: "/nonexistent/node" },
        29,
        /^NODE_UNAVAILABLE: .*UE_AWS_STEPFUNCTIONS_NODE=\/nonexistent\/node names no file/,
      ],
    ];
  for (const [name, plan, env, code, message] of failures) {
    test(`${name}: a clear message and exit code ${code}`, async () => {
      const f = await open({ "*": plan }, { env });
      const result = await f.runner.launch({ name: "broken", fields: { state_machine_arn: SM } })
        .result;
      assert.equal(result.exitCode, code);
      assert.match(result.message ?? "", message);
      assert.equal(result.state, "Failed");
      assert.ok(
        f.events.some(
          (e) => e.type === "log" && e.stream === "stderr" && / ERROR bridge: /.test(e.line),
        ),
        "the task's standard error says it too",
      );
      assert.ok(
        !f.events.some((e) => e.type === "log" && e.line.startsWith("Traceback")),
        "a message, not a traceback",
      );
    });
  }

  test("node is never taken from the agent's working directory: an empty, unset or relative PATH entry is skipped; a relative setting is the file started", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const work = await mkdtemp(join(tmpdir(), "ue-agent-cwd-"));
    after(() => rm(work, { recursive: true, force: true }));
    await writeFile(join(work, "node"), "#!/bin/sh\ntouch ran\necho v22.0.0\n");
    await chmod(join(work, "node"), 0o755);
    const probe = [
      "import json, os, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "out = []",
      "for env in ({'PATH': ''}, {}, {'PATH': '.:bin'}, {'PATH': 'x:'}):",
      "    try:",
      "        out.append(extension.find_node(sys.argv[3], env))",
      "    except extension.BridgeError as error:",
      "        out.append([error.code, str(error)])",
      "out.append(os.path.exists('ran'))",
      "out.append(extension.find_node(sys.argv[3], {'UE_AWS_STEPFUNCTIONS_NODE': 'node'}))",
      "print(json.dumps(out))",
    ].join("\n");
    const cache = join(work, "cache");
    await mkdir(cache);
    const { stdout } = await run(
      python,
      ["-c", probe, join(ROOT, "local/runner/python"), join(ROOT, "src/bridge"), cache],
      { cwd: work },
    );
    const [empty, unset, relative, trailing, ran, configured] = JSON.parse(stdout);
    const notFound =
      "Node.js 20 or newer is needed and was not found; looked at UE_AWS_STEPFUNCTIONS_NODE (not set), then node on PATH";
    assert.deepEqual(empty, [29, `${notFound} (PATH is empty)`]);
    assert.deepEqual(unset, [29, `${notFound} (PATH is not set)`]);
    assert.deepEqual(relative, [29, `${notFound} (.:bin)`]);
    assert.deepEqual(trailing, [29, `${notFound} (x:)`]);
    assert.equal(ran, false, "the working directory's node was never run");
    // Started from the run's own folder, a relative path would name another file.
    assert.equal(configured, join(work, "node"));
  });

  // The Windows search, run by the real bridge in Python with Windows' facts handed in: its
  // path rules (ntpath) and which files exist, compared without case as NTFS does.
  const WINDOWS_FILES = [
    String.raw`C:\Program Files\nodejs\node.exe`,
    String.raw`C:\tools;x\node.exe`,
    String.raw`C:\scripts\node.cmd`,
    String.raw`C:\both\node.cmd`,
    String.raw`C:\both\node.exe`,
    String.raw`\\server\share\node\node.exe`,
    String.raw`\tools\node.exe`,
    String.raw`C:tools\node.exe`,
    String.raw`nodejs\node.exe`,
  ];
  // [case, PATH, the node found]
  const windowsSearches: [string, string, string | null][] = [
    [
      "a folder in double quotes (the command shell takes them out)",
      String.raw`"C:\Program Files\nodejs";C:\Windows`,
      String.raw`C:\Program Files\nodejs\node.exe`,
    ],
    [
      "a semicolon inside double quotes belongs to the folder",
      String.raw`"C:\tools;x";C:\Program Files\nodejs`,
      String.raw`C:\tools;x\node.exe`,
    ],
    [
      "node.cmd is passed over (cmd.exe would stand between the bridge and node)",
      String.raw`C:\scripts;C:\Program Files\nodejs`,
      String.raw`C:\Program Files\nodejs\node.exe`,
    ],
    ["node.exe beside node.cmd", String.raw`C:\both`, String.raw`C:\both\node.exe`],
    [
      "a share's folder",
      String.raw`\\server\share\node;C:\Program Files\nodejs`,
      String.raw`\\server\share\node\node.exe`,
    ],
    [
      "forward slashes, another case, a trailing slash",
      "C:/PROGRAM FILES/NODEJS/",
      "C:/PROGRAM FILES/NODEJS/node.exe",
    ],
    [
      "folders on the working directory's drive or in it are skipped",
      String.raw`\tools;C:tools;nodejs;;.;"";C:\Program Files\nodejs`,
      String.raw`C:\Program Files\nodejs\node.exe`,
    ],
    ["nothing but such folders", String.raw`\tools;C:tools;nodejs`, null],
    ["an empty PATH", "", null],
  ];

  test("on Windows, node.exe is looked for in PATH's absolute folders only, quoted or not, never node.cmd nor in the working directory", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const probe = [
      "import json, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "files, paths = json.loads(sys.argv[3])",
      "exists = set(f.replace('/', '\\\\').lower() for f in files)",
      "is_file = lambda path: path.replace('/', '\\\\').lower() in exists",
      "print(json.dumps([extension.which_node(path, True, is_file) for path in paths]))",
    ].join("\n");
    const { stdout } = await run(python, [
      "-c",
      probe,
      join(ROOT, "local/runner/python"),
      join(ROOT, "src/bridge"),
      JSON.stringify([WINDOWS_FILES, windowsSearches.map(([, path]) => path)]),
    ]);
    const found: unknown[] = JSON.parse(stdout);
    for (const [i, [label, , expected]] of windowsSearches.entries()) {
      assert.equal(found[i], expected, label);
    }
  });

  test("on Windows, a setting's path may be written in double quotes; elsewhere they are the path's own", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const probe = [
      "import json, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "print(json.dumps([extension.setting_path(text, windows) for text, windows in json.loads(sys.argv[3])]))",
    ].join("\n");
    const settings = [
      [String.raw` "C:\Program Files\nodejs\node.exe" `, true],
      ['"/opt/node"', false],
    ];
    const { stdout } = await run(python, [
      "-c",
      probe,
      join(ROOT, "local/runner/python"),
      join(ROOT, "src/bridge"),
      JSON.stringify(settings),
    ]);
    assert.deepEqual(JSON.parse(stdout), [
      String.raw`C:\Program Files\nodejs\node.exe`,
      '"/opt/node"',
    ]);
  });

  test("a relative TMPDIR or UE_AWS_STEPFUNCTIONS_CACHE gives an absolute private folder (the program starts in its run folder); with the working directory removed, a clear exit code", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const work = await mkdtemp(join(tmpdir(), "ue-agent-cwd-"));
    after(() => rm(work, { recursive: true, force: true }));
    const probe = [
      "import json, os, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "os.environ['TMPDIR'] = 'temp'",
      "found = [extension.cache_root({}), extension.cache_root({'UE_AWS_STEPFUNCTIONS_CACHE': 'cache'})]",
      // The agent's working directory removed: relative paths name nothing, said plainly.
      "os.mkdir('gone'); os.chdir('gone'); os.rmdir('../gone')",
      "for name, value, call in (('UE_AWS_STEPFUNCTIONS_CACHE', 'cache', extension.cache_root),",
      "                          ('UE_AWS_STEPFUNCTIONS_NODE', 'node', lambda env: extension.find_node('/', env))):",
      "    try:",
      "        found.append(call({name: value}))",
      "    except extension.BridgeError as error:",
      "        found.append([error.code, str(error)])",
      "print(json.dumps(found))",
    ].join("\n");
    const { stdout } = await run(
      python,
      ["-c", probe, join(ROOT, "local/runner/python"), join(ROOT, "src/bridge")],
      { cwd: work },
    );
    const owner = String(process.getuid?.() ?? "");
    // Python's working directory is the real path (/tmp may be a link).
    const real = realpathSync(work);
    assert.deepEqual(JSON.parse(stdout), [
      join(real, "temp", `ue-aws-stepfunctions-${owner}`),
      join(real, "cache"),
      [30, "cannot create the bridge's folder cache: [Errno 2] No such file or directory"],
      [29, "Node.js 20 or newer is needed; UE_AWS_STEPFUNCTIONS_NODE=node names no file"],
    ]);
  });

  test("on Windows (no user id), the private folder is named by the environment's USERNAME, else by the name Windows gives the process, never one folder for every account", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const temp = await mkdtemp(join(tmpdir(), "ue-windows-user-"));
    after(() => rm(temp, { recursive: true, force: true }));
    const probe = [
      "import json, os, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "os.environ['TMPDIR'] = sys.argv[3]",
      "os.environ['USERNAME'] = 'agent-process'",
      "del os.getuid",
      "names = [os.path.basename(extension.cache_root({'USERNAME': 'svc-sfn'}))]",
      "os.getlogin = lambda: 'asked-windows'",
      "names.append(os.path.basename(extension.cache_root({})))",
      "def refused():",
      "    raise OSError('no name')",
      "os.getlogin = refused",
      "names.append(os.path.basename(extension.cache_root({'USERNAME': ' '})))",
      "print(json.dumps(names))",
    ].join("\n");
    const { stdout } = await run(python, [
      "-c",
      probe,
      join(ROOT, "local/runner/python"),
      join(ROOT, "src/bridge"),
      temp,
    ]);
    // The environment handed in decides, not the agent's own; then Windows' answer.
    assert.deepEqual(JSON.parse(stdout), [
      "ue-aws-stepfunctions-svc-sfn",
      "ue-aws-stepfunctions-asked-windows",
      "ue-aws-stepfunctions-user",
    ]);
  });

  test("the program gets the temporary folder Node reads (TMPDIR, TMP, TEMP; Windows: TEMP, TMP) as an absolute path when it is relative and there; any other is left as it is", async () => {
    const python = findPython();
    assert.ok(python, "python3 is needed for these tests");
    const work = await mkdtemp(join(tmpdir(), "ue-agent-cwd-"));
    after(() => rm(work, { recursive: true, force: true }));
    await mkdir(join(work, "temp"));
    const real = realpathSync(work);
    const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
      ["posix", { TMPDIR: "temp" }, { TMPDIR: join(real, "temp") }],
      ["posix", { TMP: "temp", TEMP: "missing" }, { TMP: join(real, "temp"), TEMP: "missing" }],
      // An empty TMPDIR is not set (Node reads past it).
      ["posix", { TMPDIR: "", TEMP: "temp" }, { TMPDIR: "", TEMP: join(real, "temp") }],
      // The one Node reads names no folder, or is absolute: nothing changes.
      ["posix", { TMPDIR: "missing", TMP: "temp" }, { TMPDIR: "missing", TMP: "temp" }],
      ["posix", { TMPDIR: "/var/tmp", TMP: "temp" }, { TMPDIR: "/var/tmp", TMP: "temp" }],
      ["posix", {}, {}],
      ["nt", { TMPDIR: "missing", TEMP: "temp" }, { TMPDIR: "missing", TEMP: join(real, "temp") }],
      ["nt", { TMPDIR: "temp", TMP: "temp" }, { TMPDIR: "temp", TMP: join(real, "temp") }],
      // The agent's working directory removed: nothing to take it from.
      ["gone", { TMPDIR: "temp" }, { TMPDIR: "temp" }],
    ];
    const probe = [
      "import json, os, sys",
      "sys.path[:0] = sys.argv[1:3]",
      "import extension",
      "found = []",
      "for where, env in json.loads(sys.argv[3]):",
      "    if where == 'gone':",
      "        os.mkdir('gone'); os.chdir('gone'); os.rmdir('../gone')",
      "    name, os.name = os.name, 'nt' if where == 'nt' else os.name",
      "    extension.absolute_temp(env)",
      "    os.name = name",
      "    found.append(env)",
      "print(json.dumps(found))",
    ].join("\n");
    const { stdout } = await run(
      python,
      [
        "-c",
        probe,
        join(ROOT, "local/runner/python"),
        join(ROOT, "src/bridge"),
        JSON.stringify(cases.map(([where, env]) => [where, env])),
      ],
      { cwd: work },
    );
    assert.deepEqual(
      JSON.parse(stdout),
      cases.map(([, , expected]) => expected),
    );
  });

  for (const streams of ["None (closed when Python started)", "broken (their reader gone)"]) {
    test(`the task's standard output and error ${streams}: the bridge still returns its result, exit 29`, async () => {
      const python = findPython();
      assert.ok(python, "python3 is needed for these tests");
      const probe = [
        "import os, sys",
        "sys.path[:0] = sys.argv[1:3]",
        "import extension",
        "class Broken(object):",
        "    def write(self, text): raise BrokenPipeError(32, 'Broken pipe')",
        "    def flush(self): raise BrokenPipeError(32, 'Broken pipe')",
        "    def fileno(self): raise OSError('no file descriptor')",
        "real = sys.__stdout__",
        "sys.stdout = sys.stderr = None if sys.argv[3] == 'none' else Broken()",
        "os.environ['PATH'] = ''",
        "os.environ.pop('UE_AWS_STEPFUNCTIONS_NODE', None)",
        "result = extension.Extension().extension_start({'state_machine_arn': 'x'})",
        "sys.stdout, sys.stderr = real, sys.__stderr__",
        "print('%s %s' % (result.rc, result.message))",
      ].join("\n");
      const { stdout } = await run(python, [
        "-c",
        probe,
        join(ROOT, "local/runner/python"),
        join(ROOT, "src/bridge"),
        streams.startsWith("None") ? "none" : "broken",
      ]);
      assert.match(
        stdout,
        /^29 NODE_UNAVAILABLE: Node\.js 20 or newer is needed and was not found/,
      );
    });
  }

  test("node too old: exit code 29 naming the version found and where", async () => {
    const bin = await mkdtemp(join(tmpdir(), "ue-old-node-"));
    after(() => rm(bin, { recursive: true, force: true }));
    await writeFile(join(bin, "node"), "#!/bin/sh\necho v18.20.4\n");
    await chmod(join(bin, "node"), 0o755);
    const f = await open({}, { env: { PATH: `${bin}:/usr/bin:/bin` } });
    const result = await f.runner.launch({ name: "old", fields: { state_machine_arn: SM } }).result;
    assert.equal(result.exitCode, 29);
    assert.match(
      result.message ?? "",
      new RegExp(`Node\\.js 20 or newer is needed; ${bin}/node .*is v18\\.20\\.4`),
    );
    assert.equal((result.extensionOutput as { exit_code: number }).exit_code, 29);
    assert.ok(!existsSync(join(f.dir, "old-1.json")), "the program never ran");
  });

  test("a bundle missing from the archive: exit code 30 naming the archive", async () => {
    const f = await open({}, { omitFromArchive: [BUNDLE_NAME] });
    const result = await f.runner.launch({ name: "hollow", fields: { state_machine_arn: SM } })
      .result;
    assert.equal(result.exitCode, 30);
    assert.match(
      result.message ?? "",
      /^BRIDGE_ERROR: cannot read the bundled program ue-aws-stepfunctions\.cjs from the extension archive .*extension_archive\.zip/,
    );
  });

  /** A folder on a tmpfs filled up (where mounting is allowed), unmounted after the test. */
  async function fullFolder(t: { skip(message: string): void }): Promise<string | null> {
    const mountPoint = await mkdtemp(join(tmpdir(), "ue-full-cache-"));
    after(async () => {
      try {
        execFileSync("umount", [mountPoint], { stdio: "ignore" });
      } catch {
        // Never mounted.
      }
      await rm(mountPoint, { recursive: true, force: true });
    });
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", mountPoint], {
        stdio: "ignore",
      });
    } catch {
      t.skip("mounting a tmpfs is not permitted here");
      return null;
    }
    try {
      await writeFile(join(mountPoint, "filler"), Buffer.alloc(64 * 1024));
    } catch {
      // Full: what the tests need.
    }
    return mountPoint;
  }

  // [case, archive, what the message says could not be done]
  const fullDisk: Array<[string, "zip" | "folder", string]> = [
    [
      "the copy of the bundle",
      "zip",
      `cannot copy the bundled program ${BUNDLE_NAME} into the bridge's folder`,
    ],
    [
      "the fields file (the bundle beside extension.py)",
      "folder",
      "cannot write the program's fields file in the bridge's folder",
    ],
  ];
  for (const [name, archive, what] of fullDisk) {
    test(`a bridge folder on a full disk, ${name}: exit 30 naming the folder, no traceback`, async (t) => {
      const mountPoint = await fullFolder(t);
      if (!mountPoint) return;
      const cache = join(mountPoint, "cache");
      const f = await open({}, { archive, env: { UE_AWS_STEPFUNCTIONS_CACHE: cache } });
      const result = await f.runner.launch({ name: "full", fields: { state_machine_arn: SM } })
        .result;
      assert.equal(result.exitCode, 30);
      assert.equal(
        result.message,
        `BRIDGE_ERROR: ${what} ${cache}: [Errno 28] No space left on device (UE_AWS_STEPFUNCTIONS_CACHE may name another folder)`,
      );
      assert.ok(
        !f.events.some((e) => e.type === "log" && e.line.startsWith("Traceback")),
        "a message, not a traceback",
      );
    });
  }

  test("a document that is not JSON is handed back as it is, not lost", async () => {
    const f = await open({ "*": { badDocument: true } });
    const result = await f.runner.launch({ name: "garbled", fields: { state_machine_arn: SM } })
      .result;
    assert.ok(
      result.problems.some((p) => p.endsWith("{ this is not JSON")),
      result.problems.join(),
    );
  });
});
