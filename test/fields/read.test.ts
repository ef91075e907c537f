import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { readFields } from "../../src/fields/read.ts";
import { mask } from "../../src/secrets.ts";

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
    const raw = readFields({ UE_FIELDS_FILE: file, UE_FIELD_REGION: "ignored-when-file" }, []);
    assert.deepEqual(raw.problems, []);
    assert.deepEqual(raw.values, {
      action: ["Start Asynchronous Execution"],
      polling_interval: 5,
      wait_for_success_or_failure: true,
      credentials: { user: "AKIAIOSFODNN7EXAMPLE", password: "file-secret-canary" },
    });
    assert.equal(mask("x file-secret-canary y"), "x **** y", "the password is registered at once");
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
    const raw = readFields({ UE_FIELDS_FILE: join(dir, "missing.json") }, []);
    assert.match(raw.problems[0]?.message ?? "", /cannot read the fields file .*ENOENT/);
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
    await writeFile(file, JSON.stringify({ state_machine_arm: "x", execution_arn: "arn:old" }));
    const raw = readFields({ UE_FIELDS_FILE: file }, []);
    assert.deepEqual(
      raw.problems.map((p) => p.field),
      ["state_machine_arm"],
    );
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
    assert.ok(message.includes(file), message);
    assert.match(message, /not valid JSON: .*line 2, column \d+ \(character \d+\)$/);
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
});
