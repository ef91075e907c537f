/**
 * The cancel that needs no console. The bridge asks the program to stop with a signal,
 * which on Windows is a console break; where the agent runs as a service, its Python has
 * no console and the break cannot be sent. With UE_CANCEL_ON_STDIN=1 (the bridge sets it)
 * the program also reads its standard input, and a line "cancel" counts as a cancel signal.
 * Any other line, and the end of the input, is ignored: the input may be closed at any
 * time. Without the variable standard input is never read.
 */
import type { FieldProblem } from "./errors.ts";
import { switchOn, switchProblem } from "./config/switch.ts";

export const CANCEL_ON_STDIN = "UE_CANCEL_ON_STDIN";
/** The line that cancels (whitespace around it, a carriage return too, does not count). */
export const CANCEL_LINE = "cancel";
/** The longest unfinished line kept: a longer one cannot be "cancel". */
const LONGEST_LINE = 256;

/** Whether the environment turns the channel on: UE_CANCEL_ON_STDIN=1. */
export function cancelOnStdin(env: Readonly<Record<string, string | undefined>>): boolean {
  return switchOn(env, CANCEL_ON_STDIN);
}

/** A value other than 1, 0 or empty is refused, naming the variable (never a silent off). */
export function cancelOnStdinProblem(
  env: Readonly<Record<string, string | undefined>>,
): FieldProblem | undefined {
  return switchProblem(env, CANCEL_ON_STDIN, 'a line "cancel" on standard input cancels');
}

/** A feed for the input's text, in chunks as they come, calling onCancel at each "cancel" line. */
export function cancelLines(onCancel: () => void): (chunk: string) => void {
  let pending = "";
  /** The start of the pending line was dropped: it was too long to be "cancel". */
  let dropped = false;
  return (chunk) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!dropped && line.trim() === CANCEL_LINE) onCancel();
      dropped = false;
    }
    if (pending.length > LONGEST_LINE) {
      pending = "";
      dropped = true;
    }
  };
}

/**
 * Read the input for "cancel" lines. The reading never keeps the process alive, and a
 * closed or failing input only ends the channel.
 */
export function listenForCancelLines(input: NodeJS.ReadableStream, onCancel: () => void): void {
  input.setEncoding("utf8");
  input.on("data", cancelLines(onCancel));
  input.on("error", () => {});
  // The program leaves through process.exit() once its document is written, so the reading
  // never holds it; the unref is for the rest (a pipe or a terminal: a socket underneath;
  // a file ends by itself; Windows may not honour it, nodejs/node#22999).
  (input as { unref?: () => void }).unref?.();
}
