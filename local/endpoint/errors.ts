/**
 * Errors the endpoint answers with. The names, HTTP statuses and messages follow what the
 * real Step Functions and STS services send, because clients branch on them.
 */
import { MAX_SKEW_MS } from "./sigv4.ts";

/** Modelled Step Functions errors carry this namespace in `__type`, as the real service does. */
const SFN_NAMESPACE = "com.amazonaws.swf.service.v2.model";

const MODELLED = new Set([
  "ExecutionAlreadyExists",
  "ExecutionDoesNotExist",
  "ExecutionLimitExceeded",
  "ExecutionNotRedrivable",
  "InvalidArn",
  "InvalidDefinition",
  "InvalidExecutionInput",
  "InvalidName",
  "InvalidOutput",
  "InvalidToken",
  "ResourceNotFound",
  "KmsAccessDeniedException",
  "KmsInvalidStateException",
  "KmsThrottlingException",
  "StateMachineAlreadyExists",
  "StateMachineDoesNotExist",
  "StateMachineTypeNotSupported",
  "TaskDoesNotExist",
  "TaskTimedOut",
  "ValidationException",
]);

export class ServiceError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
    this.status = status;
  }

  /** The `__type` value of an awsJson1_0 error body. */
  get jsonType(): string {
    return MODELLED.has(this.code) && this.code !== "ValidationException"
      ? `${SFN_NAMESPACE}#${this.code}`
      : this.code;
  }
}

export const errors = {
  invalidArn: (arn: string, why = "Invalid ARN prefix") =>
    new ServiceError("InvalidArn", `Invalid Arn: '${why}: ${arn}'`),
  invalidName: (name: string) => new ServiceError("InvalidName", `Invalid Name: '${name}'`),
  invalidInput: (why: string) =>
    new ServiceError("InvalidExecutionInput", `Invalid State Machine Execution Input: '${why}'`),
  invalidDefinition: (why: string) =>
    new ServiceError("InvalidDefinition", `Invalid State Machine Definition: '${why}'`),
  invalidToken: (why: string) => new ServiceError("InvalidToken", `Invalid Token: '${why}'`),
  stateMachineDoesNotExist: (arn: string) =>
    new ServiceError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`),
  stateMachineAlreadyExists: (arn: string) =>
    new ServiceError("StateMachineAlreadyExists", `State Machine Already Exists: '${arn}'`),
  executionDoesNotExist: (arn: string) =>
    new ServiceError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`),
  executionAlreadyExists: (arn: string) =>
    new ServiceError("ExecutionAlreadyExists", `Execution Already Exists: '${arn}'`),
  /** AWS's description of the error (API reference), the account's open-execution quota being reached. */
  executionLimitExceeded: () =>
    new ServiceError(
      "ExecutionLimitExceeded",
      "The maximum number of running executions has been reached. Running executions must end or be stopped before a new execution can be started.",
    ),
  executionNotRedrivable: (why: string) =>
    new ServiceError("ExecutionNotRedrivable", `Execution is not redrivable: ${why}`),
  typeNotSupported: () =>
    new ServiceError(
      "StateMachineTypeNotSupported",
      "This operation is not supported by this type of state machine",
    ),
  taskDoesNotExist: () => new ServiceError("TaskDoesNotExist", "Task Does Not Exist"),
  taskTimedOut: () =>
    new ServiceError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'"),
  validation: (message: string) => new ServiceError("ValidationException", message),
  missingMember: (member: string) =>
    new ServiceError(
      "ValidationException",
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    ),
  serialization: (why: string) => new ServiceError("SerializationException", why),
  unknownOperation: () => new ServiceError("UnknownOperationException", ""),
  missingAuthentication: () =>
    new ServiceError("MissingAuthenticationTokenException", "Missing Authentication Token"),
  unrecognizedClient: () =>
    new ServiceError(
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    ),
  invalidSignature: () =>
    new ServiceError(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    ),
  signatureExpired: (amzDate: string, now: Date) =>
    new ServiceError(
      "InvalidSignatureException",
      `Signature expired: ${amzDate} is now earlier than ${longDate(new Date(now.getTime() - MAX_SKEW_MS))} (${longDate(now)} - ${MAX_SKEW_MS / 60_000} min.)`,
    ),
  signatureNotYetCurrent: (amzDate: string, now: Date) =>
    new ServiceError(
      "InvalidSignatureException",
      `Signature not yet current: ${amzDate} is still later than ${longDate(new Date(now.getTime() + MAX_SKEW_MS))} (${longDate(now)} + ${MAX_SKEW_MS / 60_000} min.)`,
    ),
  expiredToken: () =>
    new ServiceError(
      "ExpiredTokenException",
      "The security token included in the request is expired",
    ),
  accessDenied: (principal: string, action: string, resource: string) =>
    new ServiceError(
      "AccessDeniedException",
      `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    ),
  throttling: () => new ServiceError("ThrottlingException", "Rate exceeded"),
  internalFailure: () =>
    new ServiceError(
      "InternalFailure",
      "The request processing has failed because of an unknown error, exception or failure.",
      500,
    ),
  serviceUnavailable: () => new ServiceError("ServiceUnavailable", "Service Unavailable", 503),
};

/** `20240101T120000Z`, the SigV4 long date format. */
export function longDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}
