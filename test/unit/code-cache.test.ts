/** Where the code cache lives, which folders it refuses, and how its files are checked. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  bufferOutsideMalloc,
  CACHE_FOLDER,
  cacheFileName,
  cacheLocation,
  folderProblem,
  pack,
  programComments,
  programFromCarrier,
  readCacheFile,
  releaseMapped,
  unpack,
} from "../../src/code-cache.ts";
import { offerCodeCacheWrite, writeCodeCacheNow } from "../../src/code-cache-write.ts";

const TEMP = "/tmp";

test("the cache's place: UE_CODE_CACHE, NODE_COMPILE_CACHE, XDG_CACHE_HOME, ~/.cache, the temporary folder with the user id", () => {
  const cases: Array<[NodeJS.ProcessEnv, number | null, string | null]> = [
    [{ UE_CODE_CACHE: "/srv/cache", HOME: "/home/u" }, 1000, "/srv/cache"],
    [{ NODE_COMPILE_CACHE: "/run/bridge", HOME: "/home/u" }, 1000, `/run/bridge/${CACHE_FOLDER}`],
    [{ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }, 1000, `/x/cache/${CACHE_FOLDER}`],
    [{ HOME: "/home/u" }, 1000, `/home/u/.cache/${CACHE_FOLDER}`],
    [{}, 1000, `${TEMP}/${CACHE_FOLDER}-1000`],
    // Relative paths are not trusted: they depend on the working folder.
    [{ XDG_CACHE_HOME: "cache", HOME: "home" }, 42, `${TEMP}/${CACHE_FOLDER}-42`],
    [{ UE_CODE_CACHE: "relative" }, 42, `${TEMP}/${CACHE_FOLDER}-42`],
    // No user id (Windows): no shared temporary folder.
    [{}, null, null],
  ];
  for (const [env, uid, expected] of cases) {
    assert.equal(cacheLocation(env, uid, TEMP)?.dir ?? null, expected, JSON.stringify(env));
  }
  // A relative temporary folder (TMPDIR=tmp) would be one of the working directory: no cache.
  assert.equal(cacheLocation({}, 42, "tmp"), null);
});

test("~/.cache is made inside the home folder, never the home folder itself", () => {
  assert.equal(cacheLocation({ HOME: "/home/u" }, 1000, TEMP)?.within, "/home/u");
  assert.equal(
    cacheLocation({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }, 1000, TEMP)?.within,
    undefined,
  );
});

test("a HOME that names no folder leaves the cache to the temporary folder with the user id", () => {
  assert.deepEqual(cacheLocation({ HOME: "/nonexistent" }, 65534, TEMP)?.otherwise, {
    dir: `${TEMP}/${CACHE_FOLDER}-65534`,
  });
  // No user id (Windows) or a relative temporary folder: no other place.
  assert.equal(cacheLocation({ HOME: "/nonexistent" }, null, TEMP)?.otherwise, undefined);
  assert.equal(cacheLocation({ HOME: "/nonexistent" }, 42, "tmp")?.otherwise, undefined);
});

test("UE_CODE_CACHE=off, 0, false or no, and NODE_DISABLE_COMPILE_CACHE, turn the cache off", () => {
  for (const value of ["off", "OFF", "0", "false", "no", " off "]) {
    assert.equal(cacheLocation({ UE_CODE_CACHE: value, HOME: "/home/u" }, 1, TEMP), null, value);
  }
  assert.equal(cacheLocation({ NODE_DISABLE_COMPILE_CACHE: "1", HOME: "/h" }, 1, TEMP), null);
});

test("a folder is refused unless it is a real folder of this user that only the user can use", () => {
  const folder = (uid: number, mode: number, isDir = true) => ({
    isDirectory: () => isDir,
    uid,
    mode: (isDir ? 0o040000 : 0o100000) | mode,
  });
  assert.equal(folderProblem(folder(1000, 0o700), 1000), null);
  assert.equal(folderProblem(folder(1000, 0o500), 1000), null);
  assert.match(folderProblem(folder(0, 0o700), 1000) ?? "", /owned by user 0, not 1000/);
  for (const mode of [0o750, 0o705, 0o770, 0o777, 0o1777, 0o710]) {
    assert.match(folderProblem(folder(1000, mode), 1000) ?? "", /open to group or others/);
  }
  assert.equal(folderProblem(folder(1000, 0o700, false), 1000), "not a folder");
});

test("a cache file's payload is used only when its digest matches", () => {
  const payload = Buffer.from("compiled code".repeat(100));
  const file = pack(payload);
  assert.deepEqual(unpack(file), payload);
  const flipped = Buffer.from(file);
  flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 1;
  assert.equal(unpack(flipped), null);
  assert.equal(unpack(file.subarray(0, file.length - 1)), null);
  assert.equal(unpack(file.subarray(0, 40)), null);
  assert.equal(unpack(Buffer.concat([Buffer.from("XESFNCC1"), file.subarray(8)])), null);
  assert.equal(unpack(Buffer.alloc(0)), null);
});

/** Whether V8 mapped a buffer's memory itself: only resizable ArrayBuffers are mapped so. */
function mappedByV8(buffer: Buffer): boolean {
  return (buffer.buffer as ArrayBuffer & { resizable?: boolean }).resizable === true;
}

test("a cache file is read into memory that V8 maps itself and gives back at once, or malloc's where it cannot", () => {
  const dir = mkdtempSync(join(TEMP, "ue-cc-read-"));
  try {
    const payload = Buffer.from("compiled code".repeat(20_000));
    const file = join(dir, "cache.v8");
    writeFileSync(file, pack(payload));
    const read = readCacheFile(file, process.getuid?.() ?? null);
    assert.ok(read);
    assert.deepEqual(read, payload);
    assert.ok(mappedByV8(read), "the payload's memory comes from V8's own mapping");
    assert.equal(releaseMapped(read), true);
    assert.equal(read.buffer.byteLength, 0, "released: nothing left mapped");

    const mapped = bufferOutsideMalloc(300_000);
    assert.equal(mapped.length, 300_000);
    assert.ok(mappedByV8(mapped));
    assert.ok(mapped.every((byte) => byte === 0));
    const fallback = bufferOutsideMalloc(300_000, () => {
      throw new RangeError("Array buffer allocation failed");
    });
    assert.equal(fallback.length, 300_000);
    assert.ok(!mappedByV8(fallback));
    assert.ok(fallback.every((byte) => byte === 0));
    assert.equal(releaseMapped(fallback), false);
    assert.equal(fallback.length, 300_000, "malloc's buffer is left to the collector");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("one cache file per build, Node version and architecture", () => {
  assert.equal(
    cacheFileName("cc46f77df66ecfc5", "v20.20.2", "x64"),
    "cc46f77df66ecfc5-node20.20.2-x64.v8",
  );
  assert.notEqual(cacheFileName("a", "v22.1.0", "x64"), cacheFileName("a", "v22.1.0", "arm64"));
});

test("the program's text survives its comment carrier as V8 reads it, comment ends and all", () => {
  const texts = [
    "",
    "*/",
    "*//*",
    "/**/",
    "x=/\\s*/g;y='*/*/'",
    "a**/b/*c*/d*",
    "*",
    "/",
    "//x\n/*",
  ];
  // Every string of up to 6 characters from "*", "/" and "a", and random longer ones.
  const alphabet = ["*", "/", "a"];
  let layer = [""];
  for (let n = 1; n <= 6; n++) {
    layer = layer.flatMap((t) => alphabet.map((c) => t + c));
    texts.push(...layer);
  }
  for (let i = 0; i < 200; i++) {
    texts.push(Array.from({ length: 40 }, () => "*/a\n"[Math.floor(Math.random() * 4)]).join(""));
  }
  for (const text of texts) {
    const carrier = new Function(`return function(){${programComments(text)}}`)() as () => void;
    assert.equal(carrier(), undefined, JSON.stringify(text));
    assert.equal(programFromCarrier(carrier.toString()), text, JSON.stringify(text));
  }
});

test("a cache owed by the start is written once when the program asks, and nothing happens when none is owed", () => {
  let writes = 0;
  writeCodeCacheNow();
  offerCodeCacheWrite(() => writes++);
  writeCodeCacheNow();
  writeCodeCacheNow();
  assert.equal(writes, 1);
});
