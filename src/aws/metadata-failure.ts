/**
 * Why the EC2 instance metadata service (IMDS) or the container credentials endpoint gave
 * no credentials. The AWS SDK's providers for both drop their reason: the chain's error is
 * only "Could not load credentials from any providers". Node's HTTP client publishes each
 * request it makes on its diagnostics channels; while the chain runs, the requests to those
 * two services are watched there (read only: nothing is changed, no value of a header is
 * kept) and what the services answered is told.
 *
 * A failure is named only where the host evidently has such a service: the IMDS answered
 * (any HTTP status), or the operator configured it (the IMDSv1 fallback turned off while
 * the token request went unanswered, as from a container behind a hop limit of 1; a
 * container credentials variable). A host where the IMDS address refuses, has no route or
 * never answers is the ordinary host off EC2: its plain "no credentials" stays as it was.
 */
import diagnostics from "node:diagnostics_channel";
import type { ClientRequest, IncomingMessage } from "node:http";

const TOKEN_PATH = "/latest/api/token";
const ROLE_PATH = "/latest/meta-data/iam/security-credentials/";
/** The SDK's time limit for each IMDS and container request. */
const LIMIT = "1 s";

/** How one request ended: an HTTP status, an error code, or no answer in time. */
export type MetadataOutcome =
  | { readonly status: number }
  | { readonly error: string }
  | { readonly unanswered: true };

/** One request to the instance metadata service or the container credentials endpoint. */
export interface MetadataExchange {
  readonly service: "instance" | "container";
  /** The IMDSv2 token PUT, the GET of the role's name, or the GET of its credentials. */
  readonly step: "token" | "role" | "credentials";
  /** Whether a GET carried an IMDSv2 session token (never its value). */
  readonly withToken: boolean;
  /** Host (and port) the request went to: "169.254.169.254". */
  readonly host: string;
  outcome?: MetadataOutcome;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The host (with its port) of the container credentials endpoint the environment names. */
function containerHost(env: Env): string | null {
  if (env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]) return "169.254.170.2";
  const full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
  if (!full) return null;
  try {
    return new URL(full).host;
  } catch {
    return null;
  }
}

/** An error's code, for a message: ECONNREFUSED, TimeoutError. */
function errorCode(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : typeof e?.name === "string" ? e.name : "";
  return /^\w{1,40}$/.test(code) ? code : "Error";
}

interface Watch {
  /** The requests seen since the watch began, oldest first. */
  readonly exchanges: readonly MetadataExchange[];
  /** Stop watching. */
  stop(): void;
}

/** Watch the metadata requests this process makes from now until stop(). */
export function watchMetadataRequests(env: Env = process.env): Watch {
  const container = containerHost(env);
  const exchanges: MetadataExchange[] = [];
  const seen = new WeakMap<object, MetadataExchange>();
  const settle = (request: unknown, outcome: MetadataOutcome) => {
    const exchange = seen.get(request as object);
    if (exchange && !exchange.outcome) exchange.outcome = outcome;
  };
  const onStart = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    const host = String(request.getHeader("host") ?? request.host ?? "");
    const path = request.path ?? "";
    const exchange = ((): MetadataExchange | null => {
      const withToken = request.hasHeader("x-aws-ec2-metadata-token");
      if (path === TOKEN_PATH && request.method === "PUT") {
        return { service: "instance", step: "token", withToken: false, host };
      }
      if (path === ROLE_PATH) return { service: "instance", step: "role", withToken, host };
      if (path.startsWith(ROLE_PATH)) {
        return { service: "instance", step: "credentials", withToken, host };
      }
      if (container !== null && host === container) {
        return { service: "container", step: "credentials", withToken: false, host };
      }
      return null;
    })();
    if (!exchange) return;
    exchanges.push(exchange);
    seen.set(request, exchange);
    // The SDK's IMDS requests end on the socket's time limit: it destroys the request then.
    request.once("timeout", () => settle(request, { unanswered: true }));
  };
  const onResponse = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    settle(request, { status: response.statusCode ?? 0 });
  };
  const onError = (message: unknown) => {
    const { request, error } = message as { request: ClientRequest; error: unknown };
    const code = errorCode(error);
    settle(request, code === "TimeoutError" ? { unanswered: true } : { error: code });
  };
  const channels: Array<[string, (message: unknown) => void]> = [
    ["http.client.request.start", onStart],
    ["http.client.response.finish", onResponse],
    ["http.client.request.error", onError],
  ];
  for (const [name, listener] of channels) diagnostics.subscribe(name, listener);
  return {
    exchanges,
    stop() {
      for (const [name, listener] of channels) diagnostics.unsubscribe(name, listener);
    },
  };
}

const isStatus = (o: MetadataOutcome | undefined): o is { status: number } =>
  o !== undefined && "status" in o;

/** What became of a request, in words: "HTTP 404", "no answer within 1 s", "error ECONNRESET". */
function told(o: MetadataOutcome | undefined): string {
  if (o === undefined) return "no answer";
  if ("status" in o) return `HTTP ${o.status}`;
  if ("unanswered" in o) return `no answer within ${LIMIT}`;
  return `error ${o.error}`;
}

/** The answer to a token request reaches a container on the instance only past one hop. */
const HOP_LIMIT =
  "in a container, the instance's metadata hop limit must be 2 or more for the token's answer to reach it (aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2)";

/** Which setting turned the IMDSv1 fallback off, as the SDK reads them. */
function v1Switch(env: Env): string {
  const value = env["AWS_EC2_METADATA_V1_DISABLED"];
  return value !== undefined && value !== "" && value !== "false"
    ? "AWS_EC2_METADATA_V1_DISABLED"
    : "ec2_metadata_v1_disabled in the profile";
}

/** Why the instance metadata service gave no credentials, or null where it is not worth telling. */
function instanceFailure(exchanges: readonly MetadataExchange[], env: Env): string | null {
  const token = exchanges.find((x) => x.step === "token");
  const last = exchanges.filter((x) => x.step !== "token").at(-1);
  const tokenUnanswered = token?.outcome !== undefined && "unanswered" in token.outcome;
  // Named where the service answered something; or where the token request went unanswered
  // and the operator's setting stopped the SDK there (no IMDSv1 request), which is what a
  // container behind a hop limit of 1 meets. Refused, unreachable or silent: no IMDS here.
  const answered = exchanges.some((x) => isStatus(x.outcome));
  if (!answered && !(tokenUnanswered && !last)) return null;
  const host = (last ?? token)?.host ?? "";
  const imds = `the EC2 instance metadata service (${host})`;
  const t = token?.outcome;
  if (isStatus(t) && t.status === 400) return `${imds} refused the IMDSv2 token request (HTTP 400)`;
  const tokenWords = tokenUnanswered
    ? `did not answer the IMDSv2 token request within ${LIMIT}`
    : `refused the IMDSv2 token request (${told(t)}${isStatus(t) && t.status === 403 ? ": the instance's metadata service is turned off, or the request is not allowed" : ""})`;

  if (!last) {
    // The SDK stopped after the token request: its IMDSv1 fallback is turned off.
    return `${imds} ${tokenWords}, and the IMDSv1 fallback is turned off (${v1Switch(env)})${tokenUnanswered ? `; ${HOP_LIMIT}` : ""}`;
  }
  const asked = last.step === "role" ? "the instance's role" : "the role's credentials";
  const o = last.outcome;
  if (!isStatus(o)) {
    const gave = `gave ${told(o)} when asked for ${asked}`;
    return isStatus(t) && t.status < 300
      ? `${imds} answered the IMDSv2 token request but ${gave}`
      : `${imds} ${gave}`;
  }
  if (o.status === 404 && last.step === "role") {
    return `${imds} has no IAM role for this instance (HTTP 404): attach an instance profile with a role to the instance`;
  }
  if (o.status === 401 && !last.withToken) {
    // No token request at all: the SDK skips it once the IMDS has refused one.
    const why = token ? ` and ${tokenWords}` : "";
    return `${imds} requires IMDSv2 session tokens (HTTP 401 to a request without one)${why}${tokenUnanswered ? `; ${HOP_LIMIT}` : ""}`;
  }
  if (o.status >= 200 && o.status < 300) {
    return `${imds} answered without usable credentials when asked for ${asked}`;
  }
  return `${imds} answered HTTP ${o.status} when asked for ${asked}`;
}

/** Why the container credentials endpoint gave no credentials, or null when it was not asked. */
function containerFailure(exchanges: readonly MetadataExchange[], env: Env): string | null {
  if (exchanges.length === 0) return null;
  const decisive = exchanges.filter((x) => isStatus(x.outcome)).at(-1) ?? exchanges.at(-1);
  if (!decisive) return null;
  const variable = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
    : "AWS_CONTAINER_CREDENTIALS_FULL_URI";
  const endpoint = `the container credentials endpoint (${variable}, ${decisive.host})`;
  const o = decisive.outcome;
  if (isStatus(o) && (o.status === 401 || o.status === 403)) {
    const tokenFrom = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
      ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
      : env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        ? "AWS_CONTAINER_AUTHORIZATION_TOKEN"
        : null;
    return `${endpoint} answered HTTP ${o.status}: ${tokenFrom ? `it refused the authorization token from ${tokenFrom}` : "it wants an authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN), and none is set"}`;
  }
  if (isStatus(o) && o.status >= 200 && o.status < 300) {
    return `${endpoint} answered without usable credentials`;
  }
  if (isStatus(o)) return `${endpoint} answered HTTP ${o.status}`;
  return `${endpoint} could not be reached (${told(o)})`;
}

/**
 * Why the metadata services the chain asked gave no credentials, from what they answered,
 * or null: the container endpoint when the environment names one (the SDK then asks no
 * IMDS), else the IMDS.
 */
export function metadataFailure(
  exchanges: readonly MetadataExchange[],
  env: Env = process.env,
): string | null {
  return (
    containerFailure(
      exchanges.filter((x) => x.service === "container"),
      env,
    ) ??
    instanceFailure(
      exchanges.filter((x) => x.service === "instance"),
      env,
    )
  );
}
