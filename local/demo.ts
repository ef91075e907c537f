/**
 * `npm start`: the product's main job without an AWS account. Starts the local Step
 * Functions endpoint with the example state machines, runs the example workflow
 * (examples/workflows/demo.workflow.json) through the controller runner on the built
 * package, prints what an operator would see, and stops everything.
 *
 *   npm start                                  local endpoint (the default)
 *   npm start -- --verbose                     every field and each whole extension output
 *   npm start -- --aws --hello-arn ARN --report-arn ARN
 *   DEMO_TARGET=aws DEMO_HELLO_ARN=ARN DEMO_REPORT_ARN=ARN npm start
 *
 * By default it prints the short view (progress, output-only fields, each task's result)
 * and writes each task's whole extension output to .tmp/demo/ (--output-dir DIR).
 *
 * Against AWS the tasks use the standard credential chain (environment, profile, instance
 * role) and the region of the ARNs; deploy examples/state-machines/hello-world.asl.json and
 * report.asl.json first.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CALLBACK_WORKFLOW, callbackRoundTrip, RELEASE_TASK } from "./demo-callback.ts";
import { type LocalEndpoint, startLocalEndpoint } from "./endpoint/index.ts";
import { DEFAULT_PACKAGE, loadRunFile } from "./runner/cli.ts";
import { loadCredentialsFile } from "./runner/credentials.ts";
import type { TaskResult } from "./runner/events.ts";
import { consoleReporter } from "./runner/report.ts";
import { ControllerRunner } from "./runner/runner.ts";
import { type WorkflowDefinition, WorkflowRun } from "./runner/workflow.ts";

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(HERE), "..");
const EXAMPLES = join(ROOT, "examples");
const WORKFLOW = join(EXAMPLES, "workflows", "demo.workflow.json");

/** The environment of a local run: nothing from this machine's AWS configuration leaks in. */
function localEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
  env["AWS_CONFIG_FILE"] = "/nonexistent/aws-config";
  env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials";
  env["AWS_EC2_METADATA_DISABLED"] = "true";
  return env;
}

const USAGE = `Usage: npm start [-- options]

Runs the example workflow (and, locally, a callback round trip) through the controller
runner on the built package, against a local Step Functions endpoint or AWS.

  --verbose, -v       every field sent and each whole extension output, printed here
  --output-dir DIR    where each task's whole extension output is written (default .tmp/demo)
  --package ZIP       the template package (default: the built package in dist/)
  --aws               run against AWS (the standard credential chain); needs:
  --hello-arn ARN     hello-world deployed from examples/state-machines/hello-world.asl.json
  --report-arn ARN    report deployed from examples/state-machines/report.asl.json
  -h, --help          this text
`;

/** A path as the operator would type it: relative to the working folder when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/** Writes a task's whole extension output to `dir` (atomically, owner-only) and returns its path. */
function extensionOutputSaver(dir: string): (result: TaskResult) => string | null {
  return (result) => {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${result.name}.extension-output.json`);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(result.extensionOutput, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, path);
    return shown(path);
  };
}

/** The fields each task definition names, by task name: what the short view shows. */
function definitionsOf(...workflows: WorkflowDefinition[]): Map<string, Record<string, unknown>> {
  const byName = new Map<string, Record<string, unknown>>();
  for (const w of workflows) for (const t of w.tasks) byName.set(t.name, t.fields ?? {});
  return byName;
}

function described(definition: WorkflowDefinition): string {
  const text = (definition as { description?: unknown }).description;
  return typeof text === "string" ? `: ${text}` : "";
}

function parseDemoArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        aws: { type: "boolean" },
        "hello-arn": { type: "string" },
        "report-arn": { type: "string" },
        package: { type: "string" },
        verbose: { type: "boolean", short: "v" },
        "output-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    // Node's first sentence names the problem; the rest is about positionals.
    return (error as Error).message.split(". ")[0] ?? String(error);
  }
}

export async function demo(argv: string[], write: (text: string) => void): Promise<number> {
  const parsed = parseDemoArgs(argv);
  if (typeof parsed === "string") {
    write(`demo: ${parsed} (npm start -- --help shows the options)\n`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    write(USAGE);
    return 0;
  }
  const aws = values.aws === true || process.env["DEMO_TARGET"] === "aws";
  const verbose = values.verbose === true;
  const outputDir = resolve(values["output-dir"] ?? join(ROOT, ".tmp", "demo"));
  const packagePath = resolve(values.package ?? DEFAULT_PACKAGE);
  let endpoint: LocalEndpoint | null = null;
  let vars: Record<string, string>;
  if (aws) {
    const hello = values["hello-arn"] ?? process.env["DEMO_HELLO_ARN"];
    const report = values["report-arn"] ?? process.env["DEMO_REPORT_ARN"];
    if (!hello || !report) {
      write(
        "demo: --aws needs --hello-arn and --report-arn (or DEMO_HELLO_ARN and DEMO_REPORT_ARN)\n",
      );
      return 2;
    }
    vars = {
      endpoint_url: "",
      credential: "",
      hello_state_machine_arn: hello,
      report_state_machine_arn: report,
    };
    write(
      `Demo: the package ${shown(packagePath)} run by the controller runner against AWS\n` +
        "(the standard AWS credential chain, the region of the ARNs).\n",
    );
  } else {
    endpoint = await startLocalEndpoint({ definitionsDir: join(EXAMPLES, "state-machines") });
    const arn = (name: string) =>
      `arn:aws:states:${endpoint?.region}:${endpoint?.accountId}:stateMachine:${name}`;
    vars = {
      endpoint_url: endpoint.url,
      credential: "local-test",
      hello_state_machine_arn: arn("hello-world"),
      report_state_machine_arn: arn("report"),
    };
    write(
      `Demo: the package ${shown(packagePath)} run by the controller runner against a local\n` +
        `Step Functions endpoint on ${endpoint.url} (the state machines of examples/state-machines/).\n`,
    );
  }
  write(
    verbose
      ? `Each task's whole extension output is printed below and written to ${shown(outputDir)}/.\n`
      : `Each task's whole extension output is written to ${shown(outputDir)}/. npm start -- --verbose prints\n` +
          "it here, with every field sent and the program's INFO log lines.\n",
  );

  const definition = await loadRunFile(WORKFLOW);
  const callbackDefinition = await loadRunFile(CALLBACK_WORKFLOW);
  const release = JSON.parse(
    readFileSync(RELEASE_TASK, "utf8"),
  ) as WorkflowDefinition["tasks"][number];
  const definitions = definitionsOf(definition, callbackDefinition, {
    name: "release",
    tasks: [release],
  });
  const credentials = await loadCredentialsFile(
    definition.credentialsFile ?? join(EXAMPLES, "credentials.json"),
  );
  const runner = await ControllerRunner.open({
    packagePath,
    credentials,
    env: aws ? process.env : localEnv(),
    onEvent: consoleReporter(write, {
      compact: !verbose,
      logs: verbose ? true : "warnings",
      definitions: (task) => definitions.get(task),
      saveExtensionOutput: extensionOutputSaver(outputDir),
    }),
  });
  const run = new WorkflowRun(runner, definition, { vars });
  const interrupt = () => run.cancel("cancelled by the operator (Ctrl-C)");
  process.on("SIGINT", interrupt);
  try {
    write(
      `\n1. Workflow ${definition.name} (examples/workflows/demo.workflow.json)${described(definition)}\n`,
    );
    const result = await run.run();
    let callback = "skipped";
    let callbackOk = true;
    if (endpoint) {
      write(
        `\n2. Callback round trip (examples/workflows/callback.workflow.json)${described(callbackDefinition)}\n`,
      );
      const trip = await callbackRoundTrip(
        runner,
        endpoint,
        {
          endpoint_url: endpoint.url,
          credential: "local-test",
          approval_state_machine_arn: `arn:aws:states:${endpoint.region}:${endpoint.accountId}:stateMachine:approval`,
        },
        undefined,
        ({ batchId, workMs }) =>
          write(
            `${new Date().toISOString().slice(11, 23)}  approvals queue: a message for ${batchId} with the task token; release-approval answers it after ${workMs / 1000} s of work\n`,
          ),
      );
      callbackOk = trip.awaited.state === "Success" && trip.released.state === "Success";
      callback = `await-approval ${trip.awaited.state}, release-approval ${trip.released.state}`;
    } else {
      write(
        "\n2. Callback round trip: skipped against AWS. It needs the local endpoint, which stands in\n" +
          "   for the approvals queue (SQS) that hands the task token to release-approval.\n",
      );
    }
    write(
      `\nDemo finished: workflow ${result.name} ${result.state}; callback round trip ${callback}\n`,
    );
    return result.state === "Success" && callbackOk ? 0 : 1;
  } finally {
    process.off("SIGINT", interrupt);
    await runner.close();
    await endpoint?.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === HERE) {
  demo(process.argv.slice(2), (text) => process.stdout.write(text)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`demo failed: ${String((error as Error)?.stack ?? error)}\n`);
      process.exitCode = 1;
    },
  );
}
