/**
 * Loads a built template package the way the controller imports it: the outer zip holds
 * template.json, the icon and extension_archive.zip; the archive is unpacked into a
 * working folder and extension.json names the program to start.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, normalize, sep } from "node:path";
import type { Template } from "../../src/fields/template-types.ts";
import { readZip } from "../zip.ts";

export interface ExtensionMetadata {
  extension: { name: string; version: string; template?: string; entrypoint: string };
  [key: string]: unknown;
}

export interface LoadedPackage {
  readonly zipPath: string;
  readonly template: Template;
  readonly extension: ExtensionMetadata;
  /** Folder the extension archive was unpacked into. */
  readonly dir: string;
  /** Absolute path of the program to run with `node`. */
  readonly programPath: string;
  /** Remove the unpacked files. */
  close(): Promise<void>;
}

/** Load and unpack a template package zip. */
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
  const metaBytes = archive.get("extension.json");
  if (!metaBytes) throw new Error(`${zipPath}: extension_archive.zip holds no extension.json`);
  const extension = JSON.parse(metaBytes.toString("utf8")) as ExtensionMetadata;
  const entrypoint = extension.extension?.entrypoint;
  if (!entrypoint || !archive.has(entrypoint)) {
    throw new Error(
      `${zipPath}: extension.json names entrypoint ${String(entrypoint)}, which the archive lacks`,
    );
  }
  if (extension.extension.name !== template.extension) {
    throw new Error(
      `${zipPath}: template is for extension ${template.extension}, archive holds ${extension.extension.name}`,
    );
  }

  await mkdir(parentDir, { recursive: true });
  const dir = await mkdtemp(join(parentDir, "ue-package-"));
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
    dir,
    programPath: join(dir, entrypoint),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
