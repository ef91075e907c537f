import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { after, before, describe, test } from "node:test";
import { type ProxyFields, parseProxyConfig } from "../../src/proxy/config.ts";
import { clearSecrets, mask } from "../../src/secrets.ts";
import { type TestCa, createTestCa } from "../helpers/certificates.ts";

let ca: TestCa;
let dir: string;
let notPem: string;
let brokenPem: string;

before(() => {
  ca = createTestCa("config");
  dir = mkdtempSync(join(tmpdir(), "ue-proxy-config-"));
  notPem = join(dir, "not.pem");
  writeFileSync(notPem, "just some text\n");
  brokenPem = join(dir, "broken.pem");
  writeFileSync(
    brokenPem,
    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
  );
});

after(() => {
  ca.remove();
  rmSync(dir, { recursive: true, force: true });
  clearSecrets();
});

const HTTP = "HTTP";
const HTTPS = "HTTPS";
const CREDS = "HTTPS With Credentials";

describe("parseProxyConfig: bad values", () => {
  // One line per case: fields -> the label and a part of the message.
  const cases: [string, () => ProxyFields, string, RegExp][] = [
    [
      "empty proxy",
      () => ({ proxy_type: HTTP, proxy: "" }),
      "Proxy",
      /is required when Use Proxy is on/,
    ],
    ["blank proxy", () => ({ proxy_type: HTTP, proxy: "   " }), "Proxy", /is required/],
    [
      "wrong scheme",
      () => ({ proxy_type: HTTP, proxy: "socks5://p:1080" }),
      "Proxy",
      /scheme socks5; only http:\/\/ and https:\/\//,
    ],
    [
      "no scheme",
      () => ({ proxy_type: HTTP, proxy: "proxy.example:3128" }),
      "Proxy",
      /has no scheme/,
    ],
    [
      "not a URL",
      () => ({ proxy_type: HTTP, proxy: "http://exa mple:3128" }),
      "Proxy",
      /is not a URL/,
    ],
    ["missing host", () => ({ proxy_type: HTTP, proxy: "http://:3128" }), "Proxy", /is not a URL/],
    [
      "credentials in URL",
      () => ({ proxy_type: HTTP, proxy: "http://alice:CANARY-url-pw@p:3128" }),
      "Proxy",
      /put them in the Proxy Credentials field/,
    ],
    [
      "user only in URL",
      () => ({ proxy_type: HTTP, proxy: "http://alice@p:3128" }),
      "Proxy",
      /holds credentials/,
    ],
    [
      "three entries",
      () => ({ proxy_type: HTTP, proxy: "http://a:1,https://b:2,http://c:3" }),
      "Proxy",
      /holds 3 URLs; at most two/,
    ],
    [
      "two http entries",
      () => ({ proxy_type: HTTP, proxy: "http://a:1, http://b:2" }),
      "Proxy",
      /has two http:\/\/ URLs/,
    ],
    [
      "two https entries",
      () => ({ proxy_type: HTTPS, proxy: "https://a:1,https://b:2" }),
      "Proxy",
      /has two https:\/\/ URLs/,
    ],
    [
      "empty entry",
      () => ({ proxy_type: HTTP, proxy: "http://a:1," }),
      "Proxy",
      /has an empty entry/,
    ],
    [
      "path",
      () => ({ proxy_type: HTTP, proxy: "http://p:3128/proxy" }),
      "Proxy",
      /has a path, query or fragment/,
    ],
    [
      "query",
      () => ({ proxy_type: HTTP, proxy: "http://p:3128?x=1" }),
      "Proxy",
      /has a path, query or fragment/,
    ],
    [
      "empty query",
      () => ({ proxy_type: HTTP, proxy: "http://p:3128/?" }),
      "Proxy",
      /has a path, query or fragment/,
    ],
    [
      "fragment",
      () => ({ proxy_type: HTTP, proxy: "http://p:3128#x" }),
      "Proxy",
      /has a path, query or fragment/,
    ],
    [
      "port 0",
      () => ({ proxy_type: HTTP, proxy: "http://p:0" }),
      "Proxy",
      /port 0; expected 1 to 65535/,
    ],
    [
      "port too big",
      () => ({ proxy_type: HTTP, proxy: "http://p:70000" }),
      "Proxy",
      /is not a URL/,
    ],
    [
      "type HTTP, https URL",
      () => ({ proxy_type: HTTP, proxy: "https://p:3128" }),
      "Proxy",
      /must start with http:\/\/ \(got https:\/\/\)/,
    ],
    [
      "type HTTPS, http URL",
      () => ({ proxy_type: HTTPS, proxy: "http://p:3128" }),
      "Proxy",
      /must start with https:\/\/ \(got http:\/\/\)/,
    ],
    [
      "type missing",
      () => ({ proxy: "http://p:3128" }),
      "Proxy Type",
      /is required when Use Proxy is on/,
    ],
    [
      "type unknown",
      () => ({ proxy_type: "SOCKS", proxy: "http://p:3128" }),
      "Proxy Type",
      /must be one of HTTP, HTTPS, HTTPS With Credentials/,
    ],
    [
      "CA file missing",
      () => ({
        proxy_type: HTTPS,
        proxy: "https://p:1",
        proxy_ca_bundle_file: join(dir, "nope.pem"),
      }),
      "Proxy CA Bundle File",
      /does not exist/,
    ],
    [
      "CA file a directory",
      () => ({ proxy_type: HTTPS, proxy: "https://p:1", proxy_ca_bundle_file: dir }),
      "Proxy CA Bundle File",
      /is not a file/,
    ],
    [
      "CA file not PEM",
      () => ({ proxy_type: HTTPS, proxy: "https://p:1", proxy_ca_bundle_file: notPem }),
      "Proxy CA Bundle File",
      /holds no PEM certificate/,
    ],
    [
      "CA file broken PEM",
      () => ({ proxy_type: HTTPS, proxy: "https://p:1", proxy_ca_bundle_file: brokenPem }),
      "Proxy CA Bundle File",
      /is not a valid PEM certificate/,
    ],
    [
      "credentials missing",
      () => ({ proxy_type: CREDS, proxy: "https://p:1" }),
      "Proxy Credentials",
      /a user and a password are required/,
    ],
    [
      "password missing",
      () => ({ proxy_type: CREDS, proxy: "https://p:1", proxy_credentials: { user: "u" } }),
      "Proxy Credentials",
      /a user and a password are required/,
    ],
    [
      "user with colon",
      () => ({
        proxy_type: CREDS,
        proxy: "https://p:1",
        proxy_credentials: { user: "a:b", password: "pw-long" },
      }),
      "Proxy Credentials",
      /must not contain ':'/,
    ],
  ];

  for (const [name, fields, label, message] of cases) {
    test(name, () => {
      const result = parseProxyConfig(fields());
      assert.equal(result.config, undefined);
      const found = result.problems?.find((p) => p.label === label);
      assert.ok(found, `no problem for ${label} in ${JSON.stringify(result.problems)}`);
      assert.match(found.message, message);
      assert.equal(
        found.field,
        {
          Proxy: "proxy",
          "Proxy Type": "proxy_type",
          "Proxy CA Bundle File": "proxy_ca_bundle_file",
          "Proxy Credentials": "proxy_credentials",
        }[label],
      );
    });
  }

  test("a URL with credentials never echoes the password", () => {
    const result = parseProxyConfig({
      proxy_type: HTTP,
      proxy: "http://alice:CANARY-url-pw@p:3128",
    });
    assert.doesNotMatch(JSON.stringify(result.problems), /CANARY-url-pw/);
  });

  const URL_PASSWORDS = [
    "se/cret-CANARY-p1",
    "se,cret-CANARY-p2",
    "se@cret-CANARY-p3",
    "se:cret-CANARY-p4",
    "se%2Fcret-CANARY-p5",
    "a/b,c@d:e%f-CANARY-p6",
  ];
  for (const password of URL_PASSWORDS) {
    for (const proxy of [
      `http://alice:${password}@p:3128`,
      `http://alice:${password}@p:3128,https://q:3129`,
      `https://q:3129,http://alice:${password}@p:3128`,
      `alice:${password}@p:3128`,
    ]) {
      test(`a URL password with / , @ : or % is refused whole and masked: ${proxy}`, () => {
        const result = parseProxyConfig({ proxy_type: HTTP, proxy });
        const text = JSON.stringify(result.problems);
        assert.match(text, /holds credentials/);
        assert.ok(!text.includes("CANARY"), text);
        assert.equal(mask(`x ${password} y`), "x **** y", "registered for masking");
      });
    }
  }

  test("every problem is reported at once", () => {
    const result = parseProxyConfig({
      proxy_type: CREDS,
      proxy: "http://a:1,http://b:2",
      proxy_ca_bundle_file: notPem,
    });
    assert.deepEqual(result.problems?.map((p) => p.field).sort(), [
      "proxy",
      "proxy_ca_bundle_file",
      "proxy_credentials",
    ]);
    // Each names its field's label and what the field must hold, not only that it is wrong.
    const said = new Map(result.problems?.map((p) => [p.field, `${p.label}: ${p.message}`]));
    assert.match(
      said.get("proxy_credentials") ?? "",
      /^Proxy Credentials: a user and a password are required for Proxy Type HTTPS With Credentials$/,
    );
    assert.match(
      said.get("proxy") ?? "",
      /^Proxy: has two http:\/\/ URLs;.*one must start with http:\/\/.*the other with https:\/\//,
    );
    assert.match(
      said.get("proxy_ca_bundle_file") ?? "",
      new RegExp(
        `^Proxy CA Bundle File: ${notPem.replaceAll(".", "\\.")} holds no PEM certificate`,
      ),
    );
  });
});

describe("parseProxyConfig: good values", () => {
  test("one http URL serves every endpoint, plainly", () => {
    const { config } = parseProxyConfig({
      proxy_type: HTTP,
      proxy: "  http://proxy.example:3128  ",
    });
    assert.ok(config);
    assert.deepEqual(config.forHttp, {
      host: "proxy.example",
      port: 3128,
      tls: false,
      url: "http://proxy.example:3128",
    });
    assert.deepEqual(config.forHttps, config.forHttp);
    assert.equal(config.credentials, undefined);
  });

  test("a Choice arriving as a one-item array is accepted", () => {
    const { config } = parseProxyConfig({ proxy_type: [HTTP], proxy: "http://p:1" });
    assert.equal(config?.type, HTTP);
  });

  test("default ports follow the scheme", () => {
    assert.equal(
      parseProxyConfig({ proxy_type: HTTP, proxy: "http://p" }).config?.forHttps.port,
      80,
    );
    assert.equal(
      parseProxyConfig({ proxy_type: HTTPS, proxy: "https://p/" }).config?.forHttps.port,
      443,
    );
  });

  test("IPv6 hosts keep brackets in the URL only", () => {
    const { config } = parseProxyConfig({ proxy_type: HTTP, proxy: "http://[::1]:8080" });
    assert.equal(config?.forHttps.host, "::1");
    assert.equal(config?.forHttps.url, "http://[::1]:8080");
  });

  test("two URLs: the http one for http:// endpoints, the https one for https:// endpoints", () => {
    for (const proxy of ["http://a:1,https://b:2", " https://b:2 , http://a:1 "]) {
      const { config } = parseProxyConfig({ proxy_type: HTTP, proxy });
      assert.equal(config?.forHttp.url, "http://a:1");
      // Proxy Type HTTP: the https:// entry is reached plainly too.
      assert.equal(config?.forHttps.url, "http://b:2");
      assert.equal(config?.forHttps.tls, false);
    }
  });

  test("two URLs with Proxy Type HTTPS: both reached by TLS", () => {
    const { config } = parseProxyConfig({ proxy_type: HTTPS, proxy: "http://a:1,https://b:2" });
    assert.equal(config?.forHttp.url, "https://a:1");
    assert.equal(config?.forHttps.url, "https://b:2");
  });

  test("HTTPS with a CA bundle reads the PEM", () => {
    const { config } = parseProxyConfig({
      proxy_type: HTTPS,
      proxy: "https://p:1",
      proxy_ca_bundle_file: ca.certFile,
    });
    assert.match(config?.caBundle ?? "", /-----BEGIN CERTIFICATE-----/);
    assert.equal(config?.caBundleFile, ca.certFile);
  });

  test("Proxy Type HTTP ignores the (hidden) CA bundle and credentials fields", () => {
    const { config } = parseProxyConfig({
      proxy_type: HTTP,
      proxy: "http://p:1",
      proxy_ca_bundle_file: join(dir, "nope.pem"),
      proxy_credentials: { user: "u", password: "ignored-pw" },
    });
    assert.ok(config);
    assert.equal(config.caBundle, undefined);
    assert.equal(config.credentials, undefined);
  });

  test("credentials: registered for masking at once, and hidden from JSON, inspect and String", () => {
    const password = "CANARY-cfg-pw-31337";
    const { config } = parseProxyConfig({
      proxy_type: CREDS,
      proxy: "https://p:1",
      proxy_credentials: { user: "alice", password },
    });
    assert.ok(config?.credentials);
    assert.equal(mask(`x ${password} y`), "x **** y");
    assert.equal(mask(Buffer.from(`alice:${password}`).toString("base64")), "****");
    for (const text of [
      JSON.stringify(config),
      inspect(config, { depth: 5 }),
      String(config.credentials),
    ]) {
      assert.doesNotMatch(text, /CANARY-cfg-pw/);
    }
    assert.equal(
      config.credentials.authorization(),
      `Basic ${Buffer.from(`alice:${password}`).toString("base64")}`,
    );
  });

  test("an invalid password is still registered for masking", () => {
    parseProxyConfig({
      proxy_type: CREDS,
      proxy: "bad",
      proxy_credentials: { user: "a:b", password: "CANARY-bad-user-pw" },
    });
    assert.equal(mask("CANARY-bad-user-pw"), "****");
  });
});
