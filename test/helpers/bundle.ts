/** Run the built bundle as a child process with the controller contract (SPEC 3.2). */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { bundleNode } from "./node-versions.ts";
import { BUNDLE, ROOT, requireBuilt } from "./paths.ts";

/** A parsed JSON document; tests reach into it by path, as later workflow tasks do. */
// biome-ignore lint/suspicious/noExplicitAny: documents are checked against their schema, then read freely.
export type JsonDoc = Record<string, any>;

export interface BundleRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The extension output document, parsed (null when none was written). */
  readonly doc: JsonDoc | null;
  readonly docText: string;
  /** Each output-only field update, in order. */
  readonly outputFields: Array<Record<string, string>>;
  readonly outputFieldsText: string;
  /** Everything the program wrote, for secret canary checks. */
  readonly allBytes: string;
}

export interface BundleOptions {
  /** Field values in runtime shapes, written to UE_FIELDS_FILE. */
  readonly fields?: Record<string, unknown>;
  readonly env?: Record<string, string | undefined>;
  readonly args?: readonly string[];
  /** Called once the process is running, e.g. to send it a signal later. */
  readonly onStart?: (child: ChildProcess, outputFieldsFile: string) => void;
  readonly timeoutMs?: number;
  /** An open file for the child's standard output instead of a pipe (stdout is then ""). */
  readonly stdoutFd?: number;
  /** The child's standard input: "pipe" (written through child.stdin) or an open file; none by default. */
  readonly stdin?: "pipe" | number;
  /** Pipes whose reading end is closed at once, as by a log reader that ended. */
  readonly closeReaders?: ReadonlyArray<"stdout" | "stderr">;
  /** The child's working directory (default: the test's). */
  readonly cwd?: string;
}

/** Environment for the child: no AWS settings from the machine leak into tests. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("AWS_") && !k.startsWith("UE_")) env[k] = v;
  }
  env["AWS_CONFIG_FILE"] = "/nonexistent/aws-config";
  env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials";
  env["AWS_EC2_METADATA_DISABLED"] = "true";
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export async function runBundle(options: BundleOptions = {}): Promise<BundleRun> {
  const dir = await mkdtemp(join(tmpdir(), "ue-sfn-run-"));
  try {
    const fieldsFile = join(dir, "fields.json");
    const outputFile = join(dir, "extension-output.json");
    const outputFieldsFile = join(dir, "output-fields.jsonl");
    const env: Record<string, string | undefined> = {
      UE_EXTENSION_OUTPUT_FILE: outputFile,
      UE_OUTPUT_FIELDS_FILE: outputFieldsFile,
      UE_TASK_NAME: "e2e-task",
      UE_TASK_INSTANCE_ID: `inst${Date.now()}${Math.floor(Math.random() * 1e6)}`,
      ...options.env,
    };
    if (options.fields) {
      await writeFile(fieldsFile, JSON.stringify(options.fields));
      env["UE_FIELDS_FILE"] = fieldsFile;
    }
    const child = spawn(bundleNode(), [requireBuilt(BUNDLE), ...(options.args ?? [])], {
      env: cleanEnv(env),
      stdio: [options.stdin ?? "ignore", options.stdoutFd ?? "pipe", "pipe"],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    // The child may close its input, or end, before a test's line reaches it.
    child.stdin?.on("error", () => {});
    for (const name of options.closeReaders ?? []) child[name]?.destroy();
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    options.onStart?.(child, outputFieldsFile);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("close", (c, s) => resolve([c, s])),
    );
    clearTimeout(timer);
    const docText = await readFile(outputFile, "utf8").catch(() => "");
    const outputFieldsText = await readFile(outputFieldsFile, "utf8").catch(() => "");
    return {
      code,
      signal,
      stdout,
      stderr,
      doc: docText ? JSON.parse(docText) : null,
      docText,
      outputFields: outputFieldsText
        .split("\n")
        .filter((l) => l)
        .map((l) => JSON.parse(l)),
      outputFieldsText,
      allBytes: [stdout, stderr, docText, outputFieldsText].join("\n"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Resolves when the output-fields file shows the given field. */
export async function waitForOutputField(
  file: string,
  name: string,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").filter((l) => l)) {
      const value = (JSON.parse(line) as Record<string, string>)[name];
      if (value !== undefined) return value;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${name} in ${file} after ${timeoutMs} ms`);
}

const outputSchema = JSON.parse(
  readFileSync(join(ROOT, "schemas/extension-output.schema.json"), "utf8"),
) as object;
// Compiled from the committed schema file, not the build's compiled copy, so a wrong
// generated validator cannot vouch for itself.
const validateDoc = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(outputSchema);

/** The extension output document was written and is valid against its schema. */
export function assertValidDoc(doc: Record<string, unknown> | null): asserts doc is JsonDoc {
  assert.ok(doc, "the extension output document was written");
  assert.ok(validateDoc(doc), JSON.stringify(validateDoc.errors));
}
