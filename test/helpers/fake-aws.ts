/**
 * A minimal AWS endpoint for connectivity tests: answers Step Functions JSON calls and STS
 * query calls with well-formed, empty-ish shapes, over HTTP or HTTPS. It can be told to
 * hang (accept and never answer) or to answer with an AWS error.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface FakeAws {
  readonly url: string;
  readonly port: number;
  /** Operations received, e.g. "AWSStepFunctions.ListStateMachines", "sts:GetCallerIdentity". */
  readonly calls: string[];
  /** "answer" (default), "hang": never answer, or an AWS error to return. */
  mode: "answer" | "hang" | { status: number; type: string; message: string };
  close(): Promise<void>;
}

const STS_IDENTITY = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDATEST</UserId><Account>123456789012</Account></GetCallerIdentityResult>
<ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;

function sfnAnswer(operation: string): object {
  switch (operation) {
    case "ListStateMachines":
      return { stateMachines: [] };
    case "DescribeExecution":
      return {
        executionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:run",
        stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        status: "RUNNING",
        startDate: 1_700_000_000,
      };
    default:
      return {};
  }
}

export async function startFakeAws(
  options: { tls?: { key: string; cert: string } } = {},
): Promise<FakeAws> {
  const sockets = new Set<Socket>();
  const state: FakeAws = {
    url: "",
    port: 0,
    calls: [],
    mode: "answer",
    close: async () => {},
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const target = req.headers["x-amz-target"];
      const sts = typeof target !== "string" ? /Action=([A-Za-z]+)/.exec(body)?.[1] : undefined;
      state.calls.push(typeof target === "string" ? target : `sts:${sts ?? "?"}`);
      if (state.mode === "hang") return;
      const requestId = { "x-amzn-requestid": "11111111-2222-3333-4444-555555555555" };
      if (typeof state.mode === "object") {
        const { status, type, message } = state.mode;
        if (sts) {
          res.writeHead(status, { "content-type": "text/xml", ...requestId });
          res.end(
            `<ErrorResponse><Error><Type>Sender</Type><Code>${type}</Code><Message>${message}</Message></Error><RequestId>x</RequestId></ErrorResponse>`,
          );
        } else {
          res.writeHead(status, { "content-type": "application/x-amz-json-1.0", ...requestId });
          res.end(
            JSON.stringify({ __type: `com.amazonaws.swf.service.v2.model#${type}`, message }),
          );
        }
        return;
      }
      if (sts) {
        res.writeHead(200, { "content-type": "text/xml", ...requestId });
        res.end(STS_IDENTITY);
        return;
      }
      const operation = typeof target === "string" ? (target.split(".")[1] ?? "") : "";
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0", ...requestId });
      res.end(JSON.stringify(sfnAnswer(operation)));
    });
  };
  const server: Server = options.tls
    ? createHttpsServer(options.tls, handle)
    : createHttpServer(handle);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // TLS handshakes the client aborts (unknown CA) are expected here.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    port,
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

/** A port where nothing listens (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
