// Finding, reading and validating a configuration: osp.config.{mjs,js} (a module that may
// export callbacks) or osp.config.{json,yaml,yml} (built-in providers instead of callbacks).
// Every problem found is reported at once, one line each, naming the field.
import { existsSync, readFileSync } from "node:fs";
import { extname, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ProxyConfigInput } from "@osp/core";
import {
  loadDotenv,
  resolveServerConfig,
  type ResolvedServerConfig,
  type ServerConfigInput,
} from "@osp/node-server";
import { parseDocument } from "yaml";
import { applyEnvOverrides } from "./env-overrides.ts";
import { interpolateEnv } from "./interpolate.ts";
import { formatIssues } from "./issues.ts";
import { describeValue } from "./path.ts";
import {
  apiKeyEnvCredentials,
  envBucketCredentials,
  envSecretLookup,
  webhookValidator,
  type EnvSource,
  type ProviderLog,
} from "./providers.ts";
import { fileConfigSchema, type FileConfig } from "./schema.ts";

/** The file names `osp serve` and `osp check` look for, in this order. */
export const CONFIG_FILE_NAMES = [
  "osp.config.mjs",
  "osp.config.js",
  "osp.config.json",
  "osp.config.yaml",
  "osp.config.yml",
] as const;
const TYPESCRIPT_NAMES = ["osp.config.ts", "osp.config.mts"];

/** Invalid or unreadable configuration: exit code 2, one line per problem. */
export class ConfigProblems extends Error {
  readonly source: string;
  readonly problems: string[];

  constructor(source: string, problems: string[]) {
    super(
      `${source}: invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"})`,
    );
    this.name = "ConfigProblems";
    this.source = source;
    this.problems = problems;
  }

  /** One line per problem, each prefixed with the file. */
  lines(): string[] {
    return this.problems.map((problem) => `${this.source}: ${problem}`);
  }
}

/** How a file is read. */
export type ConfigFormat = "module" | "json" | "yaml";

const formatOf = (path: string): ConfigFormat | "typescript" | undefined => {
  const extension = extname(path).toLowerCase();
  if (extension === ".mjs" || extension === ".js" || extension === ".cjs") return "module";
  if (extension === ".json") return "json";
  if (extension === ".yaml" || extension === ".yml") return "yaml";
  if (extension === ".ts" || extension === ".mts" || extension === ".cts") return "typescript";
  return undefined;
};

const TYPESCRIPT_HINT =
  "Node 20 cannot import TypeScript: compile it first, e.g. `npx tsc osp.config.ts --module nodenext --target es2022` or `npx esbuild osp.config.ts --outfile=osp.config.mjs --format=esm`, and pass the .mjs";

/** The configuration file to use: `--config`, else the first of {@link CONFIG_FILE_NAMES} in `cwd`. */
export const locateConfig = (configPath: string | undefined, cwd: string): string => {
  if (configPath != null) {
    const absolute = resolve(cwd, configPath);
    if (!existsSync(absolute)) throw new ConfigProblems(configPath, ["file not found"]);
    return absolute;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = resolve(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  const typescript = TYPESCRIPT_NAMES.find((name) => existsSync(resolve(cwd, name)));
  if (typescript != null) return resolve(cwd, typescript);
  throw new ConfigProblems(cwd, [
    `no configuration file: none of ${CONFIG_FILE_NAMES.join(", ")} here; pass --config FILE (or try \`osp demo\`)`,
  ]);
};

// Settings that are code in a JS config and have a built-in provider in a file.
const CALLBACK_FIELDS: Readonly<Record<string, string>> = {
  hmacFetcher: "clientKeys.env",
  hmac_fetcher: "clientKeys.env",
  validator: "validator.webhook",
  bucketCredsFetcher: "bucketCredentials",
  bucket_creds_fetcher: "bucketCredentials",
};
// Objects only a JS config can hold, passed to the server untouched.
const OBJECT_FIELDS = new Set(["transport", "logDestination", "log_destination"]);

/** A configuration ready for `startServer`, and what was found on the way. */
export interface LoadedConfig {
  readonly path: string;
  /** The path as shown in messages (relative to the working directory). */
  readonly displayPath: string;
  readonly format: ConfigFormat;
  readonly input: ServerConfigInput;
  /** The server's own validation of `input` (normalised buckets, settings). */
  readonly resolved: ResolvedServerConfig;
  /** Environment overrides that applied (`OSP_HTTP_PORT`, …). */
  readonly overrides: string[];
  /** Non-fatal findings; never a secret. */
  readonly warnings: string[];
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** `--config`; else discovered in `cwd`. */
  readonly configPath?: string;
  readonly cwd: string;
  /** The environment: read for `${VAR}`, `OSP_*` overrides and by the providers at call time. */
  readonly env: Record<string, string | undefined>;
  /** Where provider warnings (a failing webhook) go. */
  readonly log: ProviderLog;
  /** Load `.env` (default: as the config says, else ./.env). */
  readonly dotenv?: boolean;
  /** For the webhook validator (tests). */
  readonly fetch?: typeof fetch;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value != null && !Array.isArray(value);

const readText = (path: string, source: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigProblems(source, [
      `cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    ]);
  }
};

const parseJson = (text: string, source: string): unknown => {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new ConfigProblems(source, [`not valid JSON: ${(error as Error).message}`]);
  }
};

const parseYaml = (text: string, source: string): unknown => {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigProblems(
      source,
      document.errors.map((error) => {
        const position = error.linePos?.[0];
        const where = position != null ? `line ${position.line}, column ${position.col}: ` : "";
        // The message ends with its own position and a code frame: one line is enough here.
        const message = error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        return `${where}not valid YAML: ${message}`;
      }),
    );
  }
  return document.toJS({ maxAliasCount: 100 }) as unknown;
};

const importModule = async (path: string, source: string): Promise<unknown> => {
  let module: { default?: unknown; config?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as typeof module;
  } catch (error) {
    throw new ConfigProblems(source, [
      `cannot load the module: ${(error as Error)?.message ?? String(error)}`,
    ]);
  }
  let config = module.default ?? module.config;
  if (typeof config === "function") {
    try {
      config = await (config as () => unknown)();
    } catch (error) {
      throw new ConfigProblems(source, [
        `the exported config function threw: ${(error as Error)?.message ?? String(error)}`,
      ]);
    }
  }
  return config;
};

/** Splits callbacks and code-only objects out of a JS config, reporting misplaced values. */
const takeCode = (
  raw: Record<string, unknown>,
  format: ConfigFormat,
  problems: string[],
): { data: Record<string, unknown>; code: Record<string, unknown> } => {
  const data: Record<string, unknown> = {};
  const code: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const provider = CALLBACK_FIELDS[key];
    if (provider != null && !(key === "validator" && isRecord(value))) {
      if (value == null) continue;
      if (format !== "module")
        problems.push(
          `${key}: a callback cannot be written in a ${format.toUpperCase()} file; use ${provider}, or an osp.config.mjs`,
        );
      else if (typeof value === "function") code[key] = value;
      else problems.push(`${key}: must be a function (got ${describeValue(value)})`);
      continue;
    }
    if (
      format === "module" &&
      (OBJECT_FIELDS.has(key) ||
        ((key === "tlsCert" || key === "tlsKey") && value instanceof Uint8Array))
    ) {
      code[key] = value;
      continue;
    }
    data[key] = value;
  }
  return { data, code };
};

/** Turns the validated file config plus JS callbacks into what `startServer` takes. */
const buildInput = (
  config: FileConfig,
  code: Record<string, unknown>,
  env: EnvSource,
  options: LoadConfigOptions,
  problems: string[],
  warnings: string[],
): ServerConfigInput => {
  const { $schema: _schema, clientKeys, validator, bucketCredentials, ...rest } = config;
  const input: Record<string, unknown> = { ...rest, ...code };

  if (clientKeys?.static != null && clientKeys.static.length > 0) {
    const field =
      input.hmac_keystore != null && input.hmacKeystore == null ? "hmac_keystore" : "hmacKeystore";
    input[field] = [...((input[field] as unknown[] | undefined) ?? []), ...clientKeys.static];
  }
  if (clientKeys?.env != null && clientKeys.env !== false) {
    if (code.hmacFetcher != null || code.hmac_fetcher != null) {
      problems.push("clientKeys.env: cannot be combined with an hmacFetcher function");
    } else {
      input.hmacFetcher = envSecretLookup(env, clientKeys.env === true ? {} : clientKeys.env);
    }
  }
  if (validator?.webhook != null) {
    input.validator = webhookValidator({
      url: validator.webhook.url,
      ...(validator.webhook.timeoutMs != null ? { timeoutMs: validator.webhook.timeoutMs } : {}),
      ...(validator.webhook.headers != null ? { headers: validator.webhook.headers } : {}),
      ...(options.fetch != null ? { fetch: options.fetch } : {}),
      log: options.log,
    });
  }
  if (bucketCredentials != null) {
    if (code.bucketCredsFetcher != null || code.bucket_creds_fetcher != null) {
      problems.push("bucketCredentials: cannot be combined with a bucketCredsFetcher function");
    } else if (bucketCredentials.apiKeyEnv != null) {
      input.bucketCredsFetcher = apiKeyEnvCredentials(env, bucketCredentials.apiKeyEnv);
      if (!env()[bucketCredentials.apiKeyEnv]) {
        warnings.push(
          `bucketCredentials.apiKeyEnv: ${bucketCredentials.apiKeyEnv} is not set; buckets without credentials will fail`,
        );
      }
    } else if (bucketCredentials.env != null) {
      const names = bucketCredentials.env === true ? {} : bucketCredentials.env;
      input.bucketCredsFetcher = envBucketCredentials(env, names);
      const missing = [
        names.accessKeyVar ?? "ACCESS_KEY",
        names.secretKeyVar ?? "SECRET_KEY",
      ].filter((name) => !env()[name]);
      if (missing.length > 0) {
        warnings.push(
          `bucketCredentials.env: ${missing.join(" and ")} not set; buckets without credentials will fail`,
        );
      }
    }
  }
  return input as ServerConfigInput & ProxyConfigInput;
};

/**
 * Finds, reads and validates the configuration: `.env` first, then the file (`${VAR}`
 * interpolated for JSON/YAML), `OSP_*` overrides, the schema, the providers, and finally the
 * server's own validation (ports, TLS files, buckets).
 * @throws ConfigProblems listing every problem.
 */
export const loadConfig = async (options: LoadConfigOptions): Promise<LoadedConfig> => {
  const path = locateConfig(options.configPath, options.cwd);
  const displayPath = relative(options.cwd, path) || path;
  const detected = formatOf(path);
  // Node 22.6+ strips types natively; Node 20 cannot import TypeScript at all.
  const typescriptSupported = Boolean((process.features as { typescript?: unknown }).typescript);
  if (detected === "typescript" && !typescriptSupported)
    throw new ConfigProblems(displayPath, [TYPESCRIPT_HINT]);
  const format: ConfigFormat | undefined = detected === "typescript" ? "module" : detected;
  if (format == null) {
    throw new ConfigProblems(displayPath, [
      "unknown file type: use .mjs, .js, .json, .yaml or .yml",
    ]);
  }
  const env: EnvSource = () => options.env;
  const dotenvEnabled = options.dotenv ?? true;
  const loadEnvFile = (setting: unknown): void => {
    if (!dotenvEnabled || setting === false) return;
    const file = typeof setting === "string" && setting.trim() !== "" ? setting.trim() : ".env";
    try {
      loadDotenv(resolve(options.cwd, file), options.env);
    } catch (error) {
      throw new ConfigProblems(displayPath, [`dotenv: ${(error as Error).message}`]);
    }
  };

  let raw: unknown;
  const problems: string[] = [];
  if (format === "json" || format === "yaml") {
    const text = readText(path, displayPath);
    const parsed = format === "json" ? parseJson(text, displayPath) : parseYaml(text, displayPath);
    // `.env` before interpolation: the file may refer to variables it sets.
    loadEnvFile(isRecord(parsed) ? parsed.dotenv : undefined);
    const interpolated = interpolateEnv(parsed, options.env);
    problems.push(...interpolated.problems);
    raw = interpolated.value;
  } else {
    // Before the module runs: it may read variables that .env provides.
    loadEnvFile(undefined);
    raw = await importModule(path, displayPath);
  }
  if (!isRecord(raw)) {
    throw new ConfigProblems(displayPath, [
      format === "module"
        ? `the default export must be the configuration object or a function returning it (got ${describeValue(raw)})`
        : `the file must hold an object of settings (got ${describeValue(raw)})`,
    ]);
  }

  const overridden = applyEnvOverrides(raw, options.env);
  problems.push(...overridden.problems);
  const { data, code } = takeCode(overridden.config, format, problems);
  const result = fileConfigSchema.safeParse(data, { reportInput: true });
  if (!result.success) problems.push(...formatIssues(result.error.issues, fileConfigSchema));
  if (problems.length > 0 || !result.success) throw new ConfigProblems(displayPath, problems);

  const warnings: string[] = [];
  const input = buildInput(result.data, code, env, options, problems, warnings);
  if (problems.length > 0) throw new ConfigProblems(displayPath, problems);
  let resolved: ResolvedServerConfig;
  try {
    resolved = resolveServerConfig(input, options.env);
  } catch (error) {
    const serverProblems = (error as { problems?: unknown }).problems;
    if (Array.isArray(serverProblems))
      throw new ConfigProblems(displayPath, serverProblems.map(String));
    throw error;
  }
  return {
    path,
    displayPath,
    format,
    input,
    resolved,
    overrides: overridden.applied,
    warnings: [...warnings, ...resolved.warnings],
  };
};
