/** Writes every file derived from the field catalog (see generators.ts). */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { derivedFiles, spliceFieldTable } from "./generators.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function generate(): Promise<string[]> {
  const written: string[] = [];
  for (const [path, content] of Object.entries(derivedFiles())) {
    const target = join(ROOT, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    written.push(path);
  }
  const readme = join(ROOT, "README.md");
  const text = await readFile(readme, "utf8");
  const updated = spliceFieldTable(text);
  if (updated !== text) await writeFile(readme, updated);
  written.push("README.md (field table)");
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = await generate();
  for (const path of written) console.log(`generated ${path}`);
}
