/** Why a profile's credential_process gave nothing, from what the chain's providers passed on. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { credentialProcessFailure, noticeWhileWaiting } from "../../src/aws/clients.ts";

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

test("a wait for credentials is told at the first mark and every interval after, and no more once they come", async () => {
  const notices: number[] = [];
  let answer: (value: string) => void = () => {};
  const work = new Promise<string>((resolve) => {
    answer = resolve;
  });
  const got = noticeWhileWaiting(
    work,
    (waitedMs) => {
      notices.push(waitedMs);
      if (notices.length === 2) answer("identity");
    },
    [30, 60],
  );
  assert.equal(await got, "identity");
  assert.equal(notices.length, 2);
  assert.ok((notices[0] ?? 0) >= 29 && (notices[1] ?? 0) >= 89, notices.join(", "));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(notices.length, 2, "no notice after the credentials came");
});

test("a failed wait for credentials passes its error on and tells nothing more", async () => {
  let told = 0;
  const failing = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no")), 10));
  await assert.rejects(
    noticeWhileWaiting(failing, () => told++, [50, 50]),
    /no/,
  );
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(told, 0);
});
