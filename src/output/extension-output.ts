/**
 * The extension output document (SPEC 5.8): built from the outcome, masked, checked
 * against its schema, written atomically to UE_EXTENSION_OUTPUT_FILE or to stdout.
 */
import type { MapRunProgress, ResultWriterLocation } from "../actions/map-runs.ts";
import { consoleUrlFor } from "../console-link.ts";
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { INPUT_FIELDS } from "../fields/catalog.ts";
import type { FieldValues } from "../fields/template-types.ts";
import { validateExtensionOutput } from "../generated/validators.cjs";
import { EXIT, type ExitCode, STATUS_WORD } from "../exit-codes.ts";
import { type JsonShape, maskJson, redactUrl } from "../secrets.ts";
import { VERSION } from "../version.ts";

export interface ExecutionResult {
  executionArn: string;
  /** The state machine, without a version or alias qualifier. */
  stateMachineArn: string | null;
  /** The version that ran, when the start named a version or an alias. */
  stateMachineVersionArn?: string | null;
  /** The alias the start named, if any. */
  stateMachineAliasArn?: string | null;
  name: string | null;
  status: string;
  startDate: string | null;
  stopDate: string | null;
  input?: string | null;
  output: string | null;
  outputParsed?: unknown;
  outputDetails: { included?: boolean } | null;
  error: string | null;
  cause: string | null;
  failedState: string | null;
  redriveCount?: number | null;
  redriveStatus?: string | null;
  redriveStatusReason?: string | null;
  redriveDate?: string | null;
  /** A Distributed Map's Map Runs, read after a failure that involved one. */
  mapRuns?: MapRunProgress[] | null;
  /** Where a Distributed Map's ResultWriter put the results (from the execution's output). */
  resultWriterDetails?: ResultWriterLocation | null;
  /** Why the execution's output, error and cause could not be read (its KMS key), if so. */
  dataUnavailable?: string | null;
  /**
   * The X-Ray trace header the start passed: as AWS reports it once the execution was
   * described, else as sent (a start without waiting).
   */
  traceHeader?: string | null;
  /** The execution's page in the AWS console (Standard executions in aws, aws-cn, aws-us-gov). */
  consoleUrl?: string | null;
  /** The state waiting for a task token when the task stopped watching, if any. */
  waitingForCallback?: string | null;
  /** Start Synchronous Express Execution: what AWS bills for the run. */
  billingDetails?: {
    billedMemoryUsedInMB?: number;
    billedDurationInMilliseconds?: number;
  } | null;
  [key: string]: unknown;
}

/** The result of Send Task Success, Failure or Heartbeat: what was sent, never the token. */
export interface CallbackResult {
  callback: "SendTaskSuccess" | "SendTaskFailure" | "SendTaskHeartbeat";
  /** The first 8 hex characters of the token's SHA-256. */
  taskTokenFingerprint: string;
  output?: string | null;
  outputParsed?: unknown;
  error?: string | null;
  cause?: string | null;
}

/**
 * The result of an execution known only by its ARN and what the task saw of it; the status
 * is one AWS gave (a start's or a redrive's reply, a DescribeExecution), never assumed.
 */
export function pendingResult(
  executionArn: string,
  known: {
    status: string;
    name?: string | null;
    stateMachineArn?: string | null;
    stateMachineVersionArn?: string | null;
    stateMachineAliasArn?: string | null;
    startDate?: string | null;
  },
): ExecutionResult {
  return {
    executionArn,
    stateMachineArn: known.stateMachineArn ?? null,
    ...(known.stateMachineVersionArn
      ? { stateMachineVersionArn: known.stateMachineVersionArn }
      : {}),
    ...(known.stateMachineAliasArn ? { stateMachineAliasArn: known.stateMachineAliasArn } : {}),
    name: known.name ?? null,
    status: known.status,
    startDate: known.startDate ?? null,
    stopDate: null,
    output: null,
    outputDetails: null,
    error: null,
    cause: null,
    failedState: null,
  };
}

export interface Outcome {
  exitCode: ExitCode;
  /** The text after the status word. */
  description: string;
  changed: boolean;
  result: ExecutionResult | CallbackResult | null;
}

export interface ExtensionOutput {
  exit_code: number;
  status_description: string;
  changed: boolean;
  invocation: { extension: string; version: string; fields: Record<string, unknown> };
  result: ExecutionResult | CallbackResult | null;
}

/**
 * The values to echo when some were refused as given: a refused value is echoed as not set
 * (null, never the default that was not used either), but for the parts of a credential
 * that were given, which show as "****".
 */
export function echoValues(
  values: FieldValues,
  refused: ReadonlyMap<string, unknown>,
): FieldValues {
  const echoed: FieldValues = { ...values };
  for (const [name, raw] of refused) {
    delete echoed[name];
    const spec = INPUT_FIELDS.find((f) => f.name === name);
    if (spec?.type === "Credential" && raw && typeof raw === "object" && !Array.isArray(raw)) {
      const part = (key: string) => {
        const v = (raw as Record<string, unknown>)[key];
        return typeof v === "string" ? v : "";
      };
      echoed[name] = { user: part("user"), password: part("password"), token: part("token") };
    }
  }
  return echoed;
}

/** Echo every input field; credentials only ever as "****", each part when it is set. */
export function echoFields(values: FieldValues): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const spec of INPUT_FIELDS) {
    const value = values[spec.name];
    if (spec.type === "Credential") {
      const set = value !== undefined && typeof value === "object" && !Array.isArray(value);
      fields[`${spec.name}_user`] = set && value.user ? "****" : null;
      fields[`${spec.name}_password`] = set && value.password ? "****" : null;
      if (spec.usesToken) fields[`${spec.name}_token`] = set && value.token ? "****" : null;
    } else if (spec.secret) {
      fields[spec.name] = typeof value === "string" && value.length > 0 ? "****" : null;
    } else if (spec.type === "Choice") {
      fields[spec.name] = Array.isArray(value) ? (value[0] ?? null) : null;
    } else if (typeof value === "string") {
      // Any text field may hold a URL with a password in it; the echo never shows it.
      fields[spec.name] = redactUrl(value, {
        urlField: spec.name === "proxy" || spec.name === "endpoint_url",
      });
    } else {
      fields[spec.name] = value ?? null;
    }
  }
  return fields;
}

/** Build the document for an outcome. */
export function buildDocument(outcome: Outcome, values: FieldValues): ExtensionOutput {
  return {
    exit_code: outcome.exitCode,
    status_description: redactUrl(`${STATUS_WORD[outcome.exitCode]}: ${outcome.description}`),
    changed: outcome.changed,
    invocation: { extension: "ue-aws-stepfunctions", version: VERSION, fields: echoFields(values) },
    result: withConsoleUrl(outcome.result),
  };
}

/** An execution's result with its console link beside the ARN. */
function withConsoleUrl(
  result: ExecutionResult | CallbackResult | null,
): ExecutionResult | CallbackResult | null {
  if (!result || !("executionArn" in result) || result.consoleUrl !== undefined) return result;
  return { ...result, consoleUrl: consoleUrlFor(result.executionArn) };
}

/** The document's own keys and numbers are its schema's; an execution's parsed output is data. */
const DOCUMENT_SHAPE: JsonShape = { dataKeys: new Set(["outputParsed"]) };

/** Serialise, mask and check the document; a document that fails its schema becomes exit 1. */
export function serialise(doc: ExtensionOutput): { text: string; exitCode: number } {
  const text = maskJson(doc, 2, DOCUMENT_SHAPE);
  const parsed = JSON.parse(text) as unknown;
  if (validateExtensionOutput(parsed)) return { text: `${text}\n`, exitCode: doc.exit_code };
  // Never lose the outcome: fall back to a minimal document that is valid.
  const problems = (validateExtensionOutput.errors ?? [])
    .map((e) => `${e.instancePath || "/"} ${e.message}`)
    .join("; ");
  const fallback: ExtensionOutput = {
    ...doc,
    exit_code: EXIT.unexpected,
    status_description: `${STATUS_WORD[EXIT.unexpected]}: internal error, output document was invalid (${problems}); original status: ${doc.status_description}`,
    result: null,
  };
  return { text: `${maskJson(fallback, 2, DOCUMENT_SHAPE)}\n`, exitCode: EXIT.unexpected };
}

/**
 * Write atomically: a temporary file beside the target, flushed, then renamed over it.
 * A target that exists and is not a regular file (a pipe, a terminal, a device) is
 * written directly: renaming over it would replace it. So is the program's own standard
 * output or error when it is a regular file (/dev/stdout with `> result.json`): the temporary
 * file would go beside the link (/dev, /proc/self/fd), and the rename would replace the
 * link itself while the file it stands for stayed empty.
 */
export function writeAtomically(path: string, text: string): void {
  const target = statOrNull(path);
  if (target && !target.isFile()) {
    writeFileSync(path, text);
    return;
  }
  const stream = target ? standardStreamAt(target) : undefined;
  if (stream !== undefined) {
    // Through the descriptor itself: its offset and its append mode (`>>`) are kept.
    writeFileSync(stream, text);
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, "w", 0o600);
  try {
    try {
      // writeFileSync on a descriptor goes on until every byte is written or one fails.
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // The temporary file is already gone.
    }
    throw error;
  }
}

/**
 * Write to standard output; resolves once the text is written, rejects when it could not be
 * (`> result.json` on a full disk, a pipe whose reader ended): the stream reports that only
 * to the write's callback and its 'error' event, never by throwing.
 */
export function writeStandardOutput(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

/** Write the document where the contract says; resolves to the exit code to use. */
export async function writeDocument(
  doc: ExtensionOutput,
  path: string | undefined,
): Promise<number> {
  const { text, exitCode } = serialise(doc);
  if (path) writeAtomically(path, text);
  else await writeStandardOutput(text);
  return exitCode;
}

/**
 * The same at once, for the last moment before the program leaves (a second cancel): a
 * write to standard output is only started.
 */
export function writeDocumentNow(doc: ExtensionOutput, path: string | undefined): number {
  const { text, exitCode } = serialise(doc);
  if (path) writeAtomically(path, text);
  else process.stdout.write(text);
  return exitCode;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Standard output (1) or standard error (2) when it is the very file `target` is. */
function standardStreamAt(target: Stats): 1 | 2 | undefined {
  for (const fd of [1, 2] as const) {
    try {
      const stream = fstatSync(fd);
      if (stream.dev === target.dev && stream.ino === target.ino) return fd;
    } catch {
      // Not open.
    }
  }
  return undefined;
}

/**
 * The document could not be written where the contract says (full disk, missing folder,
 * no permission): exit 40, and the document, carrying the task's real outcome in its
 * description and result, goes to standard output instead so the outcome is not lost.
 */
export function writeDocumentElsewhere(
  outcome: Outcome,
  values: FieldValues,
  path: string,
  reason: string,
): Promise<number> {
  const fallback: Outcome = {
    ...outcome,
    exitCode: EXIT.outputUnwritable,
    description: `cannot write the extension output to ${path} (${reason}); the task's outcome: ${STATUS_WORD[outcome.exitCode]}: ${outcome.description}`,
  };
  return writeDocument(buildDocument(fallback, values), undefined);
}
