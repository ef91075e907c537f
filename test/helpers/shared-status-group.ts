/** One waiting task's group for the shared-status tests: its execution and group parts. */
import type { Logger } from "../../src/log.ts";
import type { GroupParts } from "../../src/wait-sharing/decide.ts";

export const EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:orders:run-1";

export const PARTS: GroupParts = {
  endpoint: "https://states.eu-west-1.amazonaws.com",
  partition: "aws",
  accountId: "123456789012",
  region: "eu-west-1",
  stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:orders",
  credentialIdentity: "AKIDEXAMPLE",
};

export const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
