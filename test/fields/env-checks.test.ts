import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { registerEndpointPasswords } from "../../src/fields/env-checks.ts";
import { mask } from "../../src/secrets.ts";

describe("endpoint variables", () => {
  test("passwords in AWS_ENDPOINT_URL_SFN and AWS_ENDPOINT_URL are masked, whatever they hold", () => {
    registerEndpointPasswords({
      AWS_ENDPOINT_URL_SFN: "http://u:pa/ss,w@rd-CANARY-env@127.0.0.1:1",
      AWS_ENDPOINT_URL: "http://v:an%40other-CANARY@127.0.0.1:2",
    });
    assert.equal(mask("x pa/ss,w@rd-CANARY-env y"), "x **** y");
    assert.equal(mask("x an%40other-CANARY y"), "x **** y");
  });

  test("a URL without credentials registers nothing", () => {
    registerEndpointPasswords({ AWS_ENDPOINT_URL: "http://127.0.0.1:3" });
    assert.equal(mask("http://127.0.0.1:3"), "http://127.0.0.1:3");
  });
});
