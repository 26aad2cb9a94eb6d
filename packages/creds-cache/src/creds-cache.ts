import { isCacheEntry } from "./entry.ts";
import type {
  AbortSignalLike,
  CacheStats,
  CacheStatus,
  CredsCache,
  CredsCacheOptions,
  GetOptions,
  LoadContext,
  Loader,
} from "./types.ts";

/**
 * A value in the cache with its deadlines (epoch ms on the injected clock), linked into the
 * recency list. A new result gets a new node, so a caller holding a node sees one consistent value.
 */
interface StoredValue<V> {
  readonly key: string;
  readonly value: V;
  readonly negative: boolean;
  readonly expiresAt: number;
  /** A hit at or after this time starts a background refresh; `Infinity` when none applies. */
  readonly refreshAt: number;
  /** `Promise.resolve(value)`, made on the first hit and shared by later ones: no allocation. */
  resolved: Promise<V> | undefined;
  older: StoredValue<V> | undefined;
  newer: StoredValue<V> | undefined;
}

/** How a load ended, as every waiter sees it. Never a rejected promise: see `Flight.settled`. */
type Outcome<V> =
  | { readonly kind: "value"; readonly value: V }
  | { readonly kind: "stale"; readonly value: V; readonly error: unknown }
  | { readonly kind: "error"; readonly error: unknown };

/** One running load, shared by every caller of its key (single-flight). */
interface Flight<V> {
  readonly key: string;
  readonly controller: AbortController;
  /** Lifetime of the loaded value when the loader does not choose its own. */
  readonly ttlMs: number;
  /**
   * Resolves (never rejects) when the load ends, so a load nobody awaits any more can never become
   * an unhandled rejection; each waiter turns the outcome into its own resolve or reject.
   */
  readonly settled: Promise<Outcome<V>>;
  /** Callers still waiting; only consulted to abort a detached load that nobody wants. */
  waiters: number;
  /**
   * Set by invalidate()/clear(): the result must not be stored. The flight object's identity is
   * the generation token: only the flight registered in `flights` for its key may store.
   */
  detached: boolean;
  /** The loader has settled; aborting its signal would only confuse code that still holds it. */
  done: boolean;
}

const DEFAULT_REFRESH_AHEAD_RATIO = 0.8;
const DEFAULT_MAX_ENTRIES = 10_000;

// `== null` matches both undefined and null, the two "not found" shapes.
const isDefaultNegative = (value: unknown): boolean => value == null;

const requireDuration = (name: string, value: unknown): number => {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new RangeError(`creds-cache: ${name} must be a number >= 0 (ms), got ${String(value)}`);
  }
  return value;
};

const isThenable = (candidate: unknown): candidate is PromiseLike<unknown> =>
  typeof (candidate as PromiseLike<unknown> | null | undefined)?.then === "function";

const recordStatus = (
  status: CacheStatus,
  result: NonNullable<CacheStatus["result"]>,
  refreshStarted: boolean,
): void => {
  // Every field is written so a status object reused across calls never shows stale facts.
  status.result = result;
  status.refreshStarted = refreshStarted;
  status.loaded = false;
  status.error = undefined;
  status.durationMs = 0;
};

/**
 * Creates a TTL cache with single-flight loads, refresh-ahead, negative caching, stale-if-error and
 * least-recently-used eviction. It runs no timers: expiry is checked against `now()` on access.
 * @throws RangeError on an option out of range.
 * @public
 */
export const createCredsCache = <V>(options: CredsCacheOptions<V>): CredsCache<V> => {
  const defaultTtlMs = requireDuration("ttlMs", options.ttlMs);
  const negativeTtlMs = requireDuration("negativeTtlMs", options.negativeTtlMs ?? 0);
  const staleIfErrorMs = requireDuration("staleIfErrorMs", options.staleIfErrorMs ?? 0);
  const refreshAheadRatio = options.refreshAheadRatio ?? DEFAULT_REFRESH_AHEAD_RATIO;
  if (typeof refreshAheadRatio !== "number" || !(refreshAheadRatio > 0)) {
    throw new RangeError(
      `creds-cache: refreshAheadRatio must be a number > 0, got ${String(refreshAheadRatio)}`,
    );
  }
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`creds-cache: maxEntries must be an integer >= 1, got ${maxEntries}`);
  }
  const isNegative: (value: V) => boolean = options.isNegative ?? isDefaultNegative;
  const now = options.now ?? Date.now;

  const values = new Map<string, StoredValue<V>>();
  // Recency list, least recently used first. Moving a node is a few pointer writes, cheaper than
  // the Map delete + set that insertion-order LRU needs on every hit.
  let oldest: StoredValue<V> | undefined;
  let newest: StoredValue<V> | undefined;
  const flights = new Map<string, Flight<V>>();
  let inflight = 0;
  const counters = {
    hits: 0,
    negativeHits: 0,
    misses: 0,
    loads: 0,
    refreshes: 0,
    errors: 0,
    evictions: 0,
    staleServed: 0,
  };

  const refreshAtFor = (storedAt: number, expiresAt: number): number =>
    refreshAheadRatio >= 1 ? Infinity : storedAt + refreshAheadRatio * (expiresAt - storedAt);

  const unlink = (node: StoredValue<V>): void => {
    if (node.older === undefined) oldest = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === undefined) newest = node.older;
    else node.newer.older = node.older;
    node.older = undefined;
    node.newer = undefined;
  };

  const append = (node: StoredValue<V>): void => {
    node.older = newest;
    if (newest === undefined) oldest = node;
    else newest.newer = node;
    newest = node;
  };

  const remove = (key: string): void => {
    const node = values.get(key);
    if (node === undefined) return;
    values.delete(key);
    unlink(node);
  };

  const evictOverflow = (justStored: StoredValue<V>): void => {
    let candidate = oldest;
    while (values.size > maxEntries && candidate !== undefined) {
      const next = candidate.newer;
      // A value being refreshed stays: evicting it would make its callers wait for the refresh.
      // The value just stored stays too; the bound is restored once those refreshes land.
      if (candidate !== justStored && !flights.has(candidate.key)) {
        values.delete(candidate.key);
        unlink(candidate);
        counters.evictions += 1;
      }
      candidate = next;
    }
  };

  /** Applies a successful load result; throws (a load error) when `isNegative` throws. */
  const accept = (flight: Flight<V>, result: unknown, settledAt: number): V => {
    let value: V;
    let expiresAt: number | undefined;
    if (isCacheEntry(result)) {
      value = result.value as V;
      if (result.ttlMs != null || result.expiresAt != null) {
        expiresAt = Math.min(
          result.ttlMs == null ? Infinity : settledAt + result.ttlMs,
          result.expiresAt ?? Infinity,
        );
      }
    } else {
      value = result as V;
    }
    const negative = isNegative(value);
    expiresAt ??= settledAt + (negative ? negativeTtlMs : flight.ttlMs);
    if (!flight.detached) {
      // Even a result that may not be cached supersedes the old value (e.g. a revoked key).
      remove(flight.key);
      if (expiresAt > settledAt) {
        const node: StoredValue<V> = {
          key: flight.key,
          value,
          negative,
          expiresAt,
          refreshAt: negative ? Infinity : refreshAtFor(settledAt, expiresAt),
          resolved: undefined,
          older: undefined,
          newer: undefined,
        };
        values.set(flight.key, node);
        append(node);
        evictOverflow(node);
      }
    }
    return value;
  };

  const failure = (flight: Flight<V>, error: unknown, settledAt: number): Outcome<V> => {
    counters.errors += 1;
    if (staleIfErrorMs > 0 && !flight.detached) {
      const stored = values.get(flight.key);
      // Only positive values: an unknown key must not turn an outage into "not found".
      if (
        stored !== undefined &&
        !stored.negative &&
        settledAt < stored.expiresAt + staleIfErrorMs
      ) {
        return { kind: "stale", value: stored.value, error };
      }
    }
    return { kind: "error", error };
  };

  const startLoad = (
    key: string,
    load: Loader<V>,
    ttlMs: number,
    previous: StoredValue<V> | undefined,
  ): Flight<V> => {
    let resolveSettled!: (outcome: Outcome<V>) => void;
    const flight: Flight<V> = {
      key,
      controller: new AbortController(),
      ttlMs,
      settled: new Promise<Outcome<V>>((resolve) => {
        resolveSettled = resolve;
      }),
      waiters: 0,
      detached: false,
      done: false,
    };
    const finish = (succeeded: boolean, resultOrError: unknown): void => {
      flight.done = true;
      inflight -= 1;
      if (flights.get(key) === flight) flights.delete(key);
      const settledAt = now();
      let outcome: Outcome<V>;
      if (succeeded) {
        try {
          outcome = { kind: "value", value: accept(flight, resultOrError, settledAt) };
        } catch (error) {
          outcome = failure(flight, error, settledAt);
        }
      } else {
        outcome = failure(flight, resultOrError, settledAt);
      }
      resolveSettled(outcome);
    };
    // Registered before the loader runs, so a loader that re-enters get() joins this flight.
    flights.set(key, flight);
    inflight += 1;
    counters.loads += 1;
    const context: LoadContext<V> =
      previous === undefined
        ? { key, signal: flight.controller.signal }
        : { key, signal: flight.controller.signal, previous: previous.value };
    let result: unknown;
    try {
      result = load(context);
    } catch (error) {
      finish(false, error);
      return flight;
    }
    if (isThenable(result)) {
      Promise.resolve(result).then(
        (value) => finish(true, value),
        (error: unknown) => finish(false, error),
      );
    } else {
      // A synchronous loader stores at once, so the next synchronous get() is already a hit.
      finish(true, result);
    }
    return flight;
  };

  const detach = (flight: Flight<V>): void => {
    flight.detached = true;
    if (flight.waiters === 0 && !flight.done) flight.controller.abort();
  };

  const unwrap = (outcome: Outcome<V>): V => {
    if (outcome.kind === "value") return outcome.value;
    if (outcome.kind === "stale") {
      counters.staleServed += 1;
      return outcome.value;
    }
    throw outcome.error;
  };

  const wait = (
    flight: Flight<V>,
    signal: AbortSignalLike | undefined,
    status: CacheStatus | undefined,
    startedAt: number,
  ): Promise<V> => {
    flight.waiters += 1;
    if (signal === undefined && status === undefined) return flight.settled.then(unwrap);
    return new Promise<V>((resolve, rejectWaiter) => {
      let finished = false;
      const onAbort = (): void => {
        if (finished) return;
        finished = true;
        flight.waiters -= 1;
        if (flight.detached && flight.waiters === 0 && !flight.done) flight.controller.abort();
        if (status !== undefined) {
          status.error = signal?.reason;
          status.durationMs = now() - startedAt;
        }
        rejectWaiter(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      void flight.settled.then((outcome) => {
        if (finished) return;
        finished = true;
        signal?.removeEventListener("abort", onAbort);
        if (status !== undefined) {
          status.durationMs = now() - startedAt;
          if (outcome.kind === "value") status.loaded = true;
          else {
            status.error = outcome.error;
            if (outcome.kind === "stale") status.result = "stale";
          }
        }
        try {
          resolve(unwrap(outcome));
        } catch (error) {
          rejectWaiter(error);
        }
      });
    });
  };

  /** `get` and `read`: a hit is the value itself (`read`) or a settled promise of it (`get`). */
  const lookup = (
    key: string,
    load: Loader<V>,
    callOptions: GetOptions | undefined,
    hitAsPromise: boolean,
  ): V | Promise<V> => {
    const signal = callOptions?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const callTtlMs = callOptions?.ttlMs;
    if (callTtlMs != null && !(typeof callTtlMs === "number" && callTtlMs >= 0)) {
      return Promise.reject(
        new RangeError(`creds-cache: ttlMs must be a number >= 0 (ms), got ${String(callTtlMs)}`),
      );
    }
    const status = callOptions?.status;
    const startedAt = now();
    const stored = values.get(key);
    if (stored !== undefined) {
      if (startedAt < stored.expiresAt) {
        if (callOptions?.forceRefresh !== true) {
          if (stored !== newest) {
            unlink(stored);
            append(stored);
          }
          // One refresh at a time: a load already in flight for this key serves the same purpose.
          const refreshStarted = startedAt >= stored.refreshAt && !flights.has(key);
          if (refreshStarted) {
            counters.refreshes += 1;
            startLoad(key, load, callTtlMs ?? defaultTtlMs, stored);
          }
          if (stored.negative) counters.negativeHits += 1;
          else counters.hits += 1;
          if (status !== undefined) {
            recordStatus(status, stored.negative ? "negative-hit" : "hit", refreshStarted);
          }
          // `stored` is this hit's node even if a synchronous refresh has just replaced it.
          if (!hitAsPromise) return stored.value;
          return (stored.resolved ??= Promise.resolve(stored.value));
        }
      } else if (stored.negative || startedAt >= stored.expiresAt + staleIfErrorMs) {
        // Past any use, even as a stale fallback: drop it now rather than at eviction time.
        remove(key);
      }
    }
    counters.misses += 1;
    let flight = flights.get(key);
    if (flight === undefined) {
      flight = startLoad(key, load, callTtlMs ?? defaultTtlMs, stored);
      if (status !== undefined) recordStatus(status, "miss", false);
    } else if (status !== undefined) {
      recordStatus(status, "inflight", false);
    }
    return wait(flight, signal, status, startedAt);
  };

  return {
    get: (key, load, callOptions?: GetOptions): Promise<V> =>
      lookup(key, load, callOptions, true) as Promise<V>,

    read: (key, load, callOptions?: GetOptions): V | Promise<V> =>
      lookup(key, load, callOptions, false),

    peek(key) {
      const stored = values.get(key);
      return stored !== undefined && now() < stored.expiresAt ? stored.value : undefined;
    },

    invalidate(key) {
      remove(key);
      const flight = flights.get(key);
      if (flight !== undefined) {
        flights.delete(key);
        detach(flight);
      }
    },

    clear() {
      values.clear();
      oldest = undefined;
      newest = undefined;
      const running = [...flights.values()];
      flights.clear();
      for (const flight of running) detach(flight);
    },

    stats(): CacheStats {
      return { ...counters, inflight, size: values.size };
    },

    get size() {
      return values.size;
    },
  };
};
