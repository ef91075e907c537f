/** Why a profile's credential_process gave nothing, from what the chain's providers passed on. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { credentialProcessFailure } from "../../src/aws/clients.ts";

test("credential_process failures: its stderr or the SDK's own reason; nothing else", () => {
  assert.equal(
    credentialProcessFailure([
      "Unable to find environment variable credentials.",
      "Command failed: /opt/helper --key abc\nline 1\n\n  line 2  \nline 3\nline 4\n",
    ]),
    "the profile's credential_process ended with an error: line 2 / line 3 / line 4",
  );
  assert.equal(
    credentialProcessFailure(["Command failed: /opt/helper --key abc"]),
    "the profile's credential_process ended with an error and wrote nothing on stderr",
  );
  assert.equal(
    credentialProcessFailure(["Profile p credential_process returned invalid JSON."]),
    "Profile p credential_process returned invalid JSON.",
  );
  const long = credentialProcessFailure([`Command failed: x\n${"e".repeat(500)}`]);
  assert.equal(long, `the profile's credential_process ended with an error: ...${"e".repeat(300)}`);
  assert.equal(
    credentialProcessFailure([
      "Unable to find environment variable credentials.",
      "Profile default did not contain credential_process.",
    ]),
    null,
  );
});
