/**
 * An HTTP relay in front of the local endpoint that breaks chosen calls as a network does:
 * a request reset before it is forwarded (it never reached AWS), or carried out and its
 * reply lost (the connection reset instead of answered), optionally only once a condition
 * holds, so that a test orders what the client's retry meets without a sleep.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RelayRule {
  /** The Step Functions operation (`StartExecution`, ...) whose calls the rule breaks. */
  readonly operation: string;
  /** `reset`: reset the connection without forwarding; `lose-reply`: forward, then reset. */
  readonly fault: "reset" | "lose-reply";
  /** How many matching calls are let through before the first broken one (default 0). */
  readonly skip?: number;
  /** How many matching calls, after those skipped, are broken (default 1). */
  readonly times?: number;
  /**
   * `lose-reply`: the reply is lost only once this settles (called after the call was carried
   * out); `reset`: the connection is reset only once it settles (the call never carried out).
   */
  readonly after?: () => Promise<unknown>;
}

export interface LossyRelay {
  /** `http://127.0.0.1:PORT`, for the Endpoint URL field. */
  readonly url: string;
  /** Each call relayed, in order: its operation and what the relay did with it. */
  readonly calls: ReadonlyArray<{ operation: string; fault: RelayRule["fault"] | "none" }>;
  close(): Promise<void>;
}

interface Forwarded {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function forward(upstream: URL, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
  return new Promise((resolve, reject) => {
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // The Host header is signed: it goes on as the client sent it.
        headers: req.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 502,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    out.on("error", reject);
    out.end(body);
  });
}

export async function startLossyRelay(
  upstreamUrl: string,
  rules: RelayRule[],
): Promise<LossyRelay> {
  const upstream = new URL(upstreamUrl);
  const calls: Array<{ operation: string; fault: RelayRule["fault"] | "none" }> = [];
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    const n = (seen.get(operation) ?? 0) + 1;
    seen.set(operation, n);
    const rule = rules.find(
      (r) => r.operation === operation && n > (r.skip ?? 0) && n <= (r.skip ?? 0) + (r.times ?? 1),
    );
    calls.push({ operation, fault: rule?.fault ?? "none" });
    const reset = () => req.socket.resetAndDestroy();
    try {
      if (rule?.fault === "reset") {
        await rule.after?.();
        return reset();
      }
      const answer = await forward(upstream, req, body);
      if (rule?.fault === "lose-reply") {
        await rule.after?.();
        return reset();
      }
      const headers = { ...answer.headers };
      delete headers["transfer-encoding"];
      headers["content-length"] = String(answer.body.length);
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    } catch {
      req.socket.destroy();
    }
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
