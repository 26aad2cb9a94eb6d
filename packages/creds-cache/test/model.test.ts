import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCredsCache, withExpiry, type CacheStatus } from "../src/index.ts";
import { deferred, fakeClock, settle, type Deferred } from "./helpers.ts";

const KEYS = ["a", "b", "c", "d"] as const;
type Key = (typeof KEYS)[number];
const keyArb = fc.constantFrom(...KEYS);

const optionsArb = fc.record({
  ttlMs: fc.constantFrom(0, 10, 100),
  refreshAheadRatio: fc.constantFrom(0.5, 0.8, 1),
  maxEntries: fc.integer({ min: 1, max: 4 }),
  negativeTtlMs: fc.constantFrom(0, 50),
  staleIfErrorMs: fc.constantFrom(0, 30),
});
type Options = typeof optionsArb extends fc.Arbitrary<infer T> ? T : never;

// What a synchronous loader does when the model test calls it.
type LoadKind = "value" | "negative" | "throw" | "entry";

type SyncOp =
  | { op: "get"; key: Key; load: LoadKind; entryTtlMs: number }
  | { op: "advance"; ms: number }
  | { op: "invalidate"; key: Key }
  | { op: "clear" };

const syncOpArb: fc.Arbitrary<SyncOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("get" as const),
      key: keyArb,
      load: fc.constantFrom<LoadKind>("value", "value", "negative", "throw", "entry"),
      entryTtlMs: fc.integer({ min: 0, max: 60 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.nat(70) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("invalidate" as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
);

/**
 * A deliberately naive reference: with synchronous loaders no two loads overlap, so the cache must
 * behave like a plain LRU map with deadlines. Written from the documented semantics, not the code.
 */
const createModel = (options: Options) => {
  interface Item {
    value: string | null;
    negative: boolean;
    expiresAt: number;
    refreshAt: number;
  }
  const items = new Map<string, Item>();
  const stats = { hits: 0, negativeHits: 0, misses: 0, loads: 0, errors: 0, staleServed: 0 };
  let evictions = 0;
  let refreshes = 0;

  const store = (key: string, value: string | null, settledAt: number, entryTtlMs?: number) => {
    const negative = value == null;
    const lifetime = entryTtlMs ?? (negative ? options.negativeTtlMs : options.ttlMs);
    items.delete(key);
    if (lifetime <= 0) return;
    const ratio = options.refreshAheadRatio;
    items.set(key, {
      value,
      negative,
      expiresAt: settledAt + lifetime,
      refreshAt: negative || ratio >= 1 ? Infinity : settledAt + ratio * lifetime,
    });
    while (items.size > options.maxEntries) {
      items.delete(items.keys().next().value!);
      evictions += 1;
    }
  };

  /** Runs a load: the value it produced, or the thrown error. */
  const load = (key: string, kind: LoadKind, entryTtlMs: number, t: number) => {
    stats.loads += 1;
    const value = `${key}#${stats.loads}`;
    if (kind === "throw") {
      stats.errors += 1;
      return { ok: false as const };
    }
    if (kind === "negative") store(key, null, t);
    else store(key, value, t, kind === "entry" ? entryTtlMs : undefined);
    return { ok: true as const, value: kind === "negative" ? null : value };
  };

  return {
    get(key: string, kind: LoadKind, entryTtlMs: number, t: number) {
      const item = items.get(key);
      if (item !== undefined && t < item.expiresAt) {
        items.delete(key);
        items.set(key, item);
        if (item.negative) stats.negativeHits += 1;
        else stats.hits += 1;
        if (t >= item.refreshAt) {
          refreshes += 1;
          load(key, kind, entryTtlMs, t);
        }
        return { result: item.negative ? "negative-hit" : "hit", value: item.value };
      }
      // An expired item that cannot even serve as a stale fallback is dropped when touched.
      if (item !== undefined && (item.negative || t >= item.expiresAt + options.staleIfErrorMs)) {
        items.delete(key);
      }
      stats.misses += 1;
      const outcome = load(key, kind, entryTtlMs, t);
      if (outcome.ok) return { result: "miss", value: outcome.value };
      const stale = items.get(key);
      if (
        options.staleIfErrorMs > 0 &&
        stale !== undefined &&
        !stale.negative &&
        t < stale.expiresAt + options.staleIfErrorMs
      ) {
        stats.staleServed += 1;
        return { result: "stale", value: stale.value };
      }
      return { result: "miss", error: true };
    },
    peek: (key: string, t: number) => {
      const item = items.get(key);
      return item !== undefined && t < item.expiresAt ? item.value : undefined;
    },
    invalidate: (key: string) => items.delete(key),
    clear: () => items.clear(),
    // Expired items linger in both the model and the cache until touched, so only valid ones count.
    validSize: (t: number) => [...items.values()].filter((item) => t < item.expiresAt).length,
    counters: () => ({ ...stats, evictions, refreshes }),
  };
};

describe("model: synchronous loaders", () => {
  it("matches a plain LRU-with-deadlines reference for any sequence of operations", async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, fc.array(syncOpArb, { maxLength: 60 }), async (options, ops) => {
        const clock = fakeClock();
        const cache = createCredsCache<string | null>({ ...options, now: clock.now });
        const model = createModel(options);
        let loads = 0;
        for (const step of ops) {
          if (step.op === "advance") clock.advance(step.ms);
          else if (step.op === "invalidate") {
            cache.invalidate(step.key);
            model.invalidate(step.key);
          } else if (step.op === "clear") {
            cache.clear();
            model.clear();
          } else {
            const status: CacheStatus = {};
            const expected = model.get(step.key, step.load, step.entryTtlMs, clock.now());
            const actual = await cache
              .get(
                step.key,
                ({ key }) => {
                  loads += 1;
                  const value = `${key}#${loads}`;
                  if (step.load === "throw") throw new Error(value);
                  if (step.load === "negative") return null;
                  if (step.load === "entry") return withExpiry(value, { ttlMs: step.entryTtlMs });
                  return value;
                },
                { status },
              )
              .then(
                (value) => ({ value }),
                () => ({ error: true }),
              );
            expect({ result: status.result, ...actual }).toEqual(expected);
          }
          const t = clock.now();
          for (const key of KEYS) expect(cache.peek(key)).toEqual(model.peek(key, t));
          expect(KEYS.filter((key) => cache.peek(key) !== undefined).length).toBe(
            model.validSize(t),
          );
          expect(cache.size).toBeLessThanOrEqual(options.maxEntries);
          expect(cache.stats()).toMatchObject({ ...model.counters(), inflight: 0 });
        }
      }),
      { numRuns: 300 },
    );
  });
});

type AsyncOp =
  | { op: "get"; key: Key; abortable: boolean }
  | { op: "resolve"; index: number; ttlMs: number }
  | { op: "reject"; index: number }
  | { op: "abort"; index: number }
  | { op: "advance"; ms: number }
  | { op: "invalidate"; key: Key }
  | { op: "clear" };

const asyncOpArb: fc.Arbitrary<AsyncOp> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("get" as const),
      key: fc.constantFrom<Key>("a", "b"),
      abortable: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("resolve" as const),
      index: fc.nat(),
      ttlMs: fc.constantFrom(0, 50, 200),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reject" as const), index: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("abort" as const), index: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.nat(150) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("invalidate" as const),
      key: fc.constantFrom<Key>("a"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("clear" as const) }) },
);

describe("model: interleaved asynchronous loads", () => {
  it("keeps single-flight, settles every caller and never leaks a load", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(asyncOpArb, { maxLength: 50 }), async (ops) => {
        const clock = fakeClock();
        const cache = createCredsCache<string>({
          ttlMs: 100,
          staleIfErrorMs: 40,
          maxEntries: 1,
          now: clock.now,
        });
        interface PendingLoad {
          key: string;
          result: Deferred<string | ReturnType<typeof withExpiry<string>>>;
          signal: AbortSignal;
          settled: boolean;
        }
        const loads: PendingLoad[] = [];
        // The load that may still populate each key; a second one may only start after it is gone.
        const current = new Map<string, PendingLoad>();
        const callers: {
          controller?: AbortController;
          state: { settled: boolean; value?: string; error?: unknown };
        }[] = [];
        const produced = new Set<string>();
        const violations: string[] = [];

        const open = () => loads.filter((load) => !load.settled);
        for (const step of ops) {
          if (step.op === "get") {
            const controller = step.abortable ? new AbortController() : undefined;
            const state: { settled: boolean; value?: string; error?: unknown } = { settled: false };
            cache
              .get(
                step.key,
                ({ key, signal }) => {
                  // An expect() here would only fail the load, so collect the violation instead.
                  if (current.has(key)) violations.push(`second load for ${key}`);
                  const pending: PendingLoad = { key, result: deferred(), signal, settled: false };
                  loads.push(pending);
                  current.set(key, pending);
                  return pending.result.promise;
                },
                { signal: controller?.signal },
              )
              .then(
                (value) => Object.assign(state, { settled: true, value }),
                (error: unknown) => Object.assign(state, { settled: true, error }),
              );
            callers.push({ controller, state });
          } else if (step.op === "resolve" || step.op === "reject") {
            const pending = open();
            const target = pending[step.index % Math.max(pending.length, 1)];
            if (target === undefined) continue;
            target.settled = true;
            if (current.get(target.key) === target) current.delete(target.key);
            if (step.op === "resolve") {
              const value = `${target.key}@${loads.indexOf(target)}`;
              produced.add(value);
              target.result.resolve(withExpiry(value, { ttlMs: step.ttlMs }));
            } else {
              target.result.reject(new Error("load failed"));
            }
          } else if (step.op === "abort") {
            callers[step.index % Math.max(callers.length, 1)]?.controller?.abort();
          } else if (step.op === "advance") {
            clock.advance(step.ms);
          } else if (step.op === "invalidate") {
            cache.invalidate(step.key);
            current.delete(step.key);
          } else {
            cache.clear();
            current.clear();
          }
          await settle();
          expect(cache.stats().inflight).toBe(open().length);
          // Only a load that nobody waits for and that was dropped may see its signal aborted.
          for (const load of open()) {
            if (load.signal.aborted) expect(current.get(load.key)).not.toBe(load);
          }
          expect(cache.size).toBeLessThanOrEqual(1 + open().length);
        }
        for (const load of open()) {
          load.settled = true;
          produced.add(`${load.key}@drain`);
          load.result.resolve(`${load.key}@drain`);
        }
        await settle();
        for (const { controller, state } of callers) {
          expect(state.settled).toBe(true);
          if (state.error === undefined) expect(produced.has(state.value!)).toBe(true);
          else if (controller?.signal.aborted !== true) expect(state.error).toBeInstanceOf(Error);
        }
        expect(violations).toEqual([]);
        expect(cache.stats().inflight).toBe(0);
        expect(cache.size).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
