import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { BUNDLE, ROOT, requireBuilt } from "../helpers/paths.ts";

interface Metafile {
  outputs: Record<
    string,
    {
      imports: Array<{ path: string; kind: string; external?: boolean }>;
      inputs: Record<string, { bytesInOutput: number }>;
    }
  >;
}

async function metafiles(): Promise<Metafile[]> {
  return JSON.parse(
    await readFile(requireBuilt(join(ROOT, "dist/metafile.json")), "utf8"),
  ) as Metafile[];
}

test("the bundles load no module through import(), which would start the ES module loader", async () => {
  const built = await metafiles();
  const dynamic = built.flatMap((m) =>
    Object.entries(m.outputs).flatMap(([output, o]) =>
      o.imports.filter((i) => i.kind === "dynamic-import").map((i) => `${output}: ${i.path}`),
    ),
  );
  const builtins = built.flatMap((m) =>
    Object.values(m.outputs).flatMap((o) => o.imports.map((i) => i.path)),
  );

  assert.deepEqual(dynamic, []);
  assert.ok(builtins.includes("node:http"), "node:http is loaded by require()");
});

test("the program's text in the bundle holds no comment end, so the program compiles from a slice of the bundle's text", async () => {
  const bundle = await readFile(requireBuilt(BUNDLE), "utf8");
  const start = bundle.indexOf("{carrier:function(){/*");
  const end = bundle.lastIndexOf("*/},key:");
  assert.ok(start > 0 && end > start, "the bundle carries the program as comments");
  const text = bundle.slice(start + "{carrier:function(){/*".length, end);
  assert.ok(text.length > 100_000, "the carrier holds the program");
  const at = text.indexOf("*//*");
  assert.equal(
    at,
    -1,
    `the program has a comment end: …${text.slice(Math.max(0, at - 60), at + 20)}…`,
  );
});

test("package.json files imported for their version carry the version alone", async () => {
  const bundle = await readFile(requireBuilt(BUNDLE), "utf8");
  const sdk = JSON.parse(
    await readFile(join(ROOT, "node_modules/@aws-sdk/client-sfn/package.json"), "utf8"),
  ) as { version: string; description: string };
  assert.ok(bundle.includes(`{version:"${sdk.version}"}`), "the SDK's version is in the bundle");
  assert.ok(!bundle.includes(sdk.description), "the rest of its package.json is not");
});

test("of jsonc-parser, the bundle holds the parser and not the formatter's tables filled at load", async () => {
  const inputs = (await metafiles()).flatMap((m) =>
    Object.values(m.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([path, input]) => path.includes("jsonc-parser/") && input.bytesInOutput > 0)
        .map(([path]) => path.slice(path.indexOf("jsonc-parser/"))),
    ),
  );
  assert.ok(inputs.includes("jsonc-parser/lib/esm/impl/parser.js"), inputs.join(", "));
  assert.deepEqual(
    inputs.filter((path) => /impl\/(string-intern|format|edit)\.js$/.test(path)),
    [],
  );
});
