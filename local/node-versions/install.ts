/**
 * Installs the further Node.js versions the bundle is tested on (this folder's
 * package.json: Node 22 and 24, about 370 MB) when they are absent or not the locked ones.
 * Only the tests and benchmarks use them, so a plain `npm ci` does not download them;
 * `npm run test:node-versions` (part of `npm test`) runs this first.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const DIR = dirname(fileURLToPath(import.meta.url));

type LockEntry = { version?: string; os?: string; cpu?: string };

/** The npm aliases this folder installs (node22, node24) with their locked entries. */
function locked(): Map<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(DIR, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const entries = new Map<string, LockEntry>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const alias = /^node_modules\/(node\d+)$/.exec(path)?.[1];
    if (alias) entries.set(alias, entry);
  }
  return entries;
}

/** The version of an installed alias, or undefined when it is not installed. */
function installedVersion(alias: string): string | undefined {
  try {
    const manifest = readFileSync(join(DIR, "node_modules", alias, "package.json"), "utf8");
    return (JSON.parse(manifest) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The aliases that are missing or differ from the lock file. */
function missingVersions(): string[] {
  return [...locked()]
    .filter(([alias, entry]) => installedVersion(alias) !== entry.version)
    .map(([alias]) => alias);
}

/** Install when needed; returns the exit code (0 when nothing was needed or it worked). */
function ensureNodeVersions(): number {
  const missing = missingVersions();
  if (missing.length === 0) return 0;
  const platform = `${process.platform}-${process.arch}`;
  const foreign = [...locked()].filter(
    ([, e]) => (e.os && e.os !== process.platform) || (e.cpu && e.cpu !== process.arch),
  );
  if (foreign.length > 0) {
    console.error(
      `local/node-versions holds Linux x64 builds of Node.js; this machine is ${platform}. ` +
        "Run the suites on this machine's Node with npm run test:only.",
    );
    return 1;
  }
  console.error(
    `Installing ${missing.join(", ")} into local/node-versions for the tests (once; about 370 MB)`,
  );
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--prefix", DIR, "--no-audit", "--no-fund"], {
    stdio: "inherit",
  });
  if (result.error) {
    console.error(`npm ci --prefix local/node-versions failed: ${result.error.message}`);
    return 1;
  }
  if (result.status !== 0) return result.status ?? 1;
  const still = missingVersions();
  if (still.length > 0) {
    console.error(`npm ci --prefix local/node-versions did not install ${still.join(", ")}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = ensureNodeVersions();
}
