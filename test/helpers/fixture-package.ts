/**
 * A template package for the runner's own tests: the same zip layout as the real build,
 * the product template (or a variant), the real bridge (extension.py, extension.yml,
 * __init__.py), and the contract-following TEST FIXTURE program
 * test/fixtures/contract-program.cjs in place of the bundle.
 */
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import yazl from "yazl";
import type { Template } from "../../src/fields/template-types.ts";
import { ROOT } from "./paths.ts";

import { BUNDLE_NAME } from "../../build/generators.ts";

export async function productTemplate(): Promise<Template> {
  return JSON.parse(await readFile(join(ROOT, "template/template.json"), "utf8")) as Template;
}

async function zip(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, content] of entries) z.addBuffer(content, name);
  z.end();
  const chunks: Buffer[] = [];
  for await (const chunk of z.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Write a fixture package into `dir`; returns its path. */
export async function buildFixturePackage(
  dir: string,
  template?: Template,
  omitFromArchive: readonly string[] = [],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const archive = await zip(
    [
      ["extension.yml", await readFile(join(ROOT, "template/extension.yml"))],
      ["extension.py", await readFile(join(ROOT, "src/bridge/extension.py"))],
      ["__init__.py", await readFile(join(ROOT, "src/bridge/__init__.py"))],
      [BUNDLE_NAME, await readFile(join(ROOT, "test/fixtures/contract-program.cjs"))],
    ].filter(([name]) => !omitFromArchive.includes(name as string)) as Array<[string, Buffer]>,
  );
  const target = join(dir, "unv_tmplt_contract-fixture.zip");
  const outer = await zip([
    ["template.json", Buffer.from(JSON.stringify(template ?? (await productTemplate())))],
    ["extension_archive.zip", archive],
    ["template_icon.png", await readFile(join(ROOT, "template/template_icon.png"))],
  ]);
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(target);
    out.on("close", resolve).on("error", reject);
    out.end(outer);
  });
  await writeFile(join(dir, "plan.json"), "{}");
  return target;
}
