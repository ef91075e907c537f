import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import pkg from "../../package.json" with { type: "json" };
import { parseExtensionYml } from "../../local/runner/package.ts";
import { readZip } from "../../local/zip.ts";
import { EXTENSION_YML_KEYS, realExport, yamlKeys } from "../helpers/controller-export.ts";
import { bundleNode } from "../helpers/node-versions.ts";
import { PACKAGE_ZIP, ROOT, requireBuilt } from "../helpers/paths.ts";

const run = promisify(execFile);

describe("the importable package", () => {
  let outer: Map<string, Buffer>;
  let archive: Map<string, Buffer>;
  let dir: string;

  before(async () => {
    outer = await readZip(await readFile(requireBuilt(PACKAGE_ZIP)));
    archive = await readZip(outer.get("extension_archive.zip") ?? Buffer.alloc(0));
    dir = await mkdtemp(join(tmpdir(), "ue-sfn-package-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("holds exactly the template, the extension archive and the icon", () => {
    assert.deepEqual([...outer.keys()].sort(), [
      "extension_archive.zip",
      "template.json",
      "template_icon.png",
    ]);
  });

  test("carries the committed template and icon unchanged", async () => {
    assert.deepEqual(
      outer.get("template.json"),
      await readFile(join(ROOT, "template/template.json")),
    );
    const icon = outer.get("template_icon.png");
    assert.ok(icon);
    assert.deepEqual(icon.subarray(1, 4).toString(), "PNG");
  });

  test("extension archive has a real archive's layout: the bridge at its root, the bundle, the notices", async () => {
    assert.deepEqual([...archive.keys()].sort(), [
      "EGG-INFO/PKG-INFO",
      "EGG-INFO/SOURCES.txt",
      "EGG-INFO/dependency_links.txt",
      "EGG-INFO/top_level.txt",
      "EGG-INFO/zip-safe",
      "LICENSE",
      "THIRD_PARTY_LICENSES.txt",
      "__init__.py",
      "extension.py",
      "extension.yml",
      "ue-aws-stepfunctions.cjs",
    ]);
    assert.deepEqual(
      archive.get("extension.py"),
      await readFile(join(ROOT, "src/bridge/extension.py")),
    );
    assert.deepEqual(parseExtensionYml(archive.get("extension.yml")?.toString() ?? ""), {
      name: "ue-aws-stepfunctions",
      version: pkg.version,
    });
  });

  test("EGG-INFO holds what setuptools writes for the extension's package", () => {
    const text = (name: string) => archive.get(`EGG-INFO/${name}`)?.toString("utf8");
    const pkgInfo = Object.fromEntries(
      (text("PKG-INFO") ?? "")
        .split("\n")
        .filter((line) => line.includes(": "))
        .map((line) => [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)]),
    );
    assert.equal(pkgInfo["Metadata-Version"], "2.1");
    assert.equal(pkgInfo["Name"], "ue-aws-stepfunctions");
    assert.equal(pkgInfo["Version"], pkg.version);
    assert.equal(pkgInfo["Summary"], pkg.description);
    assert.equal(text("top_level.txt"), "extension\n", "the top-level module is extension.py");
    assert.equal(text("zip-safe"), "\n");
    assert.equal(text("dependency_links.txt"), "\n");
    const sources = (text("SOURCES.txt") ?? "").trimEnd().split("\n");
    assert.deepEqual(sources, [...sources].sort(), "sorted, as setuptools writes it");
    for (const source of sources.filter((s) => !s.includes("/")))
      assert.ok(archive.has(source), `${source} is in the archive`);
    assert.deepEqual(
      sources.filter((s) => s.includes("/")),
      ["PKG-INFO", "SOURCES.txt", "dependency_links.txt", "top_level.txt"].map(
        (name) => `ue_aws_stepfunctions.egg-info/${name}`,
      ),
    );
  });

  test("extension.yml carries the keys of a real one, and nothing invented", () => {
    assert.deepEqual(yamlKeys(archive.get("extension.yml")?.toString() ?? ""), EXTENSION_YML_KEYS);
  });

  test("the recorded extension.yml keys are a real one's, where one is at hand", async (t) => {
    const found = realExport("aws-m2.extension.yml");
    if ("skip" in found) return t.skip(found.skip);
    assert.deepEqual(yamlKeys(await readFile(found.path, "utf8")), EXTENSION_YML_KEYS);
  });

  test("licence notices name every third-party package that is bundled", async () => {
    const notices = archive.get("THIRD_PARTY_LICENSES.txt")?.toString() ?? "";
    const metafiles = JSON.parse(
      await readFile(join(ROOT, "dist/metafile.json"), "utf8"),
    ) as Array<{
      inputs: Record<string, unknown>;
    }>;
    const inputs = metafiles.flatMap((m) => Object.keys(m.inputs));
    assert.ok(
      inputs.some((i) => i.includes("client-sts")),
      "the embedded SDK part is counted",
    );
    // Each package's folder, read from the input paths here rather than with the build's own
    // packageRoot, which a notice file missing every package would otherwise agree with.
    const roots = new Set(
      inputs.flatMap((input) => {
        const at = input.lastIndexOf("node_modules/");
        if (at < 0) return [];
        const [scope = "", name = ""] = input.slice(at + "node_modules/".length).split("/");
        return [
          input.slice(0, at) +
            join("node_modules", scope.startsWith("@") ? join(scope, name) : scope),
        ];
      }),
    );
    assert.ok(roots.size >= 10, `${roots.size} bundled packages: ${[...roots].join(", ")}`);
    for (const root of roots) {
      const manifest = JSON.parse(await readFile(join(ROOT, root, "package.json"), "utf8"));
      const line = `${manifest.name}@${manifest.version} (`;
      assert.ok(notices.includes(line), `no notice for ${manifest.name}@${manifest.version}`);
    }
  });

  test("the bundled program runs from a folder with no node_modules", async () => {
    const bundle = join(dir, "ue-aws-stepfunctions.cjs");
    await writeFile(bundle, archive.get("ue-aws-stepfunctions.cjs") ?? "");
    const { stdout } = await run(bundleNode(), [bundle, "--version"], { cwd: dir });
    assert.equal(stdout.trim(), `ue-aws-stepfunctions ${pkg.version}`);
  });
});
