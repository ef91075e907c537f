/**
 * `npm run bench:bridge [-- --runs N]` (or `tsx bench/bridge.ts`)
 *
 * What the Python bridge costs a task, side by side with running the bundle directly,
 * against the local endpoint; whole processes, several runs, medians:
 * - start (no wait): wall time of `node <bundle>` with the fields file, beside the agent's
 *   path: Python importing extension.py from inside extension_archive.zip (the runner's
 *   stand-in agent), which starts the same bundle;
 * - memory: peak RSS of the bundle alone, and of the Python process plus its node child
 *   (the runner's agent host reports its own peak, Linux's VmHWM, and its children's with
 *   its result); the whole tree minus the bundle alone is what compares to the bar. Beside
 *   it, what the Python process holds before extension.py is imported (the interpreter,
 *   the host and the stand-in API: an agent's worker holds at least that for any
 *   extension), what the bridge adds to it, and a bare interpreter for reference;
 * - CPU: the Python process's for a start without waiting, split the same way;
 * - waiting: the Python process's CPU time and wake-ups (voluntary context switches) for a
 *   start without waiting and for a task that waits on a 3-second execution with 1-second
 *   status checks (the difference is what the bridge spends while the program polls).
 * The bridge's private copy of the bundle is made by a warm-up run, as on an agent after its
 * first task. Needs `npm run build` first and python3 (or UE_RUNNER_PYTHON).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { ARCHIVE_PATH } from "../build/build.ts";
import { startLocalEndpoint } from "../local/endpoint/index.ts";
import { findPython, HOST_SCRIPT, PYTHON_FLAGS } from "../local/runner/agent.ts";
import { cleanEnv } from "../test/helpers/bundle.ts";
import { BUNDLE, requireBuilt } from "../test/helpers/paths.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "9" } } });
const RUNS = Number(args.runs);

/** Runs the bundle as a child and reports the child's peak RSS (the bundle run directly). */
const PROBE = `
import json, os, resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
with os.fdopen(4, "w") as out:
    json.dump({"code": code, "childKiB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, out)
`;

/** A bare interpreter: its own peak RSS (VmHWM) and CPU time, on fd 4 (no json import). */
const BARE = `
import os, resource
me = resource.getrusage(resource.RUSAGE_SELF)
kib = me.ru_maxrss
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmHWM:"):
            kib = int(line.split()[1])
os.write(4, ('{"kib": %d, "cpu_ms": %.3f}' % (kib, (me.ru_utime + me.ru_stime) * 1000)).encode())
`;

interface Point {
  kib: number;
  cpu_ms: number;
  wakeups: number;
}

interface Usage {
  self_kib: number;
  self_cpu_ms: number;
  self_wakeups: number;
  children_kib: number;
  /** The host before it imports extension.py. */
  baseline: Point;
}

interface Run {
  wallMs: number;
  probe: { code?: number; childKiB?: number; kib?: number; cpu_ms?: number } | null;
  /** The host's result event: rc, message and its own and its children's usage. */
  result: { rc?: number; message?: string; usage?: Usage } | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Spawn once; stdin gets `input`; fd 3 carries host events, fd 4 the probe's report. */
function once(
  cmd: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  input: string | null,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { env, stdio: ["pipe", "ignore", "ignore", "pipe", "pipe"] });
    let events = "";
    let probe = "";
    (child.stdio[3] as Readable).on("data", (c: Buffer) => {
      events += c.toString();
    });
    (child.stdio[4] as Readable).on("data", (c: Buffer) => {
      probe += c.toString();
    });
    const stdin = child.stdin as Writable;
    if (input !== null) stdin.write(input);
    else stdin.end();
    child.on("error", reject);
    child.on("close", () => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const result = events
        .split("\n")
        .filter((l) => l.includes('"result"'))
        .map((l) => JSON.parse(l) as Run["result"])[0];
      resolve({ wallMs, probe: probe ? JSON.parse(probe) : null, result: result ?? null });
    });
  });
}

async function main(): Promise<void> {
  const python = findPython();
  if (!python) throw new Error("python3 is needed (or set UE_RUNNER_PYTHON)");
  const bundle = requireBuilt(BUNDLE);
  const archive = requireBuilt(ARCHIVE_PATH);
  const ep = await startLocalEndpoint();
  const dir = await mkdtemp(join(tmpdir(), "ue-bench-bridge-"));
  try {
    const quick = ep.createStateMachine({
      name: "bench",
      definition: { StartAt: "P", States: { P: { Type: "Wait", Seconds: 1, End: true } } },
    });
    const slow = ep.createStateMachine({
      name: "bench-wait",
      definition: { StartAt: "P", States: { P: { Type: "Wait", Seconds: 3, End: true } } },
    });
    const agentEnv = cleanEnv({
      AWS_DEFAULT_REGION: ep.region,
      UE_AWS_STEPFUNCTIONS_CACHE: join(dir, "bridge-cache"),
    });
    const credential = {
      user: ep.credentials.accessKeyId,
      password: ep.credentials.secretAccessKey,
    };
    const fields = (arn: string, wait: boolean) => ({
      action: ["Start Asynchronous Execution"],
      endpoint_url: ep.url,
      state_machine_arn: arn,
      wait_for_success_or_failure: wait,
      ...(wait ? { polling_interval: 1 } : {}),
    });
    let n = 0;
    const request = (arn: string, wait: boolean) => {
      n += 1;
      // As a real agent hands them over: the Credential as a record and flattened parts.
      const record = { ...credential, keyLocation: null, passphrase: null, token: null };
      const handed = {
        ...fields(arn, wait),
        credentials: record,
        ...Object.fromEntries(Object.entries(record).map(([k, v]) => [`credentials.${k}`, v])),
      };
      const uip = {
        task_variables: {},
        is_triggered: false,
        trigger_id: null,
        instance_id: `b${n}`,
        monitor_id: null,
      };
      return `${JSON.stringify({ fields: handed, uip })}\n`;
    };
    const directEnv = async () => {
      n += 1;
      const file = join(dir, `fields-${n}.json`);
      await writeFile(file, JSON.stringify({ ...fields(quick, false), credentials: credential }), {
        mode: 0o600,
      });
      return {
        ...agentEnv,
        UE_FIELDS_FILE: file,
        UE_EXTENSION_OUTPUT_FILE: join(dir, `out-${n}.json`),
        UE_TASK_NAME: "bench",
        UE_TASK_INSTANCE_ID: `d${n}`,
        UE_EXECUTION_COUNT: "1",
      };
    };
    const host = [...PYTHON_FLAGS, HOST_SCRIPT, archive];

    // Warm-up: the bridge makes its private copy of the bundle and remembers node's version.
    const warm = await once(python, host, agentEnv, request(quick, false));
    if (warm.result?.rc !== 0)
      throw new Error(`bridge warm-up failed: ${JSON.stringify(warm.result)}`);
    await once(process.execPath, [bundle], await directEnv(), null);

    const directWall: number[] = [];
    const bridgeWall: number[] = [];
    const directRss: number[] = [];
    const bridgeRss: number[] = [];
    const bridgePythonRss: number[] = [];
    const hostRss: number[] = [];
    const bridgeOwnRss: number[] = [];
    const bareRss: number[] = [];
    const startCpu: number[] = [];
    const bridgeOwnCpu: number[] = [];
    const bareCpu: number[] = [];
    const startWakeups: number[] = [];
    const waitCpu: number[] = [];
    const waitWakeups: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      directWall.push((await once(process.execPath, [bundle], await directEnv(), null)).wallMs);
      const b = await once(python, host, agentEnv, request(quick, false));
      if (b.result?.rc !== 0) throw new Error(`bridge run failed: ${JSON.stringify(b.result)}`);
      bridgeWall.push(b.wallMs);
      const usage = b.result.usage;
      bridgeRss.push((usage?.self_kib ?? Number.NaN) + (usage?.children_kib ?? Number.NaN));
      bridgePythonRss.push(usage?.self_kib ?? Number.NaN);
      hostRss.push(usage?.baseline.kib ?? Number.NaN);
      bridgeOwnRss.push((usage?.self_kib ?? Number.NaN) - (usage?.baseline.kib ?? Number.NaN));
      startCpu.push(usage?.self_cpu_ms ?? Number.NaN);
      bridgeOwnCpu.push(
        (usage?.self_cpu_ms ?? Number.NaN) - (usage?.baseline.cpu_ms ?? Number.NaN),
      );
      startWakeups.push(usage?.self_wakeups ?? Number.NaN);
      const bare = await once(python, [...PYTHON_FLAGS, "-c", BARE], agentEnv, null);
      bareRss.push(bare.probe?.kib ?? Number.NaN);
      bareCpu.push(bare.probe?.cpu_ms ?? Number.NaN);
      const d = await once(
        python,
        [...PYTHON_FLAGS, "-c", PROBE, process.execPath, bundle],
        await directEnv(),
        null,
      );
      directRss.push(d.probe?.childKiB ?? Number.NaN);
    }
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const w = await once(python, host, agentEnv, request(slow, true));
      if (w.result?.rc !== 0) throw new Error(`waiting run failed: ${JSON.stringify(w.result)}`);
      waitCpu.push(w.result.usage?.self_cpu_ms ?? Number.NaN);
      waitWakeups.push(w.result.usage?.self_wakeups ?? Number.NaN);
    }

    const mib = (kib: number) => (kib / 1024).toFixed(1);
    const rows: Array<[string, string]> = [
      ["runs", String(RUNS)],
      ["start, no wait: bundle directly, median wall", `${median(directWall).toFixed(0)} ms`],
      ["start, no wait: through the bridge, median wall", `${median(bridgeWall).toFixed(0)} ms`],
      [
        "bridge adds to a start (bar: 50 ms)",
        `${(median(bridgeWall) - median(directWall)).toFixed(0)} ms`,
      ],
      ["peak RSS: bundle directly, median", `${mib(median(directRss))} MiB`],
      ["peak RSS: Python + bundle, median", `${mib(median(bridgeRss))} MiB`],
      [
        "bridge adds to a task's memory (bar: 15 MiB)",
        `${mib(median(bridgeRss) - median(directRss))} MiB (the Python process ${mib(median(bridgePythonRss))} MiB)`,
      ],
      ["  Python before extension.py (interpreter, host, API)", `${mib(median(hostRss))} MiB`],
      ["  the bridge's own (import + start)", `${mib(median(bridgeOwnRss))} MiB`],
      ["  bare interpreter (python -B -S -c ...), for reference", `${mib(median(bareRss))} MiB`],
      ["Python CPU, start without waiting, median", `${median(startCpu).toFixed(0)} ms`],
      ["  the bridge's own (import + start)", `${median(bridgeOwnCpu).toFixed(0)} ms`],
      ["  bare interpreter, for reference", `${median(bareCpu).toFixed(0)} ms`],
      ["Python CPU, 3 s wait with 1 s status checks, median", `${median(waitCpu).toFixed(0)} ms`],
      [
        "Python wake-ups (voluntary context switches): start / 3 s wait, median",
        `${median(startWakeups).toFixed(0)} / ${median(waitWakeups).toFixed(0)}`,
      ],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`Bridge cost (python ${python}, node ${process.version})\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  } finally {
    await ep.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
