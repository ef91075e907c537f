/**
 * The SDK's shared config-file reader imports `readFile` from node:fs/promises, the only
 * use of that module in a start; loading it also loads Node's readline and file watchers
 * (and on Node 24 the REPL's history). The build points that one import here: the same
 * read through the callback API of node:fs, which the program has loaded anyway.
 */
import { readFile as readFileWithCallback } from "node:fs";

export function readFile(path: string, encoding: BufferEncoding): Promise<string> {
  return new Promise((resolve, reject) => {
    readFileWithCallback(path, encoding, (error, text) => (error ? reject(error) : resolve(text)));
  });
}
