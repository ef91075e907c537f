/**
 * `npm run build`: regenerate the derived files, bundle the program into one file that
 * needs no node_modules, and assemble the importable template package in dist/.
 */
import { readFile, rm, mkdir, writeFile, readdir, stat } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { createHash } from "node:crypto";
import { brotliCompressSync } from "node:zlib";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import yazl from "yazl";
import { generate } from "./generate.ts";
import { programComments, programFromCarrier } from "../src/code-cache.ts";
import { BUNDLE_NAME, buildEggInfo, EXTENSION_NAME, ICON_FILENAME, VERSION } from "./generators.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(ROOT, "dist");
export const BUNDLE_PATH = join(DIST, BUNDLE_NAME);
export const PACKAGE_PATH = join(DIST, `unv_tmplt_${EXTENSION_NAME}-${VERSION}.zip`);
/** The extension archive on its own, as the package carries it (for the benchmark and tests). */
export const ARCHIVE_PATH = join(DIST, "extension_archive.zip");
const LICENSES_NAME = "THIRD_PARTY_LICENSES.txt";
// Fixed timestamps keep the archives byte-for-byte reproducible.
const ZIP_MTIME = new Date("2020-01-01T00:00:00Z");

interface BundledPackage {
  name: string;
  version: string;
  license: string;
  licenseText: string | null;
}

const LAZY_SDK = /[\\/]src[\\/]aws[\\/]sdk-lazy\.ts$/;

/**
 * The SDK's HTTP handler loads `node:http` through `import()`. Left as it is, the first
 * call sets up Node's ES module loader, which on Node 22 and 24 also loads undici: about
 * 12 MiB and a third more start-up time than on Node 20. As `require()` calls, the
 * built-in modules load the way the rest of the bundle does, on every version.
 */
function requireNodeBuiltins(): Pick<esbuild.BuildOptions, "supported"> {
  return { supported: { "dynamic-import": false } };
}

/**
 * What both bundles share: one CommonJS file for Node 20, minified. Function and class
 * names are not kept: keeping them costs a call per function at load time, and nothing in
 * the program or the SDK depends on a class's own name (errors carry theirs in `name`;
 * the SDK's checks by class name are fallbacks for copies of a class from another bundle).
 */
const COMMON: esbuild.BuildOptions & { metafile: true } = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // The ES module builds of the SDK tree-shake; the CommonJS ones carry every command.
  mainFields: ["module", "main"],
  minify: true,
  keepNames: false,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  ...requireNodeBuiltins(),
};

/** Bundle the rarely needed SDK parts on their own, as CommonJS text. */
async function bundleLazySdk(): Promise<{ code: string; metafile: esbuild.Metafile }> {
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [join(ROOT, "src/aws/sdk-lazy.ts")],
    write: false,
    plugins: [packageVersions()],
  });
  return { code: result.outputFiles[0]?.text ?? "", metafile: result.metafile };
}

/**
 * Replaces the import of sdk-lazy.ts with a module that compiles the embedded text when
 * first imported: the text costs a string scan at start-up instead of a parse. The text
 * is Brotli-compressed (Base64 in the bundle): a quarter of the characters to read and
 * scan at every start, decompressed (about a millisecond) only by tasks that use it.
 */
function embedLazySdk(code: string): esbuild.Plugin {
  return {
    name: "embed-lazy-sdk",
    setup(b) {
      b.onResolve({ filter: /sdk-lazy\.ts$/ }, (args) => {
        const resolved = join(args.resolveDir, args.path);
        return LAZY_SDK.test(resolved) ? { path: "sdk-lazy", namespace: "embedded" } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: "embedded" }, () => ({
        loader: "js",
        contents: [
          'const vm = require("node:vm");',
          'const { brotliDecompressSync } = require("node:zlib");',
          `const packed = ${JSON.stringify(brotliCompressSync(code).toString("base64"))};`,
          'const source = brotliDecompressSync(Buffer.from(packed, "base64")).toString("utf8");',
          "const m = { exports: {} };",
          'vm.runInThisContext("(function (exports, require, module) {" + source + "\\n})", { filename: "ue-aws-stepfunctions-sdk.cjs" })(m.exports, require, m);',
          "module.exports = m.exports;",
        ].join("\n"),
      }));
    },
  };
}

/**
 * Points the SDK clients' default credential provider at src/aws/credential-chain.ts,
 * which loads the chain from the embedded SDK text on first use.
 */
function lazyCredentialChain(): esbuild.Plugin {
  return {
    name: "lazy-credential-chain",
    setup(b) {
      b.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) =>
        /[\\/]src[\\/]/.test(args.importer)
          ? undefined
          : { path: join(ROOT, "src/aws/credential-chain.ts") },
      );
    },
  };
}

/**
 * The SDK's protocol code imports its event-stream support with `import()` when a
 * response carries an event stream, which no Step Functions or STS operation does. Left
 * in the bundle, that boundary makes esbuild wrap the serde and schema modules it depends
 * on in lazy initialisers, which V8 parses twice at start-up (once scanned, once run).
 * Pointed at the embedded SDK text instead, it loads from there on first use.
 */
function lazyEventStreams(): esbuild.Plugin {
  return {
    name: "lazy-event-streams",
    setup(b) {
      b.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, (args) =>
        args.kind === "dynamic-import"
          ? { path: "event-streams", namespace: "lazy-event-streams" }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: "lazy-event-streams" }, () => ({
        loader: "js",
        resolveDir: join(ROOT, "src/aws"),
        contents: 'module.exports = require("./sdk-lazy.ts").eventStreams;',
      }));
    },
  };
}

/**
 * The SDK clients and src/version.ts import a package.json for its version alone; esbuild
 * would embed the whole file. They get an object with the version and nothing else.
 */
function packageVersions(): esbuild.Plugin {
  return {
    name: "package-versions",
    setup(b) {
      b.onResolve({ filter: /package\.json$/ }, (args) =>
        /[\\/](runtimeConfig\.js|src[\\/]version\.ts)$/.test(args.importer)
          ? { path: join(args.resolveDir, args.path), pluginData: { versionOnly: true } }
          : undefined,
      );
      b.onLoad({ filter: /package\.json$/ }, async (args) => {
        if (!(args.pluginData as { versionOnly?: boolean } | undefined)?.versionOnly) return;
        const { version } = JSON.parse(await readFile(args.path, "utf8")) as { version: string };
        return { loader: "json", contents: JSON.stringify({ version }) };
      });
    },
  };
}

/**
 * jsonc-parser's modules only define what they export, but its package does not say so, so
 * esbuild keeps what its formatter fills at load: about 1,200 strings of blanks that the
 * program never uses (it only parses), some 300 KiB allocated by every start.
 */
function jsoncWithoutSideEffects(): esbuild.Plugin {
  return {
    name: "jsonc-without-side-effects",
    setup(b) {
      const ours = (args: esbuild.OnResolveArgs) =>
        args.path === "jsonc-parser" ||
        (args.path.startsWith(".") && /[\\/]jsonc-parser[\\/]/.test(args.importer));
      b.onResolve({ filter: /^(jsonc-parser$|\.)/ }, async (args) => {
        if (args.pluginData === "jsonc" || !ours(args)) return undefined;
        const { path, errors } = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: "jsonc",
        });
        return errors.length ? undefined : { path, sideEffects: false };
      });
    },
  };
}

/**
 * Points the SDK's shared config-file reader at src/aws/config-file-read.ts (see there).
 * Only that importer: another import of node:fs/promises keeps the real module.
 */
function configFileRead(): esbuild.Plugin {
  return {
    name: "config-file-read",
    setup(b) {
      b.onResolve({ filter: /^node:fs\/promises$/ }, (args) =>
        /[\\/]shared-ini-file-loader[\\/]readFile\.js$/.test(args.importer)
          ? { path: join(ROOT, "src/aws/config-file-read.ts") }
          : undefined,
      );
    },
  };
}

/**
 * The SDK's UUID module reads the global `crypto`; here it sees node:crypto instead (see
 * src/aws/global-crypto.ts). Only that module: esbuild's `inject` would add a call to every
 * module of the bundle.
 */
function uuidCrypto(): esbuild.Plugin {
  const shim = JSON.stringify(join(ROOT, "src/aws/global-crypto.ts"));
  return {
    name: "uuid-crypto",
    setup(b) {
      b.onLoad({ filter: /[\\/]serde[\\/]uuid[\\/]v4\.js$/ }, async (args) => ({
        loader: "js",
        contents: `import { crypto } from ${shim};\n${await readFile(args.path, "utf8")}`,
      }));
    },
  };
}

/**
 * Bundle src/main.ts; returns the esbuild metafiles for the licence notices. The file that
 * Node runs is src/code-cache.ts with the program's code as comments in a function's body:
 * it compiles that code with V8's code cache (see there).
 */
async function bundle(): Promise<esbuild.Metafile[]> {
  const lazy = await bundleLazySdk();
  const result = await esbuild.build({
    ...COMMON,
    entryPoints: [join(ROOT, "src/main.ts")],
    write: false,
    plugins: [
      embedLazySdk(lazy.code),
      lazyCredentialChain(),
      lazyEventStreams(),
      configFileRead(),
      uuidCrypto(),
      packageVersions(),
      jsoncWithoutSideEffects(),
    ],
    // The program finds out whether it is the main module through import.meta.url.
    define: { "import.meta.url": "__bundleUrl" },
    banner: { js: 'var __bundleUrl=require("url").pathToFileURL(__filename).href;' },
  });
  const program = `(function (exports, require, module, __filename, __dirname) {${result.outputFiles[0]?.text ?? ""}\n})`;
  const start = await esbuild.build({
    ...COMMON,
    entryPoints: [join(ROOT, "src/code-cache.ts")],
    write: false,
    format: "iife",
    globalName: "__codeCache",
  });
  const key = createHash("sha256").update(program).digest("hex").slice(0, 16);
  const carrier = `function(){${programComments(program)}}`;
  // V8's own reading of the carrier must give the program back, character for character.
  if (programFromCarrier(String(new Function(`return ${carrier}`)())) !== program)
    throw new Error("the program's text does not survive its comment carrier");
  await writeFile(
    BUNDLE_PATH,
    [
      `/* ${EXTENSION_NAME} ${VERSION}. Third-party notices: ${LICENSES_NAME} */`,
      start.outputFiles[0]?.text.trim() ?? "",
      `__codeCache.runProgram({carrier:${carrier},key:${JSON.stringify(key)},filename:__filename,exports,require,module});`,
      "",
    ].join("\n"),
  );
  return [result.metafile, lazy.metafile, start.metafile];
}

/** The package root directory of a bundled input path, or null for our own sources. */
export function packageRoot(input: string): string | null {
  const parts = input.split(/[\\/]/);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return null;
  const scoped = parts[at + 1]?.startsWith("@");
  return parts.slice(0, at + (scoped ? 3 : 2)).join(sep);
}

async function findLicenseText(dir: string): Promise<string | null> {
  const entries = await readdir(dir);
  const file = entries.find((e) => /^(licen[sc]e|copying|notice)(\.(md|txt))?$/i.test(e));
  return file ? readFile(join(dir, file), "utf8") : null;
}

/** Collect name, version, licence and licence text of every package in the bundle. */
async function bundledPackages(metafiles: esbuild.Metafile[]): Promise<BundledPackage[]> {
  const roots = new Set<string>();
  for (const input of metafiles.flatMap((m) => Object.keys(m.inputs))) {
    const root = packageRoot(input);
    if (root) roots.add(root);
  }
  const packages: BundledPackage[] = [];
  for (const root of roots) {
    const dir = join(ROOT, root);
    const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      name: string;
      version: string;
      license?: string;
    };
    packages.push({
      name: manifest.name,
      version: manifest.version,
      license: manifest.license ?? "UNKNOWN",
      licenseText: await findLicenseText(dir),
    });
  }
  const unique = new Map(packages.map((p) => [`${p.name}@${p.version}`, p]));
  return [...unique.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function licenseNotices(packages: BundledPackage[]): string {
  const header =
    `${EXTENSION_NAME} ${VERSION} bundles the following third-party packages.\n` +
    `Each is listed with its version, its declared licence and the licence text it ships.\n`;
  const blocks = packages.map((p) => {
    const text =
      p.licenseText?.trim() ?? `(no licence file shipped; declared licence: ${p.license})`;
    return `${"=".repeat(78)}\n${p.name}@${p.version} (${p.license})\n${"-".repeat(78)}\n${text}\n`;
  });
  return `${header}\n${blocks.join("\n")}`;
}

async function writeZip(target: string, entries: Array<[string, Buffer]>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of entries)
    zip.addBuffer(content, name, { mtime: ZIP_MTIME, mode: 0o100644 });
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(target);
    out.on("close", resolve);
    out.on("error", reject);
    zip.outputStream.on("error", reject).pipe(out);
  });
}

async function zipBuffer(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of entries)
    zip.addBuffer(content, name, { mtime: ZIP_MTIME, mode: 0o100644 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface BuildReport {
  bundlePath: string;
  bundleBytes: number;
  packagePath: string;
  packageBytes: number;
  bundledPackages: number;
}

/** Run the whole build. */
export async function build(): Promise<BuildReport> {
  await generate();
  await rm(DIST, { recursive: true, force: true });
  await mkdir(DIST, { recursive: true });
  const metafiles = await bundle();
  // Kept for the size report and for the test that every bundled package has its notice.
  await writeFile(join(DIST, "metafile.json"), JSON.stringify(metafiles));
  const packages = await bundledPackages(metafiles);
  const notices = licenseNotices(packages);
  await writeFile(join(DIST, LICENSES_NAME), notices);

  const read = (path: string) => readFile(join(ROOT, path));
  // The layout of a real extension archive: the bridge and its metadata at the root,
  // beside the bundled program and the licence notices.
  const archive = await zipBuffer([
    ["extension.yml", await read("template/extension.yml")],
    ["extension.py", await read("src/bridge/extension.py")],
    ["__init__.py", await read("src/bridge/__init__.py")],
    [BUNDLE_NAME, await readFile(BUNDLE_PATH)],
    [LICENSES_NAME, Buffer.from(notices)],
    ["LICENSE", await read("LICENSE")],
    // What the vendor's build tool puts beside them (it builds the archive as an egg).
    ...Object.entries(buildEggInfo()).map(([name, text]): [string, Buffer] => [
      name,
      Buffer.from(text),
    ]),
  ]);
  await writeFile(ARCHIVE_PATH, archive);
  await writeZip(PACKAGE_PATH, [
    ["template.json", await read("template/template.json")],
    ["extension_archive.zip", archive],
    [ICON_FILENAME, await read(`template/${ICON_FILENAME}`)],
  ]);
  return {
    bundlePath: relative(ROOT, BUNDLE_PATH),
    bundleBytes: (await stat(BUNDLE_PATH)).size,
    packagePath: relative(ROOT, PACKAGE_PATH),
    packageBytes: (await stat(PACKAGE_PATH)).size,
    bundledPackages: packages.length,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await build();
  console.log(
    `bundle  ${report.bundlePath} ${(report.bundleBytes / 1024).toFixed(1)} KiB (${report.bundledPackages} third-party packages)\n` +
      `package ${report.packagePath} ${(report.packageBytes / 1024).toFixed(1)} KiB`,
  );
}
