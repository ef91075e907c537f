/**
 * Checks on raw text before it is used: passwords inside URLs (found in one linear pass,
 * whatever characters they hold), text that is not well-formed Unicode, and invalid UTF-8.
 * Pure functions; every one runs in time linear in its input.
 */
import { isUtf8 } from "node:buffer";
import { type Node, type ParseError, parseTree } from "jsonc-parser";

/** Characters that end a URL inside free text (JSON input, a list of URLs ...). */
const FREE_TEXT_BREAK = /[^\s"'<>`]+/g;
/** In a field that holds URLs and nothing else only whitespace ends one. */
const URL_FIELD_BREAK = /\S+/g;

/**
 * The passwords of every URL with user information in the text. The user information
 * runs from "://" to the last "@" of the same word, so a password holding / , @ : or %
 * is found whole; each further "://" in the word is read the same way up to the next
 * one, so each URL of a comma-separated list is covered on its own too. Decoded forms
 * of percent-encoded passwords are included. One pass over the text.
 */
export function urlPasswords(text: string, options: { urlField?: boolean } = {}): string[] {
  const found: string[] = [];
  if (!options.urlField && !text.includes("://")) return found;
  const words = options.urlField ? URL_FIELD_BREAK : FREE_TEXT_BREAK;
  for (const match of text.matchAll(words)) {
    const word = match[0];
    const first = word.indexOf("://");
    const lastAt = word.lastIndexOf("@");
    // In a URL field, "user:password@host" without a scheme is read as a URL too.
    if (first < 0) {
      if (options.urlField && lastAt > 0) addPassword(word.slice(0, lastAt), found);
      continue;
    }
    if (lastAt > first) addPassword(word.slice(first + 3, lastAt), found);
    // Each URL of the word on its own: from its "://" to the last "@" before the next one.
    let start = word.indexOf("://", first + 3) < 0 ? -1 : first;
    while (start >= 0) {
      const next = word.indexOf("://", start + 3);
      const part = word.slice(start + 3, next < 0 ? word.length : next);
      const at = part.lastIndexOf("@");
      if (at > 0) addPassword(part.slice(0, at), found);
      start = next;
    }
  }
  return found;
}

function addPassword(userInfo: string, found: string[]): void {
  const colon = userInfo.indexOf(":");
  if (colon < 0) return;
  const password = userInfo.slice(colon + 1);
  if (password === "") return;
  found.push(password);
  try {
    const decoded = decodeURIComponent(password);
    if (decoded !== password) found.push(decoded);
  } catch {
    // Not percent-encoded text: the raw form is enough.
  }
}

/**
 * Replace the user information of every URL with ****: from "://" to the last "@" of the
 * same word (words end at whitespace and quotes). Over-masks rather than under-masks:
 * "http://u:a/b@host" becomes "http://****@host", not "http://u:a/b@host".
 */
export function redactUrlUserInfo(text: string, options: { urlField?: boolean } = {}): string {
  if (!text.includes("@") || (!options.urlField && !text.includes("://"))) return text;
  return text.replace(options.urlField ? URL_FIELD_BREAK : FREE_TEXT_BREAK, (word) => {
    const lastAt = word.lastIndexOf("@");
    if (lastAt < 0) return word;
    const first = word.indexOf("://");
    // In a URL field, "user:password@host" without a scheme is a URL's user information too.
    if (first < 0) return options.urlField ? `****${word.slice(lastAt)}` : word;
    if (lastAt <= first) return word;
    return `${word.slice(0, first + 3)}****${word.slice(lastAt)}`;
  });
}

/** The character index of the first unpaired surrogate, or -1 when the text is well formed. */
export function unpairedSurrogateAt(text: string): number {
  // With the u flag a pair is one code point, so only a lone half matches.
  return /[\uD800-\uDFFF]/u.exec(text)?.index ?? -1;
}

/** Where text decoded from bytes holds U+FFFD, the mark of bytes that were not UTF-8. */
export function replacementCharacterAt(text: string): number {
  return text.indexOf("\uFFFD");
}

/** A sequence of bytes that is not UTF-8: where it starts, and where its U+FFFD sits. */
export interface InvalidUtf8 {
  /** Byte offset in the input. */
  readonly byte: number;
  /** Index of the U+FFFD that stands for it in the decoded text. */
  readonly char: number;
}

/**
 * Every sequence that is not UTF-8, in order; empty when the bytes are UTF-8. Node's
 * decoder finds them (replacing each with U+FFFD); a U+FFFD that was really in the bytes
 * (EF BF BD) is told apart from one the decoder put there. One pass.
 */
export function invalidUtf8Sequences(bytes: Uint8Array): InvalidUtf8[] {
  if (isUtf8(bytes)) return [];
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString("utf8");
  const found: InvalidUtf8[] = [];
  let offset = 0;
  let from = 0;
  for (;;) {
    const index = text.indexOf("\uFFFD", from);
    if (index < 0) return found;
    offset += Buffer.byteLength(text.slice(from, index), "utf8");
    from = index + 1;
    if (buffer[offset] === 0xef && buffer[offset + 1] === 0xbf && buffer[offset + 2] === 0xbd) {
      offset += 3;
      continue;
    }
    found.push({ byte: offset, char: index });
    // Skip the bytes the decoder replaced: up to the next byte that starts a character.
    offset += invalidLength(buffer, offset);
  }
}

/** How many bytes Node's decoder replaced with one U+FFFD at this offset. */
function invalidLength(buffer: Buffer, offset: number): number {
  for (let length = 1; length <= 4 && offset + length <= buffer.length; length++) {
    const next = buffer.toString("utf8", offset + length, offset + length + 4);
    const replaced = buffer.toString("utf8", offset, offset + length + 4);
    // The decoded text from here begins with one U+FFFD followed by what the rest decodes to.
    if (replaced === `\uFFFD${next}`) return length;
  }
  return 1;
}

/** The byte offset of the first sequence that is not UTF-8, or -1 when the bytes are UTF-8. */
export function invalidUtf8At(bytes: Uint8Array): number {
  return invalidUtf8Sequences(bytes)[0]?.byte ?? -1;
}

/** Where an index of a JSON text falls: see locateInJson. */
export interface JsonValuePlace {
  /** The keys (and array indexes) down to the string value. */
  readonly path: readonly string[];
  /** 1-based character position inside the decoded value; escapes count as one. */
  readonly character: number;
}

/**
 * For each index (in increasing order), where it falls in the JSON text: the path to the
 * string value holding it and the position inside it, or null outside any string value.
 * The text is parsed once and walked once beside the indexes.
 */
export function locateInJson(
  text: string,
  indexes: readonly number[],
): Array<JsonValuePlace | null> {
  const root = treeOf(text, []);
  const values: Array<{ path: string[]; node: Node }> = [];
  const walk = (node: Node, path: string[]) => {
    if (node.type === "string") values.push({ path, node });
    else if (node.type === "object") {
      for (const property of node.children ?? []) {
        const [key, value] = property.children ?? [];
        if (key && value) walk(value, [...path, String(key.value)]);
      }
    } else if (node.type === "array") {
      for (const [i, item] of (node.children ?? []).entries()) walk(item, [...path, String(i)]);
    }
  };
  // Too deep to parse or walk: no place is known (the callers then name the whole text).
  const unknown = () => indexes.map(() => null);
  if (root === TOO_DEEP) return unknown();
  try {
    if (root) walk(root, []);
  } catch (error) {
    if (error instanceof RangeError) return unknown();
    throw error;
  }
  const places: Array<JsonValuePlace | null> = [];
  let v = 0;
  // Within one value, each position is counted on from the previous one: linear in all.
  let counted: { value: number; index: number; character: number } | undefined;
  for (const index of indexes) {
    while (
      v < values.length &&
      (values[v] as { node: Node }).node.offset + (values[v] as { node: Node }).node.length <= index
    )
      v++;
    const value = values[v];
    if (!value || value.node.offset >= index || value.path.length === 0) {
      places.push(null);
      continue;
    }
    try {
      // The value's text up to the index, closed and decoded: escapes count as one.
      const from = counted?.value === v ? counted.index : value.node.offset;
      const open = counted?.value === v ? '"' : "";
      const more = (JSON.parse(`${open}${text.slice(from, index)}"`) as string).length;
      const character = (counted?.value === v ? counted.character : 0) + more + 1;
      counted = { value: v, index, character: character - 1 };
      places.push({ path: value.path, character });
    } catch {
      places.push(null);
    }
  }
  return places;
}

const TOO_DEEP = Symbol("too deep");

/**
 * jsonc-parser's tree, or TOO_DEEP: its parser recurses once per level of nesting, so a few
 * thousand open brackets exhaust the stack (JSON.parse takes far deeper valid text).
 */
function treeOf(text: string, errors: ParseError[]): Node | undefined | typeof TOO_DEEP {
  try {
    return parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  } catch (error) {
    if (error instanceof RangeError) return TOO_DEEP;
    throw error;
  }
}

/** What jsonc-parser's error codes mean, in words (its ParseErrorCode, a const enum). */
const JSON_ERRORS: Record<number, string> = {
  1: "unexpected character",
  2: "malformed number",
  3: "a property name in double quotes expected",
  4: "a value expected",
  5: "a colon expected",
  6: "a comma expected",
  7: "a closing } expected",
  8: "a closing ] expected",
  9: "nothing more expected",
  10: "comments are not JSON",
  11: "comments are not JSON",
  12: "unterminated string",
  13: "unterminated number",
  14: "malformed \\u escape",
  15: "malformed escape",
  16: "a control character inside a string",
};

/**
 * Why and where JSON text does not parse, worded the same on every Node.js version and
 * without quoting any of it (the text near the error can be a password; JSON.parse's own
 * message quotes it). The caller puts "is not valid JSON: " before it.
 */
export function jsonSyntaxError(text: string, error: unknown): string {
  const errors: ParseError[] = [];
  if (treeOf(text, errors) === TOO_DEEP) {
    return "it is nested too deeply for its error to be located";
  }
  const first = errors[0];
  let offset: number;
  let what: string;
  if (first) {
    offset = first.offset;
    what = JSON_ERRORS[first.error] ?? "unexpected character";
  } else {
    // Only JSON.parse objects: its position, when its message gives one.
    const message = error instanceof Error ? error.message : String(error);
    offset = Number(/ in JSON at position (\d+)/.exec(message)?.[1] ?? text.length);
    what = text.trim() === "" ? "empty text" : "unexpected character";
  }
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `${what} at line ${line}, column ${column} (character ${offset + 1})`;
}
