/**
 * Region (SPEC 5.2): the field; else AWS_REGION, AWS_DEFAULT_REGION and the shared
 * config profile; else the region inside the state machine ARN.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface RegionChoice {
  readonly region: string;
  readonly source: string;
}

/** The region of a profile in the shared config file, if any. */
export function sharedConfigRegion(env: NodeJS.ProcessEnv): string | undefined {
  const file = env["AWS_CONFIG_FILE"] ?? join(homedir(), ".aws", "config");
  const profile = env["AWS_PROFILE"] ?? "default";
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const wanted = profile === "default" ? ["default", "profile default"] : [`profile ${profile}`];
  let inProfile = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inProfile = wanted.includes(section[1] as string);
      continue;
    }
    const entry = /^region\s*=\s*(\S+)/.exec(line);
    if (inProfile && entry) return entry[1];
  }
  return undefined;
}

export function resolveRegion(
  field: string | undefined,
  env: NodeJS.ProcessEnv,
  arnRegion: string,
  arnLabel = "the state machine ARN",
): RegionChoice {
  if (field) return { region: field, source: "the AWS Region field" };
  if (env["AWS_REGION"]) return { region: env["AWS_REGION"], source: "AWS_REGION" };
  if (env["AWS_DEFAULT_REGION"]) {
    return { region: env["AWS_DEFAULT_REGION"], source: "AWS_DEFAULT_REGION" };
  }
  const shared = sharedConfigRegion(env);
  if (shared) return { region: shared, source: "the shared config file" };
  return { region: arnRegion, source: arnLabel };
}
