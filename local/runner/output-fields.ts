/**
 * Follows the output-fields file (one JSON object per line, appended by the program) so
 * each update shows while the task runs, as the controller shows output-only fields.
 */
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { setTimeout as sleep } from "node:timers/promises";

export interface OutputFieldsTail {
  /** Read what is left (a last line without newline included) and stop following. */
  stop(): Promise<void>;
}

export interface TailHandlers {
  onUpdate(fields: Record<string, unknown>): void;
  onBadLine(line: string, reason: string): void;
}

/** Follow `path` (which must exist), calling the handlers for every complete line. */
export async function tailOutputFields(
  path: string,
  handlers: TailHandlers,
  intervalMs = 50,
): Promise<OutputFieldsTail> {
  const file = await open(path, "r");
  const buffer = Buffer.alloc(64 * 1024);
  let position = 0;
  const decoder = new StringDecoder("utf8");
  let pending = "";
  let stopping = false;

  const handleLine = (line: string): void => {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      handlers.onBadLine(line, (error as Error).message);
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      handlers.onBadLine(line, "not a JSON object");
      return;
    }
    handlers.onUpdate(parsed as Record<string, unknown>);
  };

  const readAvailable = async (): Promise<void> => {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      pending += decoder.write(buffer.subarray(0, bytesRead));
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) handleLine(line);
    }
  };

  const loop = (async () => {
    while (!stopping) {
      await readAvailable();
      if (!stopping) await sleep(intervalMs);
    }
    await readAvailable();
    pending += decoder.end();
    if (pending) handleLine(pending);
    pending = "";
    await file.close();
  })();

  return {
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}
