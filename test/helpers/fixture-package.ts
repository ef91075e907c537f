/**
 * A template package for the runner's own tests: the same zip layout as the real build,
 * the product template (or a variant), and the contract-following TEST FIXTURE program
 * test/fixtures/contract-program.cjs in place of the bundle.
 */
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import yazl from "yazl";
import type { Template } from "../../src/fields/template-types.ts";
import { ROOT } from "./paths.ts";

export const FIXTURE_ENTRYPOINT = "contract-fixture.cjs";

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
export async function buildFixturePackage(dir: string, template?: Template): Promise<string> {
  await mkdir(dir, { recursive: true });
  const meta = JSON.parse(await readFile(join(ROOT, "template/extension.json"), "utf8"));
  meta.extension.entrypoint = FIXTURE_ENTRYPOINT;
  const archive = await zip([
    [FIXTURE_ENTRYPOINT, await readFile(join(ROOT, "test/fixtures/contract-program.cjs"))],
    ["extension.json", Buffer.from(JSON.stringify(meta))],
  ]);
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
