/**
 * Secret registry. Every secret is registered the moment it is read; the logger, the
 * output writers and error messages pass their text through mask().
 */

import { redactUrlUserInfo } from "./fields/text-checks.ts";

const MASK = "****";
const secrets = new Set<string>();
/** The secrets' first PREFIX characters, each with its secrets' lengths, longest first. */
const PREFIX = 4;
let lengthsByPrefix = new Map<string, number[]>();
/** How many secrets lengthsByPrefix was built from; rebuilt only when one was added. */
let indexed = 0;

/** Register a secret value for masking; returns it unchanged for convenience. */
export function registerSecret<T extends string | undefined>(value: T): T {
  // Very short values would mask ordinary words; they are still kept out of outputs
  // by the writers, which never echo credential fields.
  if (value && value.length >= PREFIX) {
    secrets.add(value);
    // Also mask the forms a secret takes inside URLs and headers.
    // Text that is not well-formed Unicode has no URI form (it is refused later anyway).
    if (!/[\uD800-\uDFFF]/u.test(value)) secrets.add(encodeURIComponent(value));
    secrets.add(Buffer.from(value).toString("base64"));
    // And inside JSON text (" \ and control characters escaped): a JSON string, and JSON
    // text held in a JSON string (an Input or an execution's output inside the document).
    const inJson = jsonEscaped(value);
    if (inJson !== value) {
      secrets.add(inJson);
      secrets.add(jsonEscaped(inJson));
    }
  }
  return value;
}

/** The text of a JSON string holding the value, without its quotes. */
function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** Register user:password as it appears in a Basic authorization header. */
export function registerBasicAuth(user: string, password: string): void {
  registerSecret(password);
  registerSecret(Buffer.from(`${user}:${password}`).toString("base64"));
}

/**
 * Replace every registered secret in the text: one pass, at each position the longest
 * secret that starts there. Each position costs one look-up of its next PREFIX characters
 * (and, where a secret starts with them, one per length of such secrets), so the cost
 * follows the text's length, not the number of secrets: an Input may hold thousands of
 * URL passwords, each registered in several forms, and every string of the document is
 * masked.
 */
export function mask(text: string): string {
  if (secrets.size === 0 || text.length < PREFIX) return text;
  if (indexed !== secrets.size) indexSecrets();
  let out = "";
  let done = 0;
  let i = 0;
  while (i <= text.length - PREFIX) {
    const lengths = lengthsByPrefix.get(text.slice(i, i + PREFIX));
    let found = 0;
    if (lengths) {
      for (const length of lengths) {
        if (i + length <= text.length && secrets.has(text.slice(i, i + length))) {
          found = length;
          break;
        }
      }
    }
    if (found === 0) {
      i++;
      continue;
    }
    out += text.slice(done, i) + MASK;
    i += found;
    done = i;
  }
  return done === 0 ? text : out + text.slice(done);
}

function indexSecrets(): void {
  const byPrefix = new Map<string, Set<number>>();
  for (const secret of secrets) {
    const prefix = secret.slice(0, PREFIX);
    const lengths = byPrefix.get(prefix) ?? new Set<number>();
    lengths.add(secret.length);
    byPrefix.set(prefix, lengths);
  }
  lengthsByPrefix = new Map(
    [...byPrefix].map(([prefix, lengths]) => [prefix, [...lengths].sort((a, b) => b - a)]),
  );
  indexed = secrets.size;
}

/**
 * Where a document's own structure ends: its keys and numbers are the product's words and
 * figures, and stay as they are (a secret that happens to read like "status" or "1200" must
 * not rename a key or turn a number into text); under a data key (an execution's parsed
 * output) keys and numbers are data, masked like strings.
 */
export interface JsonShape {
  readonly dataKeys: ReadonlySet<string>;
}

/** A value whose keys and numbers are all the product's own (only its strings are masked). */
export const OWN_SHAPE: JsonShape = { dataKeys: new Set() };

/**
 * JSON text of the value with every registered secret masked in each string, before
 * serialisation, so a secret is masked whatever escaping serialisation adds to it and the
 * text stays JSON. Without a shape the whole value is data: keys are masked too, and a
 * number holding a secret becomes the string "****".
 */
export function maskJson(value: unknown, space?: number, shape?: JsonShape): string {
  return JSON.stringify(maskedCopy(value, shape === undefined, shape), null, space);
}

function maskedCopy(value: unknown, data: boolean, shape: JsonShape | undefined): unknown {
  if (typeof value === "string") return mask(value);
  if (typeof value === "number")
    return data && mask(String(value)) !== String(value) ? MASK : value;
  if (value === null || typeof value !== "object") return value;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === "function") return maskedCopy(json.call(value), data, shape);
  if (Array.isArray(value)) return value.map((item: unknown) => maskedCopy(item, data, shape));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      data ? mask(key) : key,
      maskedCopy(item, data || (shape?.dataKeys.has(key) ?? false), shape),
    ]),
  );
}

/**
 * Mask the user information of every URL in the text, whatever is registered and
 * whatever characters the password holds (from "://" to the last "@" of the word).
 */
export function redactUrl(text: string, options: { urlField?: boolean } = {}): string {
  return redactUrlUserInfo(text, options);
}

/** Forget every registered secret (tests only). */
export function clearSecrets(): void {
  secrets.clear();
  lengthsByPrefix = new Map();
  indexed = 0;
}
