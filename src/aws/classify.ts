/**
 * Foreign errors (AWS SDK, network, proxy) classified once, at the boundary, into the
 * product's errors and exit codes (SPEC 5.6). Our own errors pass through unchanged.
 */
import {
  isClockSkewCorrectedError,
  isRetryableByTrait,
  isServerError,
  isThrottlingError,
  isTransientError,
} from "@smithy/core/retry";
import {
  AuthenticationError,
  AuthorizationError,
  ConnectionError,
  DataValidationError,
  ExecutionLimitError,
  InvalidTaskTokenError,
  NotRedrivableError,
  ProductError,
  ProxyConnectionError,
  TaskDoesNotExistError,
  TaskTimedOutError,
  UnexpectedError,
  WrongStateMachineTypeError,
} from "../errors.ts";
import type { ProxyConfig, ProxyServer } from "../proxy/config.ts";
import { mask, redactUrl } from "../secrets.ts";
import { droppedWithoutAnswer, ProxyFailure, requestSiteOf } from "./http-handler.ts";

export interface ClassifyContext {
  /** The proxy in use, if any. */
  readonly proxy?: ProxyConfig | undefined;
  /** The AWS endpoint URL the request went to, for messages (https://states.eu-west-1.amazonaws.com). */
  readonly endpoint?: string | undefined;
  /** The AWS operation, for messages (StartExecution). */
  readonly operation?: string | undefined;
}

const AUTHENTICATION = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "ExpiredTokenException",
  "IncompleteSignature",
  "IncompleteSignatureException",
  "MissingAuthenticationToken",
  "MissingAuthenticationTokenException",
  "InvalidAccessKeyId",
  "AuthFailure",
  "RequestExpired",
  "CredentialsProviderError",
  "TokenProviderError",
  "IDPCommunicationError",
  "IDPRejectedClaim",
  "InvalidIdentityToken",
]);

const AUTHORIZATION = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnauthorizedOperation",
  "AuthorizationError",
  "NotAuthorized",
  "RegionDisabledException",
  "KMSAccessDeniedException",
]);

const VALIDATION = new Set([
  "InvalidArn",
  "InvalidName",
  "InvalidExecutionInput",
  "InvalidOutput",
  "InvalidToken",
  "InvalidDefinition",
  "StateMachineDoesNotExist",
  "StateMachineDeleting",
  "ExecutionDoesNotExist",
  "ExecutionAlreadyExists",
  "ExecutionNotRedrivable",
  "StateMachineTypeNotSupported",
  "TaskDoesNotExist",
  "TaskTimedOut",
  "ResourceNotFound",
  "ValidationException",
  "InvalidParameterValue",
  "InvalidParameterCombination",
  "MissingParameter",
  "MalformedPolicyDocument",
  "PackedPolicyTooLarge",
  "SerializationException",
  "KMSInvalidStateException",
]);

/** AWS answers with their own outcomes (and exit codes), each said plainly. */
const OWN_OUTCOMES: Record<
  string,
  {
    kind: new (message: string, options?: { cause?: unknown }) => ProductError;
    what: string | ((operation: string | undefined) => string);
  }
> = {
  // "Maximum open executions per account" (Standard workflows, per region):
  // https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
  ExecutionLimitExceeded: {
    kind: ExecutionLimitError,
    what: (operation) =>
      `${operation === "RedriveExecution" ? "the execution was not redriven" : operation === "StartExecution" ? "the execution was not started" : "nothing was started"}: the account's quota of open executions in this region is reached (the running Standard executions of the whole account, not only this task's); it frees up as executions end or are stopped, so running the task again later may work; if it recurs, ask AWS to raise the quota "Maximum open executions per account"`,
  },
  TaskTimedOut: {
    kind: TaskTimedOutError,
    what: "the task of this task token is closed: it was answered already, timed out (its TimeoutSeconds or HeartbeatSeconds), or its execution ended",
  },
  TaskDoesNotExist: {
    kind: TaskDoesNotExistError,
    what: "no task is known for this task token in this account and region",
  },
  InvalidToken: {
    kind: InvalidTaskTokenError,
    what: "AWS cannot read this task token; check that it was passed on whole and unchanged",
  },
  ExecutionNotRedrivable: {
    kind: NotRedrivableError,
    what: "AWS will not redrive the execution",
  },
  StateMachineTypeNotSupported: {
    kind: WrongStateMachineTypeError,
    what: "the operation does not serve this type of state machine",
  },
};

/**
 * Step Functions' answers about a state machine's customer managed KMS key (the SDK names
 * them Kms...; other services say KMS...).
 */
const KMS_ERRORS: Record<
  string,
  { kind: new (message: string, options?: { cause?: unknown }) => ProductError; what: string }
> = {
  KmsAccessDeniedException: {
    kind: AuthorizationError,
    what: "the state machine's customer managed KMS key does not let these credentials use it: kms:Decrypt (to read execution data) or kms:GenerateDataKey (to write it) is needed in the key policy or IAM",
  },
  KmsInvalidStateException: {
    kind: DataValidationError,
    what: "the state machine's customer managed KMS key cannot be used: it is disabled, pending deletion or unavailable",
  },
  KmsThrottlingException: {
    kind: ConnectionError,
    what: "KMS kept throttling the calls Step Functions makes with the state machine's key",
  },
};

/** A KMS answer about the execution's data key: its data cannot be read with these credentials. */
export function isKmsDataError(error: unknown): boolean {
  const name = str(shape(error).name);
  return name === "KmsAccessDeniedException" || name === "KmsInvalidStateException";
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  EPIPE: "connection closed while sending",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "temporary DNS failure",
  EAI_FAIL: "DNS failure",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EHOSTDOWN: "host down",
  ENETDOWN: "network down",
  EADDRNOTAVAIL: "address not available",
  EPROTO: "protocol error",
  ABORT_ERR: "aborted",
};

const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "HOSTNAME_MISMATCH",
  "EPROTO",
  "ECONNRESET_TLS",
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  errno?: unknown;
  syscall?: unknown;
  hostname?: unknown;
  address?: unknown;
  port?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  $retryable?: unknown;
  $fault?: unknown;
  errors?: unknown;
}

function shape(error: unknown): ErrorShape {
  return typeof error === "object" && error !== null ? (error as ErrorShape) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The error code of a network error, looking into causes and AggregateErrors. */
function networkCode(error: unknown): string | undefined {
  return codeWhere(error, (c) => c in NETWORK_REASONS || isTlsCode(c) || isParseCode(c));
}

/** The first `code` that `accepts`, in the error, its inner errors or its causes. */
function codeWhere(
  error: unknown,
  accepts: (code: string) => boolean,
  depth = 0,
): string | undefined {
  if (depth > 4) return undefined;
  const e = shape(error);
  const code = str(e.code);
  if (code && accepts(code)) return code;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = codeWhere(inner, accepts, depth + 1);
      if (found) return found;
    }
  }
  return e.cause === undefined ? undefined : codeWhere(e.cause, accepts, depth + 1);
}

/** Failures to connect at all: DNS, refused, unreachable, a TLS handshake refused. */
const NOT_CONNECTED = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
]);

/**
 * Whether a failed call never got a connection to send its request on (its last attempt:
 * the SDK reports that one), so the server never saw it.
 */
export function neverConnected(error: unknown): boolean {
  const code = networkCode(error);
  return code !== undefined && (NOT_CONNECTED.has(code) || (isTlsCode(code) && code !== "EPROTO"));
}

/** Node's HTTP parser refused the answer: whatever answered does not speak HTTP. */
function isParseCode(code: string): boolean {
  return code.startsWith("HPE_");
}

function isTlsCode(code: string): boolean {
  return (
    TLS_CODES.has(code) ||
    code.startsWith("CERT_") ||
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    code.startsWith("UNABLE_TO_")
  );
}

function isTimeout(error: unknown): boolean {
  const e = shape(error);
  // The smithy handler also names resets and broken pipes TimeoutError: their code says more.
  if (e.code === "ECONNRESET" || e.code === "EPIPE") return false;
  return e.name === "TimeoutError" || e.code === "ETIMEDOUT" || e.name === "RequestTimeout";
}

/** A connect timeout, as the shared handler saw it (the smithy errors carry no code). */
function isConnectTimeout(error: unknown): boolean {
  return requestSiteOf(error)?.timeout === "connect";
}

function httpStatus(error: unknown): number | undefined {
  const status = shape(error).$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** One line, masked, and without the smithy prefix. */
function clean(text: string): string {
  return mask(
    text
      .replace(/@smithy\/node-http-handler - (\[ERROR\] )?/g, "")
      // {0,} rather than *: a regular expression that ends in "*" + "/" makes the bundle
      // carry a copy of the program's text (see programComments() in src/code-cache.ts).
      .replace(/\s*\n\s{0,}/g, " ")
      .trim(),
  );
}

/** The Content-Types of AWS's JSON protocols (Step Functions answers application/x-amz-json-1.0). */
const AWS_JSON_TYPES = [
  "application/x-amz-json-1.0",
  "application/x-amz-json-1.1",
  "application/json",
];

/**
 * An answer the AWS SDK could not read (its parser failed): its Content-Type, "" when it had
 * none; undefined for any other error.
 */
function unreadAnswerType(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("$response" in error)) return undefined;
  const e = error as { message?: unknown; $response?: { headers?: Record<string, unknown> } };
  if (!str(e.message)?.includes("Deserialization error")) return undefined;
  return str(e.$response?.headers?.["content-type"]) ?? "";
}

/**
 * An unread answer with the Content-Type of AWS's JSON: AWS sends no broken JSON, so it was
 * cut short or damaged on the way (a connection closed before the whole body came).
 */
function isAwsJson(type: string): boolean {
  const media = type.split(";")[0]?.trim().toLowerCase();
  return media !== undefined && AWS_JSON_TYPES.includes(media);
}

function messageOf(error: unknown): string {
  const e = shape(error);
  const message = str(e.message);
  return message ? clean(message) : clean(String(error));
}

function reasonOf(error: unknown): string {
  const code = networkCode(error);
  if (isTimeout(error) && shape(error).name === "TimeoutError") {
    return timeoutReason(messageOf(error));
  }
  if (code && isParseCode(code)) return `the answer is not HTTP (${code})`;
  if (code) {
    if (code in NETWORK_REASONS && code !== "EPROTO") return `${NETWORK_REASONS[code]} (${code})`;
    return `TLS failure: ${tlsMessage(messageOf(rootWithCode(error, code)))} (${code})`;
  }
  return messageOf(error);
}

/** The smithy handler's timeout messages, said plainly. */
function timeoutReason(message: string): string {
  const ms = /(\d+) ms/.exec(message)?.[1];
  if (!ms) return `timed out (${message})`;
  if (message.includes("did not establish a connection"))
    return `no connection within ${ms} ms (connect timeout)`;
  if (message.includes("inactivity")) return `no data for ${ms} ms (request timeout)`;
  return `no complete answer within ${ms} ms (request timeout)`;
}

/** OpenSSL's reason ("wrong version number") rather than its whole error string. */
function tlsMessage(message: string): string {
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1];
  return reason ?? message;
}

function rootWithCode(error: unknown, code: string, depth = 0): unknown {
  const e = shape(error);
  if (e.code === code || depth > 4) return error;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors)
      if (networkCode(inner) === code) return rootWithCode(inner, code, depth + 1);
  }
  return e.cause === undefined ? error : rootWithCode(e.cause, code, depth + 1);
}

function endpointName(error: unknown, context: ClassifyContext): string {
  if (context.endpoint) return redactUrl(context.endpoint, { urlField: true });
  const e = shape(error);
  const host = str(e.hostname) ?? str(e.address);
  if (host) return typeof e.port === "number" ? `${host}:${e.port}` : host;
  return "the AWS endpoint";
}

function endpointIsHttp(context: ClassifyContext): boolean {
  return context.endpoint?.toLowerCase().startsWith("http:") ?? false;
}

/** The proxy that served (or would serve) the request in this context. */
function proxyFor(context: ClassifyContext): ProxyServer | undefined {
  if (!context.proxy) return undefined;
  return endpointIsHttp(context) ? context.proxy.forHttp : context.proxy.forHttps;
}

/** Does the failed socket's address or host name point at the proxy? */
function pointsAtProxy(error: unknown, server: ProxyServer): boolean {
  const e = shape(error);
  const host = str(e.hostname) ?? str(e.address);
  if (!host) return false;
  const sameHost = host.replace(/^\[|\]$/g, "") === server.host;
  return sameHost && (typeof e.port !== "number" || e.port === server.port);
}

/** Statuses by which a working proxy says it could not reach the endpoint. */
function isUpstreamFailureStatus(status: number): boolean {
  return status >= 500 || status === 404;
}

/** Turn any error into a ProductError with a one-line, masked message. */
export function classifyError(error: unknown, given: ClassifyContext = {}): ProductError {
  if (error instanceof ProductError) return error;
  // The shared handler remembers where a failed request went; the caller's context wins.
  const site = requestSiteOf(error);
  const context: ClassifyContext = {
    proxy: given.proxy ?? site?.proxy,
    endpoint: given.endpoint ?? site?.endpoint,
    operation: given.operation,
  };
  const e = shape(error);
  const name = str(e.name) ?? "Error";
  const op = context.operation ? ` on ${context.operation}` : "";
  const options = { cause: error };

  // 1. The proxy: failures our agent marked before the tunnel was up.
  const failure = findProxyFailure(error);
  if (failure) return classifyProxyFailure(failure, error, context);

  // 2. AWS answered: classify by the error's name, then by the HTTP status.
  const status = httpStatus(error);
  // An answer the SDK could not read as AWS's (a load balancer's or a proxy's HTML page, a
  // plain-text 429) is said by its Content-Type, rather than by the parser's message, which
  // quotes the body and tells a developer to inspect a hidden field of the error.
  const unread = unreadAnswerType(error);
  const awsMessage = clean(
    unread === undefined
      ? messageOf(error)
      : `the answer is not AWS's JSON (${unread ? `Content-Type ${unread}` : "no Content-Type"}), so the AWS SDK could not read it`,
  );
  const damaged = unread && isAwsJson(unread) ? unread : undefined;
  if (damaged) {
    const what = context.operation ? `the answer to ${context.operation}` : "AWS's answer";
    return new ConnectionError(
      clean(
        `${what} (HTTP ${status ?? "status unknown"}, Content-Type ${damaged}) was cut short or damaged on the way, so the AWS SDK could not read it`,
      ),
      options,
    );
  }
  if (AUTHENTICATION.has(name)) {
    const what =
      name === "CredentialsProviderError" || name === "TokenProviderError"
        ? "no usable AWS credentials"
        : "AWS rejected the credentials";
    return new AuthenticationError(clean(`${what} (${name}${op}): ${awsMessage}`), options);
  }
  if (AUTHORIZATION.has(name)) {
    return new AuthorizationError(clean(`access denied (${name}${op}): ${awsMessage}`), options);
  }
  const kms = KMS_ERRORS[name];
  if (kms) return new kms.kind(clean(`${kms.what} (${name}${op}): ${awsMessage}`), options);
  const own = OWN_OUTCOMES[name];
  if (own) {
    const what = typeof own.what === "function" ? own.what(context.operation) : own.what;
    return new own.kind(clean(`${what} (${name}${op}): ${awsMessage}`), options);
  }
  if (VALIDATION.has(name)) {
    return new DataValidationError(
      clean(`AWS rejected the request (${name}${op}): ${awsMessage}`),
      options,
    );
  }
  if (status !== undefined) {
    const server = proxyFor(context);
    const fromAws = str(e.$metadata?.requestId) !== undefined;
    // http:// endpoints through a proxy: the proxy answers for itself.
    if (server && !fromAws && endpointIsHttp(context)) {
      if (status === 407) {
        return new ProxyConnectionError(
          clean(
            `the proxy ${server.url} refused the request: HTTP 407 Proxy Authentication Required`,
          ),
          options,
        );
      }
      if (isUpstreamFailureStatus(status)) {
        return new ConnectionError(
          clean(
            `cannot connect to ${endpointName(error, context)} through the proxy ${server.url}: the proxy answered HTTP ${status}`,
          ),
          options,
        );
      }
    }
    if (isThrottlingError(e as never)) {
      return new ConnectionError(
        clean(`AWS kept throttling the requests (${name}${op}) after retries: ${awsMessage}`),
        options,
      );
    }
    if (status >= 500) {
      return new ConnectionError(
        clean(
          `${endpointName(error, context)} failed${op} with HTTP ${status} (${name}) after retries: ${awsMessage}`,
        ),
        options,
      );
    }
    if (status === 401)
      return new AuthenticationError(
        clean(`AWS rejected the credentials (${name}${op}, HTTP 401): ${awsMessage}`),
        options,
      );
    if (status === 403)
      return new AuthorizationError(
        clean(`access denied (${name}${op}, HTTP 403): ${awsMessage}`),
        options,
      );
    if (status >= 400) {
      return new DataValidationError(
        clean(`AWS rejected the request (${name}${op}, HTTP ${status}): ${awsMessage}`),
        options,
      );
    }
  }
  if (isThrottlingError(e as never)) {
    return new ConnectionError(
      clean(`AWS kept throttling the requests (${name}${op}): ${awsMessage}`),
      options,
    );
  }

  // 3. The network: no answer at all.
  if (networkCode(error) || isTimeout(error)) {
    const server = proxyFor(context);
    // Through a proxy, failures reaching the proxy itself: the socket of an http:// endpoint
    // is the proxy's (the proxy reports its own trouble reaching the endpoint as an HTTP
    // answer), a socket error naming the proxy's address is its own, and the connect timeout
    // runs until the request has its socket: the tunnel through the proxy.
    const socketToProxy =
      (endpointIsHttp(context) && networkCode(error) !== undefined && !isTimeout(error)) ||
      isConnectTimeout(error);
    if (server && (socketToProxy || pointsAtProxy(error, server))) {
      return new ProxyConnectionError(
        clean(`cannot connect to the proxy ${server.url}: ${reasonOf(error)}`),
        options,
      );
    }
    const via = server ? ` through the proxy ${server.url}` : "";
    return new ConnectionError(
      clean(
        `cannot connect to ${endpointName(error, context)}${via}${op ? ` (${context.operation})` : ""}: ${reasonOf(error)}`,
      ),
      options,
    );
  }

  // 4. This host's own limits: no socket could be opened at all (the limit is the message).
  const limit = codeWhere(error, (c) => c in HOST_LIMITS);
  if (limit) {
    return new UnexpectedError(clean(`${HOST_LIMITS[limit]}${op} (${limit})`), options);
  }

  return new UnexpectedError(clean(`${name}${op}: ${awsMessage}`), options);
}

/** Limits of this host that fail a call before it leaves (Node says "connect EMFILE ... - Local (undefined:undefined)"). */
const HOST_LIMITS: Record<string, string> = {
  EMFILE: "this process has too many open files (its limit, ulimit -n, is too low for the task)",
  ENFILE: "this host has too many open files",
};

function classifyProxyFailure(
  failure: ProxyFailure,
  error: unknown,
  context: ClassifyContext,
): ProductError {
  const options = { cause: error };
  const proxy = failure.proxy;
  const endpoint = endpointName(error, context);
  switch (failure.kind) {
    case "status": {
      const status = failure.statusCode ?? 0;
      if (status === 407) {
        return new ProxyConnectionError(
          clean(
            context.proxy?.credentials
              ? `the proxy ${proxy} refused the credentials (HTTP 407 Proxy Authentication Required): check the Proxy Credentials field`
              : `the proxy ${proxy} requires authentication (HTTP 407 Proxy Authentication Required): use Proxy Type HTTPS With Credentials and fill in Proxy Credentials`,
          ),
          options,
        );
      }
      if (isUpstreamFailureStatus(status)) {
        return new ConnectionError(
          clean(
            `cannot connect to ${endpoint} through the proxy ${proxy}: the proxy could not reach it (it answered HTTP ${status})`,
          ),
          options,
        );
      }
      return new ProxyConnectionError(
        clean(
          failure.target.includes("://")
            ? `the proxy ${proxy} refused the request for ${failure.target}: HTTP ${status}`
            : `the proxy ${proxy} refused the tunnel to ${failure.target}: HTTP ${status}`,
        ),
        options,
      );
    }
    case "tls-only":
      return new ProxyConnectionError(
        clean(
          `cannot use the proxy ${proxy}: it only speaks TLS and dropped the plain request; choose Proxy Type HTTPS and an https:// proxy URL`,
        ),
        options,
      );
    case "closed":
      return new ConnectionError(
        clean(
          `cannot connect to ${endpoint} through the proxy ${proxy}: the proxy closed the tunnel to ${failure.target} without answering (it could not reach the endpoint${context.proxy?.type === "HTTP" ? "; or the proxy only speaks TLS: then choose Proxy Type HTTPS" : ""})`,
        ),
        options,
      );
    case "timeout":
      return new ProxyConnectionError(
        clean(`cannot connect to the proxy ${proxy}: ${failure.message}`),
        options,
      );
    default:
      return new ProxyConnectionError(
        clean(
          `cannot connect to the proxy ${proxy}: ${reasonOf(failure.cause ?? failure)}${tlsHint(failure, context)}`,
        ),
        options,
      );
  }
}

function tlsHint(failure: ProxyFailure, context: ClassifyContext): string {
  const code = networkCode(failure);
  if (!code || !isTlsCode(code)) return "";
  if (code === "EPROTO" || code.startsWith("ERR_SSL_")) {
    return "; the proxy may not speak TLS: then choose Proxy Type HTTP and an http:// URL";
  }
  return context.proxy?.caBundle
    ? "; check that Proxy CA Bundle File holds the CA that signed the proxy's certificate"
    : "; give the CA that signed the proxy's certificate in Proxy CA Bundle File";
}

function findProxyFailure(error: unknown, depth = 0): ProxyFailure | undefined {
  if (error instanceof ProxyFailure) return error;
  if (depth > 4) return undefined;
  const cause = shape(error).cause;
  return cause === undefined ? undefined : findProxyFailure(cause, depth + 1);
}

/**
 * A read (a call that changes nothing) sent once more, at once, when its connection dropped
 * without an answer (see droppedWithoutAnswer). The calls of a waiting task go out without
 * the SDK's retries, which would hold up its loop; without this, a connection closed while
 * idle would cost a failed status check, or a failed listing that sends every task of the
 * group to AWS on its own.
 */
export async function readOnceMoreIfDropped<T>(
  read: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!droppedWithoutAnswer(error) || signal?.aborted) throw error;
    return read();
  }
}

/**
 * Is it worth trying again? The SDK's answer, from its own error classification: the
 * retryable trait (the shared handler sets it on proxy failures that may pass), throttling,
 * transient network failures and timeouts, 5xx answers, a request whose clock skew the
 * signer has just corrected. Our own errors: only connection failures, by their cause.
 */
export function isRetryable(error: unknown): boolean {
  let current: unknown = error;
  if (current instanceof ProductError) {
    if (!(current instanceof ConnectionError || current instanceof ProxyConnectionError)) {
      return false;
    }
    current = current.cause ?? current;
  }
  if (typeof current !== "object" || current === null) return false;
  const e = current as Parameters<typeof isTransientError>[0];
  return (
    isRetryableByTrait(e) ||
    isThrottlingError(e) ||
    str(shape(e).name) === "KmsThrottlingException" ||
    isTransientError(e) ||
    isServerError(e) ||
    isClockSkewCorrectedError(e) === true
  );
}
