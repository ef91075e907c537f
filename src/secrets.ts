/**
 * Secret registry. Every secret is registered the moment it is read; the logger, the
 * output writers and error messages pass their text through mask().
 */

import { redactUrlUserInfo } from "./fields/text-checks.ts";

const MASK = "****";
const secrets = new Set<string>();
/** The secrets, longest first; rebuilt only when one was added. */
let sorted: string[] = [];

/** Register a secret value for masking; returns it unchanged for convenience. */
export function registerSecret<T extends string | undefined>(value: T): T {
  // Very short values would mask ordinary words; they are still kept out of outputs
  // by the writers, which never echo credential fields.
  if (value && value.length >= 4) {
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

/** Replace every registered secret in the text. */
export function mask(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  if (sorted.length !== secrets.size) sorted = [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of sorted) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/**
 * JSON text of the value with every registered secret masked: in each string (and key)
 * before serialisation, so a secret is masked whatever escaping serialisation adds to it,
 * and in the text after.
 */
export function maskJson(value: unknown, space?: number): string {
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => {
      if (typeof item === "string") return mask(item);
      if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
      return Object.fromEntries(Object.entries(item).map(([key, v]) => [mask(key), v]));
    },
    space,
  );
  return mask(text);
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
  sorted = [];
}
