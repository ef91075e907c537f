/**
 * The proxy fields (Proxy Type, Proxy, Proxy CA Bundle File, Proxy Credentials) parsed
 * into a typed ProxyConfig, or every problem with them. See docs/proxies.md for the rules.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { inspect } from "node:util";
import type { FieldProblem } from "../errors.ts";
import { FIELDS, PROXY_TYPES } from "../fields/catalog.ts";
import { urlPasswords } from "../fields/text-checks.ts";
import { redactUrl, registerBasicAuth, registerSecret } from "../secrets.ts";

export type ProxyType = (typeof PROXY_TYPES)[keyof typeof PROXY_TYPES];

/** One proxy server as the agent reaches it. */
export interface ProxyServer {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** True when the connection to the proxy itself is TLS (Proxy Type HTTPS ...). */
  readonly tls: boolean;
  /** `http(s)://host:port`, never with credentials: safe to log and to hand to the agent. */
  readonly url: string;
}

/** Basic proxy credentials; the password stays out of JSON, inspect and string forms. */
export class ProxyCredentials {
  readonly user: string;
  readonly #password: string;

  constructor(user: string, password: string) {
    this.user = user;
    this.#password = password;
    registerBasicAuth(user, password);
  }

  /** The value of a Proxy-Authorization header. */
  authorization(): string {
    return `Basic ${Buffer.from(`${this.user}:${this.#password}`).toString("base64")}`;
  }

  toJSON(): { user: string; password: string } {
    return { user: this.user, password: "****" };
  }

  toString(): string {
    return `ProxyCredentials(${this.user}:****)`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export interface ProxyConfig {
  readonly type: ProxyType;
  /** The proxy for http:// endpoints. */
  readonly forHttp: ProxyServer;
  /** The proxy for https:// endpoints (every real AWS endpoint). */
  readonly forHttps: ProxyServer;
  /** Extra CA certificates (PEM) trusted for the TLS connection to the proxy. */
  readonly caBundle?: string;
  readonly caBundleFile?: string;
  /** Present for HTTPS With Credentials only. */
  readonly credentials?: ProxyCredentials;
}

/** The proxy fields as they arrive (a Choice may arrive as a one-item array). */
export interface ProxyFields {
  readonly proxy_type?: string | readonly string[] | undefined;
  readonly proxy?: string | undefined;
  readonly proxy_ca_bundle_file?: string | undefined;
  readonly proxy_credentials?: { readonly user?: string; readonly password?: string } | undefined;
}

export type ProxyParseResult =
  | { readonly config: ProxyConfig; readonly problems?: undefined }
  | { readonly config?: undefined; readonly problems: readonly FieldProblem[] };

function labelOf(field: string): string {
  return FIELDS.find((f) => f.name === field)?.label ?? field;
}

function problem(field: string, message: string): FieldProblem {
  return { field, label: labelOf(field), message };
}

const TYPES: readonly string[] = Object.values(PROXY_TYPES);

/** A file as read: its text, or why it could not be (an errno code, or "not a file"). */
export type FileRead = { readonly text: string } | { readonly error: string };

/** Read a file the fields name; never throws. */
export function readNamedFile(path: string): FileRead {
  try {
    if (!statSync(path).isFile()) return { error: "ENOTFILE" };
    return { text: readFileSync(path, "utf8") };
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? "error" };
  }
}

/**
 * Parse and check the proxy fields; call it when Use Proxy is on. The CA bundle file is
 * read through `readFile` (validation hands in files read before it). Registers the proxy
 * password for masking at once.
 */
export function parseProxyConfig(
  fields: ProxyFields,
  readFile: (path: string) => FileRead = readNamedFile,
): ProxyParseResult {
  const problems: FieldProblem[] = [];
  for (const password of urlPasswords(fields.proxy ?? "", { urlField: true })) {
    registerSecret(password);
  }

  const rawType = Array.isArray(fields.proxy_type) ? fields.proxy_type[0] : fields.proxy_type;
  let type: ProxyType | undefined;
  if (rawType === undefined || rawType === "") {
    problems.push(
      problem("proxy_type", `is required when Use Proxy is on: one of ${TYPES.join(", ")}`),
    );
  } else if (TYPES.includes(rawType)) {
    type = rawType as ProxyType;
  } else {
    problems.push(problem("proxy_type", `must be one of ${TYPES.join(", ")}`));
  }

  // Credentials first, so the password is registered before anything else can echo it.
  let credentials: ProxyCredentials | undefined;
  if (type === PROXY_TYPES.httpsWithCredentials) {
    const user = fields.proxy_credentials?.user ?? "";
    const password = fields.proxy_credentials?.password ?? "";
    if (password) registerBasicAuth(user, password);
    if (!user || !password) {
      problems.push(
        problem(
          "proxy_credentials",
          "a user and a password are required for Proxy Type HTTPS With Credentials",
        ),
      );
    } else if (user.includes(":")) {
      problems.push(
        problem("proxy_credentials", "the user must not contain ':' (Basic authentication)"),
      );
    } else {
      credentials = new ProxyCredentials(user, password);
    }
  }

  const servers = parseProxyList(fields.proxy ?? "", type, problems);

  let caBundle: string | undefined;
  const caFile = fields.proxy_ca_bundle_file?.trim() ?? "";
  const tlsType = type === PROXY_TYPES.https || type === PROXY_TYPES.httpsWithCredentials;
  if (tlsType && caFile) {
    caBundle = checkCaBundle(caFile, readFile(caFile), problems);
  }

  if (problems.length > 0 || !type || !servers) return { problems };
  return {
    config: {
      type,
      forHttp: servers.forHttp,
      forHttps: servers.forHttps,
      ...(caBundle !== undefined ? { caBundle, caBundleFile: caFile } : {}),
      ...(credentials ? { credentials } : {}),
    },
  };
}

const EXPECTED = "expected http://host:port, or an http and an https URL separated by a comma";

function parseProxyList(
  text: string,
  type: ProxyType | undefined,
  problems: FieldProblem[],
): { forHttp: ProxyServer; forHttps: ProxyServer } | undefined {
  // Before the list is split: a password may hold "," "/" or "@", and a piece of it must
  // not be shown as an entry of its own. Host names never hold "@".
  if (text.includes("@")) {
    problems.push(
      problem(
        "proxy",
        `"${redactUrl(text, { urlField: true })}" holds credentials; put them in the Proxy Credentials field, not in the URL`,
      ),
    );
    return undefined;
  }
  const entries = text.split(",").map((e) => e.trim());
  if (entries.length === 1 && entries[0] === "") {
    problems.push(problem("proxy", `is required when Use Proxy is on: ${EXPECTED}`));
    return undefined;
  }
  if (entries.length > 2) {
    problems.push(problem("proxy", `holds ${entries.length} URLs; at most two: ${EXPECTED}`));
    return undefined;
  }
  const parsed: { scheme: "http" | "https"; host: string; port: number }[] = [];
  for (const entry of entries) {
    const one = parseEntry(entry, problems);
    if (one) parsed.push(one);
  }
  if (parsed.length !== entries.length) return undefined;

  const tls = type !== PROXY_TYPES.http;
  const server = (e: { host: string; port: number }): ProxyServer => {
    const host = e.host.includes(":") ? `[${e.host}]` : e.host;
    return {
      host: e.host,
      port: e.port,
      tls,
      url: `${tls ? "https" : "http"}://${host}:${e.port}`,
    };
  };

  const [first, second] = parsed;
  if (first && !second) {
    if (type !== undefined) {
      const wanted = tls ? "https" : "http";
      if (first.scheme !== wanted) {
        problems.push(
          problem(
            "proxy",
            tls
              ? `Proxy Type ${type} connects to the proxy with TLS, so the URL must start with https:// (got ${first.scheme}://); or choose Proxy Type HTTP`
              : `Proxy Type HTTP connects to the proxy without TLS, so the URL must start with http:// (got https://); or choose Proxy Type HTTPS`,
          ),
        );
        return undefined;
      }
    }
    return { forHttp: server(first), forHttps: server(first) };
  }
  if (first && second) {
    if (first.scheme === second.scheme) {
      problems.push(
        problem(
          "proxy",
          `has two ${first.scheme}:// URLs; with two URLs, one must start with http:// (for http:// endpoints) and the other with https:// (for https:// endpoints)`,
        ),
      );
      return undefined;
    }
    const forHttp = first.scheme === "http" ? first : second;
    const forHttps = first.scheme === "https" ? first : second;
    return { forHttp: server(forHttp), forHttps: server(forHttps) };
  }
  return undefined;
}

function parseEntry(
  entry: string,
  problems: FieldProblem[],
): { scheme: "http" | "https"; host: string; port: number } | undefined {
  const shown = redactUrl(entry);
  if (entry === "") {
    problems.push(problem("proxy", `has an empty entry; ${EXPECTED}`));
    return undefined;
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    problems.push(problem("proxy", `"${shown}" has no scheme; ${EXPECTED}`));
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    problems.push(problem("proxy", `"${shown}" is not a URL; ${EXPECTED}`));
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    problems.push(
      problem(
        "proxy",
        `"${shown}" has scheme ${url.protocol.replace(/:$/, "")}; only http:// and https:// are supported`,
      ),
    );
    return undefined;
  }
  if (url.username || url.password) {
    problems.push(
      problem(
        "proxy",
        `"${redactUrl(url.href)}" holds credentials; put them in the Proxy Credentials field, not in the URL`,
      ),
    );
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host) {
    problems.push(problem("proxy", `"${shown}" has no host; ${EXPECTED}`));
    return undefined;
  }
  if (url.pathname !== "/" || url.search || url.hash || /[?#]/.test(entry)) {
    problems.push(
      problem(
        "proxy",
        `"${shown}" has a path, query or fragment; only scheme://host:port is allowed`,
      ),
    );
    return undefined;
  }
  const scheme = url.protocol === "http:" ? "http" : "https";
  const port = url.port ? Number(url.port) : scheme === "http" ? 80 : 443;
  if (port < 1) {
    problems.push(problem("proxy", `"${shown}" has port ${port}; expected 1 to 65535`));
    return undefined;
  }
  return { scheme, host, port };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function checkCaBundle(path: string, read: FileRead, problems: FieldProblem[]): string | undefined {
  const field = "proxy_ca_bundle_file";
  if ("error" in read) {
    const code = read.error;
    const why =
      code === "ENOTFILE"
        ? "is not a file"
        : code === "ENOENT"
          ? "does not exist"
          : code === "EACCES"
            ? "is not readable"
            : `cannot be read (${code})`;
    problems.push(
      problem(
        field,
        code === "ENOTFILE"
          ? `${path} is not a file; expected a PEM file of CA certificates`
          : `${path} ${why}; expected a readable PEM file of CA certificates`,
      ),
    );
    return undefined;
  }
  const text = read.text;
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    problems.push(problem(field, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`));
    return undefined;
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      problems.push(
        problem(
          field,
          `${path}: certificate ${index + 1} of ${blocks.length} is not a valid PEM certificate`,
        ),
      );
      return undefined;
    }
  }
  return blocks.join("\n");
}
