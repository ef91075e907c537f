/**
 * Which Node.js runs the bundle in tests and benchmarks. The machine's Node runs the test
 * runner itself; `npm run node-versions` (run by `npm run test:node-versions`) installs Node 22
 * and 24 under local/node-versions, and TEST_NODE_VERSION=22 (or 24) makes the bundle-driving
 * suites start the bundle on that one.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

/** The versions installed beside the machine's Node, as npm aliases named node<major>. */
export const EXTRA_NODE_VERSIONS = ["22", "24"] as const;

/** Path of an installed Node binary; fails clearly when the install step did not run. */
export function installedNode(major: string): string {
  const bin = join(ROOT, "local", "node-versions", "node_modules", `node${major}`, "bin", "node");
  if (!existsSync(bin)) {
    throw new Error(
      `Node ${major} is not installed at ${bin}: run "npm run node-versions" (it installs local/node-versions)`,
    );
  }
  return bin;
}

/** The version string a Node binary reports about itself, e.g. "v22.23.3". */
export function reportedVersion(bin: string): string {
  return execFileSync(bin, ["-p", "process.version"], { encoding: "utf8" }).trim();
}

/** The major version the bundle must run on: TEST_NODE_VERSION, or the runner's own. */
export function expectedMajor(): string {
  return process.env["TEST_NODE_VERSION"] || process.versions.node.split(".")[0]!;
}

let checked: string | undefined;

/**
 * The Node binary that runs the bundle. With TEST_NODE_VERSION set, the installed binary of
 * that major version, checked once to report it: a wrong binary fails every run.
 */
export function bundleNode(): string {
  const major = process.env["TEST_NODE_VERSION"];
  if (!major) return process.execPath;
  if (checked) return checked;
  const bin = installedNode(major);
  const version = reportedVersion(bin);
  if (!version.startsWith(`v${major}.`)) {
    throw new Error(`TEST_NODE_VERSION=${major}, but ${bin} reports ${version}`);
  }
  checked = bin;
  return bin;
}
