import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { classifyError, isRetryable, readOnceMoreIfDropped } from "../../src/aws/classify.ts";
import { droppedWithoutAnswer, ProxyFailure } from "../../src/aws/http-handler.ts";
import { ConnectionError, DataValidationError, ProxyConnectionError } from "../../src/errors.ts";
import { parseProxyConfig } from "../../src/proxy/config.ts";

/** An error shaped like an AWS SDK service exception. */
function service(
  name: string,
  status: number,
  message = "the message",
  requestId = "req-1",
): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: "client",
    $metadata: { httpStatusCode: status, requestId },
  });
}

function network(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code} happened`), { code, ...extra });
}

function timeout(message: string): Error {
  return Object.assign(new Error(message), { name: "TimeoutError" });
}

const proxy = parseProxyConfig({ proxy_type: "HTTP", proxy: "http://proxy.example:3128" }).config!;

function failure(
  kind: ProxyFailure["kind"],
  extra: { statusCode?: number; code?: string; cause?: unknown } = {},
) {
  return new ProxyFailure("tunnel failed", {
    kind,
    proxy: proxy.forHttps.url,
    target: "states.example:443",
    ...extra,
  });
}

describe("classifyError", () => {
  const endpoint = "https://states.us-east-1.amazonaws.com";
  // One line per case: error, context proxy?, expected exit code, part of the message.
  const cases: [string, () => unknown, boolean, number, RegExp][] = [
    [
      "KMS key refuses the caller",
      () => service("KmsAccessDeniedException", 400),
      false,
      3,
      /customer managed KMS key does not let these credentials use it: kms:Decrypt .*\(KmsAccessDeniedException on StartExecution\)/,
    ],
    [
      "KMS key disabled",
      () => service("KmsInvalidStateException", 400),
      false,
      20,
      /KMS key cannot be used: it is disabled, pending deletion or unavailable/,
    ],
    [
      "KMS throttling",
      () => service("KmsThrottlingException", 400),
      false,
      10,
      /KMS kept throttling/,
    ],
    [
      "unrecognized client",
      () => service("UnrecognizedClientException", 400),
      false,
      2,
      /AWS rejected the credentials \(UnrecognizedClientException on StartExecution\)/,
    ],
    [
      "invalid signature",
      () => service("InvalidSignatureException", 400),
      false,
      2,
      /rejected the credentials/,
    ],
    [
      "STS invalid token id",
      () => service("InvalidClientTokenId", 403),
      false,
      2,
      /rejected the credentials/,
    ],
    [
      "STS signature mismatch",
      () => service("SignatureDoesNotMatch", 403),
      false,
      2,
      /rejected the credentials/,
    ],
    [
      "expired token",
      () => service("ExpiredTokenException", 400),
      false,
      2,
      /ExpiredTokenException/,
    ],
    ["STS expired token", () => service("ExpiredToken", 400), false, 2, /ExpiredToken/],
    [
      "incomplete signature",
      () => service("IncompleteSignature", 400),
      false,
      2,
      /IncompleteSignature/,
    ],
    [
      "no credentials",
      () =>
        Object.assign(new Error("Could not load credentials from any providers"), {
          name: "CredentialsProviderError",
        }),
      false,
      2,
      /no usable AWS credentials/,
    ],
    [
      "access denied",
      () => service("AccessDeniedException", 400),
      false,
      3,
      /access denied \(AccessDeniedException on StartExecution\)/,
    ],
    ["STS access denied", () => service("AccessDenied", 403), false, 3, /access denied/],
    [
      "unauthorized operation",
      () => service("UnauthorizedOperation", 403),
      false,
      3,
      /UnauthorizedOperation/,
    ],
    ["unknown 403", () => service("SomethingForbidden", 403), false, 3, /HTTP 403/],
    [
      "invalid ARN",
      () => service("InvalidArn", 400),
      false,
      20,
      /AWS rejected the request \(InvalidArn/,
    ],
    ["invalid name", () => service("InvalidName", 400), false, 20, /InvalidName/],
    [
      "invalid input",
      () => service("InvalidExecutionInput", 400),
      false,
      20,
      /InvalidExecutionInput/,
    ],
    [
      "no state machine",
      () => service("StateMachineDoesNotExist", 400),
      false,
      20,
      /StateMachineDoesNotExist/,
    ],
    [
      "no execution",
      () => service("ExecutionDoesNotExist", 400),
      false,
      20,
      /ExecutionDoesNotExist/,
    ],
    [
      "name reused",
      () => service("ExecutionAlreadyExists", 400),
      false,
      20,
      /ExecutionAlreadyExists/,
    ],
    [
      "open-execution quota reached",
      () => service("ExecutionLimitExceeded", 400),
      false,
      36,
      /^the execution was not started: the account's quota of open executions .* again later may work.*\(ExecutionLimitExceeded on StartExecution\)/,
    ],
    ["validation", () => service("ValidationException", 400), false, 20, /ValidationException/],
    [
      "STS invalid parameter",
      () => service("InvalidParameterValue", 400),
      false,
      20,
      /InvalidParameterValue/,
    ],
    ["deleting", () => service("StateMachineDeleting", 400), false, 20, /StateMachineDeleting/],
    [
      "not redrivable",
      () => service("ExecutionNotRedrivable", 400),
      false,
      34,
      /^AWS will not redrive the execution \(ExecutionNotRedrivable/,
    ],
    [
      "task token's task closed",
      () => service("TaskTimedOut", 400),
      false,
      31,
      /^the task of this task token is closed.*\(TaskTimedOut/,
    ],
    [
      "task token unknown",
      () => service("TaskDoesNotExist", 400),
      false,
      32,
      /^no task is known for this task token.*\(TaskDoesNotExist/,
    ],
    [
      "task token unreadable",
      () => service("InvalidToken", 400),
      false,
      33,
      /^AWS cannot read this task token.*\(InvalidToken/,
    ],
    [
      "wrong state machine type",
      () => service("StateMachineTypeNotSupported", 400),
      false,
      35,
      /StateMachineTypeNotSupported/,
    ],
    [
      "unknown 4xx",
      () => service("BrandNewException", 400),
      false,
      20,
      /BrandNewException.*HTTP 400/,
    ],
    ["throttled", () => service("ThrottlingException", 400), false, 10, /kept throttling/],
    ["429", () => service("TooManyRequests", 429), false, 10, /kept throttling/],
    [
      "500",
      () => service("InternalServerError", 500, "boom"),
      false,
      10,
      /failed on StartExecution with HTTP 500 \(InternalServerError\) after retries: boom/,
    ],
    [
      "refused",
      () => network("ECONNREFUSED", { address: "1.2.3.4", port: 443 }),
      false,
      10,
      /cannot connect to https:\/\/states.us-east-1.amazonaws.com \(StartExecution\): connection refused \(ECONNREFUSED\)/,
    ],
    [
      "out of file descriptors (a low ulimit -n)",
      () => network("EMFILE", { syscall: "connect", address: "1.2.3.4", port: 443 }),
      false,
      1,
      /^this process has too many open files \(its limit, ulimit -n, is too low for the task\) on StartExecution \(EMFILE\)$/,
    ],
    [
      "DNS",
      () => network("ENOTFOUND", { hostname: "states.us-east-1.amazonaws.com" }),
      false,
      10,
      /host name not found \(ENOTFOUND\)/,
    ],
    ["DNS again", () => network("EAI_AGAIN"), false, 10, /temporary DNS failure/],
    ["reset", () => network("ECONNRESET"), false, 10, /connection reset/],
    ["pipe", () => network("EPIPE"), false, 10, /EPIPE/],
    [
      "connect timeout",
      () =>
        timeout(
          "@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 10000 ms.",
        ),
      false,
      10,
      /no connection within 10000 ms \(connect timeout\)/,
    ],
    [
      "idle timeout",
      () =>
        timeout(
          "@smithy/node-http-handler - the request socket timed out after 60000 ms of inactivity (configured by client requestHandler).",
        ),
      false,
      10,
      /no data for 60000 ms/,
    ],
    [
      "request timeout",
      () =>
        Object.assign(
          timeout(
            "@smithy/node-http-handler - [ERROR] a request has exceeded the configured 60000 ms requestTimeout.",
          ),
          { code: "ETIMEDOUT" },
        ),
      false,
      10,
      /no complete answer within 60000 ms/,
    ],
    ["self-signed", () => network("DEPTH_ZERO_SELF_SIGNED_CERT"), false, 10, /TLS failure/],
    ["cert chain", () => network("SELF_SIGNED_CERT_IN_CHAIN"), false, 10, /TLS failure/],
    ["leaf", () => network("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), false, 10, /TLS failure/],
    ["expired cert", () => network("CERT_HAS_EXPIRED"), false, 10, /TLS failure/],
    ["altname", () => network("ERR_TLS_CERT_ALTNAME_INVALID"), false, 10, /TLS failure/],
    ["EPROTO", () => network("EPROTO"), false, 10, /TLS failure: .*\(EPROTO\)/],
    [
      "wrapped in AggregateError",
      () => new AggregateError([network("ECONNREFUSED")], "all failed"),
      false,
      10,
      /ECONNREFUSED/,
    ],
    [
      "endpoint refused behind proxy",
      () => network("ECONNRESET", { address: "10.0.0.9", port: 443 }),
      true,
      10,
      /through the proxy http:\/\/proxy.example:3128/,
    ],
    [
      "proxy refused (untagged)",
      () => network("ECONNREFUSED", { address: "proxy.example", port: 3128 }),
      true,
      11,
      /cannot connect to the proxy http:\/\/proxy.example:3128: connection refused/,
    ],
    [
      "proxy refused",
      () => failure("connect", { code: "ECONNREFUSED", cause: network("ECONNREFUSED") }),
      true,
      11,
      /cannot connect to the proxy http:\/\/proxy.example:3128: connection refused \(ECONNREFUSED\)/,
    ],
    [
      "proxy unknown CA",
      () =>
        failure("connect", {
          code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
          cause: network("UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        }),
      true,
      11,
      /TLS failure.*Proxy CA Bundle File/,
    ],
    [
      "proxy timeout",
      () => failure("timeout", { code: "ETIMEDOUT" }),
      true,
      11,
      /cannot connect to the proxy/,
    ],
    [
      "proxy 407",
      () => failure("status", { statusCode: 407 }),
      true,
      11,
      /requires authentication \(HTTP 407/,
    ],
    [
      "proxy 403",
      () => failure("status", { statusCode: 403 }),
      true,
      11,
      /refused the tunnel.*HTTP 403/,
    ],
    [
      "proxy 502",
      () => failure("status", { statusCode: 502 }),
      true,
      10,
      /the proxy could not reach it \(it answered HTTP 502/,
    ],
    ["proxy 503", () => failure("status", { statusCode: 503 }), true, 10, /HTTP 503/],
    ["proxy 504", () => failure("status", { statusCode: 504 }), true, 10, /HTTP 504/],
    [
      "proxy closed the tunnel",
      () => failure("closed"),
      true,
      10,
      /closed the tunnel .* without answering/,
    ],
    [
      "proxy failure wrapped by the SDK",
      () => Object.assign(new Error("outer"), { cause: failure("status", { statusCode: 407 }) }),
      true,
      11,
      /HTTP 407/,
    ],
    [
      "anything else",
      () => new TypeError("x is not a function"),
      false,
      1,
      /TypeError on StartExecution: x is not a function/,
    ],
    ["a string", () => "weird", false, 1, /weird/],
  ];

  for (const [name, make, viaProxy, code, message] of cases) {
    test(name, () => {
      const classified = classifyError(make(), {
        endpoint,
        operation: "StartExecution",
        ...(viaProxy ? { proxy } : {}),
      });
      assert.equal(classified.exitCode, code, classified.message);
      assert.match(classified.message, message);
      assert.doesNotMatch(classified.message, /\n/);
    });
  }

  test("our own errors pass through unchanged", () => {
    const ours = new ProxyConnectionError("already classified");
    assert.equal(classifyError(ours, {}), ours);
  });

  test("the original error is kept as the cause", () => {
    const original = service("AccessDeniedException", 400);
    assert.equal(classifyError(original, {}).cause, original);
  });

  test("http:// endpoints through a proxy: the proxy's own answers", () => {
    const context = { proxy, endpoint: "http://127.0.0.1:8083" };
    const noId = (status: number) => service("SyntaxError", status, "Deserialization error", "");
    assert.equal(classifyError(noId(407), context).exitCode, 11);
    assert.equal(classifyError(noId(502), context).exitCode, 10);
    assert.equal(classifyError(network("ECONNREFUSED"), context).exitCode, 11);
  });

  test("messages are masked", async () => {
    const { registerSecret } = await import("../../src/secrets.ts");
    registerSecret("CANARY-classify-secret");
    const classified = classifyError(
      service("AccessDeniedException", 400, "key CANARY-classify-secret leaked"),
      {},
    );
    assert.doesNotMatch(classified.message, /CANARY-classify-secret/);
    // AWS's message is shown, masked where the secret stood (not dropped, which hides nothing).
    assert.match(classified.message, /: key \*\*\*\* leaked$/);
  });
});

describe("isRetryable: the SDK's answer", () => {
  const cases: [string, unknown, boolean][] = [
    ["throttling", service("ThrottlingException", 400), true],
    ["429", service("TooManyRequestsException", 429), true],
    ["500", service("InternalServerError", 500), true],
    ["503", service("ServiceUnavailable", 503), true],
    ["timeout", timeout("x"), true],
    ["reset", network("ECONNRESET"), true],
    ["refused", network("ECONNREFUSED"), true],
    ["DNS again", network("EAI_AGAIN"), true],
    ["SDK retryable trait", Object.assign(new Error("x"), { $retryable: {} }), true],
    [
      "proxy down",
      failure("connect", { code: "ECONNREFUSED", cause: network("ECONNREFUSED") }),
      true,
    ],
    ["proxy timeout", failure("timeout", { code: "ETIMEDOUT" }), true],
    ["proxy 502", failure("status", { statusCode: 502 }), true],
    ["proxy closed the tunnel", failure("closed"), true],
    [
      "classified connection error",
      new ConnectionError("x", { cause: network("ECONNRESET") }),
      true,
    ],
    ["KMS throttling", service("KmsThrottlingException", 400), true],
    ["KMS access denied", service("KmsAccessDeniedException", 400), false],
    ["access denied", service("AccessDeniedException", 400), false],
    ["expired token", service("ExpiredTokenException", 400), false],
    ["invalid ARN", service("InvalidArn", 400), false],
    ["unknown 400", service("Whatever", 400), false],
    ["proxy 407", failure("status", { statusCode: 407 }), false],
    ["proxy unknown CA", failure("connect", { code: "SELF_SIGNED_CERT_IN_CHAIN" }), false],
    ["endpoint unknown CA", network("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), false],
    ["classified validation error", new DataValidationError("x"), false],
    ["a bug", new TypeError("x"), false],
  ];
  for (const [name, error, expected] of cases) {
    test(name, () => assert.equal(isRetryable(error), expected));
  }
});

describe("a read whose connection dropped without an answer is sent once more", () => {
  const hangUp = () => network("ECONNRESET", { message: "socket hang up" });

  test("resets, broken pipes and bytes that are not HTTP count as dropped, directly or as a cause", () => {
    assert.equal(droppedWithoutAnswer(hangUp()), true);
    assert.equal(droppedWithoutAnswer(network("EPIPE")), true);
    assert.equal(droppedWithoutAnswer(network("HPE_INVALID_CONSTANT")), true);
    assert.equal(droppedWithoutAnswer(new Error("wrapped", { cause: hangUp() })), true);
    assert.equal(droppedWithoutAnswer(network("ECONNREFUSED")), false);
    const tlsOnly = new ProxyFailure("the proxy only speaks TLS", {
      kind: "tls-only",
      proxy: "http://proxy.example:3128",
      target: "https://states.eu-west-1.amazonaws.com",
      cause: hangUp(),
    });
    assert.equal(droppedWithoutAnswer(tlsOnly), false, "a proxy that only speaks TLS: no retry");
    assert.equal(droppedWithoutAnswer(network("ETIMEDOUT")), false);
    assert.equal(droppedWithoutAnswer(service("ThrottlingException", 400)), false);
    assert.equal(droppedWithoutAnswer(null), false);
  });

  test("dropped once: sent again at once and answered", async () => {
    let calls = 0;
    const answer = await readOnceMoreIfDropped(async () => {
      calls++;
      if (calls === 1) throw hangUp();
      return "answer";
    });
    assert.equal(answer, "answer");
    assert.equal(calls, 2);
  });

  test("dropped twice: the second failure is the caller's", async () => {
    let calls = 0;
    await assert.rejects(
      readOnceMoreIfDropped(async () => {
        calls++;
        throw hangUp();
      }),
      /socket hang up/,
    );
    assert.equal(calls, 2);
  });

  test("any other failure, or a cancelled read, is not sent again", async () => {
    for (const [error, signal] of [
      [service("ThrottlingException", 400), undefined],
      [network("ECONNREFUSED"), undefined],
      [hangUp(), AbortSignal.abort()],
    ] as const) {
      let calls = 0;
      await assert.rejects(
        readOnceMoreIfDropped(async () => {
          calls++;
          throw error;
        }, signal),
      );
      assert.equal(calls, 1);
    }
  });
});
