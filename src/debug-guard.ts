/**
 * Debug switches that would print credentials, made harmless before any request is made.
 *
 * - NODE_DEBUG: Node's own sections for networking (http, https, net, tls ...) print
 *   request headers, x-amz-security-token and Proxy-Authorization among them. Node reads
 *   the variable once at start-up, so nothing done later can silence it: the task is
 *   refused (exit 20) before any request, naming the sections to remove.
 * - DEBUG: the `debug` module of the bundled proxy agents prints whole requests sent to a
 *   proxy, with the session token and Proxy-Authorization. Its output is switched off
 *   through its own API when the agents load (src/aws/proxy-agents.ts), so a start without
 *   a proxy does not load it; UE_DEBUG=true gives the program's own (masked) debug log.
 */
import type { FieldProblem } from "./errors.ts";

/** Node's debug sections that print what goes over the network or to child processes. */
const SECRET_SECTIONS = [
  "http",
  "http2",
  "https",
  "net",
  "tls",
  "fetch",
  "undici",
  "stream",
  "child_process",
  "dns",
  "worker",
];

/** How Node matches a NODE_DEBUG entry against a section: case-insensitive, * as a wildcard. */
function entryMatches(entry: string, section: string): boolean {
  const pattern = entry.replace(/[|\\{}()[\]^$+?.]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${pattern}$`, "i").test(section);
}

/** Split NODE_DEBUG into the entries that may stay and those that would print secrets. */
export function splitNodeDebug(value: string): { kept: string[]; dropped: string[] } {
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    if (SECRET_SECTIONS.some((section) => entryMatches(entry, section))) dropped.push(entry);
    else kept.push(entry);
  }
  return { kept, dropped };
}

/**
 * The problem with NODE_DEBUG when it names a section that prints secrets. Node reads the
 * variable once when it starts, so the program cannot silence those sections; starting
 * itself again would print the whole environment under the child_process section. The
 * task is refused before any request, with the sections to remove.
 */
export function nodeDebugProblem(env: NodeJS.ProcessEnv): FieldProblem | null {
  const value = env["NODE_DEBUG"];
  if (!value) return null;
  const { kept, dropped } = splitNodeDebug(value);
  if (dropped.length === 0) return null;
  const rest = kept.length > 0 ? `NODE_DEBUG=${kept.join(",")}` : "no NODE_DEBUG";
  return {
    field: "NODE_DEBUG",
    label: "NODE_DEBUG",
    message: `names ${dropped.join(", ")}: Node would print request headers with credentials on standard error (it reads NODE_DEBUG at start-up, so the program cannot turn them off); run with ${rest}, or UE_DEBUG=true for this program's own debug log`,
  };
}

/**
 * UE_DEBUG turns on the program's own debug log with `true` exactly (src/log.ts); `false`,
 * empty or unset leave it off. Any other value (`1`, `TRUE`, `yes`) leaves it off too, with
 * a warning that says so: a diagnostic switch never fails a task, and an operator who asked
 * for the debug log learns why there is none.
 */
export function debugLogNotice(env: NodeJS.ProcessEnv): string | null {
  const value = env["UE_DEBUG"];
  if (value === undefined || ["", "true", "false"].includes(value)) return null;
  const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  return `UE_DEBUG is ${JSON.stringify(shown)}, neither true nor false: the debug log stays off (UE_DEBUG=true turns it on)`;
}

/**
 * Whether DEBUG asks for the bundled `debug` module's output, which always stays off
 * (src/aws/proxy-agents.ts), so the caller can say so.
 */
export function thirdPartyDebugRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env["DEBUG"];
}
