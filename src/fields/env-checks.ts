/**
 * Settings read from the environment, checked like fields: the endpoint variables the AWS
 * SDKs honour (AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL), whose passwords are registered for
 * masking at once and which get the Endpoint URL field's checks, and
 * UE_STATUS_FAILURE_LIMIT_SECONDS. A value that is set but wrong is an error, never
 * silently replaced by the default.
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

export const FAILURE_LIMIT_VARIABLE = "UE_STATUS_FAILURE_LIMIT_SECONDS";
/** A week: longer than any sensible span of unbroken status-check failures. */
export const MAX_FAILURE_LIMIT_SECONDS = 604_800;

/** The problem with UE_STATUS_FAILURE_LIMIT_SECONDS, if it is set and not a valid span. */
export function checkFailureLimit(env: NodeJS.ProcessEnv): FieldProblem[] {
  const raw = env[FAILURE_LIMIT_VARIABLE];
  if (raw === undefined || raw.trim() === "") return [];
  const text = raw.trim();
  const value = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (value >= 0 && value <= MAX_FAILURE_LIMIT_SECONDS) return [];
  return [
    {
      field: FAILURE_LIMIT_VARIABLE,
      label: FAILURE_LIMIT_VARIABLE,
      message: `must be a whole number of seconds from 0 to ${MAX_FAILURE_LIMIT_SECONDS} (got ${JSON.stringify(raw.slice(0, 20))}${raw.length > 20 ? "..." : ""})`,
    },
  ];
}
