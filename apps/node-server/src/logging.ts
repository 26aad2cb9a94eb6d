// JSON logs (pino). Secrets stay out by construction: log lines are built from chosen fields,
// never from whole header maps or raw query strings; query values that authenticate a request
// (signature, credential, security token) are replaced. Fields that come from elsewhere (the
// core's warnings) go through `redactFields` first. pino's own `redact` option is not used: it
// costs a few percent of a small request, on every line.
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from "pino";

/** Log levels, most to least severe, plus `silent`. @public */
export type LogLevel = LevelWithSilent;

/** The levels accepted by `logLevel`. @public */
export const LOG_LEVELS: readonly LogLevel[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];

const REDACTED = "REDACTED";

// Field names (lower case, "-" and "_" removed) that must never be printed.
const SECRET_FIELDS = new Set([
  "authorization",
  "secretkey",
  "secretaccesskey",
  "sessiontoken",
  "securitytoken",
  "xamzsecuritytoken",
  "apikey",
  "token",
  "accesstoken",
  "bearertoken",
  "password",
  "signature",
  "xamzsignature",
  "signingkey",
]);
const normaliseName = (name: string): string => name.toLowerCase().replace(/[-_]/g, "");
// Values that are recognisably credentials whatever their field is called.
const SECRET_VALUE = /AWS4-HMAC-SHA256\s+Credential=|Signature=[0-9a-f]{16}|^Bearer\s/i;

/**
 * A copy of `fields` safe to log: values of secret-named fields (authorization, secretKey,
 * apiKey, token, signature, …, at any depth up to 4) and credential-looking strings are
 * replaced by `REDACTED`. @public
 */
export const redactFields = (
  fields: Record<string, unknown>,
  depth = 0,
): Record<string, unknown> => {
  const safe: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (SECRET_FIELDS.has(normaliseName(name))) safe[name] = REDACTED;
    else if (typeof value === "string") safe[name] = SECRET_VALUE.test(value) ? REDACTED : value;
    else if (typeof value === "object" && value != null && !Array.isArray(value)) {
      safe[name] =
        depth >= 3 ? REDACTED : redactFields(value as Record<string, unknown>, depth + 1);
    } else safe[name] = value;
  }
  return safe;
};

// Query parameters whose values authenticate a request (SigV4 presigned, SigV2 presigned).
const SECRET_QUERY_NAMES = new Set([
  "x-amz-signature",
  "x-amz-credential",
  "x-amz-security-token",
  "signature",
  "awsaccesskeyid",
  "x-amz-s3session-token",
]);

const decodeName = (name: string): string => {
  try {
    return decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    return name;
  }
};

/**
 * The raw query with the values of authenticating parameters (`X-Amz-Signature`,
 * `X-Amz-Credential`, `X-Amz-Security-Token`, SigV2 `Signature`/`AWSAccessKeyId`) replaced by
 * `REDACTED`. Safe to log.
 * @public
 */
export const redactQuery = (rawQuery: string): string => {
  if (rawQuery === "") return rawQuery;
  return rawQuery
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals < 0 ? pair : pair.slice(0, equals);
      return SECRET_QUERY_NAMES.has(decodeName(name).toLowerCase()) ? `${name}=${REDACTED}` : pair;
    })
    .join("&");
};

/** Options of {@link createLogger}. @public */
export interface LoggerOptions {
  level: LogLevel;
  /** Receives each JSON line; default: stdout. */
  destination?: { write(line: string): void };
}

let lastTimeMs = Number.NaN;
let lastTime = "";
let lastSecond = Number.NaN;
/** `,"time":"2026-11-29T06:00:00.` for the second being logged. */
let secondPrefix = "";
const MS_DIGITS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, "0"));

/**
 * pino's `isoTime`, formatted once per millisecond from a prefix made once per second: at
 * thousands of lines per second `toISOString` was a visible part of each line's cost.
 */
const isoTime = (): string => {
  const nowMs = Date.now();
  if (nowMs !== lastTimeMs) {
    lastTimeMs = nowMs;
    const second = Math.floor(nowMs / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      secondPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
    }
    lastTime = `${secondPrefix}${MS_DIGITS[nowMs - second * 1000]}Z"`;
  }
  return lastTime;
};

/**
 * The root logger of a server. stdout is written synchronously, as pino does by default: an
 * asynchronous write is a thread-pool round trip that cost more CPU than the line it carried,
 * and it buffers without bound when the reader falls behind. Access lines, the only frequent
 * ones, are gathered into batches (see {@link createInfoLineWriter}).
 * @public
 */
export const createLogger = ({ level, destination }: LoggerOptions): Logger<never> =>
  pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (destination as DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true }),
  );

/** A field value of a hand-built line: strings are JSON-quoted, `undefined` leaves the field out. */
export type LineValue = string | number | boolean | undefined;

// Characters that JSON must escape (and lone surrogates, which JSON.stringify repairs).
// oxlint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON value for a hand-built line: strings quoted (and escaped only when they need it). @internal */
export const jsonValue = (value: string | number | boolean): string =>
  typeof value !== "string"
    ? String(value)
    : NEEDS_ESCAPE.test(value)
      ? JSON.stringify(value)
      : `"${value}"`;

/** `,"name":value` for a hand-built line; `""` when the value is `undefined` (field left out). @internal */
export const jsonField = (name: string, value: LineValue): string =>
  value === undefined ? "" : `,"${name}":${jsonValue(value)}`;

/** Writes hand-built info lines; see {@link createInfoLineWriter}. @internal */
export interface InfoLineWriter {
  /** Whether lines are written at all (the logger is at info or below): build them only then. */
  enabled(): boolean;
  write(renderedFields: string, message: string): void;
  /** Sends lines gathered for a batch now (before the server closes). */
  flush(): void;
}

/** Options of {@link createInfoLineWriter}. @internal */
export interface InfoLineWriterOptions {
  /**
   * Gather lines and send them in batches of about 16 KiB, or after {@link BATCH_DELAY_MS}: for
   * the default stdout destination, one write system call per batch instead of per request. A
   * custom destination receives each line as it is written.
   */
  batch?: boolean;
}

const BATCH_BYTES = 16 * 1024;
/** Longest a gathered line waits when traffic is too light to fill a batch. */
export const BATCH_DELAY_MS = 100;

/**
 * Writes info lines with the same shape as `logger.child(bindings).info(fields, message)`
 * (level, time, pid, bindings, fields, msg), from fields already rendered by {@link jsonField}:
 * the access line goes out once per request, and pino's generic serialiser cost several
 * microseconds of each small request. Writes nothing while `logger` is above info.
 * @internal
 */
export const createInfoLineWriter = (
  logger: Logger<never>,
  bindings: Record<string, string>,
  options: InfoLineWriterOptions = {},
): InfoLineWriter => {
  const stream = (logger as unknown as Record<symbol, { write(line: string): void }>)[
    pino.symbols.streamSym
  ]!;
  let prefix = `,"pid":${process.pid}`;
  for (const [name, value] of Object.entries(bindings)) prefix += jsonField(name, value);
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    if (timer != null) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const batch = pending;
    pending = "";
    stream.write(batch);
  };
  const enabled = (): boolean => logger.isLevelEnabled("info");
  return {
    enabled,
    write(renderedFields, message) {
      if (!enabled()) return;
      const line = `{"level":"info"${isoTime()}${prefix}${renderedFields},"msg":${jsonValue(message)}}\n`;
      if (options.batch !== true) {
        stream.write(line);
        return;
      }
      pending += line;
      if (pending.length >= BATCH_BYTES) flush();
      else if (timer == null) {
        timer = setTimeout(flush, BATCH_DELAY_MS);
        timer.unref();
      }
    },
    flush,
  };
};

/** Flushes a logger writing to stdout asynchronously (no-op for custom destinations). @public */
export const flushLogger = (logger: Logger<never>): Promise<void> =>
  new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
