/** Access keys the endpoint accepts, long-lived ones from configuration and temporary ones from AssumeRole. */

export interface CredentialInit {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiresAt?: Date;
}

export interface StoredCredential extends CredentialInit {
  /** Who the key belongs to, as named in AccessDenied messages. */
  principalArn: string;
}

/** The documented default pair, accepted when the caller configures no keys. */
export const DEFAULT_ACCESS_KEY_ID = "AKIDLOCALTEST0000001";
export const DEFAULT_SECRET_ACCESS_KEY = "LocalTestSecretAccessKey0000000000000000";

export class CredentialStore {
  readonly #byKey = new Map<string, StoredCredential>();
  readonly #accountId: string;

  constructor(accountId: string, initial: readonly CredentialInit[]) {
    this.#accountId = accountId;
    for (const c of initial) this.add(c);
  }

  add(c: CredentialInit, principalArn?: string): StoredCredential {
    const stored: StoredCredential = {
      ...c,
      principalArn: principalArn ?? `arn:aws:iam::${this.#accountId}:user/local-test`,
    };
    this.#byKey.set(c.accessKeyId, stored);
    return stored;
  }

  get(accessKeyId: string): StoredCredential | undefined {
    return this.#byKey.get(accessKeyId);
  }

  list(): StoredCredential[] {
    return [...this.#byKey.values()];
  }
}
