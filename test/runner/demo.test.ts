// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the demo prints the runner's ${...} references
/**
 * `npm start` as a newcomer sees it: a short view by default (no document dumps, a line
 * budget, one timestamp a line) with each whole extension output in a file it names;
 * everything with --verbose; against AWS it says that it skips the callback round trip.
 * These are assertions on the output's shape, not on timing.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { demo } from "../../local/demo.ts";
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type LocalEndpoint,
  startLocalEndpoint,
} from "../../local/endpoint/index.ts";
import { cleanEnv } from "../helpers/bundle.ts";
import { runTool } from "../helpers/local-tools.ts";
import { PACKAGE_ZIP, ROOT, requireBuilt } from "../helpers/paths.ts";

const TIME = /\d\d:\d\d:\d\d\.\d{3}/g;
const TASKS = ["start-hello", "report", "await-approval", "release-approval"];

/** Lines of a pretty-printed JSON document: a lone bracket, or an indented "key": value. */
function jsonBlockLines(text: string): string[] {
  return text.split("\n").filter((l) => /^\s*[[\]{}],?$/.test(l) || /^\s+"[^"]+": /.test(l));
}

function secretsIn(text: string): string[] {
  const found: string[] = [];
  if (text.includes(DEFAULT_SECRET_ACCESS_KEY)) found.push("the secret access key");
  // The local endpoint's task tokens start with this prefix.
  if (/AQCLocal[A-Za-z0-9_-]{20}/.test(text)) found.push("a task token");
  return found;
}

describe("npm start", () => {
  let dir: string;
  before(async () => {
    requireBuilt(PACKAGE_ZIP);
    dir = await mkdtemp(join(tmpdir(), "ue-demo-test-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("by default: a short view, and each whole extension output in a file it names", async () => {
    const outputDir = join(dir, "short");
    let printed = "";

    const code = await demo(["--output-dir", outputDir], (t) => {
      printed += t;
    });

    assert.equal(code, 0, printed);
    const lines = printed.trimEnd().split("\n");
    assert.ok(lines.length <= 70, `${lines.length} lines:\n${printed}`);
    assert.deepEqual(jsonBlockLines(printed), []);
    assert.deepEqual(
      lines.filter((l) => (l.match(TIME)?.length ?? 0) > 1),
      [],
    );
    // Progress, the output-only fields as they arrive, each task's result.
    assert.match(printed, /start-hello\b.*output field execution_status = RUNNING/);
    assert.match(
      printed,
      /result: SUCCEEDED, output \{"greeting":"Hello, operator","orderCount":3,"batchId":"batch-2024-001"\}/,
    );
    assert.match(
      printed,
      /result: SUCCEEDED, output \{"report":"Hello, operator \(3 orders in batch-2024-001\)"/,
    );
    assert.match(
      printed,
      /result: SendTaskSuccess, output \{"approved":true,"approvedBy":"night shift"/,
    );
    // How report got its input: the reference as written and what it resolved to.
    assert.ok(
      printed.includes(
        `input: Hello, operator  from \${_outputJsonPathFromTask('start-hello','EXTENSION','$.result.outputParsed.greeting')}`,
      ),
      printed,
    );
    assert.match(printed, /input: 3 {2}from .*orderCount'\)\}/);
    // The text the execution got: the order count outside quotes stays a number.
    assert.match(printed, /input=\{"greeting": "Hello, operator", "orderCount": 3, "batchId"/);
    assert.match(
      printed,
      // No task name reaches the program (no variables are sent): the name is the instance's.
      /input: arn:aws:states:us-east-1:123456789012:execution:hello-world:ue-aws-sfn-[0-9a-f]{32}-/,
    );
    assert.match(printed, /approvals queue: a message for batch-2024-001 with the task token/);
    assert.match(
      printed,
      /Demo finished: workflow demo Success; callback round trip await-approval Success, release-approval Success/,
    );
    assert.deepEqual(secretsIn(printed), []);

    const named = [...printed.matchAll(/whole extension output: (\S+)/g)].map(([, p = ""]) =>
      isAbsolute(p) ? p : join(process.cwd(), p),
    );
    assert.deepEqual(
      named.sort(),
      TASKS.map((task) => join(outputDir, `${task}.extension-output.json`)).sort(),
    );
    for (const task of TASKS) {
      const file = join(outputDir, `${task}.extension-output.json`);
      const text = await readFile(file, "utf8");
      const doc = JSON.parse(text) as {
        exit_code: number;
        invocation: { fields: Record<string, unknown> };
        result: unknown;
      };
      assert.equal(doc.exit_code, 0);
      assert.equal(doc.invocation.fields["credentials_password"], "****");
      assert.ok(doc.result, `${task}: the document has its result`);
      assert.deepEqual(secretsIn(text), [], task);
      assert.equal((await stat(file)).mode & 0o077, 0, `${task}: the file is the owner's only`);
    }
  });

  test("--verbose prints every whole extension output and the program's log lines", async () => {
    let printed = "";

    const code = await demo(["--verbose", "--output-dir", join(dir, "verbose")], (t) => {
      printed += t;
    });

    assert.equal(code, 0, printed);
    assert.equal(printed.match(/^\s+"invocation": \{$/gm)?.length, 4);
    assert.match(printed, /"report": "Hello, operator \(3 orders in batch-2024-001\)"/);
    assert.match(printed, /\| INFO {2}state "AwaitApproval" is waiting for a callback/);
    assert.match(printed, /fields sent: .*maximum_wait_action=Stop Execution/);
    const lines = printed.split("\n");
    assert.deepEqual(
      lines.filter((l) => !l.includes('Date": "') && (l.match(TIME)?.length ?? 0) > 1),
      [],
    );
    assert.deepEqual(secretsIn(printed), []);
  });
});

describe("npm start -- --aws", () => {
  let ep: LocalEndpoint;
  before(async () => {
    requireBuilt(PACKAGE_ZIP);
    ep = await startLocalEndpoint({ definitionsDir: join(ROOT, "examples", "state-machines") });
  });
  after(() => ep.close());

  test("runs the workflow with the credential chain and says that it skips the callback round trip", async () => {
    const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
    const dir = await mkdtemp(join(tmpdir(), "ue-demo-aws-"));
    // AWS is played by the local endpoint, reached the way the SDK allows for any service.
    const env = cleanEnv({
      AWS_ENDPOINT_URL_SFN: ep.url,
      AWS_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: DEFAULT_SECRET_ACCESS_KEY,
    });

    const run = await runTool(
      "demo.ts",
      [
        "--aws",
        "--hello-arn",
        arn("hello-world"),
        "--report-arn",
        arn("report"),
        "--output-dir",
        dir,
      ],
      env,
    );
    await rm(dir, { recursive: true, force: true });

    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /against AWS/);
    assert.match(
      run.stdout,
      /Callback round trip: skipped against AWS\. It needs the local endpoint/,
    );
    assert.match(run.stdout, /Demo finished: workflow demo Success; callback round trip skipped/);
    assert.deepEqual(
      ep.requests.filter((r) => r.operation === "StartExecution").map((r) => r.resource),
      [arn("hello-world"), arn("report")],
    );
    assert.deepEqual(secretsIn(run.stdout + run.stderr), []);
  });

  test("without the ARNs: one line naming them, exit code 2", async () => {
    const run = await runTool("demo.ts", ["--aws"]);

    assert.equal(run.code, 2);
    assert.equal(
      run.stdout,
      "demo: --aws needs --hello-arn and --report-arn (or DEMO_HELLO_ARN and DEMO_REPORT_ARN)\n",
    );
  });
});
