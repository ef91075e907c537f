import assert from "node:assert/strict";
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
});
