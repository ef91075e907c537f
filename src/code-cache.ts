/**
 * The start of the bundle: compiles the program's code with V8's code cache, kept per user
 * and per Node version, so that later starts skip most of the parsing and compiling (Node's
 * own compile cache cannot do it for a single-file program: Node has compiled the file
 * before its first line runs; the program is therefore text in this file, as comments in a
 * function never called (see programComments()), compiled here).
 *
 * The cache is only ever a speed-up: a folder that is missing, not private to this user,
 * unwritable, or a file that is stale, corrupt, refused by V8 or not a regular file (a
 * named pipe, which is never waited on) costs its gain and nothing else. No warning:
 * NODE_DEBUG=ue-code-cache prints what happened, on standard error.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { debuglog } from "node:util";
import { Script } from "node:vm";
import { offerCodeCacheWrite } from "./code-cache-write.ts";

/** The switch: `off` (or 0, false, no) runs without the cache; a folder path puts it there. */
export const CACHE_SWITCH = "UE_CODE_CACHE";
/** The folder's name under the cache root. */
export const CACHE_FOLDER = "ue-aws-stepfunctions";
const MAGIC = Buffer.from("UESFNCC1");
const DIGEST_BYTES = 32;
const HEADER_BYTES = MAGIC.length + DIGEST_BYTES;
/** A cache file is a few hundred KiB; anything far larger is not ours. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;

const debug = debuglog("ue-code-cache");

export interface CacheLocation {
  /** The folder, private to this user. */
  dir: string;
  /**
   * A folder that must exist already: the cache's folders are made inside it, never it (a
   * home folder that does not exist is not created, not even by root).
   */
  within?: string;
  /** Where the cache lives instead when `within` is not a folder. */
  otherwise?: CacheLocation;
}

/**
 * Where the cache lives, or null when it is switched off: UE_CODE_CACHE when it names a
 * folder, else a folder inside NODE_COMPILE_CACHE (set by the bridge to its own private
 * folder), XDG_CACHE_HOME or ~/.cache, else (also when HOME names no folder, as a service
 * account's /nonexistent) the temporary folder with the user id in the name. Only absolute
 * paths count.
 */
export function cacheLocation(
  env: NodeJS.ProcessEnv,
  uid: number | null,
  temp: string,
): CacheLocation | null {
  const setting = env[CACHE_SWITCH]?.trim() ?? "";
  if (/^(off|0|false|no)$/i.test(setting)) return null;
  if (env["NODE_DISABLE_COMPILE_CACHE"] && setting === "") return null;
  if (isAbsolute(setting)) return { dir: setting };
  for (const base of [env["NODE_COMPILE_CACHE"], env["XDG_CACHE_HOME"]]) {
    if (base && isAbsolute(base)) return { dir: join(base, CACHE_FOLDER) };
  }
  // A relative TMPDIR too would name a folder of the working directory.
  const inTemp =
    uid === null || !isAbsolute(temp) ? null : { dir: join(temp, `${CACHE_FOLDER}-${uid}`) };
  const home = env["HOME"];
  if (home && isAbsolute(home)) {
    const dir = join(home, ".cache", CACHE_FOLDER);
    return { dir, within: home, ...(inTemp ? { otherwise: inTemp } : {}) };
  }
  return inTemp;
}

/** The cache file of one build of the program on one Node version and architecture. */
export function cacheFileName(key: string, nodeVersion: string, arch: string): string {
  return `${key}-node${nodeVersion.replace(/^v/, "")}-${arch}.v8`;
}

/**
 * Why a folder must not hold the cache, or null when it may: it must be a real folder
 * (not a link), owned by this user, and neither group nor others may read or write it.
 */
export function folderProblem(
  stats: { isDirectory(): boolean; uid: number; mode: number },
  uid: number | null,
): string | null {
  if (!stats.isDirectory()) return "not a folder";
  if (uid !== null && stats.uid !== uid) return `owned by user ${stats.uid}, not ${uid}`;
  if (uid !== null && (stats.mode & 0o077) !== 0)
    return `open to group or others (mode ${(stats.mode & 0o777).toString(8)})`;
  return null;
}

/** The folder, made if missing; null when it cannot be used. */
function privateFolder(location: CacheLocation, uid: number | null): string | null {
  const { dir, within } = location;
  if (within !== undefined) {
    let there = false;
    try {
      there = statSync(within).isDirectory();
    } catch {
      // Missing or unreadable: not ours to create.
    }
    if (!there) {
      debug("not using %s: %s is not a folder", dir, within);
      return location.otherwise ? privateFolder(location.otherwise, uid) : null;
    }
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    debug("cannot create %s: %s", dir, (error as NodeJS.ErrnoException).code);
    return null;
  }
  let problem: string | null;
  try {
    problem = folderProblem(lstatSync(dir), uid);
  } catch (error) {
    problem = (error as NodeJS.ErrnoException).code ?? "unreadable";
  }
  if (problem) {
    debug("not using %s: %s", dir, problem);
    return null;
  }
  return dir;
}

/** The payload of a cache file written by this program, or null (missing, foreign, corrupt). */
export function readCacheFile(file: string, uid: number | null): Buffer | null {
  let fd: number;
  try {
    // O_NONBLOCK: a named pipe in the file's place opens at once rather than waiting for a
    // writer (for ever, in a call that not even SIGTERM interrupts); fstat refuses it below.
    fd = openSync(
      file,
      constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0),
    );
  } catch (error) {
    debug("no cache %s: %s", file, (error as NodeJS.ErrnoException).code);
    return null;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || (uid !== null && stats.uid !== uid) || stats.size > MAX_FILE_BYTES) {
      debug("not using %s: not a regular file of this user within %d bytes", file, MAX_FILE_BYTES);
      return null;
    }
    const data = bufferOutsideMalloc(stats.size);
    let read = 0;
    while (read < data.length) {
      const n = readSync(fd, data, read, data.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return unpack(data.subarray(0, read));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * A zeroed buffer whose memory V8 maps for itself (a resizable ArrayBuffer) rather than
 * taking it from malloc, so that it goes back to the system when it is collected. Node has
 * read the bundle (half a MiB) through a buffer that grew by doubling, and glibc, on
 * freeing it, raised its threshold for mapping blocks of their own to about 1 MiB: a cache
 * buffer from malloc would then come from the heap, which keeps it once freed, in every
 * task for as long as it waits (unless MALLOC_MMAP_THRESHOLD_ is set, as the bridge does).
 * Where V8 cannot map it (a limit on address space), malloc's buffer serves as before.
 */
export function bufferOutsideMalloc(
  size: number,
  map: (size: number) => ArrayBuffer = (n) =>
    new (ArrayBuffer as ResizableArrayBufferConstructor)(n, { maxByteLength: n }),
): Buffer {
  try {
    return Buffer.from(map(size), 0, size);
  } catch {
    return Buffer.alloc(size);
  }
}

/** ES2024's resizable ArrayBuffer, which this TypeScript library does not declare yet. */
type ResizableArrayBufferConstructor = new (
  size: number,
  options: { maxByteLength: number },
) => ArrayBuffer;

/**
 * Gives the memory of a buffer from bufferOutsideMalloc() back to the system now, by
 * shrinking it to nothing (V8 discards the pages), rather than whenever a collection finds
 * it unused; any other buffer is left as it is. The buffer is empty afterwards. Says
 * whether the memory was given back.
 */
export function releaseMapped(buffer: Buffer): boolean {
  const memory = buffer.buffer as ArrayBuffer & {
    resizable?: boolean;
    resize?: (length: number) => void;
  };
  if (memory.resizable !== true || typeof memory.resize !== "function") return false;
  memory.resize(0);
  return true;
}

/**
 * The payload of a cache file, checked against its digest: V8 checks its own version and
 * the source's length, not the bytes in between (release builds skip their checksum).
 */
export function unpack(data: Buffer): Buffer | null {
  if (data.length <= HEADER_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const payload = data.subarray(HEADER_BYTES);
  const digest = createHash("sha256").update(payload).digest();
  return digest.equals(data.subarray(MAGIC.length, HEADER_BYTES)) ? payload : null;
}

export function pack(payload: Buffer): Buffer {
  return Buffer.concat([MAGIC, createHash("sha256").update(payload).digest(), payload]);
}

/** Writes the cache file atomically, owner-only, and removes this program's older files. */
function writeCacheFile(dir: string, name: string, payload: Buffer): void {
  const file = join(dir, name);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, pack(payload), { mode: 0o600, flag: "wx" });
    renameSync(temp, file);
    debug("wrote %s (%d bytes)", file, payload.length);
  } catch (error) {
    debug("cannot write %s: %s", file, (error as NodeJS.ErrnoException).code);
    try {
      unlinkSync(temp);
    } catch {
      // Not created.
    }
    return;
  }
  // Other builds' files for this Node version and architecture are stale from now on.
  const suffix = name.slice(name.indexOf("-node"));
  try {
    for (const other of readdirSync(dir)) {
      if (other !== name && other.endsWith(suffix)) unlinkSync(join(dir, other));
    }
  } catch {
    // Cleaning up is a courtesy.
  }
}

/**
 * The program's text as comments: the build puts it in the body of a function that is never
 * called, and the program's text is read back from that function's text. Compiling the
 * bundle then skips the comments, where a string literal of the same text costs a scan of
 * every character and a copy in the parser's memory (about half a MiB at the peak).
 * The text may contain the comment's end, so each end is followed by the start of a new
 * comment: "*" + "/" becomes "*" + "//" + "*".
 */
export function programComments(source: string): string {
  return `/*${source.replaceAll("*/", "*//*")}*/`;
}

/** The program's text from the text of the function whose body programComments() made. */
export function programFromCarrier(carrierText: string): string {
  const start = carrierText.indexOf("/*");
  const end = carrierText.lastIndexOf("*/");
  return carrierText
    .slice(start + 2, end)
    .split("*//*")
    .join("*/");
}

export interface Program {
  /**
   * A function whose body is the program's CommonJS code as comments (programComments());
   * the code is wrapped in a function of (exports, require, module, __filename, __dirname).
   */
  carrier: () => void;
  /** Names this build of the program (a digest of its code). */
  key: string;
  filename: string;
  exports: unknown;
  require: NodeJS.Require;
  module: unknown;
}

/** Compiles and runs the program, with the code cache when one can be used. */
export function runProgram(program: Program): void {
  const uid = typeof process.getuid === "function" ? process.getuid() : null;
  const location = cacheLocation(process.env, uid, tmpdir());
  const dir = location ? privateFolder(location, uid) : null;
  const name = cacheFileName(program.key, process.version, process.arch);
  const cached = dir ? readCacheFile(join(dir, name), uid) : null;
  const script = new Script(programFromCarrier(program.carrier.toString()), {
    filename: program.filename,
    ...(cached ? { cachedData: cached } : {}),
  });
  if (cached) {
    if (script.cachedDataRejected) debug("V8 refused %s", name);
    // V8 has taken what it needs from the bytes.
    const size = cached.byteLength;
    if (releaseMapped(cached)) debug("gave the cache's %d bytes back", size);
  }
  // --version and --help compile a sliver of the program: a task's run writes the cache.
  const task = !process.argv.slice(2).some((a) => a === "--version" || a === "--help");
  if (dir && task && (!cached || script.cachedDataRejected)) {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      try {
        writeCacheFile(dir, name, script.createCachedData());
      } catch (error) {
        debug("no cache written: %s", (error as Error).message);
      }
    };
    // At exit, the cache also holds the functions this run compiled on first call. A task
    // that waits writes it as its wait begins (writeCodeCacheNow()), so that the tasks
    // started meanwhile do not each go without it for as long as it waits.
    process.once("exit", write);
    offerCodeCacheWrite(write);
  }
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(
    program.exports,
    program.require,
    program.module,
    program.filename,
    dirname(program.filename),
  );
}
