import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, requireBuilt } from "../helpers/paths.ts";

interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }> }>;
}

test("the bundles load no module through import(), which would start the ES module loader", async () => {
  const metafiles = JSON.parse(
    await readFile(requireBuilt(join(ROOT, "dist/metafile.json")), "utf8"),
  ) as Metafile[];

  const dynamic = metafiles.flatMap((m) =>
    Object.entries(m.outputs).flatMap(([output, o]) =>
      o.imports.filter((i) => i.kind === "dynamic-import").map((i) => `${output}: ${i.path}`),
    ),
  );
  const builtins = metafiles.flatMap((m) =>
    Object.values(m.outputs).flatMap((o) => o.imports.map((i) => i.path)),
  );

  assert.deepEqual(dynamic, []);
  assert.ok(builtins.includes("node:http"), "node:http is loaded by require()");
});
