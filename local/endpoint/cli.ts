/**
 * Command line: npm run local-endpoint -- --port N [--host H] [--region R]
 *   [--access-key-id K --secret-access-key S] [--definitions DIR]
 * Prints the URL when ready; stops on SIGTERM/SIGINT.
 */
import { parseArgs } from "node:util";
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, startLocalEndpoint } from "./index.ts";

const USAGE = `Usage: npm run local-endpoint -- [--port N] [--host H] [--region R]
    [--access-key-id K --secret-access-key S] [--definitions DIR]

  --port N               port to listen on (0 or omitted: a free port)
  --host H               address to bind (default 127.0.0.1)
  --region R             region used in ARNs (default us-east-1)
  --access-key-id K      accepted access key (default ${DEFAULT_ACCESS_KEY_ID})
  --secret-access-key S  its secret (default: the documented test secret)
  --definitions DIR      create <name>.asl.json as STANDARD and <name>.express.asl.json as EXPRESS machines
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      region: { type: "string" },
      "access-key-id": { type: "string" },
      "secret-access-key": { type: "string" },
      definitions: { type: "string" },
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
  });
  // One write, so that whoever waits for the URL line also has the key note.
  const note = keyId
    ? ""
    : `Accepting the default test key pair: AWS_ACCESS_KEY_ID=${DEFAULT_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${DEFAULT_SECRET_ACCESS_KEY}\n`;
  process.stdout.write(`Local Step Functions endpoint listening on ${ep.url}\n${note}`);

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
