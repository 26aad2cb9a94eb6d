// Server configuration: everything of @osp/core's config plus the listener, process and
// observability settings of the predecessor's ProxyServerConfig. camelCase and snake_case are
// both accepted; every problem is reported at once, naming the field, never a secret's value.
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import {
  ConfigError,
  parseProxyConfig,
  type ProxyConfig,
  type ProxyConfigInput,
  type Transport,
} from "@osp/core";
import {
  UNDICI_TIMEOUT_MINIMUMS_MS,
  type UndiciTimeoutOption,
  type UndiciTransportOptions,
} from "@osp/transport-undici";
import { LOG_LEVELS, type LogLevel } from "./logging.ts";

/**
 * What `startServer` accepts: the core's {@link ProxyConfigInput} plus server settings. Each
 * server field also has its snake_case spelling (`http_port`, `tls_cert_path`, …).
 * @public
 */
export interface ServerConfigInput extends ProxyConfigInput {
  /** Plain HTTP port; 0 picks a free port. At least one of `httpPort`/`httpsPort` is required. */
  httpPort?: number;
  http_port?: number;
  /** HTTPS port (HTTP/2 and HTTP/1.1 via ALPN); 0 picks a free port. */
  httpsPort?: number;
  https_port?: number;
  /** Address the listeners bind to; default `"0.0.0.0"`. */
  bindAddress?: string;
  bind_address?: string;
  /** PEM certificate (chain) for HTTPS. Else `tlsCertPath`, else env `TLS_CERT_PATH`. */
  tlsCert?: string | Uint8Array;
  tls_cert?: string | Uint8Array;
  /** PEM private key for HTTPS. Else `tlsKeyPath`, else env `TLS_KEY_PATH`. */
  tlsKey?: string | Uint8Array;
  tls_key?: string | Uint8Array;
  tlsCertPath?: string;
  tls_cert_path?: string;
  tlsKeyPath?: string;
  tls_key_path?: string;
  /** 1 (default): serve in this process; N > 1: N worker processes (node:cluster). */
  threads?: number;
  /** PEM file of extra certificate authorities trusted for backend TLS. */
  backendCaFile?: string;
  backend_ca_file?: string;
  /** Backend TCP + TLS connect timeout; default 10 000 ms. */
  backendConnectTimeoutMs?: number;
  backend_connect_timeout_ms?: number;
  /** From the backend request sent to its response head; 0 disables; default 60 000 ms. */
  backendHeadersTimeoutMs?: number;
  backend_headers_timeout_ms?: number;
  /** Longest silence between two backend response reads; 0 disables; default 60 000 ms. */
  backendBodyTimeoutMs?: number;
  backend_body_timeout_ms?: number;
  /** How long an idle backend connection is kept for reuse; default 4 000 ms. */
  backendKeepAliveTimeoutMs?: number;
  backend_keep_alive_timeout_ms?: number;
  /** Port of a separate listener for /healthz, /readyz and /metrics; default none. */
  adminPort?: number;
  admin_port?: number;
  /** Default: env `OSP_LOG_LEVEL`, else `"info"`. */
  logLevel?: LogLevel;
  log_level?: LogLevel;
  /** Receives every JSON log line instead of stdout (tests). */
  logDestination?: { write(line: string): void };
  /** Load a `.env` file (true: `./.env`, or a path) without overriding set variables; default true. */
  dotenv?: boolean | string;
  /** How long `close()` and SIGTERM/SIGINT wait for in-flight requests; default 30 000 ms. */
  shutdownTimeoutMs?: number;
  shutdown_timeout_ms?: number;
  /** Start with request counting on; default: env `OSP_ENABLE_REQUEST_COUNTING`, else false. */
  requestCounting?: boolean;
  request_counting?: boolean;
  /** IBM IAM token endpoint; default IBM's public one. */
  iamTokenUrl?: string;
  iam_token_url?: string;
  /** Replaces the undici transport (tests, custom networking). In-process mode only. */
  transport?: Transport;
  /** Drain and exit on SIGTERM/SIGINT; default true. */
  handleSignals?: boolean;
  handle_signals?: boolean;
}

/** PEM material for the HTTPS listener and where it came from (never the material in logs). @public */
export interface TlsMaterial {
  cert: string | Uint8Array;
  key: string | Uint8Array;
  source: "config" | "files" | "env";
}

/** The validated server settings. @public */
export interface ServerSettings {
  httpPort?: number;
  httpsPort?: number;
  bindAddress: string;
  tls?: TlsMaterial;
  threads: number;
  backendCaFile?: string;
  /** Contents of `backendCaFile`. */
  backendCa?: string;
  /** Timeouts of the built-in backend transport; absent ones keep its defaults. */
  backendTimeouts: BackendTimeouts;
  adminPort?: number;
  logLevel: LogLevel;
  logDestination?: { write(line: string): void };
  dotenv: false | string;
  shutdownTimeoutMs: number;
  requestCounting: boolean;
  iamTokenUrl?: string;
  transport?: Transport;
  handleSignals: boolean;
}

/** Timeouts of the built-in backend transport, in milliseconds. @public */
export type BackendTimeouts = Pick<UndiciTransportOptions, UndiciTimeoutOption>;

/** Server field → the transport timeout it sets. */
const BACKEND_TIMEOUT_FIELDS = [
  ["backendConnectTimeoutMs", "connectTimeoutMs"],
  ["backendHeadersTimeoutMs", "headersTimeoutMs"],
  ["backendBodyTimeoutMs", "bodyTimeoutMs"],
  ["backendKeepAliveTimeoutMs", "keepAliveTimeoutMs"],
] as const;

/** A resolved configuration: server settings, the core's part as given, and as the core parsed it. @public */
export interface ResolvedServerConfig {
  settings: ServerSettings;
  /** The input without the server fields, for `createProxy`. */
  proxyInput: ProxyConfigInput;
  proxyConfig: ProxyConfig;
  /** Non-fatal findings (unknown fields …). */
  warnings: string[];
}

/** Defaults of the server settings. @public */
export const SERVER_DEFAULTS = {
  bindAddress: "0.0.0.0",
  threads: 1,
  logLevel: "info",
  dotenv: ".env",
  shutdownTimeoutMs: 30_000,
} as const;

const MAX_THREADS = 1024;

const SERVER_FIELDS: Record<string, string> = {
  httpPort: "httpPort",
  http_port: "httpPort",
  httpsPort: "httpsPort",
  https_port: "httpsPort",
  bindAddress: "bindAddress",
  bind_address: "bindAddress",
  tlsCert: "tlsCert",
  tls_cert: "tlsCert",
  tlsKey: "tlsKey",
  tls_key: "tlsKey",
  tlsCertPath: "tlsCertPath",
  tls_cert_path: "tlsCertPath",
  tlsKeyPath: "tlsKeyPath",
  tls_key_path: "tlsKeyPath",
  threads: "threads",
  backendCaFile: "backendCaFile",
  backend_ca_file: "backendCaFile",
  backendConnectTimeoutMs: "backendConnectTimeoutMs",
  backend_connect_timeout_ms: "backendConnectTimeoutMs",
  backendHeadersTimeoutMs: "backendHeadersTimeoutMs",
  backend_headers_timeout_ms: "backendHeadersTimeoutMs",
  backendBodyTimeoutMs: "backendBodyTimeoutMs",
  backend_body_timeout_ms: "backendBodyTimeoutMs",
  backendKeepAliveTimeoutMs: "backendKeepAliveTimeoutMs",
  backend_keep_alive_timeout_ms: "backendKeepAliveTimeoutMs",
  adminPort: "adminPort",
  admin_port: "adminPort",
  logLevel: "logLevel",
  log_level: "logLevel",
  logDestination: "logDestination",
  log_destination: "logDestination",
  dotenv: "dotenv",
  shutdownTimeoutMs: "shutdownTimeoutMs",
  shutdown_timeout_ms: "shutdownTimeoutMs",
  requestCounting: "requestCounting",
  request_counting: "requestCounting",
  iamTokenUrl: "iamTokenUrl",
  iam_token_url: "iamTokenUrl",
  transport: "transport",
  handleSignals: "handleSignals",
  handle_signals: "handleSignals",
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value != null && !Array.isArray(value);

const describe = (value: unknown): string => {
  if (value === undefined) return "undefined";
  if (value == null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return `a ${typeof value}`;
};

/** PEM text as the shape node:tls wants. */
export const pemBuffer = (pem: string | Uint8Array): string | Buffer =>
  typeof pem === "string" ? pem : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength);

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", ""]);

/** Splits the input into server fields (canonical names) and the rest, reporting alias conflicts. */
const splitFields = (
  input: Record<string, unknown>,
  problems: string[],
): { server: Map<string, unknown>; rest: Record<string, unknown> } => {
  const server = new Map<string, unknown>();
  const spelledAs = new Map<string, string>();
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const canonical = SERVER_FIELDS[key];
    if (canonical == null) {
      rest[key] = value;
      continue;
    }
    if (value === undefined) continue;
    const earlier = spelledAs.get(canonical);
    if (earlier != null && server.get(canonical) !== value) {
      problems.push(
        `${canonical}: given twice with different values (as "${earlier}" and "${key}")`,
      );
      continue;
    }
    spelledAs.set(canonical, key);
    server.set(canonical, value);
  }
  return { server, rest };
};

const parsePort = (value: unknown, field: string, problems: string[]): number | undefined => {
  if (value == null) return undefined;
  const port = typeof value === "string" && /^\d{1,5}$/.test(value.trim()) ? Number(value) : value;
  if (typeof port === "number" && Number.isInteger(port) && port >= 0 && port <= 65_535)
    return port;
  problems.push(
    `${field}: must be an integer between 0 and 65535, 0 = any free port (got ${describe(value)})`,
  );
  return undefined;
};

const parseString = (value: unknown, field: string, problems: string[]): string | undefined => {
  if (value == null) return undefined;
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  problems.push(`${field}: must be a non-empty string (got ${describe(value)})`);
  return undefined;
};

const parseBoolean = (value: unknown, field: string, problems: string[]): boolean | undefined => {
  if (value == null) return undefined;
  if (typeof value === "boolean") return value;
  problems.push(`${field}: must be true or false (got ${describe(value)})`);
  return undefined;
};

const readTextFile = (path: string, field: string, problems: string[]): string | undefined => {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    problems.push(
      `${field}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
    return undefined;
  }
};

const pemText = (
  value: unknown,
  field: string,
  problems: string[],
): string | Uint8Array | undefined => {
  if (value == null) return undefined;
  if (typeof value === "string" || value instanceof Uint8Array) {
    const text = typeof value === "string" ? value : Buffer.from(value).toString("latin1");
    if (text.includes("-----BEGIN ")) return value;
    // Never show the value: it may be a private key pasted in the wrong place.
    problems.push(`${field}: must be PEM text ("-----BEGIN …")`);
    return undefined;
  }
  problems.push(`${field}: must be PEM text (got ${describe(value)})`);
  return undefined;
};

const resolveTls = (
  server: Map<string, unknown>,
  env: Record<string, string | undefined>,
  problems: string[],
): TlsMaterial | undefined => {
  const before = problems.length;
  const inlineCert = pemText(server.get("tlsCert"), "tlsCert", problems);
  const inlineKey = pemText(server.get("tlsKey"), "tlsKey", problems);
  if (problems.length > before) return undefined;
  if (inlineCert != null || inlineKey != null) {
    if (inlineCert == null || inlineKey == null) {
      problems.push(
        `${inlineCert == null ? "tlsCert" : "tlsKey"}: is required when ${inlineCert == null ? "tlsKey" : "tlsCert"} is given`,
      );
      return undefined;
    }
    return { cert: inlineCert, key: inlineKey, source: "config" };
  }
  const certPath = parseString(server.get("tlsCertPath"), "tlsCertPath", problems);
  const keyPath = parseString(server.get("tlsKeyPath"), "tlsKeyPath", problems);
  if (certPath != null || keyPath != null) {
    if (certPath == null || keyPath == null) {
      problems.push(
        `${certPath == null ? "tlsCertPath" : "tlsKeyPath"}: is required when ${certPath == null ? "tlsKeyPath" : "tlsCertPath"} is given`,
      );
      return undefined;
    }
    const cert = readTextFile(certPath, "tlsCertPath", problems);
    const key = readTextFile(keyPath, "tlsKeyPath", problems);
    if (cert == null || key == null) return undefined;
    return {
      cert: pemText(cert, "tlsCertPath", problems) ?? "",
      key: pemText(key, "tlsKeyPath", problems) ?? "",
      source: "files",
    };
  }
  const envCert = env.TLS_CERT_PATH?.trim();
  const envKey = env.TLS_KEY_PATH?.trim();
  if (!envCert || !envKey) {
    problems.push(
      "httpsPort: needs a certificate and key: set tlsCert/tlsKey (PEM), tlsCertPath/tlsKeyPath, or the environment variables TLS_CERT_PATH/TLS_KEY_PATH",
    );
    return undefined;
  }
  const cert = readTextFile(envCert, "TLS_CERT_PATH", problems);
  const key = readTextFile(envKey, "TLS_KEY_PATH", problems);
  if (cert == null || key == null) return undefined;
  return {
    cert: pemText(cert, "TLS_CERT_PATH", problems) ?? "",
    key: pemText(key, "TLS_KEY_PATH", problems) ?? "",
    source: "env",
  };
};

/**
 * Validates a server configuration: the server fields here, the rest through the core's
 * `parseProxyConfig`. Reads TLS and CA files. Throws the core's `ConfigError` listing every
 * problem (server and proxy) at once.
 * @public
 */
export const resolveServerConfig = (
  input: unknown,
  env: Record<string, string | undefined> = process.env,
): ResolvedServerConfig => {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!isRecord(input))
    throw new ConfigError([`config: must be an object (got ${describe(input)})`]);
  const { server, rest } = splitFields(input, problems);

  const httpPort = parsePort(server.get("httpPort"), "httpPort", problems);
  const httpsPort = parsePort(server.get("httpsPort"), "httpsPort", problems);
  const adminPort = parsePort(server.get("adminPort"), "adminPort", problems);
  if (server.get("httpPort") == null && server.get("httpsPort") == null) {
    problems.push("httpPort/httpsPort: at least one of them is required");
  }
  const fixedPorts = [
    ["httpPort", httpPort],
    ["httpsPort", httpsPort],
    ["adminPort", adminPort],
  ].filter((entry): entry is [string, number] => typeof entry[1] === "number" && entry[1] !== 0);
  for (let i = 0; i < fixedPorts.length; i += 1) {
    for (let j = i + 1; j < fixedPorts.length; j += 1) {
      if (fixedPorts[i]![1] === fixedPorts[j]![1]) {
        problems.push(
          `${fixedPorts[j]![0]}: is the same port as ${fixedPorts[i]![0]} (${fixedPorts[i]![1]})`,
        );
      }
    }
  }

  const bindAddress =
    parseString(server.get("bindAddress"), "bindAddress", problems) ?? SERVER_DEFAULTS.bindAddress;

  let threads: number = SERVER_DEFAULTS.threads;
  const threadsValue = server.get("threads");
  if (threadsValue != null) {
    if (
      typeof threadsValue === "number" &&
      Number.isInteger(threadsValue) &&
      threadsValue >= 1 &&
      threadsValue <= MAX_THREADS
    ) {
      threads = threadsValue;
    } else {
      problems.push(
        `threads: must be an integer between 1 and ${MAX_THREADS} (got ${describe(threadsValue)})`,
      );
    }
  }

  const tls = httpsPort != null ? resolveTls(server, env, problems) : undefined;
  if (tls != null && tls.cert !== "" && tls.key !== "") {
    try {
      createSecureContext({ cert: pemBuffer(tls.cert), key: pemBuffer(tls.key) });
    } catch (error) {
      // OpenSSL's reason ("key values mismatch", "bad base64 decode") holds no key material.
      const reason =
        (error as { reason?: string; code?: string }).reason ??
        (error as { code?: string }).code ??
        "invalid";
      problems.push(`tls: the certificate and key (${tls.source}) cannot be used: ${reason}`);
    }
  }

  const backendCaFile = parseString(server.get("backendCaFile"), "backendCaFile", problems);
  const backendCa =
    backendCaFile != null ? readTextFile(backendCaFile, "backendCaFile", problems) : undefined;
  if (backendCa != null && !backendCa.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push(`backendCaFile: "${backendCaFile}" holds no PEM certificate`);
  }

  // The transport's own minimums, checked here so that every problem is reported at once.
  const backendTimeouts: BackendTimeouts = {};
  for (const [field, option] of BACKEND_TIMEOUT_FIELDS) {
    const value = server.get(field);
    if (value == null) continue;
    const minimum = UNDICI_TIMEOUT_MINIMUMS_MS[option];
    if (typeof value === "number" && Number.isFinite(value) && value >= minimum) {
      backendTimeouts[option] = value;
    } else {
      problems.push(
        `${field}: must be ${minimum === 0 ? "a non-negative number of milliseconds, 0 = no limit" : "a positive number of milliseconds"} (got ${describe(value)})`,
      );
    }
  }

  const logLevelValue = server.get("logLevel") ?? (env.OSP_LOG_LEVEL?.trim() || undefined);
  let logLevel: LogLevel = SERVER_DEFAULTS.logLevel;
  if (logLevelValue != null) {
    if (
      typeof logLevelValue === "string" &&
      (LOG_LEVELS as readonly string[]).includes(logLevelValue.toLowerCase())
    ) {
      logLevel = logLevelValue.toLowerCase() as LogLevel;
    } else {
      const field = server.has("logLevel") ? "logLevel" : "OSP_LOG_LEVEL";
      problems.push(
        `${field}: must be one of ${LOG_LEVELS.join(", ")} (got ${describe(logLevelValue)})`,
      );
    }
  }

  const logDestination = server.get("logDestination");
  if (
    logDestination != null &&
    !(isRecord(logDestination) && typeof logDestination.write === "function")
  ) {
    problems.push(
      `logDestination: must be an object with a write(line) method (got ${describe(logDestination)})`,
    );
  }

  let dotenv: false | string = SERVER_DEFAULTS.dotenv;
  const dotenvValue = server.get("dotenv");
  if (dotenvValue === false) dotenv = false;
  else if (typeof dotenvValue === "string" && dotenvValue.trim() !== "")
    dotenv = dotenvValue.trim();
  else if (dotenvValue != null && dotenvValue !== true) {
    problems.push(`dotenv: must be true, false or a file path (got ${describe(dotenvValue)})`);
  }

  let shutdownTimeoutMs: number = SERVER_DEFAULTS.shutdownTimeoutMs;
  const shutdownValue = server.get("shutdownTimeoutMs");
  if (shutdownValue != null) {
    if (typeof shutdownValue === "number" && Number.isFinite(shutdownValue) && shutdownValue >= 0) {
      shutdownTimeoutMs = shutdownValue;
    } else {
      problems.push(
        `shutdownTimeoutMs: must be a non-negative number of milliseconds (got ${describe(shutdownValue)})`,
      );
    }
  }

  let requestCounting = parseBoolean(server.get("requestCounting"), "requestCounting", problems);
  if (requestCounting == null) {
    const word = env.OSP_ENABLE_REQUEST_COUNTING?.trim().toLowerCase();
    if (word != null && TRUE_WORDS.has(word)) requestCounting = true;
    else if (word != null && !FALSE_WORDS.has(word)) {
      problems.push(
        `OSP_ENABLE_REQUEST_COUNTING: must be true/false, 1/0, yes/no or on/off (got ${describe(word)})`,
      );
    }
  }

  const iamTokenUrl = parseString(server.get("iamTokenUrl"), "iamTokenUrl", problems);
  if (iamTokenUrl != null && !/^https?:\/\/[^/?#\s]+/i.test(iamTokenUrl)) {
    problems.push(`iamTokenUrl: must be an http(s) URL (got ${describe(iamTokenUrl)})`);
  }

  const transport = server.get("transport");
  if (transport != null && !(isRecord(transport) && typeof transport.send === "function")) {
    problems.push(
      `transport: must be an object with a send(request) method (got ${describe(transport)})`,
    );
  }
  const timeoutFieldsSet = BACKEND_TIMEOUT_FIELDS.filter(
    ([, option]) => backendTimeouts[option] !== undefined,
  ).map(([field]) => field);
  if (transport != null && timeoutFieldsSet.length > 0) {
    problems.push(
      `transport: the built-in transport's timeouts (${timeoutFieldsSet.join(", ")}) do not apply to a custom one; set its own instead`,
    );
  }
  if (transport != null && threads > 1) {
    problems.push(
      "transport: a custom transport cannot be sent to worker processes; use threads: 1",
    );
  }

  const handleSignals =
    parseBoolean(server.get("handleSignals"), "handleSignals", problems) ?? true;

  let proxyConfig: ProxyConfig | undefined;
  try {
    proxyConfig = parseProxyConfig(rest, { onWarning: (message) => warnings.push(message) });
  } catch (error) {
    if (error instanceof ConfigError) problems.push(...error.problems);
    else throw error;
  }

  if (problems.length > 0 || proxyConfig == null) throw new ConfigError(problems);

  const settings: ServerSettings = {
    ...(httpPort != null && { httpPort }),
    ...(httpsPort != null && { httpsPort }),
    bindAddress,
    ...(tls != null && { tls }),
    threads,
    ...(backendCaFile != null && { backendCaFile }),
    ...(backendCa != null && { backendCa }),
    backendTimeouts,
    ...(adminPort != null && { adminPort }),
    logLevel,
    ...(logDestination != null && {
      logDestination: logDestination as { write(line: string): void },
    }),
    dotenv,
    shutdownTimeoutMs,
    requestCounting: requestCounting ?? false,
    ...(iamTokenUrl != null && { iamTokenUrl }),
    ...(transport != null && { transport: transport as unknown as Transport }),
    handleSignals,
  };
  return { settings, proxyInput: rest as ProxyConfigInput, proxyConfig, warnings };
};

/** The `dotenv` setting of a raw config, read before anything else (the file may set TLS paths). */
export const dotenvSetting = (input: unknown): false | string => {
  if (!isRecord(input)) return SERVER_DEFAULTS.dotenv;
  const value = input.dotenv;
  if (value === false) return false;
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  return SERVER_DEFAULTS.dotenv;
};
