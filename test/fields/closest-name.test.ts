import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { closestName, editDistance } from "../../src/fields/closest-name.ts";

describe("the closest known name", () => {
  // [a, b, edits]
  const distances: Array<[string, string, number]> = [
    ["", "", 0],
    ["abc", "abc", 0],
    ["", "abc", 3],
    ["SUCESS", "SUCCESS", 1],
    ["POLLNIG", "POLLING", 1],
    ["kitten", "sitting", 3],
    ["ca", "abc", 3],
  ];
  for (const [a, b, edits] of distances) {
    test(`${JSON.stringify(a)} to ${JSON.stringify(b)}: ${edits} edits, either way`, () => {
      assert.equal(editDistance(a, b), edits);
      assert.equal(editDistance(b, a), edits);
    });
  }

  const known = [
    "UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE",
    "UE_FIELD_POLLING_INTERVAL",
    "UE_FIELD_CREDENTIALS_USER",
    "UE_FIELD_CREDENTIALS_PASSWORD",
    "--region",
  ];
  // [wrong, meant or undefined]
  const guesses: Array<[string, string | undefined]> = [
    ["UE_FIELD_WAIT_FOR_SUCESS_OR_FAILURE", "UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE"],
    ["ue_field_polling_interval", "UE_FIELD_POLLING_INTERVAL"],
    ["UE_FIELD_POLLING_INTERVALL", "UE_FIELD_POLLING_INTERVAL"],
    ["UE_FIELD_CREDENTIALS_PASSWROD", "UE_FIELD_CREDENTIALS_PASSWORD"],
    ["UE_FIELD_CREDENTIALS", "UE_FIELD_CREDENTIALS_USER"],
    ["--regoin", "--region"],
    ["UE_FIELD_SOMETHING_ELSE_ENTIRELY", undefined],
    ["--x", undefined],
  ];
  for (const [wrong, meant] of guesses) {
    test(`${wrong}: ${meant ?? "no guess"}`, () => {
      assert.equal(closestName(wrong, known), meant);
    });
  }
});
