// Environment variables that override the configuration, whatever its format: the deployment
// (a container, a systemd unit) decides ports and verbosity without editing the file.
import { describeValue } from "./path.ts";

interface Override {
  readonly variable: string;
  readonly field: string;
  readonly aliases: readonly string[];
  readonly parse: (text: string) => unknown;
  readonly expected: string;
}

const integerIn = (min: number, max: number) => (text: string) => {
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
};
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

/** The variables, the field each sets, and its accepted values. */
export const ENV_OVERRIDES: readonly Override[] = [
  {
    variable: "OSP_HTTP_PORT",
    field: "httpPort",
    aliases: ["http_port"],
    parse: integerIn(0, 65_535),
    expected: "an integer from 0 to 65535",
  },
  {
    variable: "OSP_HTTPS_PORT",
    field: "httpsPort",
    aliases: ["https_port"],
    parse: integerIn(0, 65_535),
    expected: "an integer from 0 to 65535",
  },
  {
    variable: "OSP_BIND_ADDRESS",
    field: "bindAddress",
    aliases: ["bind_address"],
    parse: (text) => text,
    expected: "an address",
  },
  {
    variable: "OSP_THREADS",
    field: "threads",
    aliases: [],
    parse: integerIn(1, 1024),
    expected: "an integer from 1 to 1024",
  },
  {
    variable: "OSP_LOG_LEVEL",
    field: "logLevel",
    aliases: ["log_level"],
    parse: (text) => (LOG_LEVELS.includes(text.toLowerCase()) ? text.toLowerCase() : undefined),
    expected: `one of ${LOG_LEVELS.join(", ")}`,
  },
  {
    variable: "OSP_ENABLE_REQUEST_COUNTING",
    field: "requestCounting",
    aliases: ["request_counting"],
    parse: (text) =>
      TRUE_WORDS.has(text.toLowerCase())
        ? true
        : FALSE_WORDS.has(text.toLowerCase())
          ? false
          : undefined,
    expected: "true/false, 1/0, yes/no or on/off",
  },
];

/** The config with overrides applied, the variables that applied, and one message per bad value. */
export interface Overridden {
  readonly config: Record<string, unknown>;
  readonly applied: string[];
  readonly problems: string[];
}

/** Applies the `OSP_*` variables set (and non-empty) in `env` over `config`. */
export const applyEnvOverrides = (
  config: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): Overridden => {
  const out: Record<string, unknown> = { ...config };
  const applied: string[] = [];
  const problems: string[] = [];
  for (const override of ENV_OVERRIDES) {
    const raw = env[override.variable]?.trim();
    if (raw == null || raw === "") continue;
    const value = override.parse(raw);
    if (value === undefined) {
      problems.push(
        `${override.variable}: must be ${override.expected} (got ${describeValue(raw)})`,
      );
      continue;
    }
    for (const aliasName of override.aliases) delete out[aliasName];
    out[override.field] = value;
    applied.push(override.variable);
  }
  return { config: out, applied, problems };
};
