/**
 * The runner's command line as a newcomer meets it: --help, and bad usage ending in one
 * clear line and exit code 2, never a stack trace. Each case runs the real command line in a
 * child process; none of them reaches the package or Python.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runTool, stackLines } from "../helpers/local-tools.ts";

describe("runner command line", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ue-runner-cli-"));
    await writeFile(join(dir, "broken.json"), "{ not json");
    await writeFile(join(dir, "task.json"), JSON.stringify({ name: "t", fields: {} }));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const flag of ["--help", "-h"]) {
    test(`${flag} prints the usage on stdout and exits 0`, async () => {
      const run = await runTool("runner/cli.ts", [flag]);

      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Usage:/);
      for (const part of [
        "run <workflow.json | task.json>",
        "rerun <run-id> <task>",
        "list",
        "choices <task.json> <field>",
        "--var NAME=VALUE",
        "--package ZIP",
        "Exit code",
      ]) {
        assert.ok(run.stdout.includes(part), `usage names ${part}`);
      }
      assert.equal(run.stderr, "");
    });
  }

  // [case, arguments, what the one line on stderr must say]
  const badUsage: Array<[string, (dir: string) => string[], RegExp]> = [
    [
      "a missing workflow file",
      (d) => ["run", join(d, "missing.workflow.json")],
      /^runner: cannot read workflow or task file \S*missing\.workflow\.json: no such file$/,
    ],
    [
      "a folder instead of a file",
      (d) => ["run", d],
      /^runner: cannot read workflow or task file \S+: it is a folder$/,
    ],
    [
      "a file that is not JSON",
      (d) => ["run", join(d, "broken.json")],
      /^runner: workflow or task file \S*broken\.json is not JSON: /,
    ],
    [
      "no command",
      () => [],
      /^runner: no command: expected run, rerun, list or choices \(npm run runner -- --help shows the usage\)$/,
    ],
    [
      "an unknown command",
      () => ["start"],
      /^runner: unknown command "start": expected run, rerun, list or choices/,
    ],
    [
      "an unknown option",
      () => ["run", "x.json", "--verbose-ish"],
      /^runner: Unknown option '--verbose-ish' \(npm run runner -- --help/,
    ],
    ["run without a file", () => ["run"], /^runner: run takes one workflow or task file/],
    [
      "rerun of a run never saved",
      (d) => ["rerun", "0123", "t", "--state-dir", d],
      /^runner: no saved run 0123 in \S+ \(npm run runner -- list shows the saved runs\)$/,
    ],
    [
      "a --var without a value",
      (d) => ["run", join(d, "task.json"), "--var", "endpoint_url"],
      /^runner: --var endpoint_url: expected NAME=VALUE/,
    ],
    [
      "a --grace-seconds that is not a number",
      (d) => ["run", join(d, "task.json"), "--grace-seconds", "soon"],
      /^runner: --grace-seconds soon: expected a number of seconds, 0 or more$/,
    ],
    [
      "a missing package",
      (d) => ["run", join(d, "task.json"), "--package", join(d, "none.zip")],
      /^runner: package not found: \S*none\.zip$/,
    ],
    [
      "a missing credentials file",
      (d) => ["run", join(d, "task.json"), "--credentials", join(d, "none.json")],
      /^runner: cannot read credentials file \S*none\.json: /,
    ],
  ];
  for (const [name, args, expected] of badUsage) {
    test(`${name}: one line on stderr, exit code 2, no stack trace`, async () => {
      const run = await runTool("runner/cli.ts", args(dir));

      assert.equal(run.code, 2, `${run.stdout}${run.stderr}`);
      assert.deepEqual(stackLines(run.stderr), []);
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0] ?? "", expected);
      assert.equal(run.stdout, "");
    });
  }
});
