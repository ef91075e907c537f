/**
 * `npm run bench [-- --runs N] [-- --only start,rerun,credentials,latency,scale]
 *  [-- --tasks 200,500,1000] [-- --wait-sharing off] [-- --region R] [-- --describe-bucket SIZE/RATE]`
 *
 * Whole-process measurements against the local endpoint, several runs, medians, the
 * contenders of a scenario interleaved run by run (see lib/measure.ts):
 * - start: start one execution without waiting: the bundle on Node 20 (the machine's), 22
 *   and 24 (installed by `npm run node-versions` under local/node-versions) with its code
 *   cache, without it, and as the bridge starts it; every AWS CLI found (the one on PATH and
 *   /usr/bin/aws) and a boto3 script on every Python found (python3 on PATH and
 *   /usr/bin/python3), each named with its version; for reference, bare `node -e 0`, the
 *   floor (Node sending one SigV4-signed request and writing a JSON file) and the SDK's
 *   client alone (lib/start-references.ts); wall time, CPU time, peak RSS; then each goal
 *   of SPEC section 7 beside its measurement, and where a start's CPU and memory go.
 * - rerun: what finding a run's place in AWS adds to a start (no count from the agent): a
 *   first start, today's start with UE_EXECUTION_COUNT, the 2nd run and the 21st run of a
 *   task instance whose earlier executions ended; the AWS calls of each and the wall time.
 * - credentials: the same start with each credential path: the credentials field,
 *   environment variables, a shared profile through the SDK chain, an assumed role.
 * - latency: a 3-second execution polled with a 10-second interval; how long after the
 *   execution's end the task ends.
 * - scale: many tasks waiting at once, every call they make throttled as AWS does in the
 *   state machine's region (`--region`, default us-east-1; DescribeExecution 300 tokens, 15
 *   per second, 250 / 10 outside us-east-1, us-west-2 and eu-west-1, or
 *   `--describe-bucket SIZE/RATE`): results, the calls, each task's lateness and each
 *   waiting task's memory (PSS).
 *   Once per count in `--tasks`. Waiting tasks share status checks (ListExecutions, AWS's
 *   bucket for the region) unless `--wait-sharing off`.
 * Then every other benchmark script in this folder, each in its own process (`--only` takes
 * their file names without `.ts` too). Not part of npm test: the machine is shared and noisy.
 */
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { setPriority, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import {
  awsThrottling,
  LARGE_BUCKET_REGIONS,
  type LocalEndpoint,
  startLocalEndpoint,
  type ThrottleConfig,
} from "../local/endpoint/index.ts";
import { cleanEnv } from "../test/helpers/bundle.ts";
import { HOLD_RESOURCE, startEndpointProcess } from "./lib/endpoint-process.ts";
import { writeStartReferences } from "./lib/start-references.ts";
import {
  EXTRA_NODE_VERSIONS,
  installedNode,
  reportedVersion,
} from "../test/helpers/node-versions.ts";
import { BUNDLE, PACKAGE_ZIP, requireBuilt } from "../test/helpers/paths.ts";
import {
  type Command,
  type Contender,
  interleaved,
  MEASURER,
  measure,
  median,
  printFailures,
  printTable,
  type Summary,
  summaryRows,
} from "./lib/measure.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const OWN = ["start", "rerun", "credentials", "latency", "scale"];
const OTHERS = readdirSync(HERE)
  .filter((f) => f.endsWith(".ts") && f !== basename(fileURLToPath(import.meta.url)))
  .map((f) => f.slice(0, -3))
  .sort();

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    only: { type: "string", default: [...OWN, ...OTHERS].join(",") },
    tasks: { type: "string", default: "200" },
    "wait-sharing": { type: "string", default: "on" },
    region: { type: "string", default: "us-east-1" },
    "describe-bucket": { type: "string" },
    "end-spread": { type: "string" },
    "launch-rate": { type: "string" },
    "launch-concurrency": { type: "string" },
  },
});
const RUNS = Number(args.runs);
const ONLY = new Set(String(args.only).split(","));
const TASK_COUNTS = String(args.tasks)
  .split(",")
  .map((n) => Number(n.trim()));
if (!TASK_COUNTS.every((n) => Number.isInteger(n) && n > 0)) {
  throw new Error(`--tasks takes whole numbers separated by commas (got ${args.tasks})`);
}
const WAIT_SHARING = String(args["wait-sharing"]);
if (WAIT_SHARING !== "on" && WAIT_SHARING !== "off") {
  throw new Error(`--wait-sharing takes on or off (got ${WAIT_SHARING})`);
}
const REGION = String(args.region);
const DESCRIBE_BUCKET = describeBucket(args["describe-bucket"]);
/**
 * Over how many seconds the scale scenario's executions end, one after another. Default: the
 * task count over the DescribeExecution bucket's refill rate, the fastest rate of ends whose
 * results can each be read with one DescribeExecution for as long as ends keep coming.
 */
const END_SPREAD_S = args["end-spread"] === undefined ? undefined : Number(args["end-spread"]);
if (END_SPREAD_S !== undefined && !(END_SPREAD_S >= 0)) {
  console.error(`--end-spread: expected a number of seconds, got "${args["end-spread"]}"`);
  process.exit(2);
}
/** Tasks launched per second in the scale scenario; default: all at once. */
const LAUNCH_RATE = args["launch-rate"] === undefined ? undefined : Number(args["launch-rate"]);
if (LAUNCH_RATE !== undefined && !(LAUNCH_RATE > 0)) {
  console.error(`--launch-rate: expected tasks per second above 0, got "${args["launch-rate"]}"`);
  process.exit(2);
}
/**
 * At most this many tasks of the scale scenario between their launch and their execution's
 * start (or their exit); default: no limit. Launching no faster than starts complete keeps
 * the machine's memory to the waiting tasks' and the starting ones', where 1,000 starts at
 * once would need far more than the waiting tasks ever do.
 */
const LAUNCH_CONCURRENCY =
  args["launch-concurrency"] === undefined ? undefined : Number(args["launch-concurrency"]);
if (
  LAUNCH_CONCURRENCY !== undefined &&
  !(Number.isInteger(LAUNCH_CONCURRENCY) && LAUNCH_CONCURRENCY > 0)
) {
  console.error(
    `--launch-concurrency: expected a whole number of tasks above 0, got "${args["launch-concurrency"]}"`,
  );
  process.exit(2);
}
/**
 * What the bridge adds to the program's environment on an agent (src/bridge/extension.py):
 * glibc's mmap threshold, so that memory freed after the start goes back to the system,
 * and the cancel channel on standard input (a pipe, as measure() gives every command).
 */
const BRIDGE_MALLOC = { MALLOC_MMAP_THRESHOLD_: "65536", UE_CANCEL_ON_STDIN: "1" };
/** How long the scale scenario waits for every task to start its execution. */
const START_LIMIT_MS = 30 * 60_000;
/** How long every task of the scale scenario waits once all have started, before the ends. */
const SETTLE_MS = 20_000;

/** `--describe-bucket SIZE/RATE`, e.g. 250/10; exits 2 with the expected form when wrong. */
function describeBucket(value: string | undefined): ThrottleConfig | null {
  if (value === undefined) return null;
  const found = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(value.trim());
  const bucketSize = Number(found?.[1]);
  const refillPerSecond = Number(found?.[2]);
  if (!found || bucketSize < 1) {
    console.error(
      `--describe-bucket: expected SIZE/RATE, tokens (at least 1) and tokens per second, e.g. 250/10; got "${value}"`,
    );
    process.exit(2);
  }
  return { bucketSize, refillPerSecond };
}

interface NodeBinary {
  /** e.g. "Node v22.23.3" */
  label: string;
  major: number;
  bin: string;
}

/** The machine's Node, then each installed further version; missing ones are said and skipped. */
function nodeBinaries(): NodeBinary[] {
  const nodes: NodeBinary[] = [
    {
      label: `Node ${process.version}`,
      major: Number(process.versions.node.split(".")[0]),
      bin: process.execPath,
    },
  ];
  for (const major of EXTRA_NODE_VERSIONS) {
    if (nodes.some((n) => n.major === Number(major))) continue;
    try {
      const bin = installedNode(major);
      nodes.push({ label: `Node ${reportedVersion(bin)}`, major: Number(major), bin });
    } catch (error) {
      console.log(`(${(error as Error).message}; Node ${major} skipped)`);
    }
  }
  return nodes;
}

/**
 * The children's environment: nothing from AWS or the controller (as in the tests), and no
 * NODE_EXTRA_CA_CERTS: Node 20 reads that file at every start (about 40 ms of CPU for a
 * system bundle), Node 22 and 24 only on first TLS use, and the endpoint here is plain HTTP.
 */
function benchEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return cleanEnv({ NODE_EXTRA_CA_CERTS: undefined, ...extra });
}

/**
 * The real executable behind a pyenv shim, so that the alternatives are not charged for the
 * shim's own start-up; the name itself when there is no pyenv.
 */
function resolveExecutable(name: string): string {
  const found = spawnSync("pyenv", ["which", name], { encoding: "utf8" });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : name;
}

let instance = 0;
const nextId = (prefix: string) => `${prefix}${process.pid}x${instance++}`;

interface Fixture {
  ep: LocalEndpoint;
  dir: string;
  arn: string;
  /** Environment with the endpoint's keys as AWS_* variables and nothing else from AWS. */
  base: NodeJS.ProcessEnv;
}

async function withFixture(body: (f: Fixture) => Promise<void>): Promise<void> {
  const ep = await startLocalEndpoint();
  const dir = await mkdtemp(join(tmpdir(), "ue-bench-"));
  try {
    const arn = ep.createStateMachine({
      name: "bench",
      definition: { StartAt: "P", States: { P: { Type: "Wait", Seconds: 1, End: true } } },
    });
    const base = benchEnv({
      AWS_ACCESS_KEY_ID: ep.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ep.credentials.secretAccessKey,
      AWS_DEFAULT_REGION: ep.region,
    });
    await body({ ep, dir, arn, base });
  } finally {
    await rm(dir, { recursive: true, force: true });
    await ep.close();
  }
}

/** The bundle starting one execution without waiting, fields from the command line. */
function bundleStart(f: Fixture, bin: string, env: NodeJS.ProcessEnv = f.base): () => Command {
  return () => ({
    cmd: bin,
    argv: [requireBuilt(BUNDLE), "--state-machine-arn", f.arn],
    env: {
      ...env,
      UE_FIELD_ENDPOINT_URL: f.ep.url,
      UE_EXTENSION_OUTPUT_FILE: join(f.dir, "out.json"),
      UE_TASK_NAME: "bench",
      UE_TASK_INSTANCE_ID: nextId("b"),
    },
  });
}

interface RerunScenario {
  name: string;
  /** Earlier runs of the task instance, all ended, before the measured one. */
  earlier: number;
  /** UE_EXECUTION_COUNT to pass (today's path), if any. */
  count?: number;
}

async function benchRerun(): Promise<void> {
  console.log("## rerun: finding a run's place among its task instance's executions, no wait\n");
  await withFixture(async (f) => {
    const quick = f.ep.createStateMachine({
      name: "benchQuick",
      definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    });
    const sfn = new SFNClient({
      endpoint: f.ep.url,
      region: f.ep.region,
      credentials: f.ep.credentials,
    });
    const scenarios: RerunScenario[] = [
      { name: "first start, UE_EXECUTION_COUNT=1 (as before)", earlier: 0, count: 1 },
      { name: "first start, no count", earlier: 0 },
      { name: "2nd run (1 ended), no count", earlier: 1 },
      { name: "21st run (20 ended), no count", earlier: 20 },
    ];
    // One task instance per run (the warm-up and one more to count the calls included),
    // its earlier executions started and ended beforehand.
    const instances = new Map<RerunScenario, string[]>();
    for (const scenario of scenarios) {
      const ids: string[] = [];
      for (let i = 0; i < RUNS + 2; i++) {
        const id = nextId("r");
        for (let k = 1; k <= scenario.earlier; k++) {
          await sfn.send(
            new StartExecutionCommand({ stateMachineArn: quick, name: `bench-${id}-${k}` }),
          );
        }
        ids.push(id);
      }
      instances.set(scenario, ids);
    }
    sfn.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const command = (scenario: RerunScenario): Command => {
      const id = instances.get(scenario)?.pop() as string;
      return {
        cmd: process.execPath,
        argv: [requireBuilt(BUNDLE), "--state-machine-arn", quick],
        env: {
          ...f.base,
          UE_FIELD_ENDPOINT_URL: f.ep.url,
          UE_EXTENSION_OUTPUT_FILE: join(f.dir, "out.json"),
          UE_TASK_NAME: "bench",
          UE_TASK_INSTANCE_ID: id,
          ...(scenario.count ? { UE_EXECUTION_COUNT: String(scenario.count) } : {}),
        },
      };
    };
    const calls = new Map<RerunScenario, string>();
    for (const scenario of scenarios) {
      f.ep.clearRequests();
      const sample = await measure(command(scenario));
      const ops = f.ep.requests.filter((r) => r.service === "states").map((r) => r.operation);
      const counted = new Map<string, number>();
      for (const op of ops) counted.set(op, (counted.get(op) ?? 0) + 1);
      calls.set(
        scenario,
        sample.code === 0
          ? `${ops.length} (${[...counted].map(([op, n]) => `${n} ${op}`).join(", ")})`
          : `failed: exit ${sample.code}`,
      );
    }
    const summaries = await interleaved(
      scenarios.map((s) => ({ name: s.name, make: () => command(s) })),
      RUNS,
    );
    printFailures(summaries);
    const rows = summaryRows(summaries);
    rows[0]?.push("AWS calls");
    scenarios.forEach((s, i) => {
      rows[i + 1]?.push(calls.get(s) ?? "");
    });
    printTable(rows);
  });
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? null
    : a / b;
}

/**
 * One line of the goals table: the goal, what was measured, met or not. `limit` is the
 * largest ratio (or value) allowed; `strict` means it must stay below it.
 */
function goal(
  name: string,
  value: number | null,
  limit: number,
  shown: string,
  options: { strict?: boolean; unit?: string } = {},
): string[] {
  const unit = options.unit ?? "x";
  const wanted = `${options.strict ? "below" : "at most"} ${limit}${unit === "x" ? "x" : ` ${unit}`}`;
  if (value === null) return [name, wanted, "not measured", ""];
  const met = options.strict ? value < limit : value <= limit;
  const measured = unit === "x" ? `${value.toFixed(2)}x (${shown})` : shown;
  return [name, wanted, measured, met ? "met" : "NOT MET"];
}

/** An executable found on PATH (the real one behind a pyenv shim), else null. */
function onPath(name: string): string | null {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    return candidate.includes("/.pyenv/shims/") ? resolveExecutable(name) : candidate;
  }
  return null;
}

/** Each distinct executable among the candidates (by real path), in order. */
function distinct(candidates: Array<string | null>): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const c of candidates) {
    if (!c || !existsSync(c)) continue;
    const real = realpathSync(c);
    if (seen.has(real)) continue;
    seen.add(real);
    found.push(c);
  }
  return found;
}

interface Alternative {
  /** e.g. "AWS CLI 2.9.19" or "boto3 1.26.27 on Python 3.11.2" */
  label: string;
  /** The executable, for the list of what was compared. */
  bin: string;
  /** The AWS CLI's major version; 0 for boto3. */
  major: number;
  make: () => Command;
}

/** Every AWS CLI found: the one on PATH, Debian's /usr/bin/aws, /usr/local/bin/aws (v2's installer). */
function awsClis(f: Fixture): Alternative[] {
  const found: Alternative[] = [];
  for (const bin of distinct([onPath("aws"), "/usr/bin/aws", "/usr/local/bin/aws"])) {
    const probe = spawnSync(bin, ["--version"], { encoding: "utf8", env: f.base });
    const version = /aws-cli\/(\d+)\.(\S+)/.exec(`${probe.stdout}${probe.stderr}`);
    if (probe.status !== 0 || !version) {
      console.log(`(${bin} --version failed: skipped)`);
      continue;
    }
    found.push({
      label: `AWS CLI ${version[1]}.${version[2]}`,
      bin,
      major: Number(version[1]),
      make: () => ({
        cmd: bin,
        argv: [
          "stepfunctions",
          "start-execution",
          "--endpoint-url",
          f.ep.url,
          "--state-machine-arn",
          f.arn,
          "--name",
          nextId("cli"),
        ],
        // As a script would run it: no pager (AWS CLI v2 pipes its output through one).
        env: { ...f.base, AWS_PAGER: "" },
      }),
    });
  }
  return found;
}

/** A boto3 script on every Python found with boto3: python3 on PATH, then /usr/bin/python3. */
async function boto3Scripts(f: Fixture): Promise<Alternative[]> {
  const script = join(f.dir, "start.py");
  await writeFile(
    script,
    [
      "import sys, boto3",
      "c = boto3.client('stepfunctions', endpoint_url=sys.argv[1])",
      "print(c.start_execution(stateMachineArn=sys.argv[2], name=sys.argv[3])['executionArn'])",
    ].join("\n"),
  );
  const found: Alternative[] = [];
  for (const python of distinct([onPath("python3"), "/usr/bin/python3"])) {
    const probe = spawnSync(
      python,
      ["-c", "import boto3, platform; print(boto3.__version__, platform.python_version())"],
      { encoding: "utf8", env: f.base },
    );
    const [boto, py] = probe.stdout.trim().split(" ");
    if (probe.status !== 0 || !boto || !py) {
      console.log(`(no boto3 for ${python}: skipped)`);
      continue;
    }
    found.push({
      label: `boto3 ${boto} on Python ${py}`,
      bin: python,
      major: 0,
      make: () => ({
        cmd: python,
        argv: [script, f.ep.url, f.arn, nextId("py")],
        env: f.base,
      }),
    });
  }
  return found;
}

async function benchStart(): Promise<void> {
  console.log("## start one execution, no wait\n");
  await withFixture(async (f) => {
    const nodes = nodeBinaries();
    const contenders: Contender[] = [];
    for (const n of nodes) {
      contenders.push({
        name: `${n.label} -e 0`,
        make: () => ({ cmd: n.bin, argv: ["-e", "0"], env: f.base }),
      });
    }
    const refs = await writeStartReferences(f.dir);
    const refArgv = (script: string, prefix: string) => [
      script,
      f.ep.url,
      f.arn,
      nextId(prefix),
      join(f.dir, `${prefix}.out.json`),
    ];
    for (const n of nodes) {
      contenders.push({
        name: `floor on ${n.label}`,
        make: () => ({ cmd: n.bin, argv: refArgv(refs.floor, "floor"), env: f.base }),
      });
      contenders.push({
        name: `SDK client alone on ${n.label}`,
        make: () => ({
          cmd: n.bin,
          argv: refArgv(refs.sdkAlone, "sdk"),
          // As the program does: no notice that later SDK versions will need Node 22.
          env: { ...f.base, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
        }),
      });
    }
    // The code cache in a private folder of this run, made by the warm-up round.
    const cache = join(f.dir, "code-cache");
    const bridgeCache = join(f.dir, "bridge-cache");
    for (const n of nodes) {
      contenders.push({
        name: `bundle on ${n.label}`,
        make: bundleStart(f, n.bin, { ...f.base, UE_CODE_CACHE: cache }),
      });
      contenders.push({
        name: `bundle on ${n.label}, no code cache`,
        make: bundleStart(f, n.bin, { ...f.base, UE_CODE_CACHE: "off" }),
      });
      contenders.push({
        name: `bundle on ${n.label}, environment of the bridge`,
        make: bundleStart(f, n.bin, {
          ...f.base,
          NODE_COMPILE_CACHE: bridgeCache,
          ...BRIDGE_MALLOC,
        }),
      });
    }
    const clis = awsClis(f);
    const botos = await boto3Scripts(f);
    if (!clis.some((c) => c.major === 2))
      console.log("(AWS CLI v2: not found; `apt-get install awscli` gives one at /usr/bin/aws)");
    if (!clis.some((c) => c.major === 1)) console.log("(AWS CLI v1: not found)");
    if (botos.length === 0) console.log("(boto3: not found for any Python)");
    const alternatives = [...clis, ...botos];
    // Two installs of one version stay apart by their paths.
    const labels = alternatives.map((a) => a.label);
    for (const a of alternatives) {
      if (labels.filter((l) => l === a.label).length > 1) a.label = `${a.label} (${a.bin})`;
    }
    for (const a of alternatives) contenders.push({ name: a.label, make: a.make });
    console.log(
      `Compared with: ${alternatives.map((a) => `${a.label} (${a.bin})`).join("; ") || "nothing (none found)"}\n`,
    );

    const summaries = await interleaved(contenders, RUNS);
    printFailures(summaries);
    printTable(summaryRows(summaries));
    const find = (name: string): Summary | undefined => summaries.find((s) => s.name === name);
    const first = nodes[0] as NodeBinary;
    const reference = find(`bundle on ${first.label}`);
    const ms = (v: number | null | undefined) => (v == null ? "n/a" : `${v.toFixed(0)} ms`);
    const mib = (v: number | null | undefined) => (v == null ? "n/a" : `${v.toFixed(1)} MiB`);
    const rows = [["SPEC 7 goal (medians)", "goal", "measured", ""]];
    const v2 = clis.filter((c) => c.major === 2);
    for (const n of nodes) {
      const b = find(`bundle on ${n.label}`);
      for (const cli of v2.length ? v2 : [null]) {
        const other = cli ? find(cli.label) : undefined;
        rows.push(
          goal(
            `${n.label}: CPU / ${cli?.label ?? "AWS CLI v2 (absent)"}`,
            ratio(b?.cpuMs, other?.cpuMs),
            0.15,
            `${ms(b?.cpuMs)} / ${ms(other?.cpuMs)}`,
          ),
        );
      }
      for (const boto of botos.length ? botos : [null]) {
        const other = boto ? find(boto.label) : undefined;
        const name = boto?.label ?? "boto3 (absent)";
        rows.push(
          goal(
            `${n.label}: CPU / ${name}`,
            ratio(b?.cpuMs, other?.cpuMs),
            0.25,
            `${ms(b?.cpuMs)} / ${ms(other?.cpuMs)}`,
          ),
        );
        rows.push(
          goal(
            `${n.label}: peak RSS / ${name}`,
            ratio(b?.rssMiB, other?.rssMiB),
            1,
            `${mib(b?.rssMiB)} / ${mib(other?.rssMiB)}`,
            { strict: true },
          ),
        );
      }
      if (n.major === 20) {
        rows.push(
          goal(`${n.label}: peak RSS`, b?.rssMiB ?? null, 49, mib(b?.rssMiB), { unit: "MiB" }),
        );
        // A controller's task runs the program through the bridge, in its environment.
        const bridged = find(`bundle on ${n.label}, environment of the bridge`);
        rows.push(
          goal(
            `${n.label}, environment of the bridge: peak RSS`,
            bridged?.rssMiB ?? null,
            49,
            mib(bridged?.rssMiB),
            { unit: "MiB" },
          ),
        );
      }
      if (n !== first) {
        for (const [what, pick] of [
          ["wall", (x?: Summary) => x?.wallMs],
          ["CPU", (x?: Summary) => x?.cpuMs],
          ["peak RSS", (x?: Summary) => x?.rssMiB],
        ] as const) {
          const show = what === "peak RSS" ? mib : ms;
          rows.push(
            goal(
              `${n.label}: ${what} / ${first.label}`,
              ratio(pick(b), pick(reference)),
              1.1,
              `${show(pick(b))} / ${show(pick(reference))}`,
            ),
          );
        }
      }
    }
    console.log("");
    printTable(rows);

    // What the goals leave once Node and the SDK have taken their share.
    const budgets: { what: string; ms: number }[] = [];
    for (const [share, list] of [
      [0.15, v2],
      [0.25, botos],
    ] as const) {
      for (const a of list) {
        const cpu = find(a.label)?.cpuMs;
        if (cpu != null) budgets.push({ what: `${share}x ${a.label}`, ms: cpu * share });
      }
    }
    const tightest = budgets.sort((a, b) => a.ms - b.ms)[0];
    console.log(
      `\nWhere a start goes, CPU and peak RSS (medians; the SDK client alone is ${(refs.sdkAloneBytes / 1024).toFixed(1)} KiB bundled; the tightest CPU goal: ${tightest ? `${ms(tightest.ms)}, ${tightest.what}` : "n/a"}):\n`,
    );
    const both = (x?: Summary) => `${ms(x?.cpuMs)}, ${mib(x?.rssMiB)}`;
    const split = [
      ["", "node -e 0", "floor", "SDK client alone", "bundle", "bundle above the floor"],
    ];
    for (const n of nodes) {
      const floor = find(`floor on ${n.label}`);
      const bundle = find(`bundle on ${n.label}`);
      const above =
        floor?.cpuMs == null ||
        bundle?.cpuMs == null ||
        floor.rssMiB == null ||
        bundle.rssMiB == null
          ? "n/a"
          : `${ms(bundle.cpuMs - floor.cpuMs)}, ${mib(bundle.rssMiB - floor.rssMiB)}`;
      split.push([
        n.label,
        both(find(`${n.label} -e 0`)),
        both(floor),
        both(find(`SDK client alone on ${n.label}`)),
        both(bundle),
        above,
      ]);
    }
    printTable(split);
  });
}

async function benchCredentials(): Promise<void> {
  console.log(`\n## credential paths (bundle on Node ${process.version}, start without waiting)\n`);
  await withFixture(async (f) => {
    const { accessKeyId, secretAccessKey } = f.ep.credentials;
    const noKeys = { ...f.base, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined };
    const credentialsFile = join(f.dir, "credentials");
    await writeFile(
      credentialsFile,
      `[bench]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`,
    );
    const fieldsFile = async (name: string, extra: Record<string, unknown>) => {
      const file = join(f.dir, `${name}.fields.json`);
      await writeFile(
        file,
        JSON.stringify({
          endpoint_url: f.ep.url,
          state_machine_arn: f.arn,
          credentials: { user: accessKeyId, password: secretAccessKey },
          ...extra,
        }),
      );
      return file;
    };
    const withFields = (file: string) => () => ({
      cmd: process.execPath,
      argv: [requireBuilt(BUNDLE)],
      env: {
        ...noKeys,
        AWS_ENDPOINT_URL_STS: f.ep.url,
        UE_FIELDS_FILE: file,
        UE_EXTENSION_OUTPUT_FILE: join(f.dir, "out.json"),
        UE_TASK_NAME: "bench",
        UE_TASK_INSTANCE_ID: nextId("c"),
      },
    });
    const contenders: Contender[] = [
      { name: "environment variables", make: bundleStart(f, process.execPath) },
      { name: "credentials field", make: withFields(await fieldsFile("field", {})) },
      {
        name: "shared profile (SDK chain)",
        make: bundleStart(f, process.execPath, {
          ...noKeys,
          AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
          AWS_PROFILE: "bench",
        }),
      },
      {
        name: "assumed role (field keys + AssumeRole)",
        make: withFields(
          await fieldsFile("role", {
            role_based_access: true,
            role_arn: "arn:aws:iam::123456789012:role/Bench",
          }),
        ),
      },
    ];
    const summaries = await interleaved(contenders, RUNS);
    printFailures(summaries);
    const reference = summaries[0] as Summary;
    const rows = summaryRows(summaries);
    rows[0]?.push("cost vs environment variables (wall / CPU / RSS)");
    for (const [i, s] of summaries.entries()) {
      const cpu = s.cpuMs !== null && reference.cpuMs !== null ? s.cpuMs - reference.cpuMs : null;
      const rss =
        s.rssMiB !== null && reference.rssMiB !== null ? s.rssMiB - reference.rssMiB : null;
      rows[i + 1]?.push(
        i === 0
          ? "(reference)"
          : `${signed(s.wallMs - reference.wallMs, 0)} ms / ${cpu === null ? "n/a" : `${signed(cpu, 0)} ms`} / ${rss === null ? "n/a" : `${signed(rss, 1)} MiB`}`,
      );
    }
    printTable(rows);
  });
}

function signed(value: number, digits: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
}

interface TaskRun {
  code: number | null;
  endedAt: number;
  doc: string;
}

/** The process ids of the tasks started by runTask that have not ended. */
const running = new Set<number>();

/** Proportional set size of a process in MiB (Linux), or null when it cannot be read. */
/** CPU time (user + system) a process has used so far, in clock ticks (100 per second), or null. */
async function cpuTicks(pid: number): Promise<number | null> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Fields after the command name (which may hold spaces) close with ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  return Number.isFinite(user) && Number.isFinite(system) ? user + system : null;
}

async function pssMiB(pid: number): Promise<number | null> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
  const found = /^Pss:\s+(\d+) kB/m.exec(text);
  return found ? Number(found[1]) / 1024 : null;
}

/** Runs the bundle with a fields object; resolves with its exit code and end time. */
async function runTask(
  fields: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  dir: string,
  id: string,
  niceness = 0,
  pids?: Set<number>,
): Promise<TaskRun> {
  const fieldsFile = join(dir, `${id}.fields.json`);
  const outFile = join(dir, `${id}.out.json`);
  await writeFile(fieldsFile, JSON.stringify(fields));
  const child = spawn(process.execPath, [BUNDLE], {
    env: {
      UE_CODE_CACHE: join(dir, "code-cache"),
      ...env,
      UE_FIELDS_FILE: fieldsFile,
      UE_EXTENSION_OUTPUT_FILE: outFile,
      UE_TASK_INSTANCE_ID: id,
    },
    // The bridge's cancel channel: a pipe held open for the task's whole wait.
    stdio: [env["UE_CANCEL_ON_STDIN"] === "1" ? "pipe" : "ignore", "ignore", "ignore"],
  });
  child.stdin?.on("error", () => {});
  if (child.pid !== undefined) {
    running.add(child.pid);
    pids?.add(child.pid);
  }
  if (child.pid !== undefined && niceness) {
    try {
      setPriority(child.pid, niceness);
    } catch {
      // Gone already, or not allowed: it runs at the usual priority.
    }
  }
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (child.pid !== undefined) running.delete(child.pid);
  const endedAt = Date.now();
  return { code, endedAt, doc: await readFile(outFile, "utf8").catch(() => "") };
}

/** The execution's end as the endpoint recorded it, else as the output document reports it. */
function executionEnd(ep: LocalEndpoint, doc: string): { arn: string | null; stop: number | null } {
  const parsed = doc
    ? (JSON.parse(doc) as { result?: { executionArn?: string; stopDate?: string } })
    : {};
  const arn = parsed.result?.executionArn ?? null;
  const recorded = arn ? ep.getExecution(arn)?.stopDate : undefined;
  const stop = recorded
    ? recorded.getTime()
    : parsed.result?.stopDate
      ? Date.parse(parsed.result.stopDate)
      : null;
  return { arn, stop };
}

async function benchLatency(): Promise<void> {
  console.log("\n## latency of the end of a wait\n");
  const ep = await startLocalEndpoint();
  const dir = await mkdtemp(join(tmpdir(), "ue-bench-"));
  try {
    const arn = ep.createStateMachine({
      name: "threeSeconds",
      definition: { StartAt: "W", States: { W: { Type: "Wait", Seconds: 3, End: true } } },
    });
    const env = benchEnv({ UE_TASK_NAME: "latency" });
    const lags: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 5); i++) {
      const fields = {
        endpoint_url: ep.url,
        credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
        state_machine_arn: arn,
        wait_for_success_or_failure: true,
        polling_interval: 10,
      };
      const run = await runTask(fields, env, dir, nextId("lat"));
      const { stop } = executionEnd(ep, run.doc);
      if (run.code !== 0 || stop === null)
        console.error(`latency run ${i}: exit ${run.code}, no end recorded`);
      else lags.push(run.endedAt - stop);
    }
    console.log(
      `3 s execution, 10 s polling interval, ${lags.length} runs: the task ended a median ${median(lags).toFixed(0)} ms ` +
        `(worst ${Math.max(...lags).toFixed(0)} ms) after the execution (bar: within 1500 ms; a fixed 10 s poll: up to 10000 ms)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
    await ep.close();
  }
}

/** Calls of one operation in the endpoint's record: accepted, and throttled. */
function callCount(
  requests: ReadonlyArray<{
    operation: string;
    fault?: string | undefined;
    errorCode?: string | undefined;
  }>,
  operation: string,
): { accepted: number; throttled: number } {
  const calls = requests.filter((r) => r.operation === operation);
  const throttled = calls.filter(
    (r) => r.fault === "throttled" || r.errorCode === "ThrottlingException",
  ).length;
  return { accepted: calls.length - throttled, throttled };
}

/**
 * The largest excess of accepted calls over what the bucket allows in any window between
 * two accepted calls: at most `bucketSize + refill * seconds` may pass in a window.
 * Zero or less: the accepted calls stayed within the bucket.
 */
function worstBucketExcess(times: number[], bucketSize: number, refillPerSecond: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const seconds = ((sorted[j] as number) - (sorted[i] as number)) / 1000;
      worst = Math.max(worst, j - i + 1 - (bucketSize + seconds * refillPerSecond));
    }
  }
  return worst;
}

/** How the scale scenario launched its tasks, in words. */
function launchManner(): string {
  const parts = [
    LAUNCH_RATE === undefined ? "launched at once" : `launched at ${LAUNCH_RATE} per second`,
  ];
  if (LAUNCH_CONCURRENCY !== undefined)
    parts.push(`at most ${LAUNCH_CONCURRENCY} starting at a time`);
  return parts.join(", ");
}

async function benchScale(TASKS: number): Promise<void> {
  const interval = 10;
  console.log(
    `\n## ${TASKS} tasks waiting at once (polling interval ${interval} s, shared status checks ${WAIT_SHARING})\n`,
  );
  // The endpoint stands in for AWS, which does not share this machine's CPU: it runs in a
  // process of its own, and the tasks at a lower priority (nice 10) than it.
  const ep = await startEndpointProcess(REGION);
  const dir = await mkdtemp(join(tmpdir(), "ue-bench-"));
  // AWS's buckets in the state machine's region, unless --describe-bucket sets another.
  const aws = awsThrottling(REGION);
  const bucket = DESCRIBE_BUCKET ?? aws.DescribeExecution;
  // And AWS's for every other call a waiting task makes.
  const listBucket = aws.ListExecutions;
  const buckets = { ...aws, DescribeExecution: bucket };
  await ep.throttle(buckets);
  const kind = LARGE_BUCKET_REGIONS.includes(REGION)
    ? "one of the regions with AWS's larger buckets"
    : "AWS's buckets of every region but us-east-1, us-west-2 and eu-west-1";
  console.log(
    `State machine region ${REGION} (${kind}). DescribeExecution bucket: ${bucket.bucketSize} tokens, ` +
      `${bucket.refillPerSecond} per second (${DESCRIBE_BUCKET ? "set by --describe-bucket" : `AWS's in ${REGION}`}); ` +
      `StartExecution: ${aws.StartExecution.bucketSize} / ${aws.StartExecution.refillPerSecond}; ` +
      `ListExecutions: ${listBucket.bucketSize} / ${listBucket.refillPerSecond} (AWS's in ${REGION}); ` +
      `GetExecutionHistory ${aws.GetExecutionHistory.bucketSize} / ${aws.GetExecutionHistory.refillPerSecond}, ` +
      `ListMapRuns ${aws.ListMapRuns.bucketSize} / ${aws.ListMapRuns.refillPerSecond} and ` +
      `DescribeMapRun ${aws.DescribeMapRun.bucketSize} / ${aws.DescribeMapRun.refillPerSecond} (AWS's everywhere)\n`,
  );
  try {
    // Each execution is held at a Task state until every task waits, then they end one after
    // another over the spread.
    const arn = await ep.createStateMachine("scale", {
      StartAt: "Hold",
      States: { Hold: { Type: "Task", Resource: HOLD_RESOURCE, End: true } },
    });
    const env = benchEnv({
      UE_TASK_NAME: "scale",
      UE_WAIT_SHARING: WAIT_SHARING,
      UE_WAIT_SHARING_DIR: join(dir, "waits"),
    });
    const fields = {
      endpoint_url: ep.url,
      credentials: { user: ep.credentials.accessKeyId, password: ep.credentials.secretAccessKey },
      state_machine_arn: arn,
      wait_for_success_or_failure: true,
      polling_interval: interval,
    };
    // One start without waiting first, as any earlier task on the machine would have done:
    // it leaves the code cache the waiting tasks then use.
    await runTask({ ...fields, wait_for_success_or_failure: false }, env, dir, "warm-up");
    await ep.clear();
    await ep.throttle(buckets);
    const started = Date.now();
    let allExited = false;
    // Every other task runs in the bridge's environment, as a controller's task does, and the
    // rest as a plain command line: both kinds wait side by side, under the same load.
    const bridgePids = new Set<number>();
    const bridgeEnv = { ...env, ...BRIDGE_MALLOC };
    // With --launch-concurrency, a task is launched only while fewer than that many are
    // between their launch and their execution's start (or their exit).
    let launchedCount = 0;
    // Tasks that ended without an execution: past their start as well, though not counted
    // by the endpoint's accepted StartExecution calls.
    let endedUnstarted = 0;
    // Once the executions are released, a task launched later would wait for ever.
    let stopLaunching = false;
    const launchSlot = async (): Promise<void> => {
      if (LAUNCH_CONCURRENCY === undefined) return;
      for (;;) {
        const startedCount = (await ep.counts()).StartExecution.accepted;
        if (launchedCount - startedCount - endedUnstarted < LAUNCH_CONCURRENCY) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const launching: Array<Promise<TaskRun>> = [];
    const launchAll = (async () => {
      for (let i = 0; i < TASKS; i++) {
        if (LAUNCH_RATE !== undefined) {
          await new Promise((r) => setTimeout(r, started + (i * 1000) / LAUNCH_RATE - Date.now()));
        }
        await launchSlot();
        if (stopLaunching) break;
        launchedCount++;
        const inBridgeEnv = i % 2 === 0;
        launching.push(
          runTask(
            fields,
            inBridgeEnv ? bridgeEnv : env,
            dir,
            `s${i}`,
            10,
            inBridgeEnv ? bridgePids : undefined,
          ).then((run) => {
            const doc = (run.doc ? JSON.parse(run.doc) : {}) as {
              result?: { executionArn?: string };
            };
            if (!doc.result?.executionArn) endedUnstarted++;
            return run;
          }),
        );
      }
    })();
    const launched = launchAll
      .then(() => Promise.all(launching))
      .finally(() => {
        allExited = true;
      });
    // Every task has started its execution (or given up), then settles into its rhythm.
    while (
      (await ep.counts()).StartExecution.accepted < TASKS &&
      !allExited &&
      Date.now() - started < START_LIMIT_MS
    )
      await new Promise((r) => setTimeout(r, 500));
    const allStarted = (Date.now() - started) / 1000;
    const startsInTime = (await ep.counts()).StartExecution.accepted;
    if (startsInTime < TASKS) {
      // Those that started wait and end as the others; the rest are never launched.
      stopLaunching = true;
      console.log(
        `Only ${startsInTime} of ${TASKS} tasks started their executions within ${START_LIMIT_MS / 60_000} minutes (${launchedCount} launched); the rest are not launched.\n`,
      );
    }
    // What waiting costs: each task's CPU over the settled wait, over its own interval
    // between two samples (on a starved machine, reading hundreds of tasks takes seconds).
    const settleStart = new Map<number, { ticks: number; at: number }>();
    await new Promise((r) => setTimeout(r, 5_000));
    for (const pid of running) {
      const ticks = await cpuTicks(pid);
      if (ticks !== null) settleStart.set(pid, { ticks, at: performance.now() });
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS - 5_000));
    /** Clock ticks per second (100 = one core), summed over the tasks. */
    let waitingTickRate = 0;
    let waitingCounted = 0;
    const intervals: number[] = [];
    for (const [pid, before] of settleStart) {
      const after = await cpuTicks(pid);
      if (after === null) continue;
      const seconds = (performance.now() - before.at) / 1000;
      waitingTickRate += (after - before.ticks) / seconds;
      intervals.push(seconds);
      waitingCounted++;
    }
    const settleSeconds = intervals.length ? median(intervals) : 0;
    // Every task's memory while all of them wait.
    const pss: number[] = [];
    const pssBridge: number[] = [];
    const pssPlain: number[] = [];
    for (const pid of running) {
      const value = await pssMiB(pid);
      if (value === null) continue;
      pss.push(value);
      (bridgePids.has(pid) ? pssBridge : pssPlain).push(value);
    }
    const spreadMs =
      END_SPREAD_S !== undefined ? END_SPREAD_S * 1000 : (TASKS / bucket.refillPerSecond) * 1000;
    await ep.release(spreadMs);
    const runs = await launched;
    const elapsed = (Date.now() - started) / 1000;
    const succeeded = runs.filter(
      (r) =>
        r.code === 0 &&
        (JSON.parse(r.doc || "{}") as { result?: { status?: string } }).result?.status ===
          "SUCCEEDED",
    );
    const codes = new Map<string, number>();
    for (const r of runs) codes.set(String(r.code), (codes.get(String(r.code)) ?? 0) + 1);

    const docs = runs.map(
      (r) =>
        (r.doc ? JSON.parse(r.doc) : {}) as {
          result?: { executionArn?: string; stopDate?: string };
        },
    );
    const report = await ep.report(
      docs.flatMap((d) => (d.result?.executionArn ? [d.result.executionArn] : [])),
    );
    const acceptedTimes = report.accepted;
    const describes = report.requests.filter((r) => r.operation === "DescribeExecution");
    const throttled = describes.filter(
      (r) => r.fault === "throttled" || r.errorCode === "ThrottlingException",
    );
    const lists = report.ListExecutions;
    const starts = report.requests
      .filter((r) => r.operation === "StartExecution" && !r.errorCode)
      .map((r) => r.time);
    const excess = worstBucketExcess(acceptedTimes, bucket.bucketSize, bucket.refillPerSecond);

    // Lateness: how long after its execution's end each task ended, in polling intervals.
    const lateness: Array<{ id: number; ms: number; throttledInARow: number }> = [];
    for (const [i, r] of runs.entries()) {
      const executionArn = docs[i]?.result?.executionArn ?? null;
      const reported = docs[i]?.result?.stopDate;
      const stop =
        (executionArn ? report.stops[executionArn] : null) ??
        (reported ? Date.parse(reported) : null);
      if (stop === null) continue;
      let run = 0;
      let worstRun = 0;
      for (const d of describes.filter((x) => x.resource === executionArn)) {
        run = d.fault === "throttled" ? run + 1 : 0;
        worstRun = Math.max(worstRun, run);
      }
      lateness.push({ id: i, ms: r.endedAt - stop, throttledInARow: worstRun });
    }
    const worst = lateness.reduce((a, b) => (b.ms > a.ms ? b : a), {
      id: -1,
      ms: Number.NEGATIVE_INFINITY,
      throttledInARow: 0,
    });
    const worstRatio = worst.ms / (interval * 1000);

    printTable([
      ["measure", "value", "bar", ""],
      [
        "tasks that succeeded",
        `${succeeded.length}/${TASKS}`,
        `${TASKS}/${TASKS}`,
        succeeded.length === TASKS ? "holds" : "MISSED",
      ],
      ["exit codes", JSON.stringify(Object.fromEntries(codes)), "", ""],
      ["wall time of the whole run", `${elapsed.toFixed(1)} s`, "", ""],
      [
        "every task started (or gave up), after the launch",
        `${allStarted.toFixed(1)} s (${launchManner()}); then ${SETTLE_MS / 1000} s of waiting; then the executions ended over ${(spreadMs / 1000).toFixed(0)} s`,
        "",
        "",
      ],
      [
        "executions started, first to last",
        starts.length
          ? `${((Math.max(...starts) - Math.min(...starts)) / 1000).toFixed(1)} s after the first (${starts.length} started; the first ${((Math.min(...starts) - started) / 1000).toFixed(1)} s after the tasks were launched)`
          : "none",
        "",
        "",
      ],
      ["tasks waiting at once when memory was sampled", String(pss.length), "", ""],
      [
        `CPU of the waiting tasks over ${settleSeconds.toFixed(0)} s of waiting (median)`,
        waitingCounted
          ? `${waitingTickRate.toFixed(1)}% of one core for ${waitingCounted} tasks (${((waitingTickRate * 10) / waitingCounted).toFixed(2)} ms per task per second)`
          : "not measured",
        "",
        "",
      ],
      [
        "DescribeExecution accepted / throttled",
        `${acceptedTimes.length} / ${throttled.length}`,
        "",
        "",
      ],
      ["ListExecutions accepted / throttled", `${lists.accepted} / ${lists.throttled}`, "", ""],
      ...(["GetExecutionHistory", "ListMapRuns"] as const).map((operation) => {
        const { accepted, throttled } = callCount(report.requests, operation);
        return [`${operation} accepted / throttled`, `${accepted} / ${throttled}`, "", ""];
      }),
      [
        "accepted calls beyond the bucket, worst window",
        `${Math.max(0, excess).toFixed(3)}`,
        "0",
        // The times are taken just after the bucket's own decision, so a window can look a
        // few milliseconds shorter than it was: 0.05 tokens is 2 ms of refill at 25/s.
        excess < 0.05 ? "holds" : "MISSED",
      ],
      [
        "task lateness after its execution's end, median",
        `${(median(lateness.map((l) => l.ms)) / 1000).toFixed(2)} s`,
        "",
        "",
      ],
      [
        `worst task lateness / polling interval (${lateness.length} tasks with an end)`,
        lateness.length
          ? `${worstRatio.toFixed(2)}x (${(worst.ms / 1000).toFixed(1)} s, task ${worst.id}, at most ${worst.throttledInARow} throttled in a row)`
          : "n/a",
        "<= 1.5x",
        lateness.length === TASKS && worstRatio <= 1.5 ? "holds" : "MISSED",
      ],
      ...(
        [
          ["in the bridge's environment (as on an agent)", pssBridge],
          ["as a plain command line", pssPlain],
        ] as const
      ).map(([where, values]) => [
        `memory per waiting task (PSS) ${where}, median / worst of ${values.length}`,
        values.length
          ? `${median(values).toFixed(1)} / ${Math.max(...values).toFixed(1)} MiB`
          : "not measured",
        "<= 12 MiB",
        values.length && Math.max(...values) <= 12
          ? "holds"
          : values.length && median(values) <= 12
            ? "median holds, worst MISSED"
            : "MISSED",
      ]),
      [
        "most throttled status calls in a row, any task",
        String(Math.max(0, ...lateness.map((l) => l.throttledInARow))),
        "",
        "",
      ],
    ]);
    // The calls over time, in 20-second windows from the launch.
    const windowMs = 20_000;
    const windows = Math.ceil((Date.now() - started) / windowMs);
    const rows: string[][] = [
      [
        "seconds",
        "StartExecution",
        "DescribeExecution ok / throttled",
        "ListExecutions ok / throttled",
        "GetExecutionHistory ok / throttled",
        "ListMapRuns ok / throttled",
      ],
    ];
    for (let w = 0; w < windows; w++) {
      const inWindow = report.requests.filter(
        (r) => r.time >= started + w * windowMs && r.time < started + (w + 1) * windowMs,
      );
      const count = (operation: string) => {
        const { accepted, throttled } = callCount(inWindow, operation);
        return `${accepted} / ${throttled}`;
      };
      rows.push([
        `${(w * windowMs) / 1000}-${((w + 1) * windowMs) / 1000}`,
        String(callCount(inWindow, "StartExecution").accepted),
        count("DescribeExecution"),
        count("ListExecutions"),
        count("GetExecutionHistory"),
        count("ListMapRuns"),
      ]);
    }
    console.log("\nCalls over time (from the launch):\n");
    printTable(rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await ep.close();
  }
}

/** Runs another benchmark script of this folder in its own process. */
function runOther(name: string): Promise<void> {
  console.log(`\n## ${name}.ts\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(HERE, `${name}.ts`)], {
      stdio: "inherit",
    });
    child.on("close", (code) => {
      if (code !== 0) console.error(`${name}.ts exited ${code}`);
      resolve();
    });
  });
}

const size = (await stat(requireBuilt(BUNDLE))).size;
const zipSize = (await stat(requireBuilt(PACKAGE_ZIP))).size;
console.log(
  `bundle ${basename(BUNDLE)}: ${(size / 1024).toFixed(1)} KiB; package ${basename(PACKAGE_ZIP)}: ${(zipSize / 1024).toFixed(1)} KiB\n` +
    `${RUNS} runs per contender after one warm-up, interleaved; medians; measured with ${MEASURER}\n`,
);
if (ONLY.has("start")) await benchStart();
if (ONLY.has("rerun")) await benchRerun();
if (ONLY.has("credentials")) await benchCredentials();
if (ONLY.has("latency")) await benchLatency();
if (ONLY.has("scale")) for (const tasks of TASK_COUNTS) await benchScale(tasks);
for (const name of OTHERS) if (ONLY.has(name)) await runOther(name);
