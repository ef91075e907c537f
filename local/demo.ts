/**
 * `npm start`: the product's main job without an AWS account. Starts the local Step
 * Functions endpoint with the example state machines, runs the example workflow
 * (examples/workflows/demo.workflow.json) through the controller runner on the built
 * package, prints what an operator would see, and stops everything.
 *
 *   npm start                                  local endpoint (the default)
 *   npm start -- --aws --hello-arn ARN --report-arn ARN
 *   DEMO_TARGET=aws DEMO_HELLO_ARN=ARN DEMO_REPORT_ARN=ARN npm start
 *
 * Against AWS the tasks use the standard credential chain (environment, profile, instance
 * role) and the region of the ARNs; deploy examples/state-machines/hello-world.asl.json and
 * report.asl.json first.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { callbackRoundTrip } from "./demo-callback.ts";
import { type LocalEndpoint, startLocalEndpoint } from "./endpoint/index.ts";
import { DEFAULT_PACKAGE, loadRunFile } from "./runner/cli.ts";
import { loadCredentialsFile } from "./runner/credentials.ts";
import { consoleReporter } from "./runner/report.ts";
import { ControllerRunner } from "./runner/runner.ts";
import { WorkflowRun } from "./runner/workflow.ts";

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

export async function demo(argv: string[], write: (text: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      aws: { type: "boolean" },
      "hello-arn": { type: "string" },
      "report-arn": { type: "string" },
      package: { type: "string" },
    },
  });
  const aws = values.aws === true || process.env["DEMO_TARGET"] === "aws";
  const rule = `${"=".repeat(78)}\n`;
  let endpoint: LocalEndpoint | null = null;
  let vars: Record<string, string>;
  if (aws) {
    const hello = values["hello-arn"] ?? process.env["DEMO_HELLO_ARN"];
    const report = values["report-arn"] ?? process.env["DEMO_REPORT_ARN"];
    if (!hello || !report) {
      write("--aws needs --hello-arn and --report-arn (or DEMO_HELLO_ARN and DEMO_REPORT_ARN)\n");
      return 2;
    }
    vars = {
      endpoint_url: "",
      credential: "",
      hello_state_machine_arn: hello,
      report_state_machine_arn: report,
    };
    write(`${rule}Demo against AWS: state machines ${hello} and ${report}\n`);
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
      `${rule}Local Step Functions endpoint on ${endpoint.url} with the state machines of examples/state-machines/\n` +
        `Package: ${DEFAULT_PACKAGE}\nWorkflow: examples/workflows/demo.workflow.json\n${rule}`,
    );
  }

  const definition = await loadRunFile(WORKFLOW);
  const credentials = await loadCredentialsFile(
    definition.credentialsFile ?? join(EXAMPLES, "credentials.json"),
  );
  const runner = await ControllerRunner.open({
    packagePath: resolve(values.package ?? DEFAULT_PACKAGE),
    credentials,
    env: aws ? process.env : localEnv(),
    onEvent: consoleReporter(write),
  });
  const run = new WorkflowRun(runner, definition, { vars });
  const interrupt = () => run.cancel("cancelled by the operator (Ctrl-C)");
  process.on("SIGINT", interrupt);
  try {
    const result = await run.run();
    write(`${rule}Demo: workflow ${result.name} ${result.state}\n`);
    let callbackOk = true;
    if (endpoint) {
      write(
        `${rule}Callback round trip: await-approval waits on a task token; release-approval answers it\n${rule}`,
      );
      const trip = await callbackRoundTrip(runner, endpoint, {
        endpoint_url: endpoint.url,
        credential: "local-test",
        approval_state_machine_arn: `arn:aws:states:${endpoint.region}:${endpoint.accountId}:stateMachine:approval`,
      });
      callbackOk = trip.awaited.state === "Success" && trip.released.state === "Success";
      write(
        `${rule}Callback round trip: await-approval ${trip.awaited.state}, release-approval ${trip.released.state}\n`,
      );
    }
    write(`${rule}Demo finished\n`);
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
