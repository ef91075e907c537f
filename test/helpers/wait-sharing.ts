/**
 * The set-up the end-to-end suites of shared waiting use: one local endpoint per suite, a
 * new state machine and a fresh private shared folder per test, and real bundles waiting.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import { assertValidDoc, type BundleRun, runBundle } from "./bundle.ts";

export const SECOND_KEY = {
  accessKeyId: "AKIDSECONDWAITER0001",
  secretAccessKey: "second-canary-SECRET/+=",
};

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await delay(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Every file under a folder, with its content. */
export async function filesUnder(dir: string): Promise<Array<{ path: string; text: string }>> {
  const out: Array<{ path: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, text: await readFile(path, "utf8").catch(() => "") });
  }
  return out;
}

/** The one group folder the tasks of a test created. */
export async function groupFolder(root: string): Promise<string> {
  return until("the group folder", async () => {
    const entries = await readdir(root).catch(() => [] as string[]);
    return entries.length === 1 ? join(root, entries[0] as string) : undefined;
  });
}

export function assertSucceeded(run: BundleRun): void {
  assert.equal(run.code, 0, run.stderr);
  assertValidDoc(run.doc);
  assert.equal(run.doc["result"].status, "SUCCEEDED");
  // Seen by the waiting loop, not only by the last look at the maximum wait.
  assert.doesNotMatch(run.doc["status_description"], /maximum wait/);
}

export interface WaiterOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  fields?: Record<string, unknown>;
  key?: { accessKeyId: string; secretAccessKey: string };
  onStart?: (child: ChildProcess, outputFieldsFile: string) => void;
  timeoutMs?: number;
}

/**
 * Registers the suite's endpoint (two identities) in the current describe; the tests of a
 * suite run one after the other, so `root` is the shared folder of the test running.
 */
export function sharingSuite() {
  let machines = 0;
  const suite = {
    ep: undefined as unknown as LocalEndpoint,
    root: "",
    /**
     * A new state machine that waits this long (or runs one Task state of this resource), and
     * a fresh shared folder.
     */
    async setUp(seconds: number | { resource: string }): Promise<string> {
      suite.root = await mkdtemp(join(tmpdir(), "ue-sfn-share-"));
      await rm(suite.root, { recursive: true });
      const only =
        typeof seconds === "number"
          ? { Type: "Wait", Seconds: seconds, End: true }
          : { Type: "Task", Resource: seconds.resource, End: true };
      return suite.ep.createStateMachine({
        name: `share${machines++}`,
        definition: { StartAt: "Only", States: { Only: only } },
      });
    },
    calls: (operation: string, machineOrExecution?: string) =>
      suite.ep.requests.filter(
        (r) =>
          r.operation === operation &&
          (machineOrExecution === undefined || (r.resource ?? "").includes(machineOrExecution)),
      ),
    /** A task starting an execution of the state machine and waiting for its end. */
    waiter(stateMachineArn: string, extra: WaiterOptions = {}): Promise<BundleRun> {
      const key = extra.key ?? suite.ep.credentials;
      return runBundle({
        fields: {
          action: ["Start Asynchronous Execution"],
          endpoint_url: suite.ep.url,
          credentials: { user: key.accessKeyId, password: key.secretAccessKey },
          state_machine_arn: stateMachineArn,
          wait_for_success_or_failure: true,
          polling_interval: 2,
          ...extra.fields,
        },
        env: { UE_WAIT_SHARING_DIR: suite.root, ...extra.env },
        ...(extra.onStart ? { onStart: extra.onStart } : {}),
        ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}),
        ...(extra.cwd ? { cwd: extra.cwd } : {}),
      });
    },
  };
  before(async () => {
    suite.ep = await startLocalEndpoint({
      credentials: [
        { accessKeyId: "AKIDFIRSTWAITER00001", secretAccessKey: "first-canary-SECRET/+=" },
        SECOND_KEY,
      ],
    });
  });
  after(async () => {
    await suite.ep.close();
  });
  return suite;
}
