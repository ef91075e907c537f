/**
 * Checks on raw text before it is used: passwords inside URLs (found in one linear pass,
 * whatever characters they hold), text that is not well-formed Unicode, and invalid UTF-8.
 * Pure functions; every one runs in time linear in its input.
 */
import { isUtf8 } from "node:buffer";
import { type Node, type ParseError, parseTree } from "jsonc-parser";

/**
 * The narrow reading of free text: words end at whitespace and quotes, as most URLs do.
 * It finds alone the user information of a URL that holds none of them.
 */
const FREE_TEXT_BREAK = /[^\s"'<>`]+/g;
/** A character the narrow reading ends a word at. */
const NARROW_BREAK = /[\s"'<>`]/;
/** In a field that holds URLs and nothing else, words end at whitespace (the narrow reading). */
const URL_FIELD_BREAK = /\S+/g;

/**
 * The passwords of every URL with user information in the text. The user information
 * runs from "://" to the last "@" before the URL ends, so a password holding / , @ : % '
 * or a space is found whole; each further "://" is read the same way up to the next one,
 * so each URL of a comma-separated list is covered on its own too. In free text a URL ends
 * where its JSON string ends (a `"` no backslash escapes) or at a line break; in a URL
 * field (urlField) the whole value is the URL, or a list of them. Decoded forms of
 * percent-encoded passwords are included. Linear in the text.
 */
export function urlPasswords(text: string, options: { urlField?: boolean } = {}): string[] {
  const found: string[] = [];
  if (!options.urlField && !text.includes("://")) return found;
  const urlField = options.urlField === true;
  // The narrow reading first: a password with no space or quote is found alone, even where
  // the wide reading takes it together with more text.
  for (const match of text.matchAll(urlField ? URL_FIELD_BREAK : FREE_TEXT_BREAK)) {
    wordPasswords(match[0], urlField, found);
  }
  if (urlField) {
    wordPasswords(text, true, found);
    // Each entry of a list on its own, with or without a scheme.
    if (text.includes(",")) for (const entry of text.split(",")) wordPasswords(entry, true, found);
  } else {
    for (const [start, end] of freeTextRuns(text)) {
      const run = text.slice(start, end);
      if (run.includes("://") && NARROW_BREAK.test(run)) wordPasswords(run, false, found, true);
    }
  }
  return found;
}

/**
 * The passwords of one word: from its first "://" to its last "@", and each URL of it on
 * its own, from its "://" to the last "@" before the next one. In a URL field,
 * "user:password@host" without a scheme is a URL too.
 */
function wordPasswords(word: string, urlField: boolean, found: string[], wide = false): void {
  const first = word.indexOf("://");
  const lastAt = word.lastIndexOf("@");
  if (first < 0 || (urlField && word.lastIndexOf("@", first) > 0)) {
    if (urlField && lastAt > 0) addPassword(word.slice(0, lastAt).trimStart(), found);
    if (first < 0) return;
  }
  if (lastAt > first) addPassword(word.slice(first + 3, lastAt), found, wide);
  // Each URL of the word on its own: from its "://" to the last "@" before the next one.
  let start = word.indexOf("://", first + 3) < 0 ? -1 : first;
  while (start >= 0) {
    const next = word.indexOf("://", start + 3);
    const part = word.slice(start + 3, next < 0 ? word.length : next);
    const at = part.lastIndexOf("@");
    if (at > 0) addPassword(part.slice(0, at), found, wide);
    start = next;
  }
}

/**
 * Whether user information read across spaces and quotes (the wide reading) is a URL's: its
 * user name holds none of / ? # and no whitespace, which a URL's cannot; otherwise it is
 * prose running from one URL to a later "@" ("https://wiki/x, on-call: bob@example.com").
 */
function plausibleUserInfo(userInfo: string): boolean {
  const colon = userInfo.indexOf(":");
  return colon >= 0 && !/[\s/?#]/.test(userInfo.slice(0, colon));
}

function addPassword(userInfo: string, found: string[], wide = false): void {
  const colon = userInfo.indexOf(":");
  if (colon < 0) return;
  if (wide && !plausibleUserInfo(userInfo)) return;
  const password = userInfo.slice(colon + 1);
  if (password === "") return;
  found.push(password);
  try {
    const decoded = decodeURIComponent(password);
    if (decoded !== password) found.push(decoded);
  } catch {
    // Not percent-encoded text: the raw form is enough.
  }
  // Inside a JSON string a password's " and \ are escaped; the value a program reads from
  // it (an execution's output, parsed) holds them bare.
  if (password.includes("\\")) {
    try {
      found.push(JSON.parse(`"${password}"`) as string);
    } catch {
      // Not a JSON string's text: the raw form is enough.
    }
  }
}

/**
 * Where a URL in free text can run: [start, end) between a `"` that no backslash escapes
 * (the end of a JSON string) or a line break and the next one. Inside a run a password
 * may hold spaces and any quote but `"` (which JSON text escapes). One pass.
 */
function freeTextRuns(text: string): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n" || c === "\r" || (c === '"' && !escaped)) {
      if (i > start) runs.push([start, i]);
      start = i + 1;
      escaped = false;
    } else {
      escaped = c === "\\" && !escaped;
    }
  }
  if (start < text.length) runs.push([start, text.length]);
  return runs;
}

/** True when user information holds a password: a ":" that does not begin "://". */
function holdsPassword(userInfo: string): boolean {
  return /:(?!\/\/)/.test(userInfo);
}

/**
 * Replace the user information of every URL with ****: from "://" to the last "@" before
 * the URL ends (in free text, the end of its JSON string or line; in a URL field
 * (urlField), the end of the value). Over-masks rather than under-masks:
 * "http://u:a/b@host" becomes "http://****@host", and in free text a URL with a port
 * followed on the same line by an "@" ("http://h:80/x, mail me@example.com") is masked
 * up to that "@". User information with no password and a space in it ("http://h/x, mail
 * me@example.com") is read word by word, so an e-mail address after a URL stays.
 */
export function redactUrlUserInfo(text: string, options: { urlField?: boolean } = {}): string {
  if (!text.includes("@") || (!options.urlField && !text.includes("://"))) return text;
  if (options.urlField) {
    const lastAt = text.lastIndexOf("@");
    const first = text.indexOf("://");
    // "user:password@host" without a scheme, also before a URL that has one.
    if (first < 0 || text.lastIndexOf("@", first) >= 0) return `****${text.slice(lastAt)}`;
    if (lastAt <= first) return text;
    return `${text.slice(0, first + 3)}****${text.slice(lastAt)}`;
  }
  let out = "";
  let done = 0;
  for (const [start, end] of freeTextRuns(text)) {
    const run = text.slice(start, end);
    const first = run.indexOf("://");
    const lastAt = run.lastIndexOf("@");
    if (first < 0 || lastAt < 0) continue;
    out += text.slice(done, start);
    const userInfo = run.slice(first + 3, lastAt);
    out +=
      lastAt > first &&
      NARROW_BREAK.test(userInfo) &&
      holdsPassword(userInfo) &&
      plausibleUserInfo(userInfo)
        ? `${run.slice(0, first + 3)}****${run.slice(lastAt)}`
        : run.replace(FREE_TEXT_BREAK, redactWord);
    done = end;
  }
  return out + text.slice(done);
}

/** The narrow reading: from "://" to the last "@" of the word. */
function redactWord(word: string): string {
  const lastAt = word.lastIndexOf("@");
  const first = word.indexOf("://");
  if (first < 0 || lastAt <= first) return word;
  return `${word.slice(0, first + 3)}****${word.slice(lastAt)}`;
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
