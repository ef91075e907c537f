import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { toISOString } from "../../src/iso-date.ts";

const native = Date.prototype.toISOString;

/** Time values across the whole range a Date holds, with the edges of each text form. */
function samples(): number[] {
  const edges = [
    0,
    -1,
    1,
    8.64e15,
    -8.64e15,
    8.64e15 - 1,
    -8.64e15 + 1,
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    Date.UTC(10000, 0, 1),
    Date.UTC(0, 0, 1) - 1,
    Date.UTC(-1, 0, 1),
    Date.UTC(1970, 0, 1, 0, 0, 0, 1),
    Date.UTC(2024, 1, 29, 12, 30, 45, 67),
    Date.UTC(2000, 11, 31, 23, 59, 59, 999),
    1.5,
    -1.5,
  ];
  // A fixed sequence (a linear congruential generator), so that a failure repeats.
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const spread: number[] = [];
  for (let i = 0; i < 5000; i++) spread.push(Math.floor((next() * 2 - 1) * 8.64e15));
  for (let i = 0; i < 5000; i++) spread.push(Math.floor(next() * 4.1e12));
  return [...edges, ...spread];
}

test("the same text as V8's toISOString across the whole range of dates", () => {
  for (const t of samples()) {
    const date = new Date(t);
    assert.equal(toISOString.call(date), native.call(date), `time value ${t}`);
  }
});

test("the same errors: RangeError for an invalid date, TypeError for what is not a Date", () => {
  assert.throws(() => toISOString.call(new Date(Number.NaN)), RangeError);
  assert.throws(() => native.call(new Date(Number.NaN)), RangeError);
  assert.throws(() => toISOString.call({} as Date), TypeError);
  assert.throws(() => native.call({} as Date), TypeError);
});

test("installed, it serves toISOString and JSON, with the built-in's attributes", () => {
  const code = `
    import { installIsoDate } from ${JSON.stringify(new URL("../../src/iso-date.ts", import.meta.url).href)};
    const before = Object.getOwnPropertyDescriptor(Date.prototype, "toISOString");
    installIsoDate();
    const after = Object.getOwnPropertyDescriptor(Date.prototype, "toISOString");
    const d = new Date(Date.UTC(2026, 11, 6, 12, 0, 0, 5));
    console.log(JSON.stringify({
      native: String(after.value).includes("[native code]"),
      name: after.value.name,
      length: after.value.length,
      attributes: [after.writable, after.enumerable, after.configurable],
      builtin: [before.writable, before.enumerable, before.configurable],
      text: d.toISOString(),
      json: JSON.stringify({ d }),
    }));
  `;
  const child = spawnSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", code],
    {
      encoding: "utf8",
    },
  );
  assert.equal(child.status, 0, child.stderr);
  const seen = JSON.parse(child.stdout) as Record<string, unknown>;
  assert.equal(seen["native"], false);
  assert.equal(seen["name"], "toISOString");
  assert.equal(seen["length"], 0);
  assert.deepEqual(seen["attributes"], seen["builtin"]);
  assert.equal(seen["text"], "2026-12-06T12:00:00.005Z");
  assert.equal(seen["json"], '{"d":"2026-12-06T12:00:00.005Z"}');
});
