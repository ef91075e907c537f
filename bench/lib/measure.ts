/**
 * Whole-process measurements for the benchmark scripts: wall time, CPU time (user + system)
 * and peak RSS of the command, from wait4() through rusage.py when Python is installed
 * (microseconds), else from GNU time (CPU time in 10 ms steps), else wall time only. CPU
 * time moves less than wall time when other work shares the machine, so both are shown.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const RUSAGE = join(dirname(fileURLToPath(import.meta.url)), "rusage.py");

type Measurer = "rusage.py" | "GNU time" | "none";

/** How commands are measured on this machine. */
export const MEASURER: Measurer =
  spawnSync("python3", ["-c", "import os; os.posix_spawnp; os.wait4"]).status === 0
    ? "rusage.py"
    : existsSync("/usr/bin/time")
      ? "GNU time"
      : "none";

export interface Sample {
  wallMs: number;
  /** Peak resident set size; null when not measured. */
  maxRssKiB: number | null;
  /** User plus system CPU time; null when not measured. */
  cpuMs: number | null;
  code: number | null;
  stderr: string;
}

export interface Command {
  cmd: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
}

function wrapped({ cmd, argv }: Command): [string, string[]] {
  if (MEASURER === "rusage.py") return ["python3", [RUSAGE, cmd, ...argv]];
  if (MEASURER === "GNU time") return ["/usr/bin/time", ["-f", "@@%M %U %S", cmd, ...argv]];
  return [cmd, argv];
}

/** Runs a command once, its output discarded, and measures it. */
export function measure(command: Command): Promise<Sample> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const [file, args] = wrapped(command);
    // Standard input a pipe held open, as the bridge gives the program (its cancel channel).
    const child = spawn(file, args, { env: command.env, stdio: ["pipe", "ignore", "pipe"] });
    child.stdin.on("error", () => {});
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("error", (error) => {
      stderr += String(error);
    });
    child.on("close", (code) => {
      const outerMs = Number(process.hrtime.bigint() - started) / 1e6;
      const found = MEASURER === "none" ? null : /@@(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      if (!found) {
        resolve({ wallMs: outerMs, maxRssKiB: null, cpuMs: null, code, stderr });
        return;
      }
      const [rssKiB, first, second] = [Number(found[1]), Number(found[2]), Number(found[3])];
      resolve(
        MEASURER === "rusage.py"
          ? // CPU seconds, then the command's own wall seconds.
            {
              wallMs: second * 1000,
              maxRssKiB: rssKiB,
              cpuMs: first * 1000,
              code,
              stderr: stderr.slice(0, found.index),
            }
          : // User, then system CPU seconds.
            {
              wallMs: outerMs,
              maxRssKiB: rssKiB,
              cpuMs: (first + second) * 1000,
              code,
              stderr: stderr.slice(0, found.index),
            },
      );
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** True when the command runs and exits 0 (e.g. `aws --version`). */
export function commandWorks(cmd: string, argv: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("close", (code) => resolve(code === 0));
  });
}

export interface Contender {
  name: string;
  /** A fresh command for each run (e.g. a new execution name). */
  make: () => Command;
}

export interface Summary {
  name: string;
  runs: number;
  failed: number;
  /** Medians; NaN or null when nothing was measured. */
  wallMs: number;
  rssMiB: number | null;
  cpuMs: number | null;
  firstFailure: string | null;
}

/**
 * Runs every contender `runs` times, interleaved (one run of each, then the next round), after
 * one discarded warm-up round: a burst of load from elsewhere on the machine then hits all of
 * them alike instead of one of them.
 */
export async function interleaved(contenders: Contender[], runs: number): Promise<Summary[]> {
  const samples = contenders.map(() => [] as Sample[]);
  for (let round = -1; round < runs; round++) {
    for (const [i, c] of contenders.entries()) {
      const sample = await measure(c.make());
      if (round >= 0) samples[i]?.push(sample);
    }
  }
  return contenders.map((c, i) => summarise(c.name, samples[i] ?? []));
}

export function summarise(name: string, samples: Sample[]): Summary {
  const ok = samples.filter((s) => s.code === 0);
  const rss = ok.map((s) => s.maxRssKiB).filter((x): x is number => x !== null);
  const cpu = ok.map((s) => s.cpuMs).filter((x): x is number => x !== null);
  const failure = samples.find((s) => s.code !== 0);
  return {
    name,
    runs: samples.length,
    failed: samples.length - ok.length,
    wallMs: median(ok.map((s) => s.wallMs)),
    rssMiB: rss.length ? median(rss) / 1024 : null,
    cpuMs: cpu.length ? median(cpu) : null,
    firstFailure: failure ? `exit ${failure.code}: ${failure.stderr.slice(-1500)}` : null,
  };
}

/** Prints rows as aligned columns; the first row is the header. */
export function printTable(rows: string[][]): void {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] as number)).join("  "));
}

/** The standard columns for whole-process summaries. */
export function summaryRows(summaries: Summary[]): string[][] {
  return [
    ["scenario", "median wall", "median CPU", "median peak RSS", "ok"],
    ...summaries.map((s) => [
      s.name,
      `${s.wallMs.toFixed(0)} ms`,
      s.cpuMs === null ? "n/a" : `${s.cpuMs.toFixed(0)} ms`,
      s.rssMiB === null ? "n/a" : `${s.rssMiB.toFixed(1)} MiB`,
      `${s.runs - s.failed}/${s.runs}`,
    ]),
  ];
}

/** Prints the first failure of each contender that failed. */
export function printFailures(summaries: Summary[]): void {
  for (const s of summaries) {
    if (s.firstFailure)
      console.error(`${s.name}: ${s.failed} run(s) failed; first: ${s.firstFailure}`);
  }
}
