import type { CacheEntry } from "./entry.ts";

/**
 * Options of {@link createCredsCache}. Every duration is in milliseconds; `expiresAt` values are
 * epoch milliseconds on the same clock as {@link CredsCacheOptions.now}.
 * @public
 */
export interface CredsCacheOptions<V> {
  /**
   * Default lifetime of a loaded value. `0` disables caching while concurrent callers still share
   * one load; `Infinity` keeps a value until it is evicted or invalidated.
   */
  ttlMs: number;
  /**
   * Fraction of a value's lifetime after which a hit still returns the cached value but starts one
   * background refresh. Default `0.8`; `>= 1` disables refresh-ahead.
   */
  refreshAheadRatio?: number;
  /** Most values kept; the least recently used goes first. Default `10_000`. */
  maxEntries?: number;
  /** How long a negative result (see {@link CredsCacheOptions.isNegative}) is cached. Default `0`. */
  negativeTtlMs?: number;
  /** Whether a loaded value means "not found". Default: `value === undefined || value === null`. */
  isNegative?: (value: V) => boolean;
  /**
   * When a load after expiry fails, serve the expired value instead of the error if it expired less
   * than this long ago. Default `0` (never serve an expired value).
   */
  staleIfErrorMs?: number;
  /** Injected clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * What a loader receives.
 * @public
 */
export interface LoadContext<V> {
  /** The key being loaded. */
  key: string;
  /**
   * Aborted only when `invalidate()` or `clear()` drops a load that no caller waits for any more;
   * never because a single waiter gave up. Pass it to `fetch` so abandoned loads stop early.
   */
  signal: AbortSignal;
  /** The value stored for this key when the load started (a refresh sees the value it replaces). */
  previous?: V;
}

/**
 * A loader: returns the value, or a {@link CacheEntry} from {@link withExpiry} to choose its own
 * lifetime, synchronously or as a promise.
 * @public
 */
export type Loader<V> = (context: LoadContext<V>) => V | CacheEntry<V> | Promise<V | CacheEntry<V>>;

/**
 * The part of `AbortSignal` a waiter's signal needs; an `AbortSignal` satisfies it. Servers may
 * pass a lighter object: creating an `AbortSignal` costs microseconds, on every request.
 * @public
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * Per-call options of {@link CredsCache.get}.
 * @public
 */
export interface GetOptions {
  /** This caller gives up with the signal's reason; the load goes on for the other waiters. */
  signal?: AbortSignalLike;
  /** Lifetime of a value loaded by this call, instead of the cache's `ttlMs`. */
  ttlMs?: number;
  /** Ignore a cached value and wait for a new load (joins a load already in flight). */
  forceRefresh?: boolean;
  /** Filled in with what this call did, for metrics and tests. */
  status?: CacheStatus;
}

/**
 * What one `get()` call did.
 * - `hit`: a valid cached value was returned.
 * - `negative-hit`: a valid cached negative result was returned.
 * - `miss`: this call started a load and waited for it.
 * - `inflight`: this call joined a load another call had started.
 * - `stale`: the load failed and an expired value was served (stale-if-error); `error` holds why.
 * @public
 */
export interface CacheStatus {
  result?: "hit" | "negative-hit" | "miss" | "inflight" | "stale";
  /** This hit started a background refresh. */
  refreshStarted?: boolean;
  /** The returned value came from a load during this call (not from the cache). */
  loaded?: boolean;
  /** The load error (on rejection, or the error hidden by a stale value), or the abort reason. */
  error?: unknown;
  /** Time this call waited, by the injected clock; `0` for hits. */
  durationMs?: number;
}

/**
 * Counters since the cache was created (`clear()` does not reset them), plus two gauges.
 * Every `get()` counts exactly one of `hits`, `negativeHits` and `misses`.
 * @public
 */
export interface CacheStats {
  /** Calls answered with a valid cached value. */
  hits: number;
  /** Calls answered with a valid cached negative result. */
  negativeHits: number;
  /** Calls that waited for a load (started or joined). */
  misses: number;
  /** Loads started, background refreshes included. */
  loads: number;
  /** Gauge: loads currently running. */
  inflight: number;
  /** Background refreshes started by refresh-ahead. */
  refreshes: number;
  /** Loads that failed (thrown, rejected or invalid result), background refreshes included. */
  errors: number;
  /** Values dropped to stay within `maxEntries`. */
  evictions: number;
  /** Calls answered with an expired value because the load failed (stale-if-error). */
  staleServed: number;
  /** Gauge: values stored now. */
  size: number;
}

/**
 * A TTL cache with single-flight loads, refresh-ahead and bounded memory.
 * @public
 */
export interface CredsCache<V> {
  /**
   * The value for `key`: cached if valid, otherwise from `load`, shared by every concurrent caller
   * of the same key. Rejects with the load's error (never cached) or the caller's abort reason.
   */
  get(key: string, load: Loader<V>, options?: GetOptions): Promise<V>;
  /**
   * As {@link CredsCache.get}, but a hit is returned as the value itself, not a promise: for hot
   * paths that continue synchronously on a hit. Anything else (a load, an abort, a bad option) is
   * a promise, as from `get`; `read` never throws. Values must not be thenables.
   */
  read(key: string, load: Loader<V>, options?: GetOptions): V | Promise<V>;
  /** The valid cached value, without touching LRU order or stats. */
  peek(key: string): V | undefined;
  /** Drops the value; a load in flight for the key no longer populates the cache. */
  invalidate(key: string): void;
  /** Drops every value; loads in flight no longer populate the cache. */
  clear(): void;
  /** A snapshot of the counters. */
  stats(): CacheStats;
  /** Values stored now (expired ones linger until accessed or evicted: there are no timers). */
  readonly size: number;
}
