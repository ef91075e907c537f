/**
 * The endpoint variables the AWS SDKs honour (AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL):
 * the passwords of URLs in them are registered for masking as soon as fields are read,
 * before anything could log them. Their checks are the Endpoint URL field's
 * (src/config/environment.ts).
 */
import { registerSecret } from "../secrets.ts";
import { urlPasswords } from "./text-checks.ts";

export const ENDPOINT_VARIABLES = ["AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL"] as const;

/** Register the passwords of URLs in the endpoint variables. */
export function registerEndpointPasswords(env: NodeJS.ProcessEnv): void {
  for (const name of ENDPOINT_VARIABLES) {
    for (const password of urlPasswords(env[name] ?? "", { urlField: true })) {
      registerSecret(password);
    }
  }
}
