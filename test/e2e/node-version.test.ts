import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import pkg from "../../package.json" with { type: "json" };
import { bundleNode, expectedMajor } from "../helpers/node-versions.ts";
import { BUNDLE, ROOT, requireBuilt } from "../helpers/paths.ts";

const run = promisify(execFile);

test("the bundle runs on the Node version under test", async () => {
  const reporter = join(ROOT, "test/fixtures/report-node-version.cjs");

  const { stdout, stderr } = await run(bundleNode(), [
    "--require",
    reporter,
    requireBuilt(BUNDLE),
    "--version",
  ]);

  assert.equal(stdout.trim(), `ue-aws-stepfunctions ${pkg.version}`);
  assert.match(stderr, new RegExp(`^node-version v${expectedMajor()}\\.\\d+\\.\\d+$`, "m"));
});
