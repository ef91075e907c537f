/**
 * The environment variables the documentation lists are the ones the code reads: every
 * variable the program reads is in docs/command-line.md's "Environment variables" section,
 * every setting the bridge reads in docs/bridge.md's "Settings in the agent's environment",
 * and neither table names a UE_ variable the code no longer has.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ENV_MAX_ATTEMPTS, ENV_RETRY_MODE } from "@smithy/core/retry";
import { CACHE_SWITCH } from "../../src/code-cache.ts";
import { ENV } from "../../src/config/environment.ts";
import { REMOVE_FIELDS_FILE } from "../../src/fields/read.ts";
import { CANCEL_ON_STDIN } from "../../src/stdin-cancel.ts";
import { ROOT } from "../helpers/paths.ts";

/** A Markdown file's section under the heading `## <title>`, up to the next one. */
function section(file: string, title: string): string {
  const text = readFileSync(join(ROOT, file), "utf8");
  const body = text.split(`\n## ${title}\n`)[1];
  assert.ok(body !== undefined, `${file} has a section "## ${title}"`);
  return body.split("\n## ")[0] as string;
}

/** The variable names a table names in its first column, in backticks. */
function tableNames(markdown: string): string[] {
  return markdown
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...(line.split("|")[1] ?? "").matchAll(/`([A-Z][A-Z0-9_]*)`/g)])
    .map((m) => m[1] as string);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every variable the program reads: env["NAME"] anywhere, and the names it keeps in constants. */
function programVariables(): Set<string> {
  const names = new Set<string>([
    ...Object.values(ENV),
    CACHE_SWITCH,
    CANCEL_ON_STDIN,
    REMOVE_FIELDS_FILE,
    ENV_MAX_ATTEMPTS,
    ENV_RETRY_MODE,
  ]);
  for (const file of sourceFiles(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    // A read, not an assignment (the program sets one variable for the AWS SDK).
    for (const m of text.matchAll(/env\["([A-Z][A-Z0-9_]*)"\](?!\s*=[^=])/g)) {
      names.add(m[1] as string);
    }
  }
  // The settings read through the SDK's selectors or in a loop, named as literals there.
  const environment = readFileSync(join(ROOT, "src", "config", "environment.ts"), "utf8");
  for (const m of environment.matchAll(/"(AWS_[A-Z0-9_]+)"/g)) names.add(m[1] as string);
  return names;
}

/** Every setting the bridge reads from the agent's environment. */
function bridgeSettings(): Set<string> {
  const text = readFileSync(join(ROOT, "src", "bridge", "extension.py"), "utf8");
  const names = new Set<string>();
  for (const m of text.matchAll(/^[A-Z_]+_SETTING = "([A-Z0-9_]+)"$/gm)) names.add(m[1] as string);
  const temp = text.match(/for name in \(("[A-Z]+"(?:, "[A-Z]+")*)\)/);
  assert.ok(temp, "the bridge's temporary folder variables");
  for (const m of (temp[1] as string).matchAll(/"([A-Z]+)"/g)) names.add(m[1] as string);
  return names;
}

describe("the environment variables in the documentation", () => {
  test("every variable the program reads is in docs/command-line.md's Environment variables", () => {
    const documented = section("docs/command-line.md", "Environment variables");
    const missing = [...programVariables()].filter((name) => !documented.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });

  test("the program's table names no UE_ variable the program does not read", () => {
    const read = programVariables();
    const listed = tableNames(section("docs/command-line.md", "Environment variables"));
    assert.ok(listed.length > 20, "the table was found");
    assert.deepEqual(
      listed.filter((name) => name.startsWith("UE_") && !read.has(name)),
      [],
    );
  });

  test("every setting the bridge reads is in docs/bridge.md, and no other UE_ setting", () => {
    const settings = bridgeSettings();
    assert.ok(settings.has("UE_AWS_STEPFUNCTIONS_NODE"));
    const listed = tableNames(section("docs/bridge.md", "Settings in the agent's environment"));
    assert.deepEqual(
      [...settings].filter((name) => !listed.includes(name)),
      [],
    );
    assert.deepEqual(
      listed.filter((name) => name.startsWith("UE_") && !settings.has(name)),
      [],
    );
  });
});
