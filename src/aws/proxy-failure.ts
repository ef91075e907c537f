/**
 * The error for a failure between us and the proxy, in a module of its own: the handler
 * and the proxy agents (loaded on first use) both raise it.
 */

/**
 * How opening a CONNECT tunnel failed:
 * - "connect": no connection to the proxy (refused, DNS, reset, TLS or CA);
 * - "timeout": no answer to CONNECT within the connect timeout;
 * - "closed": the proxy accepted the connection, then closed it without answering CONNECT
 *   (what proxy-chain and some others do when they cannot reach the endpoint);
 * - "status": the proxy answered CONNECT (or a forwarded request) with its own refusal;
 * - "tls-only": a proxy addressed in plain HTTP that only speaks TLS (it dropped the
 *   request, and answers a TLS handshake).
 */
export type ProxyFailureKind = "connect" | "timeout" | "closed" | "status" | "tls-only";

/**
 * A failure between us and the proxy, or the proxy's refusal of the CONNECT tunnel.
 * Raised by the agent so the classifier knows which side failed.
 */
export class ProxyFailure extends Error {
  readonly kind: ProxyFailureKind;
  /** The proxy, as `http(s)://host:port` (never with credentials). */
  readonly proxy: string;
  /** The host:port the tunnel was for. */
  readonly target: string;
  /** The proxy's answer to CONNECT when it was not 200. */
  readonly statusCode: number | undefined;
  /** The underlying error code (ECONNREFUSED, a TLS code ...) so SDK retries still apply. */
  readonly code: string | undefined;
  /**
   * The SDK's retry trait, set where trying again may pass: the proxy timed out, closed the
   * tunnel, or could not reach the endpoint (5xx). Refusals and TLS failures stay final.
   */
  readonly $retryable: { readonly throttling: boolean } | undefined;

  constructor(
    message: string,
    details: {
      kind: ProxyFailureKind;
      proxy: string;
      target: string;
      statusCode?: number;
      code?: string;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "ProxyFailure";
    this.kind = details.kind;
    this.proxy = details.proxy;
    this.target = details.target;
    this.statusCode = details.statusCode;
    this.code = details.code;
    const upstream = details.kind === "status" && (details.statusCode ?? 0) >= 500;
    this.$retryable =
      details.kind === "timeout" || details.kind === "closed" || upstream
        ? { throttling: false }
        : undefined;
  }
}
