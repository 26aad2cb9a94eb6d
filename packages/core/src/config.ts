// Proxy configuration: the TypeScript equivalent of the predecessor's `ProxyServerConfig`, with
// its snake_case spellings accepted, validated once at construction. Every problem names the
// bucket (or top-level field) and the field, and never echoes a secret.

/** What the validator learns about a request. @public */
export interface ValidatorRequest {
  /** HTTP method, upper case. */
  readonly method: string;
  readonly bucket: string;
  /** Decoded object key; absent for bucket-level requests. */
  readonly key?: string;
  /** S3 operation name, e.g. `"GetObject"`, `"UploadPart"`, `"ListObjectsV2"`. */
  readonly operation: string;
  /** Decoded query parameters (the first value of a repeated name; presign parameters removed). */
  readonly query: Readonly<Record<string, string>>;
  /** The client's address, when the listener knows it. */
  readonly remoteAddress?: string;
}

/**
 * Decides whether `token` (the client's access key id, verified unless signature validation is
 * skipped) may perform `request` on `bucket`. May be sync or async; must return a boolean.
 * @public
 */
export type Validator = (
  token: string,
  bucket: string,
  request: ValidatorRequest,
) => boolean | Promise<boolean>;

/** Looks up a client's secret access key; `null`/`undefined` for an unknown key. @public */
export type HmacFetcher = (
  accessKeyId: string,
) => string | null | undefined | Promise<string | null | undefined>;

/**
 * Supplies backend credentials for a bucket that has none in the config: an API key, or a JSON
 * string `{"access_key","secret_key"}` (also `accessKey`/`secretKey`), or `{"api_key"}`/`{"apikey"}`.
 * @public
 */
export type BucketCredsFetcher = (token: string, bucket: string) => string | Promise<string>;

/** One client key pair of the static key store. @public */
export interface HmacKeyInput {
  accessKey?: string;
  secretKey?: string;
  access_key?: string;
  secret_key?: string;
}

/** A `cosMap` entry as written by a user; snake_case spellings accepted. @public */
export interface BucketConfigInput {
  /** Backend host without bucket, scheme or port, e.g. `s3.eu-de.cloud-object-storage.appdomain.cloud`. */
  host: string;
  /** Backend port; default 443 with TLS, 80 without. */
  port?: number | string;
  /** SigV4 region for re-signing; default `"us-east-1"`. */
  region?: string;
  /** Use HTTPS to the backend; default true. */
  tls?: boolean;
  is_tls_enabled?: boolean;
  /** `"virtual"` (default: `bucket.host`) or `"path"` (`host/bucket`). */
  addressingStyle?: "virtual" | "path";
  addressing_style?: "virtual" | "path";
  /** The bucket's name at the backend when it differs from the name clients use. */
  backendBucket?: string;
  backend_bucket?: string;
  accessKey?: string;
  secretKey?: string;
  access_key?: string;
  secret_key?: string;
  apiKey?: string;
  api_key?: string;
  apikey?: string;
  /** Seconds authorization decisions and fetched credentials stay cached; default 300, 0 = never. */
  ttl?: number;
  "time-to-live"?: number;
  /** What the backend accepts for uploads; default `"all"`. */
  uploadEncodings?: UploadEncodings;
  upload_encodings?: UploadEncodings;
  /** Accepted and ignored (the seed's examples carry it). */
  instance?: unknown;
}

/**
 * Upload encodings a backend accepts. `"all"` (AWS S3): every aws-chunked variant including
 * trailers and bodies without a length. `"signed-chunks"` (Ceph RGW 16, older S3 services): no
 * trailer encodings; OSP translates them into signed chunks with a known length.
 * @public
 */
export type UploadEncodings = "all" | "signed-chunks";

/**
 * Which request facts the authorization cache key holds besides access key and bucket:
 * `"bucket"` none, `"operation"` (default) method and operation name, `"object"` method, operation
 * and object key. A validator must decide only on the facts in its cache key (or the bucket's
 * `ttl` must be 0), else a cached decision is reused for a request it was not made for.
 * @public
 */
export type ValidatorCacheKey = "bucket" | "operation" | "object";

/** The configuration as a user writes it; snake_case spellings accepted. @public */
export interface ProxyConfigInput {
  cosMap?: Record<string, BucketConfigInput>;
  cos_map?: Record<string, BucketConfigInput>;
  hmacKeystore?: ReadonlyArray<HmacKeyInput>;
  hmac_keystore?: ReadonlyArray<HmacKeyInput>;
  hmacFetcher?: HmacFetcher | null;
  hmac_fetcher?: HmacFetcher | null;
  validator?: Validator | null;
  bucketCredsFetcher?: BucketCredsFetcher | null;
  bucket_creds_fetcher?: BucketCredsFetcher | null;
  /** Skips client signature verification (development only); strictly boolean, default false. */
  skipSignatureValidation?: boolean;
  skip_signature_validation?: boolean;
  /** Verify backend TLS certificates; default true. */
  verify?: boolean;
  /** Front virtual-host addressing: a request for `bucket.<domain>` addresses `bucket`. */
  virtualHostDomains?: ReadonlyArray<string>;
  virtual_host_domains?: ReadonlyArray<string>;
  /** Regions accepted in client credential scopes; default any. */
  regions?: ReadonlyArray<string>;
  /** `Server` response header; default `"OSP"`. */
  serverName?: string;
  server_name?: string;
  /** How long `hmacFetcher` secrets stay cached; default 300 000 ms. */
  secretsCacheTtlMs?: number;
  /** How long an unknown access key stays cached as unknown; default 30 000 ms. */
  negativeCacheTtlMs?: number;
  /** Accepted clock skew of header-signed requests; default 15 minutes. */
  maxSkewMs?: number;
  validatorCacheKey?: ValidatorCacheKey;
  validator_cache_key?: ValidatorCacheKey;
}

/** Backend credentials of a bucket as configured. @public */
export type BucketCredentialsConfig =
  | { readonly kind: "hmac"; readonly accessKeyId: string; readonly secretAccessKey: string }
  | { readonly kind: "api-key"; readonly apiKey: string }
  | { readonly kind: "fetch" };

/** A normalised `cosMap` entry. @public */
export interface BucketConfig {
  /** The name clients use. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly region: string;
  readonly tls: boolean;
  readonly addressingStyle: "virtual" | "path";
  /** The name at the backend (the alias, or `name`). */
  readonly backendBucket: string;
  readonly credentials: BucketCredentialsConfig;
  readonly ttlSeconds: number;
  readonly uploadEncodings: UploadEncodings;
}

/**
 * The client key store. Secrets are held in a private field so that logging the config
 * (`console.log`, `JSON.stringify`) never prints them.
 * @public
 */
export class HmacKeystore {
  readonly #secrets: Map<string, string>;

  constructor(entries: Iterable<readonly [accessKeyId: string, secretAccessKey: string]> = []) {
    this.#secrets = new Map(entries);
  }

  /** The secret for `accessKeyId`, or `undefined`. */
  lookup(accessKeyId: string): string | undefined {
    return this.#secrets.get(accessKeyId);
  }

  /** Number of keys. */
  get size(): number {
    return this.#secrets.size;
  }

  /** The access key ids (never the secrets). */
  accessKeyIds(): string[] {
    return [...this.#secrets.keys()];
  }

  toJSON(): { size: number } {
    return { size: this.size };
  }
}

/** The validated, normalised configuration. @public */
export interface ProxyConfig {
  readonly buckets: ReadonlyMap<string, BucketConfig>;
  readonly hmacKeystore: HmacKeystore;
  readonly hmacFetcher?: HmacFetcher;
  readonly validator?: Validator;
  readonly bucketCredsFetcher?: BucketCredsFetcher;
  readonly skipSignatureValidation: boolean;
  readonly verifyTls: boolean;
  /** Lower case, without a leading dot. */
  readonly virtualHostDomains: ReadonlyArray<string>;
  /** Accepted client regions; `undefined` = any. */
  readonly regions?: ReadonlyArray<string>;
  readonly serverName: string;
  readonly secretsCacheTtlMs: number;
  readonly negativeCacheTtlMs: number;
  readonly maxSkewMs: number;
  readonly validatorCacheKey: ValidatorCacheKey;
}

/**
 * Thrown by {@link parseProxyConfig} and `createProxy` for an invalid configuration. `problems`
 * lists every problem found, each naming the bucket (or top-level field) and the field.
 * @public
 */
export class ConfigError extends Error {
  readonly code = "InvalidConfig";
  readonly problems: string[];

  constructor(problems: string[]) {
    super(
      `Invalid proxy configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Options of {@link parseProxyConfig}. @public */
export interface ParseProxyConfigOptions {
  /** Receives non-fatal findings (unknown fields, duplicate keys). Never a secret. */
  onWarning?: (message: string) => void;
}

/** Defaults, exported for documentation and tests. @public */
export const CONFIG_DEFAULTS = {
  region: "us-east-1",
  ttlSeconds: 300,
  serverName: "OSP",
  secretsCacheTtlMs: 300_000,
  negativeCacheTtlMs: 30_000,
  maxSkewMs: 15 * 60 * 1000,
  validatorCacheKey: "operation",
  uploadEncodings: "all",
} as const;

const TOP_LEVEL_FIELDS: Record<string, string> = {
  cosMap: "cosMap",
  cos_map: "cosMap",
  hmacKeystore: "hmacKeystore",
  hmac_keystore: "hmacKeystore",
  hmacFetcher: "hmacFetcher",
  hmac_fetcher: "hmacFetcher",
  validator: "validator",
  bucketCredsFetcher: "bucketCredsFetcher",
  bucket_creds_fetcher: "bucketCredsFetcher",
  skipSignatureValidation: "skipSignatureValidation",
  skip_signature_validation: "skipSignatureValidation",
  verify: "verify",
  virtualHostDomains: "virtualHostDomains",
  virtual_host_domains: "virtualHostDomains",
  regions: "regions",
  serverName: "serverName",
  server_name: "serverName",
  secretsCacheTtlMs: "secretsCacheTtlMs",
  negativeCacheTtlMs: "negativeCacheTtlMs",
  maxSkewMs: "maxSkewMs",
  validatorCacheKey: "validatorCacheKey",
  validator_cache_key: "validatorCacheKey",
};

// Listener settings of the predecessor's ProxyServerConfig: they belong to the server app, which
// may hand us the whole object, so they are ignored without a warning.
const SERVER_FIELDS = new Set(["http_port", "https_port", "httpPort", "httpsPort", "threads"]);

const BUCKET_FIELDS: Record<string, string> = {
  host: "host",
  port: "port",
  region: "region",
  tls: "tls",
  is_tls_enabled: "tls",
  addressingStyle: "addressingStyle",
  addressing_style: "addressingStyle",
  backendBucket: "backendBucket",
  backend_bucket: "backendBucket",
  accessKey: "accessKey",
  access_key: "accessKey",
  secretKey: "secretKey",
  secret_key: "secretKey",
  apiKey: "apiKey",
  api_key: "apiKey",
  apikey: "apiKey",
  ttl: "ttl",
  "time-to-live": "ttl",
  uploadEncodings: "uploadEncodings",
  upload_encodings: "uploadEncodings",
  instance: "instance",
};

// Bucket names clients may use: S3's rules plus legacy upper case and underscores; never a
// character that could change the meaning of a host name or path.
const BUCKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const HOST_NAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value != null && !Array.isArray(value);

const describe = (value: unknown): string => {
  if (value == null) return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return `a ${typeof value}`;
};

/** Reads aliased fields: returns the canonical name → value, reporting conflicting duplicates. */
const readAliased = (
  source: Record<string, unknown>,
  aliases: Record<string, string>,
  where: (field: string) => string,
  problems: string[],
  unknown: (key: string) => void,
): Map<string, unknown> => {
  const values = new Map<string, unknown>();
  const spelledAs = new Map<string, string>();
  for (const [key, value] of Object.entries(source)) {
    const canonical = aliases[key];
    if (canonical == null) {
      unknown(key);
      continue;
    }
    if (value === undefined) continue;
    const earlier = spelledAs.get(canonical);
    if (earlier != null && values.get(canonical) !== value) {
      problems.push(
        `${where(canonical)}: given twice with different values (as "${earlier}" and "${key}")`,
      );
      continue;
    }
    spelledAs.set(canonical, key);
    values.set(canonical, value);
  }
  return values;
};

const nonNegativeInteger = (
  value: unknown,
  where: string,
  problems: string[],
  fallback: number,
): number => {
  if (value === undefined) return fallback;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  problems.push(`${where}: must be a non-negative integer (got ${describe(value)})`);
  return fallback;
};

const strictBoolean = (
  value: unknown,
  where: string,
  problems: string[],
  fallback: boolean,
): boolean => {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  problems.push(`${where}: must be true or false (got ${describe(value)})`);
  return fallback;
};

const optionalFunction = <F>(value: unknown, where: string, problems: string[]): F | undefined => {
  if (value == null) return undefined;
  if (typeof value === "function") return value as F;
  problems.push(`${where}: must be a function (got ${describe(value)})`);
  return undefined;
};

const nonEmptyString = (
  value: unknown,
  where: string,
  problems: string[],
  options: { secret?: boolean } = {},
): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === "string" && value.trim() !== "") return value;
  // Never echo a secret-bearing field's value, only its type.
  const shown = options.secret && typeof value === "string" ? "an empty string" : describe(value);
  problems.push(`${where}: must be a non-empty string (got ${shown})`);
  return undefined;
};

const stringList = (value: unknown, where: string, problems: string[]): string[] | undefined => {
  if (value === undefined) return undefined;
  if (
    Array.isArray(value) &&
    value.every((item) => typeof item === "string" && item.trim() !== "")
  ) {
    return value as string[];
  }
  problems.push(`${where}: must be a list of non-empty strings (got ${describe(value)})`);
  return undefined;
};

const parsePort = (value: unknown, where: string, problems: string[]): number | undefined => {
  if (value === undefined) return undefined;
  const port = typeof value === "string" && /^\d{1,5}$/.test(value) ? Number(value) : value;
  if (typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65_535)
    return port;
  problems.push(`${where}: must be an integer between 1 and 65535 (got ${describe(value)})`);
  return undefined;
};

const parseBucket = (
  name: string,
  input: unknown,
  problems: string[],
  warn: (message: string) => void,
  hasCredsFetcher: boolean,
): BucketConfig | undefined => {
  const where = (field: string) => `cosMap["${name}"].${field}`;
  if (!BUCKET_NAME.test(name)) {
    problems.push(
      `cosMap["${name}"]: bucket name must be 1-255 letters, digits, ".", "-" or "_", starting with a letter or digit`,
    );
  }
  if (!isRecord(input)) {
    problems.push(
      `cosMap["${name}"]: must be an object with at least "host" (got ${describe(input)})`,
    );
    return undefined;
  }
  const before = problems.length;
  const fields = readAliased(input, BUCKET_FIELDS, where, problems, (key) =>
    warn(`${where(key)}: unknown field, ignored`),
  );
  for (const [field, value] of fields) {
    if (value == null && field !== "instance") {
      // Typical of `os.getenv(...)` of an unset variable: say so rather than crash later.
      problems.push(`${where(field)}: is null (an unset environment variable?)`);
      fields.delete(field);
    }
  }

  let host = nonEmptyString(fields.get("host"), where("host"), problems);
  if (fields.get("host") === undefined) problems.push(`${where("host")}: is required`);
  if (host != null) {
    host = host.trim();
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) || host.includes("/")) {
      problems.push(
        `${where("host")}: must be a host name without scheme or path (got ${describe(host)})`,
      );
    } else if (!HOST_NAME.test(host) && !IPV6_LITERAL.test(host)) {
      const hint = /:\d+$/.test(host) ? ' (put the port in "port")' : "";
      problems.push(`${where("host")}: is not a valid host name${hint} (got ${describe(host)})`);
    }
  }
  const tls = strictBoolean(fields.get("tls"), where("tls"), problems, true);
  const port = parsePort(fields.get("port"), where("port"), problems) ?? (tls ? 443 : 80);
  const region =
    nonEmptyString(fields.get("region"), where("region"), problems) ?? CONFIG_DEFAULTS.region;

  const addressingValue = fields.get("addressingStyle");
  let addressingStyle: "virtual" | "path" = "virtual";
  if (addressingValue !== undefined) {
    if (addressingValue === "virtual" || addressingValue === "path")
      addressingStyle = addressingValue;
    else
      problems.push(
        `${where("addressingStyle")}: must be "virtual" or "path" (got ${describe(addressingValue)})`,
      );
  }

  const backendBucket =
    nonEmptyString(fields.get("backendBucket"), where("backendBucket"), problems) ?? name;
  if (!BUCKET_NAME.test(backendBucket)) {
    problems.push(
      `${where("backendBucket")}: is not a valid bucket name (got ${describe(backendBucket)})`,
    );
  }
  if (addressingStyle === "virtual" && !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(backendBucket)) {
    problems.push(
      `${where("addressingStyle")}: "virtual" needs a bucket name usable in a host name ("${backendBucket}"); use "path"`,
    );
  }

  const accessKey = nonEmptyString(fields.get("accessKey"), where("accessKey"), problems, {
    secret: true,
  });
  const secretKey = nonEmptyString(fields.get("secretKey"), where("secretKey"), problems, {
    secret: true,
  });
  const apiKey = nonEmptyString(fields.get("apiKey"), where("apiKey"), problems, { secret: true });
  let credentials: BucketCredentialsConfig = { kind: "fetch" };
  if (fields.has("accessKey") !== fields.has("secretKey")) {
    const missing = fields.has("accessKey") ? "secretKey" : "accessKey";
    problems.push(
      `${where(missing)}: is required when ${missing === "secretKey" ? "accessKey" : "secretKey"} is given`,
    );
  } else if (accessKey != null && secretKey != null) {
    credentials = hmacCredentials(accessKey, secretKey);
    if (apiKey != null) warn(`${where("apiKey")}: ignored because accessKey/secretKey are given`);
  } else if (apiKey != null) {
    credentials = { kind: "api-key", apiKey };
    Object.defineProperty(credentials, "apiKey", { enumerable: false });
  } else if (!hasCredsFetcher && !fields.has("accessKey") && !fields.has("apiKey")) {
    problems.push(
      `cosMap["${name}"]: has no credentials (accessKey/secretKey or apiKey) and no bucketCredsFetcher is configured`,
    );
  }

  const ttlSeconds = nonNegativeInteger(
    fields.get("ttl"),
    where("ttl"),
    problems,
    CONFIG_DEFAULTS.ttlSeconds,
  );

  const encodingsValue = fields.get("uploadEncodings");
  let uploadEncodings: UploadEncodings = CONFIG_DEFAULTS.uploadEncodings;
  if (encodingsValue !== undefined) {
    if (encodingsValue === "all" || encodingsValue === "signed-chunks")
      uploadEncodings = encodingsValue;
    else
      problems.push(
        `${where("uploadEncodings")}: must be "all" or "signed-chunks" (got ${describe(encodingsValue)})`,
      );
  }

  if (problems.length > before || host == null) return undefined;
  return {
    name,
    host,
    port,
    region,
    tls,
    addressingStyle,
    backendBucket,
    credentials,
    ttlSeconds,
    uploadEncodings,
  };
};

/** HMAC credentials whose secret does not show up in `JSON.stringify` or `console.log`. */
const hmacCredentials = (accessKeyId: string, secretAccessKey: string): BucketCredentialsConfig => {
  const credentials = { kind: "hmac" as const, accessKeyId, secretAccessKey };
  Object.defineProperty(credentials, "secretAccessKey", { enumerable: false });
  return credentials;
};

const parseKeystore = (
  value: unknown,
  problems: string[],
  warn: (message: string) => void,
): HmacKeystore => {
  if (value == null) return new HmacKeystore();
  if (!Array.isArray(value)) {
    problems.push(
      `hmacKeystore: must be a list of {accessKey, secretKey} (got ${describe(value)})`,
    );
    return new HmacKeystore();
  }
  const entries = new Map<string, string>();
  value.forEach((item: unknown, index) => {
    const where = (field: string) => `hmacKeystore[${index}].${field}`;
    if (!isRecord(item)) {
      problems.push(
        `hmacKeystore[${index}]: must be an object {accessKey, secretKey} (got ${describe(item)})`,
      );
      return;
    }
    const fields = readAliased(
      item,
      {
        accessKey: "accessKey",
        access_key: "accessKey",
        secretKey: "secretKey",
        secret_key: "secretKey",
      },
      where,
      problems,
      (key) => warn(`${where(key)}: unknown field, ignored`),
    );
    const accessKey = nonEmptyString(fields.get("accessKey") ?? null, where("accessKey"), problems);
    const secretKey = nonEmptyString(
      fields.get("secretKey") ?? null,
      where("secretKey"),
      problems,
      { secret: true },
    );
    if (accessKey == null || secretKey == null) return;
    if (entries.has(accessKey)) {
      problems.push(`${where("accessKey")}: duplicate access key "${accessKey}"`);
      return;
    }
    entries.set(accessKey, secretKey);
  });
  return new HmacKeystore(entries);
};

/**
 * Validates and normalises a proxy configuration. Accepts camelCase and the predecessor's
 * snake_case spellings. Throws {@link ConfigError} listing every problem; never echoes a secret.
 * @public
 */
export const parseProxyConfig = (
  input: unknown,
  options: ParseProxyConfigOptions = {},
): ProxyConfig => {
  const problems: string[] = [];
  const warn = (message: string) => options.onWarning?.(message);
  if (!isRecord(input))
    throw new ConfigError([`config: must be an object (got ${describe(input)})`]);

  const fields = readAliased(
    input,
    TOP_LEVEL_FIELDS,
    (field) => field,
    problems,
    (key) => {
      if (!SERVER_FIELDS.has(key)) warn(`${key}: unknown field, ignored`);
    },
  );

  const hmacFetcher = optionalFunction<HmacFetcher>(
    fields.get("hmacFetcher"),
    "hmacFetcher",
    problems,
  );
  const validator = optionalFunction<Validator>(fields.get("validator"), "validator", problems);
  const bucketCredsFetcher = optionalFunction<BucketCredsFetcher>(
    fields.get("bucketCredsFetcher"),
    "bucketCredsFetcher",
    problems,
  );
  const hmacKeystore = parseKeystore(fields.get("hmacKeystore"), problems, warn);

  const buckets = new Map<string, BucketConfig>();
  const cosMap = fields.get("cosMap");
  if (cosMap === undefined) {
    problems.push("cosMap: is required (bucket name → backend)");
  } else if (!isRecord(cosMap) && !(cosMap instanceof Map)) {
    problems.push(`cosMap: must be an object of bucket name → backend (got ${describe(cosMap)})`);
  } else {
    const entries =
      cosMap instanceof Map ? [...(cosMap as Map<unknown, unknown>)] : Object.entries(cosMap);
    for (const [name, entry] of entries) {
      if (typeof name !== "string") {
        problems.push(`cosMap: bucket names must be strings (got ${describe(name)})`);
        continue;
      }
      const bucket = parseBucket(name, entry, problems, warn, bucketCredsFetcher != null);
      if (bucket != null) buckets.set(name, bucket);
    }
  }

  const skipSignatureValidation = strictBoolean(
    fields.get("skipSignatureValidation"),
    "skipSignatureValidation",
    problems,
    false,
  );
  const verifyTls = strictBoolean(fields.get("verify"), "verify", problems, true);

  const domains =
    stringList(fields.get("virtualHostDomains"), "virtualHostDomains", problems) ?? [];
  const virtualHostDomains = domains.map((domain) =>
    domain.trim().toLowerCase().replace(/^\./, ""),
  );
  for (const domain of virtualHostDomains) {
    if (!HOST_NAME.test(domain))
      problems.push(`virtualHostDomains: "${domain}" is not a valid domain name`);
  }
  const regions = stringList(fields.get("regions"), "regions", problems);
  const serverName =
    nonEmptyString(fields.get("serverName"), "serverName", problems) ?? CONFIG_DEFAULTS.serverName;
  if (/[\r\n]/.test(serverName)) problems.push("serverName: must not contain line breaks");

  const secretsCacheTtlMs = nonNegativeInteger(
    fields.get("secretsCacheTtlMs"),
    "secretsCacheTtlMs",
    problems,
    CONFIG_DEFAULTS.secretsCacheTtlMs,
  );
  const negativeCacheTtlMs = nonNegativeInteger(
    fields.get("negativeCacheTtlMs"),
    "negativeCacheTtlMs",
    problems,
    CONFIG_DEFAULTS.negativeCacheTtlMs,
  );
  const maxSkewMs = nonNegativeInteger(
    fields.get("maxSkewMs"),
    "maxSkewMs",
    problems,
    CONFIG_DEFAULTS.maxSkewMs,
  );

  const cacheKeyValue = fields.get("validatorCacheKey");
  let validatorCacheKey: ValidatorCacheKey = CONFIG_DEFAULTS.validatorCacheKey;
  if (cacheKeyValue !== undefined) {
    if (cacheKeyValue === "bucket" || cacheKeyValue === "operation" || cacheKeyValue === "object") {
      validatorCacheKey = cacheKeyValue;
    } else {
      problems.push(
        `validatorCacheKey: must be "bucket", "operation" or "object" (got ${describe(cacheKeyValue)})`,
      );
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);

  if (!skipSignatureValidation && hmacKeystore.size === 0 && hmacFetcher == null) {
    warn(
      "no hmacKeystore and no hmacFetcher: every signed request will fail with InvalidAccessKeyId",
    );
  }

  return {
    buckets,
    hmacKeystore,
    ...(hmacFetcher != null && { hmacFetcher }),
    ...(validator != null && { validator }),
    ...(bucketCredsFetcher != null && { bucketCredsFetcher }),
    skipSignatureValidation,
    verifyTls,
    virtualHostDomains,
    ...(regions != null && { regions }),
    serverName,
    secretsCacheTtlMs,
    negativeCacheTtlMs,
    maxSkewMs,
    validatorCacheKey,
  };
};
