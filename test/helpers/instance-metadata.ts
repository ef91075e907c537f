/**
 * A stand-in for the EC2 instance metadata service (IMDS) on a local port: what the SDK's
 * instance-role provider reads when the credential chain ends there. It speaks IMDSv2 as
 * the EC2 user guide describes it (a PUT to /latest/api/token with
 * X-aws-ec2-metadata-token-ttl-seconds gives a session token; GETs send it back in
 * X-aws-ec2-metadata-token; an unknown token is 401; a PUT carrying X-Forwarded-For is
 * refused), and IMDSv1 (GETs without a token) unless tokens are required. The instance
 * role's credentials are minted by the local endpoint's STS, so the endpoint checks every
 * signature made with them.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { LocalEndpoint } from "../../local/endpoint/index.ts";

const TOKEN_PATH = "/latest/api/token";
const CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/";

/** One request the stand-in received. */
export interface MetadataRequest {
  readonly method: string;
  readonly path: string;
  /** X-aws-ec2-metadata-token-ttl-seconds, on a token PUT. */
  readonly ttlSeconds?: string;
  /** X-aws-ec2-metadata-token, as sent. */
  readonly token?: string;
  /** The status it was answered with (none: left unanswered). */
  status?: number;
}

/** The instance role's credentials as served. */
export interface ServedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface InstanceMetadataOptions {
  /** The instance profile's role name. */
  readonly roleName?: string;
  /**
   * How the token PUT is answered: "token" (IMDSv2), an HTTP status (403, 404, 405: a
   * service or a host in front of it that refuses it), or "never" (no answer at all).
   */
  readonly tokenPut?: "token" | number | "never";
  /** HttpTokens required: a GET without a token is 401. */
  readonly requireToken?: boolean;
  /** No instance profile attached to the instance: the role's name is not found (404). */
  readonly noRole?: boolean;
}

export interface InstanceMetadata {
  /** http://127.0.0.1:port, for AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  readonly url: string;
  readonly requests: ReadonlyArray<MetadataRequest>;
  /** Session tokens given out by the PUT. */
  readonly tokens: ReadonlyArray<string>;
  /** Credentials served, oldest first. */
  readonly served: ReadonlyArray<ServedCredentials>;
  close(): Promise<void>;
}

/** Start the stand-in, minting the role's credentials through `ep`'s STS. */
export async function startInstanceMetadata(
  ep: LocalEndpoint,
  options: InstanceMetadataOptions = {},
): Promise<InstanceMetadata> {
  const roleName = options.roleName ?? "agent-instance-role";
  const tokenPut = options.tokenPut ?? "token";
  const sts = new STSClient({ endpoint: ep.url, region: ep.region, credentials: ep.credentials });
  const requests: MetadataRequest[] = [];
  const tokens: string[] = [];
  const served: ServedCredentials[] = [];
  const sockets = new Set<Socket>();

  const answer = (res: ServerResponse, entry: MetadataRequest, status: number, body = "") => {
    entry.status = status;
    res.statusCode = status;
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === "string" ? value : undefined;
    };
    const ttlSeconds = header("x-aws-ec2-metadata-token-ttl-seconds");
    const token = header("x-aws-ec2-metadata-token");
    const entry: MetadataRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
      ...(token !== undefined ? { token } : {}),
    };
    requests.push(entry);

    if (entry.path === TOKEN_PATH) {
      if (entry.method !== "PUT") return answer(res, entry, 405);
      if (tokenPut === "never") return;
      if (typeof tokenPut === "number") return answer(res, entry, tokenPut);
      // The service refuses a token PUT that came through a forwarding proxy.
      if (header("x-forwarded-for") !== undefined) return answer(res, entry, 403);
      const ttl = Number(ttlSeconds);
      if (!ttlSeconds || !Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) {
        return answer(res, entry, 400);
      }
      const issued = `AQAEA${randomBytes(30).toString("base64url")}`;
      tokens.push(issued);
      res.setHeader("x-aws-ec2-metadata-token-ttl-seconds", String(ttl));
      return answer(res, entry, 200, issued);
    }
    if (entry.method !== "GET") return answer(res, entry, 405);
    if (token !== undefined ? !tokens.includes(token) : options.requireToken) {
      return answer(res, entry, 401);
    }
    if (options.noRole && entry.path.startsWith(CREDENTIALS_PATH)) return answer(res, entry, 404);
    if (entry.path === CREDENTIALS_PATH) return answer(res, entry, 200, roleName);
    if (entry.path !== `${CREDENTIALS_PATH}${roleName}`) return answer(res, entry, 404);
    const reply = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::123456789012:role/${roleName}`,
        RoleSessionName: "i-0123456789abcdef0",
      }),
    );
    const c = reply.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) return answer(res, entry, 500);
    served.push({
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    });
    res.setHeader("content-type", "text/plain");
    return answer(
      res,
      entry,
      200,
      JSON.stringify(
        {
          Code: "Success",
          LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
          Type: "AWS-HMAC",
          AccessKeyId: c.AccessKeyId,
          SecretAccessKey: c.SecretAccessKey,
          Token: c.SessionToken,
          Expiration: c.Expiration?.toISOString().replace(/\.\d+Z$/, "Z"),
        },
        null,
        2,
      ),
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokens,
    served,
    async close() {
      // Requests left unanswered ("never") hold their sockets open.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      sts.destroy();
    },
  };
}
