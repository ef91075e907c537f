/** Opens a controller runner on the fixture package with a plan, collecting its events. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CredentialStore } from "../../local/runner/credentials.ts";
import type { RunnerEvent } from "../../local/runner/events.ts";
import { ControllerRunner } from "../../local/runner/runner.ts";
import type { Template } from "../../src/fields/template-types.ts";
import { buildFixturePackage } from "./fixture-package.ts";

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
    fields: Record<string, unknown>;
    fieldsFileMode: string;
  }>;
  close(): Promise<void>;
}

export async function openFixtureRunner(
  plan: Record<string, unknown> = {},
  options: { template?: Template; cancelGraceMs?: number } = {},
): Promise<FixtureRunner> {
  const dir = await mkdtemp(join(tmpdir(), "ue-runner-test-"));
  const packagePath = await buildFixturePackage(dir, options.template);
  await writeFile(join(dir, "plan.json"), JSON.stringify(plan));
  const events: RunnerEvent[] = [];
  const runner = await ControllerRunner.open({
    packagePath,
    credentials: TEST_CREDENTIALS,
    env: {
      PATH: process.env["PATH"] ?? "",
      FIXTURE_PLAN: join(dir, "plan.json"),
      FIXTURE_RECORD_DIR: dir,
      UE_FIELD_REGION: "stray",
    },
    cancelGraceMs: options.cancelGraceMs ?? 5000,
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
