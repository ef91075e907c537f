/**
 * The endpoint variables the AWS SDKs honour (AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL):
 * a password inside them is registered for masking at once, and they get the same checks
 * as the Endpoint URL field.
 */
import type { FieldProblem } from "../errors.ts";
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

/** Problems with the endpoint variable that would be used, checked by the field's rule. */
export function checkEndpointEnvironment(
  env: NodeJS.ProcessEnv,
  checkUrl: (value: string) => string | null,
): FieldProblem[] {
  registerEndpointPasswords(env);
  const name = ENDPOINT_VARIABLES.find((n) => env[n]);
  if (!name) return [];
  const message = checkUrl((env[name] as string).trim());
  return message ? [{ field: name, label: name, message }] : [];
}
