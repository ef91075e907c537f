import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ListStateMachinesCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_SECRET_ACCESS_KEY,
  type LocalEndpoint,
} from "../../local/endpoint/index.ts";
import { rejection, sfnClient, sleep, withEndpoint } from "./helpers.ts";

const ROLE = "arn:aws:iam::123456789012:role/Scheduler";

describe("SigV4 and access control", () => {
  let ep: LocalEndpoint;
  before(async () => {
    ep = await withEndpoint();
  });
  after(async () => {
    await ep.close();
  });

  it("accepts the default test pair", async () => {
    // The pair docs/local-mode.md and examples/credentials.json give.
    const documented = {
      accessKeyId: "AKIDLOCALTEST0000001",
      secretAccessKey: "LocalTestSecretAccessKey0000000000000000",
    };
    assert.deepEqual(
      { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY },
      documented,
    );
    assert.equal(ep.credentials.accessKeyId, documented.accessKeyId);
    const sfn = sfnClient(ep, { credentials: documented });
    await sfn.send(new ListStateMachinesCommand({}));
    assert.equal(ep.requests.at(-1)?.accessKeyId, DEFAULT_ACCESS_KEY_ID);
  });

  it("rejects a wrong secret with InvalidSignatureException", async () => {
    const sfn = sfnClient(ep, {
      credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: "not-the-secret" },
    });
    const e = await rejection(() => sfn.send(new ListStateMachinesCommand({})));
    assert.equal(e.name, "InvalidSignatureException");
    assert.equal(e.$metadata?.httpStatusCode, 400);
    assert.match(e.message, /signature we calculated does not match/);
  });

  it("rejects an unknown key with UnrecognizedClientException", async () => {
    const sfn = sfnClient(ep, {
      credentials: { accessKeyId: "AKIDUNKNOWN000000000", secretAccessKey: "x" },
    });
    const e = await rejection(() => sfn.send(new ListStateMachinesCommand({})));
    assert.equal(e.name, "UnrecognizedClientException");
    assert.equal(e.$metadata?.httpStatusCode, 400);
  });

  it("accepts a configured key pair only with its session token", async () => {
    const session = {
      accessKeyId: "ASIACONFIGUREDSESS01",
      secretAccessKey: "ConfiguredSessionSecret00000000000000001",
      sessionToken: "ConfiguredSessionToken0000000000000000001",
    };
    const own = await withEndpoint({ credentials: [session] });
    try {
      await sfnClient(own, { credentials: session }).send(new ListStateMachinesCommand({}));
      assert.equal(own.requests.at(-1)?.accessKeyId, session.accessKeyId);
      for (const sessionToken of [undefined, "WrongSessionToken"]) {
        const { accessKeyId, secretAccessKey } = session;
        const credentials = sessionToken
          ? { accessKeyId, secretAccessKey, sessionToken }
          : { accessKeyId, secretAccessKey };
        const error = await rejection(() =>
          sfnClient(own, { credentials }).send(new ListStateMachinesCommand({})),
        );
        assert.equal(error.name, "UnrecognizedClientException", String(sessionToken));
      }
    } finally {
      await own.close();
    }
  });

  // Step Functions allows 5 minutes between X-Amz-Date and its clock, either way.
  const skews: Array<[string, number, RegExp | undefined]> = [
    ["4 minutes old", -4, undefined],
    ["4 minutes ahead", 4, undefined],
    [
      "6 minutes old",
      -6,
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    ],
    [
      "6 minutes ahead",
      6,
      /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/,
    ],
  ];
  for (const [what, minutes, refused] of skews) {
    it(`${refused ? "refuses" : "accepts"} a signature ${what}`, async () => {
      const sfn = sfnClient(ep, { systemClockOffset: minutes * 60_000 });
      const call = () => sfn.send(new ListStateMachinesCommand({}));
      if (!refused) {
        await call();
        assert.equal(ep.requests.at(-1)?.status, 200);
        return;
      }
      const e = await rejection(call);
      assert.equal(e.name, "InvalidSignatureException");
      assert.equal(e.$metadata?.httpStatusCode, 400);
      assert.match(e.message, refused);
    });
  }

  it("answers deny rules with AccessDeniedException", async () => {
    const sfn = sfnClient(ep);
    const machine = ep.createStateMachine({
      name: "guarded",
      definition: { StartAt: "Nap", States: { Nap: { Type: "Wait", Seconds: 5, End: true } } },
    });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine }),
    );
    const undo = ep.deny({
      operation: "StopExecution",
      resource: "arn:aws:states:*:execution:guarded:*",
    });
    const e = await rejection(() => sfn.send(new StopExecutionCommand({ executionArn })));
    assert.equal(e.name, "AccessDeniedException");
    assert.equal(e.$metadata?.httpStatusCode, 400);
    assert.match(
      e.message,
      /is not authorized to perform: states:StopExecution on resource: arn:aws:states:us-east-1:123456789012:execution:guarded:/,
    );
    // Other operations and other keys are unaffected by a rule naming a key.
    await sfn.send(new ListStateMachinesCommand({}));
    undo();
    await sfn.send(new StopExecutionCommand({ executionArn }));
    const byKey = ep.deny({ accessKeyId: DEFAULT_ACCESS_KEY_ID });
    assert.equal(
      (await rejection(() => sfn.send(new ListStateMachinesCommand({})))).name,
      "AccessDeniedException",
    );
    byKey();
  });
});

interface HandSigned {
  /** The body that is signed (default `{}`). */
  signed?: string;
  /** The body that is sent, when it differs from the signed one. */
  sent?: string;
  /** Headers left out of SignedHeaders. */
  unsigned?: string[];
  region?: string;
}

/** Signs a ListStateMachines call by hand, as a client would, then sends it as told. */
async function handSigned(
  ep: LocalEndpoint,
  how: HandSigned,
): Promise<{ status: number; type: string | undefined; message: string | undefined }> {
  const url = new URL(ep.url);
  const signer = new SignatureV4({
    service: "states",
    region: how.region ?? ep.region,
    credentials: ep.credentials,
    sha256: Sha256,
  });
  const body = how.signed ?? "{}";
  const request = await signer.sign(
    {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AWSStepFunctions.ListStateMachines",
      },
      body,
    },
    how.unsigned ? { unsignableHeaders: new Set(how.unsigned) } : {},
  );
  const { host: _sentByFetch, ...headers } = request.headers;
  const res = await fetch(ep.url, { method: "POST", headers, body: how.sent ?? body });
  const reply = (await res.json()) as { __type?: string; message?: string };
  return { status: res.status, type: reply.__type, message: reply.message };
}

describe("hand-signed requests", () => {
  let ep: LocalEndpoint;
  before(async () => {
    ep = await withEndpoint();
  });
  after(async () => {
    await ep.close();
  });

  const MISMATCH = /^The request signature we calculated does not match the signature you provided/;
  // [what, how it is signed and sent, error type (none: accepted), message]
  const cases: Array<[string, HandSigned, string | undefined, RegExp | undefined]> = [
    ["signed as sent", {}, undefined, undefined],
    [
      "a body changed after signing (its x-amz-content-sha256 signed)",
      { signed: '{"maxResults":1}', sent: '{"maxResults":2}' },
      "InvalidSignatureException",
      MISMATCH,
    ],
    [
      "host left out of SignedHeaders",
      { unsigned: ["host"] },
      "InvalidSignatureException",
      /^'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization\.$/,
    ],
    [
      "signed for another region than the endpoint's",
      { region: "eu-west-3" },
      "InvalidSignatureException",
      /^Credential should be scoped to a valid region, not 'eu-west-3'\. $/,
    ],
  ];
  for (const [what, how, type, message] of cases) {
    it(`${what}: ${type ?? "accepted"}`, async () => {
      const reply = await handSigned(ep, how);
      if (!type) {
        assert.equal(reply.status, 200, JSON.stringify(reply));
        return;
      }
      assert.equal(reply.status, 400);
      assert.equal(reply.type, type);
      assert.match(reply.message ?? "", message!);
      assert.equal(ep.requests.at(-1)?.errorCode, type);
    });
  }
});

describe("STS AssumeRole", () => {
  let ep: LocalEndpoint;
  let sts: STSClient;
  before(async () => {
    ep = await withEndpoint();
    sts = new STSClient({
      endpoint: ep.url,
      region: "us-east-1",
      credentials: ep.credentials,
      maxAttempts: 1,
    });
  });
  after(async () => {
    sts.destroy();
    await ep.close();
  });

  it("issues temporary credentials the Step Functions side accepts", async () => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: "uac-job-17",
        ExternalId: "ext-1",
        DurationSeconds: 900,
      }),
    );
    const c = out.Credentials!;
    assert.match(c.AccessKeyId ?? "", /^ASIA[A-Z2-7]{16}$/);
    assert.ok(c.SecretAccessKey && c.SessionToken);
    const lifetime = c.Expiration!.getTime() - Date.now();
    assert.ok(lifetime > 890_000 && lifetime <= 900_000, `lifetime ${lifetime}`);
    assert.equal(
      out.AssumedRoleUser?.Arn,
      "arn:aws:sts::123456789012:assumed-role/Scheduler/uac-job-17",
    );

    const logged = ep.requests.find((r) => r.operation === "AssumeRole");
    assert.equal(logged?.service, "sts");
    assert.equal(logged?.roleSessionName, "uac-job-17");
    assert.equal(logged?.externalId, "ext-1");
    assert.equal(logged?.resource, ROLE);
    assert.equal(logged?.status, 200);

    const temp = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    };
    await sfnClient(ep, { credentials: temp }).send(new ListStateMachinesCommand({}));
    assert.equal(ep.requests.at(-1)?.accessKeyId, c.AccessKeyId);
    const who = await new STSClient({
      endpoint: ep.url,
      region: "us-east-1",
      credentials: temp,
    }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, "arn:aws:sts::123456789012:assumed-role/Scheduler/uac-job-17");
    assert.equal(who.Account, "123456789012");

    // The key is bound to its session token.
    const wrongToken = await rejection(() =>
      sfnClient(ep, { credentials: { ...temp, sessionToken: "forged" } }).send(
        new ListStateMachinesCommand({}),
      ),
    );
    assert.equal(wrongToken.name, "UnrecognizedClientException");
  });

  it("limits role chaining to one hour, as AWS does", async () => {
    const first = (
      await sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "hop-1" }))
    ).Credentials!;
    const chained = new STSClient({
      endpoint: ep.url,
      region: "us-east-1",
      credentials: {
        accessKeyId: first.AccessKeyId!,
        secretAccessKey: first.SecretAccessKey!,
        sessionToken: first.SessionToken!,
      },
      maxAttempts: 1,
    });
    const before = ep.sts.defaultDurationSeconds;
    try {
      const tooLong = await rejection(() =>
        chained.send(
          new AssumeRoleCommand({
            RoleArn: "arn:aws:iam::123456789012:role/Next",
            RoleSessionName: "hop-2",
            DurationSeconds: 7200,
          }),
        ),
      );
      assert.equal(tooLong.name, "ValidationError");
      assert.match(tooLong.message, /1 hour session limit for roles assumed by role chaining/);
      // Without DurationSeconds a chained session gets at most one hour.
      ep.sts.defaultDurationSeconds = 7200;
      const out = await chained.send(
        new AssumeRoleCommand({
          RoleArn: "arn:aws:iam::123456789012:role/Next",
          RoleSessionName: "hop-2",
        }),
      );
      const lifetime = out.Credentials!.Expiration!.getTime() - Date.now();
      assert.ok(lifetime <= 3_600_000, `lifetime ${lifetime}`);
      // Long-term keys may ask for more than an hour.
      const direct = await sts.send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "long", DurationSeconds: 7200 }),
      );
      assert.ok(direct.Credentials!.Expiration!.getTime() - Date.now() > 3_600_000);
    } finally {
      ep.sts.defaultDurationSeconds = before;
      chained.destroy();
    }
  });

  it("lets credentials expire: ExpiredTokenException", async () => {
    ep.sts.setExpirySeconds(1);
    try {
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "short" }),
      );
      const c = out.Credentials!;
      const sfn = sfnClient(ep, {
        credentials: {
          accessKeyId: c.AccessKeyId!,
          secretAccessKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken!,
        },
      });
      await sleep(Math.max(0, c.Expiration!.getTime() - Date.now()) + 100);
      const e = await rejection(() => sfn.send(new ListStateMachinesCommand({})));
      assert.equal(e.name, "ExpiredTokenException");
      assert.equal(e.$metadata?.httpStatusCode, 400);
    } finally {
      ep.sts.setExpirySeconds(undefined);
    }
  });

  it("enforces a required ExternalId and deny rules with AccessDenied", async () => {
    ep.sts.requireExternalId({ roleArn: ROLE, externalId: "expected" });
    const missing = await rejection(() =>
      sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "s1" })),
    );
    assert.equal(missing.name, "AccessDenied");
    assert.equal(missing.$metadata?.httpStatusCode, 403);
    const wrong = await rejection(() =>
      sts.send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "s2", ExternalId: "other" }),
      ),
    );
    assert.equal(wrong.name, "AccessDenied");
    await sts.send(
      new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "s3", ExternalId: "expected" }),
    );

    const undo = ep.deny({
      operation: "AssumeRole",
      resource: "arn:aws:iam::123456789012:role/Forbidden",
    });
    const denied = await rejection(() =>
      sts.send(
        new AssumeRoleCommand({
          RoleArn: "arn:aws:iam::123456789012:role/Forbidden",
          RoleSessionName: "s4",
        }),
      ),
    );
    assert.equal(denied.name, "AccessDenied");
    undo();
  });

  it("refuses a signature scoped to another region than the endpoint's", async () => {
    const elsewhere = new STSClient({
      endpoint: ep.url,
      region: "eu-west-3",
      credentials: ep.credentials,
      maxAttempts: 1,
    });
    const e = await rejection(() => elsewhere.send(new GetCallerIdentityCommand({})));
    assert.equal(e.name, "SignatureDoesNotMatch");
    assert.equal(e.$metadata?.httpStatusCode, 403);
    assert.match(e.message, /^Credential should be scoped to a valid region, not 'eu-west-3'\. $/);
    elsewhere.destroy();
  });

  it("verifies SigV4 on STS too", async () => {
    const bad = new STSClient({
      endpoint: ep.url,
      region: "us-east-1",
      credentials: { accessKeyId: DEFAULT_ACCESS_KEY_ID, secretAccessKey: "wrong" },
      maxAttempts: 1,
    });
    const e = await rejection(() =>
      bad.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "x1" })),
    );
    assert.equal(e.name, "SignatureDoesNotMatch");
    assert.equal(e.$metadata?.httpStatusCode, 403);
    const unknown = new STSClient({
      endpoint: ep.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDNOBODY0000000000", secretAccessKey: "x" },
      maxAttempts: 1,
    });
    const u = await rejection(() => unknown.send(new GetCallerIdentityCommand({})));
    assert.equal(u.name, "InvalidClientTokenId");
  });
});
