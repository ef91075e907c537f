/** Input validation with the rules and error names of the real service. */
import { errors, ServiceError } from "./errors.ts";

/** Characters AWS forbids in state machine and execution names (besides whitespace and controls). */
const FORBIDDEN_NAME_CHARS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is rejected
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/u;

/** AWS's limit on execution input and output, in UTF-8 bytes. */
export const MAX_PAYLOAD_BYTES = 262_144;

export function validateName(name: unknown, member: string): string {
  checkNameLength(name, member);
  if (FORBIDDEN_NAME_CHARS.test(name) || CONTROL_CHARS.test(name)) throw errors.invalidName(name);
  return name;
}

/**
 * A name's length of 1 to 80 is a constraint of the API's model, checked before anything
 * else: a name out of it is a ValidationException, not InvalidName (see
 * https://github.com/getmoto/moto/issues/6438, AWS's answer to an 81-character name).
 */
export function checkNameLength(name: unknown, member: string): asserts name is string {
  if (name === undefined || name === null) throw errors.missingMember(member);
  if (typeof name !== "string") throw errors.serialization(`Expected string for '${member}'`);
  const length = [...name].length;
  if (length < 1 || length > 80) {
    throw errors.validation(
      `1 validation error detected: Value '${name}' at '${member}' failed to satisfy constraint: Member must have length ${length < 1 ? "greater than or equal to 1" : "less than or equal to 80"}`,
    );
  }
}

/** Parses and checks execution input; returns the canonical text stored with the execution. */
export function validateInput(input: unknown): { text: string; value: unknown } {
  if (input === undefined || input === null) return { text: "{}", value: {} };
  if (typeof input !== "string") throw errors.serialization("Expected string for 'input'");
  if (Buffer.byteLength(input, "utf8") > MAX_PAYLOAD_BYTES) {
    throw errors.invalidInput(`Input exceeds the maximum size of ${MAX_PAYLOAD_BYTES} bytes`);
  }
  try {
    return { text: input, value: JSON.parse(input) };
  } catch (e) {
    throw errors.invalidInput((e as Error).message);
  }
}

export function requireString(body: Record<string, unknown>, member: string): string {
  const v = body[member];
  if (v === undefined || v === null) throw errors.missingMember(member);
  if (typeof v !== "string") throw errors.serialization(`Expected string for '${member}'`);
  return v;
}

export function optionalString(body: Record<string, unknown>, member: string): string | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw errors.serialization(`Expected string for '${member}'`);
  return v;
}

export interface ParsedArn {
  region: string;
  account: string;
  resourceType: string;
  /** The parts after the resource type, e.g. [machine, execution]. */
  parts: string[];
}

const ARN_RE = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):([A-Za-z]+):(.+)$/;

/** Parses a Step Functions ARN of the expected resource type, or throws InvalidArn as AWS does. */
export function parseStatesArn(
  arn: string,
  expected: "stateMachine" | "execution" | "express" | "mapRun",
): ParsedArn {
  const m = ARN_RE.exec(arn);
  if (!m) throw errors.invalidArn(arn);
  const [, region, account, resourceType, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (resourceType !== expected) {
    throw new ServiceError(
      "InvalidArn",
      `Invalid Arn: 'Resource type not valid in this context: ${resourceType}'`,
    );
  }
  const parts = rest.split(":");
  // A Map Run's ARN: `mapRun:<machine>/<label>:<id>`.
  const wanted =
    expected === "stateMachine" ? 1 : expected === "execution" || expected === "mapRun" ? 2 : 3;
  // A state machine ARN may name a version or an alias: `:<version>` or `:<alias>`.
  const allowed = expected === "stateMachine" ? [1, 2] : [wanted];
  if (!allowed.includes(parts.length) || parts.some((p) => p.length === 0)) {
    throw errors.invalidArn(arn);
  }
  return { region, account, resourceType, parts };
}

export function validateRoleArn(arn: string): void {
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)) throw errors.invalidArn(arn);
}
