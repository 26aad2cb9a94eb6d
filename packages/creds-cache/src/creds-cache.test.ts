import { describe, expect, it, vi } from "vitest";
import { deferred, fakeClock, settle, type Deferred } from "../test/helpers.ts";
import { createCredsCache } from "./creds-cache.ts";
import { withExpiry } from "./entry.ts";
import type { CacheStatus, LoadContext } from "./types.ts";

/** Observes a promise without awaiting it, so a test can ask "has it settled yet?". */
const track = <T>(promise: Promise<T>) => {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
};

/** A loader whose every call is recorded and ended by the test through a deferred. */
const deferredLoader = <V>() => {
  const calls: { context: LoadContext<V>; result: Deferred<V> }[] = [];
  const load = vi.fn((context: LoadContext<V>) => {
    const result = deferred<V>();
    calls.push({ context, result });
    return result.promise;
  });
  return { load, calls };
};

describe("createCredsCache options", () => {
  it.each([
    [{ ttlMs: -1 }],
    [{ ttlMs: Number.NaN }],
    [{ ttlMs: 1000, refreshAheadRatio: 0 }],
    [{ ttlMs: 1000, refreshAheadRatio: Number.NaN }],
    [{ ttlMs: 1000, maxEntries: 0 }],
    [{ ttlMs: 1000, maxEntries: 1.5 }],
    [{ ttlMs: 1000, negativeTtlMs: -5 }],
    [{ ttlMs: 1000, staleIfErrorMs: -5 }],
  ])("throws a RangeError for %j", (options) => {
    expect(() => createCredsCache(options)).toThrow(RangeError);
  });

  it("rejects a negative per-call ttlMs without loading", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000 });
    const load = vi.fn(() => "v");
    await expect(cache.get("k", load, { ttlMs: -1 })).rejects.toBeInstanceOf(RangeError);
    expect(load).not.toHaveBeenCalled();
  });

  it("uses Date.now when no clock is injected", async () => {
    const cache = createCredsCache<string>({ ttlMs: 60_000 });
    await cache.get("k", () => "v");
    expect(cache.peek("k")).toBe("v");
  });
});

describe("single-flight", () => {
  it("runs exactly one load for 1000 concurrent misses and gives every waiter the same value", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<{ secret: string }>({ ttlMs: 60_000, now: clock.now });
    const { load, calls } = deferredLoader<{ secret: string }>();
    const statuses = Array.from({ length: 1000 }, (): CacheStatus => ({}));
    const pending = statuses.map((status) => cache.get("AKID", load, { status }));
    expect(load).toHaveBeenCalledTimes(1);
    expect(cache.stats().inflight).toBe(1);
    const value = { secret: "s3cr3t" };
    calls[0]!.result.resolve(value);
    const results = await Promise.all(pending);
    expect(results.every((result) => result === value)).toBe(true);
    expect(statuses.filter((status) => status.result === "miss")).toHaveLength(1);
    expect(statuses.filter((status) => status.result === "inflight")).toHaveLength(999);
    expect(statuses.every((status) => status.loaded === true)).toBe(true);
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 1000, hits: 0, inflight: 0, size: 1 });
    await expect(cache.get("AKID", load)).resolves.toBe(value);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("rejects every waiter with the same error and does not cache it", async () => {
    const cache = createCredsCache<string>({ ttlMs: 60_000, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const pending = Array.from({ length: 1000 }, () => cache.get("k", load));
    const failure = new Error("lookup service down");
    calls[0]!.result.reject(failure);
    const outcomes = await Promise.allSettled(pending);
    expect(outcomes.every((o) => o.status === "rejected" && o.reason === failure)).toBe(true);
    expect(cache.stats()).toMatchObject({ loads: 1, errors: 1, size: 0 });
    expect(cache.peek("k")).toBeUndefined();
    const retry = cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(2);
    calls[1]!.result.resolve("ok");
    await expect(retry).resolves.toBe("ok");
  });

  it("keeps loads of different keys apart", async () => {
    const cache = createCredsCache<string>({ ttlMs: 60_000, now: fakeClock().now });
    const results = await Promise.all([
      cache.get("a", ({ key }) => Promise.resolve(`value-${key}`)),
      cache.get("b", ({ key }) => Promise.resolve(`value-${key}`)),
    ]);
    expect(results).toEqual(["value-a", "value-b"]);
    expect(cache.stats().loads).toBe(2);
  });

  it("stores the result of a synchronous loader at once", async () => {
    const cache = createCredsCache<string>({ ttlMs: 60_000, now: fakeClock().now });
    const load = vi.fn(() => "sync");
    const first = cache.get("k", load);
    expect(cache.peek("k")).toBe("sync");
    const status: CacheStatus = {};
    const second = cache.get("k", load, { status });
    expect(status.result).toBe("hit");
    await expect(Promise.all([first, second])).resolves.toEqual(["sync", "sync"]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("turns a loader that throws synchronously into a rejection that is not cached", async () => {
    const cache = createCredsCache<string>({ ttlMs: 60_000, now: fakeClock().now });
    const failure = new TypeError("bad key");
    const load = vi.fn((): string => {
      throw failure;
    });
    const status: CacheStatus = {};
    await expect(cache.get("k", load, { status })).rejects.toBe(failure);
    expect(status).toMatchObject({ result: "miss", loaded: false, error: failure });
    await expect(cache.get("k", load)).rejects.toBe(failure);
    expect(load).toHaveBeenCalledTimes(2);
    expect(cache.stats()).toMatchObject({ errors: 2, size: 0, inflight: 0 });
  });

  it("lets a loader that re-enters get() for its own key join its own flight", async () => {
    const cache = createCredsCache<string>({ ttlMs: 60_000, now: fakeClock().now });
    const gate = deferred<string>();
    let nested: Promise<string> | undefined;
    const load = vi.fn(() => {
      nested = cache.get("k", load);
      return gate.promise;
    });
    const outer = cache.get("k", load);
    gate.resolve("v");
    await expect(outer).resolves.toBe("v");
    await expect(nested).resolves.toBe("v");
    expect(load).toHaveBeenCalledTimes(1);
  });
});

describe("TTL", () => {
  it("serves the cached value until ttlMs has passed, then loads again", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<number>({ ttlMs: 1000, refreshAheadRatio: 1, now: clock.now });
    let version = 0;
    const load = () => ++version;
    expect(await cache.get("k", load)).toBe(1);
    clock.advance(999);
    expect(await cache.get("k", load)).toBe(1);
    clock.advance(1);
    expect(cache.peek("k")).toBeUndefined();
    expect(await cache.get("k", load)).toBe(2);
  });

  it("applies a per-call ttlMs to the value that call loads", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<number>({ ttlMs: 1000, refreshAheadRatio: 1, now: clock.now });
    let version = 0;
    await cache.get("k", () => ++version, { ttlMs: 5000 });
    clock.advance(4999);
    expect(await cache.get("k", () => ++version)).toBe(1);
    clock.advance(1);
    expect(await cache.get("k", () => ++version)).toBe(2);
  });

  it("lets the loaded entry set an absolute expiresAt, e.g. an IAM token's expiry", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 60_000, refreshAheadRatio: 1, now: clock.now });
    const expiresAt = clock.now() + 3_600_000;
    await cache.get("bucket", async () => withExpiry("bearer-1", { expiresAt }));
    clock.advance(3_599_999);
    expect(cache.peek("bucket")).toBe("bearer-1");
    clock.advance(1);
    expect(cache.peek("bucket")).toBeUndefined();
  });

  it("lets the loaded entry set its own ttlMs, and takes the earlier of ttlMs and expiresAt", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 60_000, refreshAheadRatio: 1, now: clock.now });
    await cache.get("short", () => withExpiry("a", { ttlMs: 10 }));
    await cache.get("both", () => withExpiry("b", { ttlMs: 500, expiresAt: clock.now() + 20 }));
    await cache.get("plain", () => withExpiry("c", {}));
    clock.advance(10);
    expect(cache.peek("short")).toBeUndefined();
    expect(cache.peek("both")).toBe("b");
    clock.advance(10);
    expect(cache.peek("both")).toBeUndefined();
    clock.advance(59_979);
    expect(cache.peek("plain")).toBe("c");
  });

  it("does not store an entry whose expiresAt has already passed", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 60_000, now: clock.now });
    const load = vi.fn(() => withExpiry("old", { expiresAt: clock.now() - 1 }));
    await expect(cache.get("k", load)).resolves.toBe("old");
    await cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });

  it("with ttlMs 0 stores nothing but still shares one load between concurrent callers", async () => {
    const cache = createCredsCache<string>({ ttlMs: 0, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const first = cache.get("k", load);
    const second = cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(1);
    calls[0]!.result.resolve("once");
    await expect(Promise.all([first, second])).resolves.toEqual(["once", "once"]);
    expect(cache.size).toBe(0);
    expect(cache.peek("k")).toBeUndefined();
    const third = cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(2);
    calls[1]!.result.resolve("again");
    await expect(third).resolves.toBe("again");
  });

  it("treats a plain object with value/expiresAt fields as a value, not as an entry", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<{ value: string; expiresAt: number }>({
      ttlMs: 1000,
      now: clock.now,
    });
    const token = { value: "t", expiresAt: clock.now() + 10 };
    await expect(cache.get("k", () => token)).resolves.toBe(token);
    clock.advance(500);
    expect(cache.peek("k")).toBe(token);
  });
});

describe("refresh-ahead", () => {
  const setUp = async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, now: clock.now });
    const { load, calls } = deferredLoader<string>();
    const first = cache.get("k", load);
    calls[0]!.result.resolve("v1");
    await first;
    return { clock, cache, load, calls };
  };

  it("does not refresh before 80 % of the lifetime", async () => {
    const { clock, cache, load } = await setUp();
    clock.advance(799);
    const status: CacheStatus = {};
    await expect(cache.get("k", load, { status })).resolves.toBe("v1");
    expect(status).toMatchObject({ result: "hit", refreshStarted: false });
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("returns the cached value at once and starts exactly one refresh under concurrent hits", async () => {
    const { clock, cache, load, calls } = await setUp();
    clock.advance(800);
    const statuses = Array.from({ length: 100 }, (): CacheStatus => ({}));
    const hits = statuses.map((status) => track(cache.get("k", load, { status })));
    await settle();
    // The refresh is still pending, yet every caller already has the cached value.
    expect(hits.every((hit) => hit.settled && hit.value === "v1")).toBe(true);
    expect(load).toHaveBeenCalledTimes(2);
    expect(statuses.filter((status) => status.refreshStarted)).toHaveLength(1);
    expect(statuses.every((status) => status.result === "hit")).toBe(true);
    expect(calls[1]!.context.previous).toBe("v1");
    expect(cache.stats()).toMatchObject({ refreshes: 1, loads: 2, inflight: 1, hits: 100 });

    calls[1]!.result.resolve("v2");
    await settle();
    expect(cache.peek("k")).toBe("v2");
    // The refreshed value has a fresh lifetime from the moment it landed.
    clock.advance(999);
    expect(cache.peek("k")).toBe("v2");
    expect(load).toHaveBeenCalledTimes(2);
  });

  it("keeps the old value after a failed refresh until its hard expiry and counts the error", async () => {
    const { clock, cache, load, calls } = await setUp();
    clock.advance(900);
    await cache.get("k", load);
    calls[1]!.result.reject(new Error("IAM unavailable"));
    await settle();
    expect(cache.stats()).toMatchObject({ errors: 1, inflight: 0 });
    expect(cache.peek("k")).toBe("v1");
    await expect(cache.get("k", load)).resolves.toBe("v1");
    expect(load).toHaveBeenCalledTimes(3); // still within the refresh window: one retry
    calls[2]!.result.reject(new Error("IAM unavailable"));
    await settle();
    clock.advance(100);
    const status: CacheStatus = {};
    const afterExpiry = cache.get("k", load, { status });
    expect(status.result).toBe("miss");
    calls[3]!.result.reject(new Error("still down"));
    await expect(afterExpiry).rejects.toThrow("still down");
  });

  it("lets a caller that arrives after hard expiry join the running refresh", async () => {
    const { clock, cache, load, calls } = await setUp();
    clock.advance(850);
    await cache.get("k", load);
    clock.advance(150);
    const status: CacheStatus = {};
    const late = cache.get("k", load, { status });
    expect(status.result).toBe("inflight");
    expect(load).toHaveBeenCalledTimes(2);
    calls[1]!.result.resolve("v2");
    await expect(late).resolves.toBe("v2");
  });

  it("is disabled by refreshAheadRatio >= 1", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, refreshAheadRatio: 1, now: clock.now });
    const load = vi.fn(() => "v");
    await cache.get("k", load);
    clock.advance(999);
    await cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("honours a custom ratio against the entry's own lifetime", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({
      ttlMs: 60_000,
      refreshAheadRatio: 0.5,
      now: clock.now,
    });
    const load = vi.fn(() => withExpiry("v", { ttlMs: 100 }));
    await cache.get("k", load);
    clock.advance(49);
    await cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(1);
    clock.advance(1);
    await cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe("negative caching", () => {
  it("does not cache a negative result by default", async () => {
    const cache = createCredsCache<string | undefined>({ ttlMs: 1000, now: fakeClock().now });
    const load = vi.fn(() => undefined);
    await expect(cache.get("unknown", load)).resolves.toBeUndefined();
    await cache.get("unknown", load);
    expect(load).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });

  it("caches a negative result for negativeTtlMs and reports negative hits", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string | null>({
      ttlMs: 60_000,
      negativeTtlMs: 5000,
      now: clock.now,
    });
    const load = vi.fn(() => null);
    await cache.get("unknown", load);
    clock.advance(4999);
    const status: CacheStatus = {};
    await expect(cache.get("unknown", load, { status })).resolves.toBeNull();
    expect(status.result).toBe("negative-hit");
    expect(cache.stats()).toMatchObject({ negativeHits: 1, hits: 0, misses: 1, refreshes: 0 });
    clock.advance(1);
    await cache.get("unknown", load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it("uses a custom isNegative", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({
      ttlMs: 60_000,
      negativeTtlMs: 100,
      isNegative: (value) => value === "NoSuchKey",
      now: clock.now,
    });
    await cache.get("a", () => "NoSuchKey");
    clock.advance(100);
    expect(cache.peek("a")).toBeUndefined();
    await cache.get("b", () => "secret");
    expect(cache.peek("b")).toBe("secret");
  });

  it("drops the old value when a refresh finds the key gone", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string | undefined>({ ttlMs: 1000, now: clock.now });
    await cache.get("k", () => "secret");
    clock.advance(800);
    await expect(cache.get("k", () => undefined)).resolves.toBe("secret");
    expect(cache.peek("k")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("turns an isNegative that throws into a load error", async () => {
    const failure = new Error("classifier broke");
    const cache = createCredsCache<string>({
      ttlMs: 1000,
      isNegative: () => {
        throw failure;
      },
      now: fakeClock().now,
    });
    await expect(cache.get("k", () => "v")).rejects.toBe(failure);
    expect(cache.stats()).toMatchObject({ errors: 1, size: 0 });
  });
});

describe("stale-if-error", () => {
  const setUp = async (staleIfErrorMs: number) => {
    const clock = fakeClock();
    const cache = createCredsCache<string | null>({
      ttlMs: 1000,
      refreshAheadRatio: 1,
      staleIfErrorMs,
      negativeTtlMs: 1000,
      now: clock.now,
    });
    await cache.get("k", () => "v1");
    await cache.get("gone", () => null);
    return { clock, cache };
  };
  const failure = new Error("backend down");
  const failing = () => Promise.reject(failure);

  it("serves the expired value to every waiter when the load after expiry fails", async () => {
    const { clock, cache } = await setUp(500);
    clock.advance(1499);
    const statuses = [{}, {}, {}] as CacheStatus[];
    const results = await Promise.all(
      statuses.map((status) => cache.get("k", failing, { status })),
    );
    expect(results).toEqual(["v1", "v1", "v1"]);
    expect(statuses[0]).toMatchObject({ result: "stale", error: failure, loaded: false });
    expect(statuses[1]).toMatchObject({ result: "stale", error: failure });
    expect(cache.stats()).toMatchObject({ staleServed: 3, errors: 1, loads: 3 });
    // Still expired: the next call tries to load again rather than trusting the stale value.
    expect(cache.peek("k")).toBeUndefined();
    await expect(cache.get("k", () => "v2")).resolves.toBe("v2");
  });

  it("rejects once the value expired longer ago than staleIfErrorMs", async () => {
    const { clock, cache } = await setUp(500);
    clock.advance(1500);
    await expect(cache.get("k", failing)).rejects.toBe(failure);
  });

  it("never serves a stale negative result", async () => {
    const { clock, cache } = await setUp(500);
    clock.advance(1100);
    await expect(cache.get("gone", failing)).rejects.toBe(failure);
  });

  it("never serves a cached negative result in place of a failed forced load", async () => {
    const { cache } = await setUp(500);
    await expect(cache.get("gone", failing, { forceRefresh: true })).rejects.toBe(failure);
  });

  it("serves the still-valid value when a forced load fails within the grace setting", async () => {
    const { cache } = await setUp(500);
    const status: CacheStatus = {};
    await expect(cache.get("k", failing, { forceRefresh: true, status })).resolves.toBe("v1");
    expect(status).toMatchObject({ result: "stale", error: failure });
  });

  it("rejects with the default staleIfErrorMs of 0", async () => {
    const { clock, cache } = await setUp(0);
    clock.advance(1000);
    await expect(cache.get("k", failing)).rejects.toBe(failure);
  });
});

describe("abort", () => {
  it("rejects only the aborting waiter with its reason while the load goes on for the others", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const controller = new AbortController();
    const status: CacheStatus = {};
    const quitter = track(cache.get("k", load, { signal: controller.signal, status }));
    const stayer = cache.get("k", load);
    const reason = new Error("client went away");
    controller.abort(reason);
    await settle();
    expect(quitter).toMatchObject({ settled: true, error: reason });
    expect(status.error).toBe(reason);
    expect(calls[0]!.context.signal.aborted).toBe(false);
    calls[0]!.result.resolve("v");
    await expect(stayer).resolves.toBe("v");
    expect(cache.peek("k")).toBe("v");
  });

  it("does not let a load that never settles block an aborted waiter", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const controller = new AbortController();
    const waiting = cache.get("k", () => new Promise<string>(() => {}), {
      signal: controller.signal,
    });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
  });

  it("stores the result of a load whose every waiter aborted", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const controller = new AbortController();
    const waiting = cache.get("k", load, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toBeDefined();
    expect(calls[0]!.context.signal.aborted).toBe(false);
    calls[0]!.result.resolve("late");
    await settle();
    expect(cache.peek("k")).toBe("late");
  });

  it("rejects at once for a signal that is already aborted, without loading", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const load = vi.fn(() => "v");
    const reason = new Error("already gone");
    await expect(cache.get("k", load, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(load).not.toHaveBeenCalled();
  });

  it("ignores an abort that comes after the value was delivered", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const controller = new AbortController();
    await expect(cache.get("k", async () => "v", { signal: controller.signal })).resolves.toBe("v");
    controller.abort();
    expect(cache.peek("k")).toBe("v");
  });
});

describe("invalidate and clear", () => {
  it("does not store the result of a load that was running when the key was invalidated", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const before = cache.get("k", load);
    cache.invalidate("k");
    // A caller after the invalidation must not receive the pre-invalidation load's result.
    const after = cache.get("k", load);
    expect(load).toHaveBeenCalledTimes(2);
    calls[0]!.result.resolve("old");
    await expect(before).resolves.toBe("old");
    expect(cache.peek("k")).toBeUndefined();
    calls[1]!.result.resolve("new");
    await expect(after).resolves.toBe("new");
    expect(cache.peek("k")).toBe("new");
    expect(calls[0]!.context.signal.aborted).toBe(false); // someone was still waiting for it
  });

  it("aborts the signal of an invalidated load nobody waits for", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, now: clock.now });
    const { load, calls } = deferredLoader<string>();
    const first = cache.get("k", load);
    calls[0]!.result.resolve("v1");
    await first;
    clock.advance(900);
    await cache.get("k", load); // starts a background refresh, which has no waiter
    cache.invalidate("k");
    expect(calls[1]!.context.signal.aborted).toBe(true);
    calls[1]!.result.reject(calls[1]!.context.signal.reason);
    await settle();
    expect(cache.size).toBe(0);
  });

  it("aborts a detached load once its last waiter gives up", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const controller = new AbortController();
    const waiting = cache.get("k", load, { signal: controller.signal });
    cache.invalidate("k");
    expect(calls[0]!.context.signal.aborted).toBe(false);
    controller.abort();
    await expect(waiting).rejects.toBeDefined();
    expect(calls[0]!.context.signal.aborted).toBe(true);
  });

  it("clear() drops every value and keeps running loads from storing", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    await cache.get("a", () => "a");
    const { load, calls } = deferredLoader<string>();
    const pending = cache.get("b", load);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.peek("a")).toBeUndefined();
    calls[0]!.result.resolve("b");
    await expect(pending).resolves.toBe("b");
    expect(cache.peek("b")).toBeUndefined();
    expect(cache.stats()).toMatchObject({ size: 0, inflight: 0, loads: 2 });
  });

  it("invalidate() drops a cached value so the next get loads again", async () => {
    const cache = createCredsCache<number>({ ttlMs: 1000, now: fakeClock().now });
    let version = 0;
    await cache.get("k", () => ++version);
    cache.invalidate("k");
    expect(cache.peek("k")).toBeUndefined();
    await expect(cache.get("k", () => ++version)).resolves.toBe(2);
  });
});

describe("forceRefresh", () => {
  it("waits for a new load even when a valid value is cached", async () => {
    const cache = createCredsCache<number>({ ttlMs: 1000, now: fakeClock().now });
    let version = 0;
    await cache.get("k", () => ++version);
    const status: CacheStatus = {};
    await expect(cache.get("k", () => ++version, { forceRefresh: true, status })).resolves.toBe(2);
    expect(status).toMatchObject({ result: "miss", loaded: true });
    expect(cache.peek("k")).toBe(2);
  });

  it("joins a load already in flight instead of starting another", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const first = cache.get("k", load);
    const forced = cache.get("k", load, { forceRefresh: true });
    expect(load).toHaveBeenCalledTimes(1);
    calls[0]!.result.resolve("v");
    await expect(Promise.all([first, forced])).resolves.toEqual(["v", "v"]);
  });

  it("leaves the cached value in place when the forced load fails", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    await cache.get("k", () => "v1");
    const failure = new Error("nope");
    await expect(
      cache.get("k", () => Promise.reject(failure), { forceRefresh: true }),
    ).rejects.toBe(failure);
    expect(cache.peek("k")).toBe("v1");
  });
});

describe("LRU eviction", () => {
  it("evicts the least recently used value first", async () => {
    const cache = createCredsCache<string>({ ttlMs: 60_000, maxEntries: 3, now: fakeClock().now });
    for (const key of ["a", "b", "c"]) await cache.get(key, () => key);
    await cache.get("a", () => "unused"); // a is now the most recently used
    expect(cache.peek("b")).toBe("b"); // peek does not count as a use
    await cache.get("d", () => "d");
    expect(cache.peek("b")).toBeUndefined();
    await cache.get("e", () => "e");
    expect(cache.peek("c")).toBeUndefined();
    expect(["a", "d", "e"].map((key) => cache.peek(key))).toEqual(["a", "d", "e"]);
    expect(cache.stats()).toMatchObject({ evictions: 2, size: 3 });
  });

  it("does not evict a value while its refresh is in flight", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, maxEntries: 2, now: clock.now });
    await cache.get("a", () => "a1");
    await cache.get("b", () => "b1");
    clock.advance(900);
    const { load, calls } = deferredLoader<string>();
    await cache.get("a", load); // a: refresh in flight
    await cache.get("b", () => "unused"); // b is now more recent than a
    await cache.get("c", () => "c1"); // over the bound: a is skipped, b goes
    expect(cache.peek("a")).toBe("a1");
    expect(cache.peek("b")).toBeUndefined();
    calls[0]!.result.resolve("a2");
    await settle();
    expect(cache.peek("a")).toBe("a2");
    expect(cache.size).toBe(2);
  });

  it("exceeds maxEntries only while the sole candidates are being refreshed", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, maxEntries: 1, now: clock.now });
    await cache.get("a", () => "a1");
    clock.advance(900);
    const { load, calls } = deferredLoader<string>();
    await cache.get("a", load);
    await cache.get("b", () => "b1");
    expect(cache.size).toBe(2);
    calls[0]!.result.resolve("a2");
    await settle();
    expect(cache.size).toBe(1);
    expect(cache.peek("a")).toBe("a2");
    expect(cache.stats().evictions).toBe(1);
  });

  it("stores the result of an in-flight miss even when other keys filled the cache meanwhile", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, maxEntries: 2, now: fakeClock().now });
    const { load, calls } = deferredLoader<string>();
    const pending = cache.get("slow", load);
    await cache.get("x", () => "x");
    await cache.get("y", () => "y");
    calls[0]!.result.resolve("slow");
    await expect(pending).resolves.toBe("slow");
    expect(cache.peek("slow")).toBe("slow");
    expect(cache.peek("x")).toBeUndefined();
  });
});

describe("unhandled rejections", () => {
  it("leaves none behind from failed refreshes, abandoned loads or dropped loads", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const clock = fakeClock();
      const cache = createCredsCache<string>({ ttlMs: 1000, now: clock.now });
      const { load, calls } = deferredLoader<string>();
      await cache.get("refreshed", () => "v");
      clock.advance(900);
      await cache.get("refreshed", load); // background refresh: calls[0]
      const controller = new AbortController();
      const abandoned = cache.get("abandoned", load, { signal: controller.signal }); // calls[1]
      controller.abort();
      await abandoned.catch(() => {});
      void cache.get("dropped", load).catch(() => {}); // calls[2]
      cache.invalidate("dropped");
      for (const call of calls) call.result.reject(new Error("boom"));
      // Node reports unhandled rejections after the microtask queue drains: wait a macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(cache.stats()).toMatchObject({ errors: 3, inflight: 0 });
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("peek, stats and status", () => {
  it("peek neither counts nor loads", () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    expect(cache.peek("missing")).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, loads: 0 });
  });

  it("measures how long a call waited on the injected clock", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, now: clock.now });
    const { load, calls } = deferredLoader<string>();
    const status: CacheStatus = {};
    const pending = cache.get("k", load, { status });
    clock.advance(42);
    calls[0]!.result.resolve("v");
    await pending;
    expect(status).toEqual({
      result: "miss",
      refreshStarted: false,
      loaded: true,
      error: undefined,
      durationMs: 42,
    });
    const hitStatus: CacheStatus = { error: "left over", loaded: true };
    await cache.get("k", load, { status: hitStatus });
    expect(hitStatus).toEqual({
      result: "hit",
      refreshStarted: false,
      loaded: false,
      error: undefined,
      durationMs: 0,
    });
  });

  it("counts hits, misses and loads separately", async () => {
    const cache = createCredsCache<string>({ ttlMs: 1000, now: fakeClock().now });
    await cache.get("a", () => "a");
    await cache.get("a", () => "a");
    await cache.get("a", () => "a");
    await cache.get("b", () => "b");
    expect(cache.stats()).toEqual({
      hits: 2,
      negativeHits: 0,
      misses: 2,
      loads: 2,
      inflight: 0,
      refreshes: 0,
      errors: 0,
      evictions: 0,
      staleServed: 0,
      size: 2,
    });
  });
});

describe("read", () => {
  it("returns a hit as the value itself, and everything else as get does", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, now: clock.now });
    const { load, calls } = deferredLoader<string>();
    const first = cache.read("k", load);
    expect(first).toBeInstanceOf(Promise);
    // A second caller joins the same load.
    const second = cache.read("k", load);
    calls[0]!.result.resolve("v");
    expect([await first, await second]).toEqual(["v", "v"]);
    expect(load).toHaveBeenCalledTimes(1);
    const status: CacheStatus = {};
    expect(cache.read("k", load, { status })).toBe("v");
    expect(status.result).toBe("hit");
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, loads: 1 });
    clock.advance(1000);
    expect(cache.read("k", load)).toBeInstanceOf(Promise);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it("starts refresh-ahead on a hit like get, and never throws", async () => {
    const clock = fakeClock();
    const cache = createCredsCache<string>({ ttlMs: 1000, refreshAheadRatio: 0.5, now: clock.now });
    let version = 0;
    const load = vi.fn(() => `v${++version}`);
    expect(await cache.read("k", load)).toBe("v1");
    clock.advance(600);
    const status: CacheStatus = {};
    expect(cache.read("k", load, { status })).toBe("v1");
    expect(status.refreshStarted).toBe(true);
    expect(cache.read("k", load)).toBe("v2");
    const aborted = new AbortController();
    aborted.abort(new Error("gone"));
    const refused = cache.read("other", load, { signal: aborted.signal });
    await expect(refused).rejects.toThrow("gone");
    await expect(cache.read("other", load, { ttlMs: -1 })).rejects.toBeInstanceOf(RangeError);
  });
});
