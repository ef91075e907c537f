import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decideHome, NO_HOME } from "../../src/config/home.ts";

const noEntry = () => {
  throw new Error("uv_os_get_passwd returned ENOENT");
};
const entry = (home: string) => () => home;

describe("the home folder the SDK reads ~/.aws from", () => {
  const cases: Array<
    [string, string | undefined, () => string, string | undefined, "info" | "warn" | undefined]
  > = [
    ["an absolute HOME stays", "/home/batch", noEntry, undefined, undefined],
    [
      "not set, with an entry: the SDK asks the database itself",
      undefined,
      entry("/home/b"),
      undefined,
      undefined,
    ],
    ["not set, no entry (an arbitrary uid)", undefined, noEntry, NO_HOME, "info"],
    ["not set, an entry without an absolute home", undefined, entry(""), NO_HOME, "info"],
    ["empty, with an entry", "", entry("/home/b"), "/home/b", "warn"],
    ["empty, no entry", "", noEntry, NO_HOME, "warn"],
    ["relative, with an entry", ".", entry("/home/b"), "/home/b", "warn"],
    ["relative, no entry", "batch", noEntry, NO_HOME, "warn"],
  ];
  for (const [name, home, userHome, expected, level] of cases) {
    test(name, () => {
      const decision = decideHome(home, userHome, 12345);
      assert.equal(decision.home, expected);
      assert.equal(decision.notice?.level, level);
    });
  }

  test("the notice names the user id and what is still read", () => {
    const text = decideHome(undefined, noEntry, 12345).notice?.text ?? "";
    assert.match(text, /HOME is not set and user id 12345 has no entry in the user database/);
    assert.match(
      text,
      /no ~\/\.aws file is read \(AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE/,
    );
    // An entry whose home is empty or relative is not called a missing entry.
    assert.match(
      decideHome(undefined, entry(""), 12345).notice?.text ?? "",
      /^no home folder \(HOME is not set and user id 12345 has no absolute home folder in the user database \(it gives ""\)\): no ~\/\.aws file is read/,
    );
    assert.match(
      decideHome("x", entry("rel"), 12345).notice?.text ?? "",
      /^HOME is "x", not an absolute path, and user id 12345 has no absolute home folder in the user database \(it gives "rel"\): no ~\/\.aws file is read/,
    );
    assert.match(
      decideHome("", entry("/home/b"), 0).notice?.text ?? "",
      /^HOME is "", not an absolute path: it is not used; ~\/\.aws is \/home\/b\/\.aws/,
    );
  });
});
