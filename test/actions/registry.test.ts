import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actionFor } from "../../src/actions/registry.ts";
import { startAsynchronousExecution } from "../../src/actions/start-async.ts";
import { ACTIONS, type ActionName, fieldByName } from "../../src/fields/catalog.ts";

describe("the action registry", () => {
  test("every choice of the Action field has an action module", () => {
    const choices = fieldByName("action").choices ?? [];
    assert.ok(choices.length > 0);
    for (const choice of choices) {
      const action = actionFor(choice as ActionName);
      assert.equal(typeof action?.run, "function", `no action module for "${choice}"`);
    }
  });

  test("Start Asynchronous Execution runs its own module", () => {
    assert.equal(actionFor(ACTIONS.startAsync), startAsynchronousExecution);
  });
});
