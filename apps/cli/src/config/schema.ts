// The configuration file (osp.config.json / .yaml) as a zod 4 schema: the listener settings of
// @osp/node-server, the proxy settings of @osp/core (camelCase, and the predecessor's snake_case
// spellings), and built-in providers that stand in for the callbacks a file cannot hold.
// config-schema.json (for editors) is generated from it: `node scripts/gen-schema.mjs`.
import { z } from "zod";

const integer = (min: number, max: number) => {
  const error = `must be an integer from ${min} to ${max}`;
  const range = z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
  // "${PORT}" interpolates to a string: digits are accepted as the number they spell.
  return z.union(
    [
      range,
      z
        .string()
        .regex(/^\s*\d+\s*$/, { error })
        .transform(Number)
        .pipe(range),
    ],
    { error },
  );
};

const boolean = () =>
  z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")], {
    error: "must be true or false",
  });

const text = () =>
  z
    .string({ error: "must be a string" })
    .refine((value) => value.trim() !== "", { error: "must not be empty" });

const httpUrl = () =>
  z
    .string({ error: "must be a string" })
    .regex(/^https?:\/\/[^\s/?#]+\S*$/i, { error: "must be an http:// or https:// URL" });

const envName = () =>
  z.string({ error: "must be a string" }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    error: "must be an environment variable name (letters, digits, _)",
  });

const addressingStyle = () => z.enum(["virtual", "path"], { error: 'must be "virtual" or "path"' });
const uploadEncodings = () =>
  z.enum(["all", "signed-chunks"], { error: 'must be "all" or "signed-chunks"' });
const alias = (of: string) => `Alias of ${of} (the predecessor's spelling).`;

/** One backend bucket (a `cosMap` entry). */
export const bucketSchema = z
  .strictObject({
    host: text().describe(
      "Backend host without scheme, bucket or port, e.g. s3.eu-de.cloud-object-storage.appdomain.cloud.",
    ),
    port: integer(1, 65_535).optional().describe("Backend port; default 443 with TLS, 80 without."),
    region: text()
      .optional()
      .describe('Region the backend requests are signed for; default "us-east-1".'),
    tls: boolean().optional().describe("HTTPS to the backend; default true."),
    is_tls_enabled: boolean().optional().describe(alias("tls")),
    addressingStyle: addressingStyle()
      .optional()
      .describe('"virtual" (default: bucket.host) or "path" (host/bucket).'),
    addressing_style: addressingStyle().optional().describe(alias("addressingStyle")),
    backendBucket: text().optional().describe("The bucket's name at the backend when it differs."),
    backend_bucket: text().optional().describe(alias("backendBucket")),
    accessKey: text().optional().describe("Backend HMAC access key id (use ${ENV_VAR})."),
    access_key: text().optional().describe(alias("accessKey")),
    secretKey: text().optional().describe("Backend HMAC secret (use ${ENV_VAR})."),
    secret_key: text().optional().describe(alias("secretKey")),
    apiKey: text()
      .optional()
      .describe("IBM Cloud API key, exchanged for an IAM bearer token (use ${ENV_VAR})."),
    api_key: text().optional().describe(alias("apiKey")),
    apikey: text().optional().describe(alias("apiKey")),
    ttl: integer(0, 2_147_483_647)
      .optional()
      .describe(
        "Seconds authorization decisions and fetched credentials stay cached; default 300.",
      ),
    "time-to-live": integer(0, 2_147_483_647).optional().describe(alias("ttl")),
    uploadEncodings: uploadEncodings()
      .optional()
      .describe(
        'What the backend accepts for uploads: "all" (default) or "signed-chunks" (Ceph RGW 16, older S3).',
      ),
    upload_encodings: uploadEncodings().optional().describe(alias("uploadEncodings")),
    instance: z.union([z.string(), z.number()]).optional().describe("Accepted and ignored."),
  })
  .describe("A backend bucket.");

const clientKeyPair = z.strictObject({
  accessKey: text().optional(),
  secretKey: text().optional(),
  access_key: text().optional(),
  secret_key: text().optional(),
});

/** Client keys without code: a static list and/or the environment lookup of the seed. */
export const clientKeysSchema = z
  .strictObject({
    static: z
      .array(clientKeyPair)
      .optional()
      .describe("Client key pairs ({accessKey, secretKey}); added to hmacKeystore."),
    env: z
      .union(
        [
          z.boolean(),
          z.strictObject({
            prefix: envName().optional().describe("Only variables whose name starts with this."),
          }),
        ],
        {
          error: "must be true, false or {prefix}",
        },
      )
      .optional()
      .describe(
        "Look up secrets in the environment: the variable <NAME>_ACCESS_KEY holding the access key id names <NAME>_SECRET_KEY holding its secret.",
      ),
  })
  .refine((value) => value.static != null || (value.env != null && value.env !== false), {
    error: 'needs "static" or "env"',
  })
  .describe("Where client secrets come from, besides hmacKeystore.");

/** The HTTP webhook validator. */
export const validatorSchema = z
  .strictObject({
    webhook: z
      .strictObject({
        url: httpUrl().describe(
          'POSTed {"token", "bucket", "request"} as JSON; answers {"allow": true|false}.',
        ),
        timeoutMs: integer(1, 600_000)
          .optional()
          .describe("Deny when no answer came within this; default 2000."),
        headers: z
          .record(z.string(), z.string({ error: "must be a string" }))
          .optional()
          .describe("Extra request headers, e.g. Authorization."),
      })
      .describe(
        "Ask an HTTP service. Errors, timeouts and unexpected answers deny (and are logged).",
      ),
  })
  .describe(
    "Who may do what: an HTTP webhook. Without a validator every authenticated request is allowed.",
  );

/** Backend credentials for buckets that have none in cosMap. */
export const bucketCredentialsSchema = z
  .strictObject({
    env: z
      .union(
        [
          z.literal(true),
          z.strictObject({
            accessKeyVar: envName().optional().describe('Default "ACCESS_KEY".'),
            secretKeyVar: envName().optional().describe('Default "SECRET_KEY".'),
          }),
        ],
        { error: "must be true or {accessKeyVar, secretKeyVar}" },
      )
      .optional()
      .describe("An HMAC pair from two environment variables."),
    apiKeyEnv: envName()
      .optional()
      .describe("An IBM Cloud API key from this environment variable, e.g. COS_API_KEY."),
  })
  .refine((value) => (value.env != null) !== (value.apiKeyEnv != null), {
    error: 'needs exactly one of "env" and "apiKeyEnv"',
  })
  .describe(
    "Backend credentials for buckets without their own (the bucketCredsFetcher of a JS config).",
  );

const logLevel = () =>
  z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
    error: "must be one of fatal, error, warn, info, debug, trace, silent",
  });
const port = (what: string) => integer(0, 65_535).optional().describe(what);
const keystore = () => z.array(clientKeyPair).optional();
const cosMap = () =>
  z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, { error: "is not a valid bucket name" }),
    bucketSchema,
  );
const validatorCacheKey = () =>
  z.enum(["bucket", "operation", "object"], { error: 'must be "bucket", "operation" or "object"' });

/** A backend timeout in whole milliseconds, up to an hour; `min` 0 lets 0 mean "no limit". */
const backendMs = (min: 0 | 1) => integer(min, 3_600_000).optional();

/** The whole configuration file. */
export const fileConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path or URL of this JSON Schema (for editors)."),
    // Listeners and process (@osp/node-server).
    httpPort: port(
      "Plain HTTP port; 0 = any free port. At least one of httpPort/httpsPort. Env OSP_HTTP_PORT overrides.",
    ),
    http_port: port(alias("httpPort")),
    httpsPort: port("HTTPS port (HTTP/2 + HTTP/1.1). Env OSP_HTTPS_PORT overrides."),
    https_port: port(alias("httpsPort")),
    bindAddress: text()
      .optional()
      .describe('Listen address; default "0.0.0.0". Env OSP_BIND_ADDRESS overrides.'),
    bind_address: text().optional().describe(alias("bindAddress")),
    tlsCert: text()
      .optional()
      .describe("PEM certificate chain for HTTPS (else tlsCertPath, else env TLS_CERT_PATH)."),
    tls_cert: text().optional().describe(alias("tlsCert")),
    tlsKey: text().optional().describe("PEM private key for HTTPS (use ${ENV_VAR})."),
    tls_key: text().optional().describe(alias("tlsKey")),
    tlsCertPath: text().optional().describe("File of the PEM certificate chain."),
    tls_cert_path: text().optional().describe(alias("tlsCertPath")),
    tlsKeyPath: text().optional().describe("File of the PEM private key."),
    tls_key_path: text().optional().describe(alias("tlsKeyPath")),
    threads: integer(1, 1024)
      .optional()
      .describe("Worker processes; 1 (default) serves in one process. Env OSP_THREADS overrides."),
    backendCaFile: text().optional().describe("PEM file of extra CAs trusted for backend TLS."),
    backend_ca_file: text().optional().describe(alias("backendCaFile")),
    backendConnectTimeoutMs: backendMs(1).describe("Backend TCP + TLS connect; default 10000."),
    backend_connect_timeout_ms: backendMs(1).describe(alias("backendConnectTimeoutMs")),
    backendHeadersTimeoutMs: backendMs(0).describe(
      "From the request sent to the backend's response head; 0 = no limit; default 60000.",
    ),
    backend_headers_timeout_ms: backendMs(0).describe(alias("backendHeadersTimeoutMs")),
    backendBodyTimeoutMs: backendMs(0).describe(
      "Longest silence between two backend response reads; 0 = no limit; default 60000.",
    ),
    backend_body_timeout_ms: backendMs(0).describe(alias("backendBodyTimeoutMs")),
    backendKeepAliveTimeoutMs: backendMs(1).describe(
      "How long an idle backend connection is kept; default 4000.",
    ),
    backend_keep_alive_timeout_ms: backendMs(1).describe(alias("backendKeepAliveTimeoutMs")),
    adminPort: port("Separate listener for /healthz, /readyz, /metrics; default none."),
    admin_port: port(alias("adminPort")),
    logLevel: logLevel().optional().describe('Default "info". Env OSP_LOG_LEVEL overrides.'),
    log_level: logLevel().optional().describe(alias("logLevel")),
    dotenv: z
      .union([z.boolean(), text()], { error: "must be true, false or a file path" })
      .optional()
      .describe("Load a .env file first (never overriding set variables); default true (./.env)."),
    shutdownTimeoutMs: integer(0, 3_600_000)
      .optional()
      .describe("How long shutdown waits for in-flight requests; default 30000."),
    shutdown_timeout_ms: integer(0, 3_600_000).optional().describe(alias("shutdownTimeoutMs")),
    requestCounting: boolean()
      .optional()
      .describe("Start with request counting on. Env OSP_ENABLE_REQUEST_COUNTING overrides."),
    request_counting: boolean().optional().describe(alias("requestCounting")),
    iamTokenUrl: httpUrl()
      .optional()
      .describe("IBM IAM token endpoint; default https://iam.cloud.ibm.com/identity/token."),
    iam_token_url: httpUrl().optional().describe(alias("iamTokenUrl")),
    // The proxy (@osp/core).
    cosMap: cosMap().optional().describe("Bucket name (as clients use it) → backend. Required."),
    cos_map: cosMap().optional().describe(alias("cosMap")),
    hmacKeystore: keystore().describe(
      "Client key pairs [{accessKey, secretKey}] (use ${ENV_VAR} for secrets).",
    ),
    hmac_keystore: keystore().describe(alias("hmacKeystore")),
    skipSignatureValidation: boolean()
      .optional()
      .describe("Development only: accept unsigned and wrongly signed requests. Default false."),
    skip_signature_validation: boolean().optional().describe(alias("skipSignatureValidation")),
    verify: boolean().optional().describe("Verify backend TLS certificates; default true."),
    virtualHostDomains: z
      .array(text())
      .optional()
      .describe("Front virtual-host addressing: bucket.<domain> selects bucket."),
    virtual_host_domains: z.array(text()).optional().describe(alias("virtualHostDomains")),
    regions: z
      .array(text())
      .optional()
      .describe("Regions accepted in client credential scopes; default any."),
    serverName: text().optional().describe('The Server response header; default "OSP".'),
    server_name: text().optional().describe(alias("serverName")),
    secretsCacheTtlMs: integer(0, 2_147_483_647)
      .optional()
      .describe("How long looked-up client secrets stay cached; default 300000."),
    negativeCacheTtlMs: integer(0, 2_147_483_647)
      .optional()
      .describe("How long an unknown access key stays cached as unknown; default 30000."),
    maxSkewMs: integer(0, 2_147_483_647)
      .optional()
      .describe("Accepted clock skew of header-signed requests; default 900000 (15 min)."),
    validatorCacheKey: validatorCacheKey()
      .optional()
      .describe(
        'What an authorization decision is cached by besides key and bucket; default "operation".',
      ),
    validator_cache_key: validatorCacheKey().optional().describe(alias("validatorCacheKey")),
    // Built-in providers (a JS config may give functions instead).
    clientKeys: clientKeysSchema.optional(),
    validator: validatorSchema.optional(),
    bucketCredentials: bucketCredentialsSchema.optional(),
  })
  .describe(
    "OSP configuration file (osp.config.json / osp.config.yaml). String values may use ${ENV_VAR} and ${ENV_VAR:-default}.",
  );

/** A configuration file as written (after `${ENV}` interpolation). */
export type FileConfigInput = z.input<typeof fileConfigSchema>;
/** A configuration file after validation (numbers and booleans from strings converted). */
export type FileConfig = z.output<typeof fileConfigSchema>;

/** The JSON Schema of the configuration file, as shipped in config-schema.json. */
export const configJsonSchema = (): Record<string, unknown> => ({
  ...z.toJSONSchema(fileConfigSchema, { io: "input", target: "draft-7" }),
  title: "OSP configuration",
});
