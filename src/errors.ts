/**
 * The product's error hierarchy. Each class maps to one exit code. Foreign errors (SDK,
 * network) are classified once, at the boundary, into these; ours are rethrown unchanged.
 */
import { EXIT, type ExitCode } from "./exit-codes.ts";

export abstract class ProductError extends Error {
  abstract readonly exitCode: ExitCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Unexpected failure: a bug or an error nobody classified. */
export class UnexpectedError extends ProductError {
  readonly exitCode = EXIT.unexpected;
}

/** Bad, unknown or expired credentials. */
export class AuthenticationError extends ProductError {
  readonly exitCode = EXIT.authentication;
}

/** Access denied, including on AssumeRole. */
export class AuthorizationError extends ProductError {
  readonly exitCode = EXIT.authorization;
}

/** Cannot reach AWS: DNS, refused, reset, TLS, timeout. */
export class ConnectionError extends ProductError {
  readonly exitCode = EXIT.connection;
}

/** Cannot get through the proxy: unreachable, refused credentials, TLS or CA. */
export class ProxyConnectionError extends ProductError {
  readonly exitCode = EXIT.proxyConnection;
}

/** One problem with one field, reported by label with what is expected. */
export interface FieldProblem {
  readonly field: string;
  readonly label: string;
  readonly message: string;
}

/** Field values are wrong, or AWS rejected the request as invalid. */
export class DataValidationError extends ProductError {
  readonly exitCode = EXIT.dataValidation;
  readonly problems: readonly FieldProblem[];
  constructor(message: string, options?: { cause?: unknown; problems?: readonly FieldProblem[] }) {
    super(message, options);
    this.problems = options?.problems ?? [];
  }
}

/** Build a validation error that lists every problem, one per line. */
export function validationErrorFrom(problems: readonly FieldProblem[]): DataValidationError {
  const lines = problems.map((p) => `${p.label}: ${p.message}`);
  const noun = problems.length === 1 ? "field is" : "fields are";
  return new DataValidationError(`${problems.length} ${noun} invalid:\n  ${lines.join("\n  ")}`, {
    problems,
  });
}

/** Status checks kept failing for too long while the execution may still be running. */
export class StatusUnavailableError extends ProductError {
  readonly exitCode = EXIT.statusUnavailable;
}

/** SendTask*: the task behind the token has already closed or timed out (TaskTimedOut). */
export class TaskTimedOutError extends ProductError {
  readonly exitCode = EXIT.taskTimedOut;
}

/** SendTask*: no task is known for the token (TaskDoesNotExist). */
export class TaskDoesNotExistError extends ProductError {
  readonly exitCode = EXIT.taskDoesNotExist;
}

/** SendTask*: AWS cannot read the token (InvalidToken). */
export class InvalidTaskTokenError extends ProductError {
  readonly exitCode = EXIT.invalidTaskToken;
}

/** Redrive: AWS refuses to redrive the execution (ExecutionNotRedrivable, or its status). */
export class NotRedrivableError extends ProductError {
  readonly exitCode = EXIT.notRedrivable;
}

/** A cancel (SIGTERM, SIGINT, SIGHUP) before anything was sent to AWS. */
export class CancelledError extends ProductError {
  readonly exitCode = EXIT.cancelled;
}

/**
 * Start or redrive refused because the account's quota of open executions is reached
 * (ExecutionLimitExceeded): nothing was started, and it may work once executions end.
 */
export class ExecutionLimitError extends ProductError {
  readonly exitCode = EXIT.executionLimitExceeded;
}

/** The action does not fit the state machine's type (Standard versus Express). */
export class WrongStateMachineTypeError extends ProductError {
  readonly exitCode = EXIT.wrongStateMachineType;
}
