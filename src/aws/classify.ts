/** Classify foreign errors (SDK, network) into the product's errors, once, at the boundary. */
import {
  AuthenticationError,
  AuthorizationError,
  ConnectionError,
  DataValidationError,
  ProductError,
  UnexpectedError,
} from "../errors.ts";
import { mask } from "../secrets.ts";

const AUTHENTICATION = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "CredentialsProviderError",
]);
const AUTHORIZATION = new Set(["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"]);
const VALIDATION = new Set([
  "InvalidArn",
  "InvalidName",
  "InvalidExecutionInput",
  "StateMachineDoesNotExist",
  "ExecutionDoesNotExist",
  "ExecutionAlreadyExists",
  "ValidationException",
  "InvalidParameterValue",
  "StateMachineDeleting",
  "ExecutionNotRedrivable",
  "InvalidToken",
  "TaskDoesNotExist",
]);
const NETWORK =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPROTO|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS)/;

export interface ClassifyContext {
  readonly endpoint?: string;
  readonly operation?: string;
}

function nameOf(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? "";
}

function codeOf(error: unknown): string {
  return String((error as { code?: string } | null)?.code ?? "");
}

/** Turn any error into one of ours; ours pass through unchanged. */
export function classifyError(error: unknown, context: ClassifyContext = {}): ProductError {
  if (error instanceof ProductError) return error;
  const name = nameOf(error);
  const message = mask((error as Error | null)?.message ?? String(error));
  const where = context.operation ? `${context.operation}: ` : "";
  if (AUTHENTICATION.has(name))
    return new AuthenticationError(`${where}${name}: ${message}`, { cause: error });
  if (AUTHORIZATION.has(name))
    return new AuthorizationError(`${where}${name}: ${message}`, { cause: error });
  if (VALIDATION.has(name))
    return new DataValidationError(`${where}${name}: ${message}`, { cause: error });
  const code = codeOf(error);
  if (NETWORK.test(code) || name === "TimeoutError" || NETWORK.test(name)) {
    const target = context.endpoint ? ` ${context.endpoint}` : " AWS";
    return new ConnectionError(
      `cannot connect to${target}: ${message}${code ? ` (${code})` : ""}`,
      { cause: error },
    );
  }
  return new UnexpectedError(`${where}${name || "Error"}: ${message}`, { cause: error });
}

/** True for failures that may pass: throttling, 5xx, timeouts, dropped connections. */
export function isTransient(error: unknown): boolean {
  const name = nameOf(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata
    ?.httpStatusCode;
  if (
    /Throttl|TooManyRequests|RequestLimitExceeded|ServiceUnavailable|InternalFailure|InternalServerError/.test(
      name,
    )
  )
    return true;
  if (status !== undefined && status >= 500) return true;
  if (name === "TimeoutError") return true;
  return NETWORK.test(codeOf(error));
}
