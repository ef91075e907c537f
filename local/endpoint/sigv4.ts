/**
 * Verification of AWS Signature Version 4 on incoming requests. The signature is recomputed
 * with the same signer the SDK uses, from exactly the headers the client declared as signed,
 * so any client that signs correctly (SDK, AWS CLI, boto3) is accepted.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { CredentialStore, StoredCredential } from "./credentials.ts";

/**
 * AWS rejects requests whose X-Amz-Date is further than this from its clock: 5 minutes for
 * Step Functions ("Signature expired: ... (... - 5 min.)", as reported for the SDK's SFN
 * client in aws/aws-sdk-js-v3#7135; some older services allow 15).
 */
export const MAX_SKEW_MS = 5 * 60_000;

export type AuthFailureKind =
  | "missing"
  | "malformed"
  | "unrecognized"
  | "signature"
  | "expired-signature"
  | "future-signature"
  | "expired-token"
  | "wrong-service"
  | "host-not-signed"
  | "wrong-region";

export class AuthFailure extends Error {
  readonly kind: AuthFailureKind;
  readonly amzDate: string;
  constructor(kind: AuthFailureKind, message: string = kind, amzDate = "") {
    super(message);
    this.kind = kind;
    this.amzDate = amzDate;
  }
}

export interface SignedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface VerifiedCaller {
  accessKeyId: string;
  credential: StoredCredential;
  region: string;
}

const AUTH_RE =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** Reads the access key id without verifying anything, for logging rejected requests. */
export function accessKeyIdOf(headers: IncomingHttpHeaders): string | undefined {
  return AUTH_RE.exec(header(headers, "authorization") ?? "")?.[1];
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/**
 * Verifies the request's signature for `service` in `region` (the endpoint's own: AWS refuses
 * a credential scope naming another region than the endpoint's).
 */
export async function verifySigV4(
  req: SignedRequest,
  service: string,
  region: string,
  store: CredentialStore,
  now: Date = new Date(),
): Promise<VerifiedCaller> {
  const authorization = header(req.headers, "authorization");
  if (!authorization) throw new AuthFailure("missing");
  const m = AUTH_RE.exec(authorization);
  if (!m)
    throw new AuthFailure(
      "malformed",
      "Authorization header requires well-formed Credential, SignedHeaders and Signature parameters",
    );
  const [, accessKeyId, , scopeRegion, scopeService, signedHeaderList, signature] =
    m as unknown as [string, string, string, string, string, string, string];

  // SigV4 requires the host header among the signed headers; AWS refuses a signature without it.
  if (!signedHeaderList.split(";").includes("host")) {
    throw new AuthFailure(
      "host-not-signed",
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }

  const credential = store.get(accessKeyId);
  if (!credential) throw new AuthFailure("unrecognized");
  const presentedToken = header(req.headers, "x-amz-security-token");
  if ((credential.sessionToken ?? undefined) !== presentedToken)
    throw new AuthFailure("unrecognized");
  if (credential.expiresAt && credential.expiresAt.getTime() <= now.getTime()) {
    throw new AuthFailure("expired-token");
  }
  if (scopeService !== service) {
    throw new AuthFailure(
      "wrong-service",
      `Credential should be scoped to correct service: '${service}'. `,
    );
  }
  if (scopeRegion !== region) {
    throw new AuthFailure(
      "wrong-region",
      `Credential should be scoped to a valid region, not '${scopeRegion}'. `,
    );
  }

  const amzDate = header(req.headers, "x-amz-date") ?? "";
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) throw new AuthFailure("signature");
  if (signedAt.getTime() < now.getTime() - MAX_SKEW_MS)
    throw new AuthFailure("expired-signature", "", amzDate);
  if (signedAt.getTime() > now.getTime() + MAX_SKEW_MS)
    throw new AuthFailure("future-signature", "", amzDate);

  const signedNames = signedHeaderList.split(";");
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = header(req.headers, name);
    if (value === undefined) throw new AuthFailure("signature");
    headers[name] = value;
  }
  // The signer takes a signed x-amz-content-sha256 as the payload's hash instead of hashing
  // the payload. AWS hashes the body it received, so a body changed after signing (or a
  // header naming another hash) no longer matches the signature.
  const claimedHash = headers["x-amz-content-sha256"];
  if (
    claimedHash !== undefined &&
    claimedHash !== createHash("sha256").update(req.body).digest("hex")
  ) {
    throw new AuthFailure("signature");
  }
  const [path = "/", rawQuery = ""] = req.path.split("?", 2);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }

  // No session token and no checksum here: the signer would add (and sign) those headers itself,
  // while the client's own copies are already among the signed headers copied above.
  const signer = new SignatureV4({
    service,
    region,
    credentials: { accessKeyId, secretAccessKey: credential.secretAccessKey },
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: "http:",
      hostname: (headers["host"] ?? "").split(":")[0] ?? "",
      path,
      query,
      headers,
      body: req.body,
    },
    {
      signingDate: signedAt,
      signableHeaders: new Set(signedNames),
      signingRegion: region,
      signingService: service,
    },
  );
  const expected =
    /Signature=([0-9a-f]{64})/.exec(String(signed.headers["authorization"]))?.[1] ?? "";
  if (
    expected.length !== signature.length ||
    !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  ) {
    throw new AuthFailure("signature");
  }
  return { accessKeyId, credential, region };
}
