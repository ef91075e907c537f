/** Human-readable log on standard error: timestamp, level, message; secrets masked. */
import { mask, redactUrl } from "./secrets.ts";

export type Level = "INFO" | "WARN" | "ERROR" | "DEBUG";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/** A logger writing to the given stream (stderr by default). */
export function createLogger(
  write: (line: string) => void = (line) => process.stderr.write(line),
  debugEnabled = process.env["UE_DEBUG"] === "true",
): Logger {
  const emit = (level: Level, message: string) => {
    const text = redactUrl(mask(message)).replace(/\r?\n/g, "\n    ");
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${text}\n`);
  };
  return {
    info: (m) => emit("INFO", m),
    warn: (m) => emit("WARN", m),
    error: (m) => emit("ERROR", m),
    debug: (m) => {
      if (debugEnabled) emit("DEBUG", m);
    },
  };
}
