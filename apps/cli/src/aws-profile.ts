// The client's key for `osp presign`: from flags, the environment, or an aws-cli profile in
// ~/.aws/credentials and ~/.aws/config (same files and precedence as the aws-cli).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Credentials } from "@osp/sigv4";
import { UsageError } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";

/** One ini section: `key = value`; indented lines under `s3 =` become `s3.key`. */
export type IniSection = Readonly<Record<string, string>>;

/**
 * Parses the aws-cli's ini dialect: `[section]`, `key = value`, full-line `#`/`;` comments, and
 * nested settings (`s3 =` followed by indented `key = value` lines). Like the aws-cli, no inline
 * comments: everything after `=` is the value.
 */
export const parseIni = (text: string): Map<string, IniSection> => {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  let parent: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header != null) {
      const name = header[1]!;
      current = sections.get(name) ?? {};
      sections.set(name, current);
      parent = undefined;
      continue;
    }
    if (current == null) continue;
    const equals = line.indexOf("=");
    if (equals < 0) continue;
    const key = line.slice(0, equals).trim().toLowerCase();
    const value = line.slice(equals + 1).trim();
    const indented = /^\s/.test(rawLine);
    if (indented && parent != null) {
      current[`${parent}.${key}`] = value;
    } else if (value === "") {
      parent = key;
    } else {
      parent = undefined;
      current[key] = value;
    }
  }
  return sections;
};

const readIni = (path: string): Map<string, IniSection> => {
  try {
    return parseIni(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new UsageError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
};

/** The aws-cli's files for `io`: `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE` or ~/.aws. */
export const awsFilePaths = (
  io: Pick<CliIo, "env" | "homeDir">,
): { credentials: string; config: string } => ({
  credentials: io.env.AWS_SHARED_CREDENTIALS_FILE || join(io.homeDir, ".aws", "credentials"),
  config: io.env.AWS_CONFIG_FILE || join(io.homeDir, ".aws", "config"),
});

/** What a profile provides. */
export interface AwsProfile {
  readonly name: string;
  readonly credentials?: Credentials;
  readonly region?: string;
  readonly endpointUrl?: string;
}

/** Reads profile `name` from the aws-cli files; `undefined` when neither file has it. */
export const readAwsProfile = (
  name: string,
  io: Pick<CliIo, "env" | "homeDir">,
): AwsProfile | undefined => {
  const paths = awsFilePaths(io);
  const credentialsFile = readIni(paths.credentials);
  const configFile = readIni(paths.config);
  const fromCredentials = credentialsFile.get(name);
  const fromConfig =
    configFile.get(name === "default" ? "default" : `profile ${name}`) ??
    (name === "default" ? undefined : configFile.get(name));
  if (fromCredentials == null && fromConfig == null) return undefined;
  const merged: Record<string, string> = { ...fromConfig, ...fromCredentials };
  const services =
    merged.services != null ? configFile.get(`services ${merged.services}`) : undefined;
  const accessKeyId = merged.aws_access_key_id;
  const secretAccessKey = merged.aws_secret_access_key;
  const sessionToken = merged.aws_session_token;
  const endpointUrl =
    merged["s3.endpoint_url"] ?? services?.["s3.endpoint_url"] ?? merged.endpoint_url;
  return {
    name,
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
    ...(merged.region ? { region: merged.region } : {}),
    ...(endpointUrl ? { endpointUrl } : {}),
  };
};

/** Flags that may name the client's key. */
export interface CredentialFlags {
  readonly accessKey?: string;
  readonly secretKey?: string;
  readonly profile?: string;
}

/** The client's key and where it came from (for a message; never the secret). */
export interface ClientSettings {
  readonly credentials: Credentials;
  readonly source: string;
  readonly region?: string;
  readonly endpointUrl?: string;
}

/**
 * Resolves the client's key: `--access-key`/`--secret-key`, else `--profile NAME`, else
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), else the profile named by
 * `AWS_PROFILE` or `default`. Region and endpoint come from the profile when it has them.
 * @throws UsageError when no key is found or a flag comes without its partner.
 */
export const resolveClientSettings = (
  command: string,
  flags: CredentialFlags,
  io: Pick<CliIo, "env" | "homeDir">,
): ClientSettings => {
  if ((flags.accessKey == null) !== (flags.secretKey == null)) {
    throw new UsageError("--access-key and --secret-key go together", command);
  }
  const profileName = flags.profile ?? (io.env.AWS_PROFILE || "default");
  const profile = readAwsProfile(profileName, io);
  if (flags.profile != null && profile == null) {
    const paths = awsFilePaths(io);
    throw new UsageError(
      `profile "${flags.profile}" not found in ${paths.credentials} or ${paths.config}`,
      command,
    );
  }
  const extras = {
    ...(profile?.region != null ? { region: profile.region } : {}),
    ...(profile?.endpointUrl != null ? { endpointUrl: profile.endpointUrl } : {}),
  };
  if (flags.accessKey != null && flags.secretKey != null) {
    return {
      credentials: { accessKeyId: flags.accessKey, secretAccessKey: flags.secretKey },
      source: "--access-key",
      ...extras,
    };
  }
  if (flags.profile != null) {
    if (profile?.credentials == null) {
      throw new UsageError(
        `profile "${flags.profile}" has no aws_access_key_id/aws_secret_access_key`,
        command,
      );
    }
    return { credentials: profile.credentials, source: `profile ${flags.profile}`, ...extras };
  }
  const envKey = io.env.AWS_ACCESS_KEY_ID;
  const envSecret = io.env.AWS_SECRET_ACCESS_KEY;
  if (envKey && envSecret) {
    const sessionToken = io.env.AWS_SESSION_TOKEN;
    return {
      credentials: {
        accessKeyId: envKey,
        secretAccessKey: envSecret,
        ...(sessionToken ? { sessionToken } : {}),
      },
      source: "AWS_ACCESS_KEY_ID",
      ...extras,
    };
  }
  if (profile?.credentials != null) {
    return { credentials: profile.credentials, source: `profile ${profileName}`, ...extras };
  }
  throw new UsageError(
    "no client key: pass --access-key and --secret-key, --profile NAME, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    command,
  );
};
