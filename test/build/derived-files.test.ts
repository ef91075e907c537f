import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { iconFacts } from "../../build/generate.ts";
import {
  BRIDGE_PATH,
  derivedFiles,
  FIELD_TABLE_PATH,
  spliceBridgeConstants,
  spliceFieldTable,
} from "../../build/generators.ts";
import { ROOT } from "../helpers/paths.ts";

test("every file derived from the field catalog is up to date (run npm run generate)", async () => {
  const expected = derivedFiles(await iconFacts(ROOT));
  assert.ok(Object.keys(expected).length >= 5);
  for (const [path, content] of Object.entries(expected)) {
    const onDisk = await readFile(join(ROOT, path), "utf8");
    assert.equal(onDisk, content, `${path} is stale: run "npm run generate" and commit the result`);
  }
});

test("the field table of the documentation is up to date (run npm run generate)", async () => {
  const readme = await readFile(join(ROOT, FIELD_TABLE_PATH), "utf8");
  assert.equal(readme, spliceFieldTable(readme), `${FIELD_TABLE_PATH} field table is stale`);
  assert.match(readme, /\| `state_machine_arn` \| State Machine ARN \|/);
});

test("the bridge's field names are up to date (run npm run generate)", async () => {
  const source = await readFile(join(ROOT, BRIDGE_PATH), "utf8");
  assert.equal(source, spliceBridgeConstants(source), `${BRIDGE_PATH} catalog block is stale`);
  assert.match(source, /OUTPUT_FIELDS = \(\n {4}"execution_arn",/);
});
