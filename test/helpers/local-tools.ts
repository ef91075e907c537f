/** Runs the project's local tools (runner, endpoint, demo) as their users do: a child process under tsx. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { cleanEnv } from "./bundle.ts";
import { ROOT } from "./paths.ts";

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `local/<script>` with `args` to its end; never rejects (a failed run is a result). */
export function runTool(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "local", script), ...args],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The lines of a stack trace, which no expected outcome of a tool should print. */
export function stackLines(text: string): string[] {
  return text.split("\n").filter((line) => /^\s+at /.test(line));
}
