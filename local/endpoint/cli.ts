/**
 * Command line: npm run local-endpoint -- --port N [--host H] [--region R]
 *   [--access-key-id K --secret-access-key S] [--definitions DIR] [--throttle-like-aws]
 *   [--max-open-executions N]
 * Prints the URL and the state machines when ready, and each task token as its
 * `.waitForTaskToken` task starts waiting; stops on SIGTERM/SIGINT.
 */
import { parseArgs } from "node:util";
import {
  awsThrottling,
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type StateMachineSummary,
  startLocalEndpoint,
  type TaskTokenInfo,
} from "./index.ts";

const USAGE = `Usage: npm run local-endpoint -- [--port N] [--host H] [--region R]
    [--access-key-id K --secret-access-key S] [--definitions DIR] [--throttle-like-aws]
    [--max-open-executions N]

  --port N               port to listen on (0 or omitted: a free port)
  --host H               address to bind (default 127.0.0.1)
  --region R             region used in ARNs (default us-east-1)
  --access-key-id K      accepted access key (default ${DEFAULT_ACCESS_KEY_ID})
  --secret-access-key S  its secret (default: the documented test secret)
  --definitions DIR      create <name>.asl.json as STANDARD and <name>.express.asl.json as EXPRESS machines
  --throttle-like-aws    throttle the calls of a waiting task with AWS's documented buckets
                         for the region (printed at start: DescribeExecution, StartExecution,
                         ListExecutions, GetExecutionHistory, ListMapRuns, DescribeMapRun)
  --max-open-executions N
                         the account's quota of open executions: with N Standard executions
                         running, StartExecution and RedriveExecution get ExecutionLimitExceeded

Each task token is printed as its .waitForTaskToken task starts waiting, so that it can be
answered by hand (Send Task Success, Send Task Failure, Send Task Heartbeat).
`;

/** The state machines as a table: name, type, ARN. */
export function stateMachineTable(machines: readonly StateMachineSummary[]): string {
  if (machines.length === 0) {
    return "State machines: none yet (--definitions DIR creates them at start; CreateStateMachine adds more)\n";
  }
  const width = Math.max(...machines.map((m) => m.name.length));
  const rows = machines.map((m) => `  ${m.name.padEnd(width)}  ${m.type.padEnd(8)}  ${m.arn}\n`);
  return `State machines (${machines.length}):\n${rows.join("")}`;
}

/** The lines announcing a waiting task's token; the token alone on the last line. */
export function taskTokenNotice(info: TaskTokenInfo): string {
  return (
    `Task token of state ${info.stateName} in ${info.executionArn} (waiting for Send Task Success, Failure or Heartbeat).\n` +
    "Printed because this endpoint is local and throw-away: in AWS a task token is a secret, never printed.\n" +
    `${info.taskToken}\n`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      region: { type: "string" },
      "access-key-id": { type: "string" },
      "secret-access-key": { type: "string" },
      definitions: { type: "string" },
      "throttle-like-aws": { type: "boolean" },
      "max-open-executions": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`Invalid --port: ${values.port}`);
  const maxOpen =
    values["max-open-executions"] === undefined ? undefined : Number(values["max-open-executions"]);
  if (maxOpen !== undefined && !(Number.isInteger(maxOpen) && maxOpen >= 0))
    throw new Error(`Invalid --max-open-executions: ${values["max-open-executions"]}`);
  const keyId = values["access-key-id"];
  const secret = values["secret-access-key"];
  if ((keyId === undefined) !== (secret === undefined)) {
    throw new Error("--access-key-id and --secret-access-key go together");
  }

  const ep = await startLocalEndpoint({
    port,
    ...(values.host ? { host: values.host } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(keyId && secret ? { credentials: [{ accessKeyId: keyId, secretAccessKey: secret }] } : {}),
    ...(values.definitions ? { definitionsDir: values.definitions } : {}),
    ...(maxOpen !== undefined ? { maxOpenExecutions: maxOpen } : {}),
  });
  let throttling = "";
  if (values["throttle-like-aws"]) {
    ep.faults.throttleLikeAws(ep.region);
    const buckets = Object.entries(awsThrottling(ep.region)).map(
      ([op, b]) => `${op} ${b.bucketSize} tokens, ${b.refillPerSecond} per second`,
    );
    throttling = `Throttling as AWS does in ${ep.region}: ${buckets.join("; ")}\n`;
  }
  const quota =
    maxOpen === undefined
      ? ""
      : `Open executions limited to ${maxOpen}: StartExecution and RedriveExecution beyond it get ExecutionLimitExceeded\n`;
  // One write, so that whoever waits for the URL line also has the key note.
  const note = keyId
    ? ""
    : `Accepting the default test key pair: AWS_ACCESS_KEY_ID=${DEFAULT_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${DEFAULT_SECRET_ACCESS_KEY}\n`;
  process.stdout.write(
    `Local Step Functions endpoint listening on ${ep.url}\n${note}${throttling}${quota}${stateMachineTable(ep.stateMachines())}`,
  );
  ep.onTaskToken((info) => process.stdout.write(taskTokenNotice(info)));

  const stop = (signal: string) => {
    process.stderr.write(`Received ${signal}, stopping\n`);
    void ep.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
  process.exit(2);
});
