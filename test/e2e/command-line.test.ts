/**
 * End to end from a command line: the bundle as a child process against the local
 * endpoint, with fields as UE_FIELD_* variables and flags. A name that matches no field,
 * a flag that does not apply, a secret as a flag and a bad input file end with exit 20,
 * a document, and no call to the endpoint; --input-file reaches the execution exactly.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { ACTIONS, PROXY_TYPES, RERUN_BEHAVIOURS } from "../../src/fields/catalog.ts";
import { assertValidDoc, cleanEnv, runBundle } from "../helpers/bundle.ts";
import { bundleNode } from "../helpers/node-versions.ts";
import { BUNDLE, ROOT } from "../helpers/paths.ts";

const SECRET_CANARY = "CanarySecret0000000000000000000000000cli";
/** The exit codes of SPEC 5.6 and the program's own (README "Exit codes"). */
const DATA_VALIDATION = 20;
const CANCELLED = 27;

/** [code, status word] of each row of the README's exit code table: what --help must list. */
function documentedExitCodes(): Array<[string, string]> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const table = readme.split("\n## Exit codes\n")[1]?.split("\n## ")[0] ?? "";
  return [...table.matchAll(/^\| (\d+) \| ([A-Z_]+) \|/gm)].map((m) => [
    m[1] as string,
    m[2] as string,
  ]);
}

describe("the command line, end to end", () => {
  let ep: LocalEndpoint;
  let arn: string;
  let dir: string;
  let inputFile: string;
  const input = '{ "date": "2026-11-21",\n  "text": "tab\\there \\u00e9", "n": 1.50 }\n';

  before(async () => {
    ep = await startLocalEndpoint();
    arn = ep.createStateMachine({
      name: "echo",
      definition: { StartAt: "E", States: { E: { Type: "Pass", End: true } } },
    });
    dir = await mkdtemp(join(tmpdir(), "ue-cli-"));
    inputFile = join(dir, "input.json");
    await writeFile(inputFile, input);
  });
  after(async () => {
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Connection fields as variables, as a cron job would set them. */
  const variables = (extra: Record<string, string> = {}) => ({
    UE_FIELD_ENDPOINT_URL: ep.url,
    UE_FIELD_CREDENTIALS_USER: ep.credentials.accessKeyId,
    UE_FIELD_CREDENTIALS_PASSWORD: ep.credentials.secretAccessKey,
    UE_FIELD_STATE_MACHINE_ARN: arn,
    ...extra,
  });

  test("--input-file: the execution gets the file's text exactly, and its output is that JSON", async () => {
    const run = await runBundle({
      env: variables(),
      args: ["--input-file", inputFile, "--wait-for-success-or-failure", "--polling-interval", "1"],
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(ep.getExecution(run.doc.result.executionArn)?.input, input);
    assert.deepEqual(run.doc.result.outputParsed, JSON.parse(input));
  });

  test("UE_FIELD_INPUT_FILE works the same way", async () => {
    const run = await runBundle({ env: variables({ UE_FIELD_INPUT_FILE: inputFile }) });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(ep.getExecution(run.doc.result.executionArn)?.input, input);
  });

  test("an empty input file starts the execution with {}, and says so", async () => {
    const empty = join(dir, "empty-input.json");
    await writeFile(empty, "");
    const run = await runBundle({ env: variables({ UE_FIELD_INPUT_FILE: empty }) });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assert.equal(ep.getExecution(run.doc.result.executionArn)?.input, "{}");
    assert.match(run.stderr, /WARN .*Input: UE_FIELD_INPUT_FILE .* is empty; taken as not set/);
  });

  // [what, variables, flags, what the document says]
  const refused: Array<[string, () => Record<string, string>, readonly string[], RegExp]> = [
    [
      "a misspelt variable (the task would otherwise not wait)",
      () => variables({ UE_FIELD_WAIT_FOR_SUCESS_OR_FAILURE: "true" }),
      [],
      /^DATA_VALIDATION_ERROR: 1 field is invalid:\n {2}UE_FIELD_WAIT_FOR_SUCESS_OR_FAILURE: names no field of this task; did you mean UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE\?/,
    ],
    [
      "an output-only field as a variable",
      () => variables({ UE_FIELD_EXECUTION_ARN: "arn:aws:states:x" }),
      [],
      /UE_FIELD_EXECUTION_ARN: names Execution ARN, an output-only field: the program sets it/,
    ],
    [
      "a variable beside a fields file",
      () => variables({ UE_FIELDS_FILE: inputFile }),
      [],
      /UE_FIELD_ENDPOINT_URL: is not read when the values come from a fields file/,
    ],
    [
      "an unknown flag and its value: one problem",
      () => variables({ UE_FIELD_STATE_MACHINE_ARN: "" }),
      ["--stat-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:echo"],
      /^DATA_VALIDATION_ERROR: 1 field is invalid:\n {2}--stat-machine-arn: is not a known flag; did you mean --state-machine-arn\?/,
    ],
    [
      "a flag Stop Execution does not use",
      () => variables({ UE_FIELD_STATE_MACHINE_ARN: "" }),
      [
        "--action",
        "Stop Execution",
        "--target-execution-arn",
        "arn:aws:states:us-east-1:123456789012:execution:echo:x",
        "--polling-interval",
        "5",
      ],
      /Polling Interval: --polling-interval does not apply to Stop Execution/,
    ],
    [
      "the secret key as a flag",
      () => variables({ UE_FIELD_CREDENTIALS_PASSWORD: "" }),
      ["--credentials-password", SECRET_CANARY],
      /--credentials-password cannot be given as a flag: a command line is visible to every user of the host/,
    ],
    [
      "a missing --fields-file",
      () => ({}),
      ["--fields-file", "/nonexistent/fields.json"],
      /--fields-file \/nonexistent\/fields\.json: no such file/,
    ],
    [
      "a missing input file",
      () => variables(),
      ["--input-file", "/nonexistent/input.json"],
      /Input: --input-file \/nonexistent\/input\.json: no such file/,
    ],
    [
      "an input file that is not JSON",
      () => variables({ UE_FIELD_INPUT_FILE: "/etc/hostname" }),
      [],
      /Input: UE_FIELD_INPUT_FILE \/etc\/hostname: is not valid JSON: .* at line 1, column 1 \(character 1\)/,
    ],
    [
      "Input and an input file together",
      () => variables({ UE_FIELD_INPUT: "{}" }),
      ["--input-file", "/etc/hostname", "--input", "{}"],
      /Input: is given twice: --input and --input-file; give one of them/,
    ],
  ];
  for (const [what, env, args, expected] of refused) {
    test(`refused with exit 20, a document and no AWS call: ${what}`, async () => {
      const before = ep.requests.length;
      const run = await runBundle({ env: env(), args });
      assert.equal(run.code, DATA_VALIDATION, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, DATA_VALIDATION);
      assert.match(run.doc.status_description, expected);
      assert.equal(ep.requests.length, before, "no call reached the endpoint");
      assert.ok(!run.allBytes.includes(SECRET_CANARY), "the secret shows nowhere");
    });
  }

  test("a named pipe no program writes to: SIGTERM ends the task at once, exit 27, a document, no call", async () => {
    const pipe = join(dir, "no-writer.fifo");
    execFileSync("mkfifo", [pipe]);
    const before = ep.requests.length;
    let signalledAt = 0;
    // The signal goes once the program holds the pipe open (it waits on it from then on), not
    // at a fixed time a slow start could outlast; a program that blocked in opening it would
    // never get there and be killed at the time limit.
    const fifo = realpathSync(pipe);
    const holdsPipe = (pid: number | undefined) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`) === fifo;
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    const run = await runBundle({
      env: variables(),
      args: ["--input-file", pipe],
      timeoutMs: 15_000,
      onStart: (child) => {
        const timer = setInterval(() => {
          if (!holdsPipe(child.pid)) return;
          clearInterval(timer);
          signalledAt = Date.now();
          child.kill("SIGTERM");
        }, 20);
        child.on("exit", () => clearInterval(timer));
      },
    });
    const tookMs = Date.now() - signalledAt;
    assert.equal(run.code, CANCELLED, run.stderr);
    assert.ok(tookMs < 3000, `the task ended ${tookMs} ms after SIGTERM`);
    assertValidDoc(run.doc);
    assert.equal(
      run.doc.status_description,
      `CANCELLED: cancelled while waiting for ${pipe}, a pipe no program has finished writing to yet; nothing was sent to AWS`,
    );
    assert.equal(ep.requests.length, before, "no call reached the endpoint");
  });

  test("a named pipe written to later, and process substitution <(...): the input arrives whole", async () => {
    const pipe = join(dir, "later.fifo");
    execFileSync("mkfifo", [pipe]);
    // The writer opens the pipe a while after the program has started.
    const writer = spawn("sh", ["-c", 'sleep 0.5; cat "$0" > "$1"', inputFile, pipe]);
    const later = await runBundle({ env: variables(), args: ["--input-file", pipe] });
    writer.kill();
    assert.equal(later.code, 0, later.stderr);
    assert.equal(ep.getExecution(later.doc?.["result"].executionArn)?.input, input);

    const outputFile = join(dir, "substituted.json");
    // bash opens the pipe's writing end at once; the text comes half a second later.
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        "bash",
        ["-c", '"$0" "$1" --input-file <(sleep 0.5; cat "$2")', bundleNode(), BUNDLE, inputFile],
        {
          env: cleanEnv({ ...variables(), UE_EXTENSION_OUTPUT_FILE: outputFile }),
          stdio: "ignore",
        },
      );
      child.on("close", resolve);
    });
    assert.equal(code, 0);
    const doc = JSON.parse(await readFile(outputFile, "utf8"));
    assert.equal(ep.getExecution(doc.result.executionArn)?.input, input);
  });

  test("an input file over 262,144 bytes is refused before any call", async () => {
    const big = join(dir, "big.json");
    await writeFile(big, `"${"a".repeat(262_143)}"`);
    const before = ep.requests.length;
    const run = await runBundle({ env: variables(), args: ["--input-file", big] });
    assert.equal(run.code, DATA_VALIDATION, run.stderr);
    assertValidDoc(run.doc);
    assert.match(
      run.doc.status_description,
      /Input: --input-file .*big\.json: holds more than 262144 bytes/,
    );
    assert.equal(ep.requests.length, before);
  });

  for (const flag of ["--help", "-h"]) {
    test(`${flag}: every action and choice, every exit code, exit 0`, async () => {
      const run = await runBundle({ args: [flag] });
      assert.equal(run.code, 0, run.stderr);
      const choices = [
        ...Object.values(ACTIONS),
        ...Object.values(PROXY_TYPES),
        ...Object.values(RERUN_BEHAVIOURS),
      ];
      for (const choice of choices) {
        assert.match(run.stdout, new RegExp(`^ {40,}${choice}$`, "m"), choice);
      }
      const documented = documentedExitCodes();
      // The codes of SPEC 5.6 (and 27, cancelled) are in the table, with their words.
      for (const row of [
        ["0", "SUCCESS"],
        ["1", "FAIL"],
        ["2", "AUTHENTICATION_ERROR"],
        ["3", "AUTHORIZATION_ERROR"],
        ["10", "CONNECTION_ERROR"],
        ["11", "CONNECTION_ERROR"],
        ["20", "DATA_VALIDATION_ERROR"],
        ["23", "FAIL"],
        ["24", "FAIL"],
        ["25", "FAIL"],
        ["27", "CANCELLED"],
      ]) {
        assert.ok(
          documented.some(([c, w]) => c === row[0] && w === row[1]),
          `README: ${row.join(" ")}`,
        );
      }
      for (const [code, word] of documented) {
        assert.match(run.stdout, new RegExp(`^ +${code} +${word} +\\S`, "m"), `exit code ${code}`);
      }
      assert.match(run.stdout, /^ {2}--input-file PATH +Input from a file \(UE_FIELD_INPUT_FILE/m);
      assert.doesNotMatch(
        run.stdout,
        /--credentials|--task-token/,
        "no secret is offered as a flag",
      );
    });
  }
});
