// The built-in providers a JSON/YAML config uses instead of callbacks: client secrets from the
// environment (the seed's lookup_secret_key), an HTTP webhook validator, and backend credentials
// from environment variables (the seed's do_hmac_creds / do_api_creds).
import type { BucketCredsFetcher, HmacFetcher, Validator, ValidatorRequest } from "@osp/core";

/** Reads the environment at call time (so a rotated variable is seen without a restart). */
export type EnvSource = () => Readonly<Record<string, string | undefined>>;

/** Receives one structured warning; never a secret. */
export type ProviderLog = (message: string, fields: Record<string, unknown>) => void;

const ACCESS_SUFFIX = "ACCESS_KEY";
const SECRET_SUFFIX = "SECRET_KEY";

/**
 * The seed's `lookup_secret_key`: the variable whose name ends in `ACCESS_KEY` and whose value
 * is the access key id names its secret, `<NAME>_SECRET_KEY`. With `prefix`, only variables
 * starting with it are considered (so backend keys in the same environment never authenticate
 * clients).
 */
export const envSecretLookup = (env: EnvSource, options: { prefix?: string } = {}): HmacFetcher => {
  const prefix = options.prefix ?? "";
  return (accessKeyId) => {
    if (accessKeyId === "") return undefined;
    const variables = env();
    for (const [name, value] of Object.entries(variables)) {
      if (value !== accessKeyId || !name.endsWith(ACCESS_SUFFIX) || !name.startsWith(prefix))
        continue;
      const secret = variables[name.slice(0, -ACCESS_SUFFIX.length) + SECRET_SUFFIX];
      if (secret != null && secret !== "") return secret;
    }
    return undefined;
  };
};

/** Options of {@link webhookValidator}. */
export interface WebhookOptions {
  readonly url: string;
  /** Default 2000. */
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** The deadline of one call; default `AbortSignal.timeout(timeoutMs)` (tests abort by hand). */
  readonly deadline?: (timeoutMs: number) => AbortSignal;
  readonly log: ProviderLog;
}

/** Default time a webhook has to answer. */
export const WEBHOOK_DEFAULT_TIMEOUT_MS = 2000;
// A decision is a few bytes; a huge answer is not one.
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A validator that POSTs `{"token", "bucket", "request"}` as JSON to `url` and allows exactly
 * when the answer is a 2xx with the JSON body `{"allow": true}`. Anything else (an error, a
 * timeout, another status, another body) denies and is logged: failing closed.
 */
export const webhookValidator = (options: WebhookOptions): Validator => {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_DEFAULT_TIMEOUT_MS;
  const url = options.url;
  const deadline = options.deadline ?? ((ms: number) => AbortSignal.timeout(ms));
  return async (token: string, bucket: string, request: ValidatorRequest): Promise<boolean> => {
    const deny = (reason: string): false => {
      options.log("validator webhook failed: request denied", {
        url,
        reason,
        bucket,
        accessKeyId: token,
        operation: request.operation,
      });
      return false;
    };
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          ...options.headers,
        },
        body: JSON.stringify({ token, bucket, request }),
        signal: deadline(timeoutMs),
        redirect: "error",
      });
    } catch (error) {
      const name = (error as Error)?.name;
      return deny(
        name === "TimeoutError"
          ? `no answer within ${timeoutMs} ms`
          : `request failed: ${(error as Error)?.message ?? String(error)}`,
      );
    }
    try {
      if (!response.ok) {
        await response.body?.cancel();
        return deny(`HTTP ${response.status}`);
      }
      const body = await response.text();
      if (body.length > MAX_ANSWER_BYTES) return deny("answer too large");
      let answer: unknown;
      try {
        answer = JSON.parse(body);
      } catch {
        return deny("answer is not JSON");
      }
      const allow = (answer as { allow?: unknown } | null)?.allow;
      if (typeof allow !== "boolean") return deny('answer has no boolean "allow"');
      return allow;
    } catch (error) {
      return deny(`reading the answer failed: ${(error as Error)?.message ?? String(error)}`);
    }
  };
};

/** Default variable names of {@link envBucketCredentials}, as in the seed. */
export const DEFAULT_ACCESS_KEY_VAR = "ACCESS_KEY";
/** @see DEFAULT_ACCESS_KEY_VAR */
export const DEFAULT_SECRET_KEY_VAR = "SECRET_KEY";

/** The seed's `do_hmac_creds`: the same HMAC pair from two variables for every bucket. */
export const envBucketCredentials = (
  env: EnvSource,
  options: { accessKeyVar?: string; secretKeyVar?: string } = {},
): BucketCredsFetcher => {
  const accessKeyVar = options.accessKeyVar ?? DEFAULT_ACCESS_KEY_VAR;
  const secretKeyVar = options.secretKeyVar ?? DEFAULT_SECRET_KEY_VAR;
  return () => {
    const variables = env();
    const accessKey = variables[accessKeyVar];
    const secretKey = variables[secretKeyVar];
    if (!accessKey || !secretKey)
      throw new Error(`${accessKeyVar} or ${secretKeyVar} environment variable not set`);
    return JSON.stringify({ access_key: accessKey, secret_key: secretKey });
  };
};

/** The seed's `do_api_creds`: an IBM Cloud API key from one variable for every bucket. */
export const apiKeyEnvCredentials =
  (env: EnvSource, variable: string): BucketCredsFetcher =>
  () => {
    const apiKey = env()[variable];
    if (!apiKey) throw new Error(`${variable} environment variable not set`);
    return apiKey;
  };
