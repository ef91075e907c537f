/**
 * The agents that send requests through a proxy: the proxy forwards http:// requests
 * itself, and https:// requests go through a CONNECT tunnel. Loaded by the shared handler
 * with its first request, and only when a proxy is configured.
 */
import type { ClientRequest } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type { Duplex } from "node:stream";
import { rootCertificates } from "node:tls";
import { Agent, type AgentConnectOpts } from "agent-base";
import { HttpProxyAgent } from "http-proxy-agent";
import { HttpsProxyAgent, type HttpsProxyAgentOptions } from "https-proxy-agent";
import createDebug from "debug";
import type { ProxyConfig, ProxyServer } from "../proxy/config.ts";
import { ProxyFailure, type ProxyFailureKind } from "./proxy-failure.ts";

// The agents' debug output shows whole forwarded requests, session tokens and
// Proxy-Authorization among them: it stays off whatever DEBUG says.
createDebug.disable();

/**
 * The handler's two agents through the proxy. `endpoint` holds the options of the
 * connection to the endpoint (keep-alive, the endpoint CA).
 */
export function proxyAgents(
  proxy: ProxyConfig,
  endpoint: ConstructorParameters<typeof HttpsAgent>[0],
  connectTimeoutMs: number,
  maxSockets: number,
): { httpAgent: HttpProxyAgent<string>; httpsAgent: ProxyTunnelAgent } {
  const toProxy = proxyOptions(proxy, maxSockets);
  return {
    // http:// endpoints: the proxy forwards each request itself.
    httpAgent: new HttpProxyAgent(proxy.forHttp.url, toProxy),
    // https:// endpoints: a tunnel. The agent states its endpoint scheme in its options:
    // agent-base otherwise guesses it from the call stack, and guesses wrong when a
    // kept-alive socket is freed, so no socket would ever be reused.
    httpsAgent: new ProxyTunnelAgent(
      proxy.forHttps,
      toProxy,
      { ...endpoint, secureEndpoint: true },
      connectTimeoutMs,
    ),
  };
}

/** The agents' options for the connection to the proxy itself. */
function proxyOptions(proxy: ProxyConfig, maxSockets: number): HttpsProxyAgentOptions<string> {
  const authorization = proxy.credentials?.authorization.bind(proxy.credentials);
  return {
    keepAlive: true,
    maxSockets,
    // TLS to the proxy: the system roots plus the CA bundle.
    ...(proxy.caBundle ? { ca: [...rootCertificates, proxy.caBundle] } : {}),
    // A function, so the credentials never sit in an options object that debug output or
    // an error could show; the proxy URL never holds them either.
    ...(authorization ? { headers: () => ({ "Proxy-Authorization": authorization() }) } : {}),
  };
}

/**
 * The agent for https:// endpoints through the proxy. It opens the CONNECT tunnel with
 * https-proxy-agent itself so that it can (1) bound the tunnel set-up by the connect
 * timeout and release the socket when it expires, and (2) mark every failure before the
 * tunnel is up as the proxy's (ProxyFailure), turning a refused CONNECT into an error
 * instead of the proxy's reply posing as the endpoint's. Kept-alive sockets (TLS to the
 * endpoint, through the tunnel) are pooled here.
 */
class ProxyTunnelAgent extends Agent {
  readonly #inner: HttpsProxyAgent<string>;
  readonly #server: ProxyServer;
  readonly #connectTimeoutMs: number;

  constructor(
    server: ProxyServer,
    proxyAgentOptions: HttpsProxyAgentOptions<string>,
    endpointOptions: HttpsAgentOptions,
    connectTimeoutMs: number,
  ) {
    // These options (keep-alive, endpoint CA) apply to the connection to the endpoint.
    super(endpointOptions);
    this.#server = server;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#inner = new HttpsProxyAgent(server.url, proxyAgentOptions);
  }

  override connect(req: ClientRequest, opts: AgentConnectOpts): Promise<Duplex> {
    const target = `${opts.host ?? "localhost"}:${opts.port}`;
    return this.#tunnel(this.#inner, this.#server, target, req, opts);
  }

  async #tunnel(
    inner: HttpsProxyAgent<string>,
    server: ProxyServer,
    target: string,
    req: ClientRequest,
    opts: AgentConnectOpts,
  ): Promise<Duplex> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#connectTimeoutMs);
    const onClose = () => controller.abort();
    req.once("close", onClose);
    let statusCode: number | undefined;
    let statusText = "";
    const onProxyConnect = (connect: { statusCode?: number; statusText?: string }) => {
      statusCode = connect.statusCode;
      statusText = connect.statusText ?? "";
    };
    req.once("proxyConnect", onProxyConnect);

    // The agent opens its socket to the proxy synchronously at the start of connect(), from
    // its shared connectOpts: lend it this attempt's abort signal for exactly that moment.
    let pending: Promise<Duplex>;
    inner.connectOpts.signal = controller.signal;
    try {
      pending = inner.connect(req, opts);
    } finally {
      delete inner.connectOpts.signal;
    }

    try {
      const socket = await pending;
      if (statusCode !== 200) {
        socket.destroy();
        const code = statusCode ?? 0;
        throw new ProxyFailure(
          `the proxy ${server.url} answered the CONNECT to ${target} with HTTP ${code}${statusText ? ` ${statusText}` : ""}`,
          { kind: "status", proxy: server.url, target, statusCode: code },
        );
      }
      return socket;
    } catch (error) {
      if (error instanceof ProxyFailure) throw error;
      if (timedOut) {
        throw new ProxyFailure(
          `no tunnel through the proxy ${server.url} to ${target} within ${this.#connectTimeoutMs} ms`,
          { kind: "timeout", proxy: server.url, target, code: "ETIMEDOUT", cause: error },
        );
      }
      throw proxyFailure(server, target, error);
    } finally {
      clearTimeout(timer);
      req.removeListener("close", onClose);
      req.removeListener("proxyConnect", onProxyConnect);
    }
  }

  override destroy(): void {
    this.#inner.destroy();
    super.destroy();
  }
}

type HttpsAgentOptions = ConstructorParameters<typeof HttpsAgent>[0] & { secureEndpoint: boolean };

function proxyFailure(
  server: ProxyServer,
  target: string,
  error: unknown,
  knownKind?: ProxyFailureKind,
): ProxyFailure {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : undefined;
  const message = typeof e?.message === "string" ? e.message : String(error);
  // Socket and TLS failures carry a system code. https-proxy-agent's own errors ("Proxy
  // connection ended before receiving CONNECT response", "No header received ...") have
  // none and can only happen once the connection to the proxy was up.
  const kind = knownKind ?? (code ? "connect" : "closed");
  return new ProxyFailure(
    `cannot open a tunnel through the proxy ${server.url} to ${target}: ${message}`,
    {
      kind,
      proxy: server.url,
      target,
      ...(code ? { code } : {}),
      cause: error,
    },
  );
}
