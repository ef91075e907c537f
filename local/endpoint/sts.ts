/**
 * A minimal STS (Query protocol, XML replies): AssumeRole issues temporary credentials that
 * the Step Functions side accepts until they expire; GetCallerIdentity reports who signed.
 */
import { randomBytes } from "node:crypto";
import type { CredentialStore, StoredCredential } from "./credentials.ts";
import { ServiceError } from "./errors.ts";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const ROLE_CHAINING_LIMIT_SECONDS = 3600;

/**
 * An expiration in whole seconds, since the XML carries no fractions and clients compare
 * against it. Normally rounded down (never beyond the duration asked for, as AWS does); a
 * forced short lifetime is rounded up, or one issued late in a second would expire
 * milliseconds later, before its first use.
 */
function wholeSecondsFrom(now: Date, seconds: number, roundUp: boolean): Date {
  const end = (now.getTime() + seconds * 1000) / 1000;
  return new Date((roundUp ? Math.ceil(end) : Math.floor(end)) * 1000);
}

export interface ExternalIdRule {
  /** Role the rule guards; omitted or `'*'` means every role. */
  roleArn?: string;
  externalId: string;
}

export interface StsControls {
  /** Lifetime of issued credentials when the caller sends no DurationSeconds. */
  defaultDurationSeconds: number;
  /**
   * Forces the lifetime of credentials issued from now on, overriding DurationSeconds
   * (and AWS's 900 s minimum) so tests can watch them expire. `undefined` restores normal behaviour.
   */
  setExpirySeconds(seconds: number | undefined): void;
  /** Requires an ExternalId for AssumeRole of a role (AccessDenied otherwise). */
  requireExternalId(rule: ExternalIdRule): void;
  /** Credentials issued so far. */
  readonly issued: ReadonlyArray<IssuedCredential>;
}

export interface IssuedCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
}

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const upperAlnum = (n: number) => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...randomBytes(n)].map((b) => alphabet[b % 32]).join("");
};

const stsError = (code: string, message: string, status = 400) =>
  new ServiceError(code, message, status);

export function stsErrorXml(err: ServiceError, requestId: string): string {
  const type = err.status >= 500 ? "Receiver" : "Sender";
  return `<ErrorResponse xmlns="${XMLNS}">
  <Error>
    <Type>${type}</Type>
    <Code>${escapeXml(err.code)}</Code>
    <Message>${escapeXml(err.message)}</Message>
  </Error>
  <RequestId>${requestId}</RequestId>
</ErrorResponse>
`;
}

export class Sts implements StsControls {
  defaultDurationSeconds = 3600;
  #forcedSeconds: number | undefined;
  readonly #rules: ExternalIdRule[] = [];
  readonly #issued: IssuedCredential[] = [];
  readonly #store: CredentialStore;
  readonly #accountId: string;

  /** The endpoint's clock: expirations are AWS's times, as the signature checks are. */
  readonly #now: () => Date;

  constructor(store: CredentialStore, accountId: string, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#accountId = accountId;
    this.#now = now;
  }

  setExpirySeconds(seconds: number | undefined): void {
    this.#forcedSeconds = seconds;
  }

  requireExternalId(rule: ExternalIdRule): void {
    this.#rules.push(rule);
  }

  get issued(): ReadonlyArray<IssuedCredential> {
    return this.#issued;
  }

  reset(): void {
    this.#forcedSeconds = undefined;
    this.#rules.length = 0;
  }

  handle(params: URLSearchParams, caller: StoredCredential, requestId: string): string {
    const action = params.get("Action");
    if (params.get("Version") !== "2011-06-15") {
      throw stsError(
        "InvalidAction",
        `Could not find operation ${action ?? ""} for version ${params.get("Version") ?? "NO_VERSION_SPECIFIED"}`,
      );
    }
    if (action === "AssumeRole") return this.#assumeRole(params, caller, requestId);
    if (action === "GetCallerIdentity") return this.#getCallerIdentity(caller, requestId);
    throw stsError(
      "InvalidAction",
      `Could not find operation ${action ?? ""} for version 2011-06-15`,
    );
  }

  #assumeRole(params: URLSearchParams, caller: StoredCredential, requestId: string): string {
    const roleArn = params.get("RoleArn");
    const session = params.get("RoleSessionName");
    if (!roleArn)
      throw stsError(
        "ValidationError",
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
      );
    if (!session)
      throw stsError(
        "ValidationError",
        "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
      );
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      throw stsError(
        "ValidationError",
        `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const role = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    if (!role) throw stsError("ValidationError", `${roleArn} is invalid`);
    const externalId = params.get("ExternalId") ?? undefined;
    for (const rule of this.#rules) {
      if (
        (rule.roleArn === undefined || rule.roleArn === "*" || rule.roleArn === roleArn) &&
        rule.externalId !== externalId
      ) {
        throw stsError(
          "AccessDenied",
          `User: ${caller.principalArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
          403,
        );
      }
    }
    const requested = params.get("DurationSeconds");
    let seconds = requested === null ? this.defaultDurationSeconds : Number(requested);
    if (!Number.isInteger(seconds) || seconds < 900 || seconds > 43_200) {
      throw stsError(
        "ValidationError",
        `1 validation error detected: Value '${requested}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    }
    // Role chaining (the caller is itself a role session) is limited to one hour: asked for
    // more, AWS refuses; asked for nothing, it gives at most one hour.
    if (caller.principalArn.includes(":assumed-role/") && seconds > ROLE_CHAINING_LIMIT_SECONDS) {
      if (requested !== null) {
        throw stsError(
          "ValidationError",
          "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        );
      }
      seconds = ROLE_CHAINING_LIMIT_SECONDS;
    }
    if (this.#forcedSeconds !== undefined) seconds = this.#forcedSeconds;

    const roleName = role[2]!;
    const issued: IssuedCredential = {
      accessKeyId: `ASIA${upperAlnum(16)}`,
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: `IQoJb3JpZ2luX2VjE${randomBytes(96).toString("base64")}`,
      expiration: wholeSecondsFrom(this.#now(), seconds, this.#forcedSeconds !== undefined),
      roleArn,
      roleSessionName: session,
      ...(externalId !== undefined ? { externalId } : {}),
    };
    const principal = `arn:aws:sts::${role[1]}:assumed-role/${roleName}/${session}`;
    this.#store.add(
      {
        accessKeyId: issued.accessKeyId,
        secretAccessKey: issued.secretAccessKey,
        sessionToken: issued.sessionToken,
        expiresAt: issued.expiration,
      },
      principal,
    );
    this.#issued.push(issued);
    const roleId = `AROA${upperAlnum(17)}`;
    return `<AssumeRoleResponse xmlns="${XMLNS}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>${roleId}:${escapeXml(session)}</AssumedRoleId>
      <Arn>${escapeXml(principal)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${issued.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${escapeXml(issued.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${escapeXml(issued.sessionToken)}</SessionToken>
      <Expiration>${issued.expiration.toISOString().replace(".000Z", "Z")}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${requestId}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`;
  }

  #getCallerIdentity(caller: StoredCredential, requestId: string): string {
    return `<GetCallerIdentityResponse xmlns="${XMLNS}">
  <GetCallerIdentityResult>
    <Arn>${escapeXml(caller.principalArn)}</Arn>
    <UserId>${escapeXml(caller.accessKeyId)}</UserId>
    <Account>${this.#accountId}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>${requestId}</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`;
  }
}
