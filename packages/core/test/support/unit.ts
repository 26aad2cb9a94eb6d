// Shared helpers of the unit tests.

import {
  safeObserver,
  type CacheEvent,
  type ProxyObserver,
  type SafeObserver,
} from "../../src/observer.ts";

/** A controllable clock. */
export const manualClock = (startMs = Date.UTC(2030, 0, 1)) => {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms: number) => void (nowMs += ms),
    set: (ms: number) => void (nowMs = ms),
  };
};

/** A promise with its resolve/reject exposed. */
export const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
};

/** An observer that records every event. */
export const recordingObserver = () => {
  const events: Array<{ kind: keyof ProxyObserver; event: unknown }> = [];
  const record =
    (kind: keyof ProxyObserver) =>
    (event: unknown, fields?: unknown): void =>
      void events.push({ kind, event: fields === undefined ? event : { message: event, fields } });
  const observer: ProxyObserver = {
    phase: record("phase"),
    authorization: record("authorization"),
    cache: record("cache"),
    upstreamError: record("upstreamError"),
    request: record("request"),
    warn: record("warn"),
  };
  const safe: SafeObserver = safeObserver(observer);
  return {
    observer,
    safe,
    events,
    of: <E>(kind: keyof ProxyObserver): E[] =>
      events.filter((entry) => entry.kind === kind).map((entry) => entry.event as E),
    cacheResults: (cache: CacheEvent["cache"]) =>
      events
        .filter((entry) => entry.kind === "cache" && (entry.event as CacheEvent).cache === cache)
        .map((entry) => (entry.event as CacheEvent).result),
  };
};

/** Collects a body into one array. */
export const collect = async (body: AsyncIterable<Uint8Array> | null): Promise<Uint8Array> => {
  if (body == null) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
};

/** A body from pieces. */
export async function* pieces(...parts: Array<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === "string" ? new TextEncoder().encode(part) : part;
}

/** The code of an OspError-like rejection. */
export const rejectionCode = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  throw new Error("expected a rejection");
};
