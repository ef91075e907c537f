/**
 * End to end with hostile inputs: the bundle as a child process against the local
 * endpoint. Passwords inside URLs (with / , @ : % ' or a space in them) never reach any
 * byte the program writes; text that would reach AWS altered, absurd counts and empty flag
 * values are refused with exit 20 and a document.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, runBundle } from "../helpers/bundle.ts";

/** Each holds a character that ends user information in a naive reading of a URL. */
const URL_PASSWORDS = [
  "se/cret-CANARY-e1",
  "se,cret-CANARY-e2",
  "se@cret-CANARY-e3",
  "se:cret-CANARY-e4",
  "se%2Fcret-CANARY-e5",
  "a/b,c@d:e%f-CANARY-e6",
  // A canary on each side: a reading that ends the URL at the quote or the space shows one.
  "CANARY-e7'cret-CANARY",
  "CANARY-e8 cret-CANARY",
];

/** Secrets holding the characters JSON escapes: their escaped forms must not show either. */
const QUOTED = {
  key: 'Key"CANARY\\e9/00000000000000000000000000000',
  token: 'Tok"CANARY\\e10//+0000000000000000000000000000000000000',
  proxyPassword: 'Pw"CANARY\\Q9-e11',
};

function assertNoCanary(bytes: string): void {
  assert.ok(!bytes.includes("CANARY"), `a canary leaked:\n${bytes}`);
}

describe("hostile inputs, end to end", () => {
  let ep: LocalEndpoint;
  let arn: string;
  let dir: string;

  before(async () => {
    ep = await startLocalEndpoint();
    arn = ep.createStateMachine({
      name: "echo",
      definition: { StartAt: "E", States: { E: { Type: "Pass", End: true } } },
    });
    dir = await mkdtemp(join(tmpdir(), "ue-hostile-"));
  });
  after(async () => {
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fields = (extra: Record<string, unknown> = {}) => ({
    endpoint_url: ep.url,
    credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
    state_machine_arn: arn,
    ...extra,
  });

  for (const password of URL_PASSWORDS) {
    const places: Array<[string, () => Parameters<typeof runBundle>[0]]> = [
      [
        "the Proxy field",
        () => ({
          fields: fields({
            use_proxy: true,
            proxy_type: ["HTTP"],
            proxy: `http://alice:${password}@127.0.0.1:3128`,
          }),
        }),
      ],
      [
        "a list in the Proxy field",
        () => ({
          fields: fields({
            use_proxy: true,
            proxy_type: ["HTTP"],
            proxy: `https://127.0.0.1:3129,http://alice:${password}@127.0.0.1:3128`,
          }),
        }),
      ],
      [
        "the Endpoint URL field",
        () => ({
          fields: fields({ endpoint_url: ep.url.replace("//", `//alice:${password}@`) }),
        }),
      ],
      [
        "AWS_ENDPOINT_URL",
        () => ({
          fields: { ...fields(), endpoint_url: undefined },
          env: { AWS_ENDPOINT_URL: ep.url.replace("//", `//alice:${password}@`) },
        }),
      ],
    ];
    for (const [place, options] of places) {
      test(`a URL password ${password} in ${place}: exit 20, no byte of it anywhere`, async () => {
        const run = await runBundle(options());
        assert.equal(run.code, 20, run.stderr);
        assertValidDoc(run.doc);
        assert.match(run.doc.status_description, /credentials/);
        assertNoCanary(run.allBytes);
      });
    }
  }

  test("proxy variables are not read: a password in HTTPS_PROXY or HTTP_PROXY shows nowhere", async () => {
    const password = URL_PASSWORDS[5] as string;
    const run = await runBundle({
      fields: fields(),
      env: {
        HTTPS_PROXY: `http://alice:${password}@127.0.0.1:1`,
        HTTP_PROXY: `http://alice:${password}@127.0.0.1:1`,
        NO_PROXY: "",
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assertValidDoc(run.doc);
    assertNoCanary(run.allBytes);
  });

  for (const password of [URL_PASSWORDS[5], URL_PASSWORDS[6], URL_PASSWORDS[7]] as string[]) {
    test(`a URL password ${password} inside the input reaches the execution, but no output shows it`, async () => {
      const input = JSON.stringify({ source: `https://reader:${password}@files.example/x` });
      const run = await runBundle({
        fields: fields({ input, wait_for_success_or_failure: true, polling_interval: 1 }),
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(ep.getExecution(run.doc.result.executionArn)?.input, input);
      assert.match(run.doc.invocation.fields.input, /https:\/\/\*\*\*\*@files\.example/);
      assertNoCanary(run.allBytes);
    });
  }

  const refused: Array<[string, () => Promise<Parameters<typeof runBundle>[0]>, RegExp]> = [
    [
      "invalid UTF-8 in a fields file",
      async () => {
        const file = join(dir, "latin1.json");
        const text = JSON.stringify(fields({ execution_name: "caf__" }));
        const bytes = Buffer.from(text);
        bytes[text.indexOf("__")] = 0xe9;
        bytes[text.indexOf("__") + 1] = 0x21;
        await writeFile(file, bytes);
        return { env: { UE_FIELDS_FILE: file } };
      },
      /Execution Name: holds bytes that are not UTF-8 at character 4 \(byte \d+ of the fields file/,
    ],
    [
      "an unpaired surrogate in a fields file",
      async () => {
        const file = join(dir, "surrogate.json");
        await writeFile(
          file,
          JSON.stringify(fields()).replace(/}$/, ', "execution_name": "x\\udc00"}'),
        );
        return { env: { UE_FIELDS_FILE: file } };
      },
      /Execution Name: holds an unpaired surrogate .* at character 2/,
    ],
    [
      "a fields file that is not JSON, with a password near the error",
      async () => {
        const file = join(dir, "broken.json");
        await writeFile(
          file,
          '{"credentials": {"user": "AKIDEXAMPLE00000001", "password": CANARY-pw}}',
        );
        return { env: { UE_FIELDS_FILE: file } };
      },
      /is not valid JSON: .* at line 1, column \d+ \(character \d+\)/,
    ],
    [
      "an Input nested 6,000 levels deep that is not JSON, beside another problem",
      async () => ({
        fields: fields({ input: "[".repeat(6000), execution_name: "a b" }),
      }),
      /Execution Name: .*Input: is not valid JSON: it is nested too deeply for its error to be located/s,
    ],
    [
      "a fields file nested 6,000 levels deep with a byte that is not UTF-8",
      async () => {
        const file = join(dir, "deep-latin1.json");
        const text = JSON.stringify(fields()).replace(
          /}$/,
          `, "input": ${"[".repeat(6000)}"\xff"${"]".repeat(6000)}}`,
        );
        await writeFile(file, Buffer.from(text, "latin1"));
        return { env: { UE_FIELDS_FILE: file } };
      },
      /is not valid UTF-8 at byte \d+ of the fields file/,
    ],
    [
      "a 400-digit UE_EXECUTION_COUNT",
      async () => ({ fields: fields(), env: { UE_EXECUTION_COUNT: "9".repeat(400) } }),
      /UE_EXECUTION_COUNT: must be a whole number from 1 to 999999999/,
    ],
    [
      "--polling-interval= (empty)",
      async () => ({
        fields: fields({ wait_for_success_or_failure: true }),
        args: ["--polling-interval="],
      }),
      /Polling Interval: --polling-interval needs a value/,
    ],
    [
      "a bare --fields-file",
      async () => ({ fields: fields(), args: ["--fields-file"] }),
      /--fields-file: needs the path/,
    ],
  ];
  for (const [name, options, expected] of refused) {
    test(`refused with exit 20 and a document: ${name}`, async () => {
      const before = ep.requests.length;
      const run = await runBundle(await options());
      assert.equal(run.code, 20, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(run.doc.exit_code, 20);
      assert.match(run.doc.status_description, expected);
      assert.equal(ep.requests.length, before, "no call reached the endpoint");
      assert.ok(!/-Infinity/.test(run.allBytes));
      assertNoCanary(run.allBytes);
    });
  }

  test("refused values are echoed as not set, never as a default that was not used either; credential parts given show as ****", async () => {
    const run = await runBundle({
      fields: fields({
        polling_interval: 1.5,
        maximum_wait: "soon",
        wait_for_success_or_failure: true,
        credentials: { password: "only-a-password-CANARY-e12" },
      }),
    });
    assert.equal(run.code, 20, run.stderr);
    assertValidDoc(run.doc);
    const echoed = run.doc.invocation.fields;
    assert.equal(echoed.polling_interval, null);
    assert.equal(echoed.maximum_wait, null);
    assert.equal(echoed.credentials_user, null);
    assert.equal(echoed.credentials_password, "****");
    assert.equal(echoed.credentials_token, null);
    // Accepted values are echoed as ever.
    assert.equal(echoed.wait_for_success_or_failure, true);
    assert.equal(echoed.state_machine_arn, arn);
    assertNoCanary(run.allBytes);
  });
});

describe('secrets holding " and \\, end to end', () => {
  let ep: LocalEndpoint;
  let arn: string;

  before(async () => {
    ep = await startLocalEndpoint({
      credentials: [
        {
          accessKeyId: "ASIAQUOTEDCANARY0001",
          secretAccessKey: QUOTED.key,
          sessionToken: QUOTED.token,
        },
      ],
    });
    arn = ep.createStateMachine({
      name: "echo",
      definition: { StartAt: "E", States: { E: { Type: "Pass", End: true } } },
    });
  });
  after(async () => {
    await ep.close();
  });

  const secrets: Array<[string, string]> = [
    ["the secret key", QUOTED.key],
    ["the session token", QUOTED.token],
    ["the Proxy Credentials password", QUOTED.proxyPassword],
  ];
  for (const [name, secret] of secrets) {
    test(`${name} inside the input, JSON-escaped, reaches the execution, but no output shows it`, async () => {
      const input = JSON.stringify({ note: secret });
      const run = await runBundle({
        fields: {
          endpoint_url: ep.url,
          credentials: { user: "ASIAQUOTEDCANARY0001", password: QUOTED.key, token: QUOTED.token },
          proxy_credentials: { user: "proxy-user", password: QUOTED.proxyPassword },
          state_machine_arn: arn,
          input,
          wait_for_success_or_failure: true,
          polling_interval: 1,
        },
      });
      assert.equal(run.code, 0, run.stderr);
      assertValidDoc(run.doc);
      assert.equal(ep.getExecution(run.doc.result.executionArn)?.input, input);
      assert.equal(run.doc.invocation.fields.input, '{"note":"****"}');
      assert.deepEqual(run.doc.result.outputParsed, { note: "****" });
      assertNoCanary(run.allBytes);
    });
  }
});
