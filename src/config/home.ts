/**
 * The home folder the AWS SDK reads `~/.aws` from. The SDK takes HOME as it is, even empty
 * or relative, and then reads `.aws/config` from the working directory, where whoever may
 * write there could plant a profile (a credential_process runs a command). Without HOME it
 * asks the user database, which throws for a user id that has no entry there (a container
 * or a scheduler running jobs under an arbitrary id), and then every SDK call fails.
 */
import { isAbsolute } from "node:path";

/** HOME when there is no home folder: nothing can be below it, so no `~/.aws` file is read. */
export const NO_HOME = "/dev/null";

export interface HomeDecision {
  /** The value HOME is given; absent when it stays as it is. */
  readonly home?: string;
  readonly notice?: { readonly level: "info" | "warn"; readonly text: string };
}

/**
 * What HOME must be for the SDK: an absolute path as given stays; one that is not absolute
 * counts as not set; not set, the user database's home (what the SDK would ask for), else
 * NO_HOME. `userHome` gives the database's home folder, or throws when the user has no entry.
 */
export function decideHome(
  home: string | undefined,
  userHome: () => string,
  uid: number | null,
): HomeDecision {
  if (home !== undefined && isAbsolute(home)) return {};
  let fromDatabase: string | undefined;
  /** The user database's home for this user, when it has an entry but not an absolute home. */
  let unusable: string | undefined;
  try {
    const found = userHome();
    if (isAbsolute(found)) fromDatabase = found;
    else unusable = found;
  } catch {
    // No entry for this user id: no home folder at all.
  }
  const given =
    home === undefined ? undefined : `HOME is ${JSON.stringify(home)}, not an absolute path`;
  const user = uid === null ? "this user" : `user id ${uid}`;
  const database =
    unusable === undefined
      ? "has no entry in the user database"
      : `has no absolute home folder in the user database (it gives ${JSON.stringify(unusable)})`;
  if (fromDatabase !== undefined) {
    if (given === undefined) return {};
    return {
      home: fromDatabase,
      notice: {
        level: "warn",
        text: `${given}: it is not used; ~/.aws is ${fromDatabase}/.aws, from the user database`,
      },
    };
  }
  const unread =
    "no ~/.aws file is read (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, when set, are)";
  const why =
    given === undefined
      ? `no home folder (HOME is not set and ${user} ${database})`
      : `${given}, and ${user} ${database}`;
  return {
    home: NO_HOME,
    notice: { level: given === undefined ? "info" : "warn", text: `${why}: ${unread}` },
  };
}
