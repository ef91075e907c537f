/**
 * The one HTTP handler every AWS client shares (Step Functions, STS and the credential
 * providers): keep-alive agents, explicit connect and request timeouts, and the proxy.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { connect as tlsConnect, rootCertificates } from "node:tls";
import { NodeHttpHandler, type NodeHttpHandlerOptions } from "@smithy/node-http-handler";
import type { ProxyConfig, ProxyServer } from "../proxy/config.ts";
import { ProxyFailure } from "./proxy-failure.ts";

export { ProxyFailure, type ProxyFailureKind } from "./proxy-failure.ts";

/** Defaults, documented in docs/proxies.md. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const MAX_SOCKETS = 50;

export interface HttpHandlerOptions {
  /** Send every request through this proxy. */
  readonly proxy?: ProxyConfig | undefined;
  /** TCP (and, through a proxy, CONNECT tunnel) set-up limit; 10 s unless given. */
  readonly connectTimeoutMs?: number | undefined;
  /** Limit for one request: idle socket and whole request; 60 s unless given. */
  readonly requestTimeoutMs?: number | undefined;
  /** Extra PEM CA certificates trusted for the AWS endpoint (a private or local endpoint). */
  readonly endpointCa?: string | undefined;
}

/** Build the shared handler. */
export function createHttpHandler(options: HttpHandlerOptions = {}): NodeHttpHandler {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  const endpointTls = options.endpointCa ? { ca: [...rootCertificates, options.endpointCa] } : {};
  const base = { keepAlive: true, maxSockets: MAX_SOCKETS };

  const timeouts = {
    connectionTimeout: connectTimeoutMs,
    // Idle socket (no byte for this long) and the whole request: either ends it.
    socketTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
  const { proxy } = options;
  if (proxy) {
    // The proxy agents (and the packages behind them) load with the first request, so a
    // task without a proxy never parses them.
    const withProxy = async (): Promise<NodeHttpHandlerOptions> => {
      const { proxyAgents } = await import("./proxy-agents.ts");
      return {
        ...proxyAgents(proxy, { ...base, ...endpointTls }, connectTimeoutMs, MAX_SOCKETS),
        ...timeouts,
      };
    };
    return new ConnectivityHttpHandler(withProxy, requestTimeoutMs, proxy);
  }
  return new ConnectivityHttpHandler(
    {
      httpAgent: new HttpAgent(base),
      httpsAgent: new HttpsAgent({ ...base, ...endpointTls }),
      ...timeouts,
    },
    requestTimeoutMs,
    undefined,
  );
}

/** Where a failed request went: lets the classifier name the endpoint and the proxy. */
export interface RequestSite {
  readonly endpoint: string;
  readonly proxy: ProxyConfig | undefined;
  /**
   * Which limit a timed-out request hit: "connect" when it ended before the request
   * timeout could have (no connection, or through a proxy no tunnel, in time).
   */
  readonly timeout?: "connect" | "request";
}

const sites = new WeakMap<object, RequestSite>();

/** The endpoint and proxy of a request that failed in the shared handler, if it did. */
export function requestSiteOf(error: unknown): RequestSite | undefined {
  return typeof error === "object" && error !== null ? sites.get(error) : undefined;
}

type HandleArgs = Parameters<NodeHttpHandler["handle"]>;
type HandleResult = Awaited<ReturnType<NodeHttpHandler["handle"]>>;

/**
 * The smithy handler, remembering for each failure where the request went (so errors
 * classify the same whoever calls), and turning a forwarding proxy's own refusal of an
 * http:// request (407, or a 5xx that no AWS service sent) into a ProxyFailure.
 */
class ConnectivityHttpHandler extends NodeHttpHandler {
  readonly #proxy: ProxyConfig | undefined;
  readonly #requestTimeoutMs: number;

  constructor(
    options: NodeHttpHandlerOptions | (() => Promise<NodeHttpHandlerOptions>),
    requestTimeoutMs: number,
    proxy: ProxyConfig | undefined,
  ) {
    super(options);
    this.#proxy = proxy;
    this.#requestTimeoutMs = requestTimeoutMs;
  }

  override async handle(request: HandleArgs[0], options?: HandleArgs[1]): Promise<HandleResult> {
    const port = request.port ? `:${request.port}` : "";
    const endpoint = `${request.protocol}//${request.hostname}${port}`;
    let result: HandleResult;
    const started = monotonicMs();
    try {
      result = await super.handle(request, options);
    } catch (caught) {
      // The smithy handler's timeouts carry no code; which one fired is known from when.
      const timedOut = isTimeoutError(caught);
      const timeout = timedOut
        ? monotonicMs() - started < this.#requestTimeoutMs
          ? ("connect" as const)
          : ("request" as const)
        : undefined;
      let error = caught;
      const server =
        this.#proxy && (request.protocol === "http:" ? this.#proxy.forHttp : this.#proxy.forHttps);
      // A plain-HTTP proxy that dropped the request without an HTTP answer: find out
      // whether it is a TLS-only proxy, so the operator is told to choose Proxy Type HTTPS.
      if (server && !server.tls && droppedWithoutAnswer(caught) && !options?.abortSignal?.aborted) {
        if (await speaksTls(server, PROBE_TIMEOUT_MS)) {
          error = new ProxyFailure(
            `the proxy ${server.url} only speaks TLS: it dropped the plain request for ${endpoint}`,
            { kind: "tls-only", proxy: server.url, target: endpoint, cause: caught },
          );
        }
      }
      if (typeof error === "object" && error !== null)
        sites.set(error, { endpoint, proxy: this.#proxy, ...(timeout ? { timeout } : {}) });
      throw error;
    }
    const { response } = result;
    const forwarded = this.#proxy !== undefined && request.protocol === "http:";
    const fromAws = Object.keys(response.headers).some(
      (h) => h.toLowerCase() === "x-amzn-requestid",
    );
    // Without AWS's request id, a 407, 403 or 5xx to a forwarded request is the proxy's own.
    const refusal = response.statusCode === 407 || response.statusCode === 403;
    if (forwarded && !fromAws && (refusal || response.statusCode >= 500)) {
      (response.body as { destroy?: () => void } | undefined)?.destroy?.();
      const server = this.#proxy!.forHttp;
      const failure = new ProxyFailure(
        `the proxy ${server.url} answered the request for ${endpoint} with HTTP ${response.statusCode}${response.reason ? ` ${response.reason}` : ""}`,
        { kind: "status", proxy: server.url, target: endpoint, statusCode: response.statusCode },
      );
      sites.set(failure, { endpoint, proxy: this.#proxy });
      throw failure;
    }
    return result;
  }
}

const PROBE_TIMEOUT_MS = 2000;

/**
 * A monotonic clock in milliseconds. The global `performance` would load Node's
 * perf_hooks (nine modules) with the first request of every task.
 */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A timeout of the smithy handler (it also names resets TimeoutError: their code says so). */
function isTimeoutError(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown } | null;
  return e?.name === "TimeoutError" && e.code !== "ECONNRESET" && e.code !== "EPIPE";
}

/**
 * Did the connection end without an HTTP answer: reset, hang-up, bytes that are not HTTP,
 * or a tunnel closed before its CONNECT answer? Mostly a kept-alive connection that the far
 * end closed just as it was used again.
 */
export function droppedWithoutAnswer(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 4) return false;
  if (error instanceof ProxyFailure) return error.kind === "closed" || error.code === "ECONNRESET";
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === "string" &&
    (code === "ECONNRESET" || code === "EPIPE" || code.startsWith("HPE_"))
  )
    return true;
  return droppedWithoutAnswer((error as { cause?: unknown }).cause, depth + 1);
}

/** Does the server complete a TLS handshake? (Certificates are not the question here.) */
function speaksTls(server: ProxyServer, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: server.host, port: server.port, rejectUnauthorized: false });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("secureConnect", () => done(true));
    socket.once("error", () => done(false));
  });
}
