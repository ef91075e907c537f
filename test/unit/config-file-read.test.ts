import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readFile } from "../../src/aws/config-file-read.ts";

test("the config-file reader gives the text, and fails as node:fs/promises does", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ue-config-read-"));
  try {
    const file = join(dir, "config");
    await writeFile(file, "[profile é]\nregion = eu-central-1\n");
    assert.equal(await readFile(file, "utf8"), "[profile é]\nregion = eu-central-1\n");
    await assert.rejects(readFile(join(dir, "missing"), "utf8"), {
      code: "ENOENT",
      path: join(dir, "missing"),
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
