import assert from "node:assert/strict";
import { test } from "node:test";
import { CANCEL_SIGNALS } from "../../src/early-signals.ts";

// Node raises SIGBREAK for a console break on Windows (what the bridge sends there); without
// a listener the break ends the process at once, with no document.
test("the cancel signals: SIGTERM, SIGINT, SIGHUP and SIGBREAK", () => {
  assert.deepEqual([...CANCEL_SIGNALS].sort(), ["SIGBREAK", "SIGHUP", "SIGINT", "SIGTERM"]);
});
