/**
 * The SDK's instance metadata provider (and its container metadata fallback) sends its
 * requests with Node's global HTTP agent. Node 22.21 and 24.5 onwards point that agent at
 * HTTP_PROXY when NODE_USE_ENV_PROXY=1 or --use-env-proxy is set: the instance role's
 * credentials would then cross that proxy in clear text, and a proxy on another host would
 * answer with its own host's role, or not at all. The metadata services are link-local,
 * and the program reads no proxy variable (its proxy comes from the Proxy fields and
 * carries the AWS requests only), so the chain runs with a global agent that goes direct.
 */
import http from "node:http";

let direct = false;

/** Replace Node's global HTTP agent, once, with one that never goes through a proxy. */
export function directGlobalAgent(): void {
  if (direct) return;
  direct = true;
  http.globalAgent = new http.Agent();
}
