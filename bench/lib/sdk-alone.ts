/**
 * The AWS SDK's Step Functions client used plainly, for the start scenario's reference:
 * one StartExecution (credentials from the environment), its answer written to a JSON file.
 * `node sdk-alone.cjs ENDPOINT STATE_MACHINE_ARN NAME OUT_FILE`, once bundled (start-references.ts).
 */
import { writeFileSync } from "node:fs";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";

const [endpoint = "", stateMachineArn = "", name = "", out = ""] = process.argv.slice(2);
// The JavaScript SDK reads AWS_REGION, not AWS_DEFAULT_REGION, from the environment.
const client = new SFNClient({ endpoint, region: process.env.AWS_DEFAULT_REGION ?? "us-east-1" });
client.send(new StartExecutionCommand({ stateMachineArn, name })).then(
  (answer) => writeFileSync(out, JSON.stringify({ executionArn: answer.executionArn })),
  (error: Error) => {
    console.error(`${error.name}: ${error.message}`);
    process.exitCode = 1;
  },
);
