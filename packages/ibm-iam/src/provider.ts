import { createHash } from "node:crypto";
import { OspError } from "@osp/core";
import type { AbortSignalLike, BearerTokenProvider } from "@osp/core";
import { createCredsCache, withExpiry } from "@osp/creds-cache";
import type { CacheStats, CacheStatus, LoadContext } from "@osp/creds-cache";
import { fromFetchFailure, fromIamStatus, malformedAnswer } from "./map-error.ts";
import { parseTokenAnswer } from "./token-response.ts";

/** IBM Cloud's public IAM token endpoint. @public */
export const IBM_IAM_TOKEN_URL = "https://iam.cloud.ibm.com/identity/token";

/** The OAuth grant type IAM uses to exchange an API key. @public */
export const IBM_IAM_APIKEY_GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey";

/** What one `getToken` call did, for metrics (the core reports it as the `iam` cache). @public */
export interface IamCacheEvent {
  result: "hit" | "negative-hit" | "miss" | "inflight" | "stale";
  /** This hit started a background refresh (refresh-ahead). */
  refreshStarted?: boolean;
}

/** Options of `createIbmIamTokenProvider`. Durations are in milliseconds. @public */
export interface IbmIamTokenProviderOptions {
  /** Token endpoint. Default `https://iam.cloud.ibm.com/identity/token`. */
  tokenUrl?: string;
  /** The `fetch` to use (tests, proxies, custom agents). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Abort one exchange after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Stop serving a token this long before its `expiration`. Default 300 000 ms (5 min). */
  refreshMarginMs?: number;
  /** Most tokens kept (one per distinct API key); least recently used evicted first. Default 1 000. */
  maxEntries?: number;
  /** Called after every `getToken` with what the cache did. Exceptions it throws are ignored. */
  onCacheEvent?: (event: IamCacheEvent) => void;
}

/** A `BearerTokenProvider` for IBM Cloud IAM, with cache control. @public */
export interface IbmIamTokenProvider extends BearerTokenProvider {
  /** Drops the cached token of `apiKey` (e.g. after the backend refused it). */
  invalidate(apiKey: string): void;
  /** Cache counters (hits, misses, loads, refreshes, errors, …). */
  stats(): CacheStats;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_REFRESH_MARGIN_MS = 300_000;
const DEFAULT_MAX_ENTRIES = 1_000;
/** Shortest caching of a token whose expiration is already inside the margin. */
const MIN_CACHE_MS = 10_000;
/** Longest caching whatever IAM announces (its tokens live one hour). */
const MAX_CACHE_MS = 24 * 60 * 60 * 1000;
/** How long before IAM's real expiration a stale token stops being used, even when IAM is down. */
const STALE_SAFETY_MS = 60_000;
/** IAM answers are a few KiB; anything far larger is not a token answer. */
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * The cache key of an API key: a SHA-256 digest, so the raw key is never a map key that a heap
 * dump, a debugger or a stats dump would show. IAM keys carry ~256 bits of entropy, so an
 * unsalted digest does not help guessing them.
 */
const cacheKeyOf = (apiKey: string): string =>
  createHash("sha256").update("osp-ibm-iam\0").update(apiKey).digest("base64url");

const checkNumber = (
  name: string,
  value: number | undefined,
  fallback: number,
  minimum: number,
): number => {
  if (value == null) return fallback;
  if (!Number.isFinite(value) || value < minimum) {
    throw new TypeError(
      `expected options.${name} to be a finite number >= ${minimum}, got ${String(value)}`,
    );
  }
  return value;
};

const checkTokenUrl = (tokenUrl: string): string => {
  let url: URL;
  try {
    url = new URL(tokenUrl);
  } catch {
    throw new TypeError(
      `expected options.tokenUrl to be an absolute URL, got ${JSON.stringify(tokenUrl)}`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(
      `expected options.tokenUrl to be an http(s) URL, got ${JSON.stringify(url.protocol)}`,
    );
  }
  return url.href;
};

/** Reads at most `limitBytes` of a response body as UTF-8; `undefined` when it is larger. */
const readBounded = async (response: Response, limitBytes: number): Promise<string | undefined> => {
  if (response.body == null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString("utf8");
};

/**
 * Creates a token provider that exchanges IBM Cloud API keys for IAM bearer tokens: one `POST`
 * per key, cached until `expiration − refreshMarginMs`, shared by concurrent callers, refreshed
 * in the background before expiry, and re-exchanged on `forceRefresh`. Errors are `OspError`s
 * whose messages never contain the key or the token.
 * @public
 */
export const createIbmIamTokenProvider = (
  options: IbmIamTokenProviderOptions = {},
): IbmIamTokenProvider => {
  const tokenUrl = checkTokenUrl(options.tokenUrl ?? IBM_IAM_TOKEN_URL);
  const now = options.now ?? Date.now;
  const timeoutMs = checkNumber("timeoutMs", options.timeoutMs, DEFAULT_TIMEOUT_MS, 1);
  const refreshMarginMs = checkNumber(
    "refreshMarginMs",
    options.refreshMarginMs,
    DEFAULT_REFRESH_MARGIN_MS,
    0,
  );
  const maxEntries = checkNumber("maxEntries", options.maxEntries, DEFAULT_MAX_ENTRIES, 1);
  const onCacheEvent = options.onCacheEvent;
  const lifetime = { refreshMarginMs, minCacheMs: MIN_CACHE_MS, maxCacheMs: MAX_CACHE_MS };
  // Resolved per call so a test (or an APM agent) replacing globalThis.fetch later is honoured.
  const fetchToken = (input: string, init: RequestInit): Promise<Response> =>
    (options.fetch ?? globalThis.fetch)(input, init);

  const cache = createCredsCache<string>({
    // Every load returns withExpiry(); this default only applies if that ever changes.
    ttlMs: MIN_CACHE_MS,
    maxEntries,
    // During an IAM outage keep using a token we stopped serving but IAM still honours, up to
    // one minute before its real expiration.
    staleIfErrorMs: Math.max(0, refreshMarginMs - STALE_SAFETY_MS),
    now,
  });

  const exchange = async (apiKey: string, context: LoadContext<string>) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let bodyText: string | undefined;
    try {
      response = await fetchToken(tokenUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: new URLSearchParams({
          grant_type: IBM_IAM_APIKEY_GRANT_TYPE,
          apikey: apiKey,
        }).toString(),
        signal: AbortSignal.any([context.signal, timeout]),
        redirect: "error",
      });
      bodyText = await readBounded(response, MAX_ANSWER_BYTES);
    } catch (error) {
      throw fromFetchFailure(error, timeout.aborted, timeoutMs);
    }
    if (response.status < 200 || response.status > 299) {
      throw fromIamStatus(response.status, bodyText ?? "");
    }
    if (bodyText == null) throw malformedAnswer(`larger than ${MAX_ANSWER_BYTES} bytes`);
    const issued = parseTokenAnswer(bodyText, now(), lifetime);
    if (OspError.is(issued)) throw issued;
    return withExpiry(issued.accessToken, { expiresAt: issued.cacheUntilMs });
  };

  const report = (status: CacheStatus): void => {
    if (onCacheEvent == null || status.result == null) return;
    try {
      onCacheEvent(
        status.refreshStarted === true
          ? { result: status.result, refreshStarted: true }
          : { result: status.result },
      );
    } catch {
      // An observer must never break token resolution.
    }
  };

  const getToken = async (
    apiKey: string,
    callOptions: { signal?: AbortSignalLike; forceRefresh?: boolean } = {},
  ): Promise<string> => {
    if (typeof apiKey !== "string" || apiKey.trim() === "") {
      throw new OspError("InternalError", {
        source: "proxy",
        message: "No IBM Cloud API key is configured for this backend",
      });
    }
    const status: CacheStatus = {};
    try {
      return await cache.get(cacheKeyOf(apiKey), (context) => exchange(apiKey, context), {
        ...(callOptions.signal == null ? {} : { signal: callOptions.signal }),
        ...(callOptions.forceRefresh === true ? { forceRefresh: true } : {}),
        status,
      });
    } finally {
      report(status);
    }
  };

  return {
    getToken,
    invalidate: (apiKey: string) => cache.invalidate(cacheKeyOf(apiKey)),
    stats: () => cache.stats(),
  };
};
