import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { clearSecrets, type JsonShape, mask, maskJson, registerSecret } from "../../src/secrets.ts";

/** Secrets holding what JSON escapes: a quote, a backslash, a control character. */
const SECRETS = ['Pw"CANARY\\Q9-s1', "Tab\tCANARY-s2", 'both\\"CANARY-s3'];

describe("registered secrets", () => {
  afterEach(() => clearSecrets());

  for (const secret of SECRETS) {
    const escaped = JSON.stringify(secret).slice(1, -1);
    const forms: Array<[string, string]> = [
      ["raw", secret],
      ["URL-encoded", encodeURIComponent(secret)],
      ["Base64", Buffer.from(secret).toString("base64")],
      ["JSON-escaped", escaped],
      ["JSON-escaped twice", JSON.stringify(escaped).slice(1, -1)],
    ];
    for (const [form, text] of forms) {
      test(`${JSON.stringify(secret)} is masked ${form}`, () => {
        registerSecret(secret);
        assert.equal(mask(`<${text}>`), "<****>");
      });
    }

    test(`${JSON.stringify(secret)}: no byte of it in JSON text, wherever it sits`, () => {
      registerSecret(secret);
      const doc = {
        value: secret,
        // JSON text inside a string, as the Input and an execution's output are.
        text: JSON.stringify({ note: secret }),
        nested: { [secret]: [`before ${secret} after`] },
        deeper: JSON.stringify({ inner: JSON.stringify({ note: secret }) }),
      };
      for (const text of [maskJson(doc), maskJson(doc, 2)]) {
        assert.ok(!text.includes("CANARY"), text);
        assert.deepEqual(JSON.parse(text), {
          value: "****",
          text: '{"note":"****"}',
          nested: { "****": ["before **** after"] },
          deeper: JSON.stringify({ inner: '{"note":"****"}' }),
        });
      }
    });
  }
});

describe("masking many secrets at once", () => {
  afterEach(() => clearSecrets());

  // [what, secrets, text, masked]
  const cases: Array<[string, string[], string, string]> = [
    [
      "a secret inside a longer one: the longer whole",
      ["abcd", "xxabcdyy"],
      "1 xxabcdyy 2 abcd",
      "1 **** 2 ****",
    ],
    [
      "two secrets sharing their start",
      ["pass-one", "pass-one-two"],
      "pass-one-two pass-one",
      "**** ****",
    ],
    ["side by side", ["AAAA", "BBBB"], "AAAABBBB", "********"],
    ["at the very end", ["tail-secret"], "x tail-secret", "x ****"],
    ["text shorter than any secret", ["long-secret"], "abc", "abc"],
    ["nothing registered in the text", ["secret-1"], "plain text", "plain text"],
  ];
  for (const [what, secrets, text, masked] of cases) {
    test(what, () => {
      for (const secret of secrets) registerSecret(secret);
      assert.equal(mask(text), masked);
    });
  }

  test("thousands of secrets, each masked where it stands and nothing else", () => {
    const secrets = Array.from({ length: 5000 }, (_, i) => `pw-${String(i).padStart(5, "0")}-x`);
    for (const secret of secrets) registerSecret(secret);
    const text = secrets.map((s, i) => `${i}:${s}`).join(",");
    const expected = secrets.map((_, i) => `${i}:****`).join(",");
    assert.equal(mask(text), expected);
    // A secret added after the look-ups were indexed is masked too.
    registerSecret("late-secret");
    assert.equal(mask("a late-secret b"), "a **** b");
  });
});

describe("a document's own keys and numbers", () => {
  afterEach(() => clearSecrets());
  const shape: JsonShape = { dataKeys: new Set(["outputParsed"]) };

  // [what, secret]
  const cases: Array<[string, string]> = [
    ["a key of the document", "note"],
    ["part of a key", "task"],
    ["the digits of a number", "1200"],
  ];
  for (const [what, secret] of cases) {
    test(`a secret that reads like ${what}: the keys and numbers stay, data is masked`, () => {
      registerSecret(secret);
      const doc = {
        status: "SUCCEEDED",
        taskTokenFingerprint: "0a1b2c3d",
        billedDurationInMilliseconds: 1200,
        note: `holds ${secret}`,
        outputParsed: { [secret]: 1200, list: [1200, 7], status: `${secret}!` },
      };
      const text = maskJson(doc, 2, shape);
      assert.deepEqual(JSON.parse(text), {
        status: "SUCCEEDED",
        taskTokenFingerprint: "0a1b2c3d",
        billedDurationInMilliseconds: 1200,
        note: "holds ****",
        outputParsed: {
          "****": secret === "1200" ? "****" : 1200,
          list: secret === "1200" ? ["****", 7] : [1200, 7],
          status: "****!",
        },
      });
    });
  }

  test("without a shape everything is data, and the text is JSON whatever the secret", () => {
    registerSecret("1234");
    assert.deepEqual(JSON.parse(maskJson({ a: 12345, x1234: [1234] })), {
      a: "****",
      "x****": ["****"],
    });
  });
});
