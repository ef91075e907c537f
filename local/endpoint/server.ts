/**
 * The HTTP(S) front end: routes awsJson1_0 Step Functions calls and Query-protocol STS calls
 * arriving on the same URL, applies faults, SigV4 checks, deny rules and throttling in the order
 * a real front end would, and logs every call for tests to inspect.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { CredentialStore } from "./credentials.ts";
import { errors, ServiceError } from "./errors.ts";
import type { Faults } from "./faults.ts";
import { type OperationContext, operations, resourceOf } from "./operations.ts";
import { AuthFailure, accessKeyIdOf, verifySigV4 } from "./sigv4.ts";
import { type Sts, stsErrorXml } from "./sts.ts";

export interface DenyRule {
  /** Only calls signed with this key (default: any key). */
  accessKeyId?: string;
  /** Only this operation, e.g. `StopExecution` or `AssumeRole` (default: any). */
  operation?: string;
  /** Only this resource ARN; `*` matches any run of characters (default: any). */
  resource?: string;
}

export interface RequestLogEntry {
  time: Date;
  service: "states" | "sts" | "unknown";
  operation: string;
  accessKeyId?: string;
  /** HTTP status returned; 0 when the connection was dropped or left hanging. */
  status: number;
  /** Error code returned, if any. */
  errorCode?: string;
  /** The injected fault that shaped the reply, if any. */
  fault?: "drop" | "hang" | "5xx" | "throttled" | "latency" | "held" | "reply-lost" | "error";
  durationMs: number;
  /** ARN the call acted on (Step Functions) or the role (AssumeRole). */
  resource?: string;
  roleSessionName?: string;
  externalId?: string;
}

export interface ServerDeps {
  region: string;
  accountId: string;
  credentials: CredentialStore;
  faults: Faults;
  sts: Sts;
  ops: OperationContext;
  denyRules: DenyRule[];
  log: RequestLogEntry[];
  /** The endpoint's clock (tests move it to check clock-skew handling). */
  now: () => Date;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(value);
}

function stsAuthError(f: AuthFailure, now: Date): ServiceError {
  switch (f.kind) {
    case "missing":
      return new ServiceError(
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
        403,
      );
    case "malformed":
      return new ServiceError("IncompleteSignature", f.message, 400);
    case "unrecognized":
      return new ServiceError(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
      );
    case "expired-token":
      return new ServiceError(
        "ExpiredToken",
        "The security token included in the request is expired",
        400,
      );
    case "expired-signature":
      return new ServiceError(
        "SignatureDoesNotMatch",
        errors.signatureExpired(f.amzDate, now).message,
        403,
      );
    case "future-signature":
      return new ServiceError(
        "SignatureDoesNotMatch",
        errors.signatureNotYetCurrent(f.amzDate, now).message,
        403,
      );
    case "wrong-region":
    case "host-not-signed":
      // STS (Query protocol) answers the front end's signature checks as SignatureDoesNotMatch.
      return new ServiceError("SignatureDoesNotMatch", f.message, 403);
    default:
      return new ServiceError("SignatureDoesNotMatch", errors.invalidSignature().message, 403);
  }
}

function statesAuthError(f: AuthFailure, now: Date): ServiceError {
  switch (f.kind) {
    case "missing":
      return errors.missingAuthentication();
    case "malformed":
      return new ServiceError("IncompleteSignatureException", f.message);
    case "unrecognized":
      return errors.unrecognizedClient();
    case "expired-token":
      return errors.expiredToken();
    case "expired-signature":
      return errors.signatureExpired(f.amzDate, now);
    case "future-signature":
      return errors.signatureNotYetCurrent(f.amzDate, now);
    case "wrong-service":
    case "wrong-region":
    case "host-not-signed":
      return new ServiceError("InvalidSignatureException", f.message);
    default:
      return errors.invalidSignature();
  }
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(
  deps: ServerDeps,
  listen: { host: string; port: number; tls?: { key: string | Buffer; cert: string | Buffer } },
): Promise<RunningServer> {
  const hanging = new Set<http.ServerResponse>();
  const closing = new AbortController();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks), size > MAX_BODY_BYTES).catch((e: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          reply(res, "states", errors.internalFailure(), randomUUID());
        }
        process.emitWarning(`local endpoint: ${(e as Error).stack ?? String(e)}`);
      });
    });
    req.on("error", () => res.destroy());
  };

  function reply(
    res: http.ServerResponse,
    service: "states" | "sts" | "unknown",
    outcome: ServiceError | string,
    requestId: string,
  ): void {
    if (res.destroyed) return;
    const isError = outcome instanceof ServiceError;
    if (service === "sts") {
      const body = isError ? stsErrorXml(outcome, requestId) : outcome;
      res.writeHead(isError ? outcome.status : 200, {
        date: deps.now().toUTCString(),
        "content-type": "text/xml",
        "content-length": Buffer.byteLength(body),
        "x-amzn-requestid": requestId,
      });
      res.end(body);
      return;
    }
    const body = isError
      ? JSON.stringify({ __type: outcome.jsonType, message: outcome.message })
      : outcome;
    const headers: http.OutgoingHttpHeaders = {
      date: deps.now().toUTCString(),
      "content-type": "application/x-amz-json-1.0",
      "content-length": Buffer.byteLength(body),
      "x-amzn-requestid": requestId,
    };
    if (isError) headers["x-amzn-errortype"] = outcome.code;
    res.writeHead(isError ? outcome.status : 200, headers);
    res.end(body);
  }

  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    tooLarge: boolean,
  ): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const target = req.headers["x-amz-target"];
    const contentType = String(req.headers["content-type"] ?? "");
    let service: RequestLogEntry["service"] = "unknown";
    let operation = "Unknown";
    let stsParams: URLSearchParams | undefined;
    if (typeof target === "string") {
      service = "states";
      operation = target.startsWith("AWSStepFunctions.")
        ? target.slice("AWSStepFunctions.".length)
        : target;
    } else if (contentType.startsWith("application/x-www-form-urlencoded")) {
      service = "sts";
      stsParams = new URLSearchParams(body.toString("utf8"));
      operation = stsParams.get("Action") ?? "Unknown";
    }
    const entry: RequestLogEntry = {
      time: new Date(),
      service,
      operation,
      status: 0,
      durationMs: 0,
    };
    const accessKeyId = accessKeyIdOf(req.headers);
    if (accessKeyId) entry.accessKeyId = accessKeyId;
    if (stsParams) {
      const role = stsParams.get("RoleArn");
      const session = stsParams.get("RoleSessionName");
      const externalId = stsParams.get("ExternalId");
      if (role !== null) entry.resource = role;
      if (session !== null) entry.roleSessionName = session;
      if (externalId !== null) entry.externalId = externalId;
    }
    deps.log.push(entry);
    /** The reply of this call is to be lost once the call is carried out. */
    let replyLost = false;
    const finish = (outcome: ServiceError | string, fault?: RequestLogEntry["fault"]) => {
      entry.status = outcome instanceof ServiceError ? outcome.status : 200;
      if (outcome instanceof ServiceError) entry.errorCode = outcome.code;
      if (fault) entry.fault = fault;
      entry.durationMs = performance.now() - started;
      if (replyLost) {
        // Carried out, then the connection goes before the answer does.
        entry.fault = "reply-lost";
        req.socket.destroy();
        return;
      }
      reply(res, service, outcome, requestId);
    };

    if (service === "unknown" || req.method !== "POST" || tooLarge) {
      finish(tooLarge ? errors.serialization("Request body too large") : errors.unknownOperation());
      return;
    }

    const decision = deps.faults.decide(operation);
    replyLost = decision.kind === "reply-lost";
    if (decision.latencyMs > 0) {
      entry.fault = "latency";
      await sleep(decision.latencyMs, closing.signal);
    }
    if (decision.holdUntil) {
      entry.fault ??= "held";
      await settledOrAborted(decision.holdUntil, closing.signal);
    }
    if (decision.kind === "drop") {
      entry.fault = "drop";
      entry.durationMs = performance.now() - started;
      req.socket.destroy();
      return;
    }
    if (decision.kind === "hang") {
      entry.fault = "hang";
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if (decision.kind === "5xx") {
      const err =
        decision.status === 503
          ? service === "sts"
            ? new ServiceError("ServiceUnavailable", "Service is unable to handle request.", 503)
            : errors.serviceUnavailable()
          : service === "sts"
            ? new ServiceError("InternalFailure", "An internal error has occurred", 500)
            : errors.internalFailure();
      finish(err, "5xx");
      return;
    }
    if (decision.kind === "error") {
      finish(new ServiceError(decision.code, decision.message, decision.status), "error");
      return;
    }

    const now = deps.now();
    let caller: Awaited<ReturnType<typeof verifySigV4>>;
    try {
      caller = await verifySigV4(
        { method: req.method ?? "POST", path: req.url ?? "/", headers: req.headers, body },
        service,
        deps.region,
        deps.credentials,
        now,
      );
    } catch (e) {
      if (!(e instanceof AuthFailure)) throw e;
      finish(service === "sts" ? stsAuthError(e, now) : statesAuthError(e, now));
      return;
    }

    let parsed: Record<string, unknown> = {};
    if (service === "states") {
      try {
        const text = body.toString("utf8").trim();
        const value: unknown = text === "" ? {} : JSON.parse(text);
        if (typeof value !== "object" || value === null || Array.isArray(value))
          throw new Error("not an object");
        parsed = value as Record<string, unknown>;
      } catch {
        finish(errors.serialization("Start of structure or map found where not expected."));
        return;
      }
      entry.resource = resourceOf(operation, parsed, deps.region, deps.accountId);
    }

    const resource = entry.resource ?? "*";
    const denied = deps.denyRules.some(
      (r) =>
        (r.accessKeyId === undefined || r.accessKeyId === caller.accessKeyId) &&
        (r.operation === undefined || r.operation === operation) &&
        (r.resource === undefined || globMatch(r.resource, resource)),
    );
    if (denied) {
      finish(
        service === "sts"
          ? new ServiceError(
              "AccessDenied",
              `User: ${caller.credential.principalArn} is not authorized to perform: sts:${operation} on resource: ${resource}`,
              403,
            )
          : errors.accessDenied(caller.credential.principalArn, `states:${operation}`, resource),
      );
      return;
    }

    if (!deps.faults.admit(operation)) {
      finish(
        service === "sts"
          ? new ServiceError("Throttling", "Rate exceeded", 400)
          : errors.throttling(),
        "throttled",
      );
      return;
    }

    try {
      if (service === "sts") {
        finish(deps.sts.handle(stsParams ?? new URLSearchParams(), caller.credential, requestId));
        return;
      }
      const op = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
      if (!op) {
        finish(errors.unknownOperation());
        return;
      }
      finish(JSON.stringify(await op(parsed, { ...deps.ops, caller: caller.accessKeyId })));
    } catch (e) {
      if (e instanceof ServiceError) {
        finish(e);
        return;
      }
      throw e;
    }
  }

  const server = listen.tls
    ? https.createServer({ key: listen.tls.key, cert: listen.tls.cert }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return {
    url: `${listen.tls ? "https" : "http"}://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Resolves when the promise settles (either way) or the signal fires. */
function settledOrAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    promise.then(done, done);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
