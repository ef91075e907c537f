import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  invalidUtf8At,
  invalidUtf8Sequences,
  jsonSyntaxError,
  locateInJson,
  redactUrlUserInfo,
  unpairedSurrogateAt,
  urlPasswords,
} from "../../src/fields/text-checks.ts";

/** Passwords holding every character that ends user information in a naive reading. */
const PASSWORDS = [
  "se/cret-CANARY-1",
  "se,cret-CANARY-2",
  "se@cret-CANARY-3",
  "se:cret-CANARY-4",
  "se%2Fcret-CANARY-5",
  "a/b,c@d:e%40f-CANARY-6",
  "se'cret-CANARY-7",
  "se cret-CANARY-8",
  "s<e>c`r\tet-CANARY-9",
];

describe("passwords inside URLs", () => {
  for (const password of PASSWORDS) {
    test(`found whole in free text: ${password}`, () => {
      const text = `{"target": "http://user:${password}@host.example:8080/path", "n": 1}`;
      assert.ok(urlPasswords(text).includes(password), JSON.stringify(urlPasswords(text)));
    });

    test(`found whole in a URL field, also in a list: ${password}`, () => {
      for (const text of [
        `http://user:${password}@proxy.example:3128`,
        `https://proxy.example:3129,http://user:${password}@proxy.example:3128`,
        `http://user:${password}@proxy.example:3128,https://proxy.example:3129`,
        `user:${password}@proxy.example:3128`,
        `user:${password}@proxy.example:3128,https://proxy.example:3129`,
      ]) {
        assert.ok(urlPasswords(text, { urlField: true }).includes(password), text);
      }
    });

    test(`redacted whole: ${password}`, () => {
      const shown = redactUrlUserInfo(`see http://user:${password}@host.example:8080 now`);
      assert.equal(shown, "see http://****@host.example:8080 now");
      assert.equal(redactUrlUserInfo(`user:${password}@host:1`, { urlField: true }), "****@host:1");
      for (const [text, expected] of [
        [`http://user:${password}@proxy.example:3128`, "http://****@proxy.example:3128"],
        [
          `https://p.example:3129,http://user:${password}@p.example:3128`,
          "https://****@p.example:3128",
        ],
        [
          `user:${password}@p.example:3128,https://p.example:3129`,
          "****@p.example:3128,https://p.example:3129",
        ],
      ]) {
        assert.equal(redactUrlUserInfo(text as string, { urlField: true }), expected);
      }
    });

    test(`redacted whole inside a JSON string: ${password}`, () => {
      const text = JSON.stringify({
        db: `https://app:${password}@db.example/x`,
        n: "me@mail.example",
      });
      assert.equal(
        redactUrlUserInfo(text),
        '{"db":"https://****@db.example/x","n":"me@mail.example"}',
      );
    });
  }

  test('a password holding " inside a JSON string is found escaped and bare, and redacted whole', () => {
    const password = 'se"cr\\et-CANARY-10';
    const text = JSON.stringify({ db: `https://app:${password}@db.example/x` });
    const found = urlPasswords(text);
    assert.ok(found.includes(password), JSON.stringify(found));
    assert.ok(found.includes(JSON.stringify(password).slice(1, -1)), JSON.stringify(found));
    assert.equal(redactUrlUserInfo(text), '{"db":"https://****@db.example/x"}');
  });

  test("each URL of a list on its own, so a list split at commas shows no piece", () => {
    const found = urlPasswords("http://a:pw-one@h1:1,https://b:pw-two@h2:2", { urlField: true });
    assert.ok(found.includes("pw-one"), JSON.stringify(found));
    assert.ok(found.includes("pw-two"), JSON.stringify(found));
  });

  test("percent-encoded passwords are found in both forms", () => {
    const found = urlPasswords("http://u:p%40ss%2Fword@h:1");
    assert.ok(found.includes("p%40ss%2Fword"));
    assert.ok(found.includes("p@ss/word"));
  });

  test("text without user information is left alone", () => {
    for (const text of [
      "https://states.eu-west-1.amazonaws.com",
      "mail me@example.com",
      "{}",
      // A URL, then an e-mail address in the same string or in the next one.
      '{"note": "docs at https://docs.example/x, questions to me@example.com"}',
      '{"url": "https://docs.example:8443/x", "mail": "me@example.com"}',
      "docs at https://docs.example/x\nmail me@example.com",
      // A colon in the prose between: no user information runs across "/", "?", "#" or a space.
      '{"note": "Runbook https://wiki.example.com/ops, on-call: bob@example.com"}',
      '{"note": "see https://h.example/a?b=c then ask: x@example.com"}',
    ]) {
      assert.deepEqual(urlPasswords(text), []);
      assert.equal(redactUrlUserInfo(text), text);
    }
  });
});

describe("well-formed text", () => {
  const cases: Array<[string, string, number]> = [
    ["lone high surrogate", "ab\uD800cd", 2],
    ["lone low surrogate", "\uDC00", 0],
    ["reversed pair", "x\uDC00\uD800", 1],
    ["a real pair is fine", "a\uD83D\uDE00b", -1],
    ["plain text", "plain", -1],
  ];
  for (const [name, text, index] of cases) {
    test(name, () => assert.equal(unpairedSurrogateAt(text), index));
  }

  const bytes: Array<[string, number[], number]> = [
    ["valid", [0x61, 0xc3, 0xa9], -1],
    ["stray continuation byte", [0x61, 0x62, 0x80], 2],
    ["a real U+FFFD first, then a bad byte", [0xef, 0xbf, 0xbd, 0x61, 0xff], 4],
    ["truncated sequence at the end", [0x61, 0xe2, 0x82], 1],
    ["overlong encoding", [0xc0, 0xaf], 0],
  ];
  for (const [name, list, offset] of bytes) {
    test(`UTF-8: ${name}`, () => assert.equal(invalidUtf8At(Buffer.from(list)), offset));
  }
});

describe("locating bytes that are not UTF-8", () => {
  test("every sequence, each once, with its byte and character", () => {
    const bytes = Buffer.concat([
      Buffer.from("a\u00e9"),
      Buffer.from([0xe2, 0x82]),
      Buffer.from("b\uFFFD"),
      Buffer.from([0xff]),
      Buffer.from("c"),
    ]);
    assert.deepEqual(invalidUtf8Sequences(bytes), [
      { byte: 3, char: 2 },
      { byte: 9, char: 5 },
    ]);
  });

  test("the JSON value an index falls in, with escapes counted as one character", () => {
    const text = '{"a": "x\\u00e9yz", "c": {"user": "u", "password": "pq"}}';
    const indexes = [
      text.indexOf("yz"),
      text.indexOf("yz") + 1,
      text.indexOf('"c"') + 1,
      text.indexOf("pq") + 1,
    ];
    assert.deepEqual(locateInJson(text, indexes), [
      { path: ["a"], character: 3 },
      { path: ["a"], character: 4 },
      null,
      { path: ["c", "password"], character: 2 },
    ]);
  });
});

test("no place for an index inside JSON nested deeper than the parser's stack", () => {
  const text = `${"[".repeat(6000)}"x"${"]".repeat(6000)}`;
  assert.deepEqual(locateInJson(text, [6001]), [null]);
});

describe("JSON syntax errors", () => {
  const canary = "CANARY-json-pw-3f1";
  const texts = [
    `{"proxy_credentials": {"user": "u", "password": ${canary}}}`,
    `{"a": "${canary}" x}`,
    `{"a": "${canary}`,
    `{"a": "${canary}",}`,
    `{"a": "${canary}"}}`,
    "",
  ];
  for (const text of texts) {
    test(`position only: ${text.length} characters`, () => {
      let error: unknown;
      try {
        JSON.parse(text);
      } catch (e) {
        error = e;
      }
      const message = jsonSyntaxError(text, error);
      assert.ok(!message.includes("CANARY"), message);
      assert.ok(!message.includes(canary.slice(0, 4)), message);
      assert.match(message, /at line \d+, column \d+ \(character \d+\)$/);
    });
  }

  const DEEP = "it is nested too deeply for its error to be located";
  // [text, what and where]: the same words on every Node.js version, never the text.
  const worded: Array<[string, string]> = [
    ["{", "a closing } expected at line 1, column 2 (character 2)"],
    ["", "a value expected at line 1, column 1 (character 1)"],
    ['{"a":1,}', "a property name in double quotes expected at line 1, column 8 (character 8)"],
    ['{"a" 1}', "a colon expected at line 1, column 6 (character 6)"],
    ["[1 2]", "a comma expected at line 1, column 4 (character 4)"],
    ["{} x", "unexpected character at line 1, column 4 (character 4)"],
    ['{"a":\n  "x\ty"}', "a control character inside a string at line 2, column 3 (character 9)"],
    // Nested deeper than the locating parser's stack: said so, without a position.
    ["[".repeat(6000), DEEP],
    [`{"a": ${"[".repeat(6000)}}`, DEEP],
    [`${"[".repeat(6000)}1,,`, DEEP],
  ];
  for (const [text, expected] of worded) {
    const shown = text.length > 40 ? `${text.slice(0, 12)}... (${text.length} characters)` : text;
    test(`worded one way: ${JSON.stringify(shown)}`, () => {
      let error: unknown;
      try {
        JSON.parse(text);
      } catch (e) {
        error = e;
      }
      assert.ok(error, "the text is not JSON");
      assert.equal(jsonSyntaxError(text, error), expected);
    });
  }

  test("the position is where the parser stopped", () => {
    const text = '{\n  "a": secret\n}';
    let error: unknown;
    try {
      JSON.parse(text);
    } catch (e) {
      error = e;
    }
    assert.match(jsonSyntaxError(text, error), /at line 2, column 8 \(character 10\)$/);
  });
});
