import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkEndpointEnvironment, checkFailureLimit } from "../../src/fields/env-checks.ts";
import { mask } from "../../src/secrets.ts";

describe("settings from the environment", () => {
  const limits: Array<[string, boolean]> = [
    ["900", true],
    ["0", true],
    [" 60 ", true],
    ["604800", true],
    ["604801", false],
    ["15m", false],
    ["-1", false],
    ["9".repeat(400), false],
  ];
  for (const [value, ok] of limits) {
    test(`UE_STATUS_FAILURE_LIMIT_SECONDS=${value.length > 12 ? `${value.length} digits` : value}`, () => {
      const problems = checkFailureLimit({ UE_STATUS_FAILURE_LIMIT_SECONDS: value });
      if (ok) assert.deepEqual(problems, []);
      else assert.match(problems[0]?.message ?? "", /whole number of seconds from 0 to 604800/);
    });
  }

  test("the endpoint variable in use gets the field's check; its password is masked", () => {
    const check = (url: string) => (url.includes("@") ? "must not contain credentials" : null);
    const problems = checkEndpointEnvironment(
      {
        AWS_ENDPOINT_URL_SFN: "http://u:pa/ss,w@rd-CANARY-env@127.0.0.1:1",
        AWS_ENDPOINT_URL: "http://ok:1",
      },
      check,
    );
    assert.deepEqual(
      problems.map((p) => p.field),
      ["AWS_ENDPOINT_URL_SFN"],
    );
    assert.equal(mask("x pa/ss,w@rd-CANARY-env y"), "x **** y");
    assert.deepEqual(checkEndpointEnvironment({ AWS_ENDPOINT_URL: "http://ok:1" }, check), []);
  });
});
