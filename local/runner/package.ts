/**
 * Loads a built template package the way the controller imports it: the outer zip holds
 * template.json, the icon and extension_archive.zip; the archive holds extension.yml,
 * extension.py and __init__.py at its root (the agent runs extension.py), beside the
 * bundled program. The archive is kept as a zip (the agent may import from inside it) and
 * can also be unpacked into a folder.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, normalize, sep } from "node:path";
import type { Template } from "../../src/fields/template-types.ts";
import { readZip } from "../zip.ts";

/** The parts of extension.yml the runner checks. */
export interface ExtensionMetadata {
  readonly name: string;
  readonly version: string;
}

export interface LoadedPackage {
  readonly zipPath: string;
  readonly template: Template;
  readonly extension: ExtensionMetadata;
  /** extension_archive.zip, written out as the agent receives it. */
  readonly archivePath: string;
  /** The same archive unpacked into a folder. */
  readonly dir: string;
  /** Remove the files written. */
  close(): Promise<void>;
}

const REQUIRED_ENTRIES = ["extension.yml", "extension.py", "__init__.py"];

/** Read `name` and `version` under `extension:` of an extension.yml (flat two-level YAML). */
export function parseExtensionYml(text: string): ExtensionMetadata {
  const block = /^extension:\s*\n((?:[ \t]+.*\n?)*)/m.exec(text)?.[1] ?? "";
  const value = (key: string): string => {
    const raw = new RegExp(`^[ \\t]+${key}:[ \\t]*(.+)$`, "m").exec(block)?.[1]?.trim() ?? "";
    return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  };
  return { name: value("name"), version: value("version") };
}

/** Load a template package zip and write its extension archive out. */
export async function loadPackage(
  zipPath: string,
  parentDir: string = tmpdir(),
): Promise<LoadedPackage> {
  const outer = await readZip(await readFile(zipPath));
  const templateBytes = outer.get("template.json");
  const archiveBytes = outer.get("extension_archive.zip");
  if (!templateBytes) throw new Error(`${zipPath} holds no template.json: not a template package`);
  if (!archiveBytes)
    throw new Error(`${zipPath} holds no extension_archive.zip: not an extension package`);
  const template = JSON.parse(templateBytes.toString("utf8")) as Template;
  if (template.templateType !== "Extension" || !Array.isArray(template.fields)) {
    throw new Error(`${zipPath}: template.json is not an Extension template export`);
  }

  const archive = await readZip(archiveBytes);
  const missing = REQUIRED_ENTRIES.filter((name) => !archive.has(name));
  if (missing.length > 0) {
    throw new Error(`${zipPath}: extension_archive.zip lacks ${missing.join(", ")} at its root`);
  }
  const extension = parseExtensionYml(archive.get("extension.yml")?.toString("utf8") ?? "");
  if (extension.name !== template.extension) {
    throw new Error(
      `${zipPath}: template is for extension ${template.extension}, archive holds ${extension.name}`,
    );
  }

  await mkdir(parentDir, { recursive: true });
  const root = await mkdtemp(join(parentDir, "ue-package-"));
  const archivePath = join(root, "extension_archive.zip");
  await writeFile(archivePath, archiveBytes);
  const dir = join(root, "extension");
  for (const [name, content] of archive) {
    const target = normalize(join(dir, name));
    // An entry that climbs out of the folder is refused rather than written.
    if (!target.startsWith(dir + sep))
      throw new Error(`${zipPath}: archive entry ${name} escapes its folder`);
    if (name.endsWith("/")) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return {
    zipPath,
    template,
    extension,
    archivePath,
    dir,
    close: () => rm(root, { recursive: true, force: true }),
  };
}
