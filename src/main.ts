/**
 * Entry point of the bundled program. Wires the stages together; importable so tests can
 * call run() in-process as well as run the bundle.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { INPUT_FIELDS } from "./fields/catalog.ts";
import { VERSION } from "./version.ts";

export interface RunOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
}

/** Run the program and resolve to its exit code. */
export async function run(options: RunOptions): Promise<number> {
  const { argv } = options;
  if (argv.includes("--version")) {
    process.stdout.write(`ue-aws-stepfunctions ${VERSION}\n`);
    return 0;
  }
  if (argv.includes("--help")) {
    const flags = INPUT_FIELDS.map((f) => `  --${f.name.replaceAll("_", "-")}  ${f.label}`);
    process.stdout.write(`usage: ue-aws-stepfunctions [flags]\n${flags.join("\n")}\n`);
    return 0;
  }
  process.stderr.write("ue-aws-stepfunctions: no action implemented yet\n");
  return 1;
}

function isMain(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(fileURLToPath(import.meta.url)) === realpathSync(script);
  } catch {
    return false;
  }
}

if (isMain()) {
  run({ argv: process.argv.slice(2), env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`ue-aws-stepfunctions: unexpected error: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
