/**
 * The parts of the AWS SDK that only some tasks need: the standard credential chain and
 * STS for role assumption, and the SDK's event-stream support (which no Step Functions
 * operation uses). The build embeds them in the bundle as text compiled on first use, so
 * a task with static credentials never pays for parsing them.
 */
export { defaultProvider } from "@aws-sdk/credential-provider-node";
export { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
export * as eventStreams from "@smithy/core/event-streams";
