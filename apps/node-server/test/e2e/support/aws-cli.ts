import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand, type CommandResult } from "./process.ts";

/** aws-cli v2 from Debian. A pyenv `aws` v1 may stand earlier on PATH, so never rely on PATH. */
export const AWS_CLI_PATH = "/usr/bin/aws";

/** An isolated aws-cli configuration: its own config and credentials files, one profile. */
export interface AwsCliProfile {
  profileName: string;
  endpointUrl: string;
  configFile: string;
  credentialsFile: string;
  /** The environment every call runs with: nothing of the developer's AWS setup leaks in. */
  env: NodeJS.ProcessEnv;
}

/** Options of {@link createAwsCliProfile}. */
export interface AwsCliProfileOptions {
  dir: string;
  endpointUrl: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  profileName?: string;
}

/**
 * Environment variables that would change what the CLI or boto3 does behind the test's back:
 * the caller's AWS settings (AWS_CA_BUNDLE breaks some clients outright) and the Python
 * settings of a pyenv installation, which the Debian interpreter must not pick up.
 */
export function cleanClientEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("AWS_") || name.startsWith("PYTHON") || name.startsWith("PYENV")) continue;
    if (
      name === "HTTP_PROXY" ||
      name === "HTTPS_PROXY" ||
      name === "http_proxy" ||
      name === "https_proxy"
    )
      continue;
    env[name] = value;
  }
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    NO_PROXY: "127.0.0.1,localhost",
    ...extra,
  };
}

/**
 * Writes the seed's example profile (path-style addressing, JSON output) into `dir`.
 * aws-cli 2.9 (Debian 12) does not read `endpoint_url` from the config file (2.13+ does), so the
 * endpoint also goes on every command line; the `services` section is written for newer CLIs.
 */
export async function createAwsCliProfile(options: AwsCliProfileOptions): Promise<AwsCliProfile> {
  const profileName = options.profileName ?? "osp";
  const region = options.region ?? "us-east-1";
  const configFile = join(options.dir, "config");
  const credentialsFile = join(options.dir, "credentials");
  await writeFile(
    configFile,
    [
      `[profile ${profileName}]`,
      `region = ${region}`,
      "output = json",
      "cli_pager =",
      `services = ${profileName}-services`,
      "s3 =",
      "    addressing_style = path",
      "",
      `[services ${profileName}-services]`,
      "s3 =",
      `    endpoint_url = ${options.endpointUrl}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  await writeFile(
    credentialsFile,
    [
      `[${profileName}]`,
      `aws_access_key_id = ${options.accessKeyId}`,
      `aws_secret_access_key = ${options.secretAccessKey}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return {
    profileName,
    endpointUrl: options.endpointUrl,
    configFile,
    credentialsFile,
    env: cleanClientEnv({
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_PROFILE: profileName,
    }),
  };
}

/** Options of {@link runAws}. */
export interface RunAwsOptions {
  timeoutMs?: number;
  /** Overrides the profile's endpoint (e.g. the HTTPS listener). */
  endpointUrl?: string;
  /** Extra global flags such as `--no-verify-ssl` or `--ca-bundle <file>`. */
  globalArgs?: readonly string[];
}

/** Runs `/usr/bin/aws <args…>` with the profile; rejects on a non-zero exit. */
export function runAws(
  profile: AwsCliProfile,
  args: readonly string[],
  options: RunAwsOptions = {},
): Promise<CommandResult> {
  return runCommand(
    AWS_CLI_PATH,
    [
      ...args,
      "--endpoint-url",
      options.endpointUrl ?? profile.endpointUrl,
      ...(options.globalArgs ?? []),
    ],
    { env: profile.env, timeoutMs: options.timeoutMs ?? 60_000 },
  );
}

/** Runs an `aws s3api …` command and parses its JSON output (`{}` when it prints nothing). */
export async function runAwsJson<T = Record<string, unknown>>(
  profile: AwsCliProfile,
  args: readonly string[],
  options: RunAwsOptions = {},
): Promise<T> {
  const { stdout } = await runAws(profile, args, options);
  return (stdout.trim() === "" ? {} : JSON.parse(stdout)) as T;
}
