/** Writes every file derived from the field catalog (see generators.ts). */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BRIDGE_PATH,
  derivedFiles,
  FIELD_TABLE_PATH,
  ICON_FILENAME,
  type IconFacts,
  spliceBridgeConstants,
  spliceFieldTable,
} from "./generators.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What the template records about the committed icon. */
export async function iconFacts(root: string = ROOT): Promise<IconFacts> {
  return { size: (await stat(join(root, "template", ICON_FILENAME))).size };
}

export async function generate(): Promise<string[]> {
  const written: string[] = [];
  for (const [path, content] of Object.entries(derivedFiles(await iconFacts()))) {
    const target = join(ROOT, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    written.push(path);
  }
  const splices: Array<[string, (text: string) => string, string]> = [
    [FIELD_TABLE_PATH, spliceFieldTable, `${FIELD_TABLE_PATH} (field table)`],
    [BRIDGE_PATH, spliceBridgeConstants, `${BRIDGE_PATH} (catalog constants)`],
  ];
  for (const [path, splice, label] of splices) {
    const file = join(ROOT, path);
    const text = await readFile(file, "utf8");
    const updated = splice(text);
    if (updated !== text) await writeFile(file, updated);
    written.push(label);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = await generate();
  for (const path of written) console.log(`generated ${path}`);
}
