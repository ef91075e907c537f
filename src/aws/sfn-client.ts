/**
 * A lean Step Functions client: the JSON protocol (awsJson1_0) signed with SigV4 and sent
 * through the shared HTTP handler. The full SDK client costs the task ~40 ms and ~15 MiB
 * at every start; these few operations need only the signer. Shapes and error names are
 * the SDK's, so the rest of the program (and its classification) cannot tell the difference.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type {
  DescribeExecutionInput,
  DescribeExecutionOutput,
  GetExecutionHistoryInput,
  GetExecutionHistoryOutput,
  RedriveExecutionInput,
  RedriveExecutionOutput,
  SendTaskFailureInput,
  SendTaskFailureOutput,
  SendTaskHeartbeatInput,
  SendTaskHeartbeatOutput,
  SendTaskSuccessInput,
  SendTaskSuccessOutput,
  StartExecutionInput,
  StartExecutionOutput,
  StartSyncExecutionInput,
  StartSyncExecutionOutput,
  StopExecutionInput,
  StopExecutionOutput,
} from "@aws-sdk/client-sfn";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import { SignatureV4 } from "@smithy/signature-v4";
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  HttpRequest,
  SourceData,
} from "@smithy/types";
import { VERSION } from "../version.ts";
import { isTransient } from "./classify.ts";

/** SHA-256 (or HMAC-SHA-256 with a secret) on node:crypto, in the shape the signer wants. */
class Sha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined
      ? createHash("sha256")
      : createHmac("sha256", toBuffer(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** An error in the SDK's shape: name = the service's error type. */
export interface ServiceError extends Error {
  $metadata: { httpStatusCode: number; requestId?: string; attempts?: number };
  $fault: "client" | "server";
}

const DATE_FIELDS = new Set([
  "startDate",
  "stopDate",
  "redriveDate",
  "timestamp",
  "updateDate",
  "creationDate",
]);

/** Dates arrive as epoch seconds; the SDK hands out Date objects. */
function withDates<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) withDates(item);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (DATE_FIELDS.has(k) && typeof v === "number")
        (value as Record<string, unknown>)[k] = new Date(v * 1000);
      else if (v && typeof v === "object") withDates(v);
    }
  }
  return value;
}

export interface LeanSfnOptions {
  readonly region: string;
  readonly endpoint?: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly handler: NodeHttpHandler;
  /** Attempts for throttling, 5xx and dropped connections (the SDK's standard mode uses 3). */
  readonly maxAttempts?: number;
}

export interface SendOptions {
  readonly abortSignal?: AbortSignal;
  /** Overrides the client's attempts, e.g. 1 where the caller has its own backoff. */
  readonly maxAttempts?: number;
}

/** Refresh credentials this long before they expire, as the SDK does. */
const REFRESH_BEFORE_MS = 5 * 60_000;

export class LeanSfnClient {
  readonly endpoint: URL;
  private readonly signer: SignatureV4;
  private cached: AwsCredentialIdentity | undefined;

  constructor(private readonly options: LeanSfnOptions) {
    this.endpoint = new URL(options.endpoint ?? defaultEndpoint(options.region));
    this.signer = new SignatureV4({
      service: "states",
      region: options.region,
      credentials: () => this.credentials(),
      sha256: Sha256,
      uriEscapePath: true,
    });
  }

  private async credentials(): Promise<AwsCredentialIdentity> {
    const source = this.options.credentials;
    if (typeof source !== "function") return source;
    const c = this.cached;
    if (c && (!c.expiration || c.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS)) return c;
    this.cached = await source();
    return this.cached;
  }

  /** Forget cached credentials, so the next call fetches fresh ones. */
  forgetCredentials(): void {
    this.cached = undefined;
  }

  startExecution(input: StartExecutionInput, o?: SendOptions): Promise<StartExecutionOutput> {
    return this.call("StartExecution", input, o);
  }
  describeExecution(
    input: DescribeExecutionInput,
    o?: SendOptions,
  ): Promise<DescribeExecutionOutput> {
    return this.call("DescribeExecution", input, o);
  }
  getExecutionHistory(
    input: GetExecutionHistoryInput,
    o?: SendOptions,
  ): Promise<GetExecutionHistoryOutput> {
    return this.call("GetExecutionHistory", input, o);
  }
  stopExecution(input: StopExecutionInput, o?: SendOptions): Promise<StopExecutionOutput> {
    return this.call("StopExecution", input, o);
  }
  redriveExecution(input: RedriveExecutionInput, o?: SendOptions): Promise<RedriveExecutionOutput> {
    return this.call("RedriveExecution", input, o);
  }
  /** Sent to the sync- endpoint, as the SDK's host prefix does; never retried (not idempotent). */
  startSyncExecution(
    input: StartSyncExecutionInput,
    o?: SendOptions,
  ): Promise<StartSyncExecutionOutput> {
    return this.call("StartSyncExecution", input, { maxAttempts: 1, ...o }, this.syncEndpoint);
  }
  sendTaskSuccess(input: SendTaskSuccessInput, o?: SendOptions): Promise<SendTaskSuccessOutput> {
    return this.call("SendTaskSuccess", input, o);
  }
  sendTaskFailure(input: SendTaskFailureInput, o?: SendOptions): Promise<SendTaskFailureOutput> {
    return this.call("SendTaskFailure", input, o);
  }
  sendTaskHeartbeat(
    input: SendTaskHeartbeatInput,
    o?: SendOptions,
  ): Promise<SendTaskHeartbeatOutput> {
    return this.call("SendTaskHeartbeat", input, o);
  }

  /** StartSyncExecution's host: sync-states.<region>... unless an endpoint was given. */
  private get syncEndpoint(): URL {
    if (this.options.endpoint) return this.endpoint;
    const url = new URL(this.endpoint);
    url.hostname = `sync-${url.hostname}`;
    return url;
  }

  /** One operation, with retries of what may pass. */
  async call<T>(
    operation: string,
    input: object,
    options: SendOptions = {},
    endpoint: URL = this.endpoint,
  ): Promise<T> {
    const attempts = options.maxAttempts ?? this.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(operation, input, options, endpoint);
      } catch (error) {
        const e = error as Partial<ServiceError>;
        // The same judgement the waiting loop uses: throttling, 5xx, timeouts, resets.
        if (!isTransient(error) || attempt >= attempts || options.abortSignal?.aborted) {
          if (e.$metadata) e.$metadata.attempts = attempt;
          throw error;
        }
        const delay = Math.min(20_000, 100 * 2 ** attempt) * Math.random();
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async once<T>(
    operation: string,
    input: object,
    options: SendOptions,
    url: URL,
  ): Promise<T> {
    const body = JSON.stringify(input);
    const request: HttpRequest = {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname || "/",
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": `AWSStepFunctions.${operation}`,
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": `ue-aws-stepfunctions/${VERSION}`,
      },
      body,
    };
    const signed = (await this.signer.sign(request)) as HttpRequest;
    // The handler reads plain request fields only; the class type it names adds clone().
    const { response } = await this.options.handler.handle(signed as never, {
      ...(options.abortSignal ? { abortSignal: options.abortSignal as never } : {}),
    });
    const text = await readBody(response.body as NodeJS.ReadableStream);
    const status = response.statusCode;
    const requestId = header(response.headers, "x-amzn-requestid");
    if (status >= 200 && status < 300) {
      return withDates(text ? (JSON.parse(text) as T) : ({} as T));
    }
    throw serviceError(status, text, response.headers, requestId);
  }
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

async function readBody(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Build the SDK-shaped error from an awsJson1_0 error reply. */
export function serviceError(
  status: number,
  text: string,
  headers: Record<string, string | undefined>,
  requestId?: string,
): ServiceError {
  let parsed: { __type?: string; message?: string; Message?: string } = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON (a proxy's or load balancer's page): the status tells enough.
  }
  const rawType = parsed.__type ?? header(headers, "x-amzn-errortype") ?? "";
  const type =
    rawType.split("#").pop()?.split(":")[0] ||
    (status >= 500 ? "InternalFailure" : `Http${status}`);
  const message = parsed.message ?? parsed.Message ?? (text.length < 300 ? text : `HTTP ${status}`);
  const error = new Error(message || type) as ServiceError;
  error.name = type;
  error.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  error.$fault = status >= 500 ? "server" : "client";
  return error;
}

/** The regional endpoint of Step Functions. */
export function defaultEndpoint(region: string): string {
  const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://states.${region}.${suffix}`;
}
