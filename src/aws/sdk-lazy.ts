/**
 * The parts of the AWS SDK that only some tasks need: the standard credential chain and
 * STS for role assumption. The build embeds them in the bundle as text compiled on first
 * use, so a task with static credentials never pays for parsing them.
 */
export { defaultProvider } from "@aws-sdk/credential-provider-node";
export { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
