/** Exit codes (SPEC 5.6) and the status word that starts status_description. */

export const EXIT = {
  success: 0,
  unexpected: 1,
  authentication: 2,
  authorization: 3,
  connection: 10,
  proxyConnection: 11,
  dataValidation: 20,
  executionFailed: 23,
  executionAborted: 24,
  executionTimedOut: 25,
  maximumWaitReached: 26,
  cancelled: 27,
  statusUnavailable: 28,
  /** Set by the Python bridge: no Node.js 20 or newer on the agent. */
  nodeUnavailable: 29,
  /** Set by the Python bridge: the program could not be run or ended without a usable document. */
  bridgeError: 30,
  taskTimedOut: 31,
  taskDoesNotExist: 32,
  invalidTaskToken: 33,
  notRedrivable: 34,
  wrongStateMachineType: 35,
  executionLimitExceeded: 36,
  outputUnwritable: 40,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The word that starts status_description for each exit code; the existing extension's
 * words are kept for the codes it has, so parsers of its output keep working.
 */
export const STATUS_WORD: Record<ExitCode, string> = {
  0: "SUCCESS",
  1: "FAIL",
  2: "AUTHENTICATION_ERROR",
  3: "AUTHORIZATION_ERROR",
  10: "CONNECTION_ERROR",
  11: "CONNECTION_ERROR",
  20: "DATA_VALIDATION_ERROR",
  23: "FAIL",
  24: "FAIL",
  25: "FAIL",
  26: "FAIL",
  27: "CANCELLED",
  28: "STATUS_UNAVAILABLE",
  29: "NODE_UNAVAILABLE",
  30: "BRIDGE_ERROR",
  31: "TASK_TIMED_OUT",
  32: "TASK_DOES_NOT_EXIST",
  33: "INVALID_TASK_TOKEN",
  34: "NOT_REDRIVABLE",
  35: "WRONG_STATE_MACHINE_TYPE",
  36: "EXECUTION_LIMIT_EXCEEDED",
  40: "OUTPUT_ERROR",
};

/** What each exit code means, in one line (--help lists them). */
export const EXIT_MEANING: Record<ExitCode, string> = {
  0: "started (not waiting), reached SUCCEEDED (waiting), or the action done",
  1: "unexpected error",
  2: "authentication error: bad, unknown or expired credentials, or none found",
  3: "authorization error: access denied, including on AssumeRole",
  10: "cannot connect to AWS (DNS, refused, reset, TLS, timeout)",
  11: "cannot connect through the proxy",
  20: "data validation: a field, flag, variable or setting is wrong, or AWS rejected the request as invalid",
  23: "the execution ended FAILED",
  24: "the execution ended ABORTED",
  25: "the execution ended TIMED_OUT",
  26: "Maximum Wait reached",
  27: 'cancelled (SIGTERM, SIGINT, SIGHUP, SIGBREAK, or a "cancel" line with UE_CANCEL_ON_STDIN=1)',
  28: "status checks kept failing; the execution may still be running",
  29: "set by the Python bridge: no Node.js 20 or newer on the agent",
  30: "set by the Python bridge: the program could not be run or left no usable document",
  31: "Send Task *: the task behind the token is closed or timed out",
  32: "Send Task *: no task is known for the token",
  33: "Send Task *: AWS cannot read the token",
  34: "Redrive Execution: AWS will not redrive the execution",
  35: "the action does not fit the state machine's type (Standard or Express)",
  36: "the account's quota of open executions is reached: nothing was started or redriven; later may work",
  40: "the extension output could not be written: to its file (it went to standard output), or to standard output",
};
