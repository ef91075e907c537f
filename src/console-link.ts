/**
 * The AWS console page of an execution, for people reading the log or the result. Derived
 * from the execution ARN alone (its partition and region); no call is made.
 */

/**
 * Console host by partition, with the region in front of it where the partition's console
 * is known to take that form; partitions without a public console have no link. The AWS
 * European Sovereign Cloud's console is console.amazonaws-eusc.eu (a partition of its own
 * since January 2026; public guides name only that host, so no region goes in front).
 */
const CONSOLE_HOSTS: Readonly<Record<string, { host: string; regional: boolean }>> = {
  aws: { host: "console.aws.amazon.com", regional: true },
  "aws-cn": { host: "console.amazonaws.cn", regional: true },
  "aws-us-gov": { host: "console.amazonaws-us-gov.com", regional: true },
  "aws-eusc": { host: "console.amazonaws-eusc.eu", regional: false },
};

const STANDARD_EXECUTION_ARN = /^arn:([a-z-]+):states:([a-z0-9-]+):\d{12}:execution:[^:]+:[^:]+$/;

/**
 * `https://<region>.<console host>/states/home?region=<region>#/v2/executions/details/<ARN>`
 * for a Standard execution, or null (an Express execution's page needs its start time and
 * log group; other partitions have no public console).
 */
export function consoleUrlFor(executionArn: string): string | null {
  const m = STANDARD_EXECUTION_ARN.exec(executionArn);
  if (!m) return null;
  const [, partition, region] = m as unknown as [string, string, string];
  const console = CONSOLE_HOSTS[partition];
  if (!console) return null;
  const host = console.regional ? `${region}.${console.host}` : console.host;
  return `https://${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
