/** Real proxy servers (proxy-chain) for connectivity tests, counting what went through them. */
import { type AddressInfo, createServer } from "node:net";
import { Server } from "proxy-chain";

export interface TestProxy {
  readonly port: number;
  /** http://127.0.0.1:port or https://127.0.0.1:port */
  readonly url: string;
  /** CONNECT tunnels plus forwarded plain requests that the proxy accepted. */
  readonly served: () => number;
  /** Requests refused for bad or missing credentials. */
  readonly refused: () => number;
  /** Where each request it was asked to carry went (`host:port`), oldest first. */
  readonly targets: () => readonly string[];
  close(): Promise<void>;
}

export async function startTestProxy(options: {
  tls?: { key: string; cert: string };
  auth?: { user: string; password: string };
}): Promise<TestProxy> {
  let served = 0;
  let refused = 0;
  const targets: string[] = [];
  const common = {
    port: 0,
    host: "127.0.0.1",
    prepareRequestFunction: ({
      username,
      password,
      hostname,
      port,
    }: {
      username: string;
      password: string;
      hostname: string;
      port: number;
    }) => {
      targets.push(`${hostname}:${port}`);
      const ok =
        !options.auth || (username === options.auth.user && password === options.auth.password);
      if (ok) served++;
      else refused++;
      return { requestAuthentication: !ok };
    },
  };
  const server = options.tls
    ? new Server({
        ...common,
        serverType: "https",
        httpsOptions: { key: options.tls.key, cert: options.tls.cert },
      })
    : new Server(common);
  // TLS handshakes the client aborts (unknown CA) are expected here.
  server.on("tlsError", () => {});
  await server.listen();
  const scheme = options.tls ? "https" : "http";
  return {
    port: server.port,
    url: `${scheme}://127.0.0.1:${server.port}`,
    served: () => served,
    refused: () => refused,
    targets: () => targets,
    close: () => server.close(true),
  };
}

/** A port where nothing listens (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
