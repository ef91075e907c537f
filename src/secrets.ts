/**
 * Secret registry. Every secret is registered the moment it is read; the logger, the
 * output writers and error messages pass their text through mask().
 */

const MASK = "****";
const secrets = new Set<string>();

/** Register a secret value for masking; returns it unchanged for convenience. */
export function registerSecret<T extends string | undefined>(value: T): T {
  // Very short values would mask ordinary words; they are still kept out of outputs
  // by the writers, which never echo credential fields.
  if (value && value.length >= 4) {
    secrets.add(value);
    // Also mask the forms a secret takes inside URLs and headers.
    secrets.add(encodeURIComponent(value));
    secrets.add(Buffer.from(value).toString("base64"));
  }
  return value;
}

/** Register user:password as it appears in a Basic authorization header. */
export function registerBasicAuth(user: string, password: string): void {
  registerSecret(password);
  registerSecret(Buffer.from(`${user}:${password}`).toString("base64"));
}

/** Replace every registered secret in the text. */
export function mask(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** Mask a URL's userinfo, whatever is registered. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@\s,]*@/g, "//****@");
}

/** Forget every registered secret (tests only). */
export function clearSecrets(): void {
  secrets.clear();
}
