/** Opens a controller runner on the fixture package with a plan, collecting its events. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { randomBytes } from "node:crypto";
import type { AgentOptions } from "../../local/runner/agent.ts";
import { loadCredentialsFile } from "../../local/runner/credentials.ts";
import type { CredentialStore } from "../../local/runner/credentials.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import { ControllerRunner } from "../../local/runner/runner.ts";
import type { Template } from "../../src/fields/template-types.ts";
import { cleanEnv } from "./bundle.ts";
import { buildFixturePackage } from "./fixture-package.ts";
import { PACKAGE_ZIP, ROOT, requireBuilt } from "./paths.ts";

export const CANARY_SECRET = "CanarySecretValue0000000000000000000000";
export const TEST_CREDENTIALS: CredentialStore = new Map([
  ["local-test", { user: "AKIDCANARYUSER000001", password: CANARY_SECRET }],
]);

export interface FixtureRunner {
  runner: ControllerRunner;
  events: RunnerEvent[];
  dir: string;
  /** What the fixture program received on the given run. */
  received(
    task: string,
    count: number,
  ): Promise<{
    env: Record<string, string>;
    /** The program's whole environment and argv (node, bundle path, arguments). */
    allEnv: Record<string, string>;
    argv: string[];
    fields: Record<string, unknown>;
    fieldsFileMode: string;
    /** The program's process id. */
    pid: number;
  }>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  template?: Template;
  cancelGraceMs?: number;
  /** How long the bridge waits after forwarding a cancel (its agent-side setting). */
  bridgeCancelWaitSeconds?: number;
  archive?: "zip" | "folder";
  /** Archive entries left out (to make a broken package). */
  omitFromArchive?: readonly string[];
  /** How the stand-in agent hands fields over (record / flattened, update call, overrides). */
  agent?: AgentOptions;
  /** Extra agent environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
}

export async function openFixtureRunner(
  plan: Record<string, unknown> = {},
  options: FixtureOptions = {},
): Promise<FixtureRunner> {
  const dir = await mkdtemp(join(tmpdir(), "ue-runner-test-"));
  const packagePath = await buildFixturePackage(dir, options.template, options.omitFromArchive);
  await writeFile(join(dir, "plan.json"), JSON.stringify(plan));
  const events: RunnerEvent[] = [];
  const runner = await ControllerRunner.open({
    packagePath,
    credentials: TEST_CREDENTIALS,
    env: agentEnv(dir, options),
    cancelGraceMs: options.cancelGraceMs ?? 20_000,
    // The task name travels in the instance id: the agent hands the program no task name.
    newInstanceId: (name) => `${name}.${randomBytes(8).toString("hex")}`,
    ...(options.agent ? { agent: options.agent } : {}),
    ...(options.archive ? { archive: options.archive } : {}),
    onEvent: (e) => events.push(e),
  });
  return {
    runner,
    events,
    dir,
    received: async (task, count) =>
      JSON.parse(await readFile(join(dir, `${task}-${count}.json`), "utf8")),
    close: async () => {
      await runner.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The agent's environment for fixture runs: a private bridge cache, the fixture's plan. */
function agentEnv(dir: string, options: FixtureOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env["PATH"] ?? "",
    FIXTURE_PLAN: join(dir, "plan.json"),
    FIXTURE_RECORD_DIR: dir,
    UE_FIELD_REGION: "stray",
    UE_AWS_STEPFUNCTIONS_CACHE: join(dir, "bridge-cache"),
    UE_AWS_STEPFUNCTIONS_CANCEL_WAIT: String(options.bridgeCancelWaitSeconds ?? 10),
  };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Resolves with the first event that matches. */
export function nextEvent(
  fixture: FixtureRunner,
  match: (e: RunnerEvent) => boolean,
): Promise<RunnerEvent> {
  const seen = fixture.events.find(match);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const stop = fixture.runner.subscribe((e) => {
      if (match(e)) {
        stop();
        resolve(e);
      }
    });
  });
}

/** An opener for one test file: every fixture runner it opens is closed after the file's tests. */
export function fixtureRunners(): typeof openFixtureRunner {
  const opened: FixtureRunner[] = [];
  after(async () => {
    await Promise.all(opened.map((f) => f.close()));
  });
  return async (...args) => {
    const f = await openFixtureRunner(...args);
    opened.push(f);
    return f;
  };
}

/**
 * A runner on the built package with the examples' local credentials, as the demo uses;
 * `env` changes the agent's environment (undefined removes a variable).
 */
export async function openPackageRunner(
  onEvent: (e: RunnerEvent) => void,
  env: Record<string, string | undefined> = {},
): Promise<ControllerRunner> {
  return ControllerRunner.open({
    packagePath: requireBuilt(PACKAGE_ZIP),
    credentials: await loadCredentialsFile(join(ROOT, "examples", "credentials.json")),
    env: cleanEnv(env),
    cancelGraceMs: 10_000,
    onEvent,
  });
}
