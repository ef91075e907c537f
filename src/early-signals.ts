/**
 * Cancel signals that arrive while the bundle is still loading. Imported first by the
 * entry point, so its listeners are in place before the rest of the bundle is evaluated:
 * a SIGTERM in the first tens of milliseconds would otherwise end the process with status
 * 143 and no extension output. The entry point takes the queued signals over once its own
 * handlers are ready. Only the process started as the program listens (not a test that
 * imports the entry point).
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * SIGBREAK is a console break on Windows (what the bridge sends there); without a listener
 * it ends Node at once, with no document. Elsewhere it is never raised.
 */
export const CANCEL_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK"] as const;

const pending: NodeJS.Signals[] = [];
const record = (name: NodeJS.Signals) => {
  pending.push(name);
};

/** Whether the module at `moduleUrl` is the script this process was started with. */
export function startedAs(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(script);
  } catch {
    return false;
  }
}

if (startedAs(import.meta.url)) for (const name of CANCEL_SIGNALS) process.on(name, record);

/** Stop queueing and hand over the signals received so far, oldest first. */
export function takeEarlySignals(): NodeJS.Signals[] {
  for (const name of CANCEL_SIGNALS) process.off(name, record);
  return pending.splice(0);
}
