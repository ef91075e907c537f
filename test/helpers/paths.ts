/** Where the built artefacts are; npm test builds before the suites run. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pkg from "../../package.json" with { type: "json" };

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BUNDLE = join(ROOT, "dist", "ue-aws-stepfunctions.cjs");
export const PACKAGE_ZIP = join(ROOT, "dist", `unv_tmplt_ue-aws-stepfunctions-${pkg.version}.zip`);

/** Fail with a clear message when the build has not run. */
export function requireBuilt(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" first`);
  return path;
}
