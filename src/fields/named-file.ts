/**
 * Reading a file a person named (a fields file, an input file): at most a bounded number
 * of bytes, anything but a folder (a pipe such as /dev/stdin or <(...) works), and every
 * failure told in words rather than an errno code.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** The bytes of the file, or why there are none. */
export type BoundedRead =
  | { readonly bytes: Buffer }
  | { readonly error: string }
  | { readonly tooLarge: true };

const WORDS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a folder, not a file",
  ENOTDIR: "a part of the path is not a folder",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the path is too long",
  EMFILE: "too many open files",
  EIO: "input/output error",
};

/** Why a file could not be read, in words. */
export function fileErrorWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && WORDS[code]) return WORDS[code];
  return code ?? (error instanceof Error ? error.message : String(error));
}

/** Read at most maxBytes bytes; a file holding more is reported as too large, unread. */
export function readBounded(path: string, maxBytes: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    return { error: fileErrorWords(error) };
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { error: WORDS["EISDIR"] as string };
    if (stat.isFile() && stat.size > maxBytes) return { tooLarge: true };
    // A pipe has no size: read until the end, one byte past the bound at most.
    const chunks: Buffer[] = [];
    let length = 0;
    const chunkSize = stat.isFile() ? stat.size + 1 : 65_536;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(chunkSize, maxBytes + 1 - length));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      length += read;
      if (length > maxBytes) return { tooLarge: true };
    }
    return { bytes: Buffer.concat(chunks, length) };
  } catch (error) {
    return { error: fileErrorWords(error) };
  } finally {
    closeSync(fd);
  }
}
