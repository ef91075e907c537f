/**
 * The AWS console page of an execution, for people reading the log or the result. Derived
 * from the execution ARN alone (its partition and region); no call is made.
 */

/** Console host by partition; partitions without a public console have no link. */
const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: "console.aws.amazon.com",
  "aws-cn": "console.amazonaws.cn",
  "aws-us-gov": "console.amazonaws-us-gov.com",
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
  const host = CONSOLE_HOSTS[partition];
  if (!host) return null;
  return `https://${region}.${host}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
