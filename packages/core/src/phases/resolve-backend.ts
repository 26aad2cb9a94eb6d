// Phase 4, resolve backend: the bucket's backend and the credentials used towards it. Static
// HMAC pair → SigV4 re-signing; static API key → bearer token; otherwise `bucketCredsFetcher`,
// cached per (client access key, bucket) for the bucket's `ttl`, one load shared by concurrent
// requests. Fetched values are never written back into the configuration (predecessor D-6).

import type { AbortSignalLike, CacheStatus, CredsCache } from "@osp/creds-cache";
import type { BucketConfig, ProxyConfig } from "../config.ts";
import type { BackendCredentials } from "../context.ts";
import { callbackFailure, OspError } from "../errors.ts";
import { isPromiseLike, type MaybePromise } from "../maybe.ts";
import { reportCacheStatus, type SafeObserver } from "../observer.ts";

/** What the resolver needs. @public */
export interface BackendResolverOptions {
  readonly config: ProxyConfig;
  readonly cache: CredsCache<BackendCredentials>;
  readonly observer: SafeObserver;
}

/** The resolve-backend phase. @public */
export interface BackendResolver {
  /** The configured bucket, or `NoSuchBucket`. */
  bucket(name: string): BucketConfig;
  /** The credentials towards the bucket's backend for this client; synchronous when cached. */
  credentials(
    accessKeyId: string,
    bucket: BucketConfig,
    signal?: AbortSignalLike,
  ): MaybePromise<BackendCredentials>;
}

const API_KEY = /^[A-Za-z0-9._~+/=-]+$/;

const fetchedCredentialsError = (message: string): OspError =>
  new OspError("InternalError", { source: "proxy", message: `bucketCredsFetcher: ${message}` });

const hmac = (accessKeyId: string, secretAccessKey: string): BackendCredentials => {
  const credentials = { accessKeyId, secretAccessKey };
  // Kept out of JSON.stringify/console.log of the context.
  Object.defineProperty(credentials, "secretAccessKey", { enumerable: false });
  return { kind: "hmac", credentials };
};

/**
 * Interprets a `bucketCredsFetcher` result: an API key, or JSON `{"access_key","secret_key"}`
 * (also `accessKey`/`secretKey`), or `{"api_key"}`/`{"apikey"}`. Text starting with `{` that does
 * not parse, lacks the fields or holds non-string values is an error, never an API key. Error
 * messages never include the value.
 * @public
 */
export const parseFetchedCredentials = (value: unknown): BackendCredentials => {
  if (typeof value !== "string")
    throw fetchedCredentialsError(
      `returned ${value == null ? String(value) : typeof value}, not a string`,
    );
  const text = value.trim();
  if (text === "") throw fetchedCredentialsError("returned an empty string");
  if (!text.startsWith("{")) {
    // API keys are tokens; anything else (an error text, a JSON array) is a mistake, not a key.
    if (!API_KEY.test(text))
      throw fetchedCredentialsError("returned text that is neither JSON nor an API key");
    return { kind: "bearer", apiKey: text };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fetchedCredentialsError("returned malformed JSON");
  }
  if (typeof parsed !== "object" || parsed == null || Array.isArray(parsed)) {
    throw fetchedCredentialsError("returned JSON that is not an object");
  }
  const record = parsed as Record<string, unknown>;
  const accessKey = record["access_key"] ?? record["accessKey"];
  const secretKey = record["secret_key"] ?? record["secretKey"];
  const apiKey = record["api_key"] ?? record["apikey"] ?? record["apiKey"];
  if (accessKey !== undefined || secretKey !== undefined) {
    if (
      typeof accessKey !== "string" ||
      typeof secretKey !== "string" ||
      accessKey === "" ||
      secretKey === ""
    ) {
      throw fetchedCredentialsError("access_key and secret_key must both be non-empty strings");
    }
    return hmac(accessKey, secretKey);
  }
  if (apiKey !== undefined) {
    if (typeof apiKey !== "string" || apiKey.trim() === "")
      throw fetchedCredentialsError("api_key must be a non-empty string");
    return { kind: "bearer", apiKey: apiKey.trim() };
  }
  throw fetchedCredentialsError("JSON has neither access_key/secret_key nor api_key");
};

/** Creates the resolve-backend phase. @public */
export const createBackendResolver = (options: BackendResolverOptions): BackendResolver => {
  const { config, observer } = options;

  const bucket = (name: string): BucketConfig => {
    const found = config.buckets.get(name);
    if (found == null) throw new OspError("NoSuchBucket");
    return found;
  };

  // Built once per bucket: the values never change and are read-only, and defining the hidden
  // secret property on a fresh object for every request showed up in profiles.
  const configured = new WeakMap<BucketConfig["credentials"], BackendCredentials>();
  const staticCredentials = (target: BucketConfig): BackendCredentials | undefined => {
    const source = target.credentials;
    if (source.kind === "fetch") return undefined;
    let built = configured.get(source);
    if (built == null) {
      built =
        source.kind === "hmac"
          ? hmac(source.accessKeyId, source.secretAccessKey)
          : { kind: "bearer", apiKey: source.apiKey };
      configured.set(source, built);
    }
    return built;
  };

  const credentials = (
    accessKeyId: string,
    target: BucketConfig,
    signal?: AbortSignalLike,
  ): MaybePromise<BackendCredentials> => {
    const fixed = staticCredentials(target);
    if (fixed != null) return fixed;
    const fetcher = config.bucketCredsFetcher;
    if (fetcher == null) throw fetchedCredentialsError("not configured");
    const status: CacheStatus = {};
    // read(): cached credentials continue synchronously. Length-prefixed parts stay apart.
    const found = options.cache.read(
      `${accessKeyId.length}:${accessKeyId}${target.name}`,
      async () => parseFetchedCredentials(await fetcher(accessKeyId, target.name)),
      { ttlMs: target.ttlSeconds * 1000, status, ...(signal != null && { signal }) },
    );
    if (!isPromiseLike(found)) {
      reportCacheStatus(observer, "credentials", status);
      return found;
    }
    return found.then(
      (value) => {
        reportCacheStatus(observer, "credentials", status);
        return value;
      },
      (error: unknown) => {
        reportCacheStatus(observer, "credentials", status);
        throw callbackFailure(error, "bucketCredsFetcher failed");
      },
    );
  };

  return { bucket, credentials };
};
