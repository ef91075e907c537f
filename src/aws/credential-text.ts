/**
 * Credentials whose text cannot be sent: the access key id and the session token travel
 * in HTTP headers, where a control character (a carriage return left by a file with
 * Windows line ends, a newline) is refused by Node before the request leaves. Checked
 * once, when credentials are obtained, so the task says what is wrong instead of failing
 * inside the HTTP client. The values themselves are never shown.
 */
import { AuthenticationError } from "../errors.ts";

/** Printable ASCII without spaces: what access key ids and session tokens are made of. */
const NOT_TOKEN_CHARACTER = /[^\x21-\x7e]/;

function describe(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === "\r") return "a carriage return";
  if (ch === "\n") return "a line feed";
  if (ch === " " || ch === "\t") return "whitespace";
  if (code < 0x20 || code === 0x7f) return "a control character";
  return `a character outside printable ASCII (U+${code.toString(16).toUpperCase().padStart(4, "0")})`;
}

/** Throws AuthenticationError when the access key id or session token cannot be sent. */
export function checkCredentialText(
  credentials: { readonly accessKeyId: string; readonly sessionToken?: string | undefined },
  source: string,
): void {
  const parts: Array<[string, string | undefined]> = [
    ["access key id", credentials.accessKeyId],
    ["session token", credentials.sessionToken],
  ];
  for (const [name, value] of parts) {
    if (!value) continue;
    const bad = NOT_TOKEN_CHARACTER.exec(value);
    if (!bad) continue;
    const where = bad.index === value.length - 1 ? "at its end" : `at character ${bad.index + 1}`;
    throw new AuthenticationError(
      `the ${name} from ${source} holds ${describe(bad[0])} ${where} (of ${value.length}); it cannot be sent in an HTTP header. Set it without line ends or spaces (a file saved with Windows line ends leaves a carriage return)`,
    );
  }
}
