import assert from "node:assert/strict";
import { test } from "node:test";
import { clockOffsetMs } from "../../src/actions/execution.ts";

// [what, AWS's Date header, when the host received the reply, offset]
const cases: Array<[string, string | undefined, number, number]> = [
  ["no header", undefined, Date.parse("2026-12-06T10:00:00.400Z"), 0],
  [
    "in step: the host's time within the header's second",
    "Sun, 06 Dec 2026 10:00:00 GMT",
    Date.parse("2026-12-06T10:00:00.400Z"),
    0,
  ],
  [
    "in step, a little late reading it",
    "Sun, 06 Dec 2026 10:00:00 GMT",
    Date.parse("2026-12-06T10:00:01.020Z"),
    -20,
  ],
  [
    "the host 5 s ahead: at least 4.4 s",
    "Sun, 06 Dec 2026 10:00:00 GMT",
    Date.parse("2026-12-06T10:00:05.400Z"),
    -4400,
  ],
  [
    "the host 5 s behind: at least 4.6 s",
    "Sun, 06 Dec 2026 10:00:00 GMT",
    Date.parse("2026-12-06T09:59:55.400Z"),
    4600,
  ],
];
for (const [what, header, repliedAt, expected] of cases) {
  test(`how far AWS's clock is surely off the host's: ${what}`, () => {
    const serverDate = header === undefined ? undefined : new Date(header);
    assert.equal(clockOffsetMs(serverDate, repliedAt), expected);
  });
}
