/**
 * `npm run bench:input [-- --runs N]`
 *
 * The largest legal input (262,144 bytes of UTF-8) read and validated in-process, as the
 * program does before any network call: the fields file read (with the scan for URL
 * passwords and the Unicode checks), the validation, and the extension output document
 * built and serialised (masking and URL redaction over the echoed input). Several input
 * shapes, the adversarial ones included: long runs of letters, thousands of "://", of
 * "@", of URLs with passwords, and multi-byte characters. Medians of several runs.
 * Not part of npm test: the machine is shared and noisy.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readFields } from "../src/fields/read.ts";
import { MAX_INPUT_BYTES, validate } from "../src/fields/validate.ts";
import { buildDocument, serialise } from "../src/output/extension-output.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const RUNS = Number(args.runs);

/** A JSON object of exactly `bytes` bytes whose one string value repeats `unit`. */
function inputOf(unit: string, prefix = "", bytes = MAX_INPUT_BYTES): string {
  const head = `{"v":"${prefix}`;
  const tail = '"}';
  let body = unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
  while (Buffer.byteLength(head + body + tail) > bytes) body = body.slice(0, -1);
  while (Buffer.byteLength(head + body + tail) < bytes) body += "a";
  return head + body + tail;
}

const SHAPES: Array<[string, string]> = [
  ["letters only (one long word)", inputOf("abcdefgh")],
  ['"://" repeated', inputOf("a://")],
  ['"@" repeated after one "://"', inputOf("@", "h://u:")],
  ["URLs with passwords", inputOf("h://u:p/w,x@h ")],
  ["URL words without spaces", inputOf("h://u:p/w,x@h")],
  ["multi-byte text", inputOf("é€😀")],
  ["many keys, each a URL", manyKeys()],
  ["distinct URL passwords", distinctPasswords()],
  ["an array of URLs, each its own password", urlArray()],
];

/** Some 15,000 strings, each a URL with a password of its own (each registered, in forms). */
function urlArray(): string {
  const parts: string[] = [];
  let size = 2;
  for (let i = 0; ; i++) {
    const part = `"http://u:p${String(i).padStart(5, "0")}%41@h"`;
    if (size + part.length + 1 > MAX_INPUT_BYTES) break;
    parts.push(part);
    size += part.length + 1;
  }
  return `[${parts.join(",")}]`;
}

function manyKeys(): string {
  const parts: string[] = [];
  let size = 2;
  for (let i = 0; ; i++) {
    const part = `"k${i}":"https://x${i}.example/p"`;
    if (size + part.length + 1 > MAX_INPUT_BYTES) break;
    parts.push(part);
    size += part.length + 1;
  }
  return `{${parts.join(",")}}`;
}

function distinctPasswords(): string {
  let body = "";
  for (let i = 0; Buffer.byteLength(body) < MAX_INPUT_BYTES - 40; i++) body += `h://u:pw${i}@h `;
  return inputOf("a", body.slice(0, MAX_INPUT_BYTES - 40));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const dir = await mkdtemp(join(tmpdir(), "ue-bench-input-"));
try {
  console.log(`largest legal input: ${MAX_INPUT_BYTES} bytes; ${RUNS} runs each; medians`);
  console.log(
    `${"shape".padEnd(46)} ${"bytes".padStart(7)} ${"read ms".padStart(9)} ${"valid. ms".padStart(9)} ${"doc ms".padStart(8)} ${"total ms".padStart(9)}`,
  );
  let worst = 0;
  for (const [name, input] of SHAPES) {
    const bytes = Buffer.byteLength(input);
    const file = join(dir, "fields.json");
    await writeFile(
      file,
      JSON.stringify({
        state_machine_arn: "arn:aws:states:eu-west-1:123456789012:stateMachine:bench",
        input,
      }),
    );
    const reads: number[] = [];
    const checks: number[] = [];
    const docs: number[] = [];
    const totals: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const raw = readFields({ UE_FIELDS_FILE: file }, []);
      const t1 = performance.now();
      const config = validate(raw.values, raw.problems);
      const t2 = performance.now();
      const doc = buildDocument(
        { exitCode: 0, description: "bench", changed: false, result: null },
        config.fields,
      );
      const { exitCode } = serialise(doc);
      const t3 = performance.now();
      if (exitCode !== 0 || config.input !== input) throw new Error(`${name}: not processed`);
      reads.push(t1 - t0);
      checks.push(t2 - t1);
      docs.push(t3 - t2);
      totals.push(t3 - t0);
    }
    const total = median(totals);
    worst = Math.max(worst, total);
    console.log(
      `${name.padEnd(46)} ${String(bytes).padStart(7)} ${median(reads).toFixed(1).padStart(9)} ${median(checks).toFixed(1).padStart(9)} ${median(docs).toFixed(1).padStart(8)} ${total.toFixed(1).padStart(9)}`,
    );
  }
  // Refused inputs of the largest size: how long until the problem is known.
  const refused: Array<[string, Buffer]> = [
    [
      "a 120,000-character execution name",
      Buffer.from(JSON.stringify({ execution_name: `h://u:${"p".repeat(120_000)}` })),
    ],
    [
      "bytes not UTF-8, half of them",
      Buffer.concat([
        Buffer.from('{"input": "'),
        Buffer.from("a\xff".repeat(MAX_INPUT_BYTES / 2 - 8), "latin1"),
        Buffer.from('"}'),
      ]),
    ],
    [
      "many fields' worth of bad bytes",
      Buffer.from(
        `{${Array.from({ length: 8000 }, (_, i) => `"f${i}": "x\xff"`).join(",")}}`,
        "latin1",
      ),
    ],
  ];
  for (const [name, bytes] of refused) {
    const file = join(dir, "refused.json");
    await writeFile(file, bytes);
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const raw = readFields({ UE_FIELDS_FILE: file }, []);
      let refusedNow = raw.problems.length > 0;
      try {
        validate(raw.values, raw.problems);
      } catch {
        refusedNow = true;
      }
      times.push(performance.now() - t0);
      if (!refusedNow) throw new Error(`${name}: not refused`);
    }
    const total = median(times);
    worst = Math.max(worst, total);
    console.log(
      `${`refused: ${name}`.padEnd(46)} ${String(bytes.length).padStart(7)} ${total.toFixed(1).padStart(9)} ${"-".padStart(9)} ${"-".padStart(8)} ${total.toFixed(1).padStart(9)}`,
    );
  }
  console.log(`worst shape: ${worst.toFixed(1)} ms (bar: well under 1000 ms)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
