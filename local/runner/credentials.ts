/**
 * Credentials live in a local credentials file, never in task definitions: a definition
 * names an entry with { "$credential": "<name>" }, as a controller task names a
 * Credential object. The file is a JSON object: { "<name>": { "user", "password" } },
 * with an optional "token" (for AWS Credentials, the session token of temporary keys).
 */
import { readFile } from "node:fs/promises";
import type { CredentialValue } from "../../src/fields/template-types.ts";

export type CredentialStore = ReadonlyMap<string, CredentialValue>;

export interface CredentialReference {
  $credential: string;
}

export function isCredentialReference(value: unknown): value is CredentialReference {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as Record<string, unknown>)["$credential"] === "string"
  );
}

/** Parse a credentials document; entries whose name starts with "$" are comments. */
export function parseCredentials(document: unknown, where: string): CredentialStore {
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new Error(
      `${where}: a credentials file is a JSON object of { "<name>": { "user", "password" } }`,
    );
  }
  const store = new Map<string, CredentialValue>();
  for (const [name, entry] of Object.entries(document)) {
    if (name.startsWith("$")) continue;
    const e = entry as Partial<CredentialValue> | null;
    if (typeof e?.user !== "string" || typeof e.password !== "string") {
      throw new Error(`${where}: credential "${name}" needs string "user" and "password"`);
    }
    if (e.token !== undefined && typeof e.token !== "string") {
      throw new Error(`${where}: credential "${name}": "token" must be a string when given`);
    }
    store.set(
      name,
      e.token
        ? { user: e.user, password: e.password, token: e.token }
        : { user: e.user, password: e.password },
    );
  }
  return store;
}

export async function loadCredentialsFile(path: string): Promise<CredentialStore> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read credentials file ${path}: ${(error as Error).message}`);
  }
  try {
    return parseCredentials(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new Error(`credentials file ${path} is not JSON: ${error.message}`);
    throw error;
  }
}
