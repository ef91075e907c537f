import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { OUTPUT_FIELDS } from "../../src/fields/catalog.ts";
import { readFields } from "../../src/fields/read.ts";
import { mask } from "../../src/secrets.ts";

/** The largest Input Step Functions accepts (SPEC 5.1), in bytes of UTF-8. */
const MAX_INPUT_BYTES = 262_144;

describe("reading field values", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "ue-read-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("UE_FIELDS_FILE in runtime shapes", async () => {
    const file = join(dir, "fields.json");
    await writeFile(
      file,
      JSON.stringify({
        action: ["Start Asynchronous Execution"],
        polling_interval: 5,
        wait_for_success_or_failure: true,
        credentials: { user: "AKIAIOSFODNN7EXAMPLE", password: "file-secret-canary" },
        region: "",
      }),
    );
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    assert.deepEqual(raw.problems, []);
    assert.deepEqual(raw.values, {
      action: ["Start Asynchronous Execution"],
      polling_interval: 5,
      wait_for_success_or_failure: true,
      credentials: { user: "AKIAIOSFODNN7EXAMPLE", password: "file-secret-canary" },
    });
    assert.equal(mask("x file-secret-canary y"), "x **** y", "the password is registered at once");
  });

  test("a flag given twice: the last value counts, and a warning says so", async () => {
    const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
    const raw = readFields({}, [
      "--state-machine-arn",
      arn("first"),
      "--wait-for-success-or-failure",
      "--state-machine-arn",
      arn("second"),
      "--wait-for-success-or-failure=false",
      "--state-machine-arn",
      arn("third"),
    ]);
    assert.deepEqual(raw.problems, []);
    assert.equal(raw.values["state_machine_arn"], arn("third"));
    assert.equal(raw.values["wait_for_success_or_failure"], false);
    assert.deepEqual(raw.warnings, [
      "--state-machine-arn is given 3 times; the last one is used",
      "--wait-for-success-or-failure is given 2 times; the last one is used",
    ]);

    // --fields-file beside UE_FIELDS_FILE: the flag counts, and the variable is said ignored.
    const file = join(dir, "flag-wins.json");
    await writeFile(file, JSON.stringify({ state_machine_arn: arn("file") }));
    const both = readFields({ UE_FIELDS_FILE: join(dir, "other.json") }, ["--fields-file", file]);
    assert.deepEqual(both.problems, []);
    assert.equal(both.values["state_machine_arn"], arn("file"));
    assert.deepEqual(both.warnings, [
      "--fields-file is used; UE_FIELDS_FILE, also set, is ignored",
    ]);
  });

  test("UE_FIELD_* variables: strings turned into runtime shapes", () => {
    const raw = readFields(
      {
        UE_FIELD_POLLING_INTERVAL: "7",
        UE_FIELD_USE_PROXY: "TRUE",
        UE_FIELD_PROXY_TYPE: "HTTPS With Credentials",
        UE_FIELD_PROXY_CREDENTIALS_USER: "proxyuser",
        UE_FIELD_PROXY_CREDENTIALS_PASSWORD: "env-secret-canary",
      },
      [],
    );
    assert.deepEqual(raw.values, {
      polling_interval: 7,
      use_proxy: true,
      proxy_type: ["HTTPS With Credentials"],
      proxy_credentials: { user: "proxyuser", password: "env-secret-canary" },
    });
    assert.equal(mask("env-secret-canary"), "****");
  });

  test("a fields file that cannot be read is a problem, not a crash", () => {
    const file = join(dir, "missing.json");
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    assert.deepEqual(raw.problems, [
      { field: "UE_FIELDS_FILE", label: `UE_FIELDS_FILE ${file}`, message: "no such file" },
    ]);
  });

  test("a fields file that is not an object is a problem", async () => {
    const file = join(dir, "array.json");
    await writeFile(file, "[1,2]");
    assert.match(
      readFields({ UE_FIELDS_FILE: file }, []).problems[0]?.message ?? "",
      /JSON object/,
    );
  });

  test("unknown field names are refused; echoed output-only fields are not", async () => {
    const file = join(dir, "extra.json");
    // Every output-only field of the template, as a controller may hand them back.
    const echoed = Object.fromEntries(OUTPUT_FIELDS.map((f) => [f.name, "old"]));
    assert.ok("map_run_progress" in echoed);
    await writeFile(file, JSON.stringify({ state_machine_arm: "x", ...echoed }));
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    assert.deepEqual(
      raw.problems.map((p) => p.field),
      ["state_machine_arm"],
    );
    assert.deepEqual(raw.values, {});
  });

  test("--fields-file on the command line", async () => {
    const file = join(dir, "cli.json");
    await writeFile(file, JSON.stringify({ region: "eu-west-1" }));
    assert.deepEqual(readFields({}, ["--fields-file", file, "--execution-name", "n1"]).values, {
      region: "eu-west-1",
      execution_name: "n1",
    });
  });

  test("a fields file that is not JSON: the file and the position, never the text", async () => {
    const file = join(dir, "broken.json");
    await writeFile(
      file,
      '{\n  "proxy_credentials": {"user": "u", "password": CANARY-broken-pw-9d2}\n}',
    );
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    const message = raw.problems[0]?.message ?? "";
    assert.equal(raw.problems[0]?.label, `UE_FIELDS_FILE ${file}`);
    assert.match(message, /^is not valid JSON: .*line 2, column \d+ \(character \d+\)$/);
    assert.ok(!message.includes("CANARY"), message);
  });

  const utf8Cases: Array<[string, Buffer, string, RegExp]> = [
    [
      "a text value",
      Buffer.concat([
        Buffer.from('{"execution_name": "ab'),
        Buffer.from([0xff]),
        Buffer.from('c"}'),
      ]),
      "execution_name",
      /not UTF-8 at character 3 \(byte 23 of the fields file/,
    ],
    [
      "a credential password",
      Buffer.concat([
        Buffer.from('{"credentials": {"user": "AKIAIOSFODNN7EXAMPLE", "password": "\u00e9'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}}'),
      ]),
      "credentials",
      /password holds bytes that are not UTF-8 at character 2/,
    ],
    [
      "a Choice item",
      Buffer.concat([Buffer.from('{"action": ["x'), Buffer.from([0x80]), Buffer.from('"]}')]),
      "action",
      /not UTF-8 at character 2/,
    ],
  ];
  for (const [name, bytes, field, expected] of utf8Cases) {
    test(`invalid UTF-8 in ${name} in a fields file is refused by field and position`, async () => {
      const file = join(dir, `utf8-${field}.json`);
      await writeFile(file, bytes);
      const raw = readFields({ UE_FIELDS_FILE: file }, []);
      assert.equal(raw.problems.length, 1, JSON.stringify(raw.problems));
      assert.equal(raw.problems[0]?.field, field);
      assert.match(raw.problems[0]?.message ?? "", expected);
      assert.deepEqual(raw.values, {});
    });
  }

  test("every field with bytes that are not UTF-8 is named; the others are kept", async () => {
    const file = join(dir, "utf8-several.json");
    await writeFile(
      file,
      Buffer.concat([
        Buffer.from('{"region": "eu-west-1", "execution_name": "a\\u00e9b'),
        Buffer.from([0xe2, 0x82]),
        Buffer.from('c", "input": "{}", "role_arn": "x'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
    );
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    assert.deepEqual(
      raw.problems.map((p) => [p.field, /at character (\d+)/.exec(p.message)?.[1]]),
      [
        ["execution_name", "4"],
        ["role_arn", "2"],
      ],
    );
    assert.deepEqual(raw.values, { region: "eu-west-1", input: "{}" });
  });

  test("a byte order mark before a fields file or a Script's text is the encoding, not text", async () => {
    const file = join(dir, "bom.json");
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    // A fields file with a mark (as Windows PowerShell 5 writes), an Input with one (as a
    // Script saved by a Windows editor reaches the program), a bad byte after both.
    await writeFile(
      file,
      Buffer.concat([
        bom,
        Buffer.from('{"input": "\\uFEFF{\\"a\\": 1}", "task_output": "\\uFEFF", "region": "e'),
        Buffer.from([0xff]),
        Buffer.from('"}'),
      ]),
    );
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    assert.deepEqual(raw.values, { input: '{"a": 1}' });
    assert.deepEqual(
      raw.problems.map((p) => [p.field, /at character (\d+)/.exec(p.message)?.[1]]),
      [["region", "2"]],
    );
    assert.deepEqual(readFields({ UE_FIELD_INPUT: "\uFEFF[1]" }, []).values.input, "[1]");
    // Only a Script's: other text keeps it (and its own checks judge it).
    assert.equal(
      readFields({ UE_FIELD_EXECUTION_NAME: "\uFEFFx" }, []).values.execution_name,
      "\uFEFFx",
    );
  });

  test("a real U+FFFD in a UTF-8 fields file is text like any other", async () => {
    const file = join(dir, "fffd.json");
    await writeFile(file, JSON.stringify({ execution_name: "a\uFFFDb" }));
    assert.deepEqual(readFields({ UE_FIELDS_FILE: file }, []).problems, []);
  });

  const unicodeCases: Array<[string, () => ReturnType<typeof readFields>, string, RegExp]> = [
    [
      "an unpaired surrogate escaped in a fields file",
      () => {
        const file = join(dir, "surrogate.json");
        writeFileSync(file, '{"input": "{\\"k\\": \\"x\\ud800y\\"}"}');
        return readFields({ UE_FIELDS_FILE: file }, []);
      },
      "input",
      /unpaired surrogate .* at character 9/,
    ],
    [
      "bytes that were not UTF-8 in a variable (decoded to U+FFFD)",
      () => readFields({ UE_FIELD_EXECUTION_NAME: "run\uFFFD1" }, []),
      "execution_name",
      /not UTF-8 at character 4/,
    ],
    [
      "a lone surrogate in a variable",
      () => readFields({ UE_FIELD_REGION: "eu\uDC00" }, []),
      "region",
      /unpaired surrogate .* at character 3/,
    ],
    [
      "a lone surrogate in a credential password",
      () =>
        readFields(
          {
            UE_FIELD_CREDENTIALS_USER: "AKIAIOSFODNN7EXAMPLE",
            UE_FIELD_CREDENTIALS_PASSWORD: "p\uD800w-long",
          },
          [],
        ),
      "credentials",
      /password holds an unpaired surrogate .* at character 2/,
    ],
    [
      "U+FFFD on the command line",
      () => readFields({}, ["--execution-name", "x\uFFFD"]),
      "execution_name",
      /not UTF-8 at character 2/,
    ],
  ];
  for (const [name, read, field, expected] of unicodeCases) {
    test(`refused, not sent altered: ${name}`, () => {
      const raw = read();
      assert.equal(raw.problems.length, 1, JSON.stringify(raw.problems));
      assert.equal(raw.problems[0]?.field, field);
      assert.match(raw.problems[0]?.message ?? "", expected);
      assert.equal(raw.values[field], undefined);
    });
  }

  const flagCases: Array<[readonly string[], string, RegExp]> = [
    [["--polling-interval="], "polling_interval", /needs a value \(got an empty one\)/],
    [["--polling-interval"], "polling_interval", /needs a value \(got none\)/],
    [["--polling-interval", "--region", "eu-west-1"], "polling_interval", /needs a value/],
    [["--fields-file"], "--fields-file", /needs the path/],
    [["--fields-file="], "--fields-file", /needs the path/],
    [["--fields-file", "--region", "eu-west-1"], "--fields-file", /needs the path/],
    [["--use-proxy="], "use_proxy", /needs true or false/],
  ];
  for (const [argv, field, expected] of flagCases) {
    test(`an empty or missing flag value is an error: ${argv.join(" ")}`, () => {
      const raw = readFields({}, argv);
      const found = raw.problems.find((p) => p.field === field);
      assert.ok(found, JSON.stringify(raw.problems));
      assert.match(found.message, expected);
    });
  }

  const EXEC = "arn:aws:states:eu-west-1:123456789012:execution:Orders:nightly-1";

  // [what, env, argv, the problems as "label: message" patterns, one each]
  const refusedNames: Array<[string, Record<string, string>, readonly string[], RegExp[]]> = [
    [
      "a misspelt variable",
      { UE_FIELD_WAIT_FOR_SUCESS_OR_FAILURE: "true" },
      [],
      [
        /^UE_FIELD_WAIT_FOR_SUCESS_OR_FAILURE: names no field of this task; did you mean UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE\?/,
      ],
    ],
    [
      "a misspelt credential part, its value a secret",
      { UE_FIELD_CREDENTIALS_PASWORD: "CANARY-pw-1" },
      [],
      [/^UE_FIELD_CREDENTIALS_PASWORD: .*did you mean UE_FIELD_CREDENTIALS_PASSWORD\?/],
    ],
    [
      "the fields file's variable misspelt",
      { UE_FIELD_FILE: "/tmp/fields.json" },
      [],
      [/^UE_FIELD_FILE: names no field of this task; did you mean UE_FIELDS_FILE\?/],
    ],
    [
      "a variable with no likely meaning",
      { UE_FIELD_FAVOURITE_COLOUR: "blue" },
      [],
      [/^UE_FIELD_FAVOURITE_COLOUR: names no field of this task \(field variables are/],
    ],
    [
      "a Credential given whole",
      { UE_FIELD_PROXY_CREDENTIALS: "CANARY-u:pw" },
      [],
      [
        /^UE_FIELD_PROXY_CREDENTIALS: .*given in parts, UE_FIELD_PROXY_CREDENTIALS_USER, UE_FIELD_PROXY_CREDENTIALS_PASSWORD/,
      ],
    ],
    [
      "an output-only field",
      { UE_FIELD_EXECUTION_STATUS: "SUCCEEDED" },
      [],
      [
        /^UE_FIELD_EXECUTION_STATUS: names Execution Status, an output-only field: the program sets it/,
      ],
    ],
    [
      "an unknown flag and its value: one problem",
      {},
      ["--stat-machine-arn", "arn:aws:states:eu-west-1:123456789012:stateMachine:Orders"],
      [
        /^--stat-machine-arn: is not a known flag; did you mean --state-machine-arn\? \(see --help\)$/,
      ],
    ],
    [
      "an unknown flag with its value inline",
      {},
      ["--polling-intervall=5"],
      [/^--polling-intervall: is not a known flag; did you mean --polling-interval\?/],
    ],
    [
      "a misspelt Boolean flag does not take the next flag",
      {},
      ["--wiat-for-success-or-failure", "--region", "eu-west-1"],
      [/^--wiat-for-success-or-failure: .*did you mean --wait-for-success-or-failure\?/],
    ],
    ["an argument that follows no flag", {}, ["eu-west-1"], [/^argument 1: is not a flag/]],
    [
      "a missing fields file, named as given",
      {},
      ["--fields-file", "/nonexistent/fields.json"],
      [/^--fields-file \/nonexistent\/fields\.json: no such file$/],
    ],
    [
      "a folder as the fields file",
      { UE_FIELDS_FILE: "/" },
      [],
      [/^UE_FIELDS_FILE \/: is a folder, not a file$/],
    ],
  ];
  for (const [what, env, argv, expected] of refusedNames) {
    test(`refused: ${what}`, () => {
      const raw = readFields(env, argv);
      const problems = raw.problems.map((p) => `${p.label}: ${p.message}`);
      assert.equal(problems.length, expected.length, JSON.stringify(problems));
      for (const [i, pattern] of expected.entries()) assert.match(problems[i] as string, pattern);
      assert.ok(!JSON.stringify(raw).includes("CANARY"), JSON.stringify(raw));
    });
  }

  test("UE_FIELD_* variables beside a fields file are refused, not ignored", async () => {
    const file = join(dir, "with-variables.json");
    await writeFile(file, JSON.stringify({ region: "eu-west-1" }));
    const raw = readFields(
      {
        UE_FIELDS_FILE: file,
        UE_FIELD_POLLING_INTERVAL: "5",
        UE_FIELD_CREDENTIALS_PASSWORD: "CANARY-beside-file",
        UE_FIELD_TASK_TOKEN: "CANARY-token-beside-file",
      },
      [],
    );
    const notRead = `is not read when the values come from a fields file (UE_FIELDS_FILE ${file})`;
    // A secret has no flag to offer: only the fields file is named for it.
    assert.deepEqual(
      raw.problems.map((p) => `${p.label}: ${p.message}`),
      [
        `UE_FIELD_CREDENTIALS_PASSWORD: ${notRead}; put the value in the fields file, or unset the variable`,
        `UE_FIELD_POLLING_INTERVAL: ${notRead}; put the value in the fields file or give it as a flag, or unset the variable`,
        `UE_FIELD_TASK_TOKEN: ${notRead}; put the value in the fields file, or unset the variable`,
      ],
    );
  });

  test("every name a field has is accepted: each Credential part, the file twins", () => {
    const raw = readFields(
      {
        UE_FIELD_CREDENTIALS_USER: "AKIAIOSFODNN7EXAMPLE",
        UE_FIELD_CREDENTIALS_PASSWORD: "secret-key-long",
        UE_FIELD_CREDENTIALS_TOKEN: "session-token-long",
        UE_FIELD_INPUT_FILE: "",
        UE_FIELD_TASK_OUTPUT_FILE: "",
        UE_FIELD_ROLE_EXTERNAL_ID: "",
      },
      [],
    );
    assert.deepEqual(raw.problems, []);
  });

  // Each secret flag: [argv]; the value must be masked and never quoted.
  const secretFlagCases: Array<[readonly string[], RegExp]> = [
    [
      ["--credentials-password", "CANARY-secret-1"],
      /^AWS Credentials: --credentials-password cannot be given as a flag: a command line is visible to every user of the host .*use UE_FIELD_CREDENTIALS_USER and UE_FIELD_CREDENTIALS_PASSWORD .*the standard AWS credential chain$/,
    ],
    [
      ["--credentials-token=CANARY-secret-2"],
      /^AWS Credentials: --credentials-token cannot be given as a flag: .*UE_FIELD_CREDENTIALS_TOKEN for a session token/,
    ],
    [
      ["--credentials", "AKIA:CANARY-secret-3"],
      /^AWS Credentials: --credentials cannot be given as a flag/,
    ],
    [
      ["--proxy-credentials-password", "CANARY-secret-4"],
      /^Proxy Credentials: --proxy-credentials-password cannot be given as a flag: .*use UE_FIELD_PROXY_CREDENTIALS_USER and UE_FIELD_PROXY_CREDENTIALS_PASSWORD or a fields file$/,
    ],
    [
      ["--task-token", "CANARY-secret-5"],
      /^Task Token: --task-token cannot be given as a flag: .*use UE_FIELD_TASK_TOKEN or a fields file$/,
    ],
    [
      ["--proxy-credential-password", "CANARY-secret-6"],
      /^--proxy-credential-password: is not a known flag; did you mean --proxy-credentials-password\? --proxy-credentials-password cannot be given as a flag/,
    ],
  ];
  for (const [argv, expected] of secretFlagCases) {
    test(`a secret as a flag is explained and masked: ${argv[0]?.split("=")[0]}`, () => {
      const raw = readFields({}, argv);
      const problems = raw.problems.map((p) => `${p.label}: ${p.message}`);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0] as string, expected);
      const secret = /CANARY-secret-\d/.exec(argv.join(" "))?.[0] as string;
      assert.ok(!problems[0]?.includes(secret));
      assert.equal(mask(`x ${secret} y`), "x **** y", "the value is registered as a secret");
    });
  }

  // [what, env, argv, field, message]
  const hiddenCases: Array<[string, Record<string, string>, readonly string[], string, string]> = [
    [
      "a flag that Stop Execution does not use",
      {},
      ["--action", "Stop Execution", "--target-execution-arn", EXEC, "--polling-interval", "5"],
      "polling_interval",
      "--polling-interval does not apply to Stop Execution (Polling Interval is used only when Wait for Success or Failure is true, which is used only when Action is Start Asynchronous Execution or Redrive Execution); remove it",
    ],
    [
      "a variable that Stop Execution does not use",
      {
        UE_FIELD_ACTION: "Stop Execution",
        UE_FIELD_TARGET_EXECUTION_ARN: EXEC,
        UE_FIELD_EXECUTION_NAME: "n",
      },
      [],
      "execution_name",
      "UE_FIELD_EXECUTION_NAME does not apply to Stop Execution (Execution Name is used only when Action is Start Asynchronous Execution or Start Synchronous Express Execution); remove it",
    ],
    [
      "a waiting flag without waiting",
      {},
      ["--maximum-wait", "60"],
      "maximum_wait",
      "--maximum-wait does not apply to Start Asynchronous Execution while Wait for Success or Failure is false (Maximum Wait is used only when Wait for Success or Failure is true, which is used only when Action is Start Asynchronous Execution or Redrive Execution); remove it",
    ],
    [
      "proxy credential variables without a proxy",
      { UE_FIELD_PROXY_CREDENTIALS_USER: "u", UE_FIELD_PROXY_CREDENTIALS_PASSWORD: "CANARY-proxy" },
      [],
      "proxy_credentials",
      "UE_FIELD_PROXY_CREDENTIALS_USER and UE_FIELD_PROXY_CREDENTIALS_PASSWORD does not apply to Start Asynchronous Execution while Use Proxy is false (Proxy Credentials is used only when Proxy Type is HTTPS With Credentials, which is used only when Use Proxy is true); remove it",
    ],
  ];
  for (const [what, env, argv, field, message] of hiddenCases) {
    test(`refused, not dropped in silence: ${what}`, () => {
      const raw = readFields(env, argv);
      assert.deepEqual(
        raw.problems.map((p) => [p.field, p.message]),
        [[field, message]],
      );
      assert.ok(!JSON.stringify(raw.problems).includes("CANARY"));
    });
  }

  test("a hidden value in a fields file is a warning (the controller's channel); a default is not", async () => {
    const file = join(dir, "hidden.json");
    await writeFile(
      file,
      JSON.stringify({
        action: ["Stop Execution"],
        target_execution_arn: EXEC,
        polling_interval: 30,
        wait_for_success_or_failure: false,
        rerun_behaviour: ["Start New Execution"],
      }),
    );
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    assert.deepEqual(raw.problems, []);
    assert.deepEqual(raw.warnings, [
      "Polling Interval: polling_interval in the fields file does not apply to Stop Execution (Polling Interval is used only when Wait for Success or Failure is true, which is used only when Action is Start Asynchronous Execution or Redrive Execution); it is ignored",
    ]);
  });

  test("an action that is no choice: hidden values are not judged by it", () => {
    const raw = readFields(
      { UE_FIELD_ACTION: "Start Something", UE_FIELD_EXECUTION_NAME: "n" },
      [],
    );
    assert.deepEqual(raw.problems, []);
  });

  describe("Input and Task Output from a file", () => {
    const input = '{ "date": "2026-11-21",\n  "text": "tab\\there \\u00e9", "n": 1.50 }\n';
    let inputFile: string;
    before(async () => {
      inputFile = join(dir, "input.json");
      await writeFile(inputFile, input);
    });

    test("--input-file: the file's text exactly", () => {
      const raw = readFields({}, ["--input-file", inputFile]);
      assert.deepEqual(raw.problems, []);
      assert.equal(raw.values["input"], input);
    });

    test("UE_FIELD_INPUT_FILE, and input_file in a fields file", async () => {
      assert.equal(readFields({ UE_FIELD_INPUT_FILE: inputFile }, []).values["input"], input);
      const file = join(dir, "twin.json");
      await writeFile(file, JSON.stringify({ input_file: inputFile }));
      const raw = readFields({ UE_FIELDS_FILE: file }, []);
      assert.deepEqual(raw.problems, []);
      assert.equal(raw.values["input"], input);
    });

    test("a flag replaces the other form given in the variables", () => {
      const raw = readFields({ UE_FIELD_INPUT: '{"from": "variable"}' }, [
        "--input-file",
        inputFile,
      ]);
      assert.deepEqual(raw.problems, []);
      assert.equal(raw.values["input"], input);
    });

    test("--task-output-file for Send Task Success", () => {
      const raw = readFields({ UE_FIELD_ACTION: "Send Task Success" }, [
        "--task-output-file",
        inputFile,
      ]);
      assert.deepEqual(raw.problems, []);
      assert.equal(raw.values["task_output"], input);
    });

    test("a byte order mark is the file's encoding, not the input", async () => {
      const file = join(dir, "bom.json");
      await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("{}")]));
      assert.equal(readFields({}, ["--input-file", file]).values["input"], "{}");
    });

    test("an empty or blank file means not set, with a warning naming it", async () => {
      for (const [name, text] of [
        ["empty.json", ""],
        ["blank.json", " \r\n\t"],
      ] as const) {
        const file = join(dir, name);
        await writeFile(file, text);
        const raw = readFields({}, ["--input-file", file]);
        assert.deepEqual(raw.problems, []);
        assert.equal(raw.values["input"], undefined);
        assert.deepEqual(raw.warnings, [
          `Input: --input-file ${file} is empty; taken as not set, so {} is used`,
        ]);
      }
    });

    test(`exactly ${MAX_INPUT_BYTES} bytes is accepted`, async () => {
      const file = join(dir, "limit.json");
      await writeFile(file, `"${"a".repeat(MAX_INPUT_BYTES - 2)}"`);
      const raw = readFields({}, ["--input-file", file]);
      assert.deepEqual(raw.problems, []);
      assert.equal((raw.values["input"] as string).length, MAX_INPUT_BYTES);
    });

    // [what, make the file (returns the argv), the one problem of the Input field]
    const badFiles: Array<[string, () => readonly string[], RegExp]> = [
      [
        "a file that does not exist",
        () => ["--input-file", join(dir, "absent.json")],
        /^Input: --input-file \/.*absent\.json: no such file$/,
      ],
      [
        "a folder",
        () => {
          mkdirSync(join(dir, "folder"), { recursive: true });
          return ["--input-file", join(dir, "folder")];
        },
        /^Input: --input-file \/.*folder: is a folder, not a file$/,
      ],
      [
        "text that is not JSON (never quoted)",
        () => {
          writeFileSync(join(dir, "bad.json"), '{\n  "key": CANARY-in-input\n}');
          return ["--input-file", join(dir, "bad.json")];
        },
        /^Input: --input-file \/.*bad\.json: is not valid JSON: .* at line 2, column 10 \(character 12\)$/,
      ],
      [
        `one byte over ${MAX_INPUT_BYTES}`,
        () => {
          writeFileSync(join(dir, "big.json"), `"${"a".repeat(MAX_INPUT_BYTES - 1)}"`);
          return ["--input-file", join(dir, "big.json")];
        },
        /^Input: --input-file \/.*big\.json: holds more than 262144 bytes; Step Functions accepts at most 262144 bytes \(UTF-8\)$/,
      ],
      [
        "bytes that are not UTF-8",
        () => {
          writeFileSync(join(dir, "latin1.json"), Buffer.from([0x22, 0x61, 0xe9, 0x22]));
          return ["--input-file", join(dir, "latin1.json")];
        },
        /^Input: --input-file \/.*latin1\.json: holds bytes that are not UTF-8 at byte 3; expected UTF-8 text$/,
      ],
      [
        "bytes that are not UTF-8 after a byte order mark: counted in the file",
        () => {
          const bytes = [0xef, 0xbb, 0xbf, 0x22, 0x61, 0xe9, 0x22];
          writeFileSync(join(dir, "bom-latin1.json"), Buffer.from(bytes));
          return ["--input-file", join(dir, "bom-latin1.json")];
        },
        /^Input: --input-file \/.*bom-latin1\.json: holds bytes that are not UTF-8 at byte 6;/,
      ],
      [
        "--input and --input-file together",
        () => ["--input", "{}", "--input-file", inputFile],
        /^Input: is given twice: --input and --input-file; give one of them$/,
      ],
      [
        "--input-file without a path",
        () => ["--input-file="],
        /^Input: --input-file needs the path of a file \(got an empty one\)$/,
      ],
      [
        "UE_FIELD_TASK_OUTPUT_FILE that does not exist",
        () => ["--action", "Send Task Success", "--task-output-file", "/nonexistent/out.json"],
        /^Task Output: --task-output-file \/nonexistent\/out\.json: no such file$/,
      ],
    ];
    for (const [what, make, expected] of badFiles) {
      test(`refused: ${what}`, () => {
        const raw = readFields({}, make());
        const problems = raw.problems.map((p) => `${p.label}: ${p.message}`);
        assert.equal(problems.length, 1, JSON.stringify(problems));
        assert.match(problems[0] as string, expected);
        assert.equal(raw.values["input"], undefined);
        assert.ok(!JSON.stringify(raw).includes("CANARY"));
      });
    }

    test("both forms in the variables are refused, naming both variables", () => {
      const raw = readFields({ UE_FIELD_INPUT: "{}", UE_FIELD_INPUT_FILE: inputFile }, []);
      assert.deepEqual(
        raw.problems.map((p) => `${p.label}: ${p.message}`),
        ["Input: is given twice: UE_FIELD_INPUT and UE_FIELD_INPUT_FILE; give one of them"],
      );
    });
  });
});
