/**
 * Reading a file a person named (a fields file, an input file): at most a bounded number
 * of bytes, anything but a folder (a pipe such as /dev/stdin or <(...) works), and every
 * failure told in words rather than an errno code.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { Socket } from "node:net";

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
  // Windows' sharing violation (another program holds the file open), as libuv reports it.
  EBUSY: "in use by another program",
  EROFS: "read-only file system",
};

/** Why a file could not be read, in words. */
export function fileErrorWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && WORDS[code]) return WORDS[code];
  return code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Pipes met by a read (a named pipe, /dev/stdin or `<(...)` given as a path). Opening one
 * waits until a program opens it for writing, and reading it until that program is done:
 * done synchronously, the wait would keep a cancel from being handled (a named pipe no
 * program writes to would hold the task until it is killed). So a read with `ahead` does
 * not read a pipe it has not got yet: it notes it in `pending`, for readPipe to read
 * asynchronously, and is made again with the pipe's bytes in `got`.
 */
export interface PipesAhead {
  readonly got: Map<string, BoundedRead>;
  /** Pipes met and not read yet, with the bound of each. */
  readonly pending: Map<string, number>;
}

function isPipe(path: string): boolean {
  try {
    // stat does not open the file: it never waits for a writer.
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/** Read at most maxBytes bytes; a file holding more is reported as too large, unread. */
export function readBounded(path: string, maxBytes: number, ahead?: PipesAhead): BoundedRead {
  if (ahead) {
    const got = ahead.got.get(path);
    if (got) return got;
    if (isPipe(path)) {
      ahead.pending.set(path, maxBytes);
      return { error: "not read yet" };
    }
  }
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

/**
 * Read a pipe (see PipesAhead) as readBounded reads a file, without blocking: opened with
 * O_NONBLOCK (no wait for a writer) and read through libuv's event loop as a stream, which
 * waits for a writer that has not come yet (Linux reports a named pipe readable or ended
 * only once a writer has opened it). No thread waits in a blocking call, so a cancel is
 * handled meanwhile and the process can leave with the pipe still unread.
 */
export function readPipe(path: string, maxBytes: number): Promise<BoundedRead> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return Promise.resolve({ error: fileErrorWords(error) });
  }
  return new Promise((resolve) => {
    const stream = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (read: BoundedRead) => {
      stream.destroy();
      resolve(read);
    };
    stream.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length > maxBytes) done({ tooLarge: true });
    });
    stream.on("end", () => done({ bytes: Buffer.concat(chunks, length) }));
    stream.on("error", (error) => done({ error: fileErrorWords(error) }));
  });
}
