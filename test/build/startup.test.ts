/**
 * What a start loads: the parts a task does not use stay out of the process. Read from the
 * build's metafile and from the Node modules a real run of the bundle loaded.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { runBundle } from "../helpers/bundle.ts";
import { ROOT, requireBuilt } from "../helpers/paths.ts";
import { startTestProxy, type TestProxy } from "../helpers/proxies.ts";

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

test("the SDK's event-stream support is in the embedded SDK text, not in the bundle's code", async () => {
  const metafiles = JSON.parse(
    await readFile(requireBuilt(join(ROOT, "dist/metafile.json")), "utf8"),
  ) as Metafile[];
  const inputsOf = (m: Metafile | undefined) =>
    Object.values(m?.outputs ?? {}).flatMap((o) => Object.keys(o.inputs));
  const eventStreams = (path: string) => /[\\/]submodules[\\/]event-streams[\\/]/.test(path);
  assert.deepEqual(inputsOf(metafiles[0]).filter(eventStreams), []);
  assert.ok(inputsOf(metafiles[1]).some(eventStreams), "the embedded SDK text carries it");
});

describe("Node modules loaded by a start without waiting", () => {
  let ep: LocalEndpoint;
  let proxy: TestProxy;
  let dir: string;
  let arn: string;

  before(async () => {
    ep = await startLocalEndpoint();
    proxy = await startTestProxy({});
    dir = await mkdtemp(join(tmpdir(), "ue-startup-"));
    arn = ep.createStateMachine({
      name: "startup",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    await writeFile(
      join(dir, "modules.cjs"),
      'process.on("exit", () => require("node:fs").writeFileSync(process.env.STARTUP_MODULES_FILE, process.moduleLoadList.join("\\n")));\n',
    );
  });
  after(async () => {
    await Promise.all([ep.close(), proxy.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts one execution and returns the names of the built-in modules the run loaded. */
  async function modulesOfStart(name: string, extra: Record<string, unknown>): Promise<string[]> {
    const file = join(dir, `${name}.txt`);
    const run = await runBundle({
      fields: {
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        state_machine_arn: arn,
        ...extra,
      },
      env: {
        NODE_OPTIONS: `--require ${join(dir, "modules.cjs")}`,
        STARTUP_MODULES_FILE: file,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    return (await readFile(file, "utf8"))
      .split("\n")
      .filter((m) => m.startsWith("NativeModule "))
      .map((m) => m.slice("NativeModule ".length));
  }

  test("without a proxy: no proxy agents (debug's tty, https-proxy-agent's assert), no perf_hooks, no web streams, no v8, fs/promises or Web Crypto", async () => {
    const loaded = await modulesOfStart("direct", {});
    for (const module of [
      "tty",
      "assert",
      "perf_hooks",
      "internal/webstreams/readablestream",
      "v8",
      "fs/promises",
      "internal/crypto/webcrypto",
    ])
      assert.ok(!loaded.includes(module), `${module} was loaded`);
    assert.ok(loaded.includes("http"), "the list is the run's");
  });

  test("through a proxy: the agents load with the first request", async () => {
    const served = proxy.served();
    const loaded = await modulesOfStart("proxied", {
      use_proxy: true,
      proxy_type: ["HTTP"],
      proxy: proxy.url,
    });
    assert.ok(proxy.served() > served, "the request went through the proxy");
    for (const module of ["tty", "assert"])
      assert.ok(loaded.includes(module), `${module} was not loaded`);
  });
});
